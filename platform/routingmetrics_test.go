package platform

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/activities"
)

// fakeBoard answers a fixed board (or err) and counts the reads.
type fakeBoard struct {
	board activities.Board
	err   error
	reads atomic.Int64
}

func (f *fakeBoard) Board(context.Context) (activities.Board, error) {
	f.reads.Add(1)
	return f.board, f.err
}

// scrape GETs /metrics of a Metrics handler and keeps the voxflow_ lines
// that are not comments.
func scrape(t *testing.T, c prometheus.Collector) map[string]bool {
	t.Helper()
	w := httptest.NewRecorder()
	Metrics(c).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	if w.Code != 200 {
		t.Fatalf("scrape: %d %s", w.Code, w.Body.String())
	}
	b, _ := io.ReadAll(w.Body)
	lines := map[string]bool{}
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(l, "voxflow_") {
			lines[l] = true
		}
	}
	return lines
}

// The collector exports the board's figures per queue and the agents per
// state, reads the board at most once per cache period, and says when it
// could not.
func TestRoutingCollector(t *testing.T) {
	f := &fakeBoard{board: activities.Board{
		Queues: []activities.QueueView{
			{Name: "sales", Waiting: 3, LongestWait: 95 * time.Second, ServiceLevel: 0.75, Answered: 12, Abandoned: 4, Staffed: 2, Available: 1},
			{Name: "support", ServiceLevel: 1},
		},
		Agents: []activities.AgentView{{Name: "a", State: "available"}, {Name: "b", State: "on_call"}, {Name: "c", State: "on_call"}},
	}}
	c := NewRoutingCollector(f)
	now := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	want := []string{
		`voxflow_router_up 1`,
		`voxflow_queue_waiting{queue="sales"} 3`, `voxflow_queue_waiting{queue="support"} 0`,
		`voxflow_queue_longest_wait_seconds{queue="sales"} 95`,
		`voxflow_queue_service_level{queue="sales"} 0.75`, `voxflow_queue_service_level{queue="support"} 1`,
		`voxflow_queue_answered{queue="sales"} 12`, `voxflow_queue_abandoned{queue="sales"} 4`,
		`voxflow_queue_staffed{queue="sales"} 2`, `voxflow_queue_available{queue="sales"} 1`,
		`voxflow_agents{state="available"} 1`, `voxflow_agents{state="on_call"} 2`, `voxflow_agents{state="offline"} 0`,
		`voxflow_agents{state="reserved"} 0`, `voxflow_agents{state="wrap_up"} 0`, `voxflow_agents{state="break"} 0`,
	}
	got := scrape(t, c)
	for _, l := range want {
		if !got[l] {
			t.Errorf("scrape lacks %s", l)
		}
	}
	if len(got) != 1+2*7+6 {
		t.Errorf("%d series, want 21: %v", len(got), got)
	}
	// A pedantic registry checks that what Collect sends is described.
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}
	// The scrapes above, within the cache's second, read the board once.
	if n := f.reads.Load(); n != 1 {
		t.Errorf("%d board reads within the cache period, want 1", n)
	}
	now = now.Add(RoutingMetricsCache)
	f.err = errors.New("router down")
	got = scrape(t, c)
	if len(got) != 1 || !got["voxflow_router_up 0"] || f.reads.Load() != 2 {
		t.Errorf("router down: %v after %d reads", got, f.reads.Load())
	}
}

// A board that does not answer in time costs a scrape the timeout, not
// more.
func TestRoutingCollectorTimeout(t *testing.T) {
	c := NewRoutingCollector(slowBoard{})
	c.timeout = 20 * time.Millisecond
	start := time.Now()
	if got := scrape(t, c); !got["voxflow_router_up 0"] {
		t.Errorf("slow router: %v", got)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("scrape took %v", d)
	}
}

type slowBoard struct{}

func (slowBoard) Board(ctx context.Context) (activities.Board, error) {
	<-ctx.Done()
	return activities.Board{}, ctx.Err()
}
