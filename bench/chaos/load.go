package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/voxflow/voxflow/bench/benchrig"
	sdklog "go.temporal.io/sdk/log"
)

// callerKey is SIPp's -key caller: callers are +<callerKey>00<n>.
const callerKey = "4401"

// kill is one SIGKILL and its recovery.
type kill struct {
	Kind   string    `json:"kind"`
	Victim string    `json:"victim"`
	At     time.Time `json:"at"`
	// Ready is when the restarted process answered again (/healthz).
	Ready time.Time `json:"ready"`
	Err   string    `json:"error,omitempty"`
}

// runLoad starts the target, runs SIPp for the duration while killing on
// a seeded schedule, waits for calls to end and checks them.
func runLoad(ctx context.Context, c config, t target) (*report, error) {
	if err := t.start(ctx); err != nil {
		_ = t.stop()
		return nil, fmt.Errorf("start %s: %w", c.target, err)
	}
	started := time.Now()
	calls := max(1, int(c.rate*c.duration.Seconds()))
	sippCtx, stopSIPp := context.WithCancel(ctx)
	defer stopSIPp()
	sippDone := make(chan error, 1)
	go func() { sippDone <- runSIPp(sippCtx, c, t.sipAddr(), calls) }()
	kills := killOnSchedule(ctx, c, t, started)
	time.Sleep(time.Until(started.Add(c.duration + 5*time.Second)))
	running := waitCallsEnded(ctx, t, c.grace)
	// SIPp keeps serving callbacks (-oocsf) until stopped: with no call
	// left running, its trace is complete.
	time.Sleep(2 * time.Second)
	stopSIPp()
	<-sippDone
	// The store is read while the target still runs (the cluster's
	// PostgreSQL goes with `cluster down`); no call runs any more.
	rep, err := check(ctx, c, t, started, calls, kills, running)
	if serr := t.stop(); serr != nil && err == nil {
		err = serr
	}
	return rep, err
}

// killOnSchedule kills c.kills times at seeded random moments within the
// middle 80% of the load, every kind at least once (kinds are shuffled,
// then drawn), and restarts each victim after c.restartAfter.
func killOnSchedule(ctx context.Context, c config, t target, started time.Time) []kill {
	rng := rand.New(rand.NewPCG(uint64(c.seed), 0x63686173))
	at := make([]time.Duration, c.kills)
	for i := range at {
		at[i] = c.duration/10 + time.Duration(rng.Int64N(int64(c.duration*8/10)))
	}
	slices.Sort(at)
	kinds := slices.Clone(t.kinds())
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	var out []kill
	for i, d := range at {
		select {
		case <-ctx.Done():
			return out
		case <-time.After(time.Until(started.Add(d))):
		}
		kind := kinds[rng.IntN(len(kinds))]
		if i < len(kinds) {
			kind = kinds[i]
		}
		k := kill{Kind: kind, At: time.Now()}
		victim, err := t.kill(kind, rng.IntN)
		k.Victim = victim
		if err == nil {
			time.Sleep(c.restartAfter)
			err = t.restart(ctx, victim)
		}
		k.Ready = time.Now()
		if err != nil {
			k.Err = err.Error()
		}
		fmt.Fprintf(os.Stderr, "chaos: killed %s (%s) at +%s, ready again after %s %s\n", victim, kind,
			k.At.Sub(started).Round(time.Second), k.Ready.Sub(k.At).Round(100*time.Millisecond), k.Err)
		out = append(out, k)
	}
	return out
}

// runSIPp places calls calls at c.rate through addr with uac_chaos.xml;
// callbacks to the callers are answered by uas_callback.xml (-oocsf).
// Every message is traced to sipp.msg for the checks.
func runSIPp(ctx context.Context, c config, addr string, calls int) error {
	root := benchrig.RepoRoot()
	// -r per -rp: a fractional rate as calls per 10 s.
	args := []string{addr, "-sf", benchrig.ChaosFile("uac_chaos.xml"),
		"-oocsf", filepath.Join(root, "bench", "sipp", "uas_callback.xml"),
		"-s", chaosNumber, "-key", "caller", callerKey, "-m", strconv.Itoa(calls),
		"-r", strconv.Itoa(max(1, int(c.rate*10))), "-rp", "10000", "-l", strconv.Itoa(max(20, int(c.rate*120))),
		"-i", "127.0.0.1", "-p", strconv.Itoa(c.portBase + 20), "-mp", strconv.Itoa(c.portBase + 30), "-rtp_echo",
		"-timeout", strconv.Itoa(int((c.duration + c.grace + time.Minute).Seconds())) + "s", "-nostdin",
		"-trace_msg", "-message_file", filepath.Join(c.dir, "sipp.msg"),
		"-trace_stat", "-stf", filepath.Join(c.dir, "sipp.csv")}
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "TERM=dumb")
	out, err := os.Create(filepath.Join(c.dir, "sipp.out"))
	if err != nil {
		return fmt.Errorf("sipp output: %w", err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sipp (%s): %w", filepath.Join(c.dir, "sipp.out"), err)
	}
	return nil
}

func quietLogger() sdklog.Logger { return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)) }
