package store

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/voxflow/voxflow/store/storetest"
)

// eachBackend runs fn as a subtest per dialect, each on a fresh database.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	storetest.Each(t, fn)
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
	if os.Getenv(storetest.PostgresDSNEnv) == "" {
		fmt.Fprintln(os.Stderr, "NOTE: "+storetest.SkipMessage)
	}
	os.Exit(code)
}
