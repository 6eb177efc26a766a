package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultNumber is the catch-all binding: FlowForNumber falls back to it
// when a dialled number has no binding of its own.
const DefaultNumber = "*"

// NumberBinding maps a dialled number (as the media worker sees it, for
// example "+15551234567" or a SIP user part) to the flow that serves it.
type NumberBinding struct {
	Number    string    `json:"number"`
	Flow      string    `json:"flow"`
	UpdatedAt time.Time `json:"updated_at"`
}

// BindNumber makes flow serve number, replacing any earlier binding.
// The flow must exist (published or draft), else ErrNotFound.
// number may be DefaultNumber ("*").
func (s *Store) BindNumber(ctx context.Context, number, flow string) error {
	if err := checkName("number", number); err != nil {
		return fmt.Errorf("bind number: %w", err)
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM flows WHERE name = ?`), flow).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("flow %q: %w", flow, ErrNotFound)
		}
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO numbers (number, flow, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (number) DO UPDATE SET flow = excluded.flow, updated_at = excluded.updated_at`),
			number, flow, s.ts(s.nowUTC()))
		if isForeignKeyViolation(err) {
			return fmt.Errorf("flow %q: %w", flow, ErrNotFound)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("bind number %q to flow %q: %w", number, flow, err)
	}
	return nil
}

// UnbindNumber removes the binding of number (ErrNotFound if there is none).
func (s *Store) UnbindNumber(ctx context.Context, number string) error {
	res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM numbers WHERE number = ?`), number)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("unbind number %q: %w", number, err)
	}
	return nil
}

// FlowForNumber returns the flow serving number: its own binding, else the
// DefaultNumber ("*") binding, else ErrNotFound.
func (s *Store) FlowForNumber(ctx context.Context, number string) (string, error) {
	var flow string
	err := s.db.QueryRowContext(ctx, s.rebind(`SELECT flow FROM numbers WHERE number IN (?, ?)
		ORDER BY CASE WHEN number = ? THEN 1 ELSE 0 END LIMIT 1`),
		strings.TrimSpace(number), DefaultNumber, DefaultNumber).Scan(&flow)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("flow for number %q: %w", number, err)
	}
	return flow, nil
}

// Numbers lists every binding, by number.
func (s *Store) Numbers(ctx context.Context) ([]NumberBinding, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT number, flow, updated_at FROM numbers ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("list numbers: %w", err)
	}
	defer rows.Close()
	out := []NumberBinding{}
	for rows.Next() {
		var b NumberBinding
		if err := rows.Scan(&b.Number, &b.Flow, timeScan{&b.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("list numbers: %w", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list numbers: %w", err)
	}
	return out, nil
}
