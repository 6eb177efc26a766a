package browser

import "net/http"

// ServeSupervisor serves a supervisor's socket (listen, whisper, barge).
func (s *Server) ServeSupervisor(w http.ResponseWriter, r *http.Request, user string) {
	http.Error(w, "supervising calls is not built yet", http.StatusServiceUnavailable)
}
