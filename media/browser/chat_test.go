package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"go.uber.org/goleak"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/text"
)

// chatScript plays a call's flow against the text channel's activities,
// as the engine would; it reports what it got on the rig's results.
type chatScript func(ctx context.Context, r *chatRig, callID string)

// chatRig is a browser server with web chat on a text channel whose calls
// run a Go script instead of a workflow.
type chatRig struct {
	t       *testing.T
	srv     *Server
	http    *httptest.Server
	ch      *text.Channel
	script  chatScript
	results chan any // what scripts report, in order
	scripts sync.WaitGroup

	mu      sync.Mutex
	starts  []activities.CallStart
	hangups []string
	answers []activities.BridgeAnswered
	saved   map[string][]records.ChatLine
	failing bool // StartCall fails
	clients []*wsClient
}

type fakeRoutes map[string]string

func (f fakeRoutes) Route(_ context.Context, number string) (activities.Route, error) {
	name, ok := f[number]
	if !ok {
		return activities.Route{}, fmt.Errorf("%w: %q", activities.ErrNoRoute, number)
	}
	return activities.Route{Flow: activities.FlowSource{Name: name, Version: 3}}, nil
}

func newChatRig(t *testing.T, grace time.Duration, script chatScript) *chatRig {
	t.Helper()
	r := &chatRig{t: t, script: script, results: make(chan any, 32), saved: map[string][]records.ChatLine{}}
	r.ch = text.NewChannel("test-chat", r.hangup, text.WithAnswered(r.answered))
	r.serve(Config{
		Chat: r.ch, Routes: fakeRoutes{"100": "chat-flow"}, StartCall: r.startCall, SaveTranscript: r.save,
		ScreenPop: func(_ context.Context, callID string) (json.RawMessage, error) {
			return json.RawMessage(`{"vars":{"call":"` + callID + `"}}`), nil
		},
		Grace: grace,
	})
	return r
}

// serve serves the chat socket at /chat and desks at /agent?name=NAME.
func (r *chatRig) serve(cfg Config) {
	cfg.Logger = slog.New(slog.DiscardHandler)
	r.srv = New(cfg)
	mux := http.NewServeMux()
	mux.HandleFunc("/chat", r.srv.ServeChat)
	mux.HandleFunc("/agent", func(w http.ResponseWriter, req *http.Request) {
		r.srv.ServeAgent(w, req, req.URL.Query().Get("name"))
	})
	r.http = httptest.NewServer(mux)
}

// close drops the test's sockets (a page that stopped reading would hold
// up the server's close handshakes), stops the server, then waits for the
// scripts.
func (r *chatRig) close() {
	r.mu.Lock()
	clients := r.clients
	r.mu.Unlock()
	for _, c := range clients {
		_ = c.ws.CloseNow()
	}
	r.srv.Close()
	r.http.Close()
	r.scripts.Wait()
}

func (r *chatRig) startCall(_ context.Context, call activities.CallStart) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failing {
		return errors.New("temporal is down")
	}
	r.starts = append(r.starts, call)
	r.scripts.Add(1)
	go func() {
		defer r.scripts.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r.script(ctx, r, call.CallID)
	}()
	return nil
}

func (r *chatRig) hangup(_ context.Context, callID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hangups = append(r.hangups, callID)
	return nil
}

func (r *chatRig) answered(_ context.Context, _ string, ev activities.BridgeAnswered) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers = append(r.answers, ev)
	return nil
}

func (r *chatRig) save(_ context.Context, callID string, lines []records.ChatLine) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.saved[callID] = lines
	return nil
}

func (r *chatRig) report(v any) { r.results <- v }

// use makes subtest t the one the rig and clients cs report failures to.
func (r *chatRig) use(t *testing.T, cs ...*wsClient) {
	r.t = t
	for _, c := range cs {
		c.t = t
	}
}

// result is the next thing a script reported.
func (r *chatRig) result() any {
	r.t.Helper()
	select {
	case v := <-r.results:
		return v
	case <-time.After(5 * time.Second):
		r.t.Fatal("the script reported nothing")
		return nil
	}
}

// collect is a script's menu: the prompts, then the customer's answer.
func collect(ctx context.Context, r *chatRig, callID, node string, prompts ...string) (activities.CollectResult, error) {
	in := activities.CollectInput{CallID: callID, NodeID: node, MaxDigits: 1}
	for _, p := range prompts {
		in.Prompts = append(in.Prompts, activities.Prompt{Text: p})
	}
	res, err := r.ch.Collect(ctx, in)
	if err != nil {
		r.report(err)
	} else {
		r.report(res)
	}
	return res, err
}

func say(text string) []activities.Prompt { return []activities.Prompt{{Text: text}} }

// wsMsg is any message the server sends.
type wsMsg struct {
	Type       string             `json:"type"`
	CallID     string             `json:"call_id"`
	Token      string             `json:"token"`
	From       string             `json:"from"`
	To         string             `json:"to"`
	Text       string             `json:"text"`
	Name       string             `json:"name"`
	Code       string             `json:"code"`
	Message    string             `json:"message"`
	At         time.Time          `json:"at"`
	Messages   []wsMsg            `json:"messages"`
	Transcript []records.ChatLine `json:"transcript"`
	ScreenPop  json.RawMessage    `json:"screen_pop"`
}

type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func (r *chatRig) dial(path string) *wsClient {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(r.http.URL, "http")+path, nil)
	if err != nil {
		r.t.Fatalf("dial %s: %v", path, err)
	}
	c := &wsClient{t: r.t, ws: ws}
	r.mu.Lock()
	r.clients = append(r.clients, c)
	r.mu.Unlock()
	return c
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.ws, v); err != nil {
		c.t.Fatalf("send %v: %v", v, err)
	}
}

func (c *wsClient) next() wsMsg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var m wsMsg
	if err := wsjson.Read(ctx, c.ws, &m); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// expect reads the next message and checks its type (and, for lines, who
// wrote what).
func (c *wsClient) expect(typ string, fromText ...string) wsMsg {
	c.t.Helper()
	m := c.next()
	if m.Type != typ {
		c.t.Fatalf("got %+v, want a %q message", m, typ)
	}
	if len(fromText) == 2 && (m.From != fromText[0] || m.Text != fromText[1]) {
		c.t.Fatalf("got %s from %q: %q, want from %q: %q", typ, m.From, m.Text, fromText[0], fromText[1])
	}
	return m
}

// closed checks the server closed the socket.
func (c *wsClient) closed() {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, b, err := c.ws.Read(ctx); err == nil {
		c.t.Fatalf("socket still open: got %s", b)
	} else if ctx.Err() != nil {
		c.t.Fatal("socket still open")
	}
}

// startChat opens a chat with number 100 as Ann.
func (r *chatRig) startChat() (*wsClient, wsMsg) {
	r.t.Helper()
	c := r.dial("/chat?number=100&from=Ann")
	c.send(map[string]string{"type": "start"})
	m := c.expect("chat")
	if m.CallID == "" || m.Token == "" {
		r.t.Fatalf("chat message %+v: want a call ID and a token", m)
	}
	return c, m
}

// menusScript asks three questions, then hangs up.
func menusScript(ctx context.Context, r *chatRig, id string) {
	res, err := collect(ctx, r, id, "menu", "Welcome to chat", "Press 1 for sales or type billing")
	if err != nil {
		return
	}
	_ = r.ch.Play(ctx, activities.PlayInput{CallID: id, NodeID: "ack", Prompts: say("You chose " + res.Digits)})
	if _, err := collect(ctx, r, id, "topic", "Which topic?"); err != nil {
		return
	}
	if _, err := collect(ctx, r, id, "more", "Anything else?"); err != nil {
		return
	}
	_ = r.ch.Hangup(ctx, activities.HangupInput{CallID: id, Prompts: say("Goodbye")})
}

func TestChatFlowMenusResumeAndTranscript(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newChatRig(t, time.Minute, menusScript)
	defer r.close()

	c, chat := r.startChat()
	c.expect("message", "flow", "Welcome to chat")
	c.expect("message", "flow", "Press 1 for sales or type billing")
	c.expect("listen")
	r.mu.Lock()
	start := r.starts[0]
	r.mu.Unlock()
	if start.Channel != "chat" || start.From != "Ann" || start.To != "100" || start.CallID != chat.CallID ||
		start.MediaQueue != r.ch.Queue() || start.Flow.Name != "chat-flow" || start.Flow.Version != 3 {
		t.Fatalf("call start %+v", start)
	}

	// A digit answers the menu.
	c.send(map[string]string{"type": "message", "text": "1"})
	if m := c.expect("message", "you", "1"); m.At.IsZero() {
		t.Fatalf("line without a time: %+v", m)
	}
	if res := r.result().(activities.CollectResult); res.Kind != activities.InputDTMF || res.Digits != "1" {
		t.Fatalf("menu got %+v, want the key 1", res)
	}
	c.expect("message", "flow", "You chose 1")
	c.expect("message", "flow", "Which topic?")
	c.expect("listen")

	// Too large: an error, and the chat goes on.
	c.send(map[string]string{"type": "message", "text": strings.Repeat("é", MaxChatText+1)})
	if m := c.expect("error"); m.Code != CodeTooLarge {
		t.Fatalf("error %+v, want too_large", m)
	}
	// Words answer as speech.
	c.send(map[string]string{"type": "message", "text": "  billing please "})
	c.expect("message", "you", "billing please")
	if res := r.result().(activities.CollectResult); res.Kind != activities.InputSpeech || res.Utterance != "billing please" {
		t.Fatalf("topic got %+v, want words", res)
	}
	c.expect("message", "flow", "Anything else?")
	c.expect("listen")

	// The page drops its socket and comes back: the transcript is replayed.
	_ = c.ws.CloseNow()
	c = r.dial("/chat")
	c.send(map[string]string{"type": "resume", "token": chat.Token})
	if m := c.expect("chat"); m.CallID != chat.CallID || m.Token != chat.Token {
		t.Fatalf("resumed %+v, want %+v", m, chat)
	}
	tr := c.expect("transcript")
	want := []string{"flow:Welcome to chat", "flow:Press 1 for sales or type billing", "you:1", "flow:You chose 1",
		"flow:Which topic?", "you:billing please", "flow:Anything else?"}
	if got := lineStrings(tr.Messages); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("transcript\n got %q\nwant %q", got, want)
	}
	c.expect("listen") // the flow still waits
	c.send(map[string]string{"type": "message", "text": "no"})
	c.expect("message", "you", "no")
	r.result()
	c.expect("message", "flow", "Goodbye")
	c.expect("ended")
	c.closed()

	r.mu.Lock()
	saved, hangups := r.saved[chat.CallID], r.hangups
	r.mu.Unlock()
	if len(saved) != 9 || saved[2].From != records.ChatCustomer || saved[2].Text != "1" || saved[8].Text != "Goodbye" {
		t.Fatalf("saved transcript %+v", saved)
	}
	if len(hangups) != 0 {
		t.Fatalf("hangup signalled %v: the flow hung up, not the customer", hangups)
	}
}

func lineStrings(ms []wsMsg) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.From + ":" + m.Text
	}
	return out
}

// waitScript is a flow that waits at a menu.
func waitScript(ctx context.Context, r *chatRig, id string) {
	_, _ = collect(ctx, r, id, "menu", "Press 1")
}

func TestChatCustomerGone(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newChatRig(t, 150*time.Millisecond, waitScript)
	defer r.close()

	t.Run("no page for the grace period", func(t *testing.T) {
		r.use(t)
		c, chat := r.startChat()
		c.expect("message", "flow", "Press 1")
		c.expect("listen")
		_ = c.ws.CloseNow()
		if err := r.result().(error); !activities.IsCallGone(err) {
			t.Fatalf("collect = %v, want CallGone", err)
		}
		r.mu.Lock()
		hangups := r.hangups
		r.mu.Unlock()
		if len(hangups) != 1 || hangups[0] != chat.CallID {
			t.Fatalf("hangups %v, want the chat's", hangups)
		}
		c = r.dial("/chat")
		c.send(map[string]string{"type": "resume", "token": chat.Token})
		if m := c.expect("error"); m.Code != CodeNotFound {
			t.Fatalf("resume after the grace: %+v", m)
		}
	})
	t.Run("hangup", func(t *testing.T) {
		r.use(t)
		c, chat := r.startChat()
		c.expect("message", "flow", "Press 1")
		c.expect("listen")
		c.send(map[string]string{"type": "hangup"})
		c.expect("ended")
		c.closed()
		if err := r.result().(error); !activities.IsCallGone(err) {
			t.Fatalf("collect = %v, want CallGone", err)
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if n := len(r.hangups); n != 2 || r.hangups[1] != chat.CallID {
			t.Fatalf("hangups %v", r.hangups)
		}
		if len(r.saved[chat.CallID]) != 1 {
			t.Fatalf("saved %+v", r.saved[chat.CallID])
		}
	})
}

func TestChatRefusals(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newChatRig(t, time.Minute, waitScript)
	defer r.close()
	for _, tc := range []struct {
		name, path string
		first      any
		code       string
	}{
		{"no number", "/chat", map[string]string{"type": "start"}, CodeBadMessage},
		{"unknown number", "/chat?number=999", map[string]string{"type": "start"}, CodeNotFound},
		{"bad first message", "/chat?number=100", map[string]string{"type": "message", "text": "hi"}, CodeBadMessage},
		{"not JSON", "/chat?number=100", "hello", CodeBadMessage},
		{"unknown token", "/chat", map[string]string{"type": "resume", "token": "nope"}, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.use(t)
			c := r.dial(tc.path)
			c.send(tc.first)
			if m := c.expect("error"); m.Code != tc.code {
				t.Fatalf("got %+v, want %s", m, tc.code)
			}
		})
	}
	t.Run("the flow does not start", func(t *testing.T) {
		r.use(t)
		r.mu.Lock()
		r.failing = true
		r.mu.Unlock()
		c := r.dial("/chat?number=100")
		c.send(map[string]string{"type": "start"})
		if m := c.expect("error"); m.Code != CodeFailed || !strings.Contains(m.Message, "temporal is down") {
			t.Fatalf("got %+v", m)
		}
		if n := r.ch.Live(); n != 0 {
			t.Fatalf("%d sessions left open", n)
		}
	})
	t.Run("not served", func(t *testing.T) {
		srv := New(Config{})
		defer srv.Close()
		hs := httptest.NewServer(http.HandlerFunc(srv.ServeChat))
		defer hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"?number=100", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		c := &wsClient{t: t, ws: ws}
		c.send(map[string]string{"type": "start"})
		if m := c.expect("error"); m.Code != CodeUnavailable {
			t.Fatalf("got %+v", m)
		}
	})
}
