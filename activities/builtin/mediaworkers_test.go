package builtin

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

func pick(t *testing.T, reg WorkerRegistry) (records.MediaWorker, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	a := &Activities{HTTP: NewHTTPCaller(), Router: NoAgents{}, Workers: reg}
	a.Register(env)
	// The engine passes one nil argument; the activity takes none.
	val, err := env.ExecuteActivity(activities.ActPickMediaWorker, nil)
	if err != nil {
		return records.MediaWorker{}, err
	}
	var w records.MediaWorker
	if err := val.Get(&w); err != nil {
		t.Fatal(err)
	}
	return w, nil
}

func TestPickMediaWorker(t *testing.T) {
	s, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	wantNone := func(what string) {
		t.Helper()
		_, err := pick(t, s)
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || !activities.IsNoMediaWorker(err) || !appErr.NonRetryable() {
			t.Fatalf("%s: err = %v, want non-retryable %s", what, err, activities.ErrTypeNoMediaWorker)
		}
	}
	wantNone("empty registry")

	report := func(id string, calls int, seen time.Time) {
		t.Helper()
		if err := s.ReportMediaWorker(ctx, records.MediaWorker{ID: id, Queue: activities.MediaQueue(id), LiveCalls: calls, SeenAt: seen}); err != nil {
			t.Fatal(err)
		}
	}
	// Only stale and draining workers: none.
	report("stale", 0, time.Now().Add(-time.Minute))
	report("draining", -1, time.Time{})
	wantNone("stale and draining only")

	report("busy", 5, time.Time{})
	report("b", 2, time.Time{})
	report("a", 2, time.Time{})
	w, err := pick(t, s)
	if err != nil {
		t.Fatal(err)
	}
	if w.ID != "a" || w.Queue != "media-a" || w.LiveCalls != 2 {
		t.Fatalf("picked %+v, want a (2 calls, ties by ID)", w)
	}
	report("busy", 0, time.Time{})
	if w, err = pick(t, s); err != nil || w.ID != "busy" {
		t.Fatalf("picked %+v, %v; want busy (now 0 calls)", w, err)
	}
}

func TestPickLeastLoaded(t *testing.T) {
	w, err := PickLeastLoaded([]records.MediaWorker{{ID: "z", LiveCalls: 1}, {ID: "y", LiveCalls: -1}, {ID: "x", LiveCalls: 1}})
	if err != nil || w.ID != "x" || w.Queue != "media-x" {
		t.Fatalf("PickLeastLoaded = %+v, %v", w, err)
	}
	if _, err := PickLeastLoaded(nil); err == nil {
		t.Fatal("no workers: no error")
	}
}

func TestRegisterWithoutWorkers(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	(&Activities{HTTP: NewHTTPCaller(), Router: NoAgents{}}).Register(env)
	if _, err := env.ExecuteActivity(activities.ActPickMediaWorker); err == nil {
		t.Fatal("PickMediaWorker registered without a registry")
	}
}
