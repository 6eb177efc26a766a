package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// AddCallEvent records something done to a call besides the flow: a
// supervisor's listen, whisper, barge or leave, or an alert the engine
// raised (actor "ai"). Events are only ever added, once each: adding one
// again with the same call, time (to the microsecond), actor and action,
// as a retried activity does, changes nothing.
func (s *Store) AddCallEvent(ctx context.Context, e records.CallEvent) error {
	if strings.TrimSpace(e.CallID) == "" || strings.TrimSpace(e.Actor) == "" || strings.TrimSpace(e.Action) == "" {
		return fmt.Errorf("add call event %+v: %w: call, actor and action are required", e, ErrInvalid)
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO call_events (call_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (call_id, at, actor, action) DO NOTHING`),
		e.CallID, micros(at.UTC()), e.Actor, e.Action, e.Detail)
	if err != nil {
		return fmt.Errorf("add call event of call %q: %w", e.CallID, err)
	}
	return nil
}

// CallEvents returns a call's events, oldest first.
func (s *Store) CallEvents(ctx context.Context, callID string) ([]records.CallEvent, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT at, actor, action, detail FROM call_events WHERE call_id = ? ORDER BY at`), callID)
	if err != nil {
		return nil, fmt.Errorf("call events of %q: %w", callID, err)
	}
	defer rows.Close()
	var out []records.CallEvent
	for rows.Next() {
		var at int64
		e := records.CallEvent{CallID: callID}
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("call events of %q: %w", callID, err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("call events of %q: %w", callID, err)
	}
	return out, nil
}

// CallEventQuery selects RecentCallEvents. Zero fields do not filter.
type CallEventQuery struct {
	Action string    // exact
	Since  time.Time // inclusive
	// Open keeps the events of calls that have no call record yet: calls
	// still running (or whose record is being written).
	Open bool
	// Limit is the most events returned: default 100, at most 1000.
	Limit int
}

const (
	defaultEventLimit = 100
	maxEventLimit     = 1000
)

// RecentCallEvents returns the events of every call matching q, newest
// first (ties by call ID).
func (s *Store) RecentCallEvents(ctx context.Context, q CallEventQuery) ([]records.CallEvent, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = defaultEventLimit
	}
	limit = min(limit, maxEventLimit)
	query := `SELECT call_id, at, actor, action, detail FROM call_events e WHERE at >= ?`
	args := []any{micros(q.Since.UTC())}
	if q.Action != "" {
		query += ` AND action = ?`
		args = append(args, q.Action)
	}
	if q.Open {
		query += ` AND NOT EXISTS (SELECT 1 FROM cdrs c WHERE c.call_id = e.call_id)`
	}
	query += ` ORDER BY at DESC, call_id DESC LIMIT ?`
	rows, err := s.db.QueryContext(ctx, s.rebind(query), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("recent call events: %w", err)
	}
	out, err := collect(rows, func(r rowScanner) (records.CallEvent, error) {
		var (
			e  records.CallEvent
			at int64
		)
		err := r.Scan(&e.CallID, &at, &e.Actor, &e.Action, &e.Detail)
		e.At = fromMicros(at)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("recent call events: %w", err)
	}
	return out, nil
}
