package platform

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// Routing metrics: a scrape reads the router's board (the supervisor
// board's figures) at most once a second, so that several scrapers, or a
// scrape racing the console, cost the router one query.
const (
	// RoutingMetricsTimeout bounds the board query of one scrape.
	RoutingMetricsTimeout = 2 * time.Second
	// RoutingMetricsCache is how long one board answers scrapes.
	RoutingMetricsCache = time.Second
)

// BoardReader reads the router's board (Router does).
type BoardReader interface {
	Board(ctx context.Context) (activities.Board, error)
}

// RoutingCollector exports the router's board as Prometheus gauges: per
// queue the callers waiting, the longest wait, and over the router's
// sliding window the service level and the calls answered and abandoned;
// the agents staffing and available per queue; the agents per state; and
// voxflow_router_up, 0 when the board could not be read (the other series
// are then left out of the scrape).
type RoutingCollector struct {
	board   BoardReader
	timeout time.Duration
	ttl     time.Duration
	now     func() time.Time

	mu   sync.Mutex
	last activities.Board
	err  error
	at   time.Time

	up, waiting, longest, sl, answered, abandoned, staffed, available, agents *prometheus.Desc
}

// NewRoutingCollector reads b on scrape (Router{Client} in a process).
func NewRoutingCollector(b BoardReader) *RoutingCollector {
	q := []string{"queue"}
	desc := func(name, help string, labels []string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &RoutingCollector{board: b, timeout: RoutingMetricsTimeout, ttl: RoutingMetricsCache, now: time.Now,
		up:        desc("voxflow_router_up", "1 when the router's board could be read for this scrape, else 0.", nil),
		waiting:   desc("voxflow_queue_waiting", "Callers waiting in the queue, not yet ringing an agent.", q),
		longest:   desc("voxflow_queue_longest_wait_seconds", "Wait of the queue's longest-waiting caller.", q),
		sl:        desc("voxflow_queue_service_level", "Share (0 to 1) of the queue's calls answered within its threshold over the router's window (1 when none).", q),
		answered:  desc("voxflow_queue_answered", "Calls the queue's agents answered over the router's sliding window (a gauge: it falls as calls age out).", q),
		abandoned: desc("voxflow_queue_abandoned", "Callers who hung up waiting in the queue over the router's sliding window (a gauge).", q),
		staffed:   desc("voxflow_queue_staffed", "Agents signed in (not offline) serving the queue.", q),
		available: desc("voxflow_queue_available", "Agents serving the queue free to take a call now.", q),
		agents:    desc("voxflow_agents", "Agents the router knows, by state.", []string{"state"}),
	}
}

// Describe sends every series' description.
func (c *RoutingCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.waiting, c.longest, c.sl, c.answered, c.abandoned, c.staffed, c.available, c.agents} {
		ch <- d
	}
}

// read returns the board, from the cache when it is fresh enough.
func (c *RoutingCollector) read() (activities.Board, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && c.now().Sub(c.at) < c.ttl {
		return c.last, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.last, c.err = c.board.Board(ctx)
	c.at = c.now()
	return c.last, c.err
}

// Collect reads the board and sends its series.
func (c *RoutingCollector) Collect(ch chan<- prometheus.Metric) {
	b, err := c.read()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	gauge := func(d *prometheus.Desc, v float64, label string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, label)
	}
	for _, q := range b.Queues {
		gauge(c.waiting, float64(q.Waiting), q.Name)
		gauge(c.longest, q.LongestWait.Seconds(), q.Name)
		gauge(c.sl, q.ServiceLevel, q.Name)
		gauge(c.answered, float64(q.Answered), q.Name)
		gauge(c.abandoned, float64(q.Abandoned), q.Name)
		gauge(c.staffed, float64(q.Staffed), q.Name)
		gauge(c.available, float64(q.Available), q.Name)
	}
	byState := map[string]int{}
	for _, a := range b.Agents {
		byState[a.State]++
	}
	for _, st := range routing.States() { // every state, 0 included: no series comes and goes
		gauge(c.agents, float64(byState[string(st)]), string(st))
		delete(byState, string(st))
	}
	for st, n := range byState { // a state this build does not know
		gauge(c.agents, float64(n), st)
	}
}
