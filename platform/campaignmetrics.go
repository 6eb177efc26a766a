package platform

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/activities/records"
)

// Campaign metrics: a scrape reads every campaign's contact counts and
// 30-day tally from the store, and each running campaign's live picture
// from its workflow, at most once per CampaignMetricsCache.
const (
	// CampaignMetricsTimeout bounds the reads of one scrape.
	CampaignMetricsTimeout = 5 * time.Second
	// CampaignMetricsCache is how long one reading answers scrapes.
	CampaignMetricsCache = time.Second
)

// CampaignFigures reads what the campaign metrics count (*store.Store does).
type CampaignFigures interface {
	ListCampaigns(ctx context.Context) ([]records.Campaign, error)
	ContactCounts(ctx context.Context, campaign string) (byState, skippedByReason map[string]int, err error)
	CampaignTally(ctx context.Context, campaign string, since time.Time) (records.CampaignTally, error)
}

// CampaignLiveReader reads a running campaign's picture (Campaigns does).
type CampaignLiveReader interface {
	Live(ctx context.Context, id string) (*records.CampaignLive, error)
}

// CampaignCollector exports campaigns as Prometheus gauges. Every series
// is a gauge: the attempt counts cover a sliding 30 days (they fall as
// attempts age out), hence the _30d names, not counters.
type CampaignCollector struct {
	store   CampaignFigures
	live    CampaignLiveReader
	timeout time.Duration
	ttl     time.Duration
	now     func() time.Time

	mu   sync.Mutex
	last []campaignReading
	err  error
	at   time.Time

	up, running, contacts, skipped, dials, attempts, abandon, lines, agents, occupancy, ratio *prometheus.Desc
}

// campaignReading is one campaign's figures of a scrape.
type campaignReading struct {
	c       records.Campaign
	counts  map[string]int
	skipped map[string]int
	tally   records.CampaignTally
	live    *records.CampaignLive
}

// NewCampaignCollector reads st and, for running campaigns, live (nil:
// no live series).
func NewCampaignCollector(st CampaignFigures, live CampaignLiveReader) *CampaignCollector {
	c := []string{"campaign"}
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(append([]string(nil), c...), labels...), nil)
	}
	return &CampaignCollector{store: st, live: live, timeout: CampaignMetricsTimeout, ttl: CampaignMetricsCache, now: time.Now,
		up:        prometheus.NewDesc("voxflow_campaigns_up", "1 when the campaigns could be read from the store for this scrape, else 0.", nil, nil),
		running:   desc("voxflow_campaign_running", "1 while the campaign is running, else 0."),
		contacts:  desc("voxflow_campaign_contacts", "Contacts of the campaign's list by state (pending, dialing, done, skipped).", "state"),
		skipped:   desc("voxflow_campaign_contacts_skipped", "Skipped contacts of the campaign by reason.", "reason"),
		dials:     desc("voxflow_campaign_dials_30d", "Dial attempts that ended over the last 30 days (a gauge: attempts age out)."),
		attempts:  desc("voxflow_campaign_attempts_30d", "Dial attempts that ended over the last 30 days by outcome (a gauge; answered_human includes abandoned; failed includes invalid numbers).", "outcome"),
		abandon:   desc("voxflow_campaign_abandon_rate_30d", "Abandoned share (0 to 1) of live answers over the last 30 days; 0 without live answers."),
		lines:     desc("voxflow_campaign_lines", "Running campaign: dials in flight, not yet connected or ended."),
		agents:    desc("voxflow_campaign_agents", "Running campaign: agents of its queue signed in, available, busy (talking or wrapping up).", "state"),
		occupancy: desc("voxflow_campaign_occupancy", "Running campaign: agents' talk and wrap-up over signed-in time since the start (0 to 1)."),
		ratio:     desc("voxflow_campaign_pacing_ratio", "Running predictive campaign: lines per available agent."),
	}
}

// Describe sends every series' description.
func (c *CampaignCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.running, c.contacts, c.skipped, c.dials, c.attempts, c.abandon, c.lines, c.agents, c.occupancy, c.ratio} {
		ch <- d
	}
}

// read returns the campaigns' figures, from the cache when fresh enough.
func (c *CampaignCollector) read() ([]campaignReading, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && c.now().Sub(c.at) < c.ttl {
		return c.last, c.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	c.last, c.err = c.readAll(ctx)
	c.at = c.now()
	return c.last, c.err
}

func (c *CampaignCollector) readAll(ctx context.Context) ([]campaignReading, error) {
	cs, err := c.store.ListCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	since := c.now().Add(-30 * 24 * time.Hour)
	out := make([]campaignReading, 0, len(cs))
	for _, cp := range cs {
		r := campaignReading{c: cp}
		if r.counts, r.skipped, err = c.store.ContactCounts(ctx, cp.ID); err != nil {
			return nil, err
		}
		if r.tally, err = c.store.CampaignTally(ctx, cp.ID, since); err != nil {
			return nil, err
		}
		if cp.State == records.CampaignRunning && c.live != nil {
			// A workflow that does not answer leaves out its live series only.
			r.live, _ = c.live.Live(ctx, cp.ID)
		}
		out = append(out, r)
	}
	return out, nil
}

// Collect reads the campaigns and sends their series.
func (c *CampaignCollector) Collect(ch chan<- prometheus.Metric) {
	rs, err := c.read()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, r := range rs {
		c.collectOne(ch, r)
	}
}

func (c *CampaignCollector) collectOne(ch chan<- prometheus.Metric, r campaignReading) {
	id := r.c.ID
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{id}, labels...)...)
	}
	running := 0.0
	if r.c.State == records.CampaignRunning {
		running = 1
	}
	gauge(c.running, running)
	for _, st := range []string{records.ContactPending, records.ContactDialing, records.ContactDone, records.ContactSkipped} {
		gauge(c.contacts, float64(r.counts[st]), st)
	}
	for _, reason := range sortedKeys(r.skipped) {
		gauge(c.skipped, float64(r.skipped[reason]), reason)
	}
	t := r.tally
	gauge(c.dials, float64(t.Dials))
	for _, o := range []struct {
		outcome string
		n       int
	}{
		{records.AttemptHuman, t.Human}, {records.AttemptMachine, t.Machine}, {records.AttemptBusy, t.Busy},
		{records.AttemptNoAnswer, t.NoAnswer}, {records.AttemptFailed, t.Failed}, {records.AttemptAbandoned, t.Abandoned},
	} {
		gauge(c.attempts, float64(o.n), o.outcome)
	}
	gauge(c.abandon, t.AbandonRate())
	if l := r.live; l != nil {
		gauge(c.lines, float64(l.Lines))
		gauge(c.agents, float64(l.AgentsSignedIn), "signed_in")
		gauge(c.agents, float64(l.AgentsAvailable), "available")
		gauge(c.agents, float64(l.AgentsBusy), "busy")
		gauge(c.occupancy, l.Occupancy)
		if r.c.Mode == records.PacePredictive {
			gauge(c.ratio, l.Ratio)
		}
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
