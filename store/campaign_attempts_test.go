package store

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// attemptOf is the attempt a claimed contact's dial makes, started at.
func attemptOf(c records.Contact, at time.Time) records.DialAttempt {
	return records.DialAttempt{Campaign: c.Campaign, Contact: c.ID, Attempt: c.Attempts,
		CallID: "cmp-" + c.Campaign + "-" + c.Number, Number: c.Number, StartedAt: at}
}

func TestStartAttempt(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", records.CampaignRunning)
		must[int](t)(addNumbers(s, "spring", "+15550001"))
		c := claimOne(t, s, "spring")
		t0 := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		a := attemptOf(c, t0)
		for _, tc := range []struct {
			a       records.DialAttempt
			created bool
		}{
			{a, true},
			{a, false}, // a retry
			{records.DialAttempt{Campaign: "spring", Contact: c.ID, Attempt: 1, CallID: "other", StartedAt: t0.Add(time.Hour)}, false},
			{records.DialAttempt{Campaign: "spring", Contact: c.ID, Attempt: 2, CallID: "second", StartedAt: t0.Add(time.Hour)}, true},
		} {
			if got := must[bool](t)(s.StartAttempt(ctx, tc.a)); got != tc.created {
				t.Fatalf("StartAttempt(%+v) created %v, want %v", tc.a, got, tc.created)
			}
		}
		if got := must[records.DialAttempt](t)(s.GetAttempt(ctx, "spring", c.ID, 1)); !reflect.DeepEqual(got, a) {
			t.Fatalf("GetAttempt = %+v, want the first write %+v", got, a)
		}
		_, err := s.GetAttempt(ctx, "spring", c.ID, 3)
		if err == nil {
			t.Fatal("GetAttempt of a missing attempt succeeded")
		}
		wantErr(t, err, ErrNotFound, `attempt 3 of contact `+itoa(c.ID)+` of campaign "spring": not found`)

		for _, tc := range []struct {
			a   records.DialAttempt
			msg string
		}{
			{records.DialAttempt{Campaign: "", Contact: 1, Attempt: 1}, `start attempt: invalid argument: campaign "" must be non-empty without surrounding spaces`},
			{records.DialAttempt{Campaign: "x", Contact: 0, Attempt: 1}, `start attempt: invalid argument: contact 0 must be positive`},
			{records.DialAttempt{Campaign: "x", Contact: 1, Attempt: 0}, `start attempt: invalid argument: attempt 0 must be positive`},
		} {
			_, err := s.StartAttempt(ctx, tc.a)
			wantErr(t, err, ErrInvalid, tc.msg)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestFinishAttempt(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", records.CampaignRunning)
		must[int](t)(addNumbers(s, "spring", "+15550001"))
		t0 := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		c := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c1", t0, 1, "alice"))[0]
		a := attemptOf(c, t0)
		a.Agent = "alice"
		must[bool](t)(s.StartAttempt(ctx, a))

		// Busy: retried in an hour.
		a.EndedAt, a.Outcome, a.AnsweredBy = t0.Add(20*time.Second), records.AttemptBusy, ""
		after := records.Contact{State: records.ContactPending, NextAt: t0.Add(time.Hour), LastOutcome: records.AttemptBusy,
			LastAt: t0, Outcomes: map[string]int{records.AttemptBusy: 1},
			Attempts: 42, Number: "ignored", Agent: "ignored"}
		want := c
		want.State, want.NextAt, want.LastOutcome, want.Outcomes, want.Agent = records.ContactPending, t0.Add(time.Hour),
			records.AttemptBusy, map[string]int{records.AttemptBusy: 1}, ""
		for range 2 { // idempotent
			ok(t, s.FinishAttempt(ctx, a, after))
			if got := must[records.Contact](t)(s.GetContact(ctx, "spring", c.ID)); !reflect.DeepEqual(got, want) {
				t.Fatalf("contact after finish\n%+v\nwant\n%+v", got, want)
			}
			if got := must[records.DialAttempt](t)(s.GetAttempt(ctx, "spring", c.ID, 1)); !reflect.DeepEqual(got, a) {
				t.Fatalf("attempt after finish\n%+v\nwant\n%+v", got, a)
			}
		}
		// The claim is over: claiming again under c1 claims anew.
		c2 := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c1", t0.Add(time.Hour), 1, ""))
		if len(c2) != 1 || c2[0].Attempts != 2 {
			t.Fatalf("second claim: %+v", c2)
		}
		// A late retry of attempt 1's finish leaves the contact (now on
		// attempt 2) alone, given its outcome or the contact as it is now.
		for _, late := range []records.Contact{after, c2[0]} {
			ok(t, s.FinishAttempt(ctx, a, late))
			if got := must[records.Contact](t)(s.GetContact(ctx, "spring", c.ID)); !reflect.DeepEqual(got, c2[0]) {
				t.Fatalf("a stale finish changed the contact: %+v, want %+v", got, c2[0])
			}
		}
		// A contact in state dialing records the attempt alone, even on the
		// contact's own attempt.
		a2 := records.DialAttempt{Campaign: "spring", Contact: c.ID, Attempt: 2, CallID: "cmp-2", Number: "+15550001",
			StartedAt: t0.Add(time.Hour), EndedAt: t0.Add(time.Hour + time.Second), Outcome: records.AttemptFailed}
		ok(t, s.FinishAttempt(ctx, a2, c2[0]))
		if got := must[records.Contact](t)(s.GetContact(ctx, "spring", c.ID)); !reflect.DeepEqual(got, c2[0]) {
			t.Fatalf("a finish with a dialing contact changed it: %+v, want %+v", got, c2[0])
		}
		if got := must[records.DialAttempt](t)(s.GetAttempt(ctx, "spring", c.ID, 2)); !reflect.DeepEqual(got, a2) {
			t.Fatalf("an attempt StartAttempt did not record: %+v, want it whole %+v", got, a2)
		}
		// Attempt 2 ends for good (its end replaces the one above).
		a2 = records.DialAttempt{Campaign: "spring", Contact: c.ID, Attempt: 2, CallID: "cmp-2", Number: "+15550001",
			StartedAt: t0.Add(time.Hour), EndedAt: t0.Add(time.Hour + time.Minute), Outcome: records.AttemptHuman,
			AnsweredBy: "human", Agent: "bob", Connect: 800 * time.Millisecond, Talk: 45 * time.Second, Disposition: "sale"}
		ok(t, s.FinishAttempt(ctx, a2, records.Contact{Campaign: "spring", ID: c.ID, State: records.ContactDone,
			LastOutcome: records.AttemptHuman, LastAt: t0.Add(time.Hour)}))
		got := must[records.Contact](t)(s.GetContact(ctx, "spring", c.ID))
		if got.State != records.ContactDone || got.Outcomes != nil || got.NextAt != (time.Time{}) || got.Attempts != 2 {
			t.Fatalf("contact after attempt 2: %+v", got)
		}
		if list := must[[]records.DialAttempt](t)(s.ListAttempts(ctx, "spring", c.ID)); !reflect.DeepEqual(list, []records.DialAttempt{a2, a}) {
			t.Fatalf("ListAttempts = %+v", list)
		}

		for _, tc := range []struct {
			a   records.DialAttempt
			c   records.Contact
			msg string
		}{
			{records.DialAttempt{Campaign: "spring", Contact: c.ID, Attempt: 2}, records.Contact{State: records.ContactDone},
				`finish attempt 2 of contact ` + itoa(c.ID) + ` of campaign "spring": invalid argument: the attempt has no outcome`},
			{a2, records.Contact{State: ""},
				`finish attempt 2 of contact ` + itoa(c.ID) + ` of campaign "spring": invalid argument: contact state "" after an attempt must be pending, done, skipped or dialing`},
			{a2, records.Contact{ID: c.ID + 1, State: records.ContactDone},
				`finish attempt 2 of contact ` + itoa(c.ID) + ` of campaign "spring": invalid argument: contact ` + itoa(c.ID+1) + ` of campaign "" is not the attempt's`},
		} {
			wantErr(t, s.FinishAttempt(ctx, tc.a, tc.c), ErrInvalid, tc.msg)
		}
	})
}

func TestListAttempts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		t0 := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		var want []records.DialAttempt
		for i := range 5 {
			a := records.DialAttempt{Campaign: "spring", Contact: int64(i%2 + 1), Attempt: i/2 + 1, CallID: "c",
				StartedAt: t0.Add(time.Duration(i) * time.Minute)}
			must[bool](t)(s.StartAttempt(ctx, a))
			want = append([]records.DialAttempt{a}, want...)
		}
		must[bool](t)(s.StartAttempt(ctx, records.DialAttempt{Campaign: "autumn", Contact: 1, Attempt: 1, StartedAt: t0}))
		if got := must[[]records.DialAttempt](t)(s.ListAttempts(ctx, "spring", 0)); !reflect.DeepEqual(got, want) {
			t.Fatalf("ListAttempts(all) =\n%+v\nwant\n%+v", got, want)
		}
		if got := must[[]records.DialAttempt](t)(s.ListAttempts(ctx, "nope", 0)); len(got) != 0 {
			t.Fatalf("ListAttempts(unknown) = %+v", got)
		}
	})
}

func TestCampaignTally(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		t0 := time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)
		ends := []struct {
			outcome string
			ended   time.Duration // after t0
			talk    time.Duration
		}{
			{records.AttemptHuman, time.Hour, 60 * time.Second},
			{records.AttemptHuman, 2 * time.Hour, 30 * time.Second},
			{records.AttemptAbandoned, 2 * time.Hour, 0},
			{records.AttemptMachine, 3 * time.Hour, 0},
			{records.AttemptBusy, 3 * time.Hour, 0},
			{records.AttemptNoAnswer, 4 * time.Hour, 0},
			{records.AttemptFailed, 5 * time.Hour, 0},
			{records.AttemptInvalid, 5 * time.Hour, 0},
			{records.AttemptDNC, 6 * time.Hour, 0},
			{records.AttemptHuman, -time.Hour, 99 * time.Second}, // yesterday
		}
		for i, e := range ends {
			a := records.DialAttempt{Campaign: "spring", Contact: int64(i + 1), Attempt: 1, StartedAt: t0.Add(e.ended - time.Minute),
				EndedAt: t0.Add(e.ended), Outcome: e.outcome, Talk: e.talk}
			ok(t, s.FinishAttempt(ctx, a, records.Contact{State: records.ContactDone}))
		}
		// Started, not ended: not counted, even with an outcome.
		must[bool](t)(s.StartAttempt(ctx, records.DialAttempt{Campaign: "spring", Contact: 99, Attempt: 1, StartedAt: t0}))
		must[bool](t)(s.StartAttempt(ctx, records.DialAttempt{Campaign: "spring", Contact: 98, Attempt: 1, StartedAt: t0,
			Outcome: records.AttemptBusy}))
		// Another campaign's: not counted.
		ok(t, s.FinishAttempt(ctx, records.DialAttempt{Campaign: "autumn", Contact: 1, Attempt: 1, StartedAt: t0,
			EndedAt: t0.Add(time.Hour), Outcome: records.AttemptHuman}, records.Contact{State: records.ContactDone}))

		for _, tc := range []struct {
			since time.Time
			want  records.CampaignTally
		}{
			{time.Time{}, records.CampaignTally{Dials: 10, Human: 4, Machine: 1, Busy: 1, NoAnswer: 1, Failed: 2, Abandoned: 1, Talk: 189 * time.Second}},
			{t0, records.CampaignTally{Dials: 9, Human: 3, Machine: 1, Busy: 1, NoAnswer: 1, Failed: 2, Abandoned: 1, Talk: 90 * time.Second}},
			{t0.Add(2 * time.Hour), records.CampaignTally{Dials: 8, Human: 2, Machine: 1, Busy: 1, NoAnswer: 1, Failed: 2, Abandoned: 1, Talk: 30 * time.Second}},
			{t0.Add(5*time.Hour + time.Microsecond), records.CampaignTally{Dials: 1}},
			{t0.Add(7 * time.Hour), records.CampaignTally{}},
		} {
			if got := must[records.CampaignTally](t)(s.CampaignTally(ctx, "spring", tc.since)); got != tc.want {
				t.Errorf("CampaignTally(since %v) = %+v, want %+v", tc.since, got, tc.want)
			}
		}
	})
}
