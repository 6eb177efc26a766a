// Package sipmedia builds a SIP media worker from configuration: the
// registrar over the store, the routes of dialled numbers, the trunk, the
// call launcher and the worker's Temporal worker. It is the one place
// `voxflow dev`, `voxflow media` and the tests build one.
package sipmedia

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipguard"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/store"
)

// Deps are what a SIP media worker is built on.
type Deps struct {
	Client client.Client
	Store  *store.Store
	Logger *slog.Logger
	// CallVars are given to every call on top of the configured vars
	// (voxflow dev: crm_url of its demo CRM).
	CallVars map[string]any
	// TTS renders prompts; nil: espeak-ng with an in-memory cache.
	TTS sipworker.Synthesizer
	// Routes finds the flow of a dialled number; nil: the store's number
	// bindings and published flows (platform.StoreRoutes).
	Routes activities.Routes
	// OrphanCheck is how often calls with no media activity running are
	// checked for a closed workflow; 0: the worker's default.
	OrphanCheck time.Duration
	// Namespace is Client's Temporal namespace (lost media tasks are
	// failed by ID in it); empty: they are not looked for.
	Namespace string
	// AI may move free speech and voices to the model endpoint
	// (ai.transcribe_model, ai.tts_model); zero: offline.
	AI config.AI
}

// Media is a running SIP media worker and the Temporal worker serving its
// media activities.
type Media struct {
	SIP *sipworker.Worker
	// Registrar answers agents' REGISTERs; nil with media.registrar false.
	Registrar *registrar.Registrar
	workers   *platform.Workers
	log       *slog.Logger
	stopWatch context.CancelFunc
	watched   chan struct{}
}

// Start builds the worker from cfg, starts SIP and runs its media
// activities on its queue.
func Start(ctx context.Context, cfg config.Media, d Deps) (*Media, error) {
	wc, reg, err := workerConfig(cfg, d)
	if err != nil {
		return nil, err
	}
	// Calls still running on this worker's queue were held by the process
	// that ran under this ID before: it is gone, so they are told now
	// rather than found by the watchdog (this worker reports fresh at once).
	if n, err := platform.TellLostCalls(ctx, d.Client, activities.MediaQueue(wc.ID)); err != nil {
		wc.Logger.Warn("tell calls of the previous process", "error", err)
	} else if n > 0 {
		wc.Logger.Warn("calls of the previous process on this queue are told to recover", "calls", n)
	}
	w, err := sipworker.Start(ctx, wc)
	if errors.Is(err, sipworker.ErrBadTLS) {
		return nil, fmt.Errorf("start SIP media worker: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("start SIP media worker on %s: %w: choose another address with --sip", cfg.SIPAddr, err)
	}
	ws, err := platform.StartWorkers(d.Client, platform.Parts{Channels: []activities.Channel{w}})
	if err != nil {
		_ = w.Close()
		return nil, err
	}
	m := &Media{SIP: w, Registrar: reg, workers: ws, log: wc.Logger, watched: make(chan struct{})}
	var wctx context.Context
	wctx, m.stopWatch = context.WithCancel(context.Background())
	go m.watchBackends(wctx, platform.Health{Client: d.Client, Store: d.Store})
	return m, nil
}

// backendCheckInterval is how often a media worker checks that Temporal
// and the store answer; an outage turns new calls away within it.
const backendCheckInterval = 2 * time.Second

// watchBackends keeps the SIP worker refusing new calls (503 with
// Retry-After) while Temporal or the store do not answer.
func (m *Media) watchBackends(ctx context.Context, h platform.Health) {
	defer close(m.watched)
	t := time.NewTicker(backendCheckInterval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, platform.HealthTimeout)
		err := h.Check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		m.SIP.SetServing(err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Draining says whether the worker has stopped taking calls (SIGTERM).
func (m *Media) Draining() bool { return m.SIP.Draining() }

// workerConfig maps the configuration onto the worker's.
func workerConfig(cfg config.Media, d Deps) (sipworker.Config, *registrar.Registrar, error) {
	start, end, err := cfg.RTPRange()
	if err != nil {
		return sipworker.Config{}, nil, fmt.Errorf("media.rtp_ports: %w", err)
	}
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	wc := sipworker.Config{
		ID: cfg.ID, SIPAddr: cfg.SIPAddr, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey, TLSAddr: cfg.TLSAddr,
		ExternalHost: cfg.ExternalHost, RTPPortStart: start, RTPPortEnd: end,
		Routes: d.Routes, StartCall: platform.CallStarter(d.Client),
		SignalHangup: platform.HangupSignaler(d.Client), SignalAnswered: platform.AnswerSignaler(d.Client),
		SignalSilence: platform.SilenceSignaler(d.Client), CallClosed: platform.CallClosedChecker(d.Client), OrphanCheck: d.OrphanCheck,
		CallVars: callVars(cfg.Vars, d.CallVars), TTS: d.TTS, RecordDir: cfg.RecordDir, PromptDir: cfg.PromptDir,
		Logger: log, Registry: d.Store, OriginateFrom: cfg.From, OnCallQuality: qualityEvents(d.Store, log),
	}
	if wc.Routes == nil {
		wc.Routes = &platform.StoreRoutes{Store: d.Store}
	}
	if d.Namespace != "" {
		wc.FailLostTasks = platform.LostTaskFailer(d.Client, d.Namespace)
	}
	wc.Admission.MaxCalls, wc.Admission.MaxCallRate = cfg.Guard.MaxCalls, cfg.Guard.MaxCallRate
	if err := speechProviders(&wc, d.AI, log); err != nil {
		return wc, nil, err
	}
	if wc.ID == "" {
		host, err := os.Hostname()
		if err != nil {
			return wc, nil, fmt.Errorf("media.id is not set and there is no hostname: %w", err)
		}
		wc.ID = host
	}
	if cfg.Trunk.URI != "" {
		wc.Trunk = &sipworker.Trunk{URI: cfg.Trunk.URI, Username: cfg.Trunk.User, Password: cfg.Trunk.Password}
	}
	if !cfg.Registrar {
		return wc, nil, nil
	}
	g := cfg.Guard // digest failures come from the registrar: no bans without it
	proxies, err := config.ParseTrustedProxies(g.TrustedProxies)
	if err != nil {
		return wc, nil, fmt.Errorf("media.guard.trusted_proxies: %w", err)
	}
	wc.Bans = sipguard.NewBans(sipguard.BanConfig{AuthFailures: g.AuthFailures, AuthWindow: g.AuthWindow, BanTime: g.BanTime,
		TrustedProxies: proxies, Worker: wc.ID, Logger: log})
	rs := RegistrarStore{Store: d.Store}
	reg, err := registrar.New(registrar.Config{Realm: cfg.Realm, Accounts: rs, Locations: rs, WorkerID: wc.ID, Logger: log,
		AuthResult: wc.Bans.AuthResult, Source: clientSource(wc.Bans.Proxies())})
	if err != nil {
		return wc, nil, err
	}
	wc.Registrar = reg
	return wc, reg, nil
}

// clientSource is where a REGISTER comes from, for its digest outcome
// and its bindings: as the worker's request filter sees it
// (sipworker.ClientSource), except "" for a client on a trusted proxy's own
// address (loopback), so that calls to it go to its Contact, not the proxy.
// A trusted proxy is never banned anyway.
func clientSource(p sipguard.Proxies) func(*sip.Request) string {
	return func(req *sip.Request) string {
		src, proxied := sipworker.ClientSource(req, p)
		if proxied && p.Trusted(src) {
			return ""
		}
		return src
	}
}

// callVars merges the configured variables with the process's own.
func callVars(cfg map[string]string, extra map[string]any) map[string]any {
	if len(cfg)+len(extra) == 0 {
		return nil
	}
	out := make(map[string]any, len(cfg)+len(extra))
	for k, v := range cfg {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// Stop drains the worker (new calls get 503; live calls may finish until
// ctx ends), hangs up what is left, then stops its Temporal worker.
func (m *Media) Stop(ctx context.Context) {
	m.stopWatch()
	<-m.watched
	if err := m.SIP.Drain(ctx); err != nil {
		m.log.Warn("drain SIP calls", "error", err)
	}
	if err := m.SIP.Close(); err != nil {
		m.log.Warn("close SIP media worker", "error", err)
	}
	m.workers.Stop()
}

// Collectors are the worker's metrics.
func (m *Media) Collectors() []prometheus.Collector {
	cs := m.SIP.Collectors()
	if b := m.SIP.Bans(); b != nil {
		cs = append(cs, b.Collectors()...)
	}
	return cs
}
