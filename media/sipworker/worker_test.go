package sipworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/dtmf"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/wav"
)

// toneTTS "speaks" a 400 Hz tone, 60 ms a character: prompts have a
// realistic length without espeak-ng.
type toneTTS struct{}

func (toneTTS) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	n := len(text) * sampleRate * 60 / 1000
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*400*float64(i)/sampleRate))
	}
	return out, nil
}

// fakeRoutes serves flows by number; flows named "early..." ask for early
// media. A number in delay answers that late (a slow store).
type fakeRoutes struct {
	flows map[string]string
	delay map[string]time.Duration
}

func (f fakeRoutes) Route(ctx context.Context, number string) (activities.Route, error) {
	if d := f.delay[number]; d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return activities.Route{}, ctx.Err()
		}
	}
	flow, ok := f.flows[number]
	if !ok {
		return activities.Route{}, fmt.Errorf("flow for number %q: %w", number, activities.ErrNoRoute)
	}
	src := activities.FlowSource{Name: flow, Version: 1, Source: "name: " + flow}
	return activities.Route{Flow: src, EarlyMedia: strings.HasPrefix(flow, "early")}, nil
}

// rig is a worker whose calls run a Go script instead of a workflow.
type rig struct {
	t      *testing.T
	w      *Worker
	addr   string
	script func(ctx context.Context, w *Worker, call activities.CallStart)

	mu      sync.Mutex
	started []activities.CallStart
	hangups []string
	// scripts counts running scripts. Not a WaitGroup: a call's script
	// may start (its workflow launch runs in the background) while
	// waitIdle waits, which a WaitGroup forbids.
	scripts int
}

func newRig(t *testing.T, script func(ctx context.Context, w *Worker, call activities.CallStart), opts ...func(*Config)) *rig {
	t.Helper()
	port := sipptest.FreePort(t)
	r := &rig{t: t, addr: "127.0.0.1:" + strconv.Itoa(port), script: script}
	level := slog.LevelWarn
	if os.Getenv("SIPWORKER_DEBUG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	cfg := Config{
		ID: "test", SIPAddr: r.addr,
		Routes: fakeRoutes{
			flows: map[string]string{"1000": "menu", "5000": "slow"},
			delay: map[string]time.Duration{"5000": 1500 * time.Millisecond},
		},
		TTS: toneTTS{}, RecordDir: t.TempDir(), Logger: log,
		StartCall: func(ctx context.Context, call activities.CallStart) error {
			r.mu.Lock()
			r.started = append(r.started, call)
			r.scripts++
			r.mu.Unlock()
			go func() {
				defer func() {
					r.mu.Lock()
					r.scripts--
					r.mu.Unlock()
				}()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				r.mu.Lock()
				w := r.w
				r.mu.Unlock()
				r.script(ctx, w, call)
			}()
			return nil
		},
		SignalHangup: func(ctx context.Context, callID string) error {
			r.mu.Lock()
			r.hangups = append(r.hangups, callID)
			r.mu.Unlock()
			return nil
		},
	}
	for _, o := range opts {
		o(&cfg)
	}
	w, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.w = w
	r.mu.Unlock()
	t.Cleanup(func() {
		r.waitScripts()
		w.Close()
	})
	return r
}

func (r *rig) sipp(scenario, service string) sipptest.Result {
	r.t.Helper()
	return sipptest.Run(r.t, sipptest.Call{Scenario: sipptest.Scenario(r.t, scenario), Target: r.addr, Service: service, Timeout: 20 * time.Second})
}

func (r *rig) waitIdle() {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.w.LiveCalls() > 0 || r.w.inflight.Load() > 0 || r.w.launching.Load() > 0 {
		if time.Now().After(deadline) {
			r.t.Fatalf("calls still live: %d (in flight %d, launching %d)", r.w.LiveCalls(), r.w.inflight.Load(), r.w.launching.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.waitScripts()
}

// waitScripts waits until no script runs.
func (r *rig) waitScripts() {
	for {
		r.mu.Lock()
		n := r.scripts
		r.mu.Unlock()
		if n == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func mustPass(t *testing.T, res sipptest.Result) {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
}

func TestInboundMenuDTMF2833(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for _, node := range []string{"main_menu", "sub_menu"} {
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, NodeID: node,
				Prompts: []activities.Prompt{{Text: "For sales press 1. For support press 2. For anything else stay on the line."}},
				BargeIn: true, MinDigits: 1, MaxDigits: 1, Timeout: 6 * time.Second})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
		}
		if err := w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Goodbye."}}}); err != nil {
			got <- "hangup error: " + err.Error()
		}
	})
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	for _, want := range []string{"dtmf:1", "dtmf:2"} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("collect = %s, want %s", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no collect result, want %s", want)
		}
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.started) != 1 {
		t.Fatalf("started %d calls", len(r.started))
	}
	c := r.started[0]
	if c.From != "+15550100" || c.To != "1000" || c.Channel != "sip" || c.Flow.Name != "menu" || c.MediaQueue != "media-test" {
		t.Errorf("call start = %+v", c)
	}
	// A callback after a worker failure reaches the phone that called:
	// the From URI without its tag.
	if !strings.HasPrefix(c.CallbackTo, "sip:+15550100@127.0.0.1:") || strings.Contains(c.CallbackTo, "tag") {
		t.Errorf("callback to %q, want the caller's From URI", c.CallbackTo)
	}
	if c.Headers["X-Campaign"] != "sipp-test" {
		t.Errorf("headers = %v", c.Headers)
	}
	if len(r.hangups) != 0 {
		t.Errorf("flow hung up, yet hangup signalled: %v", r.hangups)
	}
}

func TestCallerHangupMidPrompt(t *testing.T) {
	result := make(chan error, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		long := strings.Repeat("This prompt goes on and on. ", 10)
		start := time.Now()
		err := w.Play(ctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: long}}})
		if err == nil {
			err = fmt.Errorf("play finished after %v", time.Since(start))
		}
		result <- err
	})
	mustPass(t, r.sipp("uac_hangup_midprompt.xml", "1000"))
	select {
	case err := <-result:
		if !activities.IsCallGone(err) {
			t.Fatalf("play = %v, want CallGone", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("play did not stop on hangup")
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.started) != 1 || len(r.hangups) != 1 || r.hangups[0] != r.started[0].CallID {
		t.Fatalf("started %v, hangups %v", r.started, r.hangups)
	}
}

// A media activity of a newer workflow run supersedes one of an older run
// still running on the call: after an operator resets a call, the old
// run's activity is never cancelled through the server (media activities
// do not heartbeat), so the worker ends it itself. (Activities of one run
// may run side by side: see the bridge tests.)
func TestNewerRunSupersedes(t *testing.T) {
	result := make(chan error, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		long := strings.Repeat("This prompt goes on and on. ", 10)
		older := make(chan error, 1)
		go func() {
			octx := context.WithValue(ctx, runKey{}, "run-1")
			older <- w.Play(octx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: long}}})
		}()
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		go func() {
			nctx := context.WithValue(ctx, runKey{}, "run-2")
			_ = w.Play(nctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Hi."}}})
		}()
		select {
		case err := <-older:
			switch {
			case err == nil:
				result <- errors.New("the older play finished as if nothing happened")
			case time.Since(start) > 500*time.Millisecond:
				result <- fmt.Errorf("the older play ended %v after the newer one started", time.Since(start))
			default:
				result <- nil
			}
		case <-time.After(5 * time.Second):
			result <- errors.New("the older play kept running")
		}
	})
	mustPass(t, r.sipp("uac_hangup_midprompt.xml", "1000")) // the caller hangs up after 1.5 s
	select {
	case err := <-result:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no result")
	}
	r.waitIdle()
}

func TestCancelBeforeAnswer(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {})
	mustPass(t, r.sipp("uac_cancel.xml", "5000"))
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.started) != 0 || len(r.hangups) != 0 {
		t.Fatalf("cancelled call started %v, hangups %v", r.started, r.hangups)
	}
}

func TestRejects(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	for _, tc := range []struct{ scenario, service string }{
		{"uac_no_contact.xml", "1000"},
		{"uac_bad_sdp.xml", "1000"},
		{"uac_unknown_codecs.xml", "1000"},
		{"uac_unbound_number.xml", "4040"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			mustPass(t, r.sipp(tc.scenario, tc.service))
		})
	}
	// Raw requests SIPp cannot send: headers it needs itself are missing.
	for _, tc := range []struct {
		name, drop string
		want       int
	}{
		{"no From", "From", 400},
		{"no To", "To", 400},
		{"no Call-ID", "Call-ID", 400},
		{"no CSeq", "CSeq", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := rawInvite(t, r.addr, tc.drop)
			if code != tc.want {
				t.Fatalf("INVITE without %s answered %d, want %d", tc.drop, code, tc.want)
			}
		})
	}
	r.waitIdle()
	if len(r.started) != 0 {
		t.Fatalf("rejected INVITEs started calls: %v", r.started)
	}
	// Still serving: OPTIONS and a real call.
	if code := rawRequest(t, r.addr, optionsRequest(r.addr)); code != 200 {
		t.Fatalf("OPTIONS = %d", code)
	}
}

// rawInvite sends an INVITE lacking one header over UDP and returns the
// response code (0: no response).
func rawInvite(t *testing.T, addr, drop string) int {
	t.Helper()
	lines := []string{
		"INVITE sip:1000@" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:%PORT%;branch=z9hG4bK-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"From: <sip:raw@127.0.0.1>;tag=raw1",
		"To: <sip:1000@" + addr + ">",
		"Call-ID: raw-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"CSeq: 1 INVITE",
		"Contact: <sip:raw@127.0.0.1:%PORT%>",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}
	var kept []string
	for _, l := range lines {
		if strings.HasPrefix(l, drop+":") {
			continue
		}
		kept = append(kept, l)
	}
	return rawRequest(t, addr, strings.Join(kept, "\r\n")+"\r\n\r\n")
}

func optionsRequest(addr string) string {
	return strings.Join([]string{
		"OPTIONS sip:" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:%PORT%;branch=z9hG4bK-opt" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"From: <sip:probe@127.0.0.1>;tag=probe",
		"To: <sip:" + addr + ">",
		"Call-ID: probe-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"CSeq: 1 OPTIONS",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}, "\r\n") + "\r\n\r\n"
}

func rawRequest(t *testing.T, addr, msg string) int {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port)
	msg = strings.ReplaceAll(msg, "%PORT%", port)
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for range 3 {
		if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				break
			}
			var code int
			if _, err := fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code); err == nil && code >= 200 {
				return code
			}
		}
	}
	return 0
}

func TestDrainAndLeaks(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 5 * time.Second})
		_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 5 * time.Second})
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	// Warm up once so lazily started goroutines do not count as leaks.
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	r.waitIdle()
	time.Sleep(200 * time.Millisecond)
	before := runtime.NumGoroutine()
	for range 3 {
		mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	}
	r.waitIdle()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines %d after calls, %d before\n%s", runtime.NumGoroutine(), before, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Drain: a live call holds it; new calls and probes get 503.
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_2833.xml"), Target: r.addr, Service: "1000", Timeout: 20 * time.Second})
	deadline = time.Now().Add(10 * time.Second)
	for r.w.LiveCalls() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	drained := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		drained <- r.w.Drain(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	if code := rawRequest(t, r.addr, optionsRequest(r.addr)); code != 503 {
		t.Errorf("OPTIONS while draining = %d, want 503", code)
	}
	if code := rawInvite(t, r.addr, "X-None"); code != 503 {
		t.Errorf("INVITE while draining = %d, want 503", code)
	}
	select {
	case err := <-drained:
		t.Fatalf("drain returned %v with a call live", err)
	default:
	}
	mustPass(t, wait())
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
}

func TestInboundMenuSIPInfo(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 {
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
				Prompts: []activities.Prompt{{Text: "Press a key."}}, BargeIn: true, MaxDigits: 1, Timeout: 6 * time.Second})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	mustPass(t, r.sipp("uac_dtmf_info.xml", "1000"))
	for _, want := range []string{"dtmf:1", "dtmf:2"} {
		if g := <-got; g != want {
			t.Fatalf("collect = %s, want %s", g, want)
		}
	}
	r.waitIdle()
}

func TestRecordCallerAudio(t *testing.T) {
	result := make(chan activities.RecordResult, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Record(ctx, activities.RecordInput{CallID: call.CallID, NodeID: "voice mail",
			Prompts: []activities.Prompt{{Text: "Leave a message."}}, Beep: true, MaxDuration: 3 * time.Second})
		if err != nil {
			t.Errorf("record: %v", err)
		}
		result <- res
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	mustPass(t, r.sipp("uac_record.xml", "1000"))
	res := <-result
	r.waitIdle()
	if res.Duration < 2500*time.Millisecond || res.Duration > 3500*time.Millisecond {
		t.Errorf("duration = %v, want ~3s", res.Duration)
	}
	path := strings.TrimPrefix(res.Ref, "file://")
	if !strings.HasPrefix(res.Ref, "file://") || !strings.Contains(path, "voice_mail") {
		t.Fatalf("ref = %q", res.Ref)
	}
	pcm, err := wav.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if lvl := audio.LevelDBFS(pcm); lvl < -45 {
		t.Errorf("recording level %.1f dBFS: the caller's audio did not make it", lvl)
	}
}

func TestBlindTransfer(t *testing.T) {
	result := make(chan error, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "sip:agent@127.0.0.1:5999", Mode: "blind", Timeout: 5 * time.Second})
		if err == nil && (!res.Left || res.Outcome != records.OutcomeTransferred) {
			err = fmt.Errorf("result %+v", res)
		}
		result <- err
	})
	mustPass(t, r.sipp("uac_refer.xml", "1000"))
	if err := <-result; err != nil {
		t.Fatal(err)
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.hangups) != 0 {
		t.Errorf("transferred call signalled a hangup")
	}
}

func TestTransferBadInput(t *testing.T) {
	result := make(chan error, 2)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "mailto:x@y", Mode: "blind"})
		result <- err
		_, err = w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "tel:+15550100", Mode: "bridge"})
		result <- err
		// Let SIPp press its keys before the BYE it waits for.
		for range 2 {
			_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	if err := <-result; !activities.IsBadInput(err) {
		t.Errorf("mailto transfer = %v, want BadInput", err)
	}
	if err := <-result; !activities.IsBadInput(err) {
		t.Errorf("bridge transfer to a tel: URI = %v, want BadInput", err)
	}
	r.waitIdle()
}

func TestActivitiesOnGoneCall(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {})
	ctx := context.Background()
	if err := r.w.Play(ctx, activities.PlayInput{CallID: "nope"}); !activities.IsCallGone(err) {
		t.Errorf("play = %v", err)
	}
	if _, err := r.w.Collect(ctx, activities.CollectInput{CallID: "nope"}); !activities.IsCallGone(err) {
		t.Errorf("collect = %v", err)
	}
	if _, err := r.w.Record(ctx, activities.RecordInput{CallID: "nope"}); !activities.IsCallGone(err) {
		t.Errorf("record = %v", err)
	}
	if _, err := r.w.Transfer(ctx, activities.TransferInput{CallID: "nope"}); !activities.IsCallGone(err) {
		t.Errorf("transfer = %v", err)
	}
	if err := r.w.Hangup(ctx, activities.HangupInput{CallID: "nope"}); err != nil {
		t.Errorf("hangup = %v", err)
	}
}

// inbandPcap is PCMU RTP with the keys as DTMF tones, 600 ms apart.
func inbandPcap(keys string) []byte {
	var pcm []int16
	pcm = append(pcm, make([]int16, 300*8)...)
	for _, k := range keys {
		pcm = append(pcm, dtmf.Generate(k, 120, -12, 0, 0)...)
		pcm = append(pcm, make([]int16, 600*8)...)
	}
	var pkts [][]byte
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		payload := make([]byte, frameSamples)
		g711.EncodeULaw(payload, pcm[i:i+frameSamples])
		pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(100 + i/frameSamples),
			Timestamp: uint32(8000 + i), SSRC: 0x1234, Marker: i == 0}, Payload: payload}
		b, _ := pkt.Marshal()
		pkts = append(pkts, b)
	}
	return sipptest.RTPPcap(pkts, frameDur)
}

func TestInboundMenuInbandDTMF(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 {
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
				Prompts: []activities.Prompt{{Text: "Press a key."}}, BargeIn: true, MaxDigits: 1, Timeout: 6 * time.Second})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	mustPass(t, sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_inband.xml"), Target: r.addr, Service: "1000",
		Timeout: 20 * time.Second, Files: map[string][]byte{"dtmf_inband.pcap": inbandPcap("12")}}))
	for _, want := range []string{"dtmf:1", "dtmf:2"} {
		if g := <-got; g != want {
			t.Fatalf("collect = %s, want %s", g, want)
		}
	}
	r.waitIdle()
}

func TestBaresipMenu(t *testing.T) {
	listening := make(chan struct{}, 4)
	got := make(chan string, 4)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 {
			listening <- struct{}{}
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
				Prompts: []activities.Prompt{{Text: "Press a key."}}, BargeIn: true, MaxDigits: 1, Timeout: 8 * time.Second})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Bye."}}})
	})
	b := sipptest.StartBaresip(t)
	b.Command("/dial sip:1000@" + r.addr)
	for _, key := range []string{"1", "2"} {
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			t.Fatalf("call not answered:\n%s", b.Output())
		}
		b.Command("/sndcode " + key)
		select {
		case g := <-got:
			if g != "dtmf:"+key {
				t.Fatalf("collect = %s, want dtmf:%s\n%s", g, key, b.Output())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no key %s:\n%s", key, b.Output())
		}
	}
	r.waitIdle()
	if !b.WaitOutput("session closed", 5*time.Second) {
		t.Errorf("baresip did not see the hangup:\n%s", b.Output())
	}
}

func TestTCPAndCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 {
			_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	mustPass(t, sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_2833.xml"), Target: r.addr, Service: "1000", TCP: true, Timeout: 20 * time.Second}))
	r.waitIdle()
	if err := r.w.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+1 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d after Close, %d before Start\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
