package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/platform/telemetry"
	"github.com/voxflow/voxflow/store"
)

// HealthTimeout bounds each readiness check of /healthz.
const HealthTimeout = 2 * time.Second

// Health is /healthz: ready (200 "ok") only while Temporal answers, the
// store answers too when the process has one, and the process is not
// draining; otherwise 503 naming what failed, so a load balancer or
// Kubernetes sends no new work here.
type Health struct {
	Client client.Client
	Store  *store.Store // nil: the process has no store
	// Draining, when set and true, makes the process unready (SIGTERM).
	Draining func() bool
}

func (h Health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), HealthTimeout)
	defer cancel()
	if err := h.Check(ctx); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

// ErrDraining is Check's error once the process drains.
var ErrDraining = errors.New("draining: finishing work in progress, taking no new work")

// Check returns nil when the process can take new work, else what fails.
func (h Health) Check(ctx context.Context) error {
	if h.Draining != nil && h.Draining() {
		return ErrDraining
	}
	if _, err := h.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	if h.Store != nil {
		if err := h.Store.Ping(ctx); err != nil {
			return err // the store's errors begin "store:"
		}
	}
	return nil
}

// Metrics returns /metrics: the Go runtime and process collectors plus
// the process's own.
func Metrics(collectors ...prometheus.Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		telemetry.ProcessMetrics()) // what the process's Temporal clients measure
	reg.MustRegister(collectors...)
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// AdminRoutes adds GET /healthz and GET /metrics to mux.
func AdminRoutes(mux *http.ServeMux, h Health, collectors ...prometheus.Collector) {
	mux.Handle("GET /healthz", h)
	mux.Handle("GET /metrics", Metrics(collectors...))
}

// Admin is a running admin HTTP server (/healthz, /metrics) of a
// production command.
type Admin struct {
	srv *http.Server
	ln  net.Listener
}

// ServeAdmin listens on addr and serves /healthz and /metrics.
func ServeAdmin(addr string, h Health, log *slog.Logger, collectors ...prometheus.Collector) (*Admin, error) {
	if log == nil {
		log = slog.Default()
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin HTTP on %s (--admin-addr): %w", addr, err)
	}
	mux := http.NewServeMux()
	AdminRoutes(mux, h, collectors...)
	a := &Admin{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, ln: ln}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin HTTP server", "error", err)
		}
	}()
	return a, nil
}

// Addr is where the admin server listens.
func (a *Admin) Addr() string { return a.ln.Addr().String() }

// Close stops the admin server (nil-safe).
func (a *Admin) Close() {
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
}

// Advertised turns a listen address into one a local client can dial.
func Advertised(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
