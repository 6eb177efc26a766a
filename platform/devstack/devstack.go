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

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/browser"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/activities"
	designerapi "github.com/voxflow/voxflow/designer-api"
	examples "github.com/voxflow/voxflow/examples-flows"
	"github.com/voxflow/voxflow/examples-flows/democrm"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/media/tts"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/apiserver"
	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/platform/telemetry"
	"github.com/voxflow/voxflow/store"
)

// Options are what StartDev takes besides the configuration.
type Options struct {
	Logger *slog.Logger
	Out    io.Writer // where the "what is served where" banner goes
}

// Dev is a running all-in-one platform.
type Dev struct {
	cfg      config.Config
	log      *slog.Logger
	out      io.Writer
	Temporal *devtemporal.Server
	Client   client.Client
	// DataConverter is Client's: it encrypts payloads with PayloadKeys.
	DataConverter converter.DataConverter
	// PayloadKeys are the keys Client encrypts with: the configured ones,
	// else the data dir's codec.keys (made on first start).
	PayloadKeys config.Codec
	keysNew     bool // this start created the data dir's key file
	Store       *store.Store
	Channel     *text.Channel
	// Chat is web chat's text channel (its media queue is served here;
	// the browser server opens its sessions).
	Chat *text.Channel
	// Media is the SIP media worker and its registrar (nil with --sip off).
	Media *sipmedia.Media
	// Browser serves browsers' calls, agents' desktops and supervisors
	// (nil with --sip off: browser media runs on the SIP media worker).
	Browser    *browser.Server
	firstAdmin string // "user / password" when this start created the admin
	// DemoCRMURL is where the demo CRM is served; calls get it as the
	// crm_url variable of the example flows.
	DemoCRMURL string
	http       *http.Server
	httpLn     net.Listener
	workers    *platform.Workers
	aiMetrics  []prometheus.Collector
	// stopRetention ends the retention sweeper (retention.go).
	stopRetention func()
}

// ErrHTTPPortInUse is returned when the HTTP address is taken.
var ErrHTTPPortInUse = errors.New("http address is already in use")

// StartDev starts the embedded Temporal server, the store, the workers, the
// SIP media worker and the HTTP API, and publishes the example flows.
func StartDev(ctx context.Context, cfg config.Config, opts Options) (*Dev, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Dev{cfg: cfg, log: opts.Logger, out: opts.Out}
	if d.log == nil {
		d.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if d.out == nil {
		d.out = io.Discard
	}
	ok := false
	defer func() {
		if !ok {
			d.Stop()
		}
	}()
	if err := d.startBackends(ctx); err != nil {
		return nil, err
	}
	if err := PublishExamples(ctx, d.Store); err != nil {
		return nil, err
	}
	d.DemoCRMURL = "http://" + platform.Advertised(d.httpLn.Addr()) + "/demo/crm"
	if err := d.startWorkers(ctx); err != nil {
		return nil, err
	}
	if err := d.serveHTTP(ctx); err != nil {
		return nil, err
	}
	ok = true
	d.banner()
	return d, nil
}

// startBackends takes the HTTP port, opens the store and starts the
// embedded Temporal server.
func (d *Dev) startBackends(ctx context.Context) error {
	dev := d.cfg.Dev
	if err := os.MkdirAll(dev.DataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir %s: %w", dev.DataDir, err)
	}
	// Take the HTTP port first: failing fast on it beats starting Temporal.
	ln, err := net.Listen("tcp", dev.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (%w): choose another with --http", dev.HTTPAddr, ErrHTTPPortInUse, err)
	}
	d.httpLn = ln
	if d.Store, err = store.Open(ctx, "sqlite://"+filepath.Join(dev.DataDir, "voxflow.db")); err != nil {
		return err
	}
	ns := d.cfg.Temporal.Namespace
	d.Temporal, err = devtemporal.Start(ctx, devtemporal.Config{
		DataDir: dev.DataDir, Port: dev.TemporalPort, Namespace: ns,
		Logger: d.log.With("component", "temporal"),
	})
	if err != nil {
		return err
	}
	o := client.Options{
		HostPort: d.Temporal.FrontendHostPort(), Namespace: ns,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	}
	if err := telemetry.Instrument(&o); err != nil { // metrics; traces when on
		return err
	}
	if err := d.loadPayloadKeys(); err != nil {
		return err
	}
	if d.DataConverter != nil {
		o.DataConverter, o.FailureConverter = d.DataConverter, codec.FailureConverter(d.DataConverter)
	}
	d.Client, err = client.Dial(o)
	if err != nil {
		return fmt.Errorf("connect to embedded temporal: %w", err)
	}
	return devtemporal.RegisterSearchAttributes(ctx, d.Client, ns)
}

// loadPayloadKeys picks the payload keys: the configured ones, else the
// data dir's key file, created with one fresh key on first start, so that
// dev's histories hold no call data in clear either.
func (d *Dev) loadPayloadKeys() error {
	d.PayloadKeys = d.cfg.Codec
	if !d.PayloadKeys.On() {
		path := filepath.Join(d.cfg.Dev.DataDir, codec.DevKeyFileName)
		created, err := codec.EnsureKeyFile(path, time.Now())
		if err != nil {
			return err
		}
		d.PayloadKeys, d.keysNew = config.Codec{KeyFile: path}, created
	}
	var err error
	d.DataConverter, err = codec.Converter(d.PayloadKeys)
	return err
}

// startWorkers runs the engine, the shared activities, the simulator's
// text channel and the SIP media worker.
func (d *Dev) startWorkers(ctx context.Context) error {
	d.Channel = text.NewChannel("dev-text", platform.HangupSignaler(d.Client))
	d.Chat = newChatChannel(d.Client, d.cfg.Media.ID)
	ai, err := platform.NewAI(d.cfg.AI, d.log.With("component", "ai"))
	if err != nil {
		return err
	}
	d.aiMetrics = platform.AICollectors(ai)
	ws, err := platform.StartWorkers(d.Client, platform.Parts{
		Engine: true, Shared: platform.SharedActivities(d.Store), AI: ai, Channels: []activities.Channel{d.Channel, d.Chat},
		Campaigns: platform.CampaignActivities(d.Client, d.Store, d.callVars()), Watchdog: d.Store, Logger: d.log,
	})
	if err != nil {
		return err
	}
	d.workers = ws
	d.stopRetention = platform.StartRetention(ctx, d.retention())
	if d.cfg.Media.SIPAddr == config.SIPOff {
		return nil
	}
	m := d.cfg.Media
	if m.ID == "" {
		m.ID = config.DevWorkerID
	}
	if m.RecordDir == "" {
		m.RecordDir = filepath.Join(d.cfg.Dev.DataDir, "recordings")
	}
	d.Media, err = sipmedia.Start(ctx, m, sipmedia.Deps{
		Client: d.Client, Store: d.Store, Logger: d.log.With("component", "sip"),
		CallVars: map[string]any{"crm_url": d.DemoCRMURL}, AI: d.cfg.AI, Namespace: d.cfg.Temporal.Namespace,
		TTS: tts.NewCached(tts.NewDefault(d.log), tts.DefaultCacheBytes, filepath.Join(d.cfg.Dev.DataDir, "prompts")),
	})
	if err != nil {
		return fmt.Errorf("%w (or --sip off)", err)
	}
	chat := d.chatDeps()
	d.Browser, err = d.Media.Browser(m.WebRTC, sipmedia.BrowserDeps{
		ScreenPop: platform.ScreenPopper(d.Client), Journal: d.journal, Loopback: true,
		Logger: d.log.With("component", "browser"),
		Chat:   chat.Chat, Routes: chat.Routes, StartCall: chat.StartCall, SaveTranscript: chat.SaveTranscript,
	})
	if err != nil {
		return fmt.Errorf("browser channels: %w", err)
	}
	return nil
}

// newChatChannel is web chat's text channel, "<worker-id>-chat": its own
// media queue, so chats never reach the simulator's sessions. It tells a
// chat's workflow when the customer leaves and when an agent accepts the
// chat (routing then shows the agent busy).
func newChatChannel(c client.Client, workerID string) *text.Channel {
	if workerID == "" {
		workerID = config.DevWorkerID
	}
	return text.NewChannel(workerID+"-chat", platform.HangupSignaler(c), text.WithAnswered(platform.AnswerSignaler(c)))
}

// chatDeps is web chat's part of the browser server's configuration:
// chats run on d.Chat, reach the number's published flow, start like any
// call (with the demo CRM's URL, as SIP calls get it) and keep their
// transcripts in the store, where the CDR read picks them up. Its Chat,
// Routes, StartCall and SaveTranscript go into the browser.Config.
func (d *Dev) chatDeps() browser.Config {
	start := platform.CallStarter(d.Client)
	vars := map[string]any{"crm_url": d.DemoCRMURL}
	return browser.Config{
		Chat:   d.Chat,
		Routes: &platform.StoreRoutes{Store: d.Store},
		StartCall: func(ctx context.Context, call activities.CallStart) error {
			if call.Vars == nil {
				call.Vars = vars
			}
			return start(ctx, call)
		},
		SaveTranscript: d.Store.SaveChatTranscript,
	}
}

// journal keeps a supervisor's action in the call's events.
func (d *Dev) journal(ctx context.Context, e browser.JournalEntry) error {
	return d.Store.AddCallEvent(ctx, records.CallEvent{CallID: e.CallID, At: e.At, Actor: e.Actor, Action: e.Action, Detail: e.Detail})
}

// serveHTTP serves the API, the pages, health, metrics and the demo CRM.
func (d *Dev) serveHTTP(ctx context.Context) error {
	var b designerapi.Browser
	if d.Browser != nil {
		b = d.Browser
	}
	collectors := []prometheus.Collector{prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "voxflow_text_sessions", Help: "Live text-channel (simulator/chat) sessions.",
	}, func() float64 { return float64(d.Channel.Live() + d.Chat.Live()) })}
	if d.Media != nil {
		collectors = append(collectors, d.Media.Collectors()...)
	}
	pc, err := codec.PayloadCodec(d.PayloadKeys)
	if err != nil {
		return err
	}
	api, err := apiserver.New(ctx, apiserver.Deps{
		Client: d.Client, DataConverter: d.DataConverter, PayloadCodec: pc, Namespace: d.cfg.Temporal.Namespace, Store: d.Store, Sim: d.Channel, Browser: b,
		Logger: d.log, Collectors: append(append(collectors, d.aiMetrics...), platform.RetentionCollectors()...),
		TLSCert: d.cfg.API.TLSCert, TLSKey: d.cfg.API.TLSKey, Origins: config.List(d.cfg.API.Origins),
		Signin: designerapi.SigninLimits{Failures: d.cfg.API.SigninFailures, Lockout: d.cfg.API.SigninLockout},
	})
	if err != nil {
		return err
	}
	d.firstAdmin = api.FirstAdmin
	api.Mux.Handle("/demo/crm/", http.StripPrefix("/demo/crm", democrm.New().Handler()))
	d.http = &http.Server{Handler: telemetry.HTTPHandler(api.Handler, "voxflow-dev"), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := d.http.Serve(api.Listener(d.httpLn)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("http server", "error", err)
		}
	}()
	return nil
}

func (d *Dev) banner() {
	w := d.out
	fmt.Fprintf(w, "voxflow dev is running (data in %s)\n", d.cfg.Dev.DataDir)
	fmt.Fprintf(w, "  Temporal frontend  %s  (namespace %s)\n", d.Temporal.FrontendHostPort(), d.cfg.Temporal.Namespace)
	web := httpScheme(d.cfg) + "://" + platform.Advertised(d.httpLn.Addr())
	fmt.Fprintf(w, "  Designer & console %s/  (API /api/v1, OpenAPI /openapi.json, /healthz, /metrics)\n", web)
	fmt.Fprintf(w, "  Demo CRM           %s\n", d.DemoCRMURL)
	fmt.Fprintf(w, "  Store              %s\n", filepath.Join(d.cfg.Dev.DataDir, "voxflow.db"))
	fmt.Fprintf(w, "  Payload keys       %s\n", d.payloadKeysNote())
	if d.Media != nil {
		sip := d.cfg.Media.SIPAddr
		fmt.Fprintf(w, "  SIP                %s (UDP and TCP): dial sip:1000@127.0.0.1%s with any softphone\n", sip, sipPortSuffix(sip))
		if a := d.Media.SIP.TLSAddr(); a != "" {
			fmt.Fprintf(w, "  SIP over TLS       %s: dial sips:1000@127.0.0.1%s\n", a, tlsPortSuffix(a))
		}
		if d.Media.Registrar != nil {
			fmt.Fprintf(w, "  SIP registrar      agents register as sip:NAME@127.0.0.1%s (realm %s; add one: voxflow agents add NAME)\n",
				sipPortSuffix(sip), d.Media.Registrar.Realm())
		}
		if d.Browser != nil {
			fmt.Fprintf(w, "  Agent desk         %s/agent  (WebRTC softphone and chats; agents add NAME gives the sign-in)\n", web)
			fmt.Fprintf(w, "  Web widget         %s/widget/demo  (click to call or chat; embed %s/widget.js)\n", web, web)
		}
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

// payloadKeysNote says where the keys that encrypt payloads are.
func (d *Dev) payloadKeysNote() string {
	switch {
	case d.PayloadKeys.KeyFile == "":
		return "from --codec-keys / $VOXFLOW_CODEC_KEYS (AES-256-GCM)"
	case d.keysNew:
		return d.PayloadKeys.KeyFile + " (created now; AES-256-GCM; keep it: calls in histories need it)"
	}
	return d.PayloadKeys.KeyFile + " (AES-256-GCM)"
}

// httpScheme is https when the API is served with a certificate.
func httpScheme(cfg config.Config) string {
	if cfg.API.TLSCert != "" {
		return "https"
	}
	return "http"
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
	if d.Browser != nil {
		d.Browser.Close()
	}
	if d.Media != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		d.Media.Stop(ctx)
		cancel()
	}
	if d.workers != nil {
		d.workers.Stop()
	}
	if d.stopRetention != nil {
		d.stopRetention()
	}
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
			d.log.Warn("stop temporal", "error", err)
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
	if err := DefineExampleQueues(ctx, s); err != nil {
		return err
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

// DefineExampleQueues defines the example flows' queues that do not exist
// yet; a queue an operator changed is left as it is.
func DefineExampleQueues(ctx context.Context, s *store.Store) error {
	for _, q := range examples.Queues {
		if _, err := s.Queue(ctx, q.Name); err == nil {
			continue
		}
		def := store.Queue{Name: q.Name, HoldFlow: q.HoldFlow, AnnounceEvery: q.AnnounceEvery, MaxWait: q.MaxWait,
			RingTimeout: q.RingTimeout, WrapUp: q.WrapUp}
		if q.OverflowTo != "" {
			def.Overflow = []store.QueueOverflow{{After: q.OverflowAfter, Queue: q.OverflowTo}}
		}
		if err := s.PutQueue(ctx, def); err != nil {
			return fmt.Errorf("define example queue %s: %w", q.Name, err)
		}
	}
	return nil
}

// callVars are the variables every call of the process gets: the
// configured ones and the demo CRM's address.
func (d *Dev) callVars() map[string]any {
	vars := map[string]any{"crm_url": d.DemoCRMURL}
	for k, v := range d.cfg.Media.Vars {
		vars[k] = v
	}
	return vars
}
