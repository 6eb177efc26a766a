package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/store"
)

func TestAuditList(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	for _, e := range []store.AuditEntry{
		{At: at, Actor: "ann", Role: "admin", Via: "session", Source: "127.0.0.1", Action: "user.create", Target: "bob"},
		{At: at.Add(time.Minute), Actor: "key:ci", Role: "publisher", Via: "key", Action: "flow.publish", Target: "sales", Details: `{"version":3}`},
	} {
		if _, err := s.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// A CLI action writes its own entry, as user@host via cli.
	auditCLI(ctx, storeFlag{dsn: dsn}, &strings.Builder{}, "call.reset", "c9", map[string]any{"node": "menu"})

	out, errs, code := runCLI(t, "audit", "list", "--store", dsn)
	if code != 0 {
		t.Fatalf("list: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "call.reset") || !strings.Contains(lines[1], cliActor()) ||
		!strings.Contains(lines[2], "flow.publish") || !strings.Contains(lines[3], "127.0.0.1") {
		t.Fatalf("list:\n%s", out)
	}
	out, _, code = runCLI(t, "audit", "list", "--store", dsn, "--actor", "ann", "--json")
	if code != 0 || !strings.Contains(out, `"Action": "user.create"`) || strings.Contains(out, "flow.publish") {
		t.Fatalf("filtered JSON:\n%s", out)
	}
	out, _, _ = runCLI(t, "audit", "list", "--store", dsn, "--since", "30m")
	if n := len(strings.Split(strings.TrimSpace(out), "\n")); n != 2 {
		t.Fatalf("--since 30m: %d lines:\n%s", n, out)
	}
	if _, errs, code := runCLI(t, "audit", "list", "--store", dsn, "--since", "yesterday"); code == 0 || !strings.Contains(errs, "RFC 3339") {
		t.Fatalf("bad --since: %d %s", code, errs)
	}
	if _, errs, code := runCLI(t, "calls", "reset", "--help"); code != 0 || strings.Contains(errs, "panic") {
		t.Fatalf("calls reset --help: %d %s", code, errs)
	}
}
