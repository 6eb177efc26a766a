package rtp

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A tick runs every member's Send before any member's Work, each member
// once per tick, and a member that left is never called again.
func TestClockSendsBeforeWorkAndLeaveStops(t *testing.T) {
	c, err := NewClock(5*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log []string
	member := func(name string) Member {
		return Member{
			Send: func(time.Time) { mu.Lock(); log = append(log, "S"+name); mu.Unlock() },
			Work: func(time.Time) { mu.Lock(); log = append(log, "W"+name); mu.Unlock() },
		}
	}
	leaveA := c.Join(member("a"))
	leaveB := c.Join(member("b"))
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(log) >= 16 })
	mu.Lock()
	got := append([]string(nil), log...)
	mu.Unlock()
	// Ticks before b joined ran a alone; a tick may be cut at the end.
	first := 0
	for got[first] != "Sb" {
		first++
	}
	for i := first - 1; i+4 <= len(got); i += 4 {
		tick := got[i : i+4]
		sends := map[string]bool{tick[0]: true, tick[1]: true}
		works := map[string]bool{tick[2]: true, tick[3]: true}
		if !sends["Sa"] || !sends["Sb"] || !works["Wa"] || !works["Wb"] {
			t.Fatalf("tick %d ran %v, want both sends then both works (log %v)", i/4, tick, got)
		}
	}
	leaveA()
	leaveB()
	leaveB() // twice is fine
	mu.Lock()
	n := len(log)
	mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(log) != n {
		t.Errorf("members called after leave: %v", log[n:])
	}
}

// Members spread over the shards, and a shard's goroutine ends with its
// last member (an idle process holds none).
func TestClockSpreadsMembersAndStopsWhenEmpty(t *testing.T) {
	before := runtime.NumGoroutine()
	c, err := NewClock(5*time.Millisecond, 4)
	if err != nil {
		t.Fatal(err)
	}
	var calls [8]atomic.Int32
	var leaves []func()
	for i := range calls {
		leaves = append(leaves, c.Join(Member{Send: func(time.Time) { calls[i].Add(1) }}))
	}
	for k, s := range c.shards {
		if n := s.size(); n != 2 {
			t.Errorf("shard %d has %d members, want 2", k, n)
		}
	}
	if n := c.Members(); n != 8 {
		t.Errorf("Members() = %d, want 8", n)
	}
	waitFor(t, func() bool {
		for i := range calls {
			if calls[i].Load() == 0 {
				return false
			}
		}
		return true
	})
	for _, leave := range leaves {
		leave()
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
	// A member joining an idle clock starts its shard again.
	var again atomic.Int32
	leave := c.Join(Member{Work: func(time.Time) { again.Add(1) }})
	waitFor(t, func() bool { return again.Load() > 0 })
	leave()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before })
}

// Shard k ticks at k/shards of the period, on a grid fixed at NewClock.
func TestClockShardPhases(t *testing.T) {
	c, err := NewClock(20*time.Millisecond, 4)
	if err != nil {
		t.Fatal(err)
	}
	o := c.origin
	tests := []struct {
		shard int
		at    time.Duration // after origin
		want  time.Duration
	}{
		{0, 0, 20 * time.Millisecond},
		{0, 19 * time.Millisecond, 20 * time.Millisecond},
		{1, 0, 5 * time.Millisecond},
		{1, 5 * time.Millisecond, 25 * time.Millisecond},
		{3, 16 * time.Millisecond, 35 * time.Millisecond},
		{2, -3 * time.Millisecond, 10 * time.Millisecond},
		{0, -25 * time.Millisecond, -20 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := c.shards[tt.shard].nextTick(o.Add(tt.at)).Sub(o); got != tt.want {
			t.Errorf("shard %d after %v: next tick at %v, want %v", tt.shard, tt.at, got, tt.want)
		}
	}
	if _, err := NewClock(0, 1); err == nil {
		t.Error("NewClock(0) did not fail")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5 s")
		}
		time.Sleep(time.Millisecond)
	}
}
