package store

import (
	"errors"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestMediaWorkers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		s.now = func() time.Time { return now }

		if ws := must[[]records.MediaWorker](t)(s.MediaWorkers(ctx, 10*time.Second)); len(ws) != 0 {
			t.Fatalf("empty registry: %+v", ws)
		}
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "b", Queue: "media-b", LiveCalls: 3}))
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "a", Queue: "media-a", LiveCalls: 3}))
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "c", Queue: "media-c", LiveCalls: 7}))
		// Upsert: c now has one call.
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "c", Queue: "media-c", LiveCalls: 1}))
		// Stale: seen 30 s ago.
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "old", Queue: "media-old", SeenAt: now.Add(-30 * time.Second)}))
		// Draining: live_calls -1.
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "drain", Queue: "media-drain", LiveCalls: -1}))
		if err := s.ReportMediaWorker(ctx, records.MediaWorker{}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("empty ID: %v, want ErrInvalid", err)
		}
		if err := s.ReportMediaWorker(ctx, records.MediaWorker{ID: "noqueue"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("no queue: %v, want ErrInvalid", err)
		}

		ws := must[[]records.MediaWorker](t)(s.MediaWorkers(ctx, 10*time.Second))
		want := []records.MediaWorker{
			{ID: "c", Queue: "media-c", LiveCalls: 1, SeenAt: now},
			{ID: "a", Queue: "media-a", LiveCalls: 3, SeenAt: now},
			{ID: "b", Queue: "media-b", LiveCalls: 3, SeenAt: now},
		}
		if len(ws) != len(want) {
			t.Fatalf("MediaWorkers = %+v, want %+v", ws, want)
		}
		for i := range want {
			if ws[i] != want[i] {
				t.Fatalf("MediaWorkers[%d] = %+v, want %+v", i, ws[i], want[i])
			}
		}
		// A wider window includes the stale one.
		if ws := must[[]records.MediaWorker](t)(s.MediaWorkers(ctx, time.Minute)); len(ws) != 4 || ws[0].ID != "old" {
			t.Fatalf("MediaWorkers(1m) = %+v", ws)
		}
		// Time passes: nobody is fresh.
		now = now.Add(11 * time.Second)
		if ws := must[[]records.MediaWorker](t)(s.MediaWorkers(ctx, 10*time.Second)); len(ws) != 0 {
			t.Fatalf("after 11s: %+v", ws)
		}
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "a", Queue: "media-a", LiveCalls: 0}))
		ok(t, s.RemoveMediaWorker(ctx, "b"))
		ok(t, s.RemoveMediaWorker(ctx, "never-there"))
		ws = must[[]records.MediaWorker](t)(s.MediaWorkers(ctx, 10*time.Second))
		if len(ws) != 1 || ws[0].ID != "a" || ws[0].LiveCalls != 0 {
			t.Fatalf("after re-report: %+v", ws)
		}
		if _, err := s.MediaWorkers(ctx, 0); err == nil {
			t.Fatal("MediaWorkers(0) succeeded")
		}
	})
}

// A worker that stops reporting is silent; one watchdog claims it, and a
// worker that reported again in the meantime is not claimed.
func TestSilentMediaWorkers(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Now().UTC().Truncate(time.Microsecond)
		s.now = func() time.Time { return now }
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "dead", Queue: "media-dead", LiveCalls: 4, SeenAt: now.Add(-20 * time.Second)}))
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "drained-dead", Queue: "media-dd", LiveCalls: -1, SeenAt: now.Add(-9 * time.Second)}))
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "alive", Queue: "media-alive", LiveCalls: 2}))
		silent := must[[]records.MediaWorker](t)(s.SilentMediaWorkers(ctx, 6*time.Second))
		if len(silent) != 2 || silent[0].ID != "dead" || silent[1].ID != "drained-dead" || silent[0].Queue != "media-dead" {
			t.Fatalf("silent = %+v, want dead then drained-dead", silent)
		}
		if !must[bool](t)(s.ClaimSilentMediaWorker(ctx, silent[0])) {
			t.Fatal("first claim failed")
		}
		if must[bool](t)(s.ClaimSilentMediaWorker(ctx, silent[0])) {
			t.Fatal("a second watchdog claimed the same worker")
		}
		// drained-dead comes back before its claim: it is alive, not claimed.
		ok(t, s.ReportMediaWorker(ctx, records.MediaWorker{ID: "drained-dead", Queue: "media-dd", LiveCalls: 0}))
		if must[bool](t)(s.ClaimSilentMediaWorker(ctx, silent[1])) {
			t.Fatal("claimed a worker that reported again")
		}
		if left := must[[]records.MediaWorker](t)(s.SilentMediaWorkers(ctx, 6*time.Second)); len(left) != 0 {
			t.Fatalf("silent after claims = %+v", left)
		}
		if _, err := s.SilentMediaWorkers(ctx, 0); err == nil {
			t.Fatal("SilentMediaWorkers(0) succeeded")
		}
	})
}
