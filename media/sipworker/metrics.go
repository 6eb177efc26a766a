package sipworker

import (
	"strconv"
	"sync/atomic"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/media/sipguard"
)

// Media worker metrics. Every series carries the worker's ID as the label
// worker; none carries a call: per-call figures are histograms.
const (
	MetricSIPInvites    = "voxflow_sip_invites_total"
	MetricSIPCallsEnded = "voxflow_sip_calls_ended_total"
	MetricSIPLiveCalls  = "voxflow_sip_live_calls"
	MetricMediaLoss     = "voxflow_media_loss_ratio"
	MetricMediaJitter   = "voxflow_media_jitter_seconds"
	MetricMediaMOS      = "voxflow_media_mos"
	MetricSIPRejected   = "voxflow_sip_rejected_calls_total"
	MetricSIPUnparsable = "voxflow_sip_unparsable_total"
)

// metrics are one worker's series.
type metrics struct {
	invites, ended    *prometheus.CounterVec
	rejected          *prometheus.CounterVec
	unparsable        prometheus.Counter
	loss, jitter, mos *prometheus.HistogramVec
	live              prometheus.GaugeFunc
}

// newMetrics are the series of worker id; live counts its live calls.
func newMetrics(id string, live func() int) *metrics {
	worker := prometheus.Labels{"worker": id}
	stream := []string{"stream", "codec"}
	m := &metrics{
		invites: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricSIPInvites, ConstLabels: worker,
			Help: "Initial INVITEs by direction (inbound: the final response we sent; outbound: the one we got) and SIP status code (487: cancelled; none: no final response)."},
			[]string{"direction", "code"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricSIPCallsEnded, ConstLabels: worker,
			Help: "Answered calls (and bridge legs) that ended, by cause: caller hangup, hangup, transferred, worker shutdown, workflow start failed."},
			[]string{"cause"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricSIPRejected, ConstLabels: worker,
			Help: "Initial INVITEs refused with 503 by admission control, by reason (rate: over --max-call-rate; concurrency: --max-calls live)."},
			[]string{"reason"}),
		unparsable: prometheus.NewCounter(prometheus.CounterOpts{Name: MetricSIPUnparsable, ConstLabels: worker,
			Help: "SIP messages dropped because they could not be parsed (torture, scanners, garbage)."}),
		loss: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricMediaLoss, ConstLabels: worker,
			Help:    "Per call at hang-up: share of RTP packets lost or played too late, by stream (received: the caller's audio as we measured it; sent: ours as the caller's RTCP reported it) and codec.",
			Buckets: []float64{0, 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1}}, stream),
		jitter: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricMediaJitter, ConstLabels: worker,
			Help:    "Per call at hang-up: RTP interarrival jitter (RFC 3550), by stream and codec.",
			Buckets: []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2}}, stream),
		mos: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: MetricMediaMOS, ConstLabels: worker,
			Help:    "Per call at hang-up: MOS estimated by the ITU-T G.107 E-model from loss and delay (1 to 4.5), by stream and codec.",
			Buckets: []float64{1, 2, 2.5, 3, 3.5, 3.8, 4, 4.2, 4.3, 4.4, 4.5}}, stream),
		live: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: MetricSIPLiveCalls, ConstLabels: worker,
			Help: "Answered SIP calls in progress."}, func() float64 { return float64(live()) }),
	}
	for _, r := range []string{sipguard.ReasonRate, sipguard.ReasonConcurrency} {
		m.rejected.WithLabelValues(r) // exported at 0 before the first refusal
	}
	return m
}

// Collectors are the worker's metrics, for a process's /metrics.
func (w *Worker) Collectors() []prometheus.Collector { return w.metrics.collectors() }

// MetricCollectors are the series a worker with this ID exports, without a
// worker (their descriptions: for documentation and dashboards' tests).
func MetricCollectors(workerID string) []prometheus.Collector {
	return newMetrics(workerID, func() int { return 0 }).collectors()
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.invites, m.ended, m.rejected, m.unparsable, m.loss, m.jitter, m.mos, m.live}
}

// invite counts an initial INVITE's final response (0: none).
func (m *metrics) invite(direction string, code int) {
	c := "none"
	if code > 0 {
		c = strconv.Itoa(code)
	}
	m.invites.WithLabelValues(direction, c).Inc()
}

// countedTx counts the final response to an inbound INVITE, once: the
// one the worker or diago sends, or the 487 the transaction sends itself
// on CANCEL.
type countedTx struct {
	sip.ServerTransaction
	m     *metrics
	final atomic.Bool
}

func (w *Worker) countFinal(tx sip.ServerTransaction) sip.ServerTransaction {
	c := &countedTx{ServerTransaction: tx, m: w.metrics}
	tx.OnCancel(func(*sip.Request) { c.count(sip.StatusRequestTerminated) })
	return c
}

func (c *countedTx) Respond(res *sip.Response) error {
	if res.StatusCode >= 200 {
		c.count(res.StatusCode)
	}
	return c.ServerTransaction.Respond(res)
}

func (c *countedTx) count(code int) {
	if c.final.CompareAndSwap(false, true) {
		c.m.invite("inbound", code)
	}
}
