// Package devtemporaltest starts an in-process Temporal test server
// (go.temporal.io/server/temporaltest) configured like voxflow's embedded dev
// server: TunedDynamicConfig and voxflow's search attributes registered. Use it
// in integration tests.
package devtemporaltest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/temporal"
	"go.temporal.io/server/temporaltest"

	"github.com/voxflow/voxflow/internal/devtemporal"
)

// NewServer starts a test server that is stopped when t finishes, registers
// voxflow's search attributes and returns the server and a client on its
// default namespace (ts.GetDefaultNamespace()).
//
// The server uses devtemporal.TunedDynamicConfig; that replaces temporaltest's
// own dynamic config, whose one key (system.forceSearchAttributesCacheRefreshOnRead)
// TunedDynamicConfig leaves out: RegisterSearchAttributes returns once the
// attributes are usable instead.
func NewServer(t testing.TB) (*temporaltest.TestServer, client.Client) {
	t.Helper()
	return NewServerWithDynamicConfig(t, devtemporal.TunedDynamicConfig())
}

// NewServerWithDynamicConfig is NewServer with the given dynamic config
// instead of TunedDynamicConfig (nil: temporaltest's own defaults), for
// before/after comparisons. Search attributes are registered either way.
func NewServerWithDynamicConfig(t testing.TB, values map[string]any) (*temporaltest.TestServer, client.Client) {
	t.Helper()
	opts := []temporaltest.TestServerOption{
		// Quiet SDK client logs; temporaltest only logs to a *testing.T.
		temporaltest.WithBaseClientOptions(client.Options{
			Logger: sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		}),
	}
	if values != nil {
		dc := make(dynamicconfig.StaticClient, len(values))
		for k, v := range values {
			dc[dynamicconfig.MakeKey(k)] = v
		}
		opts = append(opts, temporaltest.WithBaseServerOptions(temporal.WithDynamicConfigClient(dc)))
	}
	if tt, ok := t.(*testing.T); ok {
		opts = append(opts, temporaltest.WithT(tt)) // stops the server on t.Cleanup
	}
	ts := temporaltest.NewServer(opts...)
	if _, ok := t.(*testing.T); !ok {
		t.Cleanup(func() {
			// TestServer.Stop reports a shutdown error through the *testing.T
			// it was given, and it has none here: don't let that panic.
			defer func() {
				if r := recover(); r != nil {
					t.Logf("devtemporaltest: stopping server: %v", r)
				}
			}()
			ts.Stop()
		})
	}
	c := ts.GetDefaultClient()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := devtemporal.RegisterSearchAttributes(ctx, c, ts.GetDefaultNamespace()); err != nil {
		t.Fatalf("devtemporaltest: %v", err)
	}
	return ts, c
}
