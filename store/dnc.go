package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/voxflow/voxflow/activities/records"
)

// Do-not-call list limits.
const (
	defaultDNCPage = 100  // ListDNC without a limit
	maxDNCPage     = 1000 // ListDNC at most
	// dncInsertRows is the rows of one INSERT (4 arguments each).
	dncInsertRows = 500
)

// AddDNC puts entries on the do-not-call lists (Campaign "": the global
// list; the campaign need not exist) and returns how many were not on
// them. Numbers are E.164, normalised by the caller (ErrInvalid
// otherwise). An entry already listed keeps its AddedAt and takes a
// non-empty new Reason; a zero AddedAt is now. Of entries repeated in
// entries the first counts.
func (s *Store) AddDNC(ctx context.Context, entries []records.DNCEntry) (added int, err error) {
	now := s.nowUTC()
	type key struct{ number, campaign string }
	seen := make(map[key]bool, len(entries))
	rows := make([][]any, 0, len(entries))
	for i, e := range entries {
		if !e164.MatchString(e.Number) {
			return 0, fmt.Errorf("add do-not-call entries: entries[%d] number %q: %w: must be E.164 (+ and up to 15 digits)",
				i, e.Number, ErrInvalid)
		}
		if k := (key{e.Number, e.Campaign}); !seen[k] {
			seen[k] = true
			if e.AddedAt.IsZero() {
				e.AddedAt = now
			}
			rows = append(rows, []any{e.Number, e.Campaign, e.Reason, micros(normTime(e.AddedAt))})
		}
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		added = 0 // a retried transaction counts again
		for start := 0; start < len(rows); start += dncInsertRows {
			chunk := rows[start:min(start+dncInsertRows, len(rows))]
			n, err := s.upsertDNC(ctx, tx, chunk)
			if err != nil {
				return err
			}
			added += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("add do-not-call entries: %w", err)
	}
	return added, nil
}

// upsertDNC inserts rows (distinct keys) and returns how many were new;
// then it gives the listed ones their new non-empty reasons.
func (s *Store) upsertDNC(ctx context.Context, tx *sql.Tx, rows [][]any) (int, error) {
	values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", len(rows)), ", ")
	flat := make([]any, 0, len(rows)*4)
	for _, r := range rows {
		flat = append(flat, r...)
	}
	insert := `INSERT INTO dnc (number, campaign, reason, added_at) VALUES ` + values
	res, err := tx.ExecContext(ctx, s.rebind(insert+` ON CONFLICT (number, campaign) DO NOTHING`), flat...)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if int(n) < len(rows) { // some were listed
		_, err = tx.ExecContext(ctx, s.rebind(insert+` ON CONFLICT (number, campaign) DO UPDATE SET reason = excluded.reason
			WHERE excluded.reason <> '' AND dnc.reason <> excluded.reason`), flat...)
	}
	return int(n), err
}

// RemoveDNC takes number off the do-not-call list of campaign ("": the
// global list) and reports whether it was on it.
func (s *Store) RemoveDNC(ctx context.Context, number, campaign string) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM dnc WHERE number = ? AND campaign = ?`), number, campaign)
	if err := oneRow(res, err); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("remove %q from the do-not-call list of campaign %q: %w", number, campaign, err)
	}
	return true, nil
}

func scanDNC(row rowScanner) (records.DNCEntry, error) {
	var (
		e     records.DNCEntry
		added int64
	)
	if err := row.Scan(&e.Number, &e.Campaign, &e.Reason, &added); err != nil {
		return records.DNCEntry{}, err
	}
	e.AddedAt = fromMicros(added)
	return e, nil
}

// ListDNC pages through the do-not-call list of campaign ("": the global
// list) by number: the entries after afterNumber ("": from the start),
// limit at a time (default 100, at most 1000).
func (s *Store) ListDNC(ctx context.Context, campaign, afterNumber string, limit int) ([]records.DNCEntry, error) {
	if limit <= 0 {
		limit = defaultDNCPage
	}
	limit = min(limit, maxDNCPage)
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT number, campaign, reason, added_at FROM dnc
		WHERE campaign = ? AND number > ? ORDER BY number LIMIT ?`), campaign, afterNumber, limit)
	if err != nil {
		return nil, fmt.Errorf("list the do-not-call list of campaign %q: %w", campaign, err)
	}
	out, err := collect(rows, scanDNC)
	if err != nil {
		return nil, fmt.Errorf("list the do-not-call list of campaign %q: %w", campaign, err)
	}
	return out, nil
}

// CheckDNC reports whether number is on the global do-not-call list or on
// campaign's, and returns the entry: the global one when on both.
func (s *Store) CheckDNC(ctx context.Context, number, campaign string) (records.DNCEntry, bool, error) {
	e, err := scanDNC(s.db.QueryRowContext(ctx, s.rebind(`SELECT number, campaign, reason, added_at FROM dnc
		WHERE number = ? AND campaign IN ('', ?) ORDER BY campaign LIMIT 1`), number, campaign))
	if errors.Is(err, sql.ErrNoRows) {
		return records.DNCEntry{}, false, nil
	}
	if err != nil {
		return records.DNCEntry{}, false, fmt.Errorf("check %q against the do-not-call lists of campaign %q: %w", number, campaign, err)
	}
	return e, true, nil
}
