package main

import (
	"fmt"
	"io"
	"path/filepath"
)

// report is the soak's result.
type report struct {
	Rate             float64  `json:"rate"`
	Duration         string   `json:"duration"`
	Warmup           string   `json:"warmup"`
	CallsPlanned     int      `json:"calls_planned"`
	CallsCreated     int      `json:"calls_created"`
	CallsSucceeded   int      `json:"calls_succeeded"`
	CallsFailed      int      `json:"calls_failed"`
	RSSStartMiB      float64  `json:"rss_start_mib"`
	RSSEndMiB        float64  `json:"rss_end_mib"`
	RSSSlopeMiBPerH  float64  `json:"rss_slope_mib_per_hour"`
	GoroutineSlopePH float64  `json:"goroutine_slope_per_hour"`
	Samples          []sample `json:"samples"`
}

func newReport(c config, calls int, samples []sample) (*report, error) {
	r := &report{Rate: c.rate, Duration: c.duration.String(), Warmup: c.warmup.String(), CallsPlanned: calls, Samples: samples}
	created, ok, failed, err := sippTotals(filepath.Join(c.dir, "sipp.csv"))
	r.CallsCreated, r.CallsSucceeded, r.CallsFailed = created, ok, failed
	var after []sample
	for _, s := range samples {
		if s.At.Sub(samples[0].At) >= c.warmup {
			after = append(after, s)
		}
	}
	if len(after) > 0 {
		r.RSSStartMiB, r.RSSEndMiB = after[0].RSSMiB, after[len(after)-1].RSSMiB
	}
	r.RSSSlopeMiBPerH = slopePerHour(after, func(s sample) float64 { return s.RSSMiB })
	r.GoroutineSlopePH = slopePerHour(after, func(s sample) float64 { return s.Goroutines })
	return r, err
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "soak: %s at %.1f calls/s (warm-up %s): %d calls created, %d succeeded, %d failed (of %d planned)\n",
		r.Duration, r.Rate, r.Warmup, r.CallsCreated, r.CallsSucceeded, r.CallsFailed, r.CallsPlanned)
	fmt.Fprintf(w, "RSS %.1f -> %.1f MiB after the warm-up, slope %+.1f MiB/h; goroutines slope %+.0f /h (%d samples)\n",
		r.RSSStartMiB, r.RSSEndMiB, r.RSSSlopeMiBPerH, r.GoroutineSlopePH, len(r.Samples))
}
