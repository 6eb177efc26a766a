package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// postgresDSNEnv names a PostgreSQL server for the tests. scripts/test-postgres.sh
// starts a throwaway one and prints the export line.
const postgresDSNEnv = "VOXFLOW_TEST_POSTGRES_DSN"

const postgresSkipMsg = postgresDSNEnv + " is not set, so PostgreSQL was NOT tested. Run the project test command: " +
	"scripts/test-postgres.sh test   (or: eval \"$(scripts/test-postgres.sh)\" && go test ./store/)"

// backend makes fresh, independent databases of one dialect.
type backend struct {
	name string
	// newDSN returns the DSN of a new empty database (SQLite: a file in a temp
	// dir; PostgreSQL: a fresh schema, dropped at the end of the test).
	newDSN func(t testing.TB) string
}

var backends = []backend{
	{name: "sqlite", newDSN: func(t testing.TB) string {
		return "sqlite://" + filepath.Join(t.TempDir(), "data", "voxflow.db")
	}},
	{name: "postgres", newDSN: newPostgresSchema},
}

var (
	pgAdminOnce sync.Once
	pgAdmin     *sql.DB
	pgAdminErr  error
)

func newPostgresSchema(t testing.TB) string {
	base := os.Getenv(postgresDSNEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			// CI runs scripts/test, which always starts PostgreSQL.
			t.Fatal(postgresSkipMsg)
		}
		t.Skip(postgresSkipMsg)
	}
	pgAdminOnce.Do(func() {
		pgAdmin, pgAdminErr = sql.Open("pgx", base)
		if pgAdminErr == nil {
			pgAdminErr = pgAdmin.Ping()
		}
	})
	if pgAdminErr != nil {
		t.Fatalf("connect to %s=%q: %v", postgresDSNEnv, base, pgAdminErr)
	}
	schema := fmt.Sprintf("vf_test_%d_%08x", time.Now().UnixNano()%1e9, rand.Uint32())
	if _, err := pgAdmin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := pgAdmin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL, got %q", postgresDSNEnv, base)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// eachBackend runs fn as a subtest per dialect, each on a fresh database.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.newDSN(t)) })
	}
}

// eachStore runs fn as a subtest per dialect, each on a fresh open store.
func eachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	eachBackend(t, func(t *testing.T, dsn string) { fn(t, openStore(t, dsn)) })
}

func openStore(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func must[T any](t testing.TB) func(v T, err error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func ok(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// src makes a distinct flow source.
func src(name string, n int) string {
	return fmt.Sprintf("name: %s\nstart: hello\nnodes:\n  hello:\n    type: play\n    say: \"revision %d\"\n", name, n)
}

var ctx = context.Background()

func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv(postgresDSNEnv) == "" {
		fmt.Fprintln(os.Stderr, "NOTE: "+postgresSkipMsg)
	}
	os.Exit(code)
}
