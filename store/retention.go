package store

import (
	"context"
	"fmt"
	"time"
)

// DefaultRetentionBatch is how many rows one retention DELETE removes:
// small enough that no statement holds the database for long (SQLite has
// one writer), large enough that a day's calls go in a few statements.
const DefaultRetentionBatch = 500

// Retention kinds: what DeleteBefore counts.
const (
	KindCDRs            = "cdrs"
	KindCallEvents      = "call_events"
	KindChatTranscripts = "chat_transcripts"
	KindCallbacks       = "callbacks"
	KindAttempts        = "campaign_attempts"
)

// retentionTable says how old rows of one table are found: by a time
// column older than the cutoff (cond), in the unit of the column.
type retentionTable struct {
	kind, table, cond string
	micros            bool // the column is Unix microseconds, else a store time
}

// retentionTables are the call history tables, each aged by its own time:
// a CDR by when the call started, an event or transcript by when it was
// written, a finished callback and a finished dial attempt by when they
// ended. Scheduled callbacks and unfinished attempts are never aged out.
var retentionTables = []retentionTable{
	{KindCDRs, "cdrs", "started_at < ?", false},
	{KindCallEvents, "call_events", "at < ?", true},
	{KindChatTranscripts, "chat_transcripts", "saved_at < ?", true},
	{KindCallbacks, "callbacks", "state IN ('done', 'failed', 'cancelled') AND updated_at < ?", true},
	{KindAttempts, "campaign_attempts", "ended_at > 0 AND ended_at < ?", true},
}

// DeleteBefore deletes the call history older than cutoff: CDRs, call
// events, chat transcripts, finished callbacks and finished campaign
// attempts, batch rows per statement (DefaultRetentionBatch when <= 0),
// each statement its own transaction. It returns the rows deleted per
// kind (KindCDRs, ...), also when it stops early on an error or ctx.
func (s *Store) DeleteBefore(ctx context.Context, cutoff time.Time, batch int) (map[string]int, error) {
	if batch <= 0 {
		batch = DefaultRetentionBatch
	}
	out := make(map[string]int, len(retentionTables))
	for _, t := range retentionTables {
		var arg any = s.ts(cutoff)
		if t.micros {
			arg = cutoff.UnixMicro()
		}
		n, err := s.deleteBatches(ctx, t.table, t.cond, batch, arg)
		out[t.kind] = n
		if err != nil {
			return out, fmt.Errorf("delete %s before %s: %w", t.kind, cutoff.UTC().Format(time.RFC3339), err)
		}
	}
	return out, nil
}

// rowKey is the physical row identity used to delete a bounded batch:
// neither dialect has DELETE ... LIMIT in every build.
func (s *Store) rowKey() string {
	if s.dialect == dialectPostgres {
		return "ctid"
	}
	return "rowid"
}

// deleteBatches deletes the rows of table matching cond, batch at a time,
// until a statement deletes fewer than batch rows.
func (s *Store) deleteBatches(ctx context.Context, table, cond string, batch int, args ...any) (int, error) {
	key := s.rowKey()
	q := s.rebind(fmt.Sprintf(`DELETE FROM %s WHERE %s IN (SELECT %s FROM %s WHERE %s LIMIT %d)`,
		table, key, key, table, cond, batch))
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int64
		err := s.retry(ctx, func() error {
			res, err := s.db.ExecContext(ctx, q, args...)
			if err != nil {
				return err
			}
			n, err = res.RowsAffected()
			return err
		})
		if err != nil {
			return total, err
		}
		total += int(n)
		if n < int64(batch) {
			return total, nil
		}
	}
}
