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
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/designer-api/temporalops"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/simulator"
	"github.com/voxflow/voxflow/store"
)

// Deps are what the HTTP side is built on.
type Deps struct {
	Client    client.Client
	Namespace string
	Store     *store.Store
	// Sim is the text channel simulated calls run on; its queue must be
	// served by a worker of this process.
	Sim *text.Channel
	// Browser serves browsers' calls and chats (nil: they answer 503).
	Browser designerapi.Browser
	Logger  *slog.Logger
	// SecureCookie marks the session cookie Secure (served over HTTPS).
	SecureCookie bool
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
	srv := &Server{Mux: http.NewServeMux()}
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
		Routing: platform.Router{Client: d.Client}, SecureCookie: d.SecureCookie,
		Campaigns: platform.Campaigns{Client: d.Client, Store: d.Store},
		Calls:     temporalops.NewCallOps(d.Client, d.Namespace),
		Sim:       temporalops.NewSimulator(simulator.New(d.Client, d.Sim), d.Logger.With("component", "simulator")),
	})
	for _, p := range []string{"/api/", "/openapi.json", "/openapi.yaml", "/schemas/"} {
		srv.Mux.Handle(p, api)
	}
	srv.Mux.Handle("/", designerapi.WebHandler())
	collectors := append([]prometheus.Collector{
		platform.NewRoutingCollector(platform.Router{Client: d.Client}),
		platform.NewCampaignCollector(d.Store, platform.Campaigns{Client: d.Client, Store: d.Store}),
	}, d.Collectors...)
	h := d.Health
	h.Client, h.Store = d.Client, d.Store
	platform.AdminRoutes(srv.Mux, h, collectors...)
	srv.Handler = srv.Mux
	return srv, nil
}
