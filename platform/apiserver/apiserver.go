// Package apiserver builds the HTTP side of voxflow: the designer API, the
// designer, console and agent pages, /healthz and /metrics. `voxflow api`
// serves it in production and `voxflow dev` inside its one process.
//
// It is stateless but for simulated calls: users, sessions and keys live in
// the store, and live calls, queues and campaigns in Temporal, so any
// instance answers any request. A simulated call ("Try it" in the
// designer) runs on the text channel of the instance that started it; its
// input and event requests must reach that instance (see deploy/README.md).
package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/designer-api/temporalops"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/simulator"
	"github.com/voxflow/voxflow/store"
)

// Deps are what the HTTP side is built on.
type Deps struct {
	Client client.Client
	// DataConverter is Client's (payload encryption; nil: the default),
	// for replays of encrypted histories.
	DataConverter converter.DataConverter
	// PayloadCodec is DataConverter's payload codec: with it the API
	// serves Temporal's remote codec protocol at CodecPath (UI, CLI).
	PayloadCodec converter.PayloadCodec
	Namespace    string
	Store        *store.Store
	// Sim is the text channel simulated calls run on; its queue must be
	// served by a worker of this process.
	Sim *text.Channel
	// Browser serves browsers' calls and chats (nil: they answer 503).
	Browser designerapi.Browser
	Logger  *slog.Logger
	// SecureCookie marks the session cookie Secure (served over HTTPS by
	// a TLS-terminating proxy); TLSCert turns it on too.
	SecureCookie bool
	// TLSCert and TLSKey are PEM files (api.tls_cert, api.tls_key): with
	// them Server.Listener serves HTTPS.
	TLSCert, TLSKey string
	// Signin bounds wrong passwords (api.signin_failures, api.signin_lockout).
	Signin designerapi.SigninLimits
	// Origins may make cookie-authenticated changes besides the API's own
	// (api.origins).
	Origins []string
	// Health is /healthz's check; its Client and Store are filled in.
	Health platform.Health
	// Collectors are the process's own metrics, beside the routing and
	// campaign figures this adds.
	Collectors []prometheus.Collector
}

// Server is the built HTTP side.
type Server struct {
	// Handler serves /api/, the OpenAPI document, the schemas, the pages,
	// /healthz and /metrics.
	Handler http.Handler
	// Mux is the handler's mux, for a process's own extra routes.
	Mux *http.ServeMux
	// FirstAdmin is "user / password" when this start created the first
	// admin (shown once), else empty.
	FirstAdmin string
	// TLS is the HTTPS configuration (nil: plain HTTP).
	TLS *tls.Config
}

// Listener wraps ln in TLS when the server has a certificate.
func (s *Server) Listener(ln net.Listener) net.Listener {
	if s.TLS == nil {
		return ln
	}
	return tls.NewListener(ln, s.TLS)
}

// Scheme is "https" with a certificate, else "http".
func (s *Server) Scheme() string {
	if s.TLS == nil {
		return "http"
	}
	return "https"
}

// tlsConfig loads the certificate (nil, nil without one).
func tlsConfig(certFile, keyFile string) (*tls.Config, error) {
	if certFile == "" && keyFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load HTTPS certificate (--http-tls-cert %s, --http-tls-key %s): %w", certFile, keyFile, err)
	}
	// HTTP/1.1 only: the event streams and sockets are written for it.
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

// New builds the API over d and makes sure an admin exists.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	auth, err := designerapi.NewAuth(d.Store, designerapi.AuthOptions{})
	if err != nil {
		return nil, fmt.Errorf("api auth: %w", err)
	}
	tc, err := tlsConfig(d.TLSCert, d.TLSKey)
	if err != nil {
		return nil, err
	}
	srv := &Server{Mux: http.NewServeMux(), TLS: tc}
	user, password, created, err := auth.EnsureAdmin(ctx)
	if err != nil {
		// Another instance starting at the same moment may have created
		// it: look again before giving up.
		user, password, created, err = auth.EnsureAdmin(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("create the first admin: %w", err)
	}
	if created {
		srv.FirstAdmin = fmt.Sprintf("%s / %s", user, password)
	}
	api, _ := designerapi.New(designerapi.Config{
		Store: d.Store, Auth: auth, Browser: d.Browser, Logger: d.Logger.With("component", "api"),
		Routing: platform.Router{Client: d.Client}, SecureCookie: d.SecureCookie || tc != nil,
		Signin: d.Signin, Origins: d.Origins,
		Campaigns: platform.Campaigns{Client: d.Client, Store: d.Store},
		Eraser:    eraser{c: d.Client, namespace: d.Namespace, s: d.Store},
		Calls:     temporalops.NewCallOps(d.Client, d.Namespace).WithDataConverter(d.DataConverter),
		Sim:       temporalops.NewSimulator(simulator.New(d.Client, d.Sim), d.Logger.With("component", "simulator")),
	})
	for _, p := range []string{"/api/", "/openapi.json", "/openapi.yaml", "/schemas/"} {
		srv.Mux.Handle(p, api)
	}
	if d.PayloadCodec != nil {
		srv.Mux.Handle(CodecPath+"/", newCodecServer(d.PayloadCodec, auth, d.Store, d.Origins, d.Logger.With("component", "codec")))
	}
	srv.Mux.Handle("/", designerapi.WebHandler())
	collectors := append([]prometheus.Collector{
		platform.NewRoutingCollector(platform.Router{Client: d.Client}),
		platform.NewCampaignCollector(d.Store, platform.Campaigns{Client: d.Client, Store: d.Store}),
	}, append(designerapi.SecurityCollectors(), d.Collectors...)...)
	h := d.Health
	h.Client, h.Store = d.Client, d.Store
	platform.AdminRoutes(srv.Mux, h, collectors...)
	srv.Handler = designerapi.SecurityHeaders(srv.Mux)
	return srv, nil
}

// eraser is designerapi.Eraser over platform.EraseNumber.
type eraser struct {
	c         client.Client
	namespace string
	s         *store.Store
}

func (e eraser) Erase(ctx context.Context, number string, dry bool) (designerapi.ErasureReport, error) {
	if e.s == nil {
		return designerapi.ErasureReport{}, fmt.Errorf("erase: no store configured")
	}
	r, err := platform.EraseNumber(ctx, e.c, e.namespace, e.s, number, dry)
	return designerapi.ErasureReport{Number: r.Number, DryRun: r.DryRun, Counts: r.Counts, CallIDs: r.CallIDs,
		Recordings: r.Recordings, Unreachable: r.Unreachable, Running: r.Running, TemporalSkipped: e.c == nil}, err
}
