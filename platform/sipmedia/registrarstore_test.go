package sipmedia

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/store"
	"github.com/voxflow/voxflow/store/storetest"
)

// RegistrarStore keeps what the registrar asks of Accounts and Locations,
// on both dialects: every field of a binding survives the round trip,
// expired bindings are dead to readers and purged, changes are atomic per
// agent, and an agent with no account is ErrUnknownAccount. (The registrar
// over it, with real phones, is in e2e/registrar_test.go.)
func TestRegistrarStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.AddSIPAccount(ctx, store.SIPAccount{Username: "alice", Realm: "voxflow",
			HA1: registrar.HA1("alice", "voxflow", "wonderland"), DisplayName: "Alice", Enabled: true}); err != nil {
			t.Fatal(err)
		}
		rs := RegistrarStore{Store: s}
		acc, err := rs.Account(ctx, "alice")
		if err != nil || acc.Username != "alice" || acc.Realm != "voxflow" || acc.HA1 != registrar.HA1("alice", "voxflow", "wonderland") ||
			acc.DisplayName != "Alice" || !acc.Enabled {
			t.Fatalf("Account = %+v, %v", acc, err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		desk := registrar.Contact{User: "alice", URI: "sip:alice@192.168.1.20:5062", Source: "203.0.113.5:40000", Transport: "UDP",
			Expires: now.Add(120 * time.Second), WorkerID: "w1", CallID: "reg-1", CSeq: 7, UserAgent: "desk-phone"}
		mobile := registrar.Contact{User: "alice", URI: "sip:alice@10.0.0.9:5060;transport=tcp", Source: "198.51.100.7:51000", Transport: "TCP",
			Expires: now.Add(30 * time.Second), WorkerID: "w2", CallID: "reg-2", CSeq: 1}
		put := func(cs ...registrar.Contact) func([]registrar.Contact) (registrar.Change, error) {
			return func([]registrar.Contact) (registrar.Change, error) { return registrar.Change{Put: cs}, nil }
		}
		live, err := rs.Update(ctx, "alice", now, put(desk, mobile))
		if err != nil || len(live) != 2 || live[0] != desk || live[1] != mobile {
			t.Fatalf("Update = %+v, %v; want desk then mobile (latest expiry first)", live, err)
		}
		// Another worker's view of the same store sees both, field for field.
		got, err := RegistrarStore{Store: s}.Contacts(ctx, "alice", now)
		if err != nil || len(got) != 2 || got[0] != desk || got[1] != mobile {
			t.Fatalf("Contacts = %+v, %v", got, err)
		}
		// A failing change changes nothing.
		boom := errors.New("refused")
		if _, err := rs.Update(ctx, "alice", now, func([]registrar.Contact) (registrar.Change, error) {
			return registrar.Change{Remove: []string{desk.URI}}, boom
		}); !errors.Is(err, boom) {
			t.Fatalf("failing Update: %v", err)
		}
		// Past its expiry the mobile binding is dead, then purged.
		later := now.Add(31 * time.Second)
		if got, _ := rs.Contacts(ctx, "alice", later); len(got) != 1 || got[0].URI != desk.URI {
			t.Fatalf("Contacts after the mobile expired: %+v", got)
		}
		if n, err := rs.Purge(ctx, later); err != nil || n != 1 {
			t.Fatalf("Purge = %d, %v; want 1", n, err)
		}
		// fn sees the live bindings; Remove takes one away.
		live, err = rs.Update(ctx, "alice", later, func(cur []registrar.Contact) (registrar.Change, error) {
			if len(cur) != 1 || cur[0].URI != desk.URI {
				t.Errorf("fn got %+v, want the desk phone", cur)
			}
			return registrar.Change{Remove: []string{desk.URI}}, nil
		})
		if err != nil || len(live) != 0 {
			t.Fatalf("unregister: %+v, %v", live, err)
		}
		// No account: no registration.
		if err := s.RemoveSIPAccount(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := rs.Account(ctx, "alice"); !errors.Is(err, registrar.ErrUnknownAccount) {
			t.Fatalf("Account after remove: %v", err)
		}
		if _, err := rs.Update(ctx, "alice", later, put(desk)); !errors.Is(err, registrar.ErrUnknownAccount) {
			t.Fatalf("Update after remove: %v", err)
		}
		if got, err := rs.Contacts(ctx, "", later); err != nil || len(got) != 0 {
			t.Fatalf("Contacts of no one: %+v, %v", got, err)
		}
	})
}
