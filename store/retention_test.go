package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestDeleteBefore(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		cutoff := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
		old, recent := cutoff.Add(-48*time.Hour), cutoff.Add(time.Hour)
		addCampaign(t, s, "spring", records.CampaignRunning)
		s.now = func() time.Time { return old }         // transcripts are aged by when they were saved
		for i, id := range []string{"o1", "o2", "o3"} { // three old calls: two batches of 2
			seedCaller(t, s, id, "+1555010000"+string(rune('1'+i)), "+1555010000"+string(rune('1'+i)), "", old)
		}
		s.now = func() time.Time { return recent }
		seedCaller(t, s, "n1", "+15550100009", "+15550100009", "", recent)
		// A scheduled callback is never aged out, however old.
		ok(t, s.PutCallback(ctx, Callback{ID: "pending", Queue: "support", Number: "+1555", CallID: "o1", DueAt: old,
			State: CallbackScheduled, CreatedAt: old, UpdatedAt: old}))
		// Finished and unfinished dial attempts, both old.
		must[int](t)(addNumbers(s, "spring", "+15550200001", "+15550200002"))
		for i, n := range []string{"+15550200001", "+15550200002"} {
			c := claimOne(t, s, "spring")
			a := records.DialAttempt{Campaign: "spring", Contact: c.ID, Attempt: 1, CallID: "cmp-" + n, Number: n, StartedAt: old}
			must[bool](t)(s.StartAttempt(ctx, a))
			if i == 0 {
				a.EndedAt, a.Outcome = old.Add(time.Minute), "no_answer"
				c.Attempts, c.State = 1, records.ContactDone
				ok(t, s.FinishAttempt(ctx, a, c))
			}
		}

		got := must[map[string]int](t)(s.DeleteBefore(ctx, cutoff, 2))
		want := map[string]int{KindCDRs: 3, KindCallEvents: 3, KindChatTranscripts: 3, KindCallbacks: 3, KindAttempts: 1}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DeleteBefore = %v, want %v", got, want)
		}
		if _, err := s.CDR(ctx, "o2"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("old CDR o2: %v, want ErrNotFound", err)
		}
		if _, err := s.CDR(ctx, "n1"); err != nil {
			t.Fatalf("recent CDR n1: %v", err)
		}
		if ev := must[[]records.CallEvent](t)(s.CallEvents(ctx, "n1")); len(ev) != 1 {
			t.Fatalf("recent events: %+v", ev)
		}
		for _, id := range []string{"pending", "cb-n1"} {
			if _, err := s.Callback(ctx, id); err != nil {
				t.Fatalf("callback %s: %v", id, err)
			}
		}
		if n := len(must[[]records.DialAttempt](t)(s.ListAttempts(ctx, "spring", 0))); n != 1 {
			t.Fatalf("%d attempts left, want the unfinished one", n)
		}
		again := must[map[string]int](t)(s.DeleteBefore(ctx, cutoff, 0))
		for k, n := range again {
			if n != 0 {
				t.Fatalf("second sweep deleted %d %s", n, k)
			}
		}
	})
}
