package routingsim

import (
	"strconv"
	"time"

	"github.com/voxflow/voxflow/routing"
)

// Config is one simulated run.
type Config struct {
	Seed      uint64
	Start     time.Time     // virtual start; zero: Monday 2026-01-05 00:00 UTC
	Duration  time.Duration // arrivals stop after it (calls then waiting are still served); zero: 24h
	Interval  time.Duration // one step of Rates and one reporting interval; zero: 30m
	Rates     []float64     // arrivals per second in each interval; the last holds to the end
	AHT       time.Duration // mean handle time, talk + wrap-up (exponential)
	Patience  time.Duration // mean patience (exponential); zero: callers never hang up
	Threshold time.Duration // service-level threshold; zero: routing.DefaultThreshold
	Warmup    time.Duration // calls arriving in the first Warmup are left out of the figures
	Agents    []routing.Agent
	Calls     []CallType // the mix of calls; empty: all to queue "main" with no needs
	Rules     map[string]routing.Rules
}

// CallType is one kind of call in the mix.
type CallType struct {
	Queue    string
	Needs    []routing.Requirement
	Priority int
	Weight   float64 // share of arrivals, relative to the other types
}

// Result is what a run measured, over the calls that arrived after Warmup.
type Result struct {
	Offered             int
	Answered            int
	Abandoned           int
	AnsweredInThreshold int
	Waited              int           // callers who found no agent for them at arrival
	ServiceLevel        float64       // routing.ServiceLevel: answered within Threshold / offered
	AbandonRate         float64       // abandoned / offered
	PWait               float64       // waited / offered
	ASA                 time.Duration // mean wait of answered callers, zero waits included
	Occupancy           float64       // agent time on calls / agent time signed in, whole run
	// EWTError and EWTBias compare routing.EstimateWait, announced to a
	// caller who had to wait (AHT from the queue's routing.Window), with the
	// wait of those answered: mean |estimate - wait| and mean (estimate - wait).
	EWTError, EWTBias time.Duration
	Unserved          int // still waiting when no event was left: no agent could ever take them
	Intervals         []Interval
	Events            int // events processed
	Assigns           int // routing.Assign passes
}

// Interval holds the figures of the calls that arrived in one interval.
type Interval struct {
	Start                                             time.Time
	Rate                                              float64 // configured arrivals per second
	Offered, Answered, Abandoned, InThreshold, Waited int
	ServiceLevel, AbandonRate, PWait                  float64
	ASA                                               time.Duration
}

func (c *Config) defaults() {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	if c.Duration <= 0 {
		c.Duration = 24 * time.Hour
	}
	if c.Interval <= 0 {
		c.Interval = 30 * time.Minute
	}
	if c.Threshold <= 0 {
		c.Threshold = routing.DefaultThreshold
	}
	if len(c.Calls) == 0 {
		c.Calls = []CallType{{Queue: "main", Weight: 1}}
	}
}

// Steady is a one-queue configuration at a constant rate: n agents with
// no skills, traffic erlangs (rate x AHT).
func Steady(n int, erlangs float64, aht, patience time.Duration) Config {
	agents := make([]routing.Agent, n)
	for i := range agents {
		agents[i] = routing.Agent{Name: agentName(i), Capacity: 1}
	}
	return Config{Rates: []float64{erlangs / aht.Seconds()}, AHT: aht, Patience: patience, Agents: agents}
}

func agentName(i int) string { return "agent" + strconv.Itoa(i+1) }
