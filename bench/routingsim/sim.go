package routingsim

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/voxflow/voxflow/routing"
)

// call is one caller's life in the simulation.
type call struct {
	id       string
	typ      int
	arrived  int64
	interval int
	measured bool // arrived after Warmup
	waiting  bool
	pos      int // index in sim.waiters while waiting
	estimate int64
	hasEWT   bool
}

type sim struct {
	cfg               Config
	arrivals, service *rand.Rand // separate streams: the same callers whatever the staffing
	weights           []float64  // cumulative weights of cfg.Calls
	now, end          int64
	seq               uint64
	events            eventHeap
	waiters           []routing.Waiter
	waiting           map[string]*call
	agents            []routing.Agent
	agentIdx          map[string]int
	free, busy        int     // free call slots, calls on agents
	busyTime          float64 // ∫ busy dt, agent-nanoseconds
	windows           map[string]*routing.Window
	staffed           map[string]int
	res               Result
	ewtAbs, ewtBias   float64
	ewtN, nextCall    int
}

// Run simulates cfg and returns what it measured.
func Run(cfg Config) Result {
	cfg.defaults()
	s := newSim(cfg)
	s.scheduleArrival(0)
	for len(s.events) > 0 {
		ev := s.events.pop()
		s.advance(ev.at)
		s.res.Events++
		switch ev.kind {
		case arrival:
			s.arrive()
		case abandon:
			s.abandon(ev.call)
		case finish:
			s.finish(ev)
		case overflow:
			if ev.call.waiting {
				s.assign()
			}
		}
	}
	return s.result()
}

func newSim(cfg Config) *sim {
	s := &sim{
		cfg:      cfg,
		arrivals: rand.New(rand.NewPCG(cfg.Seed, 1)),
		service:  rand.New(rand.NewPCG(cfg.Seed, 2)),
		end:      int64(cfg.Duration),
		waiting:  map[string]*call{},
		agents:   make([]routing.Agent, len(cfg.Agents)),
		agentIdx: map[string]int{},
		windows:  map[string]*routing.Window{},
		staffed:  map[string]int{},
	}
	total := 0.0
	for _, t := range cfg.Calls {
		total += t.Weight
		s.weights = append(s.weights, total)
		if s.windows[t.Queue] == nil {
			w := routing.NewWindow(routing.DefaultSpan, cfg.Threshold)
			s.windows[t.Queue] = &w
		}
	}
	for i, a := range cfg.Agents {
		a.State, a.Active, a.IdleSince = routing.Available, 0, cfg.Start
		s.agents[i] = a
		s.agentIdx[a.Name] = i
		s.free += a.Free()
		for q := range s.windows {
			if a.Serves(q) {
				s.staffed[q]++
			}
		}
	}
	return s
}

func (s *sim) at(ns int64) time.Time { return s.cfg.Start.Add(time.Duration(ns)) }

func (s *sim) push(e event) {
	s.seq++
	e.seq = s.seq
	s.events.push(e)
}

func (s *sim) advance(to int64) {
	s.busyTime += float64(s.busy) * float64(to-s.now)
	s.now = to
}

func (s *sim) rate(ns int64) float64 {
	i := int(ns / int64(s.cfg.Interval))
	return s.cfg.Rates[min(i, len(s.cfg.Rates)-1)]
}

// scheduleArrival draws the next Poisson arrival after from: within an
// interval the rate is constant and the process memoryless, so a draw
// that crosses the interval's end restarts there at the next rate.
func (s *sim) scheduleArrival(from int64) {
	if len(s.cfg.Rates) == 0 {
		return
	}
	step := int64(s.cfg.Interval)
	for t := from; t < s.end; {
		boundary := min((t/step+1)*step, s.end)
		if r := s.rate(t); r > 0 {
			next := t + int64(s.arrivals.ExpFloat64()/r*float64(time.Second))
			if next < boundary {
				s.push(event{at: next, kind: arrival})
				return
			}
		}
		t = boundary
	}
}

func (s *sim) exp(r *rand.Rand, mean time.Duration) int64 {
	return int64(r.ExpFloat64() * float64(mean))
}

func (s *sim) pickType() int {
	x := s.arrivals.Float64() * s.weights[len(s.weights)-1]
	for i, w := range s.weights {
		if x < w {
			return i
		}
	}
	return len(s.weights) - 1
}

// Patience is drawn for every caller, answered or not, so that the
// arrival stream does not depend on what happened to earlier callers.
func (s *sim) arrive() {
	s.scheduleArrival(s.now)
	typ := s.pickType()
	t := s.cfg.Calls[typ]
	patience := int64(math.MaxInt64)
	if s.cfg.Patience > 0 {
		patience = s.exp(s.arrivals, s.cfg.Patience)
	}
	s.nextCall++
	c := &call{id: "c" + strconv.Itoa(s.nextCall), typ: typ, arrived: s.now, waiting: true,
		interval: int(s.now / int64(s.cfg.Interval)), measured: s.now >= int64(s.cfg.Warmup)}
	c.pos = len(s.waiters)
	s.waiters = append(s.waiters, routing.Waiter{Call: c.id, Queue: t.Queue, Priority: t.Priority, Needs: t.Needs,
		EnqueuedAt: s.at(s.now), Seq: uint64(s.nextCall)})
	s.waiting[c.id] = c
	if patience < math.MaxInt64-s.now {
		s.push(event{at: s.now + patience, kind: abandon, call: c})
	}
	// Nothing else happens when a waiter crosses an overflow step: like
	// the router, set a timer for each step.
	for _, o := range s.cfg.Rules[t.Queue].Overflow {
		s.push(event{at: s.now + int64(o.After), kind: overflow, call: c})
	}
	if c.measured {
		s.res.Offered++
		s.interval(c).Offered++
	}
	s.assign()
	if c.waiting {
		if c.measured {
			s.res.Waited++
			s.interval(c).Waited++
		}
		s.announce(c)
	}
}

// announce is the estimated wait a router would tell the caller.
func (s *sim) announce(c *call) {
	t := s.cfg.Calls[c.typ]
	position := 1
	for i := range s.waiters {
		w := &s.waiters[i]
		if w.Call != c.id && w.Queue == t.Queue && w.Priority >= t.Priority {
			position++
		}
	}
	aht := s.windows[t.Queue].Stats(s.at(s.now)).AHT
	if ewt := routing.EstimateWait(position, s.staffed[t.Queue], aht); ewt >= 0 {
		c.estimate, c.hasEWT = int64(ewt), true
	}
}
