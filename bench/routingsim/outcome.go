package routingsim

import (
	"math"
	"time"

	"github.com/voxflow/voxflow/routing"
)

// assign runs the real policy when a match is possible at all.
func (s *sim) assign() {
	if s.free == 0 || len(s.waiters) == 0 {
		return
	}
	s.res.Assigns++
	for _, m := range routing.Assign(s.waiters, s.agents, s.cfg.Rules, s.at(s.now)) {
		s.answer(s.waiting[m.Call], s.agentIdx[m.Agent])
	}
}

func (s *sim) removeWaiter(c *call) {
	last := len(s.waiters) - 1
	if c.pos != last {
		s.waiters[c.pos] = s.waiters[last]
		s.waiting[s.waiters[c.pos].Call].pos = c.pos
	}
	s.waiters = s.waiters[:last]
	delete(s.waiting, c.id)
	c.waiting = false
}

func (s *sim) answer(c *call, a int) {
	s.removeWaiter(c)
	ag := &s.agents[a]
	ag.Active++
	if ag.Active >= max(ag.Capacity, 1) {
		ag.State = routing.OnCall
	}
	s.free--
	s.busy++
	wait := s.now - c.arrived
	s.windows[s.cfg.Calls[c.typ].Queue].Answered(s.at(s.now), time.Duration(wait))
	if c.measured {
		in := wait <= int64(s.cfg.Threshold)
		iv := s.interval(c)
		s.res.Answered++
		iv.Answered++
		iv.ASA += time.Duration(wait)
		s.res.ASA += time.Duration(wait)
		if in {
			s.res.AnsweredInThreshold++
			iv.InThreshold++
		}
		if c.hasEWT {
			d := float64(c.estimate - wait)
			s.ewtAbs += math.Abs(d)
			s.ewtBias += d
			s.ewtN++
		}
	}
	handle := s.exp(s.service, s.cfg.AHT)
	s.push(event{at: s.now + handle, kind: finish, agent: int32(a), call: c, handle: handle})
}

func (s *sim) abandon(c *call) {
	if !c.waiting {
		return
	}
	s.removeWaiter(c)
	s.windows[s.cfg.Calls[c.typ].Queue].Abandoned(s.at(s.now), time.Duration(s.now-c.arrived))
	if c.measured {
		s.res.Abandoned++
		s.interval(c).Abandoned++
	}
}

func (s *sim) finish(ev event) {
	ag := &s.agents[ev.agent]
	ag.Active--
	ag.State, ag.IdleSince = routing.Available, s.at(s.now)
	s.free++
	s.busy--
	s.windows[s.cfg.Calls[ev.call.typ].Queue].Handled(s.at(s.now), time.Duration(ev.handle))
	s.assign()
}

// interval returns the figures of the interval c arrived in, growing the list.
func (s *sim) interval(c *call) *Interval {
	for len(s.res.Intervals) <= c.interval {
		i := len(s.res.Intervals)
		start := int64(i) * int64(s.cfg.Interval)
		s.res.Intervals = append(s.res.Intervals, Interval{Start: s.at(start), Rate: s.rate(start)})
	}
	return &s.res.Intervals[c.interval]
}

// result turns the counts into rates. Callers still waiting at the end
// (nobody can ever serve them and they never hang up) count as offered.
func (s *sim) result() Result {
	r := s.res
	r.Unserved = len(s.waiters)
	r.ServiceLevel = routing.ServiceLevel(r.AnsweredInThreshold, r.Answered, r.Offered-r.Answered)
	if r.Offered > 0 {
		r.AbandonRate = float64(r.Abandoned) / float64(r.Offered)
		r.PWait = float64(r.Waited) / float64(r.Offered)
	}
	if r.Answered > 0 {
		r.ASA /= time.Duration(r.Answered)
	}
	if n := len(s.agents); n > 0 && s.now > 0 {
		r.Occupancy = s.busyTime / (float64(n) * float64(s.now))
	}
	if s.ewtN > 0 {
		r.EWTError = time.Duration(s.ewtAbs / float64(s.ewtN))
		r.EWTBias = time.Duration(s.ewtBias / float64(s.ewtN))
	}
	for i := range r.Intervals {
		iv := &r.Intervals[i]
		iv.ServiceLevel = routing.ServiceLevel(iv.InThreshold, iv.Answered, iv.Offered-iv.Answered)
		if iv.Offered > 0 {
			iv.AbandonRate = float64(iv.Abandoned) / float64(iv.Offered)
			iv.PWait = float64(iv.Waited) / float64(iv.Offered)
		}
		if iv.Answered > 0 {
			iv.ASA /= time.Duration(iv.Answered)
		}
	}
	return r
}
