package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/store"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

func TestAgentsCommands(t *testing.T) {
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	ctx := context.Background()

	out, errs, code := runCLI(t, "agents", "add", "alice", "--store", dsn, "--display-name", "Alice A.")
	if code != 0 {
		t.Fatalf("add: %d %s", code, errs)
	}
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
	if m == nil || len(m[1]) != 16 {
		t.Fatalf("add without --password printed no password:\n%s", out)
	}
	if _, _, code := runCLI(t, "agents", "add", "bob", "--store", dsn, "--password", "builder"); code != 0 {
		t.Fatal("add bob failed")
	}
	if _, errs, code := runCLI(t, "agents", "add", "alice", "--store", dsn); code == 0 || !strings.Contains(errs, "already exists") {
		t.Fatalf("second add: %d %s", code, errs)
	}
	if _, errs, code := runCLI(t, "agents", "add", "not valid", "--store", dsn); code == 0 || !strings.Contains(errs, "invalid") {
		t.Fatalf("bad name: %d %s", code, errs)
	}

	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.SIPAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.HA1 != registrar.HA1("alice", "voxflow", m[1]) || a.Realm != "voxflow" || a.DisplayName != "Alice A." || !a.Enabled {
		t.Fatalf("stored account %+v", a)
	}
	if b, _ := s.SIPAccount(ctx, "bob"); b.HA1 != registrar.HA1("bob", "voxflow", "builder") {
		t.Fatalf("bob's HA1 %q", b.HA1)
	}
	now := time.Now()
	if _, err := s.UpdateRegistrations(ctx, "alice", now, func([]store.Registration) (store.RegistrationChange, error) {
		return store.RegistrationChange{Put: []store.Registration{{Contact: "sip:alice@192.0.2.10:5062", Source: "203.0.113.9:41000",
			Transport: "UDP", WorkerID: "dev", ExpiresAt: now.Add(time.Hour)}}}, nil
	}); err != nil {
		t.Fatal(err)
	}

	out, errs, code = runCLI(t, "agents", "list", "--store", dsn, "--temporal", unreachable)
	if code != 0 {
		t.Fatalf("list: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "alice") || !strings.Contains(lines[1], "Alice A.") ||
		!strings.Contains(lines[1], "sip:alice@192.0.2.10:5062 (from 203.0.113.9:41000/UDP via dev") ||
		!strings.HasPrefix(lines[2], "bob") || !strings.HasSuffix(lines[2], "-") {
		t.Fatalf("list:\n%s", out)
	}

	if out, errs, code := runCLI(t, "agents", "remove", "alice", "--store", dsn); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %d %s %s", code, out, errs)
	}
	if _, errs, code := runCLI(t, "agents", "remove", "alice", "--store", dsn); code == 0 || !strings.Contains(errs, `no agent "alice"`) {
		t.Fatalf("second remove: %d %s", code, errs)
	}
	if regs, _ := s.LiveRegistrations(ctx, "", now); len(regs) != 0 {
		t.Fatalf("registrations left: %+v", regs)
	}
	out, _, _ = runCLI(t, "agents", "list", "--store", dsn, "--temporal", unreachable)
	if strings.Contains(out, "alice") {
		t.Fatalf("list after remove:\n%s", out)
	}
}

func TestAgentsDefaultStoreMissing(t *testing.T) {
	t.Chdir(t.TempDir())
	_, errs, code := runCLI(t, "agents", "list")
	if code == 0 || !strings.Contains(errs, "run `voxflow dev`") {
		t.Fatalf("list without a dev store: %d %s", code, errs)
	}
}
