package designerapi

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"
)

// The supervisor board's stream is fed by one reader shared by every
// subscriber (boardHub): it starts with the first subscriber and stops
// when the last one leaves. It reads the router's board about once a
// second, the live-calls summary and the live calls' alerts every few
// seconds (each only while a subscriber may see it) and the history once
// a minute and at each new interval, and hands an event to the subscribers only when its content
// changed. A subscriber holds at most the latest unsent event of each
// kind: a slow client skips to the newest picture and never holds up the
// hub or the other subscribers.

// Board stream event names.
const (
	EventBoard   = "board"   // a Board
	EventCalls   = "calls"   // a MetricsSummary (viewer and up)
	EventHistory = "history" // a BoardHistory
	EventAlerts  = "alerts"  // a CallAlerts (supervisors and admins)
	EventProblem = "problem" // a StreamProblem
)

// StreamProblem says that a part of the board stream is missing, and why;
// a problem event with an empty detail says that the part is back.
type StreamProblem struct {
	Source string `json:"source" enum:"board,calls,history,alerts"`
	Detail string `json:"detail" doc:"Why the part is missing; empty once it is back"`
}

// boardTimings pace the hub; tests shorten them.
type boardTimings struct {
	poll       time.Duration // between two reads of the board
	callsEvery int           // polls between two reads of the calls summary
	history    time.Duration // between two reads of the history (and at each new interval)
	heartbeat  time.Duration // between two comments on a quiet stream
	timeout    time.Duration // for one read
}

var defaultBoardTimings = boardTimings{poll: time.Second, callsEvery: 3, history: time.Minute,
	heartbeat: 15 * time.Second, timeout: 5 * time.Second}

// boardReaders are what the hub reads; a nil reader is a missing part,
// reported once as a problem.
type boardReaders struct {
	board   func(ctx context.Context) (Board, error)
	calls   func(ctx context.Context) (MetricsSummary, error)
	history func(ctx context.Context) (BoardHistory, error)
	alerts  func(ctx context.Context) (CallAlerts, error)
	// missing explains each nil reader.
	missing map[string]string
}

// boardEvent is one event: its name, its data, and the key under which a
// newer event replaces it (the name; for a problem, problem/SOURCE).
type boardEvent struct {
	key, name string
	data      []byte
}

// eventOrder is the order in which a subscriber's pending events go out.
var eventOrder = []string{EventProblem + "/board", EventProblem + "/calls", EventProblem + "/history",
	EventProblem + "/" + EventAlerts, EventHistory, EventBoard, EventCalls, EventAlerts}

// boardRights are what a subscriber may see besides the board and the
// history.
type boardRights struct {
	calls  bool // the calls summary (viewer and up)
	alerts bool // the live calls' alerts (supervisors and admins)
}

// boardSub is one subscriber: the latest unsent event of each key.
type boardSub struct {
	may     boardRights
	mu      sync.Mutex
	pending map[string]boardEvent
	wake    chan struct{} // a token when pending has something
}

func newBoardSub(may boardRights) *boardSub {
	return &boardSub{may: may, pending: map[string]boardEvent{}, wake: make(chan struct{}, 1)}
}

// offer replaces the pending event of ev's key; it never blocks.
func (s *boardSub) offer(ev boardEvent) {
	if (ev.name == EventCalls && !s.may.calls) || ((ev.key == EventAlerts || ev.key == EventProblem+"/"+EventAlerts) && !s.may.alerts) {
		return
	}
	s.mu.Lock()
	s.pending[ev.key] = ev
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// take empties pending, in eventOrder.
func (s *boardSub) take() []boardEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []boardEvent
	for _, k := range eventOrder {
		if ev, ok := s.pending[k]; ok {
			out = append(out, ev)
			delete(s.pending, k)
		}
	}
	return out
}

// boardHub is the one reader behind every board stream.
type boardHub struct {
	read boardReaders
	t    boardTimings

	mu   sync.Mutex
	subs map[*boardSub]struct{}
	gen  int                   // the current run; a stopped run's late events are dropped
	stop context.CancelFunc    // nil while stopped
	done chan struct{}         // closed when the current run has returned
	kick chan struct{}         // a subscriber who may see calls or alerts joined
	last map[string]boardEvent // the latest event of each key, for new subscribers
	same map[string][]byte     // what the latest event of each key was compared by
}

func newBoardHub(read boardReaders, t boardTimings) *boardHub {
	return &boardHub{read: read, t: t, subs: map[*boardSub]struct{}{}, kick: make(chan struct{}, 1)}
}

// subscribe adds a subscriber who may see what may says, starting the
// hub if it is the first, and gives it the latest events.
func (h *boardHub) subscribe(may boardRights) *boardSub {
	s := newBoardSub(may)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop == nil {
		h.gen++
		ctx, cancel := context.WithCancel(context.Background())
		h.stop, h.done = cancel, make(chan struct{})
		h.last, h.same = map[string]boardEvent{}, map[string][]byte{}
		go h.run(ctx, h.gen, h.done)
	}
	h.subs[s] = struct{}{}
	for _, ev := range h.last {
		s.offer(ev)
	}
	if may.calls || may.alerts {
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	return s
}

// unsubscribe removes a subscriber; the last one stops the hub and waits
// for its reader to return (a read in flight is cancelled).
func (h *boardHub) unsubscribe(s *boardSub) {
	h.mu.Lock()
	delete(h.subs, s)
	if len(h.subs) > 0 || h.stop == nil {
		h.mu.Unlock()
		return
	}
	h.stop()
	done := h.done
	h.stop, h.done = nil, nil
	h.mu.Unlock()
	<-done
}

// running reports whether the hub's reader runs.
func (h *boardHub) running() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stop != nil
}

// wants reports whether a subscriber may see what right picks.
func (h *boardHub) wants(right func(boardRights) bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if right(s.may) {
			return true
		}
	}
	return false
}

func mayCalls(r boardRights) bool  { return r.calls }
func mayAlerts(r boardRights) bool { return r.alerts }

// publish hands an event to every subscriber when it differs from the
// latest of its key, compared by cmp's JSON (v's when cmp is nil: cmp
// leaves out what changes on every read, such as a summary's Since).
func (h *boardHub) publish(gen int, key, name string, v, cmp any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	c := data
	if cmp != nil {
		if c, err = json.Marshal(cmp); err != nil {
			return
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen || h.stop == nil {
		return
	}
	if old, ok := h.same[key]; ok && bytes.Equal(old, c) {
		return
	}
	ev := boardEvent{key: key, name: name, data: data}
	h.same[key], h.last[key] = c, ev
	for s := range h.subs {
		s.offer(ev)
	}
}

// problem publishes that source is missing (detail) or back (""): a
// part that is back after no problem sends nothing.
func (h *boardHub) problem(gen int, source, detail string) {
	key := EventProblem + "/" + source
	h.mu.Lock()
	_, had := h.same[key]
	h.mu.Unlock()
	if detail == "" && !had {
		return
	}
	h.publish(gen, key, EventProblem, StreamProblem{Source: source, Detail: detail}, nil)
}

// run reads until ctx ends: the board every poll, the calls summary and
// the alerts every callsEvery polls (at once when a subscriber who may see
// them joins); the history, which may take longer, has its own loop.
func (h *boardHub) run(ctx context.Context, gen int, done chan struct{}) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		h.historyLoop(ctx, gen)
	}()
	defer func() {
		wg.Wait()
		close(done)
	}()
	tick := time.NewTicker(h.t.poll)
	defer tick.Stop()
	callsIn, alertsIn := 0, 0
	for {
		h.readBoard(ctx, gen)
		if callsIn--; callsIn <= 0 && h.wants(mayCalls) {
			h.readCalls(ctx, gen)
			callsIn = h.t.callsEvery
		}
		if alertsIn--; alertsIn <= 0 && h.wants(mayAlerts) {
			h.readAlerts(ctx, gen)
			alertsIn = h.t.callsEvery
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-h.kick:
			callsIn, alertsIn = 0, 0
		}
	}
}

// historyLoop reads the history every t.history and at each new interval.
func (h *boardHub) historyLoop(ctx context.Context, gen int) {
	for {
		h.readHistory(ctx, gen)
		now := time.Now()
		next := now.Truncate(HistoryInterval).Add(HistoryInterval).Sub(now)
		timer := time.NewTimer(min(h.t.history, next))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// readWith runs one read under timeout; a missing reader is the problem
// its missing entry names.
func readWith[T any](ctx context.Context, h *boardHub, gen int, source string, timeout time.Duration, read func(context.Context) (T, error)) (T, bool) {
	var v T
	if read == nil {
		h.problem(gen, source, h.read.missing[source])
		return v, false
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := read(rctx)
	if ctx.Err() != nil {
		return v, false
	}
	if err != nil {
		h.problem(gen, source, err.Error())
		return v, false
	}
	h.problem(gen, source, "")
	return v, true
}

func (h *boardHub) readBoard(ctx context.Context, gen int) {
	if b, ok := readWith(ctx, h, gen, EventBoard, h.t.timeout, h.read.board); ok {
		h.publish(gen, EventBoard, EventBoard, b, nil)
	}
}

func (h *boardHub) readCalls(ctx context.Context, gen int) {
	if m, ok := readWith(ctx, h, gen, EventCalls, h.t.timeout, h.read.calls); ok {
		cmp := m
		cmp.Since = time.Time{} // moves on every read
		h.publish(gen, EventCalls, EventCalls, m, cmp)
	}
}

func (h *boardHub) readHistory(ctx context.Context, gen int) {
	if bh, ok := readWith(ctx, h, gen, EventHistory, 4*h.t.timeout, h.read.history); ok {
		cmp := bh
		cmp.At = time.Time{}
		h.publish(gen, EventHistory, EventHistory, bh, cmp)
	}
}

func (h *boardHub) readAlerts(ctx context.Context, gen int) {
	if a, ok := readWith(ctx, h, gen, EventAlerts, h.t.timeout, h.read.alerts); ok {
		cmp := a
		cmp.Since = time.Time{} // moves on every read
		h.publish(gen, EventAlerts, EventAlerts, a, cmp)
	}
}
