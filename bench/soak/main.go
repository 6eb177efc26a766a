// Command soak runs voxflow dev under a steady SIP load with real media
// for a long time and watches for leaks: every -every it samples the dev
// process's RSS (/proc) and goroutines (/metrics go_goroutines); at the
// end it reports failed calls and the least-squares slope of both over
// the run after the warm-up (MiB/h, goroutines/h).
//
//	go run ./bench/soak -rate 12 -duration 1h
//
// See bench/soak/README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/voxflow/voxflow/bench/benchrig"
)

type config struct {
	bin      string
	dir      string
	rate     float64
	duration time.Duration
	warmup   time.Duration
	every    time.Duration
	portBase int
	report   string
}

func main() {
	var c config
	flag.StringVar(&c.bin, "bin", "", "voxflow binary (default: go build ./cmd/voxflow into -dir)")
	flag.StringVar(&c.dir, "dir", "", "work directory (default: a new temporary one)")
	flag.Float64Var(&c.rate, "rate", 12, "new calls a second (default: about half of what dev admits of this flow: 400 live calls of ~15 s)")
	flag.DurationVar(&c.duration, "duration", time.Hour, "how long calls are placed")
	flag.DurationVar(&c.warmup, "warmup", 0, "samples before this are left out of the slopes (default: a tenth of -duration)")
	flag.DurationVar(&c.every, "every", 15*time.Second, "sampling interval")
	flag.IntVar(&c.portBase, "port-base", 28000, "first of the ports it uses (BASE..BASE+999)")
	flag.StringVar(&c.report, "report", "", "also write the report (with every sample) as JSON to this file")
	flag.Parse()
	if c.warmup == 0 {
		c.warmup = c.duration / 10
	}
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
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// run starts dev, places the calls while sampling, and stops dev.
func run(ctx context.Context, c config) (*report, error) {
	var err error
	if c.dir, c.bin, err = benchrig.Prepare(ctx, "soak", c.dir, c.bin); err != nil {
		return nil, err
	}
	d := &dev{c: c}
	if err := d.start(ctx); err != nil {
		d.stop()
		return nil, err
	}
	defer d.stop()
	sippCtx, stopSIPp := context.WithCancel(ctx)
	defer stopSIPp()
	calls := max(1, int(c.rate*c.duration.Seconds()))
	sippDone := make(chan error, 1)
	go func() { sippDone <- runSIPp(sippCtx, c, d.sipAddr(), calls) }()
	samples := sampleUntil(ctx, d, time.Now().Add(c.duration), c.every)
	// The last calls end within a minute (the flow's calls last ~20 s).
	select {
	case err := <-sippDone:
		_ = err // SIPp exits non-zero when any call failed: counted below
	case <-time.After(90 * time.Second):
		stopSIPp()
		<-sippDone
	}
	return newReport(c, calls, samples)
}
