// Package devstack is `voxflow dev`: the whole platform in one process on
// embedded defaults (Temporal server, store, workers, API and designer,
// demo CRM, example flows).
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/activities/builtin"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/designer-api/temporalops"
	examples "github.com/voxflow/voxflow/examples-flows"
	"github.com/voxflow/voxflow/examples-flows/democrm"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/media/tts"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

// DevConfig configures `voxflow dev`: everything in one process.
type DevConfig struct {
	DataDir      string // default ./voxflow-data
	TemporalPort int    // default 7233
	HTTPAddr     string // default :8080
	SIPAddr      string // default :5060, UDP and TCP; "off" runs no SIP media worker
	Namespace    string // default "default"
	Logger       *slog.Logger
	Out          io.Writer // where the "what is served where" banner goes

	// TLSCert and TLSKey (PEM files) serve SIP over TLS too, on TLSAddr
	// (default: the SIP port + 1).
	TLSCert, TLSKey, TLSAddr string

	// Realm is the SIP registrar's digest realm (default "voxflow"): agents
	// added with `voxflow agents add` register their phones with it.
	Realm string
}

// Dev is a running all-in-one platform.
type Dev struct {
	cfg      DevConfig
	Temporal *devtemporal.Server
	Client   client.Client
	Store    *store.Store
	Channel  *text.Channel
	// Registrar answers agents' REGISTERs on the SIP worker and finds
	// registered agents (Lookup); nil with --sip off.
	Registrar *registrar.Registrar
	// SIP is the SIP media worker (nil with --sip off).
	SIP        *sipworker.Worker
	firstAdmin string // "user / password" when this start created the admin
	// DemoCRMURL is where the demo CRM is served; calls get it as the
	// crm_url variable of the example flows.
	DemoCRMURL string
	http       *http.Server
	httpLn     net.Listener
	workers    platform.Workers
}

// ErrHTTPPortInUse is returned when the HTTP address is taken.
var ErrHTTPPortInUse = errors.New("http address is already in use")

// StartDev starts the embedded Temporal server, the store, the workers, the
// HTTP API and publishes the example flows.
func StartDev(ctx context.Context, cfg DevConfig) (*Dev, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "voxflow-data"
	}
	if cfg.TemporalPort == 0 {
		cfg.TemporalPort = 7233
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = ":8080"
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.SIPAddr == "" {
		cfg.SIPAddr = ":5060"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	d := &Dev{cfg: cfg}
	ok := false
	defer func() {
		if !ok {
			d.Stop()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	// Take the HTTP port first: failing fast on it beats starting Temporal.
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (%w): choose another with --http", cfg.HTTPAddr, ErrHTTPPortInUse, err)
	}
	d.httpLn = ln

	if d.Store, err = store.Open(ctx, "sqlite://"+filepath.Join(cfg.DataDir, "voxflow.db")); err != nil {
		return nil, err
	}
	d.Temporal, err = devtemporal.Start(ctx, devtemporal.Config{
		DataDir: cfg.DataDir, Port: cfg.TemporalPort, Namespace: cfg.Namespace,
		Logger: cfg.Logger.With("component", "temporal"),
	})
	if err != nil {
		return nil, err
	}
	d.Client, err = client.Dial(client.Options{
		HostPort: d.Temporal.FrontendHostPort(), Namespace: cfg.Namespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	})
	if err != nil {
		return nil, fmt.Errorf("connect to embedded temporal: %w", err)
	}
	if err := devtemporal.RegisterSearchAttributes(ctx, d.Client, cfg.Namespace); err != nil {
		return nil, err
	}
	if err := PublishExamples(ctx, d.Store); err != nil {
		return nil, err
	}
	d.DemoCRMURL = "http://" + advertised(ln.Addr()) + "/demo/crm"
	if err := d.startWorkers(); err != nil {
		return nil, err
	}
	if err := d.startSIP(ctx); err != nil {
		return nil, err
	}
	api, err := d.newAPI(ctx)
	if err != nil {
		return nil, err
	}
	d.http = &http.Server{Handler: d.routes(api), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			cfg.Logger.Error("http server", "error", err)
		}
	}()
	ok = true
	d.banner()
	return d, nil
}

func (d *Dev) startWorkers() error {
	d.Channel = text.NewChannel("dev-text", platform.HangupSignaler(d.Client))
	acts := &builtin.Activities{
		HTTP: builtin.NewHTTPCaller(), Flows: platform.StoreFlows{Store: d.Store}, CDRs: d.Store, Router: builtin.NoAgents{},
		Workers: d.Store,
	}
	engineW, err := platform.StartEngine(d.Client)
	if err != nil {
		return err
	}
	d.workers = append(d.workers, engineW)
	sharedW, err := platform.StartShared(d.Client, acts)
	if err != nil {
		return err
	}
	d.workers = append(d.workers, sharedW)
	textW, err := platform.StartTextChannel(d.Client, d.Channel)
	if err != nil {
		return err
	}
	d.workers = append(d.workers, textW)
	return nil
}

// newAPI builds the designer API and makes sure an admin exists, printing
// how to sign in the first time.
func (d *Dev) newAPI(ctx context.Context) (http.Handler, error) {
	auth, err := designerapi.NewAuth(d.Store, designerapi.AuthOptions{})
	if err != nil {
		return nil, fmt.Errorf("api auth: %w", err)
	}
	user, password, created, err := auth.EnsureAdmin(ctx)
	if err != nil {
		return nil, fmt.Errorf("create the first admin: %w", err)
	}
	if created {
		d.firstAdmin = fmt.Sprintf("%s / %s", user, password)
	}
	api, _ := designerapi.New(designerapi.Config{
		Store: d.Store, Auth: auth, Logger: d.cfg.Logger.With("component", "api"),
		Calls: temporalops.NewCallOps(d.Client, d.cfg.Namespace),
		Sim:   temporalops.NewSimulator(d.Client, d.Channel, d.cfg.Logger.With("component", "simulator")),
	})
	return api, nil
}

// startSIP runs the SIP media worker: dial a bound number at the SIP
// address and the call runs its flow.
func (d *Dev) startSIP(ctx context.Context) error {
	if d.cfg.SIPAddr == "off" {
		return nil
	}
	reg, err := registrar.New(registrar.Config{
		Realm: d.cfg.Realm, Accounts: registrar.StoreBackend{Store: d.Store}, Locations: registrar.StoreBackend{Store: d.Store},
		WorkerID: "dev", Logger: d.cfg.Logger.With("component", "sip"),
	})
	if err != nil {
		return err
	}
	d.Registrar = reg
	w, err := sipworker.Start(ctx, sipworker.Config{
		ID:           "dev",
		SIPAddr:      d.cfg.SIPAddr,
		TLSCert:      d.cfg.TLSCert,
		TLSKey:       d.cfg.TLSKey,
		TLSAddr:      d.cfg.TLSAddr,
		Temporal:     d.Client,
		Numbers:      d.Store,
		Flows:        platform.StoreFlows{Store: d.Store},
		StartCall:    platform.SIPCallStarter(d.Client),
		SignalHangup: platform.HangupSignaler(d.Client),
		CallClosed:   platform.CallClosedChecker(d.Client),
		CallVars:     map[string]any{"crm_url": d.DemoCRMURL},
		TTS:          tts.NewCached(tts.NewDefault(d.cfg.Logger), tts.DefaultCacheBytes, filepath.Join(d.cfg.DataDir, "prompts")),
		RecordDir:    filepath.Join(d.cfg.DataDir, "recordings"),
		Logger:       d.cfg.Logger.With("component", "sip"),
		Registry:     d.Store,
		Registrar:    reg,
	})
	if errors.Is(err, sipworker.ErrBadTLS) {
		return fmt.Errorf("start SIP media worker: %w", err)
	}
	if err != nil {
		return fmt.Errorf("start SIP media worker on %s: %w: choose another address with --sip (or --sip off)", d.cfg.SIPAddr, err)
	}
	d.SIP = w
	return nil
}

func (d *Dev) routes(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/openapi.json", "/openapi.yaml", "/schemas/"} {
		mux.Handle(p, api)
	}
	mux.Handle("/", designerapi.WebHandler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := d.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
			http.Error(w, "temporal: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		if _, err := d.Store.ListFlows(ctx); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "voxflow_sip_live_calls", Help: "Live SIP calls on this media worker.",
	}, func() float64 {
		if d.SIP == nil {
			return 0
		}
		return float64(d.SIP.LiveCalls())
	}))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "voxflow_text_sessions", Help: "Live text-channel (simulator/chat) sessions.",
	}, func() float64 { return float64(d.Channel.Live()) }))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/demo/crm/", http.StripPrefix("/demo/crm", democrm.New().Handler()))
	return mux
}

func (d *Dev) banner() {
	w := d.cfg.Out
	fmt.Fprintf(w, "voxflow dev is running (data in %s)\n", d.cfg.DataDir)
	fmt.Fprintf(w, "  Temporal frontend  %s  (namespace %s)\n", d.Temporal.FrontendHostPort(), d.cfg.Namespace)
	fmt.Fprintf(w, "  Designer & console http://%s/  (API /api/v1, OpenAPI /openapi.json, /healthz, /metrics)\n", advertised(d.httpLn.Addr()))
	fmt.Fprintf(w, "  Demo CRM           %s\n", d.DemoCRMURL)
	fmt.Fprintf(w, "  Store              %s\n", filepath.Join(d.cfg.DataDir, "voxflow.db"))
	if d.SIP != nil {
		fmt.Fprintf(w, "  SIP                %s (UDP and TCP): dial sip:1000@127.0.0.1%s with any softphone\n", d.cfg.SIPAddr, sipPortSuffix(d.cfg.SIPAddr))
		if a := d.SIP.TLSAddr(); a != "" {
			fmt.Fprintf(w, "  SIP over TLS       %s: dial sips:1000@127.0.0.1%s\n", a, tlsPortSuffix(a))
		}
		fmt.Fprintf(w, "  SIP registrar      agents register as sip:NAME@127.0.0.1%s (realm %s; add one: voxflow agents add NAME)\n",
			sipPortSuffix(d.cfg.SIPAddr), d.Registrar.Realm())
	}
	nums := make([]string, 0, len(examples.Numbers))
	for n := range examples.Numbers {
		nums = append(nums, n)
	}
	sort.Strings(nums)
	for _, n := range nums {
		fmt.Fprintf(w, "  Number %-11s -> flow %s\n", n, examples.Numbers[n])
	}
	if d.firstAdmin != "" {
		fmt.Fprintf(w, "First start: sign in as %s (it is not shown again; change it with PUT /api/v1/session/password)\n", d.firstAdmin)
	}
	fmt.Fprintf(w, "Try: voxflow flows simulate examples-flows/support-line.yaml --temporal %s --input 2\n", d.Temporal.FrontendHostPort())
	fmt.Fprintln(w, "     voxflow calls list")
}

// advertised turns a listen address into one a local client can dial.
func advertised(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// tlsPortSuffix is ":port" for a SIP TLS address on a port other than 5061.
func tlsPortSuffix(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "5061" {
		return ""
	}
	return ":" + port
}

// sipPortSuffix is ":port" for a SIP address on a port other than 5060.
func sipPortSuffix(addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "5060" {
		return ""
	}
	return ":" + port
}

// Stop shuts everything down: SIP first (live calls are hung up and their
// workflows told), then the workers so no call is mid-task, then the HTTP
// server, Temporal and the store.
func (d *Dev) Stop() {
	if d.SIP != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := d.SIP.Drain(ctx); err != nil {
			d.cfg.Logger.Warn("drain SIP calls", "error", err)
		}
		cancel()
		if err := d.SIP.Close(); err != nil {
			d.cfg.Logger.Warn("close SIP media worker", "error", err)
		}
	}
	d.workers.Stop()
	if d.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.http.Shutdown(ctx)
		cancel()
	} else if d.httpLn != nil {
		_ = d.httpLn.Close()
	}
	if d.Client != nil {
		d.Client.Close()
	}
	if d.Temporal != nil {
		if err := d.Temporal.Stop(); err != nil {
			d.cfg.Logger.Warn("stop temporal", "error", err)
		}
	}
	if d.Store != nil {
		_ = d.Store.Close()
	}
}

// PublishExamples publishes the example flows (a no-op for unchanged ones)
// and binds their demo numbers, keeping any binding an operator changed.
func PublishExamples(ctx context.Context, s *store.Store) error {
	files, err := examples.Files()
	if err != nil {
		return err
	}
	for _, f := range files {
		flow, diags := flows.Parse(f.Name, f.Source)
		if err := diags.Err(); err != nil {
			return fmt.Errorf("example flow %s: %w", f.Name, err)
		}
		if _, err := s.PublishSource(ctx, flow.Name, string(f.Source), "voxflow dev", "example flow"); err != nil {
			return fmt.Errorf("publish example %s: %w", flow.Name, err)
		}
	}
	for number, flow := range examples.Numbers {
		if _, err := s.FlowForNumber(ctx, number); err == nil {
			continue
		}
		if err := s.BindNumber(ctx, number, flow); err != nil {
			return fmt.Errorf("bind %s to %s: %w", number, flow, err)
		}
	}
	return nil
}
