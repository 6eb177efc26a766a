package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// seedCaller stores a caller's call history: a CDR (caller number as the
// trunk sent it: from), its event, chat transcript and callback, and, when
// campaign is set, a campaign contact and attempt for e164.
func seedCaller(t *testing.T, s *Store, callID, from, e164, campaign string, at time.Time) {
	t.Helper()
	ok(t, s.SaveCDR(ctx, records.CDR{CallID: callID, RunID: "r1", WorkflowID: "call-" + callID, Flow: "f", From: from, To: "+15550000",
		Channel: "sip", StartedAt: at, EndedAt: at.Add(time.Minute), Outcome: "completed", Recordings: []string{"/rec/" + callID + ".wav"}}))
	ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: callID, At: at, Actor: "sue", Action: "listen"}))
	ok(t, s.SaveChatTranscript(ctx, callID, []records.ChatLine{{At: at, From: "caller", Text: "hi"}}))
	ok(t, s.PutCallback(ctx, Callback{ID: "cb-" + callID, Queue: "support", Number: from, CallID: callID, DueAt: at,
		State: CallbackDone, UpdatedAt: at, CreatedAt: at}))
	if campaign == "" {
		return
	}
	must[int](t)(addNumbers(s, campaign, e164))
	c := claimOne(t, s, campaign)
	a := records.DialAttempt{Campaign: campaign, Contact: c.ID, Attempt: 1, CallID: "cmp-" + callID, Number: e164, StartedAt: at}
	must[bool](t)(s.StartAttempt(ctx, a))
}

func TestNumberForms(t *testing.T) {
	got := NumberForms(" +1 (555) 010-0001 ")
	want := []string{"+1 (555) 010-0001", "+15550100001", "0015550100001", "01115550100001", "15550100001", "5550100001", "tel:+15550100001"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("NumberForms = %q\nwant %q", got, want)
	}
}

func TestEraseNumber(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
		addCampaign(t, s, "spring", records.CampaignRunning)
		seedCaller(t, s, "a1", "15550100001", "+15550100001", "spring", at) // the trunk's form without "+"
		seedCaller(t, s, "a2", "+15550100001", "+15550100001", "", at.Add(time.Hour))
		seedCaller(t, s, "b1", "+15550100002", "+15550100002", "spring", at)
		must[int](t)(s.AddDNC(ctx, []records.DNCEntry{{Number: "+15550100001", AddedAt: at}}))

		dry := must[Erasure](t)(s.EraseNumber(ctx, "+1 555 010 0001", true))
		want := Erasure{
			Counts: map[string]int{KindCDRs: 2, KindCallEvents: 2, KindChatTranscripts: 2, KindCallbacks: 2,
				KindContacts: 1, KindAttempts: 1, KindDNCKept: 1},
			CallIDs:     []string{"a1", "a2", "cmp-a1"},
			WorkflowIDs: []string{"call-a1", "call-a2"},
			Recordings:  []string{"/rec/a1.wav", "/rec/a2.wav"},
		}
		if !reflect.DeepEqual(dry, want) {
			t.Fatalf("dry run:\n got %+v\nwant %+v", dry, want)
		}
		if _, err := s.CDR(ctx, "a1"); err != nil {
			t.Fatalf("the dry run removed a1: %v", err)
		}
		done := must[Erasure](t)(s.EraseNumber(ctx, "+15550100001", false))
		if !reflect.DeepEqual(done, want) {
			t.Fatalf("erase:\n got %+v\nwant %+v", done, want)
		}
		again := must[Erasure](t)(s.EraseNumber(ctx, "+15550100001", true))
		for k, n := range again.Counts {
			if n != 0 && k != KindDNCKept {
				t.Fatalf("after the erase %s = %d remain", k, n)
			}
		}
		for _, id := range []string{"a1", "a2"} {
			if _, err := s.CDR(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Fatalf("CDR %s after the erase: %v, want ErrNotFound", id, err)
			}
		}
		// Another caller's rows stay.
		if _, err := s.CDR(ctx, "b1"); err != nil {
			t.Fatalf("b1's CDR: %v", err)
		}
		if ev := must[[]records.CallEvent](t)(s.CallEvents(ctx, "b1")); len(ev) != 1 {
			t.Fatalf("b1's events: %+v", ev)
		}
		if _, err := s.Callback(ctx, "cb-b1"); err != nil {
			t.Fatalf("b1's callback: %v", err)
		}
		if n := must[int](t)(addNumbers(s, "spring", "+15550100002")); n != 0 {
			t.Fatal("b1's contact was removed")
		}
		if _, err := s.EraseNumber(ctx, " ", false); !errors.Is(err, ErrInvalid) {
			t.Fatalf("erase of a blank number: %v, want ErrInvalid", err)
		}
	})
}
