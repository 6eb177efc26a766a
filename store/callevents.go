package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/voxflow/voxflow/activities/records"
)

// AddCallEvent records something a person did to a call (a supervisor's
// listen, whisper, barge or leave). Events are only ever added.
func (s *Store) AddCallEvent(ctx context.Context, e records.CallEvent) error {
	if strings.TrimSpace(e.CallID) == "" || strings.TrimSpace(e.Actor) == "" || strings.TrimSpace(e.Action) == "" {
		return fmt.Errorf("add call event %+v: %w: call, actor and action are required", e, ErrInvalid)
	}
	at := e.At
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO call_events (call_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)`),
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
