package browser

import (
	"bytes"
	"context"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/text"
)

// panicLog records net/http's "http: panic serving" lines: the server
// recovers a handler's panic, which would hide a crash from the fuzzer.
type panicLog struct{ last atomic.Value }

func (p *panicLog) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("panic")) {
		p.last.Store(string(b))
	}
	return len(b), nil
}

// fuzzSockets is a browser server with every socket: web chat on a text
// channel (whose calls never get a flow), voice without WebRTC, an agent
// desk and a supervisor desk.
func fuzzSockets(f *testing.F) (base string, srv *Server, panics *panicLog) {
	ch := text.NewChannel("fuzz-chat", func(context.Context, string) error { return nil })
	srv = New(Config{
		Chat: ch, Routes: fakeRoutes{"100": "chat-flow"}, Grace: time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		StartCall:      func(context.Context, activities.CallStart) error { return nil },
		SaveTranscript: func(context.Context, string, []records.ChatLine) error { return nil },
	})
	panics = &panicLog{}
	return newFuzzHTTP(f, srv, panics), srv, panics
}

// newFuzzHTTP serves srv's sockets at /chat, /call, /agent (agent ann) and
// /supervisor (sue) and returns the ws:// base URL; panics, if given,
// collects the server's error log.
func newFuzzHTTP(f *testing.F, srv *Server, panics ...*panicLog) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/chat", srv.ServeChat)
	mux.HandleFunc("/call", srv.ServeCall)
	mux.HandleFunc("/agent", func(w http.ResponseWriter, r *http.Request) { srv.ServeAgent(w, r, "ann") })
	mux.HandleFunc("/supervisor", func(w http.ResponseWriter, r *http.Request) { srv.ServeSupervisor(w, r, "sue") })
	hs := httptest.NewUnstartedServer(mux)
	if len(panics) > 0 {
		hs.Config.ErrorLog = log.New(panics[0], "", 0)
	}
	hs.Start()
	f.Cleanup(func() { srv.Close(); hs.Close() })
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

var fuzzSocketPaths = []string{"/chat?number=100&from=web", "/chat?number=999", "/call?number=100", "/agent", "/supervisor"}

// FuzzSignalling sends arbitrary messages (one per line) to each signalling
// socket a page opens: customer chat, voice call, agent desk, supervisor.
// No handler may panic, and every socket must be let go once the page
// closes it.
func FuzzSignalling(f *testing.F) {
	for i := range fuzzSocketPaths {
		for _, s := range []string{
			`{"type":"start"}` + "\n" + `{"type":"message","text":"hello"}` + "\n" + `{"type":"leave"}`,
			`{"type":"resume","token":"nope"}`,
			`{"type":"offer","sdp":"v=0\r\n"}` + "\n" + `{"type":"hangup"}`,
			`{"type":"answer","call_id":"c1","sdp":"x"}` + "\n" + `{"type":"hold","call_id":"c1","on":true}`,
			`{"type":"transfer","call_id":"c1","to":"sip:x@y","mode":"blind"}` + "\n" + `{"type":"consult","to":""}`,
			`{"type":"chat_accept","call_id":"x"}` + "\n" + `{"type":"message","call_id":"x","text":"` + strings.Repeat("a", 300) + `"}`,
			`{"type":"monitor","call_id":"c1","mode":"barge"}` + "\n" + `{"type":"mode","call_id":"c1","mode":"whisper"}` + "\n" + `{"type":"leave","call_id":"c1"}`,
			`not json`, `{"type":""}`, `{"type":1}`, `[]`, `{"type":"complete"}{"type":"restart"}`,
		} {
			f.Add(uint8(i), s)
		}
	}
	base, srv, panics := fuzzSockets(f)
	f.Fuzz(func(t *testing.T, sock uint8, script string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, base+fuzzSocketPaths[int(sock)%len(fuzzSocketPaths)], nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		go func() { // drain what the server says so its writes never block
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					return
				}
			}
		}()
		for i, line := range strings.Split(script, "\n") {
			if i == 8 || ws.Write(ctx, websocket.MessageText, []byte(line)) != nil {
				break
			}
		}
		_ = ws.Close(websocket.StatusNormalClosure, "fuzz done")
		waitSocketsGone(t, ctx, srv)
		if p, _ := panics.last.Load().(string); p != "" {
			t.Fatalf("handler panicked on %q: %s", script, p)
		}
	})
}

// waitSocketsGone waits until the server dropped every socket.
func waitSocketsGone(t *testing.T, ctx context.Context, srv *Server) {
	for {
		srv.mu.Lock()
		n := len(srv.conns)
		srv.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%d sockets still open after the page closed", n)
		case <-time.After(time.Millisecond):
		}
	}
}
