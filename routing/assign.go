package routing

import (
	"cmp"
	"slices"
	"time"
)

// Agent is an agent as the policy sees it.
type Agent struct {
	Name      string    `json:"name"`
	Skills    Skills    `json:"skills,omitempty"`
	Queues    []string  `json:"queues,omitempty"` // queues the agent serves; empty: every queue
	Capacity  int       `json:"capacity"`         // calls at once (>=1; 0 means 1)
	Active    int       `json:"active"`           // calls reserved for or talking to the agent
	State     State     `json:"state"`
	IdleSince time.Time `json:"idle_since"` // when the agent last became free
}

// Waiter is a call waiting in a queue.
type Waiter struct {
	Call       string        `json:"call"` // the caller's workflow ID
	Queue      string        `json:"queue"`
	Priority   int           `json:"priority"` // higher first
	Needs      []Requirement `json:"needs,omitempty"`
	EnqueuedAt time.Time     `json:"enqueued_at"`    // kept when re-queued (ring no answer) so the caller keeps their place
	Seq        uint64        `json:"seq"`            // arrival order, the last tie-break
	Skip       []string      `json:"skip,omitempty"` // agents that did not answer this caller: not offered again
}

// Match gives a call to an agent.
type Match struct {
	Call  string `json:"call"`
	Agent string `json:"agent"`
}

// Serves reports whether the agent takes calls of queue.
func (a Agent) Serves(queue string) bool {
	return len(a.Queues) == 0 || slices.Contains(a.Queues, queue)
}

// Free is how many more calls the agent may take now: 0 unless Available.
func (a Agent) Free() int {
	if a.State != Available {
		return 0
	}
	return max(capacityOf(a.Capacity)-a.Active, 0)
}

func capacityOf(c int) int { return max(c, 1) }

// Assign pairs waiting calls with free agents. Waiters go in order of
// Priority (high first), then EnqueuedAt (oldest first), then Seq (then
// Call, so that the order is total). Each takes, among the agents that are
// Available with Active < Capacity, serve its effective queue (Effective,
// with the rules of the waiter's own queue), meet its effective needs and
// are not in its Skip, the one with the fewest Active calls, then the
// longest idle (oldest IdleSince), then the first Name. An agent's Active
// counts up as it is matched, so an agent with capacity 2 can take two
// calls in one pass. Matches come in the order the waiters were served.
// Agent names are expected to be unique. The inputs are not modified.
func Assign(waiters []Waiter, agents []Agent, rules map[string]Rules, now time.Time) []Match {
	if len(waiters) == 0 {
		return nil
	}
	p := newPool(agents)
	if p.free == 0 {
		return nil // the common case under load: decided before any sorting
	}
	var out []Match
	var misses missCache
	var sorted map[string][]Overflow
	order := newWaiterQueue(waiters)
	for wi := order.pop(); wi >= 0; wi = order.pop() {
		w := &waiters[wi]
		queue, needs := effectiveIn(w, rules, now, &sorted)
		if misses.has(queue, needs) {
			continue
		}
		a := p.best(queue, needs, w.Skip)
		if a < 0 {
			if len(w.Skip) == 0 {
				// No agent meets (queue, needs) now, and agents only fill up
				// during a pass: later waiters asking the same need not look.
				misses.add(queue, needs)
			}
			continue
		}
		p.take(a)
		out = append(out, Match{Call: w.Call, Agent: agents[a].Name})
		if p.free == 0 {
			break
		}
	}
	return out
}

// effectiveIn is Effective for one waiter of a pass; rules whose steps are
// out of order are sorted once per pass, not once per waiter.
func effectiveIn(w *Waiter, rules map[string]Rules, now time.Time, sorted *map[string][]Overflow) (string, []Requirement) {
	r, ok := rules[w.Queue]
	if !ok || len(r.Overflow) == 0 {
		return w.Queue, w.Needs
	}
	if !sortedByAfter(r.Overflow) {
		if *sorted == nil {
			*sorted = map[string][]Overflow{}
		}
		steps, done := (*sorted)[w.Queue]
		if !done {
			steps = sortSteps(r.Overflow)
			(*sorted)[w.Queue] = steps
		}
		r = Rules{Overflow: steps}
	}
	return Effective(*w, r, now)
}

// waiterKey is what orders waiters, copied out of the Waiter so that
// comparisons stay in one small array.
type waiterKey struct {
	priority int
	sec      int64
	nsec     int32
	idx      int32
	seq      uint64
}

// waiterQueue hands out waiters in the order they are served. It is a
// binary heap, not a sort: a pass usually ends after a few matches (few
// agents free up at once), so building is O(n) and each pop O(log n).
type waiterQueue struct {
	keys    []waiterKey
	waiters []Waiter
}

func newWaiterQueue(waiters []Waiter) *waiterQueue {
	q := &waiterQueue{keys: make([]waiterKey, len(waiters)), waiters: waiters}
	for i := range waiters {
		w := &waiters[i]
		q.keys[i] = waiterKey{priority: w.Priority, sec: w.EnqueuedAt.Unix(), nsec: int32(w.EnqueuedAt.Nanosecond()), idx: int32(i), seq: w.Seq}
	}
	for i := len(q.keys)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
	return q
}

// pop returns the index of the next waiter, or -1 when none is left.
func (q *waiterQueue) pop() int {
	n := len(q.keys) - 1
	if n < 0 {
		return -1
	}
	top := q.keys[0].idx
	q.keys[0] = q.keys[n]
	q.keys = q.keys[:n]
	q.down(0)
	return int(top)
}

func (q *waiterQueue) down(i int) {
	for {
		c := 2*i + 1
		if c >= len(q.keys) {
			return
		}
		if r := c + 1; r < len(q.keys) && q.before(r, c) {
			c = r
		}
		if !q.before(c, i) {
			return
		}
		q.keys[i], q.keys[c] = q.keys[c], q.keys[i]
		i = c
	}
}

// before orders by priority (high first), time enqueued, Seq, then Call
// and input position so that the order is total.
func (q *waiterQueue) before(i, j int) bool {
	a, b := &q.keys[i], &q.keys[j]
	switch {
	case a.priority != b.priority:
		return a.priority > b.priority
	case a.sec != b.sec:
		return a.sec < b.sec
	case a.nsec != b.nsec:
		return a.nsec < b.nsec
	case a.seq != b.seq:
		return a.seq < b.seq
	}
	if c := cmp.Compare(q.waiters[a.idx].Call, q.waiters[b.idx].Call); c != 0 {
		return c < 0
	}
	return a.idx < b.idx
}
