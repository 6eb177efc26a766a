package sipguard

import (
	"container/list"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Ban metrics. Every series carries the worker's ID as the label worker.
const (
	MetricAuthFailures    = "voxflow_sip_auth_failures_total"
	MetricBans            = "voxflow_sip_bans_total"
	MetricBannedSources   = "voxflow_sip_banned_sources"
	MetricDroppedRequests = "voxflow_sip_dropped_requests_total"
)

// ReasonBanned is the reason label of a request dropped because its
// source is banned.
const ReasonBanned = "banned"

// DefaultMaxSources bounds the addresses Bans tracks when BanConfig does
// not say.
const DefaultMaxSources = 10000

// BanConfig configures Bans.
type BanConfig struct {
	// AuthFailures digest failures from one address within AuthWindow ban
	// it for BanTime; 0 never bans (failures are still counted).
	AuthFailures int
	AuthWindow   time.Duration
	BanTime      time.Duration
	// MaxSources caps the addresses tracked (failing or banned); past it
	// the one seen least recently is forgotten (default DefaultMaxSources).
	// A banned scanner keeps its entry fresh with every dropped request.
	MaxSources int
	// TrustedProxies are never banned nor counted (source.go).
	TrustedProxies Proxies
	// Worker is the worker label of the metrics.
	Worker string
	// Logger defaults to slog.Default(); Now to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// Bans counts digest-auth failures per source address and bans an address
// that fails too often. It is safe for concurrent use.
type Bans struct {
	cfg BanConfig
	log *slog.Logger

	mu      sync.Mutex
	sources map[netip.Addr]*list.Element // of *source
	lru     *list.List                   // front: seen most recently

	failures, bans prometheus.Counter
	dropped        *prometheus.CounterVec
	banned         prometheus.GaugeFunc
}

// source is what Bans knows of one address.
type source struct {
	addr     netip.Addr
	failures []time.Time // within the window, oldest first
	until    time.Time   // banned until; zero: not banned
}

// NewBans returns Bans configured by cfg.
func NewBans(cfg BanConfig) *Bans {
	if cfg.MaxSources <= 0 {
		cfg.MaxSources = DefaultMaxSources
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bans{cfg: cfg, log: cfg.Logger.With("component", "sipguard"),
		sources: map[netip.Addr]*list.Element{}, lru: list.New()}
	worker := prometheus.Labels{"worker": cfg.Worker}
	b.failures = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricAuthFailures, ConstLabels: worker,
		Help: "SIP requests whose digest credentials did not verify (wrong response, unknown user, replayed or stale nonce)."})
	b.bans = prometheus.NewCounter(prometheus.CounterOpts{Name: MetricBans, ConstLabels: worker,
		Help: "Source addresses banned for too many digest failures."})
	b.dropped = prometheus.NewCounterVec(prometheus.CounterOpts{Name: MetricDroppedRequests, ConstLabels: worker,
		Help: "SIP requests dropped without an answer, by reason (banned: from a banned source)."}, []string{"reason"})
	b.banned = prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: MetricBannedSources, ConstLabels: worker,
		Help: "Source addresses banned now."}, func() float64 { return float64(b.BannedCount()) })
	return b
}

// Collectors are the ban metrics, for a process's /metrics.
func (b *Bans) Collectors() []prometheus.Collector {
	return []prometheus.Collector{b.failures, b.bans, b.dropped, b.banned}
}

// sourceAddr is the address of src, "ip:port" or a bare IP; ok is false
// when it is neither.
func sourceAddr(src string) (netip.Addr, bool) {
	host := src
	if h, _, err := net.SplitHostPort(src); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// Drop reports whether a request from src ("ip:port" or an IP) is to be
// dropped unanswered because src is banned; each drop is counted.
func (b *Bans) Drop(src string) bool {
	a, ok := sourceAddr(src)
	if !ok || b.cfg.TrustedProxies.Contains(a) {
		return false
	}
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.sources[a]
	if e == nil {
		return false
	}
	s := e.Value.(*source)
	if s.until.IsZero() {
		return false
	}
	if !now.Before(s.until) {
		b.unban(e, s)
		return false
	}
	b.lru.MoveToFront(e)
	b.dropped.WithLabelValues(ReasonBanned).Inc()
	return true
}

// AuthResult records the outcome of a request's digest credentials from
// src: a failure counts towards a ban of src, a success clears src's
// failures (and no other address's).
func (b *Bans) AuthResult(src string, ok bool) {
	a, valid := sourceAddr(src)
	if !valid || b.cfg.TrustedProxies.Contains(a) {
		return
	}
	if !ok {
		b.failures.Inc()
	}
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.sources[a]
	if ok {
		if e != nil && e.Value.(*source).until.IsZero() {
			b.forget(e)
		}
		return
	}
	if e == nil {
		e = b.lru.PushFront(&source{addr: a})
		b.sources[a] = e
		b.evict()
	}
	b.lru.MoveToFront(e)
	b.fail(e.Value.(*source), now)
}

// fail counts one failure of s at now and bans s when there are enough
// within the window. The caller holds b.mu.
func (b *Bans) fail(s *source, now time.Time) {
	if !s.until.IsZero() {
		if now.Before(s.until) {
			return // already banned (a request in flight when the ban began)
		}
		s.until = time.Time{}
	}
	keep := s.failures[:0]
	for _, t := range s.failures {
		if now.Sub(t) < b.cfg.AuthWindow {
			keep = append(keep, t)
		}
	}
	s.failures = append(keep, now)
	if b.cfg.AuthFailures <= 0 {
		s.failures = s.failures[len(s.failures)-1:] // counting only: keep memory flat
		return
	}
	if len(s.failures) < b.cfg.AuthFailures {
		return
	}
	n := len(s.failures)
	s.failures, s.until = nil, now.Add(b.cfg.BanTime)
	b.bans.Inc()
	b.log.Warn("sip source banned", "ip", s.addr.String(), "failures", n, "for", shortDuration(b.cfg.BanTime))
}

// shortDuration is d without zero trailing units: 10m, not 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// unban ends the ban of s, found expired. The caller holds b.mu.
func (b *Bans) unban(e *list.Element, s *source) {
	b.log.Debug("sip source unbanned", "ip", s.addr.String())
	b.forget(e)
}

func (b *Bans) forget(e *list.Element) {
	delete(b.sources, e.Value.(*source).addr)
	b.lru.Remove(e)
}

// evict forgets the addresses seen least recently beyond MaxSources. The
// caller holds b.mu.
func (b *Bans) evict() {
	for b.lru.Len() > b.cfg.MaxSources {
		b.forget(b.lru.Back())
	}
}

// Banned reports whether src is banned now, without counting a drop.
func (b *Bans) Banned(src string) bool {
	a, ok := sourceAddr(src)
	if !ok {
		return false
	}
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.sources[a]
	return e != nil && now.Before(e.Value.(*source).until)
}

// BannedCount is how many addresses are banned now; expired bans are
// lifted on the way.
func (b *Bans) BannedCount() int {
	now := b.cfg.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for e := b.lru.Front(); e != nil; {
		next := e.Next()
		s := e.Value.(*source)
		switch {
		case s.until.IsZero():
		case now.Before(s.until):
			n++
		default:
			b.unban(e, s)
		}
		e = next
	}
	return n
}
