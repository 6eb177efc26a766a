package dialer

import (
	"maps"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// DefaultRetry is when a campaign that sets no rules tries a contact
// again, by the outcome of the last attempt. A person who answered, an
// invalid number and a do-not-call number are never retried; an outcome
// without a rule is not either. Abandoned calls wait 72 hours, not a day:
// UK Ofcom's persistent-misuse policy allows a repeat call within 72 hours
// of an abandoned one only with an agent guaranteed, which a predictive
// dialer cannot promise, and no US rule asks for sooner.
var DefaultRetry = []records.RetryRule{
	{Outcome: records.AttemptBusy, Delay: 10 * time.Minute, Max: 3},
	{Outcome: records.AttemptNoAnswer, Delay: time.Hour, Max: 3},
	{Outcome: records.AttemptMachine, Delay: 4 * time.Hour, Max: 2},
	{Outcome: records.AttemptFailed, Delay: 30 * time.Minute, Max: 1},
	{Outcome: records.AttemptAbandoned, Delay: 72 * time.Hour, Max: 1},
}

// NextStep is contact k after an attempt that ended with outcome at now
// (k.Attempts already counts it; k.LastAt, if set, is when it was
// dialled, else now is taken). It records the outcome (LastOutcome,
// LastAt, Outcomes[outcome]+1: a new map, k's is not changed) and is
// either done (a person answered, the number is invalid or on a DNC list,
// c.MaxAttempts are used up, the outcome has no rule, or its rule's Max
// retries are used up) or pending at NextAt: now plus the rule's Delay,
// and no sooner than LastAt plus c.MinSpacing. A rule's Max counts the
// retries that outcome earns: busy with Max 3 is tried again after each of
// the first three busy attempts, and done after the fourth. Unset settings
// of c take WithDefaults'.
func NextStep(c records.Campaign, k records.Contact, outcome string, now time.Time) records.Contact {
	c = WithDefaults(c)
	outcomes := make(map[string]int, len(k.Outcomes)+1)
	maps.Copy(outcomes, k.Outcomes)
	outcomes[outcome]++
	k.Outcomes = outcomes
	k.LastOutcome = outcome
	if k.LastAt.IsZero() || k.LastAt.After(now) {
		k.LastAt = now
	}
	k.NextAt = time.Time{}
	rule, ok := retryRule(c.Retry, outcome)
	if !ok || k.Attempts >= c.MaxAttempts || outcomes[outcome] > rule.Max {
		k.State = records.ContactDone
		return k
	}
	k.State = records.ContactPending
	k.NextAt = now.Add(rule.Delay)
	if earliest := k.LastAt.Add(c.MinSpacing); k.NextAt.Before(earliest) {
		k.NextAt = earliest
	}
	return k
}

// retryRule is the first rule for outcome, if it may be retried at all.
func retryRule(rules []records.RetryRule, outcome string) (records.RetryRule, bool) {
	for _, r := range rules {
		if r.Outcome == outcome {
			switch outcome {
			case records.AttemptHuman, records.AttemptInvalid, records.AttemptDNC:
				return records.RetryRule{}, false
			}
			return r, true
		}
	}
	return records.RetryRule{}, false
}
