package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Draft is the editable, unpublished source of a flow. A flow has at most one.
type Draft struct {
	Flow   string `json:"flow"`
	Source string `json:"source"`
	// ETag identifies this exact draft revision ("<revision>-<sha256 prefix>").
	// Pass it as ifMatch to SaveDraft/DeleteDraft for optimistic concurrency.
	// An ETag is never reused for a flow, even after the draft is deleted.
	ETag      string    `json:"etag"`
	Revision  int       `json:"revision"`
	UpdatedAt time.Time `json:"updated_at"`
}

// FlowVersion is one immutable published version of a flow.
type FlowVersion struct {
	Flow    string `json:"flow"`
	Version int    `json:"version"`
	Source  string `json:"source"`
	// Checksum is the hex SHA-256 of Source.
	Checksum    string    `json:"checksum"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	Note        string    `json:"note,omitempty"`
	// RollbackOf is the version whose source this version republished (0 if none).
	RollbackOf int `json:"rollback_of,omitempty"`
}

// FlowSummary is one row of ListFlows.
type FlowSummary struct {
	Name string `json:"name"`
	// LatestVersion is 0 when the flow was never published (draft only).
	LatestVersion int  `json:"latest_version"`
	HasDraft      bool `json:"has_draft"`
	// UpdatedAt is the last draft change or publish.
	UpdatedAt time.Time `json:"updated_at"`
}

// Checksum is the checksum stored with flow versions: hex SHA-256 of source.
func Checksum(source string) string {
	sum := sha256.Sum256([]byte(source))
	return hex.EncodeToString(sum[:])
}

func makeETag(revision int, checksum string) string {
	return fmt.Sprintf("%d-%s", revision, checksum[:16])
}

// normETag accepts an HTTP-style entity tag (`"x"`, `W/"x"`) as well as the bare value.
func normETag(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "W/")
	return strings.Trim(s, `"`)
}

// draftRow is the draft part of a flows row, read under lock.
type draftRow struct {
	exists    bool // the flows row exists
	source    sql.NullString
	checksum  sql.NullString
	revision  int
	updatedAt time.Time
	latest    int
}

func (r draftRow) hasDraft() bool { return r.source.Valid }

func (r draftRow) draft(name string) Draft {
	return Draft{Flow: name, Source: r.source.String, ETag: makeETag(r.revision, r.checksum.String),
		Revision: r.revision, UpdatedAt: r.updatedAt}
}

// checkIfMatch implements If-Match: "" always matches, "*" matches any
// existing draft, anything else must equal the current draft's ETag.
func (r draftRow) checkIfMatch(ifMatch string) error {
	if ifMatch == "" {
		return nil
	}
	if !r.hasDraft() {
		return fmt.Errorf("%w (If-Match %q but there is no draft)", ErrConflict, ifMatch)
	}
	want := normETag(ifMatch)
	if want == "*" {
		return nil
	}
	if cur := makeETag(r.revision, r.checksum.String); want != cur {
		return fmt.Errorf("%w (If-Match %q, current ETag %q)", ErrConflict, ifMatch, cur)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) readDraftRow(ctx context.Context, q querier, name string, lock bool) (draftRow, error) {
	query := `SELECT draft_source, draft_checksum, draft_revision, draft_updated_at, latest_version FROM flows WHERE name = ?`
	if lock {
		query += s.forUpdate()
	}
	var r draftRow
	err := q.QueryRowContext(ctx, s.rebind(query), name).
		Scan(&r.source, &r.checksum, &r.revision, timeScan{&r.updatedAt}, &r.latest)
	if errors.Is(err, sql.ErrNoRows) {
		return r, nil
	}
	if err != nil {
		return r, err
	}
	r.exists = true
	return r, nil
}

// ensureFlow creates the flows row if missing, then returns it locked.
func (s *Store) ensureFlow(ctx context.Context, tx *sql.Tx, name string) (draftRow, error) {
	now := s.ts(s.nowUTC())
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO flows (name, created_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), name, now, now); err != nil {
		return draftRow{}, err
	}
	return s.readDraftRow(ctx, tx, name, true)
}

// SaveDraft stores source as the draft of flow name, creating the flow if
// needed. ifMatch "" saves unconditionally; otherwise it must be the current
// draft's ETag ("*": any existing draft), else ErrConflict and nothing is
// written. Saving the same source as the current draft changes nothing and
// returns the current draft (same ETag).
func (s *Store) SaveDraft(ctx context.Context, name, source, ifMatch string) (Draft, error) {
	if err := checkName("flow", name); err != nil {
		return Draft{}, fmt.Errorf("save draft: %w", err)
	}
	if strings.TrimSpace(source) == "" {
		return Draft{}, fmt.Errorf("save draft of flow %q: %w: empty source", name, ErrInvalid)
	}
	sum := Checksum(source)
	var out Draft
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := s.ensureFlow(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := r.checkIfMatch(ifMatch); err != nil {
			return err
		}
		if r.hasDraft() && r.checksum.String == sum {
			out = r.draft(name)
			return nil
		}
		now := s.nowUTC()
		rev := r.revision + 1
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE flows SET draft_source = ?, draft_checksum = ?,
			draft_revision = ?, draft_updated_at = ?, updated_at = ? WHERE name = ?`),
			source, sum, rev, s.ts(now), s.ts(now), name); err != nil {
			return err
		}
		out = Draft{Flow: name, Source: source, ETag: makeETag(rev, sum), Revision: rev, UpdatedAt: now}
		return nil
	})
	if err != nil {
		return Draft{}, fmt.Errorf("save draft of flow %q: %w", name, err)
	}
	return out, nil
}

// Draft returns the draft of flow name, or ErrNoDraft (an ErrNotFound).
func (s *Store) Draft(ctx context.Context, name string) (Draft, error) {
	r, err := s.readDraftRow(ctx, s.db, name, false)
	if err == nil && !r.hasDraft() {
		err = ErrNoDraft
	}
	if err != nil {
		return Draft{}, fmt.Errorf("draft of flow %q: %w", name, err)
	}
	return r.draft(name), nil
}

// DeleteDraft discards the draft of flow name (published versions stay).
// ifMatch works as in SaveDraft. No draft: ErrNoDraft.
func (s *Store) DeleteDraft(ctx context.Context, name, ifMatch string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := s.readDraftRow(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if !r.hasDraft() {
			return ErrNoDraft
		}
		if err := r.checkIfMatch(ifMatch); err != nil {
			return err
		}
		return s.clearDraft(ctx, tx, name)
	})
	if err != nil {
		return fmt.Errorf("delete draft of flow %q: %w", name, err)
	}
	return nil
}

func (s *Store) clearDraft(ctx context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(ctx, s.rebind(`UPDATE flows SET draft_source = NULL, draft_checksum = NULL,
		draft_updated_at = NULL, updated_at = ? WHERE name = ?`), s.ts(s.nowUTC()), name)
	return err
}

const versionColumns = `flow, version, source, checksum, published_at, published_by, note, rollback_of`

func scanVersion(row rowScanner) (FlowVersion, error) {
	var v FlowVersion
	err := row.Scan(&v.Flow, &v.Version, &v.Source, &v.Checksum, timeScan{&v.PublishedAt}, &v.PublishedBy, &v.Note, &v.RollbackOf)
	return v, err
}

// publishLocked appends source as version latest+1 of a flow whose row is
// locked in tx. When source equals the latest version it returns that
// version and unchanged=true instead.
func (s *Store) publishLocked(ctx context.Context, tx *sql.Tx, name string, r draftRow, source, by, note string, rollbackOf int) (v FlowVersion, unchanged bool, err error) {
	sum := Checksum(source)
	if r.latest > 0 {
		latest, err := scanVersion(tx.QueryRowContext(ctx, s.rebind(`SELECT `+versionColumns+
			` FROM flow_versions WHERE flow = ? AND version = ?`), name, r.latest))
		if err != nil {
			return v, false, fmt.Errorf("read version %d: %w", r.latest, err)
		}
		if latest.Checksum == sum && latest.Source == source {
			return latest, true, nil
		}
	}
	now := s.nowUTC()
	v = FlowVersion{Flow: name, Version: r.latest + 1, Source: source, Checksum: sum,
		PublishedAt: now, PublishedBy: by, Note: note, RollbackOf: rollbackOf}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO flow_versions (`+versionColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		v.Flow, v.Version, v.Source, v.Checksum, s.ts(now), v.PublishedBy, v.Note, v.RollbackOf); err != nil {
		return v, false, err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE flows SET latest_version = ?, updated_at = ? WHERE name = ?`),
		v.Version, s.ts(now), name); err != nil {
		return v, false, err
	}
	return v, false, nil
}

// Publish publishes the current draft of flow name as the next version and
// removes the draft (a flow "has a draft" only while it holds unpublished
// changes). No draft: ErrNoDraft.
//
// If the draft equals the latest published version, no version is created:
// the draft is still removed (it holds no change) and Publish returns the
// latest version together with ErrUnchanged.
func (s *Store) Publish(ctx context.Context, name, by, note string) (FlowVersion, error) {
	var (
		out       FlowVersion
		unchanged bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := s.readDraftRow(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if !r.hasDraft() {
			return ErrNoDraft
		}
		out, unchanged, err = s.publishLocked(ctx, tx, name, r, r.source.String, by, note, 0)
		if err != nil {
			return err
		}
		return s.clearDraft(ctx, tx, name)
	})
	if err != nil {
		return FlowVersion{}, fmt.Errorf("publish flow %q: %w", name, err)
	}
	if unchanged {
		return out, fmt.Errorf("publish flow %q: %w (version %d)", name, ErrUnchanged, out.Version)
	}
	return out, nil
}

// PublishSource publishes source directly as the next version of flow name,
// creating the flow if needed; a draft, if any, is left alone. It is
// idempotent: when source equals the latest published version, that version
// is returned (nil error) and nothing is created. Used to load example flows
// at startup.
func (s *Store) PublishSource(ctx context.Context, name, source, by, note string) (FlowVersion, error) {
	if err := checkName("flow", name); err != nil {
		return FlowVersion{}, fmt.Errorf("publish flow: %w", err)
	}
	if strings.TrimSpace(source) == "" {
		return FlowVersion{}, fmt.Errorf("publish flow %q: %w: empty source", name, ErrInvalid)
	}
	var out FlowVersion
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := s.ensureFlow(ctx, tx, name)
		if err != nil {
			return err
		}
		out, _, err = s.publishLocked(ctx, tx, name, r, source, by, note, 0)
		return err
	})
	if err != nil {
		return FlowVersion{}, fmt.Errorf("publish flow %q: %w", name, err)
	}
	return out, nil
}

// Rollback publishes the source of an earlier version again, as the next
// version (history is never rewritten); its RollbackOf is version and its
// note "rollback to version N". The draft is left alone. If that source is
// already the latest version, Rollback returns the latest with ErrUnchanged.
func (s *Store) Rollback(ctx context.Context, name string, version int, by string) (FlowVersion, error) {
	var (
		out       FlowVersion
		unchanged bool
	)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		r, err := s.readDraftRow(ctx, tx, name, true)
		if err != nil {
			return err
		}
		if !r.exists {
			return ErrNotFound
		}
		old, err := scanVersion(tx.QueryRowContext(ctx, s.rebind(`SELECT `+versionColumns+
			` FROM flow_versions WHERE flow = ? AND version = ?`), name, version))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("version %d: %w", version, ErrNotFound)
		}
		if err != nil {
			return err
		}
		out, unchanged, err = s.publishLocked(ctx, tx, name, r, old.Source, by,
			fmt.Sprintf("rollback to version %d", version), version)
		return err
	})
	if err != nil {
		return FlowVersion{}, fmt.Errorf("rollback flow %q to version %d: %w", name, version, err)
	}
	if unchanged {
		return out, fmt.Errorf("rollback flow %q to version %d: %w (version %d)", name, version, ErrUnchanged, out.Version)
	}
	return out, nil
}

// Published returns the latest published version of flow name (ErrNotFound if none).
func (s *Store) Published(ctx context.Context, name string) (FlowVersion, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+versionColumns+
		` FROM flow_versions WHERE flow = ? ORDER BY version DESC LIMIT 1`), name))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("no published version: %w", ErrNotFound)
	}
	if err != nil {
		return FlowVersion{}, fmt.Errorf("published flow %q: %w", name, err)
	}
	return v, nil
}

// Version returns version v of flow name (ErrNotFound if missing).
func (s *Store) Version(ctx context.Context, name string, v int) (FlowVersion, error) {
	fv, err := scanVersion(s.db.QueryRowContext(ctx, s.rebind(`SELECT `+versionColumns+
		` FROM flow_versions WHERE flow = ? AND version = ?`), name, v))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return FlowVersion{}, fmt.Errorf("flow %q version %d: %w", name, v, err)
	}
	return fv, nil
}

// Versions returns every published version of flow name, oldest first,
// sources included. A flow with only a draft has none (empty, nil error);
// an unknown flow is ErrNotFound.
func (s *Store) Versions(ctx context.Context, name string) ([]FlowVersion, error) {
	out, err := s.versions(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("versions of flow %q: %w", name, err)
	}
	return out, nil
}

func (s *Store) versions(ctx context.Context, name string) ([]FlowVersion, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT `+versionColumns+
		` FROM flow_versions WHERE flow = ? ORDER BY version`), name)
	if err != nil {
		return nil, err
	}
	out, err := collect(rows, scanVersion)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		r, err := s.readDraftRow(ctx, s.db, name, false)
		if err != nil {
			return nil, err
		}
		if !r.exists {
			return nil, ErrNotFound
		}
	}
	return out, nil
}

// ListFlows lists every flow (published or draft only), by name.
func (s *Store) ListFlows(ctx context.Context) ([]FlowSummary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, latest_version,
		CASE WHEN draft_source IS NULL THEN 0 ELSE 1 END, updated_at FROM flows ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	defer rows.Close()
	out := []FlowSummary{}
	for rows.Next() {
		var (
			f     FlowSummary
			draft int
		)
		if err := rows.Scan(&f.Name, &f.LatestVersion, &draft, timeScan{&f.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("list flows: %w", err)
		}
		f.HasDraft = draft == 1
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list flows: %w", err)
	}
	return out, nil
}
