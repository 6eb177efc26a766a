package sipworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipguard"
)

// Worker is a running SIP media worker.
type Worker struct {
	cfg Config
	log *slog.Logger

	ua       *sipgo.UserAgent
	srv      *sipgo.Server
	dg       *diago.Diago
	cancel   context.CancelFunc
	prompts  *promptCache
	draining atomic.Bool
	// down is why the backends a call needs (Temporal, the store) do not
	// answer; nil while they do (SetServing).
	down   atomic.Pointer[string]
	closed atomic.Bool
	// agents are the browser desktops attached (web.go).
	agents webAgents

	mu       sync.Mutex
	sessions map[string]*session // by call ID
	bySIP    map[string]*session // by SIP Call-ID
	bridges  bridges             // running bridges by call ID, own lock (control.go)
	pending  pendingCalls        // started, not yet answered (pending.go)
	ended    endedCalls          // ended here, their workflow checked later (orphans.go)
	// inflight counts INVITEs being handled (ringing or live); Drain waits
	// for it to reach zero.
	inflight  atomic.Int64
	liveCalls atomic.Int64
	// launching counts workflow starts in progress (they run in the
	// background and may outlast a call the caller ended at once).
	launching atomic.Int64
	// bg tracks goroutines the worker starts besides the SIP stack's own.
	bg sync.WaitGroup
	// metrics are the worker's Prometheus series (metrics.go).
	metrics *metrics

	// Registry reporting (nil channels without a registry).
	reportNow  chan struct{}
	reportStop chan struct{}
	reportDone chan struct{}
}

// Start listens for SIP on cfg.SIPAddr (UDP and TCP, and TLS when
// configured). The worker is an activities.Channel: its media activities
// run wherever it is registered (activities.RegisterChannel on a Temporal
// worker polling Queue()).
func Start(ctx context.Context, cfg Config) (*Worker, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.RecordDir == "" {
		cfg.RecordDir = filepath.Join(os.TempDir(), "voxflow-recordings")
	}
	if cfg.RTPPortStart != 0 {
		// Process-wide in diago: every worker in this process shares it.
		media.RTPPortStart, media.RTPPortEnd = cfg.RTPPortStart, cfg.RTPPortEnd
	}
	w := &Worker{
		cfg: cfg, log: cfg.Logger.With("component", "sip", "worker", cfg.ID),
		sessions: map[string]*session{}, bySIP: map[string]*session{},
		prompts: newPromptCache(cfg.TTS, cfg.PromptDir),
	}
	w.metrics = newMetrics(cfg.ID, w.LiveCalls)
	ok := false
	defer func() {
		if !ok {
			w.Close()
		}
	}()
	host, port, _ := splitHostPort(cfg.SIPAddr)
	transportLog := slog.New(newTransportLog(w.log.Handler(), w.metrics.unparsable.Inc))
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("voxflow"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(transportLog)))
	if err != nil {
		return nil, fmt.Errorf("sipworker: new user agent: %w", err)
	}
	w.ua = ua
	w.srv, err = sipgo.NewServer(ua, sipgo.WithServerLogger(w.log))
	if err != nil {
		return nil, fmt.Errorf("sipworker: new SIP server: %w", err)
	}
	opts := []diago.DiagoOption{
		diago.WithServer(w.srv),
		diago.WithLogger(w.log),
		diago.WithMediaConfig(diago.MediaConfig{Codecs: offeredCodecs()}),
		diago.WithServerRequestMiddleware(func(next sipgo.RequestHandler) sipgo.RequestHandler { return w.unbanned(w.screen(next)) }),
	}
	for _, proto := range []string{"udp", "tcp"} {
		opts = append(opts, diago.WithTransport(diago.Transport{
			ID: proto, Transport: proto, BindHost: host, BindPort: port, ExternalHost: cfg.ExternalHost,
		}))
	}
	if t, ok := cfg.tlsTransport(); ok {
		opts = append(opts, diago.WithTransport(t))
	}
	w.dg = diago.NewDiago(ua, opts...)
	// Replace diago's handlers where the worker does more: INFO carries
	// DTMF (diago answers 406 on inbound dialogs), OPTIONS reports drain.
	w.srv.OnInfo(w.unbanned(w.onInfo))
	w.srv.OnOptions(w.unbanned(w.onOptions))
	w.serveRegister()
	w.srv.OnNoRoute(w.unbanned(methodNotAllowed))

	serveCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w.cancel = cancel
	if err := w.dg.ServeBackground(serveCtx, w.serveDialog); err != nil {
		if cfg.TLSAddr != "" {
			return nil, fmt.Errorf("sipworker: listen on %s (UDP, TCP) and %s (TLS): %w", cfg.SIPAddr, cfg.TLSAddr, err)
		}
		return nil, fmt.Errorf("sipworker: listen on %s: %w", cfg.SIPAddr, err)
	}
	if cfg.Registry != nil {
		w.startReporting()
	}
	if cfg.CallClosed != nil {
		w.goBackground(func() { w.hangUpOrphans(serveCtx) })
	}
	ok = true
	w.log.Info("SIP media worker listening", "addr", cfg.SIPAddr, "tls", cfg.TLSAddr, "queue", w.Queue())
	return w, nil
}

// unbanned wraps a SIP handler (every handler is wrapped) so that a
// request from a source Config.Bans has banned is dropped unanswered: a
// scanner sees a dead host and times out, and costs no look-up or
// transaction state beyond the one sipgo already made. Behind a trusted
// proxy the source is the client it names (ClientSource), and a banned
// client's request gets 403 instead: silence would time out the proxy's
// branch, and Kamailio's dispatcher takes a worker that times out out of
// its set, for every caller.
func (w *Worker) unbanned(next sipgo.RequestHandler) sipgo.RequestHandler {
	if w.cfg.Bans == nil {
		return next
	}
	return func(req *sip.Request, tx sip.ServerTransaction) {
		src, proxied := ClientSource(req, w.cfg.Bans.Proxies())
		if !w.cfg.Bans.Drop(src) {
			next(req, tx)
			return
		}
		if proxied && !req.IsAck() {
			_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusForbidden, "Forbidden", nil))
		}
	}
}

// methodNotAllowed answers a method no handler serves (sipgo's default,
// which cannot be wrapped).
func methodNotAllowed(req *sip.Request, tx sip.ServerTransaction) {
	_ = tx.Respond(sip.NewResponseFromRequest(req, sip.StatusMethodNotAllowed, "Method Not Allowed", nil))
}

// Bans are the worker's scanner bans (Config.Bans), nil without.
func (w *Worker) Bans() *sipguard.Bans { return w.cfg.Bans }

// ID is the worker's ID.
func (w *Worker) ID() string { return w.cfg.ID }

// Queue is the worker's media task queue.
func (w *Worker) Queue() string { return activities.MediaQueue(w.cfg.ID) }

// SetServing tells the worker whether the backends a new call needs
// (Temporal, the store) answer: while err is not nil, new INVITEs and
// OPTIONS probes get 503 with Retry-After, so a load balancer sends calls
// to another worker instead of a caller being answered and dropped.
func (w *Worker) SetServing(err error) {
	if err == nil {
		if w.down.Swap(nil) != nil {
			w.log.Info("backends answer again: taking calls")
		}
		return
	}
	why := err.Error()
	if w.down.Swap(&why) == nil {
		w.log.Warn("backends do not answer: refusing new calls with 503", "error", err)
	}
}

// Draining says whether Drain or Close has begun.
func (w *Worker) Draining() bool { return w.draining.Load() }

// refusing says whether new calls are turned away (draining or down).
func (w *Worker) refusing() bool { return w.draining.Load() || w.down.Load() != nil }

// LiveCalls is the number of answered calls in progress.
func (w *Worker) LiveCalls() int { return int(w.liveCalls.Load()) }

var _ activities.Channel = (*Worker)(nil)

// Drain stops accepting calls (new INVITEs get 503, OPTIONS too so a load
// balancer takes the worker out) and waits for the calls in progress to end,
// or for ctx.
func (w *Worker) Drain(ctx context.Context) error {
	w.draining.Store(true)
	w.reportSoon()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for w.inflight.Load() > 0 {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("sipworker: drain: %d calls still live: %w", w.LiveCalls(), ctx.Err())
		}
	}
	return nil
}

// Close hangs up the calls still live (their workflows are told the caller
// hung up) and stops the SIP listeners.
func (w *Worker) Close() error {
	if !w.closed.CompareAndSwap(false, true) {
		return nil
	}
	w.draining.Store(true)
	w.stopReporting()
	w.mu.Lock()
	live := make([]*session, 0, len(w.sessions))
	for _, s := range w.sessions {
		live = append(live, s)
	}
	w.mu.Unlock()
	for _, s := range live {
		s.shutdown()
	}
	drainCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	if err := w.Drain(drainCtx); err != nil {
		w.log.Warn("close", "error", err)
	}
	cancel()
	if w.cancel != nil {
		w.cancel()
	}
	waitTimeout(&w.bg, 15*time.Second)
	var err error
	if w.ua != nil {
		err = w.ua.Close()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("sipworker: close: %w", err)
	}
	return nil
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// go runs f in a goroutine the worker waits for on Close.
func (w *Worker) goBackground(f func()) {
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		f()
	}()
}

func (w *Worker) session(callID string) (*session, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.sessions[callID]
	if !ok || s.ctx.Err() != nil {
		return nil, activities.NewCallGone(callID)
	}
	return s, nil
}

func (w *Worker) sessionBySIP(sipCallID string) *session {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bySIP[sipCallID]
}

func (w *Worker) addSession(s *session) {
	w.mu.Lock()
	w.sessions[s.id] = s
	w.bySIP[s.sipCallID] = s
	w.mu.Unlock()
	w.liveCalls.Add(1)
}

func (w *Worker) removeSession(s *session) {
	w.mu.Lock()
	removed := w.sessions[s.id] == s
	if removed {
		delete(w.sessions, s.id)
		delete(w.bySIP, s.sipCallID)
		w.liveCalls.Add(-1)
	}
	w.mu.Unlock()
	if removed && !s.leg && w.cfg.FailLostTasks != nil {
		w.ended.add(s.id, time.Now())
	}
}

// respond answers a request outside any dialog, logging a failure.
func (w *Worker) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, hdrs ...sip.Header) {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	for _, h := range hdrs {
		res.AppendHeader(h)
	}
	if err := tx.Respond(res); err != nil {
		w.log.Debug("respond", "code", code, "method", req.Method.String(), "error", err)
	}
}

// report is what the registry is told: calls ringing or live, or -1 while
// draining (not to be picked).
func (w *Worker) report() records.MediaWorker {
	calls := int(w.inflight.Load())
	if w.draining.Load() {
		calls = -1
	}
	return records.MediaWorker{ID: w.cfg.ID, Queue: w.Queue(), LiveCalls: calls, SeenAt: time.Now().UTC()}
}

// startReporting tells the registry every ReportInterval that the worker
// is alive and how loaded it is.
func (w *Worker) startReporting() {
	w.reportNow = make(chan struct{}, 1)
	w.reportStop = make(chan struct{})
	w.reportDone = make(chan struct{})
	go func() {
		defer close(w.reportDone)
		t := time.NewTicker(w.cfg.ReportInterval)
		defer t.Stop()
		failing := false
		for {
			ctx, cancel := context.WithTimeout(context.Background(), w.cfg.ReportInterval)
			err := w.cfg.Registry.ReportMediaWorker(ctx, w.report())
			cancel()
			switch {
			case err != nil && !failing:
				w.log.Warn("report to media worker registry", "error", err)
			case err == nil && failing:
				w.log.Info("reporting to media worker registry again")
			}
			failing = err != nil
			select {
			case <-t.C:
			case <-w.reportNow:
			case <-w.reportStop:
				return
			}
		}
	}()
}

// reportSoon reports now rather than at the next tick.
func (w *Worker) reportSoon() {
	if w.reportNow == nil {
		return
	}
	select {
	case w.reportNow <- struct{}{}:
	default:
	}
}

// stopReporting ends reporting and takes the worker out of the registry.
func (w *Worker) stopReporting() {
	if w.reportStop == nil {
		return
	}
	close(w.reportStop)
	<-w.reportDone
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if r, ok := w.cfg.Registry.(interface {
		RemoveMediaWorker(ctx context.Context, id string) error
	}); ok {
		err = r.RemoveMediaWorker(ctx, w.cfg.ID)
	} else {
		err = w.cfg.Registry.ReportMediaWorker(ctx, w.report()) // draining: -1
	}
	if err != nil {
		w.log.Warn("leave media worker registry", "error", err)
	}
}
