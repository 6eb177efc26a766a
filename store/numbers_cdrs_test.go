package store

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestNumbers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		must[FlowVersion](t)(s.PublishSource(ctx, "sales", src("sales", 1), "", ""))
		must[FlowVersion](t)(s.PublishSource(ctx, "support", src("support", 1), "", ""))
		must[Draft](t)(s.SaveDraft(ctx, "draft-only", src("d", 1), ""))

		if _, err := s.FlowForNumber(ctx, "+15550001"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("FlowForNumber(nothing bound) = %v, want ErrNotFound", err)
		}
		steps := []struct {
			name    string
			op      func() error
			wantErr error
		}{
			{"bind", func() error { return s.BindNumber(ctx, "+15550001", "sales") }, nil},
			{"rebind (upsert)", func() error { return s.BindNumber(ctx, "+15550001", "support") }, nil},
			{"bind second", func() error { return s.BindNumber(ctx, "+15550002", "sales") }, nil},
			{"bind to draft-only flow", func() error { return s.BindNumber(ctx, "+15550003", "draft-only") }, nil},
			{"bind to unknown flow", func() error { return s.BindNumber(ctx, "+15550004", "ghost") }, ErrNotFound},
			{"bind empty number", func() error { return s.BindNumber(ctx, "", "sales") }, ErrInvalid},
			{"unbind", func() error { return s.UnbindNumber(ctx, "+15550003") }, nil},
			{"unbind again", func() error { return s.UnbindNumber(ctx, "+15550003") }, ErrNotFound},
		}
		for _, st := range steps {
			if err := st.op(); !errors.Is(err, st.wantErr) {
				t.Fatalf("%s: err = %v, want %v", st.name, err, st.wantErr)
			}
		}
		nums := must[[]NumberBinding](t)(s.Numbers(ctx))
		if len(nums) != 2 || nums[0].Number != "+15550001" || nums[0].Flow != "support" ||
			nums[1].Number != "+15550002" || nums[1].Flow != "sales" || nums[0].UpdatedAt.IsZero() {
			t.Fatalf("Numbers = %+v", nums)
		}

		lookups := []struct {
			number, want string
			wantErr      error
		}{
			{"+15550001", "support", nil},
			{"+15550002", "sales", nil},
			{"+15559999", "", ErrNotFound},
		}
		check := func() {
			t.Helper()
			for _, l := range lookups {
				got, err := s.FlowForNumber(ctx, l.number)
				if got != l.want || !errors.Is(err, l.wantErr) {
					t.Errorf("FlowForNumber(%q) = %q, %v; want %q, %v", l.number, got, err, l.want, l.wantErr)
				}
			}
		}
		check()
		// The "*" binding catches every number without its own.
		ok(t, s.BindNumber(ctx, DefaultNumber, "sales"))
		lookups[2].want, lookups[2].wantErr = "sales", nil
		check()
		ok(t, s.UnbindNumber(ctx, DefaultNumber))
		lookups[2].want, lookups[2].wantErr = "", ErrNotFound
		check()
	})
}

// cdr builds a record with sub-microsecond times in a non-UTC zone, so the
// round trip exercises normalisation.
func cdr(callID, runID, flow, from, outcome string, started time.Time) records.CDR {
	zone := time.FixedZone("X", 2*3600)
	started = started.In(zone).Add(123 * time.Nanosecond)
	return records.CDR{
		CallID: callID, WorkflowID: "call-" + callID, RunID: runID,
		Flow: flow, FlowVersion: 3, From: from, To: "+15550001", Channel: "sip",
		StartedAt: started, EndedAt: started.Add(90*time.Second + 456789*time.Nanosecond),
		Duration: 90*time.Second + 456789*time.Nanosecond, Outcome: outcome,
		Path: []records.Step{
			{Node: "hello", Type: "play", EnteredAt: started, LeftAt: started.Add(time.Second), Outcome: "next"},
			{Node: "menu", Flow: "sub", Type: "menu", EnteredAt: started.Add(time.Second), Input: "1", Error: "x"},
		},
		Vars:       map[string]any{"lang": "en", "tries": float64(2), "vip": true, "tags": []any{"a", "b"}, "m": map[string]any{"k": "v"}},
		Recordings: []string{"rec/" + callID + ".wav"},
	}
}

func TestSaveCDR(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
		rec := cdr("c1", "r1", "main", "+4915100", records.OutcomeCompleted, base)
		ok(t, s.SaveCDR(ctx, rec))
		got := must[records.CDR](t)(s.CDR(ctx, "c1"))
		want := normCDR(rec)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("CDR round trip:\n got %+v\nwant %+v", got, want)
		}
		if got.StartedAt.Location() != time.UTC || got.StartedAt.Nanosecond() != 0 || !got.StartedAt.Equal(base) {
			t.Fatalf("StartedAt %v: want UTC microseconds equal to %v", got.StartedAt, base)
		}
		if got.Duration != rec.Duration {
			t.Fatalf("Duration %v, want %v (kept to the nanosecond)", got.Duration, rec.Duration)
		}

		// A retried activity saves the same record again: still one row.
		ok(t, s.SaveCDR(ctx, rec))
		rec.Outcome = records.OutcomeHungUp // a retry carrying fresher data replaces it
		ok(t, s.SaveCDR(ctx, rec))
		all, _, err := s.SearchCDRs(ctx, CDRQuery{})
		ok(t, err)
		if len(all) != 1 || all[0].Outcome != records.OutcomeHungUp {
			t.Fatalf("after retries: %d rows %+v", len(all), all)
		}

		// A second run of the same call (reset): CDR returns the latest saved.
		s.now = func() time.Time { return time.Now().Add(time.Second) }
		rec2 := cdr("c1", "r2", "main", "+4915100", records.OutcomeCompleted, base.Add(time.Minute))
		ok(t, s.SaveCDR(ctx, rec2))
		if got := must[records.CDR](t)(s.CDR(ctx, "c1")); got.RunID != "r2" {
			t.Fatalf("CDR(c1) run = %q, want r2", got.RunID)
		}

		// Minimal record: nil path/vars/recordings come back empty.
		ok(t, s.SaveCDR(ctx, records.CDR{CallID: "bare", StartedAt: base}))
		bare := must[records.CDR](t)(s.CDR(ctx, "bare"))
		if len(bare.Path) != 0 || bare.Vars != nil || bare.Recordings != nil || !bare.StartedAt.Equal(base) {
			t.Fatalf("bare CDR = %+v", bare)
		}

		if _, err := s.CDR(ctx, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("CDR(unknown) = %v, want ErrNotFound", err)
		}
		if err := s.SaveCDR(ctx, records.CDR{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SaveCDR(no call id) = %v, want ErrInvalid", err)
		}
	})
}

func TestSearchCDRs(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		flows := []string{"sales", "support"}
		outcomes := []string{records.OutcomeCompleted, records.OutcomeHungUp, records.OutcomeFailed}
		var all []records.CDR
		for i := 0; i < 60; i++ {
			// pairs of calls share a start time, to exercise the keyset tie-break
			started := base.Add(time.Duration(i/2) * time.Minute)
			r := cdr(fmt.Sprintf("call-%03d", i), "run", flows[i%2], fmt.Sprintf("+49%d", i%5), outcomes[i%3], started)
			ok(t, s.SaveCDR(ctx, r))
			all = append(all, normCDR(r))
		}
		// expected order: started desc, call_id desc
		expect := func(keep func(records.CDR) bool) []string {
			var ids []string
			for i := len(all) - 1; i >= 0; i-- {
				if keep(all[i]) {
					ids = append(ids, all[i].CallID)
				}
			}
			return ids
		}
		tests := []struct {
			name  string
			q     CDRQuery
			keep  func(records.CDR) bool
			pages int // expected number of pages
		}{
			{"all, default limit", CDRQuery{}, func(records.CDR) bool { return true }, 2},
			{"all, pages of 7", CDRQuery{Limit: 7}, func(records.CDR) bool { return true }, 9},
			{"limit clamps to 1000", CDRQuery{Limit: 5000}, func(records.CDR) bool { return true }, 1},
			{"flow", CDRQuery{Flow: "sales", Limit: 4}, func(r records.CDR) bool { return r.Flow == "sales" }, 8},
			{"from", CDRQuery{From: "+493", Limit: 5}, func(r records.CDR) bool { return r.From == "+493" }, 3},
			{"outcome", CDRQuery{Outcome: records.OutcomeFailed}, func(r records.CDR) bool { return r.Outcome == records.OutcomeFailed }, 1},
			{"time window", CDRQuery{StartedAfter: base.Add(5 * time.Minute), StartedBefore: base.Add(10 * time.Minute), Limit: 3},
				func(r records.CDR) bool {
					return !r.StartedAt.Before(base.Add(5*time.Minute)) && r.StartedAt.Before(base.Add(10*time.Minute))
				}, 4},
			{"combined", CDRQuery{Flow: "support", Outcome: records.OutcomeCompleted, StartedAfter: base.Add(10 * time.Minute)},
				func(r records.CDR) bool {
					return r.Flow == "support" && r.Outcome == records.OutcomeCompleted && !r.StartedAt.Before(base.Add(10*time.Minute))
				}, 1},
			{"nothing matches", CDRQuery{Flow: "ghost"}, func(records.CDR) bool { return false }, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				var got []string
				q := tc.q
				pages := 0
				for {
					page, next, err := s.SearchCDRs(ctx, q)
					ok(t, err)
					pages++
					for _, r := range page {
						got = append(got, r.CallID)
					}
					if next == "" {
						break
					}
					if pages > 100 {
						t.Fatal("pagination does not end")
					}
					q.PageToken = next
				}
				want := expect(tc.keep)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("got  %v\nwant %v", got, want)
				}
				if pages != tc.pages {
					t.Fatalf("%d pages, want %d", pages, tc.pages)
				}
			})
		}
		// full records come back equal
		page, _, err := s.SearchCDRs(ctx, CDRQuery{Limit: 1})
		ok(t, err)
		if !reflect.DeepEqual(page[0], all[len(all)-1]) {
			t.Fatalf("search record:\n got %+v\nwant %+v", page[0], all[len(all)-1])
		}
		if _, _, err := s.SearchCDRs(ctx, CDRQuery{PageToken: "!!garbage"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("bad token: %v, want ErrInvalid", err)
		}
	})
}
