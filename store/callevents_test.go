package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestCallEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "c1", At: t0.Add(time.Second), Actor: "sue", Action: "whisper"}))
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "c1", At: t0, Actor: "sue", Action: "listen", Detail: "agent alice"}))
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "c2", At: t0, Actor: "bob", Action: "barge"}))
		got := must[[]records.CallEvent](t)(s.CallEvents(ctx, "c1"))
		want := []records.CallEvent{
			{CallID: "c1", At: t0, Actor: "sue", Action: "listen", Detail: "agent alice"},
			{CallID: "c1", At: t0.Add(time.Second), Actor: "sue", Action: "whisper"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("events of c1:\n got %+v\nwant %+v", got, want)
		}
		if got := must[[]records.CallEvent](t)(s.CallEvents(ctx, "none")); len(got) != 0 {
			t.Fatalf("events of an unknown call: %+v", got)
		}
		if err := s.AddCallEvent(ctx, records.CallEvent{CallID: "c1", Action: "listen"}); !errors.Is(err, ErrInvalid) {
			t.Fatalf("no actor: %v, want ErrInvalid", err)
		}
	})
}
