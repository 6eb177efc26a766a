package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/bench/echo"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/g711"
	vrtp "github.com/voxflow/voxflow/media/rtp"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

// BenchmarkSIP puts SIP load on loopback on two servers in the same process
// and the same run, and reports each figure for both and their ratio:
//
//   - vf: the voxflow stack: a SIP media worker (media/sipworker) on the tuned
//     in-process Temporal server (devtemporaltest), with the engine and
//     shared activity workers and a SQLite store, as `voxflow dev` wires it.
//     Prompts are tones (promptTTS: no espeak-ng in the path).
//   - echo: bench/echo, a bare sipgo UAS with the same RTP code (media/rtp
//     Pacer and EventReceiver, G.711) playing the same tones in a hard-coded
//     copy of each flow: no Temporal, no engine, no store.
//
// Sub-benchmarks (op = one whole measurement; use -benchtime 1x):
//
//   - rate/<n>cps: SIPp places n calls/s for sipRateSecs seconds (n in
//     sipRates: 10 and 25; bench/sipp/uac_bench_rate.xml); every call runs a 3-node flow with
//     media: play "welcome" -> menu (key 1 as RFC 4733 from SIPp's stock
//     pcap, sent while the menu prompt plays) -> hangup "goodbye" (the server
//     sends BYE). Reports cps (answered calls/s over the run, from the
//     server's answer times), ok/failed (SIPp), call-ms (SIPp's mean call
//     length), setup-ms (mean INVITE -> 200), cpu-ms/call (process CPU net of
//     the idle rate measured just before).
//   - held: sipHeld calls up at once (SIPp's held scenario playing
//     g711a.pcap, plus sipProbes Go probe calls), each server playing a long
//     prompt; over a sipWindow window: cpu-ms/call-s (process CPU ms per
//     second of one call, net of idle) and the send-interval jitter of the
//     server's RTP as the probes received it (kernel receive timestamps,
//     SO_TIMESTAMPNS, so the probe's own scheduling does not count):
//     jit-p50-ms / jit-p99-ms / jit-max-ms of |interval - 20 ms| between
//     consecutive packets of a talkspurt, and rx-gaps (sequence gaps).
//   - dtmf: one probe call on a two-menu loop; sipTurns times the probe sends
//     key 1 (RFC 4733 via media/rtp's Pacer) 200 ms into a menu prompt and
//     times from its first event packet to the first RTP packet of the other
//     menu's prompt (recognised by its first frame): p50-ms / p99-ms.
//   - mem: sipHeld SIPp held calls up; heap-kb/call = (HeapInuse with the
//     calls up - HeapInuse before) / calls, both after runtime.GC, and
//     goroutines/call.
//
// Everything runs in one process, so CPU and heap figures of vf include the
// Temporal server, engine, store and SIP worker; the probes' own CPU (a few
// calls) is in both. Figures in bench/README.md ("SIP load") come from:
//
//	go test -c -o /tmp/bench.test ./bench
//	cd bench && /tmp/bench.test -test.run XXX -test.bench SIP -test.benchtime 1x
func BenchmarkSIP(b *testing.B) {
	sipptest.Need(b)
	// diago's media code logs through slog.Default ("bad sequence" when
	// SIPp's pcap loop restarts): keep the output to errors.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	b.Cleanup(func() { slog.SetDefault(prev) })
	e := newSIPEnv(b)
	for _, rate := range sipRates {
		b.Run(fmt.Sprintf("rate/%dcps", rate), func(b *testing.B) { e.benchRate(b, rate, rate*sipRateSecs) })
	}
	b.Run("held", e.benchHeld)
	b.Run("dtmf", e.benchDTMF)
	b.Run("mem", e.benchMem)
}

// Load sizes; environment variables override them (VOXFLOW_SIP_RATE etc.).
var (
	sipRates    = envInts("VOXFLOW_SIP_RATES", 10, 25) // calls/s offered, one rate/<n>cps each
	sipRateSecs = envInt("VOXFLOW_SIP_RATE_SECS", 10)  // seconds of calls placed at each rate
	sipHeld     = envInt("VOXFLOW_SIP_HELD", 30)       // concurrent calls in held and mem
	sipProbes   = envInt("VOXFLOW_SIP_PROBES", 4)      // of which Go probe calls (held)
	sipTurns    = envInt("VOXFLOW_SIP_TURNS", 30)      // menu turns in dtmf
	sipWindow   = 5 * time.Second                      // held measurement window
)

func envInts(name string, def ...int) []int {
	var out []int
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if v, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && v > 0 {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// Dialled numbers, the same on both servers.
const (
	numRate = "1000" // bench-rate: play -> menu -> hangup
	numHeld = "2000" // bench-held: a long prompt
	numDTMF = "3000" // bench-dtmf: menu a <-> menu b
)

// The prompts: each text is a tone of its own frequency and length.
var benchPrompts = map[string][]int16{
	"welcome": echo.Tone(400, 400*time.Millisecond),
	"menu":    echo.Tone(500, 2*time.Second),
	"goodbye": echo.Tone(600, 400*time.Millisecond),
	"long":    echo.Tone(450, 60*time.Second),
	"menu a":  echo.Tone(700, 1500*time.Millisecond),
	"menu b":  echo.Tone(800, 1500*time.Millisecond),
}

var otherPrompt = echo.Tone(300, 300*time.Millisecond) // any other text (retry prompts)

// promptTTS renders prompts from a map (a look-up: the TTS costs nothing);
// any other text is otherPrompt.
type promptTTS map[string][]int16

func (t promptTTS) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	if p, ok := t[text]; ok {
		return p, nil
	}
	return otherPrompt, nil
}

const benchRateFlow = `name: bench-rate
entry: welcome
settings:
  input_timeout: 10s
nodes:
  welcome:
    type: play
    say: "welcome"
    next: main_menu
  main_menu:
    type: menu
    prompt: "menu"
    options:
      "1": { next: goodbye }
    on_failure: goodbye
  goodbye:
    type: hangup
    say: "goodbye"
`

const benchHeldFlow = `name: bench-held
entry: talk
nodes:
  talk:
    type: play
    say: "long"
    next: bye
  bye:
    type: hangup
    say: "goodbye"
`

const benchDTMFFlow = `name: bench-dtmf
entry: menu_a
settings:
  input_timeout: 10s
  max_steps: 1000
nodes:
  menu_a:
    type: menu
    prompt: "menu a"
    options:
      "1": { next: menu_b }
      "2": { next: goodbye }
    on_failure: goodbye
  menu_b:
    type: menu
    prompt: "menu b"
    options:
      "1": { next: menu_a }
      "2": { next: goodbye }
    on_failure: goodbye
  goodbye:
    type: hangup
    say: "goodbye"
`

// echoFlows are the same three flows for the echo server.
func echoFlows() map[string]echo.Flow {
	p := benchPrompts
	bye := echo.Node{Prompt: p["goodbye"]}
	return map[string]echo.Flow{
		numRate: {Entry: "welcome", Nodes: map[string]echo.Node{
			"welcome":   {Prompt: p["welcome"], Next: "main_menu"},
			"main_menu": {Prompt: p["menu"], Options: map[rune]string{'1': "goodbye"}, OnFailure: "goodbye", Timeout: 10 * time.Second},
			"goodbye":   bye,
		}},
		numHeld: {Entry: "talk", Nodes: map[string]echo.Node{
			"talk": {Prompt: p["long"], Next: "bye"},
			"bye":  bye,
		}},
		numDTMF: {Entry: "menu_a", Nodes: map[string]echo.Node{
			"menu_a":  {Prompt: p["menu a"], Options: map[rune]string{'1': "menu_b", '2': "goodbye"}, OnFailure: "goodbye", Timeout: 10 * time.Second},
			"menu_b":  {Prompt: p["menu b"], Options: map[rune]string{'1': "menu_a", '2': "goodbye"}, OnFailure: "goodbye", Timeout: 10 * time.Second},
			"goodbye": bye,
		}},
	}
}

// sipTarget is one server under test.
type sipTarget struct {
	name    string // metric prefix: "vf" or "echo"
	addr    string // SIP host:port
	live    func() int
	answers answerLog
	// settled waits until the calls of a run are fully done (CDRs saved).
	settled func(answered int)
}

// answerLog records when calls were answered.
type answerLog struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *answerLog) add() {
	a.mu.Lock()
	a.times = append(a.times, time.Now())
	a.mu.Unlock()
}

func (a *answerLog) take() []time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	t := a.times
	a.times = nil
	return t
}

type sipEnv struct {
	vf, echo *sipTarget
	probe    *probeUA
	cdrs     atomic.Int64
}

// countCDRs counts saved call records.
type countCDRs struct {
	st *store.Store
	n  *atomic.Int64
}

func (c countCDRs) SaveCDR(ctx context.Context, rec records.CDR) error {
	err := c.st.SaveCDR(ctx, rec)
	if err == nil {
		c.n.Add(1)
	}
	return err
}

func newSIPEnv(b *testing.B) *sipEnv {
	e := &sipEnv{}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	e.echo = startEchoTarget(b, echoFlows(), logger)
	e.vf = startVFTarget(b, vfTargetConfig{
		flows:   map[string]string{numRate: benchRateFlow, numHeld: benchHeldFlow, numDTMF: benchDTMFFlow},
		prompts: promptTTS(benchPrompts), cdrs: &e.cdrs, logger: logger,
	})
	e.probe = newProbeUA(b)
	time.Sleep(2 * time.Second) // let the server settle before any idle measurement
	return e
}

// startEchoTarget starts bench/echo serving flows (by dialled number) on a
// free loopback port; it stops when tb ends.
func startEchoTarget(tb testing.TB, flows map[string]echo.Flow, logger *slog.Logger) *sipTarget {
	t := &sipTarget{name: "echo", addr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(tb))}
	es, err := echo.Start(echo.Config{Addr: t.addr, Flows: flows, OnAnswer: t.answers.add, Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { es.Close() })
	t.live = es.LiveCalls
	t.settled = func(int) { waitUntil(10*time.Second, func() bool { return es.LiveCalls() == 0 }) }
	return t
}

// vfTargetConfig is what the voxflow stack serves.
type vfTargetConfig struct {
	flows   map[string]string // flow source by dialled number
	prompts promptTTS
	cdrs    *atomic.Int64 // counts saved CDRs when set
	logger  *slog.Logger
}

// startVFTarget starts the voxflow stack as `voxflow dev` wires it: the
// tuned in-process Temporal server, a SQLite store with cfg.flows published
// and bound, engine and shared workers, and a SIP media worker on a free
// loopback port. Everything stops when tb ends.
func startVFTarget(tb testing.TB, cfg vfTargetConfig) *sipTarget {
	ctx := context.Background()
	_, c := devtemporaltest.NewServer(tb)
	st, err := store.Open(ctx, filepath.Join(tb.TempDir(), "voxflow.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	for num, src := range cfg.flows {
		name := strings.TrimPrefix(strings.SplitN(src, "\n", 2)[0], "name: ")
		if _, err := st.PublishSource(ctx, name, src, "bench", ""); err != nil {
			tb.Fatalf("publish %s: %v", name, err)
		}
		if err := st.BindNumber(ctx, num, name); err != nil {
			tb.Fatal(err)
		}
	}
	acts := platform.SharedActivities(st)
	if cfg.cdrs != nil {
		acts.CDRs = countCDRs{st, cfg.cdrs}
	}
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: acts})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ws.Stop)
	t := &sipTarget{name: "vf", addr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(tb))}
	start := platform.CallStarter(c)
	w, err := sipworker.Start(ctx, sipworker.Config{
		ID: "bench-sip", SIPAddr: t.addr, Routes: &platform.StoreRoutes{Store: st},
		StartCall: func(ctx context.Context, cs activities.CallStart) error {
			t.answers.add()
			return start(ctx, cs)
		},
		SignalHangup: platform.HangupSignaler(c),
		TTS:          cfg.prompts, RecordDir: tb.TempDir(), Logger: cfg.logger,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.Close() })
	mws, err := platform.StartWorkers(c, platform.Parts{Channels: []activities.Channel{w}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(mws.Stop)
	t.live = w.LiveCalls
	t.settled = func(int) { waitUntil(15*time.Second, func() bool { return w.LiveCalls() == 0 }) }
	return t
}

func waitUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// idleRate is the process's CPU seconds per second over d with no calls,
// after a second for the previous run's tail (the server's background tasks
// of the calls just ended) to pass.
func idleRate(d time.Duration) float64 {
	time.Sleep(time.Second)
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(d)
	return float64(cpuTime()-c0) / float64(time.Since(t0))
}

// --- rate ---

type rateResult struct {
	cps, ok, failed, callMS, setupMS, cpuMS float64
}

func (e *sipEnv) benchRate(b *testing.B, rate, calls int) {
	res := map[string]rateResult{}
	for _, t := range []*sipTarget{e.echo, e.vf} {
		r := e.runRate(b, t, rate, calls)
		res[t.name] = r
		b.ReportMetric(r.cps, t.name+"-cps")
		b.ReportMetric(r.ok, t.name+"-ok")
		b.ReportMetric(r.failed, t.name+"-failed")
		b.ReportMetric(r.callMS, t.name+"-call-ms")
		b.ReportMetric(r.setupMS, t.name+"-setup-ms")
		b.ReportMetric(r.cpuMS, t.name+"-cpu-ms/call")
	}
	v, x := res["vf"], res["echo"]
	b.ReportMetric(ratio(v.cps, x.cps), "x-cps")
	b.ReportMetric(ratio(v.callMS, x.callMS), "x-call-ms")
	b.ReportMetric(ratio(v.cpuMS, x.cpuMS), "x-cpu/call")
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func (e *sipEnv) runRate(b *testing.B, t *sipTarget, rate, calls int) rateResult {
	idle := idleRate(2 * time.Second)
	t.answers.take()
	cdr0 := e.cdrs.Load()
	c0, t0 := cpuTime(), time.Now()
	s := runSIPp(b, t.addr, "uac_bench_rate.xml", numRate, time.Duration(calls/rate+40)*time.Second,
		"-r", strconv.Itoa(rate), "-rp", "1000", "-m", strconv.Itoa(calls), "-l", "1000")
	answered := t.answers.take()
	if t == e.vf {
		// The calls' workflows end after the BYE: wait for their CDRs.
		waitUntil(20*time.Second, func() bool { return e.cdrs.Load()-cdr0 >= int64(len(answered)) })
	}
	t.settled(len(answered))
	c1, t1 := cpuTime(), time.Now()
	if s.err != nil {
		b.Logf("%s: %v\n%s", t.name, s.err, tail(s.out, 3000))
	}
	r := rateResult{ok: s.ok, failed: s.failed, callMS: s.callMS, setupMS: s.setupMS}
	if n := len(answered); n > 1 {
		r.cps = float64(n-1) / answered[n-1].Sub(answered[0]).Seconds()
	}
	if n := len(answered); n > 0 {
		net := float64(c1-c0) - idle*float64(t1.Sub(t0))
		r.cpuMS = net / float64(n) / float64(time.Millisecond)
	}
	b.Logf("%s rate: offered %d/s x %d, answered %d, %+v, idle %.3f cores, cdrs %d", t.name, rate, calls, len(answered), r, idle, e.cdrs.Load()-cdr0)
	return r
}

// --- held ---

type heldResult struct {
	cpuPerCallS, jitP50, jitP99, jitMax, gaps, live, pkts float64
}

func (e *sipEnv) benchHeld(b *testing.B) {
	res := map[string]heldResult{}
	for _, t := range []*sipTarget{e.echo, e.vf} {
		r := e.runHeld(b, t)
		res[t.name] = r
		b.ReportMetric(r.live, t.name+"-calls")
		b.ReportMetric(r.cpuPerCallS, t.name+"-cpu-ms/call-s")
		b.ReportMetric(r.jitP50, t.name+"-jit-p50-ms")
		b.ReportMetric(r.jitP99, t.name+"-jit-p99-ms")
		b.ReportMetric(r.jitMax, t.name+"-jit-max-ms")
		b.ReportMetric(r.gaps, t.name+"-rx-gaps")
	}
	v, x := res["vf"], res["echo"]
	b.ReportMetric(ratio(v.cpuPerCallS, x.cpuPerCallS), "x-cpu/call")
	b.ReportMetric(ratio(v.jitP99, x.jitP99), "x-jit-p99")
}

func (e *sipEnv) runHeld(b *testing.B, t *sipTarget) heldResult {
	idle := idleRate(2 * time.Second)
	n := sipHeld - sipProbes
	wait := startSIPp(b, t.addr, "uac_bench_held.xml", numHeld, 60*time.Second,
		"-r", strconv.Itoa(n), "-rp", "1000", "-m", strconv.Itoa(n), "-l", strconv.Itoa(n), "-d", "3000")
	var probes []*probeCall
	for range sipProbes {
		pc, err := e.probe.dial(t.addr, numHeld, nil)
		if err != nil {
			b.Errorf("%s probe: %v", t.name, err)
			continue
		}
		probes = append(probes, pc)
	}
	if !waitUntil(10*time.Second, func() bool { return t.live() >= sipHeld }) {
		b.Logf("%s: only %d of %d calls up", t.name, t.live(), sipHeld)
	}
	time.Sleep(time.Second)
	live := t.live()
	for _, pc := range probes {
		pc.recording.Store(true)
	}
	c0, t0 := cpuTime(), time.Now()
	time.Sleep(sipWindow)
	c1, t1 := cpuTime(), time.Now()
	for _, pc := range probes {
		pc.recording.Store(false)
	}
	var r heldResult
	r.live = float64(live)
	if live > 0 {
		net := float64(c1-c0) - idle*float64(t1.Sub(t0))
		r.cpuPerCallS = net / float64(live) / t1.Sub(t0).Seconds() / float64(time.Millisecond)
	}
	var jit []time.Duration
	for _, pc := range probes {
		j, gaps := pc.jitter()
		jit = append(jit, j...)
		r.gaps += float64(gaps)
		pc.hangup()
	}
	r.pkts = float64(len(jit))
	r.jitP50, r.jitP99 = pctMS(jit, 0.50), pctMS(jit, 0.99)
	r.jitMax = pctMS(jit, 1)
	s := wait()
	if s.err != nil {
		b.Logf("%s: %v\n%s", t.name, s.err, tail(s.out, 3000))
	}
	t.settled(0)
	b.Logf("%s held: %d calls up, %+v, idle %.3f cores, sipp ok %v failed %v", t.name, live, r, idle, s.ok, s.failed)
	return r
}

// --- dtmf ---

func (e *sipEnv) benchDTMF(b *testing.B) {
	res := map[string][]time.Duration{}
	for _, t := range []*sipTarget{e.echo, e.vf} {
		lat := e.runDTMF(b, t)
		res[t.name] = lat
		b.ReportMetric(float64(len(lat)), t.name+"-turns")
		b.ReportMetric(pctMS(lat, 0.5), t.name+"-p50-ms")
		b.ReportMetric(pctMS(lat, 0.99), t.name+"-p99-ms")
	}
	b.ReportMetric(ratio(pctMS(res["vf"], 0.5), pctMS(res["echo"], 0.5)), "x-p50")
	b.ReportMetric(ratio(pctMS(res["vf"], 0.99), pctMS(res["echo"], 0.99)), "x-p99")
}

// dtmfCalls is how many probe calls share the sipTurns turns: each call has
// its own phase between the probe's and the server's 20 ms pacers, which
// decides where in the frame the next prompt's first packet can go out.
const dtmfCalls = 10

func (e *sipEnv) runDTMF(b *testing.B, t *sipTarget) []time.Duration {
	var lat []time.Duration
	perCall := (sipTurns + dtmfCalls - 1) / dtmfCalls
	for range dtmfCalls {
		if !e.dtmfCall(b, t, perCall, &lat) {
			break
		}
	}
	b.Logf("%s dtmf: %d turns on %d calls, p50 %.1f ms, p99 %.1f ms", t.name, len(lat), dtmfCalls, pctMS(lat, 0.5), pctMS(lat, 0.99))
	sorted := slices.Sorted(slices.Values(lat))
	b.Logf("%s dtmf turns, sorted: %v", t.name, sorted)
	return lat
}

func (e *sipEnv) dtmfCall(b *testing.B, t *sipTarget, turns int, lat *[]time.Duration) bool {
	frames := map[string][]byte{
		"a": echo.FirstFrameULaw(benchPrompts["menu a"]),
		"b": echo.FirstFrameULaw(benchPrompts["menu b"]),
	}
	pc, err := e.probe.dial(t.addr, numDTMF, frames)
	if err != nil {
		b.Errorf("%s: %v", t.name, err)
		return false
	}
	defer pc.hangup()
	await := func(name string) (int64, bool) {
		timeout := time.After(5 * time.Second)
		for {
			select {
			case s := <-pc.starts:
				if s.name == name {
					return s.at, true
				}
			case <-timeout:
				return 0, false
			}
		}
	}
	if _, ok := await("a"); !ok {
		b.Errorf("%s: first menu prompt never came", t.name)
		return false
	}
	cur := "a"
	for range turns {
		time.Sleep(200 * time.Millisecond) // into the prompt: the key barges in
		pc.digitAt.Store(0)
		if err := pc.pacer.SendDigit('1', 100*time.Millisecond); err != nil {
			b.Error(err)
			return false
		}
		next := map[string]string{"a": "b", "b": "a"}[cur]
		at, ok := await(next)
		if !ok {
			b.Errorf("%s: prompt %s never came after key 1", t.name, next)
			return false
		}
		if d0 := pc.digitAt.Load(); d0 > 0 {
			*lat = append(*lat, time.Duration(at-d0))
		}
		cur = next
	}
	return true
}

// --- mem ---

func (e *sipEnv) benchMem(b *testing.B) {
	res := map[string]memResult{}
	for _, t := range []*sipTarget{e.echo, e.vf} {
		r := e.runMem(b, t)
		res[t.name] = r
		b.ReportMetric(r.live, t.name+"-calls")
		b.ReportMetric(r.heapKB, t.name+"-heap-kb/call")
		b.ReportMetric(r.stackKB, t.name+"-stack-kb/call")
		b.ReportMetric(r.goroutines, t.name+"-goroutines/call")
	}
	b.ReportMetric(ratio(res["vf"].heapKB, res["echo"].heapKB), "x-heap/call")
	b.ReportMetric(ratio(res["vf"].heapKB+res["vf"].stackKB, res["echo"].heapKB+res["echo"].stackKB), "x-heap+stack/call")
}

// memNow is the live heap (HeapAlloc right after GC), the goroutine stacks
// (StackInuse) and the goroutine count.
type memNow struct {
	heap, stack uint64
	goroutines  int
}

func readMem() memNow {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memNow{ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine()}
}

type memResult struct {
	live, heapKB, stackKB, goroutines float64
}

func (e *sipEnv) runMem(b *testing.B, t *sipTarget) memResult {
	m0 := readMem()
	wait := startSIPp(b, t.addr, "uac_bench_held.xml", numHeld, 60*time.Second,
		"-r", strconv.Itoa(sipHeld), "-rp", "1000", "-m", strconv.Itoa(sipHeld), "-l", strconv.Itoa(sipHeld), "-d", "1")
	if !waitUntil(10*time.Second, func() bool { return t.live() >= sipHeld }) {
		b.Logf("%s: only %d of %d calls up", t.name, t.live(), sipHeld)
	}
	time.Sleep(1500 * time.Millisecond)
	n := t.live()
	m1 := readMem()
	s := wait()
	if s.err != nil {
		b.Logf("%s: %v\n%s", t.name, s.err, tail(s.out, 3000))
	}
	t.settled(0)
	b.Logf("%s mem: %d calls, heap %d -> %d KiB, stacks %d -> %d KiB, goroutines %d -> %d",
		t.name, n, m0.heap>>10, m1.heap>>10, m0.stack>>10, m1.stack>>10, m0.goroutines, m1.goroutines)
	if n == 0 {
		return memResult{}
	}
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(n) / 1024 }
	return memResult{live: float64(n), heapKB: per(m0.heap, m1.heap), stackKB: per(m0.stack, m1.stack),
		goroutines: float64(m1.goroutines-m0.goroutines) / float64(n)}
}

// --- SIPp ---

type sippResult struct {
	ok, failed, callMS, setupMS float64
	current, created            float64 // calls in progress; placed so far
	failures                    string  // failed calls by SIPp's reason, e.g. "FailedMaxUDPRetrans=3"
	out                         string
	err                         error
}

func runSIPp(b *testing.B, addr, scenario, service string, timeout time.Duration, args ...string) sippResult {
	return startSIPp(b, addr, scenario, service, timeout, args...)()
}

// startSIPp runs a scenario of bench/sipp with the given load arguments
// and returns a function waiting for its end.
func startSIPp(b *testing.B, addr, scenario, service string, timeout time.Duration, args ...string) func() sippResult {
	b.Helper()
	return launchSIPp(b, sippSpec{addr: addr, scenario: scenario, service: service, timeout: timeout, args: args}).wait
}

// sippSpec is one SIPp run against addr.
type sippSpec struct {
	addr, scenario, service string
	timeout                 time.Duration // SIPp's -timeout; killed 10 s after it
	mediaPort               int           // -mp; 0 picks a free even port
	// prepare, when set, writes what the scenario reads (relative paths,
	// e.g. rtp_stream audio) into SIPp's working directory before it starts.
	prepare func(dir string) error
	args    []string // load arguments (-r, -l, -m, -d, ...)
}

// sippProc is a started SIPp.
type sippProc struct {
	pid       int
	sipPort   int // -p
	mediaPort int
	stat      string // -trace_stat CSV, rewritten every second (parseStat)
	done      chan struct{}
	res       sippResult
}

// wait returns SIPp's result once it has exited.
func (p *sippProc) wait() sippResult {
	<-p.done
	return p.res
}

// launchSIPp starts SIPp in a temp directory of its own (statistics every
// second in stat.csv, errors in err.log). It is killed 10 s past its
// timeout, or when tb ends if it still runs.
func launchSIPp(tb testing.TB, spec sippSpec) *sippProc {
	tb.Helper()
	bin := sipptest.Need(tb)
	dir := tb.TempDir()
	if spec.prepare != nil {
		if err := spec.prepare(dir); err != nil {
			tb.Fatalf("sipp: %v", err)
		}
	}
	if spec.mediaPort == 0 {
		spec.mediaPort = sipptest.FreeUDPPair(tb)
	}
	stat := filepath.Join(dir, "stat.csv")
	sipPort := sipptest.FreePort(tb)
	all := append([]string{spec.addr, "-sf", sipptest.Scenario(tb, spec.scenario), "-s", spec.service,
		"-i", "127.0.0.1", "-p", strconv.Itoa(sipPort), "-mp", strconv.Itoa(spec.mediaPort),
		"-trace_stat", "-stf", stat, "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-timeout", strconv.Itoa(int(spec.timeout.Seconds())) + "s", "-nostdin"}, spec.args...)
	ctx, cancel := context.WithTimeout(context.Background(), spec.timeout+10*time.Second)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "TERM=dumb")
	p := &sippProc{sipPort: sipPort, mediaPort: spec.mediaPort, stat: stat, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		cancel()
		p.res.err = fmt.Errorf("start sipp: %w", err)
		close(p.done)
		return p
	}
	p.pid = cmd.Process.Pid
	tb.Cleanup(func() {
		cancel() // kills SIPp if it still runs
		<-p.done
	})
	go func() {
		defer close(p.done)
		defer cancel()
		err := cmd.Wait()
		if eb, rerr := os.ReadFile(filepath.Join(dir, "err.log")); rerr == nil && len(eb) > 0 {
			fmt.Fprintf(&out, "\n--- err.log ---\n%s", tail(string(eb), 2000))
		}
		p.res = sippResult{out: out.String(), err: err}
		if perr := parseStat(stat, &p.res); perr != nil && p.res.err == nil {
			p.res.err = perr
		}
	}()
	return p
}

// parseStat reads the last line of SIPp's -trace_stat CSV (cumulative
// counters).
func parseStat(path string, r *sippResult) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var header, last []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ";")
		if header == nil {
			header = fields
			continue
		}
		last = fields
	}
	if last == nil {
		return errors.New("sipp: empty statistics")
	}
	col := func(name string) string {
		for i, h := range header {
			if h == name && i < len(last) {
				return last[i]
			}
		}
		return ""
	}
	r.ok, _ = strconv.ParseFloat(col("SuccessfulCall(C)"), 64)
	r.failed, _ = strconv.ParseFloat(col("FailedCall(C)"), 64)
	r.current, _ = strconv.ParseFloat(col("CurrentCall"), 64)
	r.created, _ = strconv.ParseFloat(col("TotalCallCreated"), 64)
	var why []string
	for i, h := range header {
		reason, ok := strings.CutSuffix(h, "(C)")
		if ok && strings.HasPrefix(h, "Failed") && h != "FailedCall(C)" && i < len(last) && last[i] != "0" {
			why = append(why, reason+"="+last[i])
		}
	}
	r.failures = strings.Join(why, " ")
	r.callMS = sippDurationMS(col("CallLength(C)"))
	r.setupMS = sippDurationMS(col("ResponseTime1(C)"))
	return nil
}

// sippDurationMS parses SIPp's HH:MM:SS:frac durations.
func sippDurationMS(s string) float64 {
	p := strings.Split(s, ":")
	if len(p) != 4 {
		return 0
	}
	h, _ := strconv.ParseFloat(p[0], 64)
	m, _ := strconv.ParseFloat(p[1], 64)
	sec, _ := strconv.ParseFloat(p[2], 64)
	frac, _ := strconv.ParseFloat("0."+p[3], 64)
	return ((h*60+m)*60 + sec + frac) * 1000
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// --- Go probe calls ---

// probeUA places the benchmark's own calls: sipgo for SIP, a UDP socket
// with kernel receive timestamps for RTP, media/rtp's Pacer to talk and to
// send RFC 4733 digits.
type probeUA struct {
	dc   *sipgo.DialogClientCache
	host string
}

func newProbeUA(tb testing.TB) *probeUA {
	port := sipptest.FreePort(tb)
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("voxflow-bench-probe"))
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		tb.Fatal(err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	if err != nil {
		tb.Fatal(err)
	}
	p := &probeUA{host: "127.0.0.1",
		dc: sipgo.NewDialogClientCache(client, sip.ContactHeader{Address: sip.Uri{User: "probe", Host: "127.0.0.1", Port: port}})}
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := p.dc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil))
		}
	})
	conn, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		tb.Fatal(err)
	}
	go func() { _ = srv.ServeUDP(conn) }()
	tb.Cleanup(func() {
		conn.Close()
		ua.Close()
	})
	return p
}

type rxPkt struct {
	at     int64 // kernel receive time, Unix ns
	seq    uint16
	marker bool
}

type promptStart struct {
	name string
	at   int64
}

type probeCall struct {
	dlg    *sipgo.DialogClientSession
	conn   *net.UDPConn
	remote netip.AddrPort
	pacer  *vrtp.Pacer
	cancel context.CancelFunc
	media  sync.WaitGroup

	frames    map[string][]byte // first frames of prompts to recognise
	starts    chan promptStart
	recording atomic.Bool
	mu        sync.Mutex
	rx        []rxPkt
	digitAt   atomic.Int64 // Unix ns the first packet of the last digit went out
}

// talkFrames is what the probe says: a quiet 300 Hz tone, looped.
var talkFrames = func() [][]byte {
	pcm := echo.Tone(300, time.Second)
	var out [][]byte
	for i := 0; i+echo.FrameSamples <= len(pcm); i += echo.FrameSamples {
		f := make([]byte, echo.FrameSamples)
		g711.EncodeULaw(f, pcm[i:i+echo.FrameSamples])
		out = append(out, f)
	}
	return out
}()

func (p *probeUA) dial(target, number string, frames map[string][]byte) (*probeCall, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	raw, err := conn.SyscallConn()
	if err == nil {
		_ = raw.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
		})
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("SO_TIMESTAMPNS: %w", err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	offer := fmt.Appendf(nil, "v=0\r\no=probe 1 1 IN IP4 127.0.0.1\r\ns=probe\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n", port)
	host, portStr, _ := net.SplitHostPort(target)
	tport, _ := strconv.Atoi(portStr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dlg, err := p.dc.Invite(ctx, sip.Uri{User: number, Host: host, Port: tport}, offer, sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		conn.Close()
		return nil, err
	}
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		conn.Close()
		return nil, err
	}
	if err := dlg.Ack(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	m, err := echo.ParseSDP(dlg.InviteResponse.Body())
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("answer SDP: %w", err)
	}
	pc := &probeCall{dlg: dlg, conn: conn, remote: m.Remote, frames: frames, starts: make(chan promptStart, 64)}
	evPT := uint8(0)
	if m.EventPT > 0 {
		evPT = uint8(m.EventPT)
	}
	pc.pacer, err = vrtp.NewPacer(vrtp.PacerConfig{PayloadType: uint8(m.AudioPT), EventPayloadType: evPT}, func(pkt []byte) error {
		if evPT != 0 && pkt[1]&0x7f == evPT && pkt[1]&0x80 != 0 {
			pc.digitAt.CompareAndSwap(0, time.Now().UnixNano())
		}
		_, err := conn.WriteToUDPAddrPort(pkt, pc.remote)
		return err
	})
	if err != nil {
		conn.Close()
		return nil, err
	}
	i := 0
	pc.pacer.SetSource(vrtp.FrameSourceFunc(func() ([]byte, bool) {
		f := talkFrames[i%len(talkFrames)]
		i++
		return f, true
	}))
	mctx, mcancel := context.WithCancel(context.Background())
	pc.cancel = mcancel
	pc.media.Add(2)
	// A random phase against the server's pacer (both would otherwise
	// start within a millisecond of the 200 OK, always the same offset).
	phase := time.Duration(rand.Int64N(int64(20 * time.Millisecond)))
	go func() {
		defer pc.media.Done()
		time.Sleep(phase)
		_ = pc.pacer.Run(mctx)
	}()
	go func() { defer pc.media.Done(); pc.readLoop() }()
	return pc, nil
}

func (pc *probeCall) readLoop() {
	buf := make([]byte, 1500)
	oob := make([]byte, 128)
	for {
		n, oobn, _, _, err := pc.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		at := time.Now().UnixNano()
		if msgs, err := syscall.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
					at = int64(binary.NativeEndian.Uint64(m.Data[0:8]))*1e9 + int64(binary.NativeEndian.Uint64(m.Data[8:16]))
				}
			}
		}
		pkt := rxPkt{at: at, seq: binary.BigEndian.Uint16(buf[2:4]), marker: buf[1]&0x80 != 0}
		if pc.recording.Load() {
			pc.mu.Lock()
			pc.rx = append(pc.rx, pkt)
			pc.mu.Unlock()
		}
		if hdr := 12 + 4*int(buf[0]&0x0f); len(pc.frames) > 0 && hdr <= n {
			payload := buf[hdr:n]
			for name, f := range pc.frames {
				if bytes.Equal(payload, f) {
					select {
					case pc.starts <- promptStart{name, at}:
					default:
					}
				}
			}
		}
	}
}

// jitter is |interval - 20 ms| between consecutive packets of a talkspurt
// received while recording, and the number of sequence gaps.
func (pc *probeCall) jitter() (out []time.Duration, gaps int) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	for i := 1; i < len(pc.rx); i++ {
		a, b := pc.rx[i-1], pc.rx[i]
		if b.seq != a.seq+1 {
			gaps++
			continue
		}
		if b.marker {
			continue
		}
		d := time.Duration(b.at-a.at) - 20*time.Millisecond
		out = append(out, d.Abs())
	}
	return out, gaps
}

func (pc *probeCall) hangup() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if pc.dlg.LoadState() != sip.DialogStateEnded {
		_ = pc.dlg.Bye(ctx)
	}
	pc.cancel()
	pc.conn.Close()
	pc.media.Wait()
	_ = pc.dlg.Close()
}
