package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/store"
)

// unreachable is a Temporal address nothing listens on: commands that
// only want live figures go on without them.
const unreachable = "127.0.0.1:1"

func TestAgentProfileCommands(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	run := func(args ...string) (string, string, int) {
		return runCLI(t, append(args, "--store", dsn)...)
	}
	out, errs, code := run("agents", "add", "alice", "--password", "alice-secret", "--skills", "billing:5,English", "--queues", "support,sales")
	if code != 0 || !strings.Contains(out, "agent alice: skills billing:5,english:1; queues support,sales; capacity 1") {
		t.Fatalf("add alice: %d %s %s", code, out, errs)
	}
	if _, _, code := run("agents", "add", "bob", "--password", "bob-secret"); code != 0 {
		t.Fatal("add bob failed")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"agents", "add", "carol", "--skills", "billing:x"}, `--skills: skill "billing:x": level must be a whole number from 1 to 10`},
		{[]string{"agents", "add", "carol", "--capacity", "0"}, "--capacity 0: must be 1 to 100"},
		{[]string{"agents", "add", "carol", "--queues", "ok,bad queue"}, `agent carol not added: --queues: set agent profile "carol": queues[1]`},
		{[]string{"agents", "set", "alice"}, "voxflow agents set: give --skills, --queues or --capacity"},
		{[]string{"agents", "set", "zed", "--skills", "english"}, "no agent \"zed\": `voxflow agents add zed` creates it"},
		{[]string{"agents", "set", "alice", "--skills", "a b"}, `--skills: skill "a b": name may use only letters`},
		{[]string{"agents", "state", "alice", "sleeping"}, `state "sleeping": must be one of offline, available, reserved, on_call, wrap_up, break`},
		{[]string{"agents", "state", "alice", "on_call"}, `state "on_call" is set by routing; ask for offline, available or break`},
		{[]string{"agents", "state", "bob", "available"}, `agent "bob" has no routing profile: set the agent's skills first: voxflow agents set bob --skills`},
		{[]string{"agents", "state", "alice", "available", "--temporal", unreachable}, "connect to Temporal at " + unreachable},
	} {
		if out, errs, code := run(tc.args...); code != 1 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	if out, errs, code := runCLI(t, "agents", "wrap-up", "alice"); code != 1 || out != "" || !strings.Contains(errs, `required flag(s) "disposition" not set`) {
		t.Errorf("wrap-up without --disposition: %d %q %q", code, out, errs)
	}
	if out, _, _ := run("agents", "list", "--temporal", unreachable); strings.Contains(out, "carol") {
		t.Fatalf("a refused add left carol:\n%s", out)
	}

	out, errs, code = run("agents", "set", "alice", "--capacity", "2", "--temporal", unreachable)
	if code != 0 || !strings.Contains(out, "skills billing:5,english:1; queues support,sales; capacity 2") ||
		!strings.Contains(out, "router not told (Temporal at "+unreachable+" not reachable)") {
		t.Fatalf("set alice: %d %s %s", code, out, errs)
	}
	if out, _, code = run("agents", "set", "bob", "--skills", "english:3", "--temporal", unreachable); code != 0 ||
		!strings.Contains(out, "agent bob: skills english:3; queues -; capacity 1") {
		t.Fatalf("set bob: %d %s", code, out)
	}

	out, errs, code = run("agents", "list", "--temporal", unreachable)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.Contains(lines[0], "SKILLS") ||
		!strings.Contains(lines[1], "billing:5,english:1  support,sales  2         unknown  -") ||
		!strings.Contains(lines[2], "english:3            -              1         unknown  -") ||
		errs != "state: unknown (Temporal at "+unreachable+" not reachable)\n" {
		t.Fatalf("list: %d\n%s\nstderr %q", code, out, errs)
	}
}

func TestQueuesAndCallbacksCommands(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	run := func(args ...string) (string, string, int) {
		return runCLI(t, append(args, "--store", dsn)...)
	}
	if out, errs, code := run("queues", "list", "--temporal", unreachable); code != 0 || !strings.Contains(out, "no queues") {
		t.Fatalf("empty list: %d %s %s", code, out, errs)
	}
	if _, errs, code := run("queues", "put", "sales", "--max-wait", "5m", "--max-waiting", "20"); code != 0 {
		t.Fatalf("put sales: %s", errs)
	}
	out, errs, code := run("queues", "put", "support", "--hold-flow", "support-hold", "--announce-every", "45s", "--ring-timeout", "15s",
		"--wrap-up", "1m", "--sl-threshold", "30s", "--overflow", "60s:skills=billing:3,english", "--overflow", "2m:clear/queue=sales")
	if code != 0 || !strings.Contains(out, "overflow:       1m0s:skills=billing:3,english 2m0s:clear/queue=sales") {
		t.Fatalf("put support: %d %s %s", code, out, errs)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q, err := s.Queue(ctx, "support")
	if err != nil || q.HoldFlow != "support-hold" || q.AnnounceEvery != 45*time.Second || q.RingTimeout != 15*time.Second ||
		q.WrapUp != time.Minute || q.SLThreshold != 30*time.Second || q.MaxWait != 0 || len(q.Overflow) != 2 ||
		strings.Join(q.Overflow[0].Skills, ",") != "billing:3,english" || !q.Overflow[1].ClearSkills || q.Overflow[1].Queue != "sales" {
		t.Fatalf("stored support: %+v %v", q, err)
	}

	out, errs, code = run("queues", "list", "--temporal", unreachable)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], "sales    queue-hold    5m0s      20") ||
		!strings.Contains(lines[2], "support-hold  10m0s     no limit") || strings.Contains(out, "LONGEST") ||
		errs != "live figures: unknown (Temporal at "+unreachable+" not reachable)\n" {
		t.Fatalf("list: %d\n%s\nstderr %q", code, out, errs)
	}
	out, _, code = run("queues", "show", "support", "--temporal", unreachable)
	if code != 0 || !strings.Contains(out, "announce every: 45s") || !strings.Contains(out, "live: unknown (Temporal at "+unreachable) {
		t.Fatalf("show: %d\n%s", code, out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"queues", "show", "nope"}, `no queue "nope"`},
		{[]string{"queues", "put", "x", "--max-wait", "soon"}, `invalid argument "soon" for "--max-wait" flag`},
		{[]string{"queues", "put", "x", "--wrap-up", "-5s"}, "--wrap-up -5s: must not be negative"},
		{[]string{"queues", "put", "x", "--max-waiting", "-1"}, "--max-waiting -1: must not be negative"},
		{[]string{"queues", "put", "x", "--overflow", "60s"}, `--overflow "60s": no step after the wait; write AFTER:skills=LIST`},
		{[]string{"queues", "put", "x", "--overflow", "soon:clear"}, `--overflow "soon:clear": "soon" is not a positive duration`},
		{[]string{"queues", "put", "x", "--overflow", "1m:bogus"}, `--overflow "1m:bogus": unknown step "bogus"`},
		{[]string{"queues", "put", "x", "--overflow", "1m:skills=billing:x"}, `--overflow "1m:skills=billing:x": skill "billing:x": level must be`},
		{[]string{"queues", "put", "x", "--overflow", "1m:queue=ghost"}, `--overflow: put queue "x": overflow[0].queue "ghost": not found: create that queue first`},
		{[]string{"queues", "put", "x", "--overflow", "2m:clear", "--overflow", "1m:clear"}, "--overflow: put queue \"x\": overflow[1].after 1m0s"},
		{[]string{"queues", "put", "bad name"}, `queue name "bad name"`},
		{[]string{"queues", "delete", "sales"}, `queue "support" overflow[1] goes to it: change that queue's --overflow first`},
		{[]string{"queues", "delete", "nope"}, `no queue "nope"`},
	} {
		if out, errs, code := run(tc.args...); code != 1 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	if out, _, code := run("queues", "delete", "support"); code != 0 || out != "queue support deleted\n" {
		t.Fatalf("delete support: %d %s", code, out)
	}
	if _, _, code := run("queues", "delete", "sales"); code != 0 {
		t.Fatal("delete sales once nothing overflows to it")
	}
}

func TestCallbacksCommands(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	run := func(args ...string) (string, string, int) {
		return runCLI(t, append(args, "--store", dsn)...)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"callbacks", "list", "--state", "lost"}, `--state "lost": want one of scheduled, waiting, dialing, done, failed, cancelled`},
		{[]string{"callbacks", "list", "--limit", "0"}, "--limit 0: want 1 to 1000"},
	} {
		if out, errs, code := run(tc.args...); code != 1 || out != "" || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	if out, _, code := run("callbacks", "list"); code != 0 || out != "no callbacks\n" {
		t.Fatalf("no callbacks: %d %q", code, out)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	due := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for i, st := range []string{store.CallbackWaiting, store.CallbackDone} {
		if err := s.PutCallback(ctx, store.Callback{ID: "cb" + st, Queue: "support", Number: "+1555010" + string(rune('0'+i)),
			CallID: "c" + st, State: st, DueAt: due.Add(time.Duration(i) * time.Minute), Agent: "alice"}); err != nil {
			t.Fatal(err)
		}
	}
	out, _, code := run("callbacks", "list", "--state", "done", "--queue", "support")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); code != 0 || len(lines) != 2 || !strings.HasPrefix(lines[1], "cbdone  support  +15550101  done") {
		t.Fatalf("callbacks: %d\n%s", code, out)
	}
	if out, _, _ := run("callbacks", "list"); strings.Count(out, "\n") != 3 {
		t.Fatalf("all callbacks:\n%s", out)
	}
}
