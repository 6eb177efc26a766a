package bench

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voxflow/voxflow/bench/echo"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// BenchmarkSIPScale holds many calls with RTP both ways on one server and
// measures what each step costs, for the two servers of BenchmarkSIP (vf,
// the voxflow stack with its in-process Temporal server; echo, bench/echo)
// one after the other (sub-benchmarks echo and vf; VOXFLOW_SCALE_SERVERS).
//
// The server under test runs in a process of its own (this test binary
// re-executed as TestSIPScaleServer), so its CPU time, RSS and goroutines
// are its own: SIPp, the probe calls and this harness are other processes
// and are sampled separately.
//
// SIPp (uac_bench_scale.xml) places calls at VOXFLOW_SCALE_RATE calls/s up
// to its call limit; each call streams A-law both ways for as long as it
// lasts (SIPp rtp_stream looping, the server a prompt as long as the run).
// For each step of VOXFLOW_SCALE_STEPS (calls up at once, the probe calls
// included) the harness raises SIPp's limit through its control socket,
// waits for the server to count the calls, lets it settle 2 s, then over
// VOXFLOW_SCALE_WINDOW samples from /proc: the server's CPU (cores; ms per
// call-second net of its idle rate), RSS, goroutines; SIPp's CPU; the
// harness's own; the machine's other load; the server's RTP towards SIPp
// (kernel drop counter of SIPp's unread media socket: packets/s against 50
// per SIPp call). VOXFLOW_SCALE_PROBES Go probe calls (BenchmarkSIP's)
// measure the server's send jitter from kernel receive timestamps: p50,
// p99, max of |interval - 20 ms| and sequence gaps.
//
// The ramp stops after the last step, when the server does not reach a
// step's calls in time, or when jitter p99 exceeds
// VOXFLOW_SCALE_STOP_P99_MS (default 20). The report is the per-step
// table (log) and, as metrics, the largest step with jitter p99 <= 2 ms.
// Then every call is hung up (SIPp "Q": a BYE per call; the probes hang
// up), SIPp and the server process exit. VOXFLOW_SCALE_HOLD bounds one
// server's run (default 20m; also the prompt's length).
// VOXFLOW_SCALE_PROFILE_DIR writes the server's CPU profile of every
// step's window (<server>-<calls>.cpu.pprof) and its heap profile after it
// (<server>-<calls>.heap.pprof); -test.cpuprofile profiles the harness.
//
//	go test -c -o /tmp/bench.test ./bench
//	cd bench && /tmp/bench.test -test.run XXX -test.bench SIPScale -test.benchtime 1x
func BenchmarkSIPScale(b *testing.B) {
	sipptest.Need(b)
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	b.Cleanup(func() { slog.SetDefault(prev) })
	logScaleLimits()
	for _, name := range scaleServers {
		b.Run(name, func(b *testing.B) { runScale(b, name) })
	}
}

// Scale run settings; environment variables override them.
var (
	scaleSteps   = envInts("VOXFLOW_SCALE_STEPS", 100, 250, 500, 1000, 1500, 2000)
	scaleServers = envList("VOXFLOW_SCALE_SERVERS", "echo", "vf")
	scaleRate    = envInt("VOXFLOW_SCALE_RATE", 20)  // SIPp calls/s while ramping
	scaleProbes  = envInt("VOXFLOW_SCALE_PROBES", 4) // Go probe calls, part of every step
	scaleWindow  = envDuration("VOXFLOW_SCALE_WINDOW", 10*time.Second)
	scaleHold    = envDuration(scaleHoldEnv, 20*time.Minute)
	scaleStopP99 = envFloat("VOXFLOW_SCALE_STOP_P99_MS", 20)
	scaleProfDir = os.Getenv("VOXFLOW_SCALE_PROFILE_DIR")
)

const (
	numScale      = "4000" // bench-scale: the long prompt, then hang up
	scaleServeEnv = "VOXFLOW_SCALE_SERVE"
	scaleHoldEnv  = "VOXFLOW_SCALE_HOLD"
	scaleReady    = "voxflow-scale-server"
	jitterGoalMS  = 2.0 // the goal: RTP send jitter p99 <= 2 ms
)

const benchScaleFlow = `name: bench-scale
entry: talk
nodes:
  talk:
    type: play
    say: "hold"
    next: bye
  bye:
    type: hangup
    say: "goodbye"
`

func envList(name string, def ...string) []string {
	var out []string
	for _, f := range strings.Split(os.Getenv(name), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return def
	}
	return out
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
		return v
	}
	return def
}

// logScaleLimits logs the limits a few thousand loopback calls run into.
func logScaleLimits() {
	var rl syscall.Rlimit
	_ = syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl)
	ports, _ := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	rmem, _ := os.ReadFile("/proc/sys/net/core/rmem_default")
	scaleLogf("limits", "open files %d (hard %d), ephemeral ports %s, rmem_default %s bytes, %d CPUs",
		rl.Cur, rl.Max, strings.Join(strings.Fields(string(ports)), "-"), strings.TrimSpace(string(rmem)), runtime.NumCPU())
}

// scaleLogf prints a line of the run at once, on stdout: a benchmark's
// own log is cut to 10 lines and printed at its end.
func scaleLogf(who, format string, args ...any) {
	fmt.Printf("scale %s: %s\n", who, fmt.Sprintf(format, args...))
}

// --- the server process ---

// TestSIPScaleServer is BenchmarkSIPScale's server process, not a test: it
// serves the bench-scale flow (vf or echo, by VOXFLOW_SCALE_SERVE) until
// its stdin closes, and prints its SIP and control addresses on stdout.
func TestSIPScaleServer(t *testing.T) {
	kind := os.Getenv(scaleServeEnv)
	if kind == "" {
		t.Skip("the server process of BenchmarkSIPScale (it sets " + scaleServeEnv + ")")
	}
	var level slog.Level // VOXFLOW_SCALE_LOG_LEVEL: the server's log level, error by default
	if err := level.UnmarshalText([]byte(cmp.Or(os.Getenv("VOXFLOW_SCALE_LOG_LEVEL"), "error"))); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)
	prompts := promptTTS{"hold": echo.Tone(450, scaleHold), "goodbye": benchPrompts["goodbye"]}
	var target *sipTarget
	switch kind {
	case "echo":
		target = startEchoTarget(t, map[string]echo.Flow{numScale: {Entry: "talk", Nodes: map[string]echo.Node{
			"talk": {Prompt: prompts["hold"], Next: "bye"},
			"bye":  {Prompt: prompts["goodbye"]},
		}}}, logger)
	case "vf":
		target = startVFTarget(t, vfTargetConfig{flows: map[string]string{numScale: benchScaleFlow}, prompts: prompts, logger: logger})
	default:
		t.Fatalf("%s=%q: want vf or echo", scaleServeEnv, kind)
	}
	ctl := serveScaleControl(t, target)
	fmt.Printf("%s sip=%s ctl=%s\n", scaleReady, target.addr, ctl)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// scaleStats is what the server process reports at /stats.
type scaleStats struct {
	Live       int    `json:"live"`
	Goroutines int    `json:"goroutines"`
	HeapInuse  uint64 `json:"heap_inuse"`
	StackInuse uint64 `json:"stack_inuse"`
}

// serveScaleControl serves /stats and net/http/pprof on a loopback port
// and returns its address.
func serveScaleControl(tb testing.TB, t *sipTarget) string {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_ = json.NewEncoder(w).Encode(scaleStats{Live: t.live(), Goroutines: runtime.NumGoroutine(),
			HeapInuse: ms.HeapInuse, StackInuse: ms.StackInuse})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// scaleServer is the server process as the harness sees it.
type scaleServer struct {
	name    string
	pid     int
	sipAddr string
	ctl     string // control address (http)
	stdin   io.WriteCloser
	cmd     *exec.Cmd
	exited  chan struct{}
}

// startScaleServer re-executes this test binary as the server process and
// waits for it to listen. It is stopped when b ends.
func startScaleServer(b *testing.B, name string) *scaleServer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSIPScaleServer$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), scaleServeEnv+"="+name, scaleHoldEnv+"="+scaleHold.String())
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	s := &scaleServer{name: name, cmd: cmd, exited: make(chan struct{})}
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start %s server: %v", name, err)
	}
	s.pid = cmd.Process.Pid
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, scaleReady+" ") {
				ready <- line
			} else {
				fmt.Fprintf(os.Stderr, "%s server: %s\n", name, line)
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	b.Cleanup(s.stop)
	select {
	case line := <-ready:
		for _, f := range strings.Fields(line)[1:] {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "sip":
				s.sipAddr = v
			case "ctl":
				s.ctl = v
			}
		}
	case <-s.exited:
		b.Fatalf("%s server exited before it listened", name)
	case <-time.After(2 * time.Minute):
		b.Fatalf("%s server did not start in 2 minutes", name)
	}
	return s
}

// stop closes the server's stdin (it returns from its test and cleans up)
// and kills it if it has not exited 30 s later.
func (s *scaleServer) stop() {
	s.stdin.Close()
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// stats asks the server for its live calls, goroutines and heap.
func (s *scaleServer) stats() (scaleStats, error) {
	var st scaleStats
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + s.ctl + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// profile saves the server's pprof profile (kind: "profile?seconds=N",
// "heap") to path.
func (s *scaleServer) profile(kind, path string) error {
	c := http.Client{Timeout: scaleWindow + 30*time.Second}
	resp, err := c.Get("http://" + s.ctl + "/debug/pprof/" + kind)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof %s: %s", kind, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// --- /proc sampling ---

// procSample is a process's CPU time so far, RSS and threads.
type procSample struct {
	cpu     time.Duration
	rssKB   int64
	threads int
}

// readProc reads /proc/<pid>/stat (utime and stime in USER_HZ, 100 on
// Linux; rss in pages).
func readProc(pid int) (procSample, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSample{}, err
	}
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 {
		return procSample{}, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(raw[i+1:])) // f[0] is field 3 (state)
	if len(f) < 22 {
		return procSample{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	num := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	return procSample{
		cpu:     time.Duration(num(14)+num(15)) * 10 * time.Millisecond,
		rssKB:   num(24) * int64(os.Getpagesize()) / 1024,
		threads: int(num(20)),
	}, nil
}

// machineBusy is the CPU time all cores spent busy so far (/proc/stat:
// everything but idle and iowait).
func machineBusy() time.Duration {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	var busy int64
	for i, f := range strings.Fields(line)[1:] {
		v, _ := strconv.ParseInt(f, 10, 64)
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is in user already
			busy += v
		}
	}
	return time.Duration(busy) * 10 * time.Millisecond
}

// loadAvg is the 1-minute load average.
func loadAvg() float64 {
	raw, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// udpDrops is the kernel's drop counter of the UDP socket bound to
// 127.0.0.1:port (/proc/net/udp, last column), or -1 if there is none.
func udpDrops(port int) int64 {
	raw, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return -1
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(raw), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 12 && f[1] == want {
			v, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			return v
		}
	}
	return -1
}

// --- SIPp ---

// scaleSIPp is the SIPp placing the held calls, steered through its
// control socket.
type scaleSIPp struct {
	*sippProc
	ctlPort int
}

// launchScaleSIPp starts SIPp at limit calls (raised later with setLimit).
func launchScaleSIPp(b *testing.B, addr string, limit int) *scaleSIPp {
	ctl := sipptest.FreePort(b)
	p := launchSIPp(b, sippSpec{
		addr: addr, scenario: "uac_bench_scale.xml", service: numScale,
		timeout: scaleHold + 30*time.Second, prepare: writeScaleAudio,
		args: []string{"-r", strconv.Itoa(scaleRate), "-rp", "1000", "-l", strconv.Itoa(limit),
			"-cp", strconv.Itoa(ctl), "-cid_str", "scale-%u@bench",
			// Fewer RTP threads than the default 20 calls each: SIPp
			// shares the 2 cores with the server.
			"-rtp_threadtasks", "50"},
	})
	if p.pid == 0 {
		b.Fatalf("sipp: %v", p.res.err)
	}
	return &scaleSIPp{sippProc: p, ctlPort: ctl}
}

// writeScaleAudio writes what the callers say: 1 s of a 350 Hz tone as raw
// A-law (rtp_stream loops it).
func writeScaleAudio(dir string) error {
	pcm := echo.Tone(350, time.Second)
	alaw := make([]byte, len(pcm))
	g711.EncodeALaw(alaw, pcm)
	return os.WriteFile(filepath.Join(dir, "scale.alaw"), alaw, 0o644)
}

// command sends a control command: "cset limit N", or a key such as "Q".
func (s *scaleSIPp) command(cmd string) error {
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(s.ctlPort))
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(cmd))
	return err
}

func (s *scaleSIPp) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// stats is SIPp's last statistics line.
func (s *scaleSIPp) stats() sippResult {
	var r sippResult
	_ = parseStat(s.stat, &r)
	return r
}

// hangUpAll ends the calls as callers would: "q" (SIPp places no new call
// and exits after its last), then an INFO per call at scaleHangupRate
// calls/s, to which the call answers with a BYE. Whatever is left after d
// is aborted ("Q": a BYE each, not retransmitted) and SIPp terminated. It
// says how SIPp ended.
func (s *scaleSIPp) hangUpAll(d time.Duration) (sippResult, string) {
	_ = s.command("q")
	time.Sleep(1500 * time.Millisecond) // SIPp's statistics: one line a second
	if err := s.sendStops(int(s.stats().created) + 10); err != nil {
		return sippResult{err: err}, "not asked to hang up"
	}
	select {
	case <-s.done:
		return s.wait(), "exited after its last call"
	case <-time.After(d):
	}
	how := "aborted the calls left (Q)"
	_ = s.command("Q")
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		how += ", then terminated"
		_ = syscall.Kill(s.pid, syscall.SIGTERM)
	}
	return s.wait(), how
}

// scaleHangupRate is how many calls a second hangUpAll ends: SIPp sends
// their BYEs as the INFOs arrive, so the server is not flooded.
var scaleHangupRate = envInt("VOXFLOW_SCALE_HANGUP_RATE", 50)

// sendStops sends the INFO that ends call k (Call-ID scale-k@bench) for k
// from 1 to n, paced; INFOs for calls that are gone are discarded by SIPp.
func (s *scaleSIPp) sendStops(n int) error {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	defer conn.Close()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: s.sipPort}
	me := conn.LocalAddr().(*net.UDPAddr).Port
	t0 := time.Now()
	for k := 1; k <= n; k++ {
		msg := fmt.Appendf(nil, "INFO sip:sipp@127.0.0.1:%d SIP/2.0\r\n"+
			"Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-scale-stop-%d\r\n"+
			"From: <sip:bench@127.0.0.1>;tag=stop%d\r\nTo: <sip:sipp@127.0.0.1:%d>\r\n"+
			"Call-ID: scale-%d@bench\r\nCSeq: 3 INFO\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			s.sipPort, me, k, k, s.sipPort, k)
		if _, err := conn.WriteToUDP(msg, to); err != nil {
			return fmt.Errorf("stop call %d: %w", k, err)
		}
		time.Sleep(time.Until(t0.Add(time.Duration(k) * time.Second / time.Duration(scaleHangupRate))))
	}
	return nil
}

// --- the run ---

// scaleStep is the figures of one step.
type scaleStep struct {
	want, calls        int     // calls asked for; up in the window (server's count)
	sippCalls, failed  float64 // SIPp: calls in progress, failed so far
	failures           string  // SIPp's reasons for them
	rampS              float64 // limit raised -> all calls up
	cores, netMS       float64 // server: CPU cores; ms per call-second net of idle
	sippCores, harness float64 // SIPp's and this process's CPU, cores
	otherCores         float64 // the rest of the machine's busy CPU, cores
	rssKB, rssPerCall  float64 // server RSS; KiB per call above idle
	goroutines         int
	goroPerCall        float64
	heapKB             float64 // HeapInuse + StackInuse
	jitP50, jitP99     float64
	jitMax             float64
	intervals, gaps    int
	txPPS, txWant      float64 // server RTP towards SIPp, packets/s; 50 per SIPp call
	load1              float64
}

// scaleBase is the idle server.
type scaleBase struct {
	idleCores  float64
	rssKB      int64
	goroutines int
	heapKB     float64
}

func runScale(b *testing.B, name string) {
	start := time.Now()
	// Leave a fifth of the bound (at least a minute) to hang up and exit.
	deadline := start.Add(scaleHold - max(scaleHold/5, time.Minute))
	srv := startScaleServer(b, name)
	probeUA := newProbeUA(b)
	base := srv.idle(b)
	probes := dialScaleProbes(b, probeUA, srv.sipAddr)
	var sipp *scaleSIPp
	var steps []scaleStep
	for _, want := range scaleSteps {
		if time.Now().After(deadline) {
			scaleLogf(name, "stopped before %d calls: %v bound (VOXFLOW_SCALE_HOLD)", want, scaleHold)
			break
		}
		limit := max(want-len(probes), 1)
		if sipp == nil {
			sipp = launchScaleSIPp(b, srv.sipAddr, limit)
		} else if err := sipp.command("cset limit " + strconv.Itoa(limit)); err != nil {
			b.Fatalf("sipp control: %v", err)
		}
		rampS, ok := rampTo(srv, sipp, want, deadline)
		st := measureStep(srv, sipp, probes, base, want)
		st.rampS = rampS
		steps = append(steps, st)
		scaleLogf(name, "%s", st.line())
		if !ok {
			scaleLogf(name, "stopped: %d of %d calls up after %.0f s (SIPp failed %v)", st.calls, want, rampS, st.failed)
			break
		}
		if st.jitP99 > scaleStopP99 {
			scaleLogf(name, "stopped: jitter p99 %.1f ms > %.0f ms (VOXFLOW_SCALE_STOP_P99_MS)", st.jitP99, scaleStopP99)
			break
		}
	}
	scaleTeardown(b, srv, sipp, probes)
	scaleLogf(name, "run took %s", time.Since(start).Round(time.Second))
	reportScale(b, name, base, steps)
}

// idle samples the server with no call: its CPU over 3 s, RSS, goroutines.
func (s *scaleServer) idle(b *testing.B) scaleBase {
	time.Sleep(2 * time.Second)
	p0, err := readProc(s.pid)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	time.Sleep(3 * time.Second)
	p1, err := readProc(s.pid)
	if err != nil {
		b.Fatal(err)
	}
	st, err := s.stats()
	if err != nil {
		b.Fatal(err)
	}
	base := scaleBase{idleCores: float64(p1.cpu-p0.cpu) / float64(time.Since(t0)), rssKB: p1.rssKB,
		goroutines: st.Goroutines, heapKB: float64(st.HeapInuse+st.StackInuse) / 1024}
	scaleLogf(s.name, "idle: %.3f cores, RSS %d KiB, %d goroutines, heap+stacks %.0f KiB, %d threads",
		base.idleCores, base.rssKB, base.goroutines, base.heapKB, p1.threads)
	return base
}

func dialScaleProbes(b *testing.B, ua *probeUA, addr string) []*probeCall {
	var probes []*probeCall
	for range scaleProbes {
		pc, err := ua.dial(addr, numScale, nil)
		if err != nil {
			b.Errorf("probe: %v", err)
			continue
		}
		probes = append(probes, pc)
	}
	return probes
}

// rampTo waits until the server counts want calls: at most three times
// what the call rate needs plus 30 s, and not past deadline. It returns
// the seconds it took and whether all calls came up.
func rampTo(srv *scaleServer, sipp *scaleSIPp, want int, deadline time.Time) (float64, bool) {
	t0 := time.Now()
	st, _ := srv.stats()
	need := time.Duration(max(want-st.Live, 0)) * time.Second / time.Duration(scaleRate)
	until := t0.Add(3*need + 30*time.Second)
	if until.After(deadline) {
		until = deadline
	}
	for time.Now().Before(until) && sipp.running() {
		if st, err := srv.stats(); err == nil && st.Live >= want {
			return time.Since(t0).Seconds(), true
		}
		time.Sleep(500 * time.Millisecond)
	}
	return time.Since(t0).Seconds(), false
}

// measureStep settles 2 s, then samples everything over scaleWindow while
// the probes record the server's packets.
func measureStep(srv *scaleServer, sipp *scaleSIPp, probes []*probeCall, base scaleBase, want int) scaleStep {
	time.Sleep(2 * time.Second)
	prof := srv.profileWindow(want)
	for _, pc := range probes {
		pc.mu.Lock()
		pc.rx = pc.rx[:0]
		pc.mu.Unlock()
		pc.recording.Store(true)
	}
	s0, _ := readProc(srv.pid)
	q0, _ := readProc(sipp.pid)
	h0, m0, d0, t0 := cpuTime(), machineBusy(), udpDrops(sipp.mediaPort), time.Now()
	time.Sleep(scaleWindow)
	s1, _ := readProc(srv.pid)
	q1, _ := readProc(sipp.pid)
	h1, m1, d1, el := cpuTime(), machineBusy(), udpDrops(sipp.mediaPort), time.Since(t0)
	for _, pc := range probes {
		pc.recording.Store(false)
	}
	cores := func(d time.Duration) float64 { return float64(d) / float64(el) }
	st := scaleStep{want: want, cores: cores(s1.cpu - s0.cpu), sippCores: cores(q1.cpu - q0.cpu), harness: cores(h1 - h0),
		rssKB: float64(s1.rssKB), load1: loadAvg()}
	st.otherCores = cores(m1-m0) - st.cores - st.sippCores - st.harness
	var jit []time.Duration
	for _, pc := range probes {
		j, gaps := pc.jitter()
		jit = append(jit, j...)
		st.gaps += gaps
	}
	st.intervals = len(jit)
	st.jitP50, st.jitP99, st.jitMax = pctMS(jit, 0.50), pctMS(jit, 0.99), pctMS(jit, 1)
	if d0 >= 0 && d1 >= 0 {
		st.txPPS = float64(d1-d0) / el.Seconds()
	}
	ss := sipp.stats()
	st.sippCalls, st.failed, st.failures = ss.current, ss.failed, ss.failures
	if prof != nil {
		prof()
	}
	if sv, err := srv.stats(); err == nil {
		st.calls, st.goroutines = sv.Live, sv.Goroutines
		st.heapKB = float64(sv.HeapInuse+sv.StackInuse) / 1024
	}
	st.txWant = float64(st.calls-len(probes)) * 50
	if st.calls > 0 {
		n := float64(st.calls)
		st.netMS = (st.cores - base.idleCores) / n * 1000
		st.rssPerCall = (st.rssKB - float64(base.rssKB)) / n
		st.goroPerCall = float64(st.goroutines-base.goroutines) / n
	}
	return st
}

// profileWindow starts the server's CPU profile over the coming window of
// the step to want calls when VOXFLOW_SCALE_PROFILE_DIR is set; the
// function it returns waits for it and saves the heap profile.
func (s *scaleServer) profileWindow(want int) func() {
	if scaleProfDir == "" {
		return nil
	}
	prefix := filepath.Join(scaleProfDir, fmt.Sprintf("%s-%d", s.name, want))
	done := make(chan error, 1)
	go func() {
		done <- s.profile(fmt.Sprintf("profile?seconds=%d", int(scaleWindow.Seconds())), prefix+".cpu.pprof")
	}()
	return func() {
		if err := <-done; err != nil {
			scaleLogf(s.name, "cpu profile: %v", err)
		}
		if err := s.profile("heap", prefix+".heap.pprof"); err != nil {
			scaleLogf(s.name, "heap profile: %v", err)
		}
	}
}

// scaleTeardown hangs up every call and waits for the server to count
// none.
func scaleTeardown(b *testing.B, srv *scaleServer, sipp *scaleSIPp, probes []*probeCall) {
	t0 := time.Now()
	st, _ := srv.stats()
	for _, pc := range probes {
		pc.hangup()
	}
	bound := time.Minute + time.Duration(st.Live)*time.Second/time.Duration(scaleHangupRate)
	if sipp != nil {
		r, how := sipp.hangUpAll(bound)
		scaleLogf(srv.name, "SIPp %s (%v); its statistics: %v ok, %v failed %s", how, r.err, r.ok, r.failed, r.failures)
		if r.err != nil || r.failed > 0 {
			scaleLogf(srv.name, "SIPp output:\n%s", tail(r.out, 2500))
		}
	}
	if !waitUntil(bound, func() bool { s, err := srv.stats(); return err == nil && s.Live == 0 }) {
		s, _ := srv.stats()
		b.Errorf("%s: %d calls still up %s after hanging up", srv.name, s.Live, bound)
	}
	scaleLogf(srv.name, "%d calls hung up in %.1f s", st.Live, time.Since(t0).Seconds())
}

// line is the step as one progress line.
func (st scaleStep) line() string {
	return fmt.Sprintf("%d/%d calls (ramp %.0f s): server %.2f cores, %.3f ms/call-s, RSS %.0f MiB (%.1f KiB/call), %.1f goroutines/call; "+
		"jitter p50/p99/max %.2f/%.2f/%.1f ms over %d intervals, %d gaps; RTP to SIPp %.0f/%.0f pkt/s; "+
		"SIPp %.2f cores, harness %.2f, others %.2f; load %.2f; SIPp failed %v %s",
		st.calls, st.want, st.rampS, st.cores, st.netMS, st.rssKB/1024, st.rssPerCall, st.goroPerCall,
		st.jitP50, st.jitP99, st.jitMax, st.intervals, st.gaps, st.txPPS, st.txWant,
		st.sippCores, st.harness, st.otherCores, st.load1, st.failed, st.failures)
}

// reportScale logs the table of steps and reports the largest step whose
// jitter p99 met the goal, and the largest step measured.
func reportScale(b *testing.B, name string, base scaleBase, steps []scaleStep) {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: idle %.3f cores, RSS %.0f MiB\n", name, base.idleCores, float64(base.rssKB)/1024)
	sb.WriteString("| calls | ramp s | server cores | ms/call-s (net) | calls/core | RSS MiB | KiB/call | goroutines/call | jitter p50 / p99 / max ms | gaps | RTP to SIPp pkt/s (want) | SIPp cores | harness | others | load | SIPp failed |\n")
	var best, last *scaleStep
	for i := range steps {
		st := &steps[i]
		fmt.Fprintf(&sb, "| %d | %.0f | %.2f | %.3f | %.0f | %.0f | %.1f | %.1f | %.2f / %.2f / %.1f | %d | %.0f (%.0f) | %.2f | %.2f | %.2f | %.2f | %v |\n",
			st.calls, st.rampS, st.cores, st.netMS, ratio(float64(st.calls), st.cores), st.rssKB/1024, st.rssPerCall, st.goroPerCall,
			st.jitP50, st.jitP99, st.jitMax, st.gaps, st.txPPS, st.txWant, st.sippCores, st.harness, st.otherCores, st.load1, st.failed)
		last = st
		if st.calls >= st.want && st.intervals > 0 && st.jitP99 <= jitterGoalMS && st.gaps == 0 {
			best = st
		}
	}
	fmt.Print(sb.String())
	if last != nil {
		b.ReportMetric(float64(last.calls), "max-calls")
		b.ReportMetric(last.jitP99, "max-calls-jit-p99-ms")
		b.ReportMetric(last.cores, "max-calls-cores")
	}
	if best == nil {
		b.ReportMetric(0, "calls@p99<=2ms")
		return
	}
	b.ReportMetric(float64(best.calls), "calls@p99<=2ms")
	b.ReportMetric(best.cores, "cores")
	b.ReportMetric(best.netMS, "ms/call-s")
	b.ReportMetric(best.rssPerCall, "rss-kb/call")
	b.ReportMetric(best.jitP99, "jit-p99-ms")
}
