package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestSQLiteDSN(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		dsn      string
		wantPath string
		wantExtr string
		wantErr  bool
	}{
		{"sqlite://" + dir + "/a/voxflow.db", dir + "/a/voxflow.db", "", false},
		{dir + "/b/plain.db", dir + "/b/plain.db", "", false},
		{"sqlite://" + dir + "/c.db?_cache_size=-2000", dir + "/c.db", "&_cache_size=-2000", false},
		{"sqlite://", "", "", true},
	}
	for _, tc := range tests {
		got, err := sqliteDSN(tc.dsn)
		if (err != nil) != tc.wantErr {
			t.Fatalf("sqliteDSN(%q) err = %v", tc.dsn, err)
		}
		if err != nil {
			continue
		}
		path, params, _ := strings.Cut(got, "?")
		if path != tc.wantPath || !strings.Contains(params, "_journal_mode=WAL") ||
			!strings.Contains(params, "_foreign_keys=1") || !strings.HasSuffix(params, tc.wantExtr) {
			t.Fatalf("sqliteDSN(%q) = %q", tc.dsn, got)
		}
		if _, err := os.Stat(filepath.Dir(path)); err != nil {
			t.Fatalf("parent dir not created: %v", err)
		}
	}

	// Relative paths work too, and the pragmas are in effect.
	t.Chdir(dir)
	s := openStore(t, "sqlite://rel/dir/v.db")
	if _, err := os.Stat(filepath.Join(dir, "rel/dir/v.db")); err != nil {
		t.Fatal(err)
	}
	var mode string
	var fk int
	ok(t, s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	ok(t, s.db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk))
	if mode != "wal" || fk != 1 {
		t.Fatalf("journal_mode %q foreign_keys %d", mode, fk)
	}
}

func TestMigrationFiles(t *testing.T) {
	sq, err := migrationsFor(dialectSQLite)
	ok(t, err)
	pg, err := migrationsFor(dialectPostgres)
	ok(t, err)
	if len(sq) == 0 || len(sq) != len(pg) || SchemaVersion() != len(sq) {
		t.Fatalf("sqlite %d, postgres %d migrations, SchemaVersion %d", len(sq), len(pg), SchemaVersion())
	}
	for i := range sq {
		if sq[i].version != i+1 || pg[i].version != i+1 || sq[i].name != pg[i].name {
			t.Fatalf("migration %d: sqlite %s, postgres %s", i+1, sq[i].file, pg[i].file)
		}
	}
	if !strings.Contains(sq[0].file, ".sqlite.") || !strings.Contains(pg[0].file, ".postgres.") {
		t.Fatalf("dialect variants not picked: %s, %s", sq[0].file, pg[0].file)
	}
}

func TestMigrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		count := func(s *Store) (n, max int) {
			t.Helper()
			ok(t, s.db.QueryRow(`SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max))
			return
		}
		s1 := openStore(t, dsn)
		if n, max := count(s1); n != SchemaVersion() || max != SchemaVersion() {
			t.Fatalf("after first open: %d rows, max %d; want %d", n, max, SchemaVersion())
		}
		ok(t, s1.Close())

		// Reopening applies nothing twice.
		s2 := openStore(t, dsn)
		if n, _ := count(s2); n != SchemaVersion() {
			t.Fatalf("after reopen: %d migration rows, want %d", n, SchemaVersion())
		}

		// A database from a newer voxflow is refused with a clear error.
		_, err := s2.db.Exec(s2.rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
			SchemaVersion()+1, "from_the_future", time.Now().UTC().Format(time.RFC3339))
		ok(t, err)
		ok(t, s2.Close())
		s3, err := Open(ctx, dsn)
		if !errors.Is(err, ErrSchemaTooNew) {
			if s3 != nil {
				s3.Close()
			}
			t.Fatalf("Open(newer schema) = %v, want ErrSchemaTooNew", err)
		}
		if !strings.Contains(err.Error(), "upgrade voxflow") {
			t.Fatalf("error not actionable: %v", err)
		}
	})
}

// TestMigrationResume: a database stopped part-way (only migration 1 applied)
// is completed on the next open.
func TestMigrationResume(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		_, err := s.db.Exec(`DROP INDEX cdrs_started`)
		ok(t, err)
		_, err = s.db.Exec(`DROP INDEX cdrs_flow_started`)
		ok(t, err)
		_, err = s.db.Exec(`DROP INDEX cdrs_from_started`)
		ok(t, err)
		_, err = s.db.Exec(`DROP INDEX cdrs_outcome_started`)
		ok(t, err)
		_, err = s.db.Exec(`DROP INDEX numbers_flow`)
		ok(t, err)
		// 0006, 0009 and 0010 add columns; SQLite has no ADD COLUMN IF NOT
		// EXISTS, nor drops an indexed column.
		_, err = s.db.Exec(`DROP INDEX cdrs_campaign_started`)
		ok(t, err)
		for _, col := range []string{"queues", "insights", "transcript", "campaign", "campaign_call"} {
			_, err = s.db.Exec(`ALTER TABLE cdrs DROP COLUMN ` + col)
			ok(t, err)
		}
		_, err = s.db.Exec(`DELETE FROM schema_migrations WHERE version >= 2`)
		ok(t, err)
		ok(t, s.Close())
		s = openStore(t, dsn)
		var n int
		ok(t, s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n))
		if n != SchemaVersion() {
			t.Fatalf("resumed to %d migrations, want %d", n, SchemaVersion())
		}
	})
}

// TestRestart: everything written survives closing and reopening the store.
func TestRestart(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		v1 := must[FlowVersion](t)(s.PublishSource(ctx, "main", src("main", 1), "ann", "boot"))
		d := must[Draft](t)(s.SaveDraft(ctx, "main", src("main", 2), ""))
		ok(t, s.BindNumber(ctx, "+15550001", "main"))
		rec := cdr("c1", "r1", "main", "+4930", records.OutcomeCompleted, time.Now())
		ok(t, s.SaveCDR(ctx, rec))
		ok(t, s.Close())

		s = openStore(t, dsn)
		if got := must[FlowVersion](t)(s.Published(ctx, "main")); got != v1 {
			t.Fatalf("published after restart: %+v, want %+v", got, v1)
		}
		if got := must[Draft](t)(s.Draft(ctx, "main")); got != d {
			t.Fatalf("draft after restart: %+v, want %+v", got, d)
		}
		if got := must[string](t)(s.FlowForNumber(ctx, "+15550001")); got != "main" {
			t.Fatalf("number after restart: %q", got)
		}
		got := must[records.CDR](t)(s.CDR(ctx, "c1"))
		if got.CallID != "c1" || !got.StartedAt.Equal(normTime(rec.StartedAt)) || len(got.Path) != 2 {
			t.Fatalf("CDR after restart: %+v", got)
		}
		// and the store keeps working: next version is 2
		if v := must[FlowVersion](t)(s.Publish(ctx, "main", "ann", "")); v.Version != 2 {
			t.Fatalf("publish after restart: version %d", v.Version)
		}
	})
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"); err == nil {
		t.Fatal("Open(unreachable postgres) succeeded")
	}
	blocker := filepath.Join(t.TempDir(), "file")
	ok(t, os.WriteFile(blocker, nil, 0o644))
	if _, err := Open(ctx, "sqlite://"+blocker+"/sub/v.db"); err == nil {
		t.Fatal("Open(sqlite under a file) succeeded")
	}
}

// TestConcurrentOpen: several processes starting at once migrate the same
// database exactly once.
func TestConcurrentOpen(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		const n = 4
		errs := make(chan error, n)
		stores := make(chan *Store, n)
		for i := 0; i < n; i++ {
			go func() {
				s, err := Open(ctx, dsn)
				errs <- err
				stores <- s
			}()
		}
		for i := 0; i < n; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
			s := <-stores
			t.Cleanup(func() { s.Close() })
		}
		s := openStore(t, dsn)
		var rows int
		ok(t, s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&rows))
		if rows != SchemaVersion() {
			t.Fatalf("%d migration rows, want %d", rows, SchemaVersion())
		}
	})
}
