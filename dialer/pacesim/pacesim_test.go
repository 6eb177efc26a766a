package pacesim

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// issue13 is the campaign of the issue's figures: 20 agents, 30% live
// answers, 3 min talk, 30 s wrap-up, 8 hours.
func issue13(mode string, seed int64) Model {
	return Model{Agents: 20, AnswerRate: 0.3, MachineRate: 0.15, Talk: 3 * time.Minute, Wrap: 30 * time.Second,
		Hours: 8, Seed: seed, Mode: mode}
}

func TestProgressiveAbandonsNobody(t *testing.T) {
	for seed := range int64(3) {
		r := Run(issue13(records.PaceProgressive, seed))
		if r.Abandoned != 0 || r.AbandonRate != 0 {
			t.Errorf("seed %d: %d abandoned (%.2f%%)", seed, r.Abandoned, 100*r.AbandonRate)
		}
		// A line per available agent idles agents for a ring time and more
		// per call: about 75% at these figures.
		if r.Dials < 5000 || r.Connected < 1500 || r.Occupancy < 0.70 || r.Occupancy > 0.82 {
			t.Errorf("seed %d: %+v", seed, r)
		}
		if r.ProgressiveShare != 0 {
			t.Errorf("seed %d: progressive share %v outside predictive pacing", seed, r.ProgressiveShare)
		}
	}
}

// TestPredictiveUnderTheCap holds the figures the simulator reaches with
// margin: abandons under 2.5% (the cap is 3%, the default target 2%) and
// occupancy at least 85% (86-87% over seeds 0-5), well above progressive.
func TestPredictiveUnderTheCap(t *testing.T) {
	for seed := range int64(3) {
		r := Run(issue13(records.PacePredictive, seed))
		prog := Run(issue13(records.PaceProgressive, seed))
		if r.AbandonRate > 0.025 || r.Abandoned == 0 {
			t.Errorf("seed %d: abandon rate %.2f%% (%d of %d)", seed, 100*r.AbandonRate, r.Abandoned, r.LiveAnswers)
		}
		if r.Occupancy < 0.85 || r.Occupancy > 0.95 {
			t.Errorf("seed %d: occupancy %.1f%%", seed, 100*r.Occupancy)
		}
		if r.Occupancy < prog.Occupancy+0.07 || r.MeanWaitBetweenCalls >= prog.MeanWaitBetweenCalls {
			t.Errorf("seed %d: predictive %.1f%% (wait %v), progressive %.1f%% (wait %v)", seed,
				100*r.Occupancy, r.MeanWaitBetweenCalls, 100*prog.Occupancy, prog.MeanWaitBetweenCalls)
		}
		// Warm-up only: 30 dials, 40 handled calls and 100 live answers.
		if r.ProgressiveShare <= 0 || r.ProgressiveShare > 0.08 {
			t.Errorf("seed %d: paced progressively %.1f%% of the time", seed, 100*r.ProgressiveShare)
		}
		if r.P95WaitBetweenCalls < r.MeanWaitBetweenCalls || r.MeanWaitBetweenCalls <= 0 {
			t.Errorf("seed %d: wait between calls mean %v, p95 %v", seed, r.MeanWaitBetweenCalls, r.P95WaitBetweenCalls)
		}
	}
}

func TestTargetTradesOccupancyForAbandons(t *testing.T) {
	low, high := issue13(records.PacePredictive, 1), issue13(records.PacePredictive, 1)
	low.Target, high.Target = 0.005, 0.02
	l, h := Run(low), Run(high)
	if l.AbandonRate >= h.AbandonRate || l.Occupancy >= h.Occupancy || l.AbandonRate > 0.01 {
		t.Fatalf("target 0.5%%: %.2f%% abandoned, %.1f%% busy; target 2%%: %.2f%%, %.1f%%",
			100*l.AbandonRate, 100*l.Occupancy, 100*h.AbandonRate, 100*h.Occupancy)
	}
}

func TestNoAgentsDialsNobody(t *testing.T) {
	for _, mode := range []string{records.PacePredictive, records.PaceProgressive} {
		m := issue13(mode, 1)
		m.Agents = 0
		if r := Run(m); r != (Result{ProgressiveShare: r.ProgressiveShare}) {
			t.Errorf("%s with no agent: %+v", mode, r)
		}
	}
}

func TestRepeatable(t *testing.T) {
	m := issue13(records.PacePredictive, 7)
	m.Hours = 1
	a, b := Run(m), Run(m)
	if a != b {
		t.Fatalf("same seed, two results:\n%+v\n%+v", a, b)
	}
	m.Seed = 8
	if c := Run(m); c == a {
		t.Fatalf("seeds 7 and 8 gave the same result: %+v", c)
	}
}

func TestMachinesAreNotAbandoned(t *testing.T) {
	m := issue13(records.PacePredictive, 1)
	m.AnswerRate, m.MachineRate, m.Hours = 0, 0.6, 1
	r := Run(m)
	if r.Machines == 0 || r.Abandoned != 0 || r.LiveAnswers != 0 {
		t.Fatalf("machines only: %+v", r)
	}
}

func TestCheck(t *testing.T) {
	good := issue13(records.PacePredictive, 1)
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change func(*Model)
		want   string
	}{
		{func(m *Model) { m.Mode = "preview" }, `mode "preview": must be predictive or progressive`},
		{func(m *Model) { m.Agents = -1 }, "agents -1: must be 0 to 10000"},
		{func(m *Model) { m.AnswerRate = 1.5 }, "answer rate 1.5: must be 0 to 1"},
		{func(m *Model) { m.MachineRate = -0.1 }, "machine rate -0.1: must be 0 to 1"},
		{func(m *Model) { m.AnswerRate, m.MachineRate = 0.7, 0.4 }, "answer rate 0.7 and machine rate 0.4: add up to more than 1"},
		{func(m *Model) { m.Talk = 0 }, "talk 0s: must be above 0"},
		{func(m *Model) { m.Wrap = -time.Second }, "wrap-up -1s: must be 0 to 24h0m0s"},
		{func(m *Model) { m.Ring = 30 * time.Second }, "ring 30s: must be 2s to 24s"},
		{func(m *Model) { m.Hours = 0 }, "hours 0: must be above 0"},
		{func(m *Model) { m.Target = 1.5 }, "target 1.5: must be 0 to 1"},
		{func(m *Model) { m.Tick = time.Hour }, "tick 1h0m0s: must be 0 to 1m"},
	} {
		m := good
		tc.change(&m)
		err := m.Check()
		if !errors.Is(err, ErrModel) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check() = %v; want %q", err, tc.want)
		}
	}
}
