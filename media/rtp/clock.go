package rtp

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Clock runs the periodic work of many media streams (a Pacer's send, a
// jitter buffer's playout) on a few goroutines, instead of a goroutine and
// a timer per stream each waking every 20 ms: with a thousand calls that is
// a handful of wake-ups a period instead of two thousand, and it is what
// the scheduler spent most of a held call's CPU on.
//
// Streams are spread over shards. Each shard is one goroutine ticking at
// its own phase of the period (shard k at k*period/shards), so a period's
// sends are spread over it and over the cores rather than bunched at one
// instant. A shard's goroutine runs only while it has members: it starts
// with the first and ends with the last, so an idle process holds none.
//
// On each tick a shard runs every member's Send step, then every member's
// Work step: packets leave at the tick, and no member's decoding or taps
// delay another's send. A slow tick (a GC pause, a starved CPU) is not
// caught up: the missed ticks are skipped, and members see the real time
// of the late one.
type Clock struct {
	period time.Duration
	origin time.Time
	shards []*clockShard
}

// Member is one stream's work on a Clock. Send and Work run on the shard's
// goroutine, once per period each, with the time of the tick; either may be
// nil. They must not block, and must not call their own leave.
type Member struct {
	Send func(now time.Time)
	Work func(now time.Time)
}

type clockShard struct {
	c     *Clock
	phase time.Duration // offset of this shard's ticks in the period

	// mu is held for a whole tick, so leave returns only once its member
	// can no longer be called.
	mu      sync.Mutex
	members []*Member
	running bool
	// n mirrors len(members) for Join's choice, which must not wait for
	// a tick in progress.
	n atomic.Int32
}

// NewClock returns a clock ticking every period on the given number of
// shards (1 if less).
func NewClock(period time.Duration, shards int) (*Clock, error) {
	if period <= 0 {
		return nil, errors.New("clock: period must be positive")
	}
	c := &Clock{period: period, origin: time.Now()}
	for k := range max(shards, 1) {
		c.shards = append(c.shards, &clockShard{c: c, phase: period * time.Duration(k) / time.Duration(max(shards, 1))})
	}
	return c, nil
}

// Period is the time between two ticks of a shard.
func (c *Clock) Period() time.Duration { return c.period }

// Join adds m to the least loaded shard; it runs from that shard's next
// tick until leave is called. leave waits for a tick in progress: once it
// returns, m is not called again. Calling leave more than once is fine.
func (c *Clock) Join(m Member) (leave func()) {
	sh := c.shards[0]
	for _, s := range c.shards[1:] {
		if s.size() < sh.size() {
			sh = s
		}
	}
	mp := &m
	sh.mu.Lock()
	sh.members = append(sh.members, mp)
	sh.n.Store(int32(len(sh.members)))
	if !sh.running {
		sh.running = true
		go sh.run()
	}
	sh.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { sh.remove(mp) }) }
}

// Members counts the streams on the clock.
func (c *Clock) Members() int {
	n := 0
	for _, s := range c.shards {
		n += s.size()
	}
	return n
}

func (s *clockShard) size() int { return int(s.n.Load()) }

func (s *clockShard) remove(m *Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.members {
		if x == m {
			last := len(s.members) - 1
			s.members[i] = s.members[last]
			s.members[last] = nil
			s.members = s.members[:last]
			s.n.Store(int32(last))
			return
		}
	}
}

// nextTick is the first tick time of the shard after t.
func (s *clockShard) nextTick(t time.Time) time.Time {
	p := s.c.period
	since := t.Sub(s.c.origin.Add(s.phase))
	n := since / p
	if since >= 0 {
		n++
	}
	return s.c.origin.Add(s.phase + n*p)
}

// run ticks until the shard has no members.
func (s *clockShard) run() {
	next := s.nextTick(time.Now())
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	for range t.C {
		if !s.tick(time.Now()) {
			return
		}
		next = s.nextTick(time.Now()) // skips the ticks a stall missed
		t.Reset(time.Until(next))
	}
}

// tick runs the members; false (with running cleared) when there are none
// left, under the same lock as Join, so a member joining now starts a new
// goroutine.
func (s *clockShard) tick(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.members) == 0 {
		s.running = false
		return false
	}
	for _, m := range s.members {
		if m.Send != nil {
			m.Send(now)
		}
	}
	for _, m := range s.members {
		if m.Work != nil {
			m.Work(now)
		}
	}
	return true
}
