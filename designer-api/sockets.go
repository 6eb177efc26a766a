package designerapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Browser serves the browser channels' WebSockets (media/browser.Server):
// the API authenticates a socket before it hands it over.
type Browser interface {
	// ServeAgent serves the desktop of agent (the signed-in user).
	ServeAgent(w http.ResponseWriter, r *http.Request, agent string)
	// ServeSupervisor serves a supervisor's listen/whisper/barge socket.
	ServeSupervisor(w http.ResponseWriter, r *http.Request, user string)
	// ServeCall serves a customer's call from a web page (no credentials:
	// the widget is public; the number decides the flow).
	ServeCall(w http.ResponseWriter, r *http.Request)
}

// chatServer is a Browser that also serves web chat.
type chatServer interface {
	ServeChat(w http.ResponseWriter, r *http.Request)
}

// Socket paths, under Prefix.
const (
	SocketAgent      = "/ws/agent"
	SocketSupervisor = "/ws/supervisor"
	SocketCall       = "/ws/call"
	SocketChat       = "/ws/chat"
)

// registerSockets adds the browser channels' sockets to mux. The desk and
// supervisor sockets take the same credentials as the API (session cookie
// or API key); a request without them is answered 401 before any upgrade.
func (s *server) registerSockets(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix+SocketAgent, func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.socketPrincipal(w, r, RoleAgent, false); ok {
			s.cfg.Browser.ServeAgent(w, r, agentOf(p))
		}
	})
	mux.HandleFunc("GET "+Prefix+SocketSupervisor, func(w http.ResponseWriter, r *http.Request) {
		if p, ok := s.socketPrincipal(w, r, RoleSupervisor, true); ok {
			s.cfg.Browser.ServeSupervisor(w, r, p.Name)
		}
	})
	mux.HandleFunc("GET "+Prefix+SocketCall, func(w http.ResponseWriter, r *http.Request) {
		if s.browserReady(w) {
			s.cfg.Browser.ServeCall(w, r)
		}
	})
	mux.HandleFunc("GET "+Prefix+SocketChat, func(w http.ResponseWriter, r *http.Request) {
		if !s.browserReady(w) {
			return
		}
		chat, ok := s.cfg.Browser.(chatServer)
		if !ok {
			socketError(w, http.StatusServiceUnavailable, "web chat is not served here")
			return
		}
		chat.ServeChat(w, r)
	})
}

func (s *server) browserReady(w http.ResponseWriter) bool {
	if s.cfg.Browser == nil {
		socketError(w, http.StatusServiceUnavailable, "browser channels are not served here (voxflow dev serves them)")
		return false
	}
	return true
}

// socketPrincipal authenticates a socket request; monitor asks for the
// right to hear calls (Role.MayMonitor) instead of a least role.
func (s *server) socketPrincipal(w http.ResponseWriter, r *http.Request, min Role, monitor bool) (Principal, bool) {
	if !s.browserReady(w) {
		return Principal{}, false
	}
	if s.cfg.Auth == nil {
		socketError(w, http.StatusServiceUnavailable, "authentication is not configured")
		return Principal{}, false
	}
	p, err := s.requestPrincipal(r)
	switch {
	case errors.Is(err, ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="voxflow"`)
		socketError(w, http.StatusUnauthorized, ErrUnauthenticated.Error()+": sign in (POST "+Prefix+"/session) or send an API key")
		return Principal{}, false
	case err != nil:
		s.log.Error("authenticate socket", "error", err)
		socketError(w, http.StatusInternalServerError, "could not check credentials")
		return Principal{}, false
	case monitor && !p.Role.MayMonitor():
		socketError(w, http.StatusForbidden, p.Name+" has role "+string(p.Role)+"; listening to calls needs supervisor (or admin)")
		return Principal{}, false
	case !p.Role.Allows(min):
		socketError(w, http.StatusForbidden, p.Name+" has role "+string(p.Role)+"; this socket needs "+string(min)+" or above")
		return Principal{}, false
	}
	return p, true
}

// requestPrincipal resolves a plain HTTP request's credentials as
// principal does a huma operation's.
func (s *server) requestPrincipal(r *http.Request) (Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, key, _ := strings.Cut(h, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return Principal{}, ErrUnauthenticated
		}
		return s.cfg.Auth.Key(r.Context(), strings.TrimSpace(key))
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, ErrUnauthenticated
	}
	return s.cfg.Auth.Session(r.Context(), c.Value)
}

// socketError answers a refused socket as the API answers errors (RFC 9457).
func socketError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"title": http.StatusText(status), "status": status, "detail": detail})
}
