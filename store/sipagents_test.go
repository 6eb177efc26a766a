package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSIPAccounts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)
		s.now = func() time.Time { return now }

		alice := SIPAccount{Username: "alice", Realm: "voxflow", HA1: "0123456789abcdef0123456789abcdef", DisplayName: "Alice A.", Enabled: true}
		ok(t, s.AddSIPAccount(ctx, alice))
		ok(t, s.AddSIPAccount(ctx, SIPAccount{Username: "bob.b-2", Realm: "voxflow", HA1: "ff", CreatedAt: now.Add(-time.Hour)}))
		if err := s.AddSIPAccount(ctx, alice); !errors.Is(err, ErrExists) {
			t.Fatalf("second add: %v, want ErrExists", err)
		}
		for _, bad := range []SIPAccount{
			{Username: "", Realm: "voxflow", HA1: "x"},
			{Username: "has space", Realm: "voxflow", HA1: "x"},
			{Username: "sip:alice", Realm: "voxflow", HA1: "x"},
			{Username: "-dash", Realm: "voxflow", HA1: "x"},
			{Username: "carol", Realm: "", HA1: "x"},
			{Username: "carol", Realm: "voxflow", HA1: ""},
		} {
			if err := s.AddSIPAccount(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddSIPAccount(%+v) = %v, want ErrInvalid", bad, err)
			}
		}

		got := must[SIPAccount](t)(s.SIPAccount(ctx, "alice"))
		alice.CreatedAt = now.Truncate(time.Microsecond)
		if got != alice {
			t.Fatalf("SIPAccount = %+v, want %+v", got, alice)
		}
		if _, err := s.SIPAccount(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown account: %v", err)
		}
		list := must[[]SIPAccount](t)(s.SIPAccounts(ctx))
		if len(list) != 2 || list[0].Username != "alice" || list[1].Username != "bob.b-2" || list[1].Enabled ||
			!list[1].CreatedAt.Equal(now.Add(-time.Hour).Truncate(time.Microsecond)) {
			t.Fatalf("SIPAccounts = %+v", list)
		}

		// Removing an account removes its bindings.
		_, err := s.UpdateRegistrations(ctx, "alice", now, func([]Registration) (RegistrationChange, error) {
			return RegistrationChange{Put: []Registration{{Contact: "sip:alice@10.0.0.1", ExpiresAt: now.Add(time.Hour)}}}, nil
		})
		ok(t, err)
		ok(t, s.RemoveSIPAccount(ctx, "alice"))
		if err := s.RemoveSIPAccount(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second remove: %v", err)
		}
		if regs := must[[]Registration](t)(s.LiveRegistrations(ctx, "", now)); len(regs) != 0 {
			t.Fatalf("bindings left after remove: %+v", regs)
		}
		// And the name can be taken again.
		ok(t, s.AddSIPAccount(ctx, SIPAccount{Username: "alice", Realm: "voxflow", HA1: "aa", Enabled: true}))
	})
}

func TestSIPRegistrations(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		ok(t, s.AddSIPAccount(ctx, SIPAccount{Username: "alice", Realm: "voxflow", HA1: "aa", Enabled: true}))
		ok(t, s.AddSIPAccount(ctx, SIPAccount{Username: "bob", Realm: "voxflow", HA1: "bb", Enabled: true}))

		put := func(user string, at time.Time, regs ...Registration) []Registration {
			t.Helper()
			var seen []Registration
			after, err := s.UpdateRegistrations(ctx, user, at, func(live []Registration) (RegistrationChange, error) {
				seen = live
				return RegistrationChange{Put: regs}, nil
			})
			ok(t, err)
			_ = seen
			return after
		}
		a1 := Registration{Contact: "sip:alice@192.0.2.1:5062", Source: "198.51.100.7:40000", Transport: "UDP",
			CallID: "c1", CSeq: 2, UserAgent: "baresip", WorkerID: "w1", ExpiresAt: now.Add(time.Minute)}
		after := put("alice", now, a1)
		want := a1
		want.Username, want.UpdatedAt = "alice", now
		if len(after) != 1 || after[0] != want {
			t.Fatalf("after first put: %+v, want %+v", after, want)
		}
		a2 := Registration{Contact: "sip:alice@192.0.2.2;transport=tcp", Source: "192.0.2.2:50000", Transport: "TCP",
			CallID: "c2", CSeq: 1, WorkerID: "w2", ExpiresAt: now.Add(10 * time.Minute)}
		after = put("alice", now, a2)
		if len(after) != 2 || after[0].Contact != a2.Contact || after[1].Contact != a1.Contact {
			t.Fatalf("latest expiry first: %+v", after)
		}
		put("bob", now, Registration{Contact: "sip:bob@192.0.2.9", Source: "192.0.2.9:5060", Transport: "UDP", CallID: "b", CSeq: 1, ExpiresAt: now.Add(time.Minute)})

		// Refresh a1 (upsert by contact).
		a1.CSeq, a1.ExpiresAt, a1.Source = 3, now.Add(20*time.Minute), "198.51.100.7:40001"
		after = put("alice", now.Add(time.Second), a1)
		if len(after) != 2 || after[0].Contact != a1.Contact || after[0].CSeq != 3 || after[0].Source != a1.Source ||
			!after[0].UpdatedAt.Equal(now.Add(time.Second)) {
			t.Fatalf("after refresh: %+v", after)
		}

		all := must[[]Registration](t)(s.LiveRegistrations(ctx, "", now))
		if len(all) != 3 || all[0].Username != "alice" || all[2].Username != "bob" {
			t.Fatalf("all live: %+v", all)
		}
		// Expiry: at +2m bob's binding is dead for readers, still in the table.
		later := now.Add(2 * time.Minute)
		if regs := must[[]Registration](t)(s.LiveRegistrations(ctx, "bob", later)); len(regs) != 0 {
			t.Fatalf("bob after expiry: %+v", regs)
		}
		if regs := must[[]Registration](t)(s.LiveRegistrations(ctx, "alice", later)); len(regs) != 2 {
			t.Fatalf("alice at +2m: %+v", regs)
		}
		var rows int
		ok(t, s.db.QueryRow(`SELECT COUNT(*) FROM sip_registrations`).Scan(&rows))
		if rows != 3 {
			t.Fatalf("%d rows before purge", rows)
		}
		if n := must[int64](t)(s.PurgeRegistrations(ctx, later)); n != 1 {
			t.Fatalf("purged %d, want 1", n)
		}

		// Remove one contact; a binding written already expired is not live.
		after, err := s.UpdateRegistrations(ctx, "alice", later, func(live []Registration) (RegistrationChange, error) {
			if len(live) != 2 {
				return RegistrationChange{}, fmt.Errorf("fn saw %d live", len(live))
			}
			return RegistrationChange{Remove: []string{a2.Contact},
				Put: []Registration{{Contact: "sip:dead@192.0.2.3", ExpiresAt: later}}}, nil
		})
		ok(t, err)
		if len(after) != 1 || after[0].Contact != a1.Contact {
			t.Fatalf("after remove: %+v", after)
		}
		// The update purges the account's expired rows.
		ok(t, s.db.QueryRow(s.rebind(`SELECT COUNT(*) FROM sip_registrations WHERE username = ?`), "alice").Scan(&rows))
		if rows != 2 { // a1 and the dead one written just now
			t.Fatalf("%d alice rows", rows)
		}
		after = put("alice", later.Add(time.Microsecond))
		if len(after) != 1 {
			t.Fatalf("after a no-op update: %+v", after)
		}
		ok(t, s.db.QueryRow(s.rebind(`SELECT COUNT(*) FROM sip_registrations WHERE username = ?`), "alice").Scan(&rows))
		if rows != 1 {
			t.Fatalf("expired row not purged by the update: %d rows", rows)
		}

		// An error from fn writes nothing.
		boom := errors.New("boom")
		_, err = s.UpdateRegistrations(ctx, "alice", later, func([]Registration) (RegistrationChange, error) {
			return RegistrationChange{Remove: []string{a1.Contact}}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("fn error: %v", err)
		}
		if regs := must[[]Registration](t)(s.LiveRegistrations(ctx, "alice", later)); len(regs) != 1 {
			t.Fatalf("fn error wrote: %+v", regs)
		}
		if _, err := s.UpdateRegistrations(ctx, "nobody", later, func([]Registration) (RegistrationChange, error) {
			return RegistrationChange{}, nil
		}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown account: %v", err)
		}
	})
}

// Concurrent REGISTERs of one agent from several workers all land.
func TestSIPRegistrationsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Now()
		ok(t, s.AddSIPAccount(ctx, SIPAccount{Username: "alice", Realm: "voxflow", HA1: "aa", Enabled: true}))
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.UpdateRegistrations(ctx, "alice", now, func(live []Registration) (RegistrationChange, error) {
					return RegistrationChange{Put: []Registration{{Contact: fmt.Sprintf("sip:alice@192.0.2.%d", i), ExpiresAt: now.Add(time.Hour)}}}, nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			ok(t, err)
		}
		if regs := must[[]Registration](t)(s.LiveRegistrations(ctx, "alice", now)); len(regs) != 8 {
			t.Fatalf("%d bindings, want 8", len(regs))
		}
	})
}
