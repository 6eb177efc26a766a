package e2e

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/store"
)

// restartRig runs production's split on one machine: a file-backed
// Temporal server, an engine worker (calls and the router) and a SIP media
// worker, each with its own client, so the engine and the server can be
// restarted while the media worker holds the caller.
type restartRig struct {
	t        *testing.T
	dir      string
	port     int
	srv      *devtemporal.Server
	c        client.Client
	engine   *platform.Workers
	st       *store.Store
	routing  *routingRig
	restarts int
}

func (r *restartRig) startServer() {
	t := r.t
	srv, err := devtemporal.Start(context.Background(), devtemporal.Config{DataDir: r.dir, Port: r.port})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: srv.FrontendHostPort(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := devtemporal.RegisterSearchAttributes(context.Background(), c, "default"); err != nil {
		t.Fatal(err)
	}
	w, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.SharedActivities(r.st)})
	if err != nil {
		t.Fatal(err)
	}
	r.srv, r.c, r.engine = srv, c, w
	if r.routing != nil {
		r.routing.router = platform.Router{Client: c}
	}
}

// restart stops the engine worker and the server, then starts both again
// on the same data: every waiting call and reservation must still be there.
func (r *restartRig) restart() {
	r.t.Helper()
	r.engine.Stop()
	r.c.Close()
	if err := r.srv.Stop(); err != nil {
		r.t.Fatal(err)
	}
	r.restarts++
	r.startServer()
}

func quietLogger() sdklog.Logger { return sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)) }

func newRestartRig(t *testing.T) *restartRig {
	sipptest.Need(t)
	ctx := context.Background()
	dir := t.TempDir()
	_, port := freeAddr(t)
	dsn := "sqlite://" + filepath.Join(dir, "voxflow.db")
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	r := &restartRig{t: t, dir: dir, port: port, st: st}
	r.startServer()
	t.Cleanup(func() {
		r.engine.Stop()
		r.c.Close()
		_ = r.srv.Stop()
		_ = st.Close()
	})
	if err := devstack.PublishExamples(ctx, st); err != nil {
		t.Fatal(err)
	}
	mc, err := client.Dial(client.Options{HostPort: r.srv.FrontendHostPort(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults().Media
	cfg.ID, cfg.SIPAddr, cfg.RecordDir = "restart", "127.0.0.1:"+strconv.Itoa(sipptest.FreePort(t)), t.TempDir()
	m, err := sipmedia.Start(ctx, cfg, sipmedia.Deps{Client: mc, Store: st, Routes: &platform.StoreRoutes{Store: st}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()); mc.Close() })
	r.routing = &routingRig{t: t, sipAddr: cfg.SIPAddr, dsn: dsn, router: platform.Router{Client: r.c},
		st: st, registrar: m.Registrar}
	r.routing.defineQueue()
	return r
}

// A caller waits in a queue while the engine worker and the Temporal
// server restart, twice: once while nobody is free, once while an agent's
// phone rings. After each restart the router still holds the caller and
// the reservation; the agent who let it ring goes not-ready and the next
// agent gets the call: two offers, no more, and the caller talks to bob.
func TestQueueSurvivesRestarts(t *testing.T) {
	r := newRestartRig(t)
	alice := r.routing.agent("alice", false)
	bob := r.routing.agent("bob", true)
	r.routing.setState("alice", "break")
	hangUpAfter(bob, 120*time.Second, 3*time.Second)
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_queue.xml"), Target: r.routing.sipAddr,
		Service: "5555", Timeout: 150 * time.Second, Files: map[string][]byte{"tone.pcap": sipptest.TonePcap(440, 100*time.Second)}})
	waitFor(t, "the caller waiting", func() bool { return r.routing.queueView("e2e").Waiting == 1 })

	r.restart() // mid-wait
	if q := r.routing.queueView("e2e"); q.Waiting != 1 {
		t.Fatalf("after the restart the queue holds %+v", q)
	}
	r.routing.setState("alice", "available")
	waitFor(t, "alice reserved (her phone rings)", func() bool { return r.routing.agentView("alice").State == "reserved" })

	r.restart() // mid-reservation
	if v := r.routing.agentView("alice"); v.State != "reserved" {
		t.Fatalf("after the restart alice is %+v", v)
	}
	waitFor(t, "alice not ready after her ring timeout", func() bool { return r.routing.agentView("alice").State == "break" })
	r.routing.setState("bob", "available")
	if res := wait(); res.Err != nil {
		t.Fatalf("%v\n%s\n--- bob ---\n%s\n--- alice ---\n%s", res.Err, res.Output, bob.Output(), alice.Output())
	}
	rec := oneCDR(t, r.st, store.CDRQuery{Flow: "queue-e2e"})
	if len(rec.Queues) != 1 || rec.Queues[0].Outcome != records.QueueAnswered || rec.Queues[0].Agent != "bob" || rec.Queues[0].Offers != 2 {
		t.Fatalf("stays %+v, path %s", rec.Queues, pathOf(rec))
	}
	if n := transfersOf(t, r.c, rec.WorkflowID); n != 2 {
		t.Errorf("the call rang %d agents, want 2 (alice once, bob once)", n)
	}
}

// transfersOf counts the bridged transfers (agents rung) in a call's history.
func transfersOf(t *testing.T, c client.Client, workflowID string) int {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskScheduledEventAttributes(); a != nil && a.ActivityType.Name == activities.ActTransfer {
			n++
		}
	}
	return n
}

// A scheduled callback outlives a restart of the engine worker and the
// Temporal server: due a few seconds after the restart, it reserves alice,
// calls the customer (a SIPp phone) and connects them.
func TestCallbackSurvivesRestart(t *testing.T) {
	r := newRestartRig(t)
	alice := r.routing.agent("alice", true)
	r.routing.setState("alice", "available")
	hangUpAfter(alice, 90*time.Second, 2*time.Second)
	port := sipptest.FreePort(t)
	customer := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_callback.xml"), Port: port,
		Args: []string{"-rtp_echo"}, Timeout: 90 * time.Second})
	ctx := context.Background()
	if _, err := r.routing.router.ScheduleCallback(ctx, engine.CallbackInput{ID: "cb-restart", Queue: "e2e",
		Number: "sip:customer@127.0.0.1:" + strconv.Itoa(port), Skills: []string{"english"},
		DueAt: time.Now().Add(8 * time.Second)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	r.restart()
	if res := customer(); res.Err != nil {
		t.Fatalf("%v\n%s\n--- alice ---\n%s", res.Err, res.Output, alice.Output())
	}
	waitFor(t, "callback cb-restart done", func() bool {
		cb, err := r.st.Callback(ctx, "cb-restart")
		return err == nil && cb.State == activities.CallbackDone && cb.Agent == "alice"
	})
}
