package store

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestDrafts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		// Draft of an unknown flow.
		if _, err := s.Draft(ctx, "main"); !errors.Is(err, ErrNotFound) || !errors.Is(err, ErrNoDraft) {
			t.Fatalf("Draft(unknown) = %v, want ErrNoDraft/ErrNotFound", err)
		}
		d1 := must[Draft](t)(s.SaveDraft(ctx, "main", src("main", 1), ""))
		if d1.Flow != "main" || d1.Source != src("main", 1) || d1.ETag == "" || d1.Revision != 1 || d1.UpdatedAt.IsZero() {
			t.Fatalf("first draft: %+v", d1)
		}
		got := must[Draft](t)(s.Draft(ctx, "main"))
		if got != d1 {
			t.Fatalf("Draft() = %+v, want %+v", got, d1)
		}

		tests := []struct {
			name    string
			source  string
			ifMatch func(cur Draft) string
			wantErr error
			changes bool
		}{
			{"matching etag", src("main", 2), func(c Draft) string { return c.ETag }, nil, true},
			{"quoted http etag", src("main", 3), func(c Draft) string { return `"` + c.ETag + `"` }, nil, true},
			{"weak http etag", src("main", 4), func(c Draft) string { return `W/"` + c.ETag + `"` }, nil, true},
			{"star matches any draft", src("main", 5), func(Draft) string { return "*" }, nil, true},
			{"stale etag", src("main", 6), func(Draft) string { return d1.ETag }, ErrConflict, false},
			{"garbage etag", src("main", 6), func(Draft) string { return "nope" }, ErrConflict, false},
			{"unconditional", src("main", 7), func(Draft) string { return "" }, nil, true},
			{"same source is a no-op", src("main", 7), func(c Draft) string { return c.ETag }, nil, false},
			{"empty source", "  \n", func(Draft) string { return "" }, ErrInvalid, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := must[Draft](t)(s.Draft(ctx, "main"))
				d, err := s.SaveDraft(ctx, "main", tc.source, tc.ifMatch(before))
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("SaveDraft err = %v, want %v", err, tc.wantErr)
				}
				after := must[Draft](t)(s.Draft(ctx, "main"))
				if !tc.changes {
					if after != before {
						t.Fatalf("draft changed: %+v -> %+v", before, after)
					}
					if err == nil && d != before {
						t.Fatalf("no-op save returned %+v, want %+v", d, before)
					}
					return
				}
				if d != after || after.Source != tc.source || after.Revision != before.Revision+1 || after.ETag == before.ETag {
					t.Fatalf("after save: returned %+v, stored %+v, before %+v", d, after, before)
				}
			})
		}

		// If-Match against a flow that has no draft: conflict, nothing created.
		if _, err := s.SaveDraft(ctx, "other", src("other", 1), "1-abc"); !errors.Is(err, ErrConflict) {
			t.Fatalf("SaveDraft(ifMatch, no draft) = %v, want ErrConflict", err)
		}
		if flows := must[[]FlowSummary](t)(s.ListFlows(ctx)); len(flows) != 1 {
			t.Fatalf("conflicting save created a flow: %+v", flows)
		}
		if _, err := s.SaveDraft(ctx, "", "x", ""); !errors.Is(err, ErrInvalid) {
			t.Fatalf("SaveDraft(empty name) = %v, want ErrInvalid", err)
		}

		// DeleteDraft.
		cur := must[Draft](t)(s.Draft(ctx, "main"))
		if err := s.DeleteDraft(ctx, "main", d1.ETag); !errors.Is(err, ErrConflict) {
			t.Fatalf("DeleteDraft(stale) = %v, want ErrConflict", err)
		}
		ok(t, s.DeleteDraft(ctx, "main", cur.ETag))
		if _, err := s.Draft(ctx, "main"); !errors.Is(err, ErrNoDraft) {
			t.Fatalf("Draft after delete = %v, want ErrNoDraft", err)
		}
		if err := s.DeleteDraft(ctx, "main", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("DeleteDraft(no draft) = %v, want ErrNotFound", err)
		}
		if err := s.DeleteDraft(ctx, "ghost", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("DeleteDraft(unknown flow) = %v, want ErrNotFound", err)
		}
		// ETags are never reused after a delete, even for the same source.
		again := must[Draft](t)(s.SaveDraft(ctx, "main", cur.Source, ""))
		if again.ETag == cur.ETag || again.Revision <= cur.Revision {
			t.Fatalf("re-created draft reuses ETag: %+v vs %+v", again, cur)
		}
	})
}

func TestPublish(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		if _, err := s.Publish(ctx, "main", "ann", ""); !errors.Is(err, ErrNoDraft) {
			t.Fatalf("Publish(unknown) = %v, want ErrNoDraft", err)
		}
		if _, err := s.Published(ctx, "main"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Published(unknown) = %v, want ErrNotFound", err)
		}
		if _, err := s.Versions(ctx, "main"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Versions(unknown) = %v, want ErrNotFound", err)
		}

		must[Draft](t)(s.SaveDraft(ctx, "main", src("main", 1), ""))
		if vs := must[[]FlowVersion](t)(s.Versions(ctx, "main")); len(vs) != 0 {
			t.Fatalf("Versions(draft only) = %+v, want empty", vs)
		}
		if fl := must[[]FlowSummary](t)(s.ListFlows(ctx)); len(fl) != 1 || fl[0].LatestVersion != 0 || !fl[0].HasDraft {
			t.Fatalf("ListFlows(draft only) = %+v", fl)
		}

		v1 := must[FlowVersion](t)(s.Publish(ctx, "main", "ann", "first"))
		want := FlowVersion{Flow: "main", Version: 1, Source: src("main", 1), Checksum: Checksum(src("main", 1)),
			PublishedAt: v1.PublishedAt, PublishedBy: "ann", Note: "first"}
		if v1 != want || v1.PublishedAt.IsZero() {
			t.Fatalf("Publish = %+v, want %+v", v1, want)
		}
		if _, err := s.Draft(ctx, "main"); !errors.Is(err, ErrNoDraft) {
			t.Fatalf("draft survives publish: %v", err)
		}
		if _, err := s.Publish(ctx, "main", "ann", ""); !errors.Is(err, ErrNoDraft) {
			t.Fatalf("Publish(no draft) = %v, want ErrNoDraft", err)
		}

		must[Draft](t)(s.SaveDraft(ctx, "main", src("main", 2), ""))
		v2 := must[FlowVersion](t)(s.Publish(ctx, "main", "bob", ""))
		if v2.Version != 2 || v2.Source != src("main", 2) || v2.PublishedBy != "bob" {
			t.Fatalf("second publish = %+v", v2)
		}

		// Publishing a draft identical to the latest: ErrUnchanged, latest returned, draft dropped.
		must[Draft](t)(s.SaveDraft(ctx, "main", src("main", 2), ""))
		same, err := s.Publish(ctx, "main", "bob", "again")
		if !errors.Is(err, ErrUnchanged) || same != v2 {
			t.Fatalf("Publish(unchanged) = %+v, %v; want %+v, ErrUnchanged", same, err, v2)
		}
		if _, err := s.Draft(ctx, "main"); !errors.Is(err, ErrNoDraft) {
			t.Fatalf("unchanged publish kept the draft: %v", err)
		}

		// Reads.
		for _, tc := range []struct {
			v       int
			want    FlowVersion
			wantErr error
		}{{1, v1, nil}, {2, v2, nil}, {3, FlowVersion{}, ErrNotFound}, {0, FlowVersion{}, ErrNotFound}} {
			got, err := s.Version(ctx, "main", tc.v)
			if !errors.Is(err, tc.wantErr) || got != tc.want {
				t.Errorf("Version(%d) = %+v, %v; want %+v, %v", tc.v, got, err, tc.want, tc.wantErr)
			}
		}
		if got := must[FlowVersion](t)(s.Published(ctx, "main")); got != v2 {
			t.Fatalf("Published = %+v, want %+v", got, v2)
		}
		vs := must[[]FlowVersion](t)(s.Versions(ctx, "main"))
		if len(vs) != 2 || vs[0] != v1 || vs[1] != v2 {
			t.Fatalf("Versions = %+v", vs)
		}

		// PublishSource: creates, appends, and is idempotent on the latest source.
		e1 := must[FlowVersion](t)(s.PublishSource(ctx, "example", src("example", 1), "voxflow", "example"))
		if e1.Version != 1 {
			t.Fatalf("PublishSource = %+v", e1)
		}
		if again := must[FlowVersion](t)(s.PublishSource(ctx, "example", src("example", 1), "voxflow", "x")); again != e1 {
			t.Fatalf("PublishSource not idempotent: %+v vs %+v", again, e1)
		}
		e2 := must[FlowVersion](t)(s.PublishSource(ctx, "example", src("example", 2), "voxflow", ""))
		// Source equal to an older (not latest) version is a new version.
		e3 := must[FlowVersion](t)(s.PublishSource(ctx, "example", src("example", 1), "voxflow", ""))
		if e2.Version != 2 || e3.Version != 3 {
			t.Fatalf("PublishSource versions %d, %d; want 2, 3", e2.Version, e3.Version)
		}
		// It leaves a draft alone.
		must[Draft](t)(s.SaveDraft(ctx, "example", src("example", 9), ""))
		must[FlowVersion](t)(s.PublishSource(ctx, "example", src("example", 4), "voxflow", ""))
		if d := must[Draft](t)(s.Draft(ctx, "example")); d.Source != src("example", 9) {
			t.Fatalf("PublishSource touched the draft: %+v", d)
		}
		for _, bad := range []struct{ name, source string }{{"", "x"}, {" x", "x"}, {"x", ""}} {
			if _, err := s.PublishSource(ctx, bad.name, bad.source, "", ""); !errors.Is(err, ErrInvalid) {
				t.Errorf("PublishSource(%q, %q) = %v, want ErrInvalid", bad.name, bad.source, err)
			}
		}

		fl := must[[]FlowSummary](t)(s.ListFlows(ctx))
		if len(fl) != 2 || fl[0].Name != "example" || fl[0].LatestVersion != 4 || !fl[0].HasDraft ||
			fl[1].Name != "main" || fl[1].LatestVersion != 2 || fl[1].HasDraft || fl[1].UpdatedAt.IsZero() {
			t.Fatalf("ListFlows = %+v", fl)
		}
	})
}

func TestRollback(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		for i := 1; i <= 3; i++ {
			must[FlowVersion](t)(s.PublishSource(ctx, "main", src("main", i), "ann", ""))
		}
		must[Draft](t)(s.SaveDraft(ctx, "main", src("main", 99), ""))

		tests := []struct {
			name    string
			flow    string
			to      int
			want    int // new version number; 0 = error
			wantErr error
		}{
			{"to v1", "main", 1, 4, nil},
			{"to v1 again is unchanged", "main", 1, 4, ErrUnchanged},
			{"to v3", "main", 3, 5, nil},
			{"missing version", "main", 42, 0, ErrNotFound},
			{"unknown flow", "ghost", 1, 0, ErrNotFound},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				v, err := s.Rollback(ctx, tc.flow, tc.to, "carol")
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Rollback err = %v, want %v", err, tc.wantErr)
				}
				if v.Version != tc.want {
					t.Fatalf("Rollback version = %d, want %d", v.Version, tc.want)
				}
				if tc.wantErr == nil {
					if v.Source != src("main", tc.to) || v.RollbackOf != tc.to || v.PublishedBy != "carol" ||
						v.Note != fmt.Sprintf("rollback to version %d", tc.to) {
						t.Fatalf("Rollback = %+v", v)
					}
				}
			})
		}
		// History is never rewritten.
		vs := must[[]FlowVersion](t)(s.Versions(ctx, "main"))
		var got []string
		for _, v := range vs {
			got = append(got, strings.TrimPrefix(strings.Split(v.Source, "revision ")[1], ""))
		}
		if len(vs) != 5 || strings.Join(got, ",") != "1\"\n,2\"\n,3\"\n,1\"\n,3\"\n" {
			t.Fatalf("history after rollbacks: %q", got)
		}
		if d := must[Draft](t)(s.Draft(ctx, "main")); d.Source != src("main", 99) {
			t.Fatalf("rollback touched the draft")
		}
	})
}

// TestConcurrentPublish: concurrent publishers never share or skip a version.
func TestConcurrentPublish(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		const writers, each = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					n := w*each + i
					var err error
					if n%2 == 0 {
						_, err = s.PublishSource(ctx, "hot", src("hot", n), fmt.Sprint("w", w), "")
					} else {
						// draft + publish from several goroutines: each publish
						// takes whatever draft is current, or finds none.
						if _, err = s.SaveDraft(ctx, "hot", src("hot", n), ""); err == nil {
							_, err = s.Publish(ctx, "hot", fmt.Sprint("w", w), "")
							if errors.Is(err, ErrNoDraft) {
								err = nil
							}
						}
					}
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		vs := must[[]FlowVersion](t)(s.Versions(ctx, "hot"))
		if len(vs) < writers*each/2 {
			t.Fatalf("only %d versions for %d PublishSource calls", len(vs), writers*each/2)
		}
		seen := map[string]bool{}
		for i, v := range vs {
			if v.Version != i+1 {
				t.Fatalf("versions not 1..N: position %d has version %d", i, v.Version)
			}
			seen[v.Source] = true
		}
		for n := 0; n < writers*each; n += 2 {
			if !seen[src("hot", n)] {
				t.Fatalf("PublishSource of source %d was lost", n)
			}
		}
		if fl := must[[]FlowSummary](t)(s.ListFlows(ctx)); fl[0].LatestVersion != len(vs) {
			t.Fatalf("latest_version %d, have %d versions", fl[0].LatestVersion, len(vs))
		}

		// Optimistic concurrency: of many saves with the same If-Match, exactly one wins.
		base := must[Draft](t)(s.SaveDraft(ctx, "etag", src("etag", 0), ""))
		var (
			mu   sync.Mutex
			wins []string
		)
		var wg2 sync.WaitGroup
		for w := 1; w <= 6; w++ {
			wg2.Add(1)
			go func() {
				defer wg2.Done()
				d, err := s.SaveDraft(ctx, "etag", src("etag", w), base.ETag)
				switch {
				case err == nil:
					mu.Lock()
					wins = append(wins, d.Source)
					mu.Unlock()
				case !errors.Is(err, ErrConflict):
					t.Error(err)
				}
			}()
		}
		wg2.Wait()
		sort.Strings(wins)
		if len(wins) != 1 {
			t.Fatalf("%d concurrent If-Match saves won, want 1", len(wins))
		}
		if d := must[Draft](t)(s.Draft(ctx, "etag")); d.Source != wins[0] {
			t.Fatalf("stored draft is not the winner's")
		}
	})
}
