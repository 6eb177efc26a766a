// Package pacesim runs a campaign's dialling in virtual time, with the
// same pacing.Controller the campaign workflow runs: Decide on every tick
// and every event, Observe on every dial that leaves the lines and every
// wrap-up that ends. It measures what a pacing costs (abandoned live
// answers) and what it buys (agent occupancy).
//
// The model. Every agent is signed in for the whole run and takes one call
// at a time. A dial is a live answer with probability AnswerRate, a
// machine with MachineRate, otherwise a no-answer that rings out at the
// 25 s ring timeout. Answered dials ring for a normal time (mean Ring,
// deviation Ring/3) kept within 2 s and 24 s. A person's greeting
// ("Hello?") lasts 1 to 2 s (uniform, mean 1.5 s); answering-machine
// detection calls it human 0.5 s after the greeting ends (the silence it
// waits for), and the dialer then connects the first free agent. If none
// is free within 2 s of the greeting's end (47 CFR 64.1200(a)(7)), the
// call is abandoned: the person hears a short message and the line ends.
// Machines are detected 2.5 s after the answer (a greeting longer than a
// person's) and hung up; detection makes no mistakes here. Talk and
// wrap-up are exponential (means Talk and Wrap). Randomness comes from
// math/rand/v2 seeded with Seed, in separate streams for dials and for
// handle times, so two modes meet the same callees.
package pacesim

import (
	"errors"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// Fixed times of the model (see the package doc).
const (
	RingTimeout    = 25 * time.Second
	AbandonLimit   = 2 * time.Second // greeting end to agent connected
	amdSilence     = 500 * time.Millisecond
	machineAMD     = 2500 * time.Millisecond
	minGreeting    = 1 * time.Second
	maxGreeting    = 2 * time.Second
	minRing        = 2 * time.Second
	maxRing        = RingTimeout - time.Second
	DefaultRing    = 12 * time.Second
	DefaultTick    = time.Second
	DefaultCap     = 0.03
	maxHours       = 24 * 31
	maxAgents      = 10000
	maxMeanHandles = 24 * time.Hour
)

// Model is a campaign to simulate.
type Model struct {
	Agents int `json:"agents"`
	// AnswerRate and MachineRate are the shares of dials a person, or a
	// machine, answers; the rest ring out.
	AnswerRate  float64 `json:"answer_rate"`
	MachineRate float64 `json:"machine_rate"`
	// Talk and Wrap are mean talk and wrap-up (exponential); Ring the mean
	// ring time of answered dials (0: DefaultRing).
	Talk time.Duration `json:"talk"`
	Wrap time.Duration `json:"wrap"`
	Ring time.Duration `json:"ring,omitempty"`
	// Hours of virtual time.
	Hours float64 `json:"hours"`
	Seed  int64   `json:"seed"`
	// Mode is records.PacePredictive or records.PaceProgressive.
	Mode string `json:"mode"`
	// Target is the abandon rate the predictive controller steers to (0:
	// its default); AbandonCap the cap (0: 3%); MaxRatio the lines per
	// expected agent (0: pacing's default).
	Target     float64 `json:"target,omitempty"`
	AbandonCap float64 `json:"abandon_cap,omitempty"`
	MaxRatio   float64 `json:"max_ratio,omitempty"`
	// Tick is how often the campaign decides besides events (0: 1 s).
	Tick time.Duration `json:"tick,omitempty"`
}

// ErrModel is a model that Run cannot simulate.
var ErrModel = errors.New("invalid model")

// Check says what is wrong with m, if anything.
func (m Model) Check() error {
	var problem string
	switch {
	case m.Mode != records.PacePredictive && m.Mode != records.PaceProgressive:
		problem = fmt.Sprintf("mode %q: must be %s or %s", m.Mode, records.PacePredictive, records.PaceProgressive)
	case m.Agents < 0 || m.Agents > maxAgents:
		problem = fmt.Sprintf("agents %d: must be 0 to %d", m.Agents, maxAgents)
	case !(m.AnswerRate >= 0 && m.AnswerRate <= 1):
		problem = fmt.Sprintf("answer rate %v: must be 0 to 1", m.AnswerRate)
	case !(m.MachineRate >= 0 && m.MachineRate <= 1):
		problem = fmt.Sprintf("machine rate %v: must be 0 to 1", m.MachineRate)
	case m.AnswerRate+m.MachineRate > 1:
		problem = fmt.Sprintf("answer rate %v and machine rate %v: add up to more than 1", m.AnswerRate, m.MachineRate)
	case m.Talk <= 0 || m.Talk > maxMeanHandles:
		problem = fmt.Sprintf("talk %v: must be above 0 and at most %v", m.Talk, maxMeanHandles)
	case m.Wrap < 0 || m.Wrap > maxMeanHandles:
		problem = fmt.Sprintf("wrap-up %v: must be 0 to %v", m.Wrap, maxMeanHandles)
	case m.Ring != 0 && (m.Ring < minRing || m.Ring > maxRing):
		problem = fmt.Sprintf("ring %v: must be %v to %v", m.Ring, minRing, maxRing)
	case !(m.Hours > 0 && m.Hours <= maxHours):
		problem = fmt.Sprintf("hours %v: must be above 0 and at most %d", m.Hours, maxHours)
	case !(m.Target >= 0 && m.Target <= 1):
		problem = fmt.Sprintf("target %v: must be 0 to 1", m.Target)
	case !(m.AbandonCap >= 0 && m.AbandonCap <= 1):
		problem = fmt.Sprintf("abandon cap %v: must be 0 to 1", m.AbandonCap)
	case !(m.MaxRatio >= 0 && m.MaxRatio <= 100):
		problem = fmt.Sprintf("max ratio %v: must be 0 to 100", m.MaxRatio)
	case m.Tick < 0 || m.Tick > time.Minute:
		problem = fmt.Sprintf("tick %v: must be 0 to 1m", m.Tick)
	default:
		return nil
	}
	return fmt.Errorf("%w: %s", ErrModel, problem)
}

func (m Model) withDefaults() Model {
	if m.Ring == 0 {
		m.Ring = DefaultRing
	}
	if m.Tick == 0 {
		m.Tick = DefaultTick
	}
	if m.AbandonCap == 0 {
		m.AbandonCap = DefaultCap
	}
	return m
}

// Result is what a run measured. Calls still in progress at the end count
// as dials only.
type Result struct {
	Dials int `json:"dials"`
	// LiveAnswers are the dials a person answered, abandoned ones
	// included; Connected reached an agent.
	LiveAnswers int `json:"live_answers"`
	Connected   int `json:"connected"`
	Machines    int `json:"machines"`
	Abandoned   int `json:"abandoned"`
	// AbandonRate is Abandoned / LiveAnswers.
	AbandonRate float64 `json:"abandon_rate"`
	// Occupancy is talk and wrap-up over signed-in time.
	Occupancy         float64 `json:"occupancy"`
	DialsPerAgentHour float64 `json:"dials_per_agent_hour"`
	// Wait between calls is an agent's idle time from the end of a
	// wrap-up to the next call connected.
	MeanWaitBetweenCalls time.Duration `json:"mean_wait_between_calls"`
	P95WaitBetweenCalls  time.Duration `json:"p95_wait_between_calls"`
	// ProgressiveShare is the share of the time a predictive campaign
	// paced progressively (warm-up, near the cap), counted at ticks.
	ProgressiveShare float64 `json:"progressive_share"`
}
