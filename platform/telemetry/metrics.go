package telemetry

import (
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// Metrics turns what a Temporal client measures (the SDK's own metrics,
// and what workflow code records through workflow.GetMetricsHandler,
// which skips replays) into Prometheus series: a counter "x" is exported
// as x_total, a gauge as x, a timer as the histogram x_seconds; the SDK's
// tags (namespace, task_queue, workflow_type, activity_type, ...) become
// labels. It is a client.MetricsHandler (Handler) and a
// prometheus.Collector. The SDK attaches different tag sets to one name,
// so a name's label set is the union of its series' tags ("" where a
// series has none).
type Metrics struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewMetrics returns an empty set of metrics.
func NewMetrics() *Metrics { return &Metrics{families: map[string]*family{}} }

var processMetrics = sync.OnceValue(NewMetrics)

// ProcessMetrics is the process's one set: every Temporal client the
// process builds (platform.TemporalOptions) reports to it and /metrics
// serves it.
func ProcessMetrics() *Metrics { return processMetrics() }

// Handler is the client.MetricsHandler that records into m.
func (m *Metrics) Handler() client.MetricsHandler { return handler{m: m} }

// family is every series of one metric name.
type family struct {
	kind    Kind
	name    string // as exported
	help    string
	buckets []float64
	labels  []string           // nil: every tag
	series  map[string]*series // by tagKey
}

// series is one tag set's value: a counter's or gauge's float64 bits, or
// a histogram.
type series struct {
	tags  map[string]string
	bits  atomic.Uint64
	hmu   sync.Mutex
	count uint64
	sum   float64
	le    []uint64 // per bucket, not cumulative
}

// handler is Metrics with a tag set; tagKey is its canonical form.
type handler struct {
	m      *Metrics
	tags   map[string]string
	tagKey string
}

func (h handler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	maps.Copy(merged, h.tags)
	for k, v := range tags {
		merged[labelName(k)] = v
	}
	return handler{m: h.m, tags: merged, tagKey: tagKey(merged)}
}

func (h handler) Counter(name string) client.MetricsCounter {
	s := h.m.series(name, KindCounter, h)
	if s == nil {
		return client.MetricsNopHandler.Counter(name)
	}
	return counter{s}
}

func (h handler) Gauge(name string) client.MetricsGauge {
	s := h.m.series(name, KindGauge, h)
	if s == nil {
		return client.MetricsNopHandler.Gauge(name)
	}
	return gauge{s}
}

func (h handler) Timer(name string) client.MetricsTimer {
	s := h.m.series(name, KindTimer, h)
	if s == nil {
		return client.MetricsNopHandler.Timer(name)
	}
	return timer{s: s, buckets: h.m.buckets(name)}
}

type counter struct{ s *series }

func (c counter) Inc(d int64) { addFloat(&c.s.bits, float64(d)) }

type gauge struct{ s *series }

func (g gauge) Update(v float64) { g.s.bits.Store(math.Float64bits(v)) }

type timer struct {
	s       *series
	buckets []float64
}

func (t timer) Record(d time.Duration) {
	v := d.Seconds()
	i := sort.SearchFloat64s(t.buckets, v) // first bucket with le >= v
	t.s.hmu.Lock()
	t.s.count++
	t.s.sum += v
	if i < len(t.s.le) {
		t.s.le[i]++
	}
	t.s.hmu.Unlock()
}

func addFloat(bits *atomic.Uint64, d float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+d)) {
			return
		}
	}
}

// series finds or makes the series of name with h's tags; nil when name
// was first used as another kind (the SDK never does that).
func (m *Metrics) series(name string, kind Kind, h handler) *series {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.families[name]
	if f == nil {
		d := declared(name, kind)
		f = &family{kind: kind, name: d.Exported(), help: d.Help, buckets: d.buckets(), labels: d.Labels, series: map[string]*series{}}
		m.families[name] = f
	}
	if f.kind != kind {
		return nil
	}
	tags, key := h.tags, h.tagKey
	if f.labels != nil {
		tags = map[string]string{}
		for _, l := range f.labels {
			if v, ok := h.tags[l]; ok {
				tags[l] = v
			}
		}
		key = tagKey(tags)
	}
	s := f.series[key]
	if s == nil {
		s = &series{tags: tags}
		if kind == KindTimer {
			s.le = make([]uint64, len(f.buckets))
		}
		f.series[key] = s
	}
	return s
}

func (m *Metrics) buckets(name string) []float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.families[name].buckets
}

// Describe sends nothing: the label sets are only known as the SDK
// reports (an unchecked collector).
func (m *Metrics) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	fams := slices.Collect(maps.Values(m.families))
	m.mu.Unlock()
	for _, f := range fams {
		m.collectFamily(ch, f)
	}
}

func (m *Metrics) collectFamily(ch chan<- prometheus.Metric, f *family) {
	m.mu.Lock()
	all := slices.Collect(maps.Values(f.series))
	m.mu.Unlock()
	names := map[string]bool{}
	for _, s := range all {
		for k := range s.tags {
			names[k] = true
		}
	}
	labels := slices.Sorted(maps.Keys(names))
	desc := prometheus.NewDesc(f.name, f.help, labels, nil)
	for _, s := range all {
		values := make([]string, len(labels))
		for i, l := range labels {
			values[i] = s.tags[l]
		}
		switch f.kind {
		case KindCounter:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, math.Float64frombits(s.bits.Load()), values...)
		case KindGauge:
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, math.Float64frombits(s.bits.Load()), values...)
		case KindTimer:
			ch <- s.histogram(desc, f.buckets, values)
		}
	}
}

func (s *series) histogram(desc *prometheus.Desc, buckets []float64, values []string) prometheus.Metric {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	cum := make(map[float64]uint64, len(buckets))
	var n uint64
	for i, le := range buckets {
		n += s.le[i]
		cum[le] = n
	}
	return prometheus.MustNewConstHistogram(desc, s.count, s.sum, cum, values...)
}

// tagKey is a canonical form of a tag set.
func tagKey(tags map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	return b.String()
}

// labelName makes a tag name a valid Prometheus label name.
func labelName(k string) string {
	ok := func(r rune, i int) bool {
		return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
	}
	out := []rune(k)
	for i, r := range out {
		if !ok(r, i) {
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "_"
	}
	return string(out)
}
