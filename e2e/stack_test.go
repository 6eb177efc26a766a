// Package e2e runs voxflow end to end on a real in-process Temporal server
// (temporaltest), real SQLite and the real text channel.
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/examples-flows/democrm"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/simulator"
	"github.com/voxflow/voxflow/store"
)

// stack is a voxflow platform on a test server: engine, shared activities
// backed by SQLite, a text channel and the demo CRM.
type stack struct {
	t         *testing.T
	c         client.Client
	namespace string
	store     *store.Store
	ch        *text.Channel
	crmURL    string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	return newStackAI(t, nil)
}

// newStackAI is newStack with ai answering AI nodes (nil: offline).
func newStackAI(t *testing.T, ai platform.AIActivities) *stack {
	t.Helper()
	ts, c := devtemporaltest.NewServer(t)
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The example flows queue callers in the example queues.
	if err := devstack.DefineExampleQueues(ctx, st); err != nil {
		t.Fatal(err)
	}
	crm := httptest.NewServer(stripPrefix(democrm.New()))
	t.Cleanup(crm.Close)
	s := &stack{t: t, c: c, namespace: ts.GetDefaultNamespace(), store: st, ch: text.NewChannel("e2e", platform.HangupSignaler(c)), crmURL: crm.URL + "/demo/crm"}
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.SharedActivities(st), AI: ai, Channels: []activities.Channel{s.ch}, Watchdog: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Stop)
	return s
}

// example reads an example flow file, applying text substitutions.
func example(t *testing.T, name string, replace ...string) activities.FlowSource {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "examples-flows", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("example %s has no %q to replace", name, replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	f, diags := flows.Parse(name+".yaml", []byte(s))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	return activities.FlowSource{Name: f.Name, Version: 1, Source: s}
}

// simulate runs one scripted call and returns its result.
func (s *stack) simulate(req simulator.Request) *simulator.Result {
	s.t.Helper()
	if req.Vars == nil {
		req.Vars = map[string]any{}
	}
	req.Vars["crm_url"] = s.crmURL
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := simulator.New(s.c, s.ch).Run(ctx, req, simulator.Transcript{})
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// oneCDR waits for the one call record matching q and returns it; more
// than one is a failure.
func oneCDR(t *testing.T, st *store.Store, q store.CDRQuery) records.CDR {
	t.Helper()
	var rec records.CDR
	waitFor(t, fmt.Sprintf("the CDR of flow %q from %q", q.Flow, q.From), func() bool {
		recs, _, err := st.SearchCDRs(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 1 {
			t.Fatalf("%d CDRs of flow %q from %q, want one", len(recs), q.Flow, q.From)
		}
		if len(recs) == 1 {
			rec = recs[0]
		}
		return len(recs) == 1
	})
	return rec
}

func stripPrefix(crm *democrm.CRM) http.Handler {
	return http.StripPrefix("/demo/crm", crm.Handler())
}
