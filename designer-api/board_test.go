package designerapi

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// fastBoard paces the board stream for tests.
var fastBoard = boardTimings{poll: 10 * time.Millisecond, callsEvery: 2, history: time.Hour,
	heartbeat: 60 * time.Millisecond, timeout: time.Second}

// countingRouting counts the board's reads.
type countingRouting struct {
	*fakeRouting
	reads atomic.Int64
}

// Board copies the fake's board: the fake changes its agents in place.
func (c *countingRouting) Board(ctx context.Context) (activities.Board, error) {
	c.reads.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.board
	b.Agents = append([]activities.AgentView(nil), b.Agents...)
	b.Queues = append([]activities.QueueView(nil), b.Queues...)
	return b, c.boardErr
}

// boardServer serves the env's API over HTTP with the fast board timings;
// queue q1 is defined, agent alice on the board.
func boardServer(t *testing.T, e *testEnv) (string, *countingRouting) {
	t.Helper()
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "q1", SLThreshold: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	e.route.set(activities.AgentView{Name: "alice", State: "break", Queues: []string{"q1"}, Capacity: 1})
	r := &countingRouting{fakeRouting: e.route}
	h, _ := New(Config{Store: e.store, Calls: e.calls, Routing: r, Auth: e.auth,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), boardTimings: fastBoard})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL, r
}

// sseMsg is one event of a stream, or a comment (event "").
type sseMsg struct {
	event, data, comment string
}

// openStream reads GET /board/events as key into a channel, closed when
// the stream ends; cancel disconnects.
func openStream(t *testing.T, base, key string) (<-chan sseMsg, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+Prefix+"/board/events", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("stream: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseMsg, 1000)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		var cur sseMsg
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, ":"):
				ch <- sseMsg{comment: strings.TrimSpace(line[1:])}
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			case line == "" && cur.event != "":
				ch <- cur
				cur = sseMsg{}
			}
		}
	}()
	t.Cleanup(cancel)
	return ch, cancel
}

// next returns the next event named one of names, skipping the others.
func next(t *testing.T, ch <-chan sseMsg, names ...string) sseMsg {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-ch:
			if !ok {
				t.Fatalf("stream ended waiting for %v", names)
			}
			for _, n := range names {
				if m.event == n || (n == "comment" && m.event == "" && m.comment != "") {
					return m
				}
			}
		case <-deadline:
			t.Fatalf("no %v event in 5s", names)
		}
	}
}

// firsts returns the first event of each of names, in whatever order
// they come.
func firsts(t *testing.T, ch <-chan sseMsg, names ...string) map[string]sseMsg {
	t.Helper()
	got := map[string]sseMsg{}
	for len(got) < len(names) {
		m := next(t, ch, names...)
		if _, ok := got[m.event]; !ok {
			got[m.event] = m
		}
	}
	return got
}

func decodeData[T any](t *testing.T, m sseMsg) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(m.data), &v); err != nil {
		t.Fatalf("%s data %q: %v", m.event, m.data, err)
	}
	return v
}

// The stream sends the board (every defined queue in it), the calls
// summary and the history; a board that does not change is not sent
// again; a change is; quiet streams carry heartbeats.
func TestBoardStream(t *testing.T) {
	e := newEnv(t)
	base, _ := boardServer(t, e)
	ch, _ := openStream(t, base, e.keys[RoleViewer])

	got := firsts(t, ch, EventBoard, EventCalls, EventHistory)
	b := decodeData[Board](t, got[EventBoard])
	if len(b.Queues) != 1 || b.Queues[0].Name != "q1" || b.Queues[0].SLThreshold != "30s" || b.Queues[0].Staffed != 1 ||
		len(b.Agents) != 1 || b.Agents[0].State != "break" {
		t.Fatalf("first board %+v", b)
	}
	if m := decodeData[MetricsSummary](t, got[EventCalls]); m.Running != 3 || len(m.Flows) != 2 {
		t.Fatalf("calls %+v", m)
	}
	if h := decodeData[BoardHistory](t, got[EventHistory]); len(h.Queues) != 1 || h.Interval != "15m0s" {
		t.Fatalf("history %+v", h)
	}
	// Nothing changes for 150 ms (15 polls): heartbeats, no board, no calls.
	quiet := time.After(150 * time.Millisecond)
	beats := 0
	for done := false; !done; {
		select {
		case m := <-ch:
			if m.event != "" {
				t.Fatalf("unchanged, yet %s: %s", m.event, m.data)
			}
			beats++
		case <-quiet:
			done = true
		}
	}
	if beats < 1 {
		t.Errorf("%d heartbeats in 150ms, want at least 1 (one per 60ms)", beats)
	}
	e.route.set(activities.AgentView{Name: "alice", State: "available", Queues: []string{"q1"}, Capacity: 1})
	b = decodeData[Board](t, next(t, ch, EventBoard))
	if b.Agents[0].State != "available" || b.Queues[0].Available != 1 {
		t.Fatalf("changed board %+v", b)
	}
}

// Agents see the board and the history but not the calls; anonymous
// callers nothing.
func TestBoardStreamRoles(t *testing.T) {
	e := newEnv(t)
	base, _ := boardServer(t, e)
	resp, err := http.Get(base + Prefix + "/board/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
	ch, _ := openStream(t, base, e.keys[RoleAgent])
	firsts(t, ch, EventBoard, EventHistory)
	viewer, _ := openStream(t, base, e.keys[RoleViewer])
	next(t, viewer, EventCalls) // read while the agent's stream runs
	timeout := time.After(200 * time.Millisecond)
	for {
		select {
		case m := <-ch:
			if m.event == EventCalls {
				t.Fatalf("the agent got the calls: %s", m.data)
			}
		case <-timeout:
			return
		}
	}
}

// A missing part is a problem event, and a problem that ends says so.
func TestBoardStreamProblems(t *testing.T) {
	e := newEnv(t)
	base, _ := boardServer(t, e)
	e.route.mu.Lock()
	e.route.boardErr = fmt.Errorf("temporal is down")
	e.route.mu.Unlock()
	ch, _ := openStream(t, base, e.keys[RoleViewer])
	p := decodeData[StreamProblem](t, next(t, ch, EventProblem))
	if p.Source != EventBoard || !strings.Contains(p.Detail, "the router did not answer: temporal is down") {
		t.Fatalf("problem %+v", p)
	}
	e.route.mu.Lock()
	e.route.boardErr = nil
	e.route.mu.Unlock()
	if p := decodeData[StreamProblem](t, next(t, ch, EventProblem)); p.Source != EventBoard || p.Detail != "" {
		t.Fatalf("problem over %+v", p)
	}
	next(t, ch, EventBoard)
}

// When the last subscriber disconnects, the hub stops reading and every
// goroutine of the streams ends.
func TestBoardStreamDisconnect(t *testing.T) {
	e := newEnv(t)
	base, r := boardServer(t, e)
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	ch1, cancel1 := openStream(t, base, e.keys[RoleViewer])
	ch2, cancel2 := openStream(t, base, e.keys[RoleAgent])
	next(t, ch1, EventBoard)
	next(t, ch2, EventBoard)
	cancel1()
	for range ch1 { // drained: the client side ended
	}
	reads := r.reads.Load()
	time.Sleep(50 * time.Millisecond)
	if r.reads.Load() == reads {
		t.Fatal("one subscriber left: the hub stopped reading")
	}
	cancel2()
	for range ch2 {
	}
	http.DefaultClient.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before the streams:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
	reads = r.reads.Load()
	time.Sleep(50 * time.Millisecond)
	if got := r.reads.Load(); got != reads {
		t.Fatalf("no subscriber, yet the board was read %d more times", got-reads)
	}
}

// A subscriber that does not read holds only the latest event of each
// kind, and the hub never waits for it.
func TestBoardSubscriberDropsToLatest(t *testing.T) {
	h := newBoardHub(boardReaders{missing: map[string]string{}}, fastBoard)
	slow := h.subscribe(boardRights{})
	gen := h.gen
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 10_000 {
			h.publish(gen, EventBoard, EventBoard, i, nil)
			h.publish(gen, EventCalls, EventCalls, i, nil) // not for this subscriber
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publishing blocked on a subscriber that does not read")
	}
	evs := slow.take()
	var names []string
	boards := 0
	for _, ev := range evs {
		names = append(names, ev.name+"="+string(ev.data))
		switch ev.name {
		case EventCalls:
			t.Errorf("calls for a subscriber who may not see them")
		case EventBoard:
			boards++
			if string(ev.data) != "9999" {
				t.Errorf("board %s, want the latest", ev.data)
			}
		}
	}
	// Besides the board, the problems of this hub's missing readers.
	if boards != 1 || len(evs) > len(eventOrder) {
		t.Fatalf("pending %v", names)
	}
	h.unsubscribe(slow)
	if h.running() {
		t.Fatal("the hub runs without subscribers")
	}
	// A stopped run's late events go nowhere; a new run starts afresh.
	h.publish(gen, EventBoard, EventBoard, "late", nil)
	s2 := h.subscribe(boardRights{calls: true})
	defer h.unsubscribe(s2)
	if h.gen == gen || len(s2.take()) > 2 {
		t.Fatalf("new run %d after %d", h.gen, gen)
	}
}

// stay is a CDR's queue stay in q1 that left the queue at left.
func stay(left time.Time, wait time.Duration, outcome string) records.QueueStay {
	return records.QueueStay{Queue: "q1", EnqueuedAt: left.Add(-wait), Wait: wait, Outcome: outcome}
}

// The history counts each stay in the interval its wait ended, by
// outcome, with the answered calls' average wait and the service level.
func TestBoardHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, q := range []store.Queue{{Name: "q1", SLThreshold: 20 * time.Second}, {Name: "q2"}} {
		if err := e.store.PutQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC) // interval 10:15
	i0 := time.Date(2026, 3, 2, 9, 45, 0, 0, time.UTC)   // three intervals before
	stays := [][]records.QueueStay{
		{stay(i0.Add(time.Minute), 10*time.Second, records.QueueAnswered)},
		{stay(i0.Add(2*time.Minute), 30*time.Second, records.QueueAnswered)},
		{stay(i0.Add(3*time.Minute), 5*time.Second, records.QueueAbandoned)},
		{stay(i0.Add(4*time.Minute), 10*time.Minute, records.QueueTimeout), {Queue: "q2", EnqueuedAt: i0, Outcome: records.QueueAnswered}},
		{stay(i0.Add(5*time.Minute), time.Second, records.QueueCallback)},
		// The wait ended at 10:16: the current interval, though the call began in 10:00's.
		{stay(now.Add(-4*time.Minute), 3*time.Minute, records.QueueAnswered)},
		// Before the span: not counted.
		{stay(now.Add(-25*time.Hour), time.Second, records.QueueAnswered)},
	}
	for i, ss := range stays {
		start := ss[0].EnqueuedAt.Add(-10 * time.Second)
		if err := e.store.SaveCDR(ctx, records.CDR{CallID: fmt.Sprintf("h%d", i), RunID: "r", Flow: "f", StartedAt: start,
			EndedAt: start.Add(time.Hour), Outcome: "completed", Queues: ss}); err != nil {
			t.Fatal(err)
		}
	}
	k := newHistoryKeeper(e.store)
	k.started, k.now = now, func() time.Time { return now }
	h, err := k.get(ctx, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !h.From.Equal(i0) || h.Interval != "15m0s" || h.Truncated || len(h.Queues) != 2 || h.Queues[0].Name != "q1" {
		t.Fatalf("history %+v", h)
	}
	q1 := h.Queues[0]
	if len(q1.Intervals) != 3 || q1.SLThreshold != "20s" {
		t.Fatalf("q1 %+v", q1)
	}
	first := q1.Intervals[0]
	if !first.Start.Equal(i0) || first.Answered != 2 || first.Abandoned != 1 || first.TimedOut != 1 || first.Other != 1 ||
		first.AnsweredInThreshold != 1 || first.AvgWait != "20s" || first.AvgWaitMS != 20_000 ||
		first.ServiceLevel == nil || *first.ServiceLevel != 1.0/3 {
		t.Errorf("9:45 %+v", first)
	}
	if mid := q1.Intervals[1]; mid.Answered+mid.Abandoned+mid.TimedOut+mid.Other != 0 || mid.ServiceLevel != nil || mid.AvgWait != "0s" {
		t.Errorf("10:00 %+v", mid)
	}
	if last := q1.Intervals[2]; last.Answered != 1 || last.AnsweredInThreshold != 0 || *last.ServiceLevel != 0 {
		t.Errorf("10:15 %+v", last)
	}
	if q2 := h.Queues[1]; len(q2.Intervals) != 3 || q2.Intervals[0].Answered != 1 || q2.SLThreshold != "20s" {
		t.Errorf("q2 %+v", q2)
	}
	// Kept for maxAge within the interval; a new interval counts again.
	e.store.SaveCDR(ctx, records.CDR{CallID: "late", RunID: "r", StartedAt: now, EndedAt: now, Queues: []records.QueueStay{stay(now, 0, records.QueueAbandoned)}})
	if again, _ := k.get(ctx, time.Minute); again.Queues[0].Intervals[2].Abandoned != 0 {
		t.Error("counted again within maxAge")
	}
	now = now.Add(HistoryInterval)
	if again, _ := k.get(ctx, time.Hour); len(again.Queues[0].Intervals) != 4 || again.Queues[0].Intervals[2].Abandoned != 1 {
		t.Errorf("new interval: %+v", again.Queues[0])
	}
}

// GET /board/history answers the history; agents may read it.
func TestBoardHistoryEndpoint(t *testing.T) {
	e := newEnv(t)
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "q1"}); err != nil {
		t.Fatal(err)
	}
	w := e.do(RoleAgent, http.MethodGet, Prefix+"/board/history")
	e.expect(w, http.StatusOK)
	h := decode[BoardHistory](t, w)
	if len(h.Queues) != 1 || len(h.Queues[0].Intervals) != 1 || h.Basis == "" {
		t.Fatalf("history %+v", h)
	}
	e.expect(e.do("", http.MethodGet, Prefix+"/board/history"), http.StatusUnauthorized)
}

// GET /board lists what the stream does: every queue the store defines,
// also one no call joined yet, staffed by the signed-in agents serving it.
func TestGetBoardListsDefinedQueues(t *testing.T) {
	e := newEnv(t)
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	e.route.board = activities.Board{At: time.Now().UTC(), Agents: []activities.AgentView{{Name: "ann", State: "available", Capacity: 1}}}
	b := decode[Board](t, e.do(RoleAgent, http.MethodGet, Prefix+"/board"))
	if len(b.Queues) != 1 || b.Queues[0].Name != "sales" || b.Queues[0].Staffed != 1 || b.Queues[0].Available != 1 {
		t.Fatalf("board queues = %+v", b.Queues)
	}
}
