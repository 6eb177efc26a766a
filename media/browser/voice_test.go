package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"go.uber.org/goleak"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/webrtc"
	"github.com/voxflow/voxflow/media/webrtc/webrtctest"
)

// voiceRig is a media worker whose calls to 1000 collect a key and are
// bridged to agent:alice, with the signalling served on a test server
// (no API in front: desks and supervisors are named by query parameter).
type voiceRig struct {
	t       *testing.T
	w       *sipworker.Worker
	srv     *Server
	base    string // ws://host
	results chan voiceResult

	mu      sync.Mutex
	journal []JournalEntry
}

type voiceResult struct {
	digits   string
	transfer activities.TransferResult
	err      error
}

type toneSynth struct{}

func (toneSynth) Synthesize(_ context.Context, text, _, _ string) ([]int16, error) {
	pcm := make([]int16, len(text)*8000*60/1000)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*400*float64(i)/8000))
	}
	return pcm, nil
}

type oneRoute struct{}

func (oneRoute) Route(_ context.Context, number string) (activities.Route, error) {
	if number != "1000" {
		return activities.Route{}, fmt.Errorf("number %q: %w", number, activities.ErrNoRoute)
	}
	return activities.Route{Flow: activities.FlowSource{Name: "desk-test", Version: 1}}, nil
}

func newVoiceRig(t *testing.T) *voiceRig {
	t.Helper()
	r := &voiceRig{t: t, results: make(chan voiceResult, 4)}
	var w *sipworker.Worker
	cfg := sipworker.Config{
		ID: "browser-test", SIPAddr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t)), Routes: oneRoute{}, TTS: toneSynth{},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		StartCall: func(_ context.Context, call activities.CallStart) error {
			go r.script(w, call)
			return nil
		},
	}
	var err error
	if w, err = sipworker.Start(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	var codecs []webrtc.Codec
	for _, c := range sipworker.WebCodecs() {
		codecs = append(codecs, webrtc.Codec(c))
	}
	tr, err := webrtc.New(webrtc.Config{Codecs: codecs, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	r.w = w
	r.srv = New(Config{Transport: tr, Worker: w, Grace: 2 * time.Second, Logger: cfg.Logger,
		ScreenPop: func(_ context.Context, id string) (json.RawMessage, error) {
			return json.RawMessage(`{"node":"menu","vars":{"account":"4471"}}`), nil
		},
		Journal: func(_ context.Context, e JournalEntry) error {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.journal = append(r.journal, e)
			return nil
		}})
	mux := http.NewServeMux()
	mux.HandleFunc("/call", r.srv.ServeCall)
	mux.HandleFunc("/agent", func(w http.ResponseWriter, req *http.Request) { r.srv.ServeAgent(w, req, req.URL.Query().Get("name")) })
	mux.HandleFunc("/supervisor", func(w http.ResponseWriter, req *http.Request) {
		r.srv.ServeSupervisor(w, req, req.URL.Query().Get("name"))
	})
	hs := httptest.NewServer(mux)
	r.base = "ws" + strings.TrimPrefix(hs.URL, "http")
	t.Cleanup(func() {
		hs.Close()
		r.srv.Close()
		_ = w.Close()
	})
	return r
}

// script is the "flow" of a call: a key, then the agent, then goodbye.
func (r *voiceRig) script(w *sipworker.Worker, call activities.CallStart) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var res voiceResult
	defer func() { r.results <- res }()
	col, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 10 * time.Second,
		Prompts: []activities.Prompt{{Text: "press one"}}})
	if res.digits, res.err = col.Digits, err; err != nil {
		return
	}
	res.transfer, res.err = w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "agent:alice", Mode: "bridge", Timeout: 10 * time.Second})
	_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
}

// page is a simulated browser page: a socket and, once offered, media.
type page struct {
	t  *testing.T
	ws *websocket.Conn
	b  *webrtctest.Browser
}

func (r *voiceRig) open(path string, hz float64) *page {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, r.base+path, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	b, err := webrtctest.New(true)
	if err != nil {
		r.t.Fatal(err)
	}
	b.Tone(hz)
	p := &page{t: r.t, ws: ws, b: b}
	r.t.Cleanup(p.close)
	return p
}

func (p *page) close() {
	_ = p.ws.CloseNow()
	_ = p.b.Close()
}

func (p *page) send(m map[string]any) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, p.ws, m); err != nil {
		p.t.Fatal(err)
	}
}

// expect reads messages until one of type kind (failing on an error message).
func (p *page) expect(kind string) map[string]any {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		var m map[string]any
		if err := wsjson.Read(ctx, p.ws, &m); err != nil {
			p.t.Fatalf("waiting for %q: %v", kind, err)
		}
		if m["type"] == kind {
			return m
		}
		if m["type"] == "error" && kind != "error" {
			p.t.Fatalf("waiting for %q: error %v: %v", kind, m["code"], m["message"])
		}
	}
}

func (p *page) offer() string {
	p.t.Helper()
	o, err := p.b.Offer(false)
	if err != nil {
		p.t.Fatal(err)
	}
	return o
}

func (p *page) accept(m map[string]any) {
	p.t.Helper()
	if err := p.b.Accept(m["sdp"].(string)); err != nil {
		p.t.Fatal(err)
	}
}

func hears(t *testing.T, who string, p *page, hz float64, want bool) {
	t.Helper()
	lvl := p.b.Level(hz, 800*time.Millisecond)
	if want && lvl < -30 {
		t.Errorf("%s does not hear %.0f Hz: %.1f dBFS", who, hz, lvl)
	}
	if !want && lvl > -45 {
		t.Errorf("%s hears %.0f Hz: %.1f dBFS", who, hz, lvl)
	}
}

// TestDeskAndSupervisorSockets: a page calls 1000 over the call socket and
// presses 1; the call is bridged to alice's desk, which gets the ring with
// the screen-pop and answers; a supervisor listens, whispers, barges and
// leaves, each step heard (or not) by tone and kept in the journal; the
// desk's hangup returns the caller to the flow.
func TestDeskAndSupervisorSockets(t *testing.T) {
	leakCheck(t)
	r := newVoiceRig(t)
	desk := r.open("/agent?name=alice", 400)
	desk.expect("hello")

	caller := r.open("/call?number=1000&from=visitor", 1000)
	caller.send(map[string]any{"type": "offer", "sdp": caller.offer()})
	caller.accept(caller.expect("answer"))
	callID := caller.expect("call")["call_id"].(string)
	time.Sleep(1500 * time.Millisecond) // the prompt
	caller.b.Press('1')

	ring := desk.expect("ring")
	if ring["call_id"] != callID || ring["from"] != "visitor" || ring["channel"] != "webrtc" ||
		!strings.Contains(fmt.Sprint(ring["screen_pop"]), "4471") {
		t.Fatalf("ring %v", ring)
	}
	// Another desk cannot take it.
	other := r.open("/agent?name=bob", 0)
	other.expect("hello")
	other.send(map[string]any{"type": "answer", "call_id": callID, "sdp": other.offer()})
	if e := other.expect("error"); e["code"] != CodeNotYours {
		t.Errorf("bob answering alice's ring: %v", e)
	}
	desk.send(map[string]any{"type": "answer", "call_id": callID, "sdp": desk.offer()})
	desk.accept(desk.expect("connected"))
	time.Sleep(1500 * time.Millisecond)
	hears(t, "agent", desk, 1000, true)
	hears(t, "caller", caller, 400, true)

	sup := r.open("/supervisor?name=sue", 1600)
	sup.expect("hello")
	sup.send(map[string]any{"type": "monitor", "call_id": callID, "mode": "listen", "sdp": sup.offer()})
	sup.accept(sup.expect("monitoring"))
	time.Sleep(1500 * time.Millisecond)
	hears(t, "supervisor (listen)", sup, 1000, true)
	hears(t, "supervisor (listen)", sup, 400, true)
	hears(t, "agent (listen)", desk, 1600, false)
	hears(t, "caller (listen)", caller, 1600, false)
	for _, c := range []struct {
		mode          string
		agent, caller bool
	}{{"whisper", true, false}, {"barge", true, true}} {
		sup.send(map[string]any{"type": "mode", "call_id": callID, "mode": c.mode})
		sup.expect("mode")
		time.Sleep(1200 * time.Millisecond)
		hears(t, "agent ("+c.mode+")", desk, 1600, c.agent)
		hears(t, "caller ("+c.mode+")", caller, 1600, c.caller)
	}
	sup.send(map[string]any{"type": "mode", "call_id": callID, "mode": "shout"})
	if e := sup.expect("error"); e["code"] != CodeBadMessage {
		t.Errorf("unknown mode: %v", e)
	}
	sup.send(map[string]any{"type": "leave", "call_id": callID})
	sup.expect("ended")

	desk.send(map[string]any{"type": "hangup", "call_id": callID})
	desk.expect("ended")
	res := <-r.results
	if res.err != nil || res.digits != "1" || res.transfer.Outcome != activities.TransferBridged {
		t.Fatalf("flow saw %+v", res)
	}
	caller.expect("ended") // the flow hung up after the bridge

	r.mu.Lock()
	var actions []string
	for _, e := range r.journal {
		if e.CallID != callID || e.Actor != "sue" {
			t.Errorf("journal entry %+v", e)
		}
		actions = append(actions, e.Action)
	}
	r.mu.Unlock()
	if got := strings.Join(actions, ","); got != "listen,whisper,barge,leave" {
		t.Errorf("journal %s, want listen,whisper,barge,leave", got)
	}
}

// TestCallSocketBadInput: an offer with no common codec, a number nobody
// serves, a message that is not JSON and one over the size limit get clear
// errors; monitoring a call with no agent is not_found.
func TestCallSocketBadInput(t *testing.T) {
	leakCheck(t)
	r := newVoiceRig(t)

	p := r.open("/call?number=1000", 0)
	// Offer G.722 (static type 9) only.
	g722 := strings.NewReplacer("RTP/SAVPF 0 101", "RTP/SAVPF 9", "a=rtpmap:0 PCMU/8000", "a=rtpmap:9 G722/8000",
		"a=rtpmap:101 telephone-event/8000", "", "a=fmtp:101 0-15", "").Replace(p.offer())
	p.send(map[string]any{"type": "offer", "sdp": g722})
	if e := p.expect("error"); e["code"] != CodeNoCodec || !strings.Contains(e["message"].(string), "PCMU") {
		t.Errorf("G.722-only offer: %v", e)
	}

	p = r.open("/call?number=9999", 0)
	p.send(map[string]any{"type": "offer", "sdp": p.offer()})
	p.expect("answer")
	if e := p.expect("error"); e["code"] != CodeNotFound {
		t.Errorf("unbound number: %v", e)
	}

	p = r.open("/call?number=1000", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, []byte("hello?")); err != nil {
		t.Fatal(err)
	}
	if e := p.expect("error"); e["code"] != CodeBadMessage {
		t.Errorf("not JSON: %v", e)
	}
	p = r.open("/call?number=1000", 0)
	big := strings.Repeat("x", DefaultMaxMessage+1)
	_ = p.ws.Write(ctx, websocket.MessageText, []byte(`{"type":"offer","sdp":"`+big+`"}`))
	var m map[string]any
	if err := wsjson.Read(ctx, p.ws, &m); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("too large: %v %v, want the socket closed with 1009 (message too big)", m, err)
	}

	sup := r.open("/supervisor?name=sue", 0)
	sup.expect("hello")
	sup.send(map[string]any{"type": "monitor", "call_id": "nobody", "mode": "listen", "sdp": sup.offer()})
	if e := sup.expect("error"); e["code"] != CodeNotFound {
		t.Errorf("monitor a call with no bridge: %v", e)
	}
}

// leakCheck verifies, after every cleanup of t, that no goroutine started
// since is left.
func leakCheck(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}
