package routingsim

import (
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/routing"
)

const aht = 180 * time.Second

// batchMean is the mean of one figure over the intervals (batches of the
// long run) and its standard error. Batches of 10 hours are long against
// the queue's memory (minutes), so they are close to independent.
func batchMean(ivs []Interval, figure func(Interval) float64) (mean, se float64) {
	n := float64(len(ivs))
	for _, iv := range ivs {
		mean += figure(iv)
	}
	mean /= n
	var ss float64
	for _, iv := range ivs {
		d := figure(iv) - mean
		ss += d * d
	}
	return mean, math.Sqrt(ss / (n - 1) / n)
}

// TestAgreesWithErlang runs M/M/N(+M) for 400 simulated hours (about
// 64,000 calls at 8 Erlangs) and requires the simulated probability of
// waiting, service level and abandonment within 4 standard errors of the
// formula (batch means over 40 batches of 10 h after 1 h of warm-up). With
// a fixed seed the outcome is fixed; 4 SE is a band a correct simulation
// leaves with probability about 6e-5 per figure, while the test's power
// check below shows it is narrow enough to tell Erlang A from Erlang C.
func TestAgreesWithErlang(t *testing.T) {
	tests := []struct {
		agents   int
		erlangs  float64
		patience time.Duration
	}{
		{10, 8, 0},                  // Erlang C
		{10, 8, 300 * time.Second},  // Erlang A
		{10, 11, 120 * time.Second}, // overloaded: only abandonment keeps the queue finite
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("N=%d,A=%v,patience=%v", tt.agents, tt.erlangs, tt.patience), func(t *testing.T) {
			cfg := Steady(tt.agents, tt.erlangs, aht, tt.patience)
			cfg.Seed, cfg.Duration, cfg.Interval, cfg.Warmup = 7, 401*time.Hour, 10*time.Hour, time.Hour
			r := Run(cfg)
			ivs := r.Intervals[1:] // the first batch holds the warm-up hour, with no calls counted
			want := routing.ErlangADetail(tt.agents, tt.erlangs/aht.Seconds(), aht, tt.patience, routing.DefaultThreshold)
			figures := []struct {
				name   string
				figure func(Interval) float64
				want   float64
			}{
				{"P(wait)", func(iv Interval) float64 { return iv.PWait }, want.PWait},
				{"service level", func(iv Interval) float64 { return iv.ServiceLevel }, want.ServiceLevel},
				{"abandon rate", func(iv Interval) float64 { return iv.AbandonRate }, want.PAbandon},
				{"ASA (s)", func(iv Interval) float64 { return iv.ASA.Seconds() }, want.ASA.Seconds()},
			}
			for _, f := range figures {
				mean, se := batchMean(ivs, f.figure)
				t.Logf("%-13s simulated %.4f ± %.4f, formula %.4f", f.name, mean, se, f.want)
				if math.Abs(mean-f.want) > 4*se+1e-9 {
					t.Errorf("%s: simulated %.4f ± %.4f (1 SE), formula %.4f: off by %.1f SE", f.name, mean, se, f.want, math.Abs(mean-f.want)/se)
				}
			}
			if tt.patience > 0 {
				// Power: the band excludes Erlang C, which ignores abandonment.
				c := routing.ErlangC(tt.agents, tt.erlangs)
				mean, se := batchMean(ivs, func(iv Interval) float64 { return iv.PWait })
				if math.Abs(mean-c) < 4*se {
					t.Errorf("P(wait) %.4f ± %.4f cannot tell Erlang A from Erlang C (%.4f)", mean, se, c)
				}
			}
			if r.Unserved != 0 || r.Offered != r.Answered+r.Abandoned {
				t.Errorf("offered %d, answered %d, abandoned %d, unserved %d", r.Offered, r.Answered, r.Abandoned, r.Unserved)
			}
		})
	}
}

func TestRepeatable(t *testing.T) {
	cfg := Steady(5, 4, aht, time.Minute)
	cfg.Seed, cfg.Duration = 3, 5*time.Hour
	a, b := Run(cfg), Run(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	cfg.Seed = 4
	if c := Run(cfg); c.Offered == a.Offered && c.Answered == a.Answered {
		t.Error("another seed gives the same run")
	}
}

// TestProfile checks the piecewise arrival rate: each interval's count is
// Poisson with mean rate x interval, so within 4 of its standard deviations.
func TestProfile(t *testing.T) {
	cfg := Steady(50, 0, aht, time.Minute)
	cfg.Seed, cfg.Duration, cfg.Interval = 11, 4*time.Hour, time.Hour
	cfg.Rates = []float64{0.05, 0, 0.2, 0.1} // 180, 0, 720, 360 calls in the hour
	r := Run(cfg)
	if len(r.Intervals) != 4 {
		t.Fatalf("%d intervals, want 4", len(r.Intervals))
	}
	for i, iv := range r.Intervals {
		mean := cfg.Rates[i] * 3600
		if math.Abs(float64(iv.Offered)-mean) > 4*math.Sqrt(mean) || mean == 0 && iv.Offered != 0 {
			t.Errorf("interval %d: %d calls, want about %.0f", i, iv.Offered, mean)
		}
	}
}

// TestSkillsAndOverflow routes through real skills: billing calls wait for
// the one billing agent until their overflow step clears the need.
func TestSkillsAndOverflow(t *testing.T) {
	agents := []routing.Agent{
		{Name: "bill", Skills: routing.Skills{"billing": 5}, Capacity: 1},
		{Name: "gen1", Capacity: 1},
		{Name: "gen2", Capacity: 1},
	}
	cfg := Config{Seed: 5, Duration: 20 * time.Hour, Rates: []float64{1.5 / 180}, AHT: aht, Agents: agents,
		Calls: []CallType{{Queue: "main", Needs: []routing.Requirement{{Skill: "billing", Level: 3}}, Weight: 1}}}
	strict := Run(cfg)
	cfg.Rules = map[string]routing.Rules{"main": {Overflow: []routing.Overflow{{After: 30 * time.Second, ClearNeeds: true}}}}
	widened := Run(cfg)
	// 1.5 Erlangs on one agent is overload: the queue only grows. With the
	// overflow, all three agents carry the load (occupancy 1.5/3), and a
	// caller waits for the billing agent at most 30 s unless all are busy.
	if strict.ServiceLevel > 0.1 || strict.ASA < time.Hour {
		t.Errorf("without overflow: service level %.3f, ASA %v; want an ever-growing queue", strict.ServiceLevel, strict.ASA)
	}
	if math.Abs(widened.Occupancy-0.5) > 0.05 || widened.ASA > 90*time.Second || widened.ServiceLevel < 0.25 {
		t.Errorf("with overflow: occupancy %.3f, ASA %v, service level %.3f", widened.Occupancy, widened.ASA, widened.ServiceLevel)
	}
}
