package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// ReportMediaWorker records that a media worker is alive with w.LiveCalls
// calls (upsert by w.ID). A zero w.SeenAt means now; a negative LiveCalls
// marks the worker unavailable (draining or closed): MediaWorkers leaves it
// out.
func (s *Store) ReportMediaWorker(ctx context.Context, w records.MediaWorker) error {
	if err := checkName("media worker", w.ID); err != nil {
		return fmt.Errorf("report media worker: %w", err)
	}
	if w.Queue == "" {
		return fmt.Errorf("report media worker %q: no task queue: %w", w.ID, ErrInvalid)
	}
	seen := w.SeenAt
	if seen.IsZero() {
		seen = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO media_workers (id, queue, live_calls, seen_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, live_calls = excluded.live_calls, seen_at = excluded.seen_at`),
		w.ID, w.Queue, w.LiveCalls, seen.UTC().UnixMicro())
	if err != nil {
		return fmt.Errorf("report media worker %q: %w", w.ID, err)
	}
	return nil
}

// RemoveMediaWorker deletes a worker's row (on a clean shutdown). Removing
// an unknown worker is not an error.
func (s *Store) RemoveMediaWorker(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM media_workers WHERE id = ?`), id); err != nil {
		return fmt.Errorf("remove media worker %q: %w", id, err)
	}
	return nil
}

// MediaWorkers lists the available media workers seen within freshWithin
// (live_calls >= 0), least loaded first, ties by ID.
func (s *Store) MediaWorkers(ctx context.Context, freshWithin time.Duration) ([]records.MediaWorker, error) {
	if freshWithin <= 0 {
		return nil, errors.New("media workers: freshWithin must be positive")
	}
	cutoff := s.now().Add(-freshWithin).UTC().UnixMicro()
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, queue, live_calls, seen_at FROM media_workers
		WHERE seen_at >= ? AND live_calls >= 0 ORDER BY live_calls, id`), cutoff)
	if err != nil {
		return nil, fmt.Errorf("list media workers: %w", err)
	}
	out, err := collect(rows, scanMediaWorker)
	if err != nil {
		return nil, fmt.Errorf("list media workers: %w", err)
	}
	return out, nil
}

// SilentMediaWorkers lists the workers not seen for longer than silentFor
// (their process or host died without leaving the registry), oldest first.
func (s *Store) SilentMediaWorkers(ctx context.Context, silentFor time.Duration) ([]records.MediaWorker, error) {
	if silentFor <= 0 {
		return nil, errors.New("silent media workers: silentFor must be positive")
	}
	cutoff := s.now().Add(-silentFor).UTC().UnixMicro()
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT id, queue, live_calls, seen_at FROM media_workers
		WHERE seen_at < ? ORDER BY seen_at, id`), cutoff)
	if err != nil {
		return nil, fmt.Errorf("list silent media workers: %w", err)
	}
	out, err := collect(rows, scanMediaWorker)
	if err != nil {
		return nil, fmt.Errorf("list silent media workers: %w", err)
	}
	return out, nil
}

// ClaimSilentMediaWorker removes w's row if it is still as listed (not
// seen since), and reports whether this caller removed it: of several
// watchdogs finding the same dead worker, one claims it.
func (s *Store) ClaimSilentMediaWorker(ctx context.Context, w records.MediaWorker) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM media_workers WHERE id = ? AND seen_at = ?`),
		w.ID, w.SeenAt.UTC().UnixMicro())
	if err != nil {
		return false, fmt.Errorf("claim media worker %q: %w", w.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim media worker %q: %w", w.ID, err)
	}
	return n == 1, nil
}

func scanMediaWorker(row rowScanner) (records.MediaWorker, error) {
	var w records.MediaWorker
	var seen int64
	if err := row.Scan(&w.ID, &w.Queue, &w.LiveCalls, &seen); err != nil {
		return w, err
	}
	w.SeenAt = time.UnixMicro(seen).UTC()
	return w, nil
}
