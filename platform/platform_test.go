package platform

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const plainFlow = "name: plain\nstart: bye\nnodes:\n  bye:\n    type: hangup\n"
const earlyFlow = "name: early\nsettings:\n  early_media: true\nstart: bye\nnodes:\n  bye:\n    type: hangup\n"

// A number routes to its flow's published version and the channel
// settings the flow declares; no binding or no published version is
// ErrNoRoute, which a channel answers as "not found".
func TestStoreRoutes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	for _, src := range []string{plainFlow, earlyFlow} {
		name := strings.TrimPrefix(strings.SplitN(src, "\n", 2)[0], "name: ")
		if _, err := s.PublishSource(ctx, name, src, "test", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SaveDraft(ctx, "draft-only", strings.ReplaceAll(plainFlow, "plain", "draft-only"), ""); err != nil {
		t.Fatal(err)
	}
	for number, flow := range map[string]string{"100": "plain", "200": "early", "300": "draft-only"} {
		if err := s.BindNumber(ctx, number, flow); err != nil {
			t.Fatal(err)
		}
	}
	r := &StoreRoutes{Store: s}
	cases := []struct {
		number, flow string
		early        bool
		noRoute      bool
	}{
		{number: "100", flow: "plain"},
		{number: "200", flow: "early", early: true},
		{number: "200", flow: "early", early: true}, // from the cache
		{number: "300", noRoute: true},
		{number: "999", noRoute: true},
	}
	for _, tc := range cases {
		got, err := r.Route(ctx, tc.number)
		if tc.noRoute {
			if !errors.Is(err, activities.ErrNoRoute) {
				t.Errorf("%s: err = %v, want ErrNoRoute", tc.number, err)
			}
			continue
		}
		if err != nil || got.Flow.Name != tc.flow || got.Flow.Version != 1 || got.EarlyMedia != tc.early {
			t.Errorf("%s: route %+v, %v; want flow %s v1, early media %v", tc.number, got, err, tc.flow, tc.early)
		}
	}
	// A store that fails is an error, not "not found".
	s.Close()
	if _, err := r.Route(ctx, "100"); err == nil || errors.Is(err, activities.ErrNoRoute) {
		t.Errorf("closed store: err = %v, want a failure other than ErrNoRoute", err)
	}
}

// healthClient is a Temporal client whose health check gives err.
type healthClient struct {
	client.Client
	err error
}

func (c healthClient) CheckHealth(ctx context.Context, _ *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, c.err
}

// /healthz is ready only while Temporal and the store both answer.
func TestHealth(t *testing.T) {
	s := openStore(t)
	closed := openStore(t)
	closed.Close()
	cases := []struct {
		name     string
		h        Health
		code     int
		contains string
	}{
		{"all up", Health{Client: healthClient{}, Store: s}, 200, "ok"},
		{"no store needed", Health{Client: healthClient{}}, 200, "ok"},
		{"temporal down", Health{Client: healthClient{err: errors.New("connection refused")}, Store: s}, 503, "temporal: connection refused"},
		{"store down", Health{Client: healthClient{}, Store: closed}, 503, "store: "},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, rec.Code, rec.Body.String(), tc.code, tc.contains)
		}
	}
}

// The admin server answers /healthz and /metrics, and nothing else.
func TestServeAdmin(t *testing.T) {
	a, err := ServeAdmin("127.0.0.1:0", Health{Client: healthClient{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	hc := &http.Client{Timeout: 5 * time.Second}
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 200, "/": 404} {
		res, err := hc.Get("http://" + a.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	if _, err := ServeAdmin(a.Addr(), Health{Client: healthClient{}}, nil); err == nil || !strings.Contains(err.Error(), "--admin-addr") {
		t.Errorf("taken address: %v, want an error naming --admin-addr", err)
	}
}

// A process with nothing to run is a mistake, not an idle worker.
func TestStartWorkersNeedsAPart(t *testing.T) {
	if _, err := StartWorkers(healthClient{}, Parts{}); err == nil {
		t.Fatal("no parts: no error")
	}
}
