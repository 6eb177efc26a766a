package store

import (
	"context"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		for i, e := range []AuditEntry{
			{Actor: "ann", Role: "admin", Via: "session", Source: "127.0.0.1", Action: "user.create", Target: "bob"},
			{Actor: "key:ci", Role: "publisher", Via: "key", Action: "flow.publish", Target: "sales", Details: `{"version":2}`},
			{Actor: "ann", Role: "admin", Via: "session", Action: "key.delete", Target: "k1"},
		} {
			e.At = base.Add(time.Duration(i) * time.Minute)
			must[AuditEntry](t)(s.AddAudit(ctx, e))
		}
		if _, err := s.AddAudit(ctx, AuditEntry{Action: "x"}); err == nil {
			t.Fatal("entry without actor accepted")
		}
		all := must[[]AuditEntry](t)(s.AuditLog(ctx, AuditFilter{}))
		if len(all) != 3 || all[0].Action != "key.delete" || all[2].Action != "user.create" || all[2].Details != "{}" ||
			!all[1].At.Equal(base.Add(time.Minute)) || all[1].Details != `{"version":2}` || all[2].Source != "127.0.0.1" {
			t.Fatalf("all: %+v", all)
		}
		if got := must[[]AuditEntry](t)(s.AuditLog(ctx, AuditFilter{Actor: "ann"})); len(got) != 2 {
			t.Errorf("actor filter: %+v", got)
		}
		if got := must[[]AuditEntry](t)(s.AuditLog(ctx, AuditFilter{Action: "flow.publish", Target: "sales"})); len(got) != 1 {
			t.Errorf("action+target filter: %+v", got)
		}
		got := must[[]AuditEntry](t)(s.AuditLog(ctx, AuditFilter{Since: base.Add(time.Minute), Until: base.Add(2 * time.Minute)}))
		if len(got) != 1 || got[0].Action != "flow.publish" {
			t.Errorf("since/until: %+v", got)
		}
		// Paging: two pages of at most two entries.
		p1 := must[[]AuditEntry](t)(s.AuditLog(ctx, AuditFilter{Limit: 2}))
		last := p1[len(p1)-1]
		p2 := must[[]AuditEntry](t)(s.AuditLog(ctx, AuditFilter{Limit: 2, BeforeAt: last.At, BeforeID: last.ID}))
		if len(p1) != 2 || len(p2) != 1 || p2[0].Action != "user.create" {
			t.Errorf("pages %+v / %+v", p1, p2)
		}
	})
}

func TestSigninCounter(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		if c := must[SigninCounter](t)(s.SigninCounter(ctx, "user:ann")); c.Failures != 0 || !c.LockedUntil.IsZero() {
			t.Fatalf("new counter %+v", c)
		}
		bump := func(c SigninCounter) SigninCounter {
			c.Failures++
			if c.Failures == 2 {
				c.Failures, c.Lockouts, c.LockedUntil = 0, c.Lockouts+1, at.Add(time.Minute)
			}
			c.UpdatedAt = at
			return c
		}
		must[SigninCounter](t)(s.UpdateSigninCounter(ctx, "user:ann", bump))
		c := must[SigninCounter](t)(s.UpdateSigninCounter(ctx, "user:ann", bump))
		if c.Failures != 0 || c.Lockouts != 1 || !c.LockedUntil.Equal(at.Add(time.Minute)) {
			t.Fatalf("after lockout %+v", c)
		}
		if r := must[SigninCounter](t)(s.SigninCounter(ctx, "user:ann")); r != c {
			t.Fatalf("read back %+v, want %+v", r, c)
		}
		must[SigninCounter](t)(s.UpdateSigninCounter(ctx, "ip:old", func(c SigninCounter) SigninCounter {
			c.Failures, c.UpdatedAt = 1, at.Add(-48*time.Hour)
			return c
		}))
		ok(t, s.PruneSigninCounters(ctx, at.Add(-24*time.Hour)))
		if c := must[SigninCounter](t)(s.SigninCounter(ctx, "ip:old")); c.Failures != 0 {
			t.Errorf("stale counter kept: %+v", c)
		}
		if c := must[SigninCounter](t)(s.SigninCounter(ctx, "user:ann")); c.Lockouts != 1 {
			t.Errorf("fresh counter pruned: %+v", c)
		}
		ok(t, s.DeleteSigninCounter(ctx, "user:ann"))
		if c := must[SigninCounter](t)(s.SigninCounter(ctx, "user:ann")); c.Lockouts != 0 {
			t.Fatalf("after delete %+v", c)
		}
	})
}
