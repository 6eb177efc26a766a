package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestDNC(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }
		t0 := now.Add(-24 * time.Hour)

		added := must[int](t)(s.AddDNC(ctx, []records.DNCEntry{
			{Number: "+15550001", Reason: "asked", AddedAt: t0},           // global
			{Number: "+15550002", Campaign: "spring", Reason: "asked"},    // spring's; AddedAt now
			{Number: "+15550003", Campaign: "spring"},                     // spring's
			{Number: "+15550003"},                                         // and global
			{Number: "+15550002", Campaign: "spring", Reason: "repeated"}, // repeated in the call: the first counts
		}))
		if added != 4 {
			t.Fatalf("added %d, want 4", added)
		}
		// Again: nothing new; a new reason replaces the old, AddedAt stays.
		now = now.Add(time.Hour)
		added = must[int](t)(s.AddDNC(ctx, []records.DNCEntry{
			{Number: "+15550001", Reason: "lawyer"},
			{Number: "+15550002", Campaign: "spring"}, // no reason: keeps "asked"
			{Number: "+15550004", Campaign: "autumn"},
		}))
		if added != 1 {
			t.Fatalf("second AddDNC added %d, want 1", added)
		}

		g1 := records.DNCEntry{Number: "+15550001", Reason: "lawyer", AddedAt: t0}
		g3 := records.DNCEntry{Number: "+15550003", AddedAt: now.Add(-time.Hour)}
		s2 := records.DNCEntry{Number: "+15550002", Campaign: "spring", Reason: "asked", AddedAt: now.Add(-time.Hour)}
		s3 := records.DNCEntry{Number: "+15550003", Campaign: "spring", AddedAt: now.Add(-time.Hour)}
		for _, tc := range []struct {
			number, campaign string
			want             records.DNCEntry
			found            bool
		}{
			{"+15550001", "spring", g1, true}, // global applies to every campaign
			{"+15550001", "", g1, true},
			{"+15550002", "spring", s2, true},
			{"+15550002", "autumn", records.DNCEntry{}, false}, // spring's only
			{"+15550002", "", records.DNCEntry{}, false},
			{"+15550003", "spring", g3, true}, // on both: the global one
			{"+15550009", "spring", records.DNCEntry{}, false},
		} {
			got, found, err := s.CheckDNC(ctx, tc.number, tc.campaign)
			ok(t, err)
			if found != tc.found || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("CheckDNC(%s, %q) = %+v, %v; want %+v, %v", tc.number, tc.campaign, got, found, tc.want, tc.found)
			}
		}

		for _, tc := range []struct {
			campaign, after string
			limit           int
			want            []records.DNCEntry
		}{
			{"", "", 0, []records.DNCEntry{g1, g3}},
			{"spring", "", 0, []records.DNCEntry{s2, s3}},
			{"spring", "", 1, []records.DNCEntry{s2}},
			{"spring", "+15550002", 1, []records.DNCEntry{s3}},
			{"spring", "+15550003", 10, []records.DNCEntry{}},
			{"nope", "", 10, []records.DNCEntry{}},
		} {
			if got := must[[]records.DNCEntry](t)(s.ListDNC(ctx, tc.campaign, tc.after, tc.limit)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ListDNC(%q, %q, %d) = %+v, want %+v", tc.campaign, tc.after, tc.limit, got, tc.want)
			}
		}

		for _, tc := range []struct {
			number, campaign string
			removed          bool
		}{
			{"+15550003", "", true},
			{"+15550003", "", false},
			{"+15550002", "", false}, // spring's, not global
			{"+15550002", "spring", true},
		} {
			if got := must[bool](t)(s.RemoveDNC(ctx, tc.number, tc.campaign)); got != tc.removed {
				t.Errorf("RemoveDNC(%s, %q) = %v, want %v", tc.number, tc.campaign, got, tc.removed)
			}
		}
		// +15550003 is still on spring's list.
		if got, found := must2(t)(s.CheckDNC(ctx, "+15550003", "spring")); !found || got != s3 {
			t.Errorf("after removing the global entry: %+v, %v; want spring's", got, found)
		}

		_, err := s.AddDNC(ctx, []records.DNCEntry{{Number: "+15550005"}, {Number: "0155 5"}})
		wantErr(t, err, ErrInvalid, `add do-not-call entries: entries[1] number "0155 5": invalid argument: must be E.164 (+ and up to 15 digits)`)
		if _, found := must2(t)(s.CheckDNC(ctx, "+15550005", "")); found {
			t.Error("a refused AddDNC added an entry")
		}
	})
}

// must2 unwraps CheckDNC's results.
func must2(t *testing.T) func(e records.DNCEntry, found bool, err error) (records.DNCEntry, bool) {
	return func(e records.DNCEntry, found bool, err error) (records.DNCEntry, bool) {
		t.Helper()
		ok(t, err)
		return e, found
	}
}
