// Package llmtest is a fake OpenAI-compatible endpoint for tests: an
// httptest server on loopback that answers POST .../chat/completions with
// replies a test scripts (in order, by matcher, or from a Responder), and
// records every request for the test to check.
package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Responder answers a request no scripted reply matched: e2e tests answer
// by content (Keywords) instead of by order.
type Responder func(Request) Reply

// Matcher picks the requests a rule answers.
type Matcher func(Request) bool

// Option configures a Server.
type Option func(*Server)

// WithResponder answers unscripted requests with r, each after latency.
func WithResponder(r Responder, latency time.Duration) Option {
	return func(s *Server) { s.responder, s.latency = r, latency }
}

// Server is the fake endpoint. Configure clients with URL as the base URL
// (it ends in /v1); Azure-style paths (/openai/deployments/NAME/...) under
// Root are answered too.
type Server struct {
	// URL is the OpenAI-style base URL: Root + "/v1".
	URL string
	// Root is the server's root URL (an Azure resource's base URL).
	Root string

	t    testing.TB
	srv  *httptest.Server
	done chan struct{}

	mu        sync.Mutex
	queue     []Reply
	rules     []rule
	responder Responder
	latency   time.Duration
	requests  []Request
}

type rule struct {
	match Matcher
	reply Reply
}

// NewServer starts a fake endpoint that t's cleanup stops. A request that
// nothing answers fails t and gets a 500.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t, done: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.Root = s.srv.URL
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(func() {
		close(s.done) // ends delayed replies still waiting
		s.srv.Close()
	})
	return s
}

// Enqueue adds replies answered in order, one per request.
func (s *Server) Enqueue(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, replies...)
}

// On answers every request match accepts with reply, before the queue.
// match runs with the server locked: it must not call the server.
func (s *Server) On(match Matcher, reply Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, rule{match, reply})
}

// Requests returns the requests received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests were received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Last is the last request received; it fails the test when there is none.
func (s *Server) Last() Request {
	s.t.Helper()
	reqs := s.Requests()
	if len(reqs) == 0 {
		s.t.Fatal("llmtest: no request received")
	}
	return reqs[len(reqs)-1]
}

// Pending is how many queued replies are still unused.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		writeError(w, http.StatusNotFound, "invalid_request_error", fmt.Sprintf("llmtest serves POST .../chat/completions, not %s %s", r.Method, r.URL.Path))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req, err := decodeRequest(r, body)
	if err != nil {
		s.t.Errorf("llmtest: request body is not a chat completion request: %v\n%s", err, body)
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	reply, ok := s.record(&req)
	if !ok {
		s.t.Errorf("llmtest: no reply scripted for request %d (model %q, last message %q)", req.N, req.Model, req.LastUser())
		writeError(w, http.StatusInternalServerError, "server_error", "llmtest: no reply scripted")
		return
	}
	if reply.Delay > 0 {
		t := time.NewTimer(reply.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	s.write(w, req, reply)
}

// record numbers and stores req and picks its reply: a matching rule,
// else the next queued reply, else the responder's (called unlocked, so
// it may look at the server).
func (s *Server) record(req *Request) (Reply, bool) {
	s.mu.Lock()
	req.N = len(s.requests) + 1
	s.requests = append(s.requests, *req)
	for _, r := range s.rules {
		if r.match(*req) {
			s.mu.Unlock()
			return r.reply, true
		}
	}
	if len(s.queue) > 0 {
		reply := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		return reply, true
	}
	responder, latency := s.responder, s.latency
	s.mu.Unlock()
	if responder == nil {
		return Reply{}, false
	}
	reply := responder(*req)
	reply.Delay += latency
	return reply, true
}

func (s *Server) write(w http.ResponseWriter, req Request, reply Reply) {
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	status := reply.Status
	if status == 0 {
		status = http.StatusOK
	}
	body := reply.Body
	if body == nil {
		body = completion(req, reply)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// completion is a chat completion body carrying reply's message.
func completion(req Request, reply Reply) []byte {
	msg := reply.Message
	if msg == nil {
		msg = &Message{Content: ""}
	}
	out := *msg
	out.Role = "assistant"
	finish := reply.FinishReason
	if finish == "" {
		finish = "stop"
		if len(out.ToolCalls) > 0 {
			finish = "tool_calls"
		}
	}
	prompt := len(req.Body) / 4
	completionTokens := (len(out.Content) + 3) / 4
	for _, tc := range out.ToolCalls {
		completionTokens += (len(tc.Function.Arguments) + len(tc.Function.Name) + 3) / 4
	}
	body, err := json.Marshal(map[string]any{
		"id": fmt.Sprintf("chatcmpl-llmtest-%d", req.N), "object": "chat.completion", "created": 1767225600,
		"model":   req.Model,
		"choices": []any{map[string]any{"index": 0, "message": out, "finish_reason": finish, "logprobs": nil}},
		"usage":   map[string]any{"prompt_tokens": prompt, "completion_tokens": completionTokens, "total_tokens": prompt + completionTokens},
	})
	if err != nil {
		panic(err) // strings and numbers only
	}
	return body
}

// writeError writes an OpenAI error body.
func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(typ, msg, ""))
}

func errorBody(typ, msg, code string) []byte {
	e := map[string]any{"message": msg, "type": typ, "param": nil, "code": nil}
	if code != "" {
		e["code"] = code
	}
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(map[string]any{"error": e})
	return b.Bytes()
}
