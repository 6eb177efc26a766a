package dialer

import (
	"maps"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestNextStep(t *testing.T) {
	now := time.Date(2026, 6, 1, 15, 0, 0, 0, time.UTC)
	dialled := now.Add(-time.Minute)
	camp := records.Campaign{MaxAttempts: 5, MinSpacing: 10 * time.Minute, Retry: DefaultRetry}
	for _, c := range []struct {
		name     string
		camp     records.Campaign
		contact  records.Contact
		outcome  string
		state    string
		nextAt   time.Time
		outcomes map[string]int
	}{
		{"busy: retried after 10 minutes", camp,
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptBusy,
			records.ContactPending, now.Add(10 * time.Minute), map[string]int{"busy": 1}},
		{"no answer: an hour", camp,
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptNoAnswer,
			records.ContactPending, now.Add(time.Hour), map[string]int{"no_answer": 1}},
		{"machine: 4 hours", camp,
			records.Contact{Attempts: 2, LastAt: dialled, Outcomes: map[string]int{"busy": 1}}, records.AttemptMachine,
			records.ContactPending, now.Add(4 * time.Hour), map[string]int{"busy": 1, "answered_machine": 1}},
		{"abandoned: 72 hours", camp,
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptAbandoned,
			records.ContactPending, now.Add(72 * time.Hour), map[string]int{"abandoned": 1}},
		{"min spacing wins over a short delay",
			records.Campaign{MaxAttempts: 5, MinSpacing: time.Hour,
				Retry: []records.RetryRule{{Outcome: records.AttemptBusy, Delay: time.Minute, Max: 3}}},
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptBusy,
			records.ContactPending, dialled.Add(time.Hour), map[string]int{"busy": 1}},
		{"no LastAt: spacing from now",
			records.Campaign{MaxAttempts: 5, MinSpacing: time.Hour,
				Retry: []records.RetryRule{{Outcome: records.AttemptBusy, Delay: 0, Max: 3}}},
			records.Contact{Attempts: 1}, records.AttemptBusy,
			records.ContactPending, now.Add(time.Hour), map[string]int{"busy": 1}},
		{"busy thrice: the third retry is still given", camp,
			records.Contact{Attempts: 3, LastAt: dialled, Outcomes: map[string]int{"busy": 2}}, records.AttemptBusy,
			records.ContactPending, now.Add(10 * time.Minute), map[string]int{"busy": 3}},
		{"busy a fourth time: its rule's retries are spent", camp,
			records.Contact{Attempts: 4, LastAt: dialled, Outcomes: map[string]int{"busy": 3}}, records.AttemptBusy,
			records.ContactDone, time.Time{}, map[string]int{"busy": 4}},
		{"failed twice: one retry only", camp,
			records.Contact{Attempts: 2, LastAt: dialled, Outcomes: map[string]int{"failed": 1}}, records.AttemptFailed,
			records.ContactDone, time.Time{}, map[string]int{"failed": 2}},
		{"max attempts reached", camp,
			records.Contact{Attempts: 5, LastAt: dialled, Outcomes: map[string]int{"no_answer": 1}}, records.AttemptBusy,
			records.ContactDone, time.Time{}, map[string]int{"no_answer": 1, "busy": 1}},
		{"a person answered", camp,
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptHuman,
			records.ContactDone, time.Time{}, map[string]int{"answered_human": 1}},
		{"invalid number", camp,
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptInvalid,
			records.ContactDone, time.Time{}, map[string]int{"invalid_number": 1}},
		{"do not call, even with a rule for it",
			records.Campaign{MaxAttempts: 5, Retry: []records.RetryRule{{Outcome: records.AttemptDNC, Delay: time.Hour, Max: 3}}},
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptDNC,
			records.ContactDone, time.Time{}, map[string]int{"dnc": 1}},
		{"an outcome without a rule",
			records.Campaign{MaxAttempts: 5, Retry: []records.RetryRule{{Outcome: records.AttemptBusy, Delay: time.Hour, Max: 3}}},
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptNoAnswer,
			records.ContactDone, time.Time{}, map[string]int{"no_answer": 1}},
		{"a rule with Max 0", records.Campaign{MaxAttempts: 5,
			Retry: []records.RetryRule{{Outcome: records.AttemptBusy, Delay: time.Hour, Max: 0}}},
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptBusy,
			records.ContactDone, time.Time{}, map[string]int{"busy": 1}},
		{"unset campaign settings take the defaults (3 attempts)", records.Campaign{},
			records.Contact{Attempts: 3, LastAt: dialled}, records.AttemptBusy,
			records.ContactDone, time.Time{}, map[string]int{"busy": 1}},
		{"defaults: busy retried after 10 minutes", records.Campaign{},
			records.Contact{Attempts: 1, LastAt: dialled}, records.AttemptBusy,
			records.ContactPending, dialled.Add(10 * time.Minute).Add(time.Minute), map[string]int{"busy": 1}},
	} {
		before := maps.Clone(c.contact.Outcomes)
		got := NextStep(c.camp, c.contact, c.outcome, now)
		if got.State != c.state || !got.NextAt.Equal(c.nextAt) || !maps.Equal(got.Outcomes, c.outcomes) {
			t.Errorf("%s: state %s, next %s, outcomes %v; want %s, %s, %v", c.name,
				got.State, got.NextAt, got.Outcomes, c.state, c.nextAt, c.outcomes)
		}
		if got.LastOutcome != c.outcome || got.Attempts != c.contact.Attempts {
			t.Errorf("%s: last outcome %q, attempts %d", c.name, got.LastOutcome, got.Attempts)
		}
		if !maps.Equal(c.contact.Outcomes, before) {
			t.Errorf("%s: the caller's Outcomes map was changed", c.name)
		}
		if want := c.contact.LastAt; !want.IsZero() && !got.LastAt.Equal(want) {
			t.Errorf("%s: LastAt %s, want the dial's %s", c.name, got.LastAt, want)
		}
	}
}

// A contact that is always busy is dialled MaxAttempts times, then done.
func TestNextStepSequence(t *testing.T) {
	c := WithDefaults(records.Campaign{MaxAttempts: 10})
	k := records.Contact{State: records.ContactPending}
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	dials := 0
	for k.State == records.ContactPending && dials < 20 {
		dials++
		k.Attempts++
		k.LastAt = now
		k = NextStep(c, k, records.AttemptBusy, now)
		now = k.NextAt
	}
	// busy has Max 3: the first dial and three retries.
	if dials != 4 || k.State != records.ContactDone || k.Outcomes[records.AttemptBusy] != 4 {
		t.Fatalf("dials %d, state %s, outcomes %v; want 4 dials then done", dials, k.State, k.Outcomes)
	}
}
