package e2e

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/simulator"
	"github.com/voxflow/voxflow/store"
)

var record = flag.Bool("record", false, "re-record the engine's replay histories in flows/engine/testdata/histories")

// TestRecordHistories records real call histories for the engine's replay
// tests. Regenerate them after an intended change to workflow behaviour:
//
//	go test ./e2e -run TestRecordHistories -record
//
// It also writes a deliberately non-deterministic copy (a media activity
// renamed), which the replay test must reject.
func TestRecordHistories(t *testing.T) {
	if !*record {
		t.Skip("recording only with -record; the replay tests in flows/engine use the recorded files")
	}
	s := newStack(t)
	ctx := context.Background()
	if err := devstack.PublishExamples(ctx, s.store); err != nil {
		t.Fatal(err)
	}
	agentWaits(t, s)
	dir := filepath.Join("..", "flows", "engine", "testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		req  simulator.Request
	}{
		{"support-line-billing", simulator.Request{Flow: example(t, "support-line", alwaysOpen...), From: "+15550102", Inputs: []string{"", "2"}}},
		{"support-line-closed", simulator.Request{Flow: example(t, "support-line", alwaysClosed...), From: "+15550102", Inputs: []string{}}},
		{"bank-ivr-pin", simulator.Request{Flow: example(t, "bank-ivr"), Subflows: []activities.FlowSource{example(t, "verify-pin")}, From: "+15550100", Inputs: []string{"1111#", "1234#", "1", "9"}}},
		{"appointment-hangup", simulator.Request{Flow: example(t, "appointment-reminder"), To: "+15550100", Inputs: []string{"hangup"}}},
		{"bridge-desk", simulator.Request{Flow: activities.FlowSource{Name: "desk-bridge", Version: 1, Source: bridgeHistoryFlow}, From: "+15550103", Inputs: []string{}}},
		{"queue-agent", simulator.Request{Flow: activities.FlowSource{Name: "queue-e2e", Version: 1, Source: queueFlow}, From: "+15550104", Inputs: []string{}, ReachAgents: true}},
	}
	for _, c := range calls {
		res := s.simulate(c.req)
		h, err := ops.History(context.Background(), s.c, res.CallID, "")
		if err != nil {
			t.Fatal(err)
		}
		writeHistory(t, filepath.Join(dir, c.name+".json"), h)
		if c.name == "support-line-billing" {
			bad := proto.Clone(h).(*historypb.History)
			for _, e := range bad.Events {
				if a := e.GetActivityTaskScheduledEventAttributes(); e.EventType == enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && a.ActivityType.Name == activities.ActCollect {
					a.ActivityType.Name = activities.ActPlay
					break
				}
			}
			writeHistory(t, filepath.Join(dir, "nondeterministic-"+c.name+".json"), bad)
		}
	}
	// The router's history so far: the queue-agent call's join, offer,
	// answer and end, and alice's sign-in and wrap-up.
	waitFor(t, "alice back from wrap-up", func() bool {
		b, err := platform.Router{Client: s.c}.Board(ctx)
		return err == nil && len(b.Agents) == 1 && b.Agents[0].State == "available"
	})
	h := routerHistory(t, s.c)
	writeHistory(t, filepath.Join("..", "routing", "router", "testdata", "histories", "router.json"), h)
}

// agentWaits defines queue e2e (as the routing tests do) and signs in alice,
// so the queue-agent call is offered to her.
func agentWaits(t *testing.T, s *stack) {
	r := &routingRig{t: t, st: s.store, router: platform.Router{Client: s.c}}
	r.defineQueue()
	if err := s.store.AddSIPAccount(context.Background(), store.SIPAccount{Username: "alice", Realm: "voxflow", HA1: "x", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := s.store.SetAgentProfile(context.Background(), store.AgentProfile{Username: "alice", Skills: map[string]int{"english": 5}, Queues: []string{"e2e"}, Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	r.setState("alice", "available")
}

func routerHistory(t *testing.T, c client.Client) *historypb.History {
	t.Helper()
	return workflowHistory(t, c, activities.RouterWorkflowID)
}

// workflowHistory is the history of a workflow's current run.
func workflowHistory(t *testing.T, c client.Client, id string) *historypb.History {
	t.Helper()
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	return h
}

// bridgeHistoryFlow bridges the caller and comes back to the flow.
const bridgeHistoryFlow = `name: desk-bridge
entry: desk
variables:
  desk: null
nodes:
  desk:
    type: transfer
    say: "Connecting you."
    to: "sip:desk@pbx.example.com"
    mode: bridge
    record: true
    var: desk
    on_timeout: sorry
    next: bye
  sorry:
    type: hangup
    say: "Nobody is free."
  bye:
    type: hangup
    say: "Thanks, {{ vars.desk.outcome }}."
`

func writeHistory(t *testing.T, path string, h *historypb.History) {
	t.Helper()
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
