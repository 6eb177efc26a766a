// Package storetest gives tests fresh, empty databases of each dialect the
// store supports: SQLite always, PostgreSQL when VOXFLOW_TEST_POSTGRES_DSN
// names a server (scripts/test starts a throwaway one).
package storetest

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// PostgresDSNEnv names a PostgreSQL server for the tests.
// scripts/test-postgres.sh starts a throwaway one and prints the export line.
const PostgresDSNEnv = "VOXFLOW_TEST_POSTGRES_DSN"

// SkipMessage says PostgreSQL was not tested, and how to test it.
const SkipMessage = PostgresDSNEnv + " is not set, so PostgreSQL was NOT tested. Run the project test command: " +
	"scripts/test-postgres.sh test   (or: eval \"$(scripts/test-postgres.sh)\" && go test ./store/)"

// Backend makes fresh, independent databases of one dialect.
type Backend struct {
	Name string
	// NewDSN returns the DSN of a new empty database (SQLite: a file in a
	// temp dir; PostgreSQL: a fresh schema, dropped at the end of the
	// test). Without a PostgreSQL server it skips the test, or fails it
	// under CI, which always has one.
	NewDSN func(t testing.TB) string
}

// Backends are SQLite and PostgreSQL.
var Backends = []Backend{
	{Name: "sqlite", NewDSN: func(t testing.TB) string {
		return "sqlite://" + filepath.Join(t.TempDir(), "data", "voxflow.db")
	}},
	{Name: "postgres", NewDSN: newPostgresSchema},
}

// Each runs fn as a subtest per dialect, each on a fresh database.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.NewDSN(t)) })
	}
}

var (
	pgAdminOnce sync.Once
	pgAdmin     *sql.DB
	pgAdminErr  error
)

func newPostgresSchema(t testing.TB) string {
	base := os.Getenv(PostgresDSNEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal(SkipMessage)
		}
		t.Skip(SkipMessage)
	}
	pgAdminOnce.Do(func() {
		pgAdmin, pgAdminErr = sql.Open("pgx", base)
		if pgAdminErr == nil {
			pgAdminErr = pgAdmin.Ping()
		}
	})
	if pgAdminErr != nil {
		t.Fatalf("connect to %s=%q: %v", PostgresDSNEnv, base, pgAdminErr)
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
		t.Fatalf("%s must be a postgres:// URL, got %q", PostgresDSNEnv, base)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
