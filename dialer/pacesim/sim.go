package pacesim

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/pacing"
)

// call is one dial.
type call struct {
	start    time.Duration
	answered time.Duration // when answered (live answers and machines)
	waiting  bool          // a person waits for an agent
}

type sim struct {
	m      Model
	ctl    pacing.Controller
	now    time.Duration
	end    time.Duration
	events eventQueue
	seq    uint64
	dials  *rand.Rand // outcome, ring and greeting of each dial
	handle *rand.Rand // talk and wrap-up of each connected call

	available []int           // idle agents, longest idle first
	idleSince []time.Duration // by agent; -1 before the agent's first call
	waiting   []*call         // live answers waiting for an agent, oldest first
	lines     int
	wrapping  int // agents in wrap-up
	tally     records.CampaignTally
	busy      time.Duration // talk and wrap-up within the run
	waits     []time.Duration

	// ticks decided, and those a predictive campaign paced progressively
	ticks, progressiveTicks int
}

// Run simulates m. It panics when m.Check fails: check a model from
// outside first.
func Run(m Model) Result {
	if err := m.Check(); err != nil {
		panic(err)
	}
	s := newSim(m.withDefaults())
	s.schedule(event{kind: tick})
	for s.events.Len() > 0 {
		e := s.next()
		if e.at > s.end {
			break
		}
		s.now = e.at
		s.apply(e)
		d := s.decide()
		if e.kind == tick {
			s.ticks++
			if s.m.Mode == records.PacePredictive && d.Pacing == records.PaceProgressive {
				s.progressiveTicks++
			}
		}
	}
	return s.result()
}

func newSim(m Model) *sim {
	ctl := pacing.NewController(m.AbandonCap)
	ctl.Target = m.Target
	seed := uint64(m.Seed)
	s := &sim{
		m:         m,
		ctl:       ctl,
		end:       time.Duration(m.Hours * float64(time.Hour)),
		dials:     rand.New(rand.NewPCG(seed, 0x6469616c)),   // "dial"
		handle:    rand.New(rand.NewPCG(seed, 0x68616e646c)), // "handl"
		idleSince: make([]time.Duration, m.Agents),
	}
	for a := range m.Agents {
		s.available = append(s.available, a)
		s.idleSince[a] = -1
	}
	return s
}

func (s *sim) apply(e event) {
	switch e.kind {
	case tick:
		s.schedule(event{at: s.now + s.m.Tick, kind: tick})
	case ringOut:
		s.tally.NoAnswer++
		s.lineEnded(pacing.Observation{Outcome: records.AttemptNoAnswer, Ring: s.now - e.call.start})
	case machine:
		s.tally.Machine++
		s.lineEnded(pacing.Observation{Outcome: records.AttemptMachine,
			Ring: e.call.answered - e.call.start, Wait: s.now - e.call.answered})
	case human:
		if len(s.available) > 0 {
			a := s.available[0]
			s.available = s.available[1:]
			s.connect(e.call, a)
			return
		}
		e.call.waiting = true
		s.waiting = append(s.waiting, e.call)
	case deadline:
		if e.call.waiting {
			s.abandon(e.call)
		}
	case talkEnd:
		s.wrapping++
	case agentFree:
		s.wrapping--
		s.ctl.Observe(pacing.Observation{Outcome: pacing.OutcomeHandled, Talk: e.talk, Wrap: e.wrap})
		s.freeAgent(e.agent)
	}
}

// dial starts a dial and schedules how it ends.
func (s *sim) dial() {
	c := &call{start: s.now}
	s.tally.Dials++
	s.lines++
	r := s.dials.Float64()
	ring := s.ringTime()
	greeting := minGreeting + time.Duration(s.dials.Float64()*float64(maxGreeting-minGreeting))
	c.answered = s.now + ring
	switch {
	case r < s.m.AnswerRate:
		s.schedule(event{at: c.answered + greeting + amdSilence, kind: human, call: c})
		s.schedule(event{at: c.answered + greeting + AbandonLimit, kind: deadline, call: c})
	case r < s.m.AnswerRate+s.m.MachineRate:
		s.schedule(event{at: c.answered + machineAMD, kind: machine, call: c})
	default:
		s.schedule(event{at: s.now + RingTimeout, kind: ringOut, call: c})
	}
}

// ringTime is normal (mean Ring, deviation Ring/3) within minRing and
// maxRing.
func (s *sim) ringTime() time.Duration {
	d := float64(s.m.Ring) * (1 + s.dials.NormFloat64()/3)
	return time.Duration(math.Min(float64(maxRing), math.Max(float64(minRing), d)))
}

func (s *sim) lineEnded(o pacing.Observation) {
	s.lines--
	s.ctl.Observe(o)
}

// connect gives a person agent a, from idle.
func (s *sim) connect(c *call, a int) {
	c.waiting = false
	s.tally.Human++
	s.lineEnded(pacing.Observation{Outcome: records.AttemptHuman, Ring: c.answered - c.start, Wait: s.now - c.answered})
	if s.idleSince[a] >= 0 {
		s.waits = append(s.waits, s.now-s.idleSince[a])
	}
	talk := time.Duration(s.handle.ExpFloat64() * float64(s.m.Talk))
	wrap := time.Duration(s.handle.ExpFloat64() * float64(s.m.Wrap))
	s.busy += min(talk+wrap, s.end-s.now)
	s.schedule(event{at: s.now + talk, kind: talkEnd, agent: a})
	s.schedule(event{at: s.now + talk + wrap, kind: agentFree, agent: a, talk: talk, wrap: wrap})
}

func (s *sim) abandon(c *call) {
	c.waiting = false
	s.waiting = slices.DeleteFunc(s.waiting, func(w *call) bool { return w == c })
	s.tally.Human++
	s.tally.Abandoned++
	s.lineEnded(pacing.Observation{Outcome: records.AttemptAbandoned, Ring: c.answered - c.start, Wait: s.now - c.answered})
}

// freeAgent ends a's wrap-up: a takes the oldest person waiting, if any.
func (s *sim) freeAgent(a int) {
	s.idleSince[a] = s.now
	if len(s.waiting) > 0 {
		c := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.connect(c, a)
		return
	}
	s.available = append(s.available, a)
}

// decide asks the controller, exactly as the campaign workflow does, and
// starts the dials it says.
func (s *sim) decide() pacing.Decision {
	busy := s.m.Agents - len(s.available)
	d := s.ctl.Decide(pacing.Snapshot{
		Mode:            s.m.Mode,
		AgentsSignedIn:  s.m.Agents,
		AgentsAvailable: len(s.available),
		AgentsBusy:      busy,
		AgentsWrapping:  s.wrapping,
		Lines:           s.lines,
		Window30d:       s.tally,
		AbandonCap:      s.m.AbandonCap,
		MaxRatio:        s.m.MaxRatio,
		Pending:         true,
	})
	for range d.Dial {
		s.dial()
	}
	return d
}

func (s *sim) result() Result {
	r := Result{
		Dials:       s.tally.Dials,
		LiveAnswers: s.tally.Human,
		Connected:   s.tally.Human - s.tally.Abandoned,
		Machines:    s.tally.Machine,
		Abandoned:   s.tally.Abandoned,
		AbandonRate: s.tally.AbandonRate(),
	}
	if s.m.Agents > 0 {
		signedIn := float64(s.m.Agents) * float64(s.end)
		r.Occupancy = float64(s.busy) / signedIn
		r.DialsPerAgentHour = float64(r.Dials) / (float64(s.m.Agents) * s.m.Hours)
	}
	if s.ticks > 0 {
		r.ProgressiveShare = float64(s.progressiveTicks) / float64(s.ticks)
	}
	if len(s.waits) > 0 {
		var sum time.Duration
		for _, w := range s.waits {
			sum += w
		}
		r.MeanWaitBetweenCalls = sum / time.Duration(len(s.waits))
		slices.Sort(s.waits)
		r.P95WaitBetweenCalls = s.waits[(len(s.waits)*95+99)/100-1]
	}
	return r
}
