package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/browser"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

// webChatFlow serves voice and chat: chat customers get typed menus, and
// the billing option reaches agent alice's desk.
const webChatFlow = `name: chat-support
entry: greet
nodes:
  greet:
    type: branch
    when:
      - if: call.channel == "chat"
        next: chat_menu
    default: voice
  voice:
    type: hangup
    say: "This is the voice line."
  chat_menu:
    type: menu
    prompt: "Hi {{ call.from }}, you are on {{ call.channel }}. Type 1 for sales."
    options:
      "1": sales
  sales:
    type: menu
    prompt: "Sales. Type billing to talk to someone."
    options:
      "3": { next: to_agent, phrases: [billing] }
  to_agent:
    type: transfer
    say: "Connecting you to an agent."
    to: "agent:alice"
    mode: bridge
    timeout: 10s
    var: desk
    on_timeout: nobody
    next: bye
  bye:
    type: hangup
    say: "Thanks for chatting. Goodbye."
  nobody:
    type: hangup
    say: "Nobody is free."
`

// TestWebChatOnTheEngine runs a published flow as a web chat through the
// real engine: typed menus (a key, then a phrase), a bridged transfer to
// an agent's desk with messages both ways, and the transcript in the CDR.
func TestWebChatOnTheEngine(t *testing.T) {
	st, srv := startChatRig(t, "chat-support", webChatFlow, "4100")
	mux := http.NewServeMux()
	mux.HandleFunc("/chat", srv.ServeChat)
	mux.HandleFunc("/agent", func(w http.ResponseWriter, r *http.Request) { srv.ServeAgent(w, r, r.URL.Query().Get("name")) })
	hs := httptest.NewServer(mux)
	desk := chatDial(t, hs.URL+"/agent?name=alice")
	cust := chatDial(t, hs.URL+"/chat?number=4100&from=Ann")
	defer func() {
		desk.ws.CloseNow()
		cust.ws.CloseNow()
		srv.Close()
		hs.Close()
	}()
	desk.expect("hello")
	callID := chatThroughAgent(t, cust, desk)

	rec := chatCDR(t, st, callID)
	if rec.Channel != "chat" || rec.From != "Ann" || rec.To != "4100" || rec.Outcome != records.OutcomeCompleted {
		t.Fatalf("CDR %+v", rec)
	}
	if v, _ := rec.Vars["desk"].(map[string]any); v["outcome"] != activities.TransferBridged {
		t.Fatalf("transfer variable %v", rec.Vars["desk"])
	}
	var got []string
	for _, l := range rec.Transcript {
		got = append(got, l.From+":"+l.Text)
	}
	want := []string{"flow:Hi Ann, you are on chat. Type 1 for sales.", "customer:1", "flow:Sales. Type billing to talk to someone.",
		"customer:billing", "flow:Connecting you to an agent.", "customer:My invoice is wrong", "agent:Fixed it",
		"flow:Thanks for chatting. Goodbye."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("CDR transcript\n got %q\nwant %q", got, want)
	}
}

// startChatRig runs a published flow (name, source) on number for web
// chats: a test server, the store, the engine and a chat channel, and the
// browser signalling that serves them (closed by the caller).
func startChatRig(t *testing.T, name, source, number string) (*store.Store, *browser.Server) {
	t.Helper()
	_, c := devtemporaltest.NewServer(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.PublishSource(ctx, name, source, "test", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.BindNumber(ctx, number, name); err != nil {
		t.Fatal(err)
	}
	chat := text.NewChannel("e2e-chat-"+number, platform.HangupSignaler(c), text.WithAnswered(platform.AnswerSignaler(c)))
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.SharedActivities(st), Channels: []activities.Channel{chat}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Stop)
	srv := browser.New(browser.Config{Chat: chat, Routes: &platform.StoreRoutes{Store: st}, StartCall: platform.CallStarter(c),
		SaveTranscript: st.SaveChatTranscript, ScreenPop: platform.ScreenPopper(c), Logger: slog.New(slog.DiscardHandler)})
	return st, srv
}

// chatThroughAgent chats through the flow to the agent and back, and
// returns the call's ID.
func chatThroughAgent(t *testing.T, cust, desk *chatWS) string {
	cust.send(map[string]string{"type": "start"})
	callID := cust.expect("chat").CallID
	cust.expectLine("flow", "Hi Ann, you are on chat. Type 1 for sales.")
	cust.expect("listen")
	cust.send(map[string]string{"type": "message", "text": "1"})
	cust.expectLine("you", "1")
	cust.expectLine("flow", "Sales. Type billing to talk to someone.")
	cust.expect("listen")
	cust.send(map[string]string{"type": "message", "text": "billing"})
	cust.expectLine("you", "billing")
	cust.expectLine("flow", "Connecting you to an agent.")

	offer := desk.expect("chat_offer")
	var pop struct{ Flow, Node string }
	if err := json.Unmarshal(offer.ScreenPop, &pop); err != nil || pop.Flow != "chat-support" || pop.Node != "to_agent" || offer.CallID != callID {
		t.Fatalf("offer %+v, screen-pop %s (%v)", offer, offer.ScreenPop, err)
	}
	desk.send(map[string]string{"type": "chat_accept", "call_id": callID})
	if m := cust.expect("agent"); m.Name != "alice" {
		t.Fatalf("agent joined: %+v", m)
	}
	cust.send(map[string]string{"type": "message", "text": "My invoice is wrong"})
	cust.expectLine("you", "My invoice is wrong")
	desk.expectLine("customer", "My invoice is wrong")
	desk.send(map[string]string{"type": "chat_message", "call_id": callID, "text": "Fixed it"})
	cust.expectLine("agent", "Fixed it")
	desk.send(map[string]string{"type": "chat_end", "call_id": callID})
	cust.expect("agent_left")
	cust.expectLine("flow", "Thanks for chatting. Goodbye.")
	cust.expect("ended")
	return callID
}

// chatCDR waits for the call's record and its transcript.
func chatCDR(t *testing.T, st *store.Store, callID string) records.CDR {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		rec, err := st.CDR(context.Background(), callID)
		if err == nil && len(rec.Transcript) > 0 {
			return rec
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CDR with a transcript for %s (%v)", callID, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chatWS is a chat page's or a desk's socket.
type chatWS struct {
	t  *testing.T
	ws *websocket.Conn
}

type chatMsg struct {
	Type      string          `json:"type"`
	CallID    string          `json:"call_id"`
	From      string          `json:"from"`
	Text      string          `json:"text"`
	Name      string          `json:"name"`
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	ScreenPop json.RawMessage `json:"screen_pop"`
}

func chatDial(t *testing.T, url string) *chatWS {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	return &chatWS{t: t, ws: ws}
}

func (c *chatWS) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.ws, v); err != nil {
		c.t.Fatalf("send %v: %v", v, err)
	}
}

// expect reads the next message, which must be of type typ.
func (c *chatWS) expect(typ string) chatMsg {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m chatMsg
	if err := wsjson.Read(ctx, c.ws, &m); err != nil {
		c.t.Fatalf("read (want %s): %v", typ, err)
	}
	if m.Type != typ {
		c.t.Fatalf("got %+v, want a %q message", m, typ)
	}
	return m
}

// expectLine reads the next line of the conversation (a page's message
// or a desk's chat_message).
func (c *chatWS) expectLine(from, text string) {
	c.t.Helper()
	typ := "message"
	if from == "customer" {
		typ = "chat_message"
	}
	if m := c.expect(typ); m.From != from || m.Text != text {
		c.t.Fatalf("got %s from %q: %q, want from %q: %q", typ, m.From, m.Text, from, text)
	}
}
