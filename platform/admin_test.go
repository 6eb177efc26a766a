package platform

import (
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// /healthz turns unready once the process drains (SIGTERM), before
// anything else is asked, and while a real client cannot reach Temporal.
func TestHealthDrainingAndTemporalDown(t *testing.T) {
	noLeaks(t)
	s := openStore(t)
	down := closedPortClient(t)
	draining := false
	cases := []struct {
		name     string
		h        Health
		drain    bool
		code     int
		contains string
	}{
		{"serving", Health{Client: healthClient{}, Store: s}, false, 200, "ok"},
		{"draining", Health{Client: healthClient{}, Store: s}, true, 503, "draining"},
		{"draining with Temporal down", Health{Client: down, Store: s}, true, 503, "draining"},
		{"Temporal at a closed port", Health{Client: down, Store: s}, false, 503, "temporal: "},
	}
	for _, tc := range cases {
		draining = tc.drain
		tc.h.Draining = func() bool { return draining }
		rec := httptest.NewRecorder()
		tc.h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, rec.Code, rec.Body.String(), tc.code, tc.contains)
		}
	}
}

// closedPortClient is a real Temporal client of an address nothing
// listens on, closed when the test ends.
func closedPortClient(t *testing.T) client.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := client.NewLazyClient(client.Options{HostPort: addr,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
