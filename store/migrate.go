package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"time"
)

// Migrations live in migrations/NNNN_name.sql. Where the SQL differs between
// dialects a migration is written twice, as NNNN_name.sqlite.sql and
// NNNN_name.postgres.sql; the dialect variant wins over a shared file.
// Versions must be contiguous from 1. A migration is never edited once
// released: add a new one.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	file    string
	sql     string
}

var migrationFile = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+?)(?:\.(sqlite|postgres))?\.sql$`)

// migrationsFor returns the ordered migrations of a dialect.
func migrationsFor(d dialect) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	type pick struct {
		m        migration
		specific bool
	}
	byVersion := map[int]pick{}
	for _, e := range entries {
		m := migrationFile.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q: name must be NNNN_name[.sqlite|.postgres].sql", e.Name())
		}
		if m[3] != "" && m[3] != d.String() {
			continue
		}
		v, _ := strconv.Atoi(m[1])
		body, err := migrationFS.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		p := pick{m: migration{version: v, name: m[2], file: e.Name(), sql: string(body)}, specific: m[3] != ""}
		if old, ok := byVersion[v]; ok {
			if old.specific == p.specific || old.m.name != p.m.name {
				return nil, fmt.Errorf("migration %04d defined twice for %s: %s and %s", v, d, old.m.file, p.m.file)
			}
			if old.specific {
				continue
			}
		}
		byVersion[v] = p
	}
	out := make([]migration, 0, len(byVersion))
	for _, p := range byVersion {
		out = append(out, p.m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations for %s are not contiguous: expected %04d, found %s", d, i+1, m.file)
		}
	}
	return out, nil
}

// migrationLockKey is the PostgreSQL advisory lock serialising migrations of
// several voxflow processes starting at once.
const migrationLockKey = 0x766f78666c6f77 // "voxflow"

// migrate brings the schema up to date. Each migration runs in its own
// transaction together with its schema_migrations row, so a crash leaves the
// database at a known version and the next start resumes.
func (s *Store) migrate(ctx context.Context) error {
	migs, err := migrationsFor(s.dialect)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()

	if s.dialect == dialectPostgres {
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrate: create schema_migrations: %w", err)
	}

	var current sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	known := len(migs)
	if int(current.Int64) > known {
		return fmt.Errorf("migrate %s store: database is at schema version %d, this build knows up to %d; upgrade voxflow: %w",
			s.dialect, current.Int64, known, ErrSchemaTooNew)
	}
	for _, m := range migs {
		if m.version <= int(current.Int64) {
			continue
		}
		if err := s.applyMigration(ctx, conn, m); err != nil {
			return fmt.Errorf("migrate: apply %s: %w", m.file, err)
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, conn *sql.Conn, m migration) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var done int
	err = tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&done)
	if err != nil {
		return err
	}
	if done > 0 { // another process applied it meanwhile (SQLite has no advisory lock)
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
		m.version, m.name, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	return tx.Commit()
}

// SchemaVersion returns the schema version this build migrates to.
func SchemaVersion() int {
	m, err := migrationsFor(dialectSQLite)
	if err != nil {
		return 0
	}
	return len(m)
}
