package pacesim

import (
	"container/heap"
	"time"
)

type eventKind uint8

const (
	tick      eventKind = iota
	ringOut             // a no-answer reaches the ring timeout
	machine             // detection says machine: hang up
	human               // detection says human: connect or wait
	deadline            // 2 s after a person's greeting: abandon if waiting
	talkEnd             // an agent's call ends: wrap-up starts
	agentFree           // an agent ends the wrap-up
)

// event happens at at; seq orders events of the same instant by when they
// were scheduled, so that a run is repeatable.
type event struct {
	at    time.Duration
	seq   uint64
	kind  eventKind
	call  *call
	agent int
	// agentFree: the call's talk and wrap-up.
	talk, wrap time.Duration
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s *sim) schedule(e event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
}

func (s *sim) next() event { return heap.Pop(&s.events).(event) }
