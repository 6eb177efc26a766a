package sipworker

import (
	"context"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// BenchmarkHeldMedia measures what held calls cost the media worker alone:
// no Temporal, no engine. Each call runs a script in place of its workflow
// that plays one 60 s prompt (w.Play, as the play activity does, minus the
// heartbeat), while SIPp (bench/sipp/uac_bench_held.xml) talks with
// g711a.pcap, so RTP flows both ways. With all calls up it reports, per
// call: goroutines, live heap and goroutine stacks (after runtime.GC, less
// the same before the calls), and over a window (4 s): CPU ms per
// call-second and heap allocations per call-second (a call-second is 50
// packets sent and 33 received: g711a.pcap has 30 ms packets).
//
// The script goroutine stands in for the Temporal activity goroutine (the
// SDK's, not media), and serveDialog's goroutine is the SIP handler that
// holds the call: both are in goroutines/call, so media's own share is
// goroutines/call - 2.
//
//	go test -run XXX -bench HeldMedia -benchtime 1x ./media/sipworker/
//
// VOXFLOW_MEDIA_CALLS sets the number of calls (default 50),
// VOXFLOW_MEDIA_WINDOW the window in seconds;
// VOXFLOW_MEDIA_PROFILE_DIR, when set, receives a CPU profile of the window
// (held-media.cpu), goroutine and heap profiles with the calls up, and a
// heap profile after the window (held-media-heap-end.pprof: its
// allocations less those of held-media-heap.pprof are the window's);
// VOXFLOW_MEDIA_ALLOC_PROFILE=1 samples every allocation in them.
func BenchmarkHeldMedia(b *testing.B) {
	sipptest.Need(b)
	// diago logs through slog.Default ("bad sequence" when SIPp's pcap
	// loop restarts): keep the output to errors.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	b.Cleanup(func() { slog.SetDefault(prev) })
	calls := 50
	if n, err := strconv.Atoi(os.Getenv("VOXFLOW_MEDIA_CALLS")); err == nil && n > 0 {
		calls = n
	}
	if os.Getenv("VOXFLOW_MEDIA_ALLOC_PROFILE") != "" {
		// Every allocation in the heap profiles (this costs CPU: do not
		// read cpu-ms/call-s from such a run).
		runtime.MemProfileRate = 1
	}
	for range b.N {
		w, addr := startHeldWorker(b)
		runHeldMedia(b, w, addr, calls, os.Getenv("VOXFLOW_MEDIA_PROFILE_DIR"))
	}
}

// heldMediaWindow is the measurement window, VOXFLOW_MEDIA_WINDOW seconds
// (4 by default, at most 10: SIPp plays g711a.pcap, about 7 s, twice).
func heldMediaWindow() time.Duration {
	if n, err := strconv.Atoi(os.Getenv("VOXFLOW_MEDIA_WINDOW")); err == nil && n > 0 {
		return time.Duration(min(n, 10)) * time.Second
	}
	return 4 * time.Second
}

// longTone is the held calls' prompt: one slice shared by every call, as
// the TTS cache would hand it out.
var longTone = sync.OnceValue(func() []int16 {
	out := make([]int16, 60*sampleRate)
	for i := range out {
		out[i] = int16(6000 * math.Sin(2*math.Pi*450*float64(i)/sampleRate))
	}
	return out
})

type longTTS struct{}

func (longTTS) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	return longTone(), nil
}

// noASR keeps the default recogniser (pocketsphinx, whose dictionary
// loads lazily and would land in the measured heap) out of the benchmark.
type noASR struct{}

func (noASR) Recognize(context.Context, []int16, []string, string) (asr.Result, error) {
	return asr.Result{}, asr.ErrNoPhrases
}

func startHeldWorker(b *testing.B) (*Worker, string) {
	addr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b))
	var w *Worker
	var mu sync.Mutex
	var scripts sync.WaitGroup
	cfg := Config{
		ID: "bench", SIPAddr: addr, Routes: fakeRoutes{flows: map[string]string{"2000": "held"}},
		TTS: longTTS{}, ASR: noASR{}, RecordDir: b.TempDir(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		StartCall: func(ctx context.Context, call activities.CallStart) error {
			scripts.Add(1)
			go func() {
				defer scripts.Done()
				mu.Lock()
				w := w
				mu.Unlock()
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				_ = w.Play(ctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "long"}}})
				_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
			}()
			return nil
		},
		SignalHangup: func(context.Context, string) error { return nil },
	}
	var err error
	mu.Lock()
	w, err = Start(context.Background(), cfg)
	mu.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		w.Close()
		scripts.Wait()
	})
	return w, addr
}

type memSnap struct {
	heap, stack, mallocs, allocBytes uint64
	goroutines                       int
}

func snapMem() memSnap {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSnap{ms.HeapAlloc, ms.StackInuse, ms.Mallocs, ms.TotalAlloc, runtime.NumGoroutine()}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runHeldMedia(b *testing.B, w *Worker, addr string, calls int, profDir string) {
	// The prompt and its PCMA frames (SIPp offers PCMA) are shared by all
	// calls: make them before the baseline, so they do not count per call.
	if pcm, err := w.prompts.render(context.Background(), activities.Prompt{Text: "long"}); err == nil {
		w.prompts.frames(pcm, codecPCMA)
	}
	time.Sleep(time.Second)
	m0 := snapMem()
	wait := sipptest.Start(b, sipptest.Call{
		Scenario: sipptest.Scenario(b, "uac_bench_held.xml"), Target: addr, Service: "2000", Timeout: 60 * time.Second,
		Args: []string{"-r", strconv.Itoa(calls), "-rp", "1000", "-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls),
			"-d", strconv.Itoa(int((heldMediaWindow() + 4*time.Second) / time.Millisecond))},
	})
	deadline := time.Now().Add(10 * time.Second)
	for w.LiveCalls() < calls && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	live := w.LiveCalls()
	m1 := snapMem()
	if profDir != "" {
		writeProfiles(b, profDir)
		f, err := os.Create(profDir + "/held-media.cpu")
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer f.Close()
		}
	}
	c0, t0 := processCPU(), time.Now()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	time.Sleep(heldMediaWindow())
	var ms1 runtime.MemStats
	runtime.ReadMemStats(&ms1)
	c1, t1 := processCPU(), time.Now()
	if profDir != "" {
		pprof.StopCPUProfile()
		// Allocations of the window: diff with -base held-media-heap.pprof
		// (a heap profile is as of the last GC).
		runtime.GC()
		if f, err := os.Create(profDir + "/held-media-heap-end.pprof"); err == nil {
			_ = pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	res := wait()
	if res.Err != nil {
		b.Logf("sipp: %v\n%s", res.Err, res.Output[max(0, len(res.Output)-2000):])
	}
	if live == 0 {
		b.Fatal("no call up")
	}
	callSecs := float64(live) * t1.Sub(t0).Seconds()
	per := func(a, b uint64) float64 { return (float64(b) - float64(a)) / float64(live) / 1024 }
	b.ReportMetric(float64(live), "calls")
	b.ReportMetric(float64(m1.goroutines-m0.goroutines)/float64(live), "goroutines/call")
	b.ReportMetric(per(m0.heap, m1.heap), "heap-kb/call")
	b.ReportMetric(per(m0.stack, m1.stack), "stack-kb/call")
	b.ReportMetric(float64(c1-c0)/float64(time.Millisecond)/callSecs, "cpu-ms/call-s")
	b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/callSecs, "allocs/call-s")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/callSecs, "B/call-s")
}

func writeProfiles(b *testing.B, dir string) {
	for _, name := range []string{"goroutine", "heap"} {
		for debug, ext := range []string{".pprof", ".txt"} {
			f, err := os.Create(dir + "/held-media-" + name + ext)
			if err != nil {
				b.Log(err)
				return
			}
			_ = pprof.Lookup(name).WriteTo(f, debug)
			f.Close()
		}
	}
}
