package cli

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/routing/router"
)

// TestAgentStateWithRouter runs the agents and queues commands against a
// router workflow on a test Temporal server.
func TestAgentStateWithRouter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal test server")
	}
	ts, c := devtemporaltest.NewServer(t)
	w := worker.New(c, activities.EngineQueue, worker.Options{})
	w.RegisterWorkflowWithOptions(router.RouterWorkflow, workflow.RegisterOptions{Name: activities.RouterWorkflowName})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	temporalFlags := []string{"--temporal", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace()}
	run := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := args[0] + " " + args[1]
		if cmd != "queues put" && cmd != "agents add" {
			args = append(args, temporalFlags...)
		}
		if cmd != "agents wrap-up" {
			args = append(args, "--store", dsn)
		}
		return runCLI(t, args...)
	}
	mustRun := func(want string, args ...string) string {
		t.Helper()
		out, errs, code := run(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("%s: exit %d, stderr %q, stdout:\n%s\nwant %q", strings.Join(args, " "), code, errs, out, want)
		}
		return out
	}
	mustRun("agent alice added", "agents", "add", "alice", "--password", "alice-secret", "--skills", "billing:5", "--queues", "support")
	mustRun("agent bob added", "agents", "add", "bob", "--password", "bob-secret")
	mustRun("queue support", "queues", "put", "support")

	mustRun("agent alice: available\n", "agents", "state", "alice", "available")
	out := mustRun("alice", "agents", "list")
	if !regexp.MustCompile(`billing:5  support  1         available  \d+s `).MatchString(out) || !strings.Contains(out, "offline    -") {
		t.Fatalf("list:\n%s", out)
	}
	mustRun("WAITING", "queues", "list")
	mustRun("staffed 1, available 1", "queues", "show", "support")
	mustRun("the router has the new profile (state: available)", "agents", "set", "alice", "--skills", "billing:7")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := platform.Router{Client: c}.Board(ctx)
	if err != nil || len(b.Agents) != 1 || strings.Join(b.Agents[0].Skills, ",") != "billing:7" {
		t.Fatalf("board after set: %+v %v", b, err)
	}
	// A callback for tomorrow 10:00 Paris time starts its workflow now.
	tomorrow := time.Now().Add(24*time.Hour).Format("2006-01-02") + "T10:00"
	out = mustRun("scheduled: sip:c@127.0.0.1:9 from queue support", "callbacks", "schedule", "--queue", "support",
		"--number", "sip:c@127.0.0.1:9", "--at", tomorrow, "--timezone", "Europe/Paris")
	id := strings.Fields(out)[1]
	if _, err := c.DescribeWorkflowExecution(ctx, activities.CallbackWorkflowID(id), ""); err != nil {
		t.Fatalf("callback %s: %v", id, err)
	}
	mustRun("agent alice: break (lunch)\n", "agents", "state", "alice", "break", "--reason", "lunch")
	mustRun("the agent is signed out", "agents", "set", "bob", "--skills", "english")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"agents", "wrap-up", "alice", "--disposition", "sale"}, `voxflow: agent "alice" is not in wrap-up`},
		{[]string{"callbacks", "schedule", "--queue", "support", "--number", "100", "--at", "2020-01-01T10:00"}, "callback time is in the past"},
		{[]string{"callbacks", "schedule", "--queue", "nope", "--number", "100"}, `--queue "nope": no such queue`},
		{[]string{"agents", "state", "carol", "available"}, `agent "carol" has no routing profile`},
	} {
		if out, errs, code := run(tc.args...); code != 1 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	mustRun("agent alice: offline\n", "agents", "state", "alice", "offline")
}
