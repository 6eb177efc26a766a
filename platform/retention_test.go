package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

func TestRetentionSweeper(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for id, age := range map[string]time.Duration{"old": 31 * 24 * time.Hour, "young": 29 * 24 * time.Hour} {
		at := now.Add(-age)
		if err := s.SaveCDR(ctx, records.CDR{CallID: id, RunID: "r", WorkflowID: "call-" + id, Flow: "f", From: "+1555", To: "+1666",
			Channel: "sip", StartedAt: at, EndedAt: at, Outcome: "completed"}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	files := map[string]time.Duration{"a/old.wav": 8 * 24 * time.Hour, "young.wav": 6 * 24 * time.Hour}
	for name, age := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("RIFF"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	before := testutil.ToFloat64(RetentionDeleted.WithLabelValues("cdrs"))
	r := &RetentionSweeper{Store: s, CDRDays: 30, RecordDir: dir, RecordingDays: 7, Now: func() time.Time { return now }}
	got, err := r.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{store.KindCDRs: 1, store.KindCallEvents: 0, store.KindChatTranscripts: 0, store.KindCallbacks: 0,
		store.KindAttempts: 0, KindRecordings: 1}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sweep = %v, want %v", got, want)
	}
	if _, err := s.CDR(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old CDR: %v, want ErrNotFound", err)
	}
	if _, err := s.CDR(ctx, "young"); err != nil {
		t.Fatalf("young CDR: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a/old.wav")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old recording: %v, want it gone", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "young.wav")); err != nil {
		t.Fatalf("young recording: %v", err)
	}
	if d := testutil.ToFloat64(RetentionDeleted.WithLabelValues("cdrs")) - before; d != 1 {
		t.Fatalf("voxflow_retention_deleted_total{kind=cdrs} rose by %v, want 1", d)
	}
	if (&RetentionSweeper{Store: s, RecordDir: dir}).Enabled() {
		t.Fatal("a sweeper with 0 days is enabled")
	}
}
