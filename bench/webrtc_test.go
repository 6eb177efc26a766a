package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/browser"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/webrtc"
	"github.com/voxflow/voxflow/media/webrtc/webrtctest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

// BenchmarkWebRTCCalls holds VOXFLOW_WEBRTC_STEPS calls at once on one
// media worker (a prompt streaming to the caller, the caller talking back)
// twice per step: browsers over WebRTC (DTLS-SRTP, PCMU; the browsers run
// in a child process, this test binary re-executed as TestWebRTCFarm, so
// their CPU is not the worker's), then SIPp over plain RTP (PCMA). Over a
// 5 s window it reports the worker process's CPU per call and calls per
// core for each. The worker, its signalling and the API socket run in this
// process; Temporal does not (each call's "flow" is a Go script playing
// the prompt), so the figures are the media path's.
//
//	go test -run XXX -bench WebRTCCalls -benchtime 1x ./bench/
func BenchmarkWebRTCCalls(b *testing.B) {
	sipptest.Need(b)
	quiet(b)
	rig := newMediaRig(b)
	for _, n := range envInts("VOXFLOW_WEBRTC_STEPS", 25, 50, 100) {
		web := rig.measure(b, n, func() func() { return rig.farm(b, n) })
		sip := rig.measure(b, n, func() func() { return rig.sipp(b, n) })
		b.Logf("%4d calls: WebRTC %.2f cores (%.2f ms CPU per call-second, %.0f calls/core); SIP G.711 %.2f cores (%.2f ms, %.0f calls/core)",
			n, web, web*1000/float64(n), float64(n)/web, sip, sip*1000/float64(n), float64(n)/sip)
		b.ReportMetric(float64(n)/web, fmt.Sprintf("webrtc-calls/core@%d", n))
		b.ReportMetric(float64(n)/sip, fmt.Sprintf("sip-calls/core@%d", n))
	}
}

func quiet(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	b.Cleanup(func() { slog.SetDefault(prev) })
}

// mediaRig is a media worker whose calls play a long prompt, with the
// browser signalling on an HTTP test server.
type mediaRig struct {
	w     *sipworker.Worker
	addr  string
	ws    string // ws://.../call
	tr    *webrtc.Transport
	calls sync.WaitGroup
	// scripts run a call to their number instead of the long prompt.
	scripts map[string]func(ctx context.Context, w *sipworker.Worker, call activities.CallStart)
}

// benchTone is a memoised TTS: every "prompt" is a 400 Hz tone.
type benchTone struct {
	mu   sync.Mutex
	memo map[int][]int16
}

func (t *benchTone) Synthesize(_ context.Context, text, _, _ string) ([]int16, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if pcm, ok := t.memo[len(text)]; ok {
		return pcm, nil
	}
	pcm := make([]int16, len(text)*8000*60/1000)
	for i := range pcm {
		pcm[i] = int16(6000 * math.Sin(2*math.Pi*400*float64(i)/8000))
	}
	t.memo[len(text)] = pcm
	return pcm, nil
}

type benchRoutes struct{}

func (benchRoutes) Route(_ context.Context, number string) (activities.Route, error) {
	return activities.Route{Flow: activities.FlowSource{Name: "bench-" + number, Version: 1}}, nil
}

func newMediaRig(b *testing.B) *mediaRig {
	r := &mediaRig{addr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b)), scripts: map[string]func(context.Context, *sipworker.Worker, activities.CallStart){}}
	var w *sipworker.Worker
	long := strings.Repeat("a", 10*60*1000/60) // 10 minutes of tone
	cfg := sipworker.Config{ID: "bench-webrtc", SIPAddr: r.addr, Routes: benchRoutes{}, TTS: &benchTone{memo: map[int][]int16{}},
		StartCall: func(_ context.Context, call activities.CallStart) error {
			r.calls.Add(1)
			go func() {
				defer r.calls.Done()
				if script := r.scripts[call.To]; script != nil {
					script(context.Background(), w, call)
					return
				}
				_ = w.Play(context.Background(), activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: long}}})
			}()
			return nil
		}}
	var err error
	if w, err = sipworker.Start(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	r.w = w
	tr := webTransportFor(b, true)
	r.tr = tr
	srv := browser.New(browser.Config{Transport: tr, Worker: w})
	mux := http.NewServeMux()
	mux.HandleFunc("/call", srv.ServeCall)
	hs := httptest.NewServer(mux)
	r.ws = "ws" + strings.TrimPrefix(hs.URL, "http") + "/call?number=1000"
	b.Cleanup(func() {
		hs.Close()
		srv.Close()
		_ = w.Close()
		r.calls.Wait()
	})
	return r
}

func webTransportFor(tb testing.TB, loopback bool) *webrtc.Transport {
	var codecs []webrtc.Codec
	for _, c := range sipworker.WebCodecs() {
		codecs = append(codecs, webrtc.Codec(c))
	}
	tr, err := webrtc.New(webrtc.Config{Codecs: codecs, Loopback: loopback})
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

// measure starts n calls with start, waits for them, and returns the cores
// this process used over a 5 s window; the calls end before it returns.
func (r *mediaRig) measure(b *testing.B, n int, start func() (stop func())) float64 {
	stop := start()
	deadline := time.Now().Add(60 * time.Second)
	for r.w.LiveCalls() < n {
		if time.Now().After(deadline) {
			stop()
			b.Fatalf("only %d of %d calls came up", r.w.LiveCalls(), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(5 * time.Second)
	cores := float64(cpuTime()-c0) / float64(time.Since(t0))
	stop()
	for deadline := time.Now().Add(30 * time.Second); r.w.LiveCalls() > 0 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	return cores
}

// farm runs n browsers in a child process; stop hangs them up.
func (r *mediaRig) farm(b *testing.B, n int) (stop func()) {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWebRTCFarm$")
	cmd.Env = append(os.Environ(), "VOXFLOW_WEBRTC_FARM="+r.ws, "VOXFLOW_WEBRTC_FARM_CALLS="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	}
}

// sipp holds n SIPp calls (uac_bench_held.xml) for about 27 s; stop
// waits for them to hang up.
func (r *mediaRig) sipp(b *testing.B, n int) (stop func()) {
	p := launchSIPp(b, sippSpec{addr: r.addr, scenario: "uac_bench_held.xml", service: "2000", timeout: 2 * time.Minute,
		args: []string{"-r", "50", "-m", strconv.Itoa(n), "-l", strconv.Itoa(n), "-d", "20000"}})
	return func() {
		if res := p.wait(); res.err != nil {
			b.Errorf("sipp: %v\n%s", res.err, tail(res.out, 2000))
		}
	}
}

// TestWebRTCFarm is the browsers' half of BenchmarkWebRTCCalls: it runs
// only when the benchmark starts it, and holds its calls until stdin closes.
func TestWebRTCFarm(t *testing.T) {
	url := os.Getenv("VOXFLOW_WEBRTC_FARM")
	if url == "" {
		t.Skip("the browsers' half of BenchmarkWebRTCCalls: started by it with VOXFLOW_WEBRTC_FARM")
	}
	n, _ := strconv.Atoi(os.Getenv("VOXFLOW_WEBRTC_FARM_CALLS"))
	var calls []*farmCall
	for range n {
		c, err := dialBrowser(url)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, c)
	}
	_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
	for _, c := range calls {
		c.close()
	}
}

// farmCall is one browser call over the signalling socket.
type farmCall struct {
	b  *webrtctest.Browser
	ws *websocket.Conn
}

// dialBrowser places a browser call through the call socket at url.
func dialBrowser(url string) (*farmCall, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := webrtctest.New(true)
	if err != nil {
		return nil, err
	}
	b.Tone(1000)
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	offer, err := b.Offer(false)
	if err == nil {
		err = wsjson.Write(ctx, ws, map[string]string{"type": "offer", "sdp": offer})
	}
	var ans struct{ Type, SDP, Message string }
	if err == nil {
		err = wsjson.Read(ctx, ws, &ans)
	}
	if err == nil && ans.Type != "answer" {
		err = fmt.Errorf("offer answered %s: %s", ans.Type, ans.Message)
	}
	if err == nil {
		err = b.Accept(ans.SDP)
	}
	if err != nil {
		_ = b.Close()
		_ = ws.CloseNow()
		return nil, err
	}
	return &farmCall{b: b, ws: ws}, nil
}

func (c *farmCall) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = wsjson.Write(ctx, c.ws, map[string]string{"type": "hangup"})
	_ = c.ws.CloseNow()
	_ = c.b.Close()
}

// BenchmarkBridgeMouthToEar measures the delay the worker adds between a
// SIP caller and an agent's browser: a second worker calls the worker under
// test (SIP, PCMA/PCMU RTP on loopback), which bridges the call to an
// agent's desktop (WebRTC, DTLS-SRTP); the caller then says 240 ms bursts
// of tone 600 ms apart, and the browser notes when each burst's first loud
// packet arrives. Mouth is when the caller's worker was asked to play it
// (its pacer sends the first frame at once); ear is that packet's arrival,
// before the browser's own playout buffer. It includes the caller's
// worker's pacing, loopback, the bridge's jitter buffer (60 ms) and queue,
// the pacer towards the browser, SRTP and pion.
//
//	go test -run XXX -bench BridgeMouthToEar -benchtime 1x ./bench/
func BenchmarkBridgeMouthToEar(b *testing.B) {
	quiet(b)
	rig := newMediaRig(b)
	desk := &benchDesk{tr: rig.tr, browsers: make(chan *webrtctest.Browser, 1)}
	defer rig.w.AttachAgentPhone("bench-agent", desk)()
	bridged := make(chan struct{})
	rig.scripts["3000"] = func(ctx context.Context, w *sipworker.Worker, call activities.CallStart) {
		defer close(bridged)
		_, _ = w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "agent:bench-agent", Mode: "bridge", Timeout: 10 * time.Second})
	}
	caller := startCaller(b)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := caller.Originate(ctx, activities.OriginateInput{CallID: "m2e", To: "sip:3000@" + rig.addr, Timeout: 10 * time.Second})
	if err != nil || res.Outcome != activities.OriginateAnswered {
		b.Fatalf("call the worker: %+v %v", res, err)
	}
	agent := <-desk.browsers
	defer agent.Close()
	time.Sleep(time.Second) // the bridge settles
	var delays []time.Duration
	for range envInt("VOXFLOW_M2E_BURSTS", 40) {
		time.Sleep(600 * time.Millisecond)
		mouth := time.Now()
		if err := caller.Play(ctx, activities.PlayInput{CallID: "m2e", Prompts: []activities.Prompt{{Text: "aaaa"}}}); err != nil {
			b.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if ear, ok := agent.LoudAfter(mouth, -35); ok {
			delays = append(delays, ear.Sub(mouth))
		}
	}
	_ = caller.Hangup(ctx, activities.HangupInput{CallID: "m2e"})
	<-bridged
	if len(delays) < 10 {
		b.Fatalf("the agent heard only %d bursts", len(delays))
	}
	b.Logf("mouth-to-ear SIP caller -> bridge -> browser agent over %d bursts: p50 %.1f ms, p99 %.1f ms, mean %.1f ms",
		len(delays), pctMS(delays, 0.5), pctMS(delays, 0.99), meanMS(delays))
	b.ReportMetric(pctMS(delays, 0.5), "m2e-p50-ms")
	b.ReportMetric(pctMS(delays, 0.99), "m2e-p99-ms")
}

// benchDesk answers every ring with a silent simulated browser.
type benchDesk struct {
	tr       *webrtc.Transport
	browsers chan *webrtctest.Browser
}

func (d *benchDesk) Ring(ctx context.Context, _ sipworker.AgentOffer) (sipworker.WebPeer, error) {
	b, err := webrtctest.New(true)
	if err != nil {
		return nil, err
	}
	offer, err := b.Offer(false)
	if err != nil {
		return nil, err
	}
	peer, ans, err := d.tr.Answer(ctx, offer)
	if err != nil {
		return nil, err
	}
	if err := b.Accept(ans); err != nil {
		return nil, err
	}
	d.browsers <- b
	return peer, nil
}

// startCaller starts a second worker that places the SIP call.
func startCaller(b *testing.B) *sipworker.Worker {
	w, err := sipworker.Start(context.Background(), sipworker.Config{
		ID: "bench-caller", SIPAddr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b)), Routes: benchRoutes{},
		TTS: &benchTone{memo: map[int][]int16{}}, StartCall: func(context.Context, activities.CallStart) error { return nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	return w
}

// chatBenchFlow answers every typed 1 with the menu again.
const chatBenchFlow = `name: chat-bench
entry: menu
settings:
  max_steps: 2000
nodes:
  menu:
    type: menu
    prompt: "Type 1 to hear this again."
    options:
      "1": menu
`

// BenchmarkChatTurn measures a web chat's turn on voxflow dev (embedded
// Temporal, engine, text channel, the chat socket): from the customer's
// message leaving the page's socket to the flow's reply arriving on it,
// over VOXFLOW_CHAT_TURNS turns of a menu that loops. Rendering the reply
// in a page adds one DOM append on top.
//
//	go test -run XXX -bench ChatTurn -benchtime 1x ./bench/
func BenchmarkChatTurn(b *testing.B) {
	quiet(b)
	url := startDevForChat(b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.CloseNow()
	if err := wsjson.Write(ctx, ws, map[string]string{"type": "start"}); err != nil {
		b.Fatal(err)
	}
	next := func(kind string) {
		for {
			var m struct{ Type, From, Message string }
			if err := wsjson.Read(ctx, ws, &m); err != nil {
				b.Fatalf("waiting for %s: %v", kind, err)
			}
			if m.Type == "error" {
				b.Fatalf("chat error: %s", m.Message)
			}
			if m.Type == kind && (kind != "message" || m.From == "flow") {
				return
			}
		}
	}
	next("listen")
	var turns []time.Duration
	for range envInt("VOXFLOW_CHAT_TURNS", 100) {
		t0 := time.Now()
		if err := wsjson.Write(ctx, ws, map[string]string{"type": "message", "text": "1"}); err != nil {
			b.Fatal(err)
		}
		next("message")
		turns = append(turns, time.Since(t0))
		next("listen")
	}
	b.Logf("chat turn (message sent -> the flow's reply received) over %d turns: p50 %.1f ms, p99 %.1f ms, mean %.1f ms",
		len(turns), pctMS(turns, 0.5), pctMS(turns, 0.99), meanMS(turns))
	b.ReportMetric(pctMS(turns, 0.5), "turn-p50-ms")
	b.ReportMetric(pctMS(turns, 0.99), "turn-p99-ms")
}

// startDevForChat starts voxflow dev with the chat-bench flow on number
// 7000 and returns the chat socket's URL.
func startDevForChat(b *testing.B) string {
	freeTCP := func() (string, int) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
	}
	httpAddr, _ := freeTCP()
	_, tport := freeTCP()
	cfg := config.Defaults()
	cfg.Dev.DataDir, cfg.Dev.TemporalPort, cfg.Dev.HTTPAddr = b.TempDir(), tport, httpAddr
	cfg.Media.SIPAddr = "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b))
	ctx := context.Background()
	dev, err := devstack.StartDev(ctx, cfg, devstack.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(dev.Stop)
	if _, err := dev.Store.PublishSource(ctx, "chat-bench", chatBenchFlow, "bench", ""); err != nil {
		b.Fatal(err)
	}
	if err := dev.Store.BindNumber(ctx, "7000", "chat-bench"); err != nil {
		b.Fatal(err)
	}
	return "ws://" + httpAddr + "/api/v1/ws/chat?number=7000"
}
