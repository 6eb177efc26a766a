package sipmedia

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/registrar/registrartest"
	"github.com/voxflow/voxflow/store"
)

// storeDSNs are the databases the store-backed tests run on: SQLite always,
// PostgreSQL when VOXFLOW_TEST_POSTGRES_DSN is set (scripts/test sets it; a
// fresh schema per test).
func storeDSNs(t *testing.T) map[string]string {
	dsns := map[string]string{"sqlite": "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")}
	base := os.Getenv("VOXFLOW_TEST_POSTGRES_DSN")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("VOXFLOW_TEST_POSTGRES_DSN is not set: run scripts/test, which starts PostgreSQL")
		}
		t.Log("VOXFLOW_TEST_POSTGRES_DSN is not set: PostgreSQL not tested here (scripts/test does)")
		return dsns
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("vf_sipmedia_%d_%08x", time.Now().UnixNano()%1e9, rand.Uint32())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsns["postgres"] = u.String()
	return dsns
}

func TestRegistrarStore(t *testing.T) {
	for name, dsn := range storeDSNs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.AddSIPAccount(ctx, store.SIPAccount{Username: "alice", Realm: "voxflow",
				HA1: registrar.HA1("alice", "voxflow", "wonderland"), Enabled: true}); err != nil {
				t.Fatal(err)
			}
			clk := registrartest.NewClock(time.Now().Truncate(time.Second))
			backend := RegistrarStore{Store: s}
			// Two workers on one store: alice registers on w1, w2 finds her.
			w1, err := registrar.New(registrar.Config{Accounts: backend, Locations: backend, WorkerID: "w1", Now: clk.Now,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			w2, err := registrar.New(registrar.Config{Accounts: backend, Locations: backend, WorkerID: "w2", Now: clk.Now,
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			p := registrartest.NewPhone(t, w1, "alice", "wonderland")
			registrartest.WantCode(t, p.Register(false), 401)
			registrartest.WantCode(t, p.Register(true, "Contact: <sip:alice@192.168.1.20:5062>;expires=120"), 200)
			cs, err := w2.Lookup(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 || cs[0].URI != "sip:alice@192.168.1.20:5062" || cs[0].WorkerID != "w1" ||
				cs[0].Source != "203.0.113.5:40000" || cs[0].Transport != "UDP" || !cs[0].Expires.Equal(clk.Now().Add(120*time.Second)) {
				t.Fatalf("Lookup from the other worker: %+v", cs)
			}
			// Expiry: ignored once past, then purged.
			clk.Add(121 * time.Second)
			if _, err := w2.Lookup(ctx, "alice"); !errors.Is(err, registrar.ErrNotRegistered) {
				t.Fatalf("Lookup after expiry: %v", err)
			}
			if _, err := backend.Purge(ctx, clk.Now()); err != nil {
				t.Fatal(err)
			}
			if regs, _ := s.LiveRegistrations(ctx, "", time.Time{}); len(regs) != 0 {
				t.Fatalf("expired binding not purged: %+v", regs)
			}
			// Register again, then unregister through the other worker.
			registrartest.WantCode(t, p.Register(true, "Contact: <sip:alice@192.168.1.20:5062>"), 200)
			if _, err := w2.Lookup(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			p.R = w2
			registrartest.WantCode(t, p.Register(true, "Contact: <sip:alice@192.168.1.20:5062>", "Expires: 0"), 401) // w1's nonce: stale
			registrartest.WantCode(t, p.Register(true, "Contact: <sip:alice@192.168.1.20:5062>", "Expires: 0"), 200)
			if _, err := w1.Lookup(ctx, "alice"); !errors.Is(err, registrar.ErrNotRegistered) {
				t.Fatalf("Lookup after unregister: %v", err)
			}
			// A removed account can no longer register.
			if err := s.RemoveSIPAccount(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			registrartest.WantCode(t, p.Register(true, "Contact: <sip:alice@192.168.1.20:5062>"), 401)
			if _, err := backend.Account(ctx, "alice"); !errors.Is(err, registrar.ErrUnknownAccount) {
				t.Fatalf("Account after remove: %v", err)
			}
			if _, err := backend.Update(ctx, "alice", clk.Now(), func([]registrar.Contact) (registrar.Change, error) { return registrar.Change{}, nil }); !errors.Is(err, registrar.ErrUnknownAccount) {
				t.Fatalf("Update after remove: %v", err)
			}
		})
	}
}
