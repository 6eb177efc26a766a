package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// authClock is a time with sub-microsecond digits in a non-UTC zone, so
// the tests see the store's normalisation to UTC microseconds.
var authClock = time.Date(2025, 5, 1, 9, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))

func apiUser(name, role string, at time.Time) APIUser {
	return APIUser{Username: name, PasswordHash: "$2a$04$hash-of-" + name, Role: role, CreatedAt: at, UpdatedAt: at}
}

func TestAPIUsers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := authClock
		ok(t, s.AddAPIUser(ctx, apiUser("zoe", "viewer", now)))
		ok(t, s.AddAPIUser(ctx, apiUser("amy", "admin", now.Add(time.Minute))))
		if err := s.AddAPIUser(ctx, apiUser("zoe", "admin", now)); !errors.Is(err, ErrExists) {
			t.Fatalf("second add: %v, want ErrExists", err)
		}
		for _, bad := range []APIUser{{PasswordHash: "h", Role: "viewer"}, {Username: "x", Role: "viewer"}, {Username: "x", PasswordHash: "h"}} {
			if err := s.AddAPIUser(ctx, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("AddAPIUser(%+v) = %v, want ErrInvalid", bad, err)
			}
		}

		got := must[APIUser](t)(s.APIUser(ctx, "zoe"))
		want := apiUser("zoe", "viewer", now.UTC().Truncate(time.Microsecond))
		if got != want {
			t.Fatalf("APIUser = %+v, want %+v", got, want)
		}
		if _, err := s.APIUser(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown user: %v", err)
		}
		list := must[[]APIUser](t)(s.APIUsers(ctx))
		if len(list) != 2 || list[0].Username != "amy" || list[1] != want {
			t.Fatalf("APIUsers = %+v", list)
		}
		first := must[APIUser](t)(s.FirstAPIUserWithRole(ctx, AdminRole))
		if first.Username != "amy" {
			t.Fatalf("first admin = %+v", first)
		}
		if _, err := s.FirstAPIUserWithRole(ctx, "operator"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("first operator: %v", err)
		}
	})
}

func TestAPIUserUpdateAndLastAdmin(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := authClock
		ok(t, s.AddAPIUser(ctx, apiUser("amy", AdminRole, now)))
		ok(t, s.AddAPIUser(ctx, apiUser("bob", "viewer", now)))
		later := now.Add(time.Hour).UTC().Truncate(time.Microsecond)
		ok(t, s.AddAPISession(ctx, APISession{Hash: "bob-1", Username: "bob", CreatedAt: now, ExpiresAt: later}))

		// The only admin can be neither demoted nor deleted.
		if err := s.UpdateAPIUser(ctx, "amy", APIUserChange{Role: "viewer", At: later}); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("demote last admin: %v", err)
		}
		if err := s.DeleteAPIUser(ctx, "amy"); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("delete last admin: %v", err)
		}
		for _, err := range []error{
			s.UpdateAPIUser(ctx, "nobody", APIUserChange{Role: "viewer", At: later}),
			s.DeleteAPIUser(ctx, "nobody"),
		} {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("unknown user: %v", err)
			}
		}

		// A role change ends the sessions (an admin's reset); so does a new
		// password; setting the same role keeps them.
		ok(t, s.UpdateAPIUser(ctx, "bob", APIUserChange{Role: AdminRole, At: later}))
		if _, err := s.APISession(ctx, "bob-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session after promotion: %v", err)
		}
		ok(t, s.AddAPISession(ctx, APISession{Hash: "bob-2", Username: "bob", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		ok(t, s.UpdateAPIUser(ctx, "bob", APIUserChange{Role: AdminRole, At: later}))
		if sess := must[APISession](t)(s.APISession(ctx, "bob-2")); sess.Role != AdminRole {
			t.Fatalf("session after same role = %+v", sess)
		}
		ok(t, s.UpdateAPIUser(ctx, "bob", APIUserChange{PasswordHash: "new-hash", At: later}))
		if _, err := s.APISession(ctx, "bob-2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session after password change: %v", err)
		}
		bob := must[APIUser](t)(s.APIUser(ctx, "bob"))
		if bob.PasswordHash != "new-hash" || bob.Role != AdminRole || bob.UpdatedAt != later || bob.CreatedAt != now.UTC().Truncate(time.Microsecond) {
			t.Fatalf("bob = %+v", bob)
		}

		// With two admins one may go.
		ok(t, s.UpdateAPIUser(ctx, "amy", APIUserChange{Role: "viewer", At: later}))
		if err := s.DeleteAPIUser(ctx, "bob"); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("delete the admin left: %v", err)
		}
		ok(t, s.AddAPISession(ctx, APISession{Hash: "amy-1", Username: "amy", CreatedAt: now, ExpiresAt: later}))
		ok(t, s.DeleteAPIUser(ctx, "amy"))
		if _, err := s.APISession(ctx, "amy-1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("session of a deleted user: %v", err)
		}
	})
}

// TestAPIUserConcurrentDemotions: of two admins demoted at once, one stays.
func TestAPIUserConcurrentDemotions(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		for round := 0; round < 5; round++ {
			a, b := fmt.Sprintf("a%d", round), fmt.Sprintf("b%d", round)
			ok(t, s.AddAPIUser(ctx, apiUser(a, AdminRole, authClock)))
			ok(t, s.AddAPIUser(ctx, apiUser(b, AdminRole, authClock)))
			if round > 0 { // the admin left by the previous round
				ok(t, s.UpdateAPIUser(ctx, fmt.Sprintf("a%d", round-1), APIUserChange{Role: "viewer", At: authClock}))
				ok(t, s.UpdateAPIUser(ctx, fmt.Sprintf("b%d", round-1), APIUserChange{Role: "viewer", At: authClock}))
			}
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, name := range []string{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.UpdateAPIUser(ctx, name, APIUserChange{Role: "viewer", At: authClock})
				}()
			}
			wg.Wait()
			failed := 0
			for _, err := range errs {
				if errors.Is(err, ErrLastAdmin) {
					failed++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			admins := 0
			for _, u := range must[[]APIUser](t)(s.APIUsers(ctx)) {
				if u.Role == AdminRole {
					admins++
				}
			}
			if failed != 1 || admins != 1 {
				t.Fatalf("round %d: %d demotions refused, %d admins left; want 1 and 1", round, failed, admins)
			}
		}
	})
}

func TestAPISessions(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := authClock
		ok(t, s.AddAPIUser(ctx, apiUser("amy", "designer", now)))
		ok(t, s.AddAPISession(ctx, APISession{Hash: "old", Username: "amy", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}))
		ok(t, s.AddAPISession(ctx, APISession{Hash: "s1", Username: "amy", Role: "ignored", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))

		got := must[APISession](t)(s.APISession(ctx, "s1"))
		want := APISession{Hash: "s1", Username: "amy", Role: "designer",
			CreatedAt: now.UTC().Truncate(time.Microsecond), ExpiresAt: now.Add(time.Hour).UTC().Truncate(time.Microsecond)}
		if got != want {
			t.Fatalf("APISession = %+v, want %+v", got, want)
		}
		// An expired session is still returned (the caller decides), until
		// the next sign-in purges it.
		if _, err := s.APISession(ctx, "old"); err != nil {
			t.Fatalf("expired session before a purge: %v", err)
		}
		ok(t, s.AddAPISession(ctx, APISession{Hash: "s2", Username: "amy", CreatedAt: now.Add(2 * time.Minute), ExpiresAt: now.Add(time.Hour)}))
		if _, err := s.APISession(ctx, "old"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("expired session after a sign-in: %v", err)
		}

		ok(t, s.DeleteAPISession(ctx, "s1"))
		ok(t, s.DeleteAPISession(ctx, "s1")) // unknown: no error
		if _, err := s.APISession(ctx, "s1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted session: %v", err)
		}
		if _, err := s.APISession(ctx, "s2"); err != nil {
			t.Fatalf("other session: %v", err)
		}
		err := s.AddAPISession(ctx, APISession{Hash: "s3", Username: "nobody", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("session of an unknown user: %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := authClock
		k1 := APIKey{ID: "id-2", Name: "ci", Hash: "hash-1", Prefix: "vfk_abcdef", Role: "publisher", CreatedBy: "amy", CreatedAt: now}
		k2 := APIKey{ID: "id-1", Name: "dashboard", Hash: "hash-2", Prefix: "vfk_ghijkl", Role: "viewer", CreatedBy: "amy", CreatedAt: now.Add(time.Second)}
		ok(t, s.AddAPIKey(ctx, k1))
		ok(t, s.AddAPIKey(ctx, k2))
		if err := s.AddAPIKey(ctx, APIKey{ID: "id-3", Name: "no hash", Role: "viewer"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("key without hash: %v", err)
		}

		k1.CreatedAt = now.UTC().Truncate(time.Microsecond)
		k2.CreatedAt = now.Add(time.Second).UTC().Truncate(time.Microsecond)
		list := must[[]APIKey](t)(s.APIKeys(ctx))
		if len(list) != 2 || list[0] != k1 || list[1] != k2 {
			t.Fatalf("APIKeys = %+v, want oldest first %+v, %+v", list, k1, k2)
		}
		if got := must[APIKey](t)(s.APIKeyByHash(ctx, "hash-2")); got != k2 {
			t.Fatalf("APIKeyByHash = %+v, want %+v", got, k2)
		}
		if _, err := s.APIKeyByHash(ctx, "vfk_secret"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}

		used := now.Add(time.Hour)
		ok(t, s.TouchAPIKey(ctx, "id-2", used))
		ok(t, s.TouchAPIKey(ctx, "unknown", used))
		if got := must[APIKey](t)(s.APIKeyByHash(ctx, "hash-1")); got.LastUsedAt != used.UTC().Truncate(time.Microsecond) {
			t.Fatalf("LastUsedAt = %v, want %v in UTC microseconds", got.LastUsedAt, used)
		}

		ok(t, s.DeleteAPIKey(ctx, "id-2"))
		if err := s.DeleteAPIKey(ctx, "id-2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if list := must[[]APIKey](t)(s.APIKeys(ctx)); len(list) != 1 || list[0].ID != "id-1" {
			t.Fatalf("APIKeys after delete = %+v", list)
		}
	})
}

// TestAPISessionsConcurrentSignInsSQLite: sign-ins arriving together all
// succeed. SQLite has one writer at a time; a busy timeout of 1 ms (the
// driver's _timeout) makes a waiting writer see SQLITE_BUSY at once, as it
// would after a longer timeout under heavy load, and the store's
// transaction retry must absorb it.
func TestAPISessionsConcurrentSignInsSQLite(t *testing.T) {
	s := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db")+"?_timeout=1")
	now := authClock
	ok(t, s.AddAPIUser(ctx, apiUser("amy", "viewer", now)))
	const n = 64
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.AddAPISession(ctx, APISession{Hash: fmt.Sprintf("token-%d", i), Username: "amy",
				CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("sign-in %d: %v", i, err)
		}
	}
	for i := range n {
		if _, err := s.APISession(ctx, fmt.Sprintf("token-%d", i)); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
}
