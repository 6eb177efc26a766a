package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RetentionEvery is how often the retention sweepers run (and once at start).
const RetentionEvery = time.Hour

// KindRecordings is the retention metric's kind for recording files; the
// store's kinds (cdrs, call_events, ...) name the rest.
const KindRecordings = "recordings"

// RetentionDeleted counts what retention deleted, by kind. Processes that
// sweep pass it to their /metrics (RetentionCollectors).
var RetentionDeleted = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "voxflow_retention_deleted_total",
	Help: "Rows and files deleted by retention (retention.cdr_days, retention.recording_days), by kind: cdrs, call_events, chat_transcripts, callbacks, campaign_attempts, recordings.",
}, []string{"kind"})

// RetentionCollectors are the retention metrics, for serveAdmin.
func RetentionCollectors() []prometheus.Collector {
	return []prometheus.Collector{RetentionDeleted}
}

// HistoryPruner deletes call history older than a cutoff (the store does).
type HistoryPruner interface {
	DeleteBefore(ctx context.Context, cutoff time.Time, batch int) (map[string]int, error)
}

// RetentionSweeper deletes what is older than its retention: call history
// (Store, CDRDays) in the engine, recording files (RecordDir,
// RecordingDays) in media workers. Zero days keeps for ever.
type RetentionSweeper struct {
	Store         HistoryPruner
	CDRDays       int
	RecordDir     string
	RecordingDays int
	Logger        *slog.Logger
	// Now is the clock (time.Now when nil); tests inject theirs.
	Now func() time.Time
}

// Enabled says whether the sweeper has anything to do.
func (r *RetentionSweeper) Enabled() bool {
	return (r.Store != nil && r.CDRDays > 0) || (r.RecordDir != "" && r.RecordingDays > 0)
}

// Run sweeps once now, then every RetentionEvery until ctx ends.
func (r *RetentionSweeper) Run(ctx context.Context) {
	t := time.NewTicker(RetentionEvery)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			orDefault(r.Logger).Warn("retention sweep", "error", err)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Sweep deletes once what is past retention and returns the counts by
// kind; it logs them and adds them to RetentionDeleted.
func (r *RetentionSweeper) Sweep(ctx context.Context) (map[string]int, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	out := map[string]int{}
	var errs []error
	if r.Store != nil && r.CDRDays > 0 {
		cutoff := now().Add(-days(r.CDRDays))
		n, err := r.Store.DeleteBefore(ctx, cutoff, 0)
		for k, v := range n {
			out[k] += v
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("call history: %w", err))
		}
	}
	if r.RecordDir != "" && r.RecordingDays > 0 {
		n, err := DeleteFilesBefore(r.RecordDir, now().Add(-days(r.RecordingDays)))
		out[KindRecordings] = n
		if err != nil {
			errs = append(errs, fmt.Errorf("recordings: %w", err))
		}
	}
	r.report(out)
	return out, errors.Join(errs...)
}

func (r *RetentionSweeper) report(out map[string]int) {
	attrs := []any{}
	total := 0
	for k, v := range out {
		if v > 0 {
			RetentionDeleted.WithLabelValues(k).Add(float64(v))
			attrs = append(attrs, k, v)
			total += v
		}
	}
	if total > 0 {
		orDefault(r.Logger).Info("retention: deleted what is past its retention", attrs...)
	}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// DeleteFilesBefore deletes the regular files under dir last modified
// before cutoff and returns how many it deleted. A missing dir is none.
func DeleteFilesBefore(dir string, cutoff time.Time) (int, error) {
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			return nil // gone meanwhile, or young
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", path, err)
		}
		n++
		return nil
	})
	return n, err
}

// StartRetention runs r in the background when it is Enabled; the
// returned stop ends it and waits for a sweep in progress.
func StartRetention(ctx context.Context, r *RetentionSweeper) (stop func()) {
	if !r.Enabled() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
