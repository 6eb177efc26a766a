// Command chaos runs SIP calls with real media through voxflow while it
// kills processes with SIGKILL at random moments and restarts them, then
// checks call by call that nothing was lost: every call reached a final
// outcome in its CDR, no call was called back twice, no workflow is left
// running. It reports kills and recovery times per kind and the delay
// from a media worker's death to the callback INVITE at the caller.
//
//	go run ./bench/chaos -target dev -duration 2m -rate 2 -kills 3 -seed 1
//
// See bench/chaos/README.md.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/voxflow/voxflow/bench/benchrig"
)

// config is the run's flags.
type config struct {
	target       string
	bin          string // voxflow binary (empty: built into dir)
	dir          string // work dir: data, logs, SIPp traces
	duration     time.Duration
	rate         float64 // new calls a second
	kills        int
	seed         int64
	restartAfter time.Duration // from a kill to the restart
	grace        time.Duration // after the load, for calls and callbacks to end
	report       string        // JSON report file (empty: none)
	portBase     int
}

func main() {
	var c config
	flag.StringVar(&c.target, "target", "dev", "what to kill: dev (one voxflow dev process) or cluster (deploy/local-cluster)")
	flag.StringVar(&c.bin, "bin", "", "voxflow binary (default: go build ./cmd/voxflow into -dir)")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary one)")
	flag.DurationVar(&c.duration, "duration", 2*time.Minute, "how long calls are placed")
	flag.Float64Var(&c.rate, "rate", 2, "new calls a second")
	flag.IntVar(&c.kills, "kills", 3, "SIGKILLs during the run, at random moments")
	flag.Int64Var(&c.seed, "seed", 1, "seed of the kill schedule and victims")
	flag.DurationVar(&c.restartAfter, "restart-after", 2*time.Second, "time from a kill to the restart")
	flag.DurationVar(&c.grace, "grace", 90*time.Second, "wait after the load for calls and callbacks to end")
	flag.StringVar(&c.report, "report", "", "also write the report as JSON to this file")
	flag.IntVar(&c.portBase, "port-base", 26000, "first of the ports it uses (BASE..BASE+999)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, c)
	if rep != nil {
		rep.print(os.Stdout)
		if c.report != "" {
			if b, jerr := json.MarshalIndent(rep, "", "  "); jerr == nil {
				_ = os.WriteFile(c.report, b, 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if len(rep.Problems) > 0 {
		os.Exit(2)
	}
}

// run prepares the target, runs the load with kills and checks the calls.
func run(ctx context.Context, c config) (*report, error) {
	var err error
	if c.dir, c.bin, err = benchrig.Prepare(ctx, "chaos", c.dir, c.bin); err != nil {
		return nil, err
	}
	var t target
	switch c.target {
	case "dev":
		t = newDevTarget(c)
	case "cluster":
		t = newClusterTarget(c)
	default:
		return nil, errors.New("-target: want dev or cluster")
	}
	return runLoad(ctx, c, t)
}
