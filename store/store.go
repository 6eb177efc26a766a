// Package store persists voxflow's durable configuration and history: contact
// flows with immutable published versions, dialled-number -> flow bindings,
// and call detail records (CDRs).
//
// One Store type runs over database/sql with a small dialect switch:
// SQLite (pure Go, modernc.org/sqlite) by default and PostgreSQL (pgx) for
// production. The schema is created and upgraded by embedded, versioned
// migrations when the store is opened.
//
// Conventions shared by every method:
//   - Times are stored in UTC at microsecond precision (PostgreSQL's
//     resolution; SQLite uses the same so both dialects behave alike). Values
//     read back are UTC and equal to what was written, truncated to the
//     microsecond.
//   - Errors are wrapped with context; test them with errors.Is against the
//     sentinels below (ErrNotFound, ErrConflict, ...).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors. Methods wrap them; match with errors.Is.
var (
	// ErrNotFound: the flow, version, draft, number binding or CDR does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoDraft: Publish or DeleteDraft found no draft. It matches ErrNotFound too.
	ErrNoDraft = fmt.Errorf("no draft: %w", ErrNotFound)
	// ErrConflict: an If-Match ETag did not match the current draft; nothing was written.
	ErrConflict = errors.New("conflict: the draft was changed by someone else")
	// ErrUnchanged: Publish or Rollback found the source identical to the latest
	// published version, so no new version was created. The latest version is
	// returned alongside this error.
	ErrUnchanged = errors.New("unchanged: source equals the latest published version")
	// ErrInvalid: an argument is malformed (empty name, bad page token, ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrSchemaTooNew: the database was migrated by a newer voxflow than this one.
	ErrSchemaTooNew = errors.New("database schema is newer than this voxflow build supports")
)

type dialect int

const (
	dialectSQLite dialect = iota
	dialectPostgres
)

func (d dialect) String() string {
	if d == dialectPostgres {
		return "postgres"
	}
	return "sqlite"
}

// Store is a handle to the voxflow database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect dialect
	now     func() time.Time
}

// Open connects to the database named by dsn and migrates its schema.
//
// DSN forms:
//   - "sqlite:///abs/path/voxflow.db", "sqlite://rel/path.db" or a plain file
//     path: SQLite. The parent directory is created; WAL, foreign keys and a
//     busy timeout are enabled. Extra driver parameters may follow a "?".
//   - "postgres://user:pass@host:port/db?sslmode=disable" (or "postgresql://"):
//     PostgreSQL through pgx. Any pgx connection parameter may be given,
//     for example search_path.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var (
		s   = &Store{now: time.Now}
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s.dialect = dialectPostgres
		s.db, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.db.SetMaxOpenConns(20)
		s.db.SetMaxIdleConns(5)
		s.db.SetConnMaxIdleTime(5 * time.Minute)
	default:
		s.dialect = dialectSQLite
		driverDSN, err := sqliteDSN(dsn)
		if err != nil {
			return nil, err
		}
		s.db, err = sql.Open("sqlite", driverDSN)
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		// SQLite has one writer at a time; a few connections serve concurrent readers (WAL).
		s.db.SetMaxOpenConns(8)
	}
	// The first connection to a new SQLite file turns on WAL, which needs
	// the file to itself: processes opening it at once see SQLITE_BUSY
	// (busy_timeout does not cover it), so opening is retried like a write.
	if err := s.firstPing(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("open %s store: %w", s.dialect, err)
	}
	if err := s.migrate(ctx); err != nil {
		s.db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteDSN turns a voxflow SQLite DSN into a modernc.org/sqlite one.
func sqliteDSN(dsn string) (string, error) {
	path := strings.TrimPrefix(dsn, "sqlite://")
	path = strings.TrimPrefix(path, "file:")
	query := ""
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if path == "" {
		return "", fmt.Errorf("open sqlite %q: %w: empty file path", dsn, ErrInvalid)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("open sqlite %q: %w", dsn, err)
		}
	}
	params := "_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=1&_synchronous=NORMAL&_txlock=immediate"
	if query != "" {
		params += "&" + query
	}
	return path + "?" + params, nil
}

// Close closes the database.
func (s *Store) Close() error {
	return s.db.Close()
}

// rebind rewrites "?" placeholders to "$n" for PostgreSQL. Queries in this
// package never contain a literal '?'.
func (s *Store) rebind(q string) string {
	if s.dialect != dialectPostgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// forUpdate is the row-locking suffix of a SELECT inside a write transaction.
// SQLite needs none: its transactions begin IMMEDIATE (one writer at a time).
func (s *Store) forUpdate() string {
	if s.dialect == dialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// sqliteTimeLayout is fixed width, so text order equals time order.
const sqliteTimeLayout = "2006-01-02T15:04:05.000000Z"

// normTime is how every time is stored: UTC, microsecond precision.
func normTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// ts encodes a time as a query argument.
func (s *Store) ts(t time.Time) any {
	t = normTime(t)
	if s.dialect == dialectSQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

func (s *Store) nowUTC() time.Time { return normTime(s.now()) }

// timeScan scans a timestamp column of either dialect into a UTC time.
// NULL scans to the zero time.
type timeScan struct{ t *time.Time }

func (ts timeScan) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*ts.t = time.Time{}
	case time.Time:
		*ts.t = v.UTC()
	case string:
		return ts.parse(v)
	case []byte:
		return ts.parse(string(v))
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

func (ts timeScan) parse(v string) error {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return fmt.Errorf("store: bad stored time %q: %w", v, err)
	}
	*ts.t = t.UTC()
	return nil
}

// rowScanner is a *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(rowScanner) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// inTx runs fn in a transaction, committing on success. Transient failures
// (serialization failures, deadlocks, a busy SQLite database, or a unique
// violation from a concurrent insert) are retried a few times with backoff;
// fn must therefore be safe to run again.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return s.retry(ctx, func() error { return s.tryTx(ctx, fn) })
}

// openTimeout bounds the first connection when the caller set no
// deadline: a server that accepts and never answers (a black-holed port)
// is an error at start, not a hang.
const openTimeout = 15 * time.Second

// firstPing connects once, retried like a write (see Open).
func (s *Store) firstPing(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, openTimeout)
		defer cancel()
	}
	return s.retry(ctx, func() error { return s.db.PingContext(ctx) })
}

// retry runs attempt until it succeeds or fails with an error that is not
// retryable, up to 8 times with growing pauses (about 0.7 s in all).
func (s *Store) retry(ctx context.Context, attempt func() error) error {
	const attempts = 8
	var err error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(time.Duration(i*i) * 5 * time.Millisecond):
			}
		}
		err = attempt()
		if err == nil || !s.retryable(err) {
			return err
		}
	}
	return err
}

func (s *Store) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *Store) retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
			return true
		}
		return false
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		switch sqErr.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
		return sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	return false
}

// isForeignKeyViolation reports a foreign key failure in either dialect.
func isForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var sqErr *sqlite.Error
	return errors.As(err, &sqErr) && sqErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func checkName(kind, name string) error {
	if strings.TrimSpace(name) == "" || name != strings.TrimSpace(name) {
		return fmt.Errorf("%w: %s name %q must be non-empty without surrounding spaces", ErrInvalid, kind, name)
	}
	return nil
}
