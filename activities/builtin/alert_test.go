package builtin

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// alertLog is a CallAlertSink that keeps what it is given, or fails.
type alertLog struct {
	mu     sync.Mutex
	events []records.CallEvent
	err    error
}

func (l *alertLog) AddCallEvent(_ context.Context, e records.CallEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.events = append(l.events, e)
	return nil
}

func runAlert(t *testing.T, sink CallAlertSink, in activities.CallAlertInput) error {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	(&Activities{HTTP: NewHTTPCaller(), Router: NoAgents{}, Alerts: sink}).Register(env)
	_, err := env.ExecuteActivity(activities.ActCallAlert, in)
	return err
}

func TestCallAlert(t *testing.T) {
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.FixedZone("Z2", 2*3600))
	long := strings.Repeat("é", maxAlertDetail+10)
	for _, tc := range []struct {
		name     string
		in       activities.CallAlertInput
		sinkErr  error
		want     *records.CallEvent
		badInput bool
	}{
		{name: "negative turn",
			in:   activities.CallAlertInput{CallID: "c1", At: at, Action: activities.AlertNegativeSentiment, Detail: "ask: this is useless"},
			want: &records.CallEvent{CallID: "c1", At: at.UTC(), Actor: "ai", Action: "negative_sentiment", Detail: "ask: this is useless"}},
		{name: "long detail cut",
			in:   activities.CallAlertInput{CallID: "c1", At: at, Action: "negative_sentiment", Detail: long},
			want: &records.CallEvent{CallID: "c1", At: at.UTC(), Actor: "ai", Action: "negative_sentiment", Detail: long[:2*(maxAlertDetail-1)] + "…"}},
		{name: "no call", in: activities.CallAlertInput{At: at, Action: "negative_sentiment"}, badInput: true},
		{name: "no action", in: activities.CallAlertInput{CallID: "c1", At: at, Action: " "}, badInput: true},
		{name: "store down", in: activities.CallAlertInput{CallID: "c1", At: at, Action: "negative_sentiment"}, sinkErr: errors.New("database is locked")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &alertLog{err: tc.sinkErr}
			err := runAlert(t, sink, tc.in)
			var appErr *temporal.ApplicationError
			switch {
			case tc.badInput:
				if !activities.IsBadInput(err) || !errors.As(err, &appErr) || !appErr.NonRetryable() || len(sink.events) != 0 {
					t.Fatalf("err = %v, events %+v; want a non-retryable BadInput and nothing kept", err, sink.events)
				}
			case tc.sinkErr != nil:
				if err == nil || !strings.Contains(err.Error(), "database is locked") || (errors.As(err, &appErr) && appErr.NonRetryable()) {
					t.Fatalf("err = %v, want the store's error, retryable", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if len(sink.events) != 1 || sink.events[0] != *tc.want {
					t.Fatalf("events %+v, want %+v", sink.events, *tc.want)
				}
			}
		})
	}
}

// An alert without a time takes the activity's scheduled time.
func TestCallAlertWithoutTime(t *testing.T) {
	sink := &alertLog{}
	before := time.Now().Add(-time.Minute)
	if err := runAlert(t, sink, activities.CallAlertInput{CallID: "c1", Action: "negative_sentiment"}); err != nil {
		t.Fatal(err)
	}
	if len(sink.events) != 1 || sink.events[0].At.Before(before) || sink.events[0].At.Location() != time.UTC {
		t.Fatalf("events %+v, want one at the scheduled time", sink.events)
	}
}

// A retried alert (the same input again) leaves one event in the store.
func TestCallAlertRetryKeepsOne(t *testing.T) {
	s, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "v.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := activities.CallAlertInput{CallID: "c9", At: time.Now(), Action: activities.AlertNegativeSentiment, Detail: "ask: no"}
	for range 2 {
		if err := runAlert(t, s, in); err != nil {
			t.Fatal(err)
		}
	}
	evs, err := s.CallEvents(context.Background(), "c9")
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Actor != AlertActor || evs[0].Detail != "ask: no" {
		t.Fatalf("events %+v, want one", evs)
	}
}

// Without a sink the activity is not registered: an alert fails as not
// registered instead of writing nowhere.
func TestCallAlertNotRegisteredWithoutSink(t *testing.T) {
	err := runAlert(t, nil, activities.CallAlertInput{CallID: "c1", At: time.Now(), Action: "negative_sentiment"})
	if err == nil || !strings.Contains(err.Error(), "ActivityNotRegisteredError") {
		t.Fatalf("err = %v, want ActivityNotRegisteredError", err)
	}
}
