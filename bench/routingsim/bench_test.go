package routingsim

import (
	"testing"
	"time"

	"github.com/voxflow/voxflow/routing"
)

// BenchmarkSimulatedDay simulates 24 hours per iteration (seed = iteration)
// and reports the figures averaged over iterations.
//
//   - steady: one queue, 50 agents, 45 Erlangs (900 calls an hour), AHT
//     180 s, mean patience 120 s: M/M/50+M, so the simulated service level,
//     abandonment and P(wait) sit beside Erlang A's (and Erlang C's, which
//     ignores abandonment).
//   - profile: a working day's arrival profile in 30-minute steps over
//     three queues with skills and overflow, 60 agents all day.
func BenchmarkSimulatedDay(b *testing.B) {
	b.Run("steady", func(b *testing.B) {
		cfg := Steady(50, 45, aht, 120*time.Second)
		cfg.Warmup = 30 * time.Minute
		rate := cfg.Rates[0]
		runDays(b, cfg)
		c := routing.ErlangCDetail(50, rate, aht, routing.DefaultThreshold)
		a := routing.ErlangADetail(50, rate, aht, cfg.Patience, routing.DefaultThreshold)
		b.ReportMetric(c.ServiceLevel, "sl_erlangC")
		b.ReportMetric(a.ServiceLevel, "sl_erlangA")
		b.ReportMetric(a.PAbandon, "abandon_erlangA")
		b.ReportMetric(a.PWait, "pwait_erlangA")
		b.ReportMetric(a.ASA.Seconds(), "asa_erlangA_s")
	})
	b.Run("profile", func(b *testing.B) {
		runDays(b, profileDay())
	})
}

// runDays runs b.N days and reports the simulated figures and speed.
func runDays(b *testing.B, cfg Config) {
	var sum Result
	var calls, worst float64
	cpu0 := cpuTime()
	for i := 0; b.Loop(); i++ {
		cfg.Seed = uint64(i + 1)
		r := Run(cfg)
		sum.ServiceLevel += r.ServiceLevel
		sum.AbandonRate += r.AbandonRate
		sum.PWait += r.PWait
		sum.ASA += r.ASA
		sum.EWTError += r.EWTError
		sum.EWTBias += r.EWTBias
		calls += float64(r.Offered)
		low := 1.0
		for _, iv := range r.Intervals {
			if iv.Offered > 0 {
				low = min(low, iv.ServiceLevel)
			}
		}
		worst += low
	}
	cpu := (cpuTime() - cpu0).Seconds()
	n := float64(b.N)
	b.ReportMetric(sum.ServiceLevel/n, "sl_sim")
	b.ReportMetric(sum.AbandonRate/n, "abandon_sim")
	b.ReportMetric(sum.PWait/n, "pwait_sim")
	b.ReportMetric(sum.ASA.Seconds()/n, "asa_sim_s")
	b.ReportMetric(sum.EWTError.Seconds()/n, "ewt_err_s")
	b.ReportMetric(sum.EWTBias.Seconds()/n, "ewt_bias_s")
	b.ReportMetric(worst/n, "sl_worst_interval")
	b.ReportMetric(calls/n, "calls/day")
	if cpu > 0 {
		b.ReportMetric(calls/cpu, "calls/cpu-s")
	}
}

// profileDay is a weekday: quiet night, a morning peak, a lunch dip, an
// afternoon peak, a quiet evening; 60 agents, 3 queues.
func profileDay() Config {
	perHour := []float64{ // calls an hour, hour by hour from midnight
		20, 10, 10, 10, 20, 40, 120, 400, 800, 1000, 1000, 900,
		700, 750, 950, 900, 800, 600, 400, 250, 150, 100, 60, 40}
	var rates []float64
	for _, h := range perHour {
		rates = append(rates, h/3600, h/3600) // two 30-minute steps an hour
	}
	var agents []routing.Agent
	for i := range 60 {
		a := routing.Agent{Name: agentName(i), Capacity: 1, Skills: routing.Skills{"english": 5}}
		switch {
		case i < 30:
			a.Queues = []string{"sales"}
		case i < 50:
			a.Queues = []string{"support"}
			a.Skills["tech"] = 3 + i%5
		default:
			a.Queues = []string{"billing", "support"}
			a.Skills["billing"] = 4 + i%4
		}
		agents = append(agents, a)
	}
	english := routing.Requirement{Skill: "english", Level: 3}
	return Config{
		Interval: 30 * time.Minute, Rates: rates, AHT: aht, Patience: 150 * time.Second, Agents: agents,
		Calls: []CallType{
			{Queue: "sales", Needs: []routing.Requirement{english}, Weight: 0.5},
			{Queue: "support", Needs: []routing.Requirement{english, {Skill: "tech", Level: 5}}, Weight: 0.35},
			{Queue: "billing", Needs: []routing.Requirement{{Skill: "billing", Level: 6}}, Priority: 1, Weight: 0.15},
		},
		Rules: map[string]routing.Rules{
			"support": {Overflow: []routing.Overflow{{After: 30 * time.Second, Needs: []routing.Requirement{english, {Skill: "tech", Level: 3}}}}},
			"billing": {Overflow: []routing.Overflow{{After: 45 * time.Second, Needs: []routing.Requirement{{Skill: "billing", Level: 4}}}}},
		},
	}
}
