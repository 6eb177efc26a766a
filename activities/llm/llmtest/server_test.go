package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends a chat completion request and returns status, headers and
// the decoded body.
func post(t *testing.T, url string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("body %q: %v", raw, err)
	}
	return res.StatusCode, res.Header, out
}

func chatReq(said string) map[string]any {
	return map[string]any{"model": "m", "messages": []any{map[string]any{"role": "user", "content": said}}}
}

func content(body map[string]any) string {
	msg := body["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	s, _ := msg["content"].(string)
	return s
}

func TestRepliesInOrderAndByMatcher(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Text("first"), RateLimited("7"), Text("third"))
	s.On(func(r Request) bool { return r.LastUser() == "special" }, Text("matched"))

	url := s.URL + "/chat/completions"
	if _, _, b := post(t, url, chatReq("a")); content(b) != "first" {
		t.Errorf("first reply %v", b)
	}
	if _, _, b := post(t, url, chatReq("special")); content(b) != "matched" {
		t.Errorf("matcher reply %v", b)
	}
	status, h, b := post(t, url, chatReq("b"))
	if status != 429 || h.Get("Retry-After") != "7" || b["error"].(map[string]any)["code"] != "rate_limit_exceeded" {
		t.Errorf("rate limit reply %d %v %v", status, h, b)
	}
	if _, _, b := post(t, url, chatReq("c")); content(b) != "third" || b["model"] != "m" {
		t.Errorf("third reply %v", b)
	}
	if s.Count() != 4 || s.Pending() != 0 || s.Last().N != 4 || s.Requests()[1].LastUser() != "special" {
		t.Errorf("recorded %+v", s.Requests())
	}
}

func TestKeywordsResponder(t *testing.T) {
	s := NewServer(t, WithResponder(Keywords("bill", "billing", "agent", "transfer"), time.Millisecond))
	intentReq := func(said string) map[string]any {
		r := chatReq(said)
		r["response_format"] = map[string]any{"type": "json_schema", "json_schema": map[string]any{
			"name": "intent_answer", "strict": true,
			"schema": map[string]any{"type": "object", "properties": map[string]any{"intent": map[string]any{"type": "string", "enum": []any{"billing", "transfer", "none"}}}},
		}}
		return r
	}
	for said, want := range map[string]string{"My BILL is wrong": "billing", "an agent please": "transfer", "hello": "none"} {
		_, _, b := post(t, s.URL+"/chat/completions", intentReq(said))
		var answer map[string]any
		if err := json.Unmarshal([]byte(content(b)), &answer); err != nil || answer["intent"] != want {
			t.Errorf("%q: answer %s, want intent %q", said, content(b), want)
		}
	}
	if _, _, b := post(t, s.URL+"/chat/completions", chatReq("hi")); content(b) != "I can help with that." {
		t.Errorf("plain chat reply %v", b)
	}
}

func TestStructuredAnswersAForcedTool(t *testing.T) {
	req := Request{ToolChoice: json.RawMessage(`{"type":"function","function":{"name":"intent_answer"}}`)}
	r := Structured(req, map[string]any{"intent": "none"})
	if len(r.Message.ToolCalls) != 1 || r.Message.ToolCalls[0].Function.Name != "intent_answer" || r.Message.ToolCalls[0].Function.Arguments != `{"intent":"none"}` {
		t.Errorf("reply %+v", r.Message)
	}
}

func TestRecordedBodiesAreChatCompletions(t *testing.T) {
	for _, name := range []string{"intent_answer", "tool_call", "summary"} {
		var c struct {
			Object  string
			Choices []struct{ Message Message }
		}
		if err := json.Unmarshal(Recorded(name).Body, &c); err != nil || c.Object != "chat.completion" || len(c.Choices) != 1 {
			t.Errorf("%s: %v %+v", name, err, c)
		}
	}
}

// fakeTB records the failures the server reports.
type fakeTB struct {
	testing.TB
	mu   sync.Mutex
	errs []string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func TestUnscriptedRequestFailsTheTest(t *testing.T) {
	tb := &fakeTB{TB: t}
	s := NewServer(tb)
	status, _, _ := post(t, s.URL+"/chat/completions", chatReq("anyone?"))
	status2, _, _ := post(t, s.URL+"/chat/completions", map[string]any{"messages": "nope"})
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if status != 500 || status2 != 400 || len(tb.errs) != 2 || !strings.Contains(tb.errs[0], `no reply scripted for request 1 (model "m", last message "anyone?")`) {
		t.Errorf("statuses %d %d, failures %q", status, status2, tb.errs)
	}
}

func TestOtherPathsAndAzurePaths(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Text("azure"))
	if _, _, b := post(t, s.Root+"/openai/deployments/prod/chat/completions?api-version=2024-10-21", chatReq("x")); content(b) != "azure" {
		t.Errorf("azure path reply %v", b)
	}
	if r := s.Last(); r.Path != "/openai/deployments/prod/chat/completions" || r.Query.Get("api-version") != "2024-10-21" {
		t.Errorf("recorded %s %v", r.Path, r.Query)
	}
	if status, _, _ := post(t, s.URL+"/audio/speech", chatReq("x")); status != 404 {
		t.Errorf("audio path: %d, want 404", status)
	}
}

func TestDelayedReplyEndsWithTheServer(t *testing.T) {
	s := NewServer(t)
	s.Enqueue(Text("late").After(time.Hour))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		res, err := (&http.Client{Transport: tr, Timeout: 100 * time.Millisecond}).Post(s.URL+"/chat/completions", "application/json",
			strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"x"}]}`))
		if err == nil {
			res.Body.Close()
		}
	}()
	<-done // the client gave up; the handler must not hold the server's Close
}
