package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one operator's or admin's action (table audit_log of
// migration 0011). Package designerapi and the CLI write them; the store
// keeps what it is given.
type AuditEntry struct {
	// ID is set by AddAudit when empty.
	ID string
	At time.Time
	// Actor is a username, "key:<name>" (with the key's ID in Details) or
	// "<os user>@<host>" for the CLI.
	Actor string
	Role  string
	// Via is "session", "key" or "cli".
	Via    string
	Source string // the caller's IP address, when known
	Action string // e.g. "flow.publish", "user.create", "signin.failure"
	Target string // what was acted on: a flow, number, call ID, username...
	// Details is a JSON object, without secrets ("{}" when empty).
	Details string
}

// AuditFilter narrows AuditLog. Zero fields match everything.
type AuditFilter struct {
	Actor, Action, Target string
	Since, Until          time.Time // At >= Since, At < Until
	// Limit bounds the page (default and most 500).
	Limit int
	// Before continues a listing: entries strictly older than this
	// position (the last entry of the previous page).
	BeforeAt time.Time
	BeforeID string
}

// MaxAuditPage is the largest page AuditLog returns.
const MaxAuditPage = 500

// AddAudit writes an entry. It fails with ErrInvalid without an actor or
// action.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Actor == "" || e.Action == "" {
		return e, fmt.Errorf("add audit entry: %w: actor and action are required", ErrInvalid)
	}
	if e.ID == "" {
		b := make([]byte, 9)
		if _, err := rand.Read(b); err != nil {
			return e, fmt.Errorf("add audit entry: %w", err)
		}
		e.ID = hex.EncodeToString(b)
	}
	if e.At.IsZero() {
		e.At = s.nowUTC()
	}
	e.At = normTime(e.At)
	if e.Details == "" {
		e.Details = "{}"
	}
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO audit_log (id, at, actor, role, via, source, action, target, details)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), e.ID, micros(e.At), e.Actor, e.Role, e.Via, e.Source, e.Action, e.Target, e.Details)
	if err != nil {
		return e, fmt.Errorf("add audit entry %s: %w", e.Action, err)
	}
	return e, nil
}

// AuditLog lists entries newest first (ties by ID, descending).
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) { where, args = append(where, cond), append(args, v) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		add("at >= ?", micros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", micros(f.Until))
	}
	if !f.BeforeAt.IsZero() {
		where = append(where, "(at < ? OR (at = ? AND id < ?))")
		args = append(args, micros(f.BeforeAt), micros(f.BeforeAt), f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > MaxAuditPage {
		f.Limit = MaxAuditPage
	}
	q := `SELECT id, at, actor, role, via, source, action, target, details FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += fmt.Sprintf(" ORDER BY at DESC, id DESC LIMIT %d", f.Limit)
	rows, err := s.db.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	out, err := collect(rows, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return out, nil
}

func scanAudit(row rowScanner) (AuditEntry, error) {
	var (
		e  AuditEntry
		at int64
	)
	if err := row.Scan(&e.ID, &at, &e.Actor, &e.Role, &e.Via, &e.Source, &e.Action, &e.Target, &e.Details); err != nil {
		return AuditEntry{}, err
	}
	e.At = fromMicros(at)
	return e, nil
}
