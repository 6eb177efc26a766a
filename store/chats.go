package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/voxflow/voxflow/activities/records"
)

// SaveChatTranscript stores a web chat's transcript, replacing any saved
// before for the call (the chat saves the whole conversation when it
// ends). Times are normalised to UTC microseconds. CDR returns it with the
// call's record, whichever of the two was saved first.
func (s *Store) SaveChatTranscript(ctx context.Context, callID string, lines []records.ChatLine) error {
	if strings.TrimSpace(callID) == "" {
		return fmt.Errorf("save chat transcript: %w: empty call_id", ErrInvalid)
	}
	norm := make([]records.ChatLine, len(lines))
	for i, l := range lines {
		l.At = normTime(l.At)
		norm[i] = l
	}
	b, err := json.Marshal(norm)
	if err != nil {
		return fmt.Errorf("save chat transcript of %q: %w", callID, err)
	}
	_, err = s.db.ExecContext(ctx, s.rebind(`INSERT INTO chat_transcripts (call_id, lines, saved_at) VALUES (?, ?, ?)
		ON CONFLICT (call_id) DO UPDATE SET lines = excluded.lines, saved_at = excluded.saved_at`),
		callID, string(b), micros(s.nowUTC()))
	if err != nil {
		return fmt.Errorf("save chat transcript of %q: %w", callID, err)
	}
	return nil
}

// ChatTranscript returns a call's chat transcript, oldest first; nil (and
// no error) when the call saved none.
func (s *Store) ChatTranscript(ctx context.Context, callID string) ([]records.ChatLine, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT lines FROM chat_transcripts WHERE call_id = ?`), callID).Scan(jsonScan{&b})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("chat transcript of %q: %w", callID, err)
	}
	var lines []records.ChatLine
	if err := json.Unmarshal(b, &lines); err != nil {
		return nil, fmt.Errorf("chat transcript of %q: %w", callID, err)
	}
	for i := range lines { // JSON keeps the zone as an offset; hand back UTC
		lines[i].At = lines[i].At.UTC()
	}
	return lines, nil
}
