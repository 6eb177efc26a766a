package campaign

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer"
)

// Store is what the campaign's activities keep in the store (store.Store).
type Store interface {
	GetCampaign(ctx context.Context, id string) (records.Campaign, error)
	SetCampaignState(ctx context.Context, id, state string) error
	ClaimContacts(ctx context.Context, campaign, claimID string, now time.Time, n int, agent string) ([]records.Contact, error)
	NextDue(ctx context.Context, campaign string) (time.Time, bool, error)
	GetContact(ctx context.Context, campaign string, id int64) (records.Contact, error)
	ListContacts(ctx context.Context, campaign, state string, afterID int64, limit int) ([]records.Contact, error)
	StartAttempt(ctx context.Context, a records.DialAttempt) (bool, error)
	GetAttempt(ctx context.Context, campaign string, contact int64, attempt int) (records.DialAttempt, error)
	FinishAttempt(ctx context.Context, a records.DialAttempt, c records.Contact) error
	ReleaseContact(ctx context.Context, campaign string, id int64, next time.Time, skipReason string) error
	CampaignTally(ctx context.Context, campaign string, since time.Time) (records.CampaignTally, error)
	CheckDNC(ctx context.Context, number, campaign string) (records.DNCEntry, bool, error)
}

// Agents counts a queue's agents for pacing.
type Agents func(ctx context.Context, queue string) (AgentCounts, error)

// AgentCounts are a queue's agents: signed in (not offline), available
// (idle, not reserved) and busy (reserved, talking or wrapping up); WrapUp
// is the queue's after-call time.
type AgentCounts struct {
	SignedIn  int `json:"signed_in"`
	Available int `json:"available"`
	Busy      int `json:"busy"`
	// Wrapping are the busy agents in wrap-up.
	Wrapping int           `json:"wrapping,omitempty"`
	WrapUp   time.Duration `json:"wrap_up,omitempty"`
	// FreeAt is when the first wrap-up ends (zero: nobody wraps up): an
	// agent is free then, and the campaign looks again at once.
	FreeAt time.Time `json:"free_at,omitempty"`
}

// Dial is one dial to start: the call's workflow, on the campaign's flow.
type Dial struct {
	CallID   string
	Campaign records.Campaign
	Contact  records.Contact
	Attempt  int
	// Agent is the preview agent.
	Agent string
}

// CallStatus says whether a call's workflow runs, ended, or never started.
type CallStatus int

// Call statuses.
const (
	CallRunning CallStatus = iota
	CallClosed
	CallUnknown // no workflow with that ID: never started
)

// Calls starts campaign calls and looks them up (platform, over Temporal).
type Calls interface {
	// Start starts the dial's call workflow once: a second start of the
	// same call ID, running or ended, is not an error and dials nobody.
	Start(ctx context.Context, d Dial) error
	Status(ctx context.Context, callID string) (CallStatus, error)
	// Record is a call's CDR; false when it has none.
	Record(ctx context.Context, callID string) (records.CDR, bool, error)
}

// Activities are the campaign workflow's activities.
type Activities struct {
	Store  Store
	Agents Agents
	Calls  Calls
	// Now is the clock (tests set it); nil is time.Now.
	Now func() time.Time
}

// Register registers the activities on a worker of the shared queue.
func (a *Activities) Register(w worker.Registry) {
	w.RegisterActivityWithOptions(a.Snapshot, activity.RegisterOptions{Name: activities.ActCampaignSnapshot})
	w.RegisterActivityWithOptions(a.Claim, activity.RegisterOptions{Name: activities.ActCampaignClaim})
	w.RegisterActivityWithOptions(a.Dial, activity.RegisterOptions{Name: activities.ActCampaignDial})
	w.RegisterActivityWithOptions(a.Finish, activity.RegisterOptions{Name: activities.ActCampaignFinish})
	w.RegisterActivityWithOptions(a.CheckLines, activity.RegisterOptions{Name: activities.ActCampaignCheck})
	w.RegisterActivityWithOptions(a.SetState, activity.RegisterOptions{Name: activities.ActCampaignState})
}

// StateInput sets a campaign's state in the store.
type StateInput struct {
	Campaign string `json:"campaign"`
	State    string `json:"state"`
}

// SetState keeps the campaign's state in the store, for lists.
func (a *Activities) SetState(ctx context.Context, in StateInput) error {
	if err := a.Store.SetCampaignState(ctx, in.Campaign, in.State); err != nil {
		return fmt.Errorf("campaign %q: set state %s: %w", in.Campaign, in.State, err)
	}
	return nil
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}

// abandonWindow is the abandon rate's period (47 CFR 64.1200(a)(7)).
const abandonWindow = 30 * 24 * time.Hour

// Snapshot is what pacing needs to know, read fresh each time.
type Snapshot struct {
	Campaign records.Campaign      `json:"campaign"`
	Agents   AgentCounts           `json:"agents"`
	Last30d  records.CampaignTally `json:"last_30d"`
	// Pending: a contact waits to be dialled, from NextDue (zero: now);
	// Due: it may be dialled now.
	Pending bool      `json:"pending"`
	Due     bool      `json:"due"`
	NextDue time.Time `json:"next_due,omitempty"`
	// Claimed: a contact is claimed and not yet finished (dialling, or
	// offered to a preview agent): the campaign is not done.
	Claimed bool `json:"claimed,omitempty"`
	// Dialing are contacts left claimed by an earlier run (their calls are
	// checked, and finished or released): only on a fresh start.
	Dialing []records.Contact `json:"dialing,omitempty"`
	At      time.Time         `json:"at"`
}

// SnapshotInput asks for a snapshot; Recover also lists contacts left
// dialling by an earlier run.
type SnapshotInput struct {
	Campaign string `json:"campaign"`
	Recover  bool   `json:"recover,omitempty"`
}

// Snapshot reads the campaign, its agents, its 30-day tally and whether a
// contact is due.
func (a *Activities) Snapshot(ctx context.Context, in SnapshotInput) (Snapshot, error) {
	now := a.now()
	cp, err := a.Store.GetCampaign(ctx, in.Campaign)
	if err != nil {
		return Snapshot{}, fmt.Errorf("campaign %q: %w", in.Campaign, err)
	}
	s := Snapshot{Campaign: dialer.WithDefaults(cp), At: now}
	if s.Last30d, err = a.Store.CampaignTally(ctx, cp.ID, now.Add(-abandonWindow)); err != nil {
		return Snapshot{}, fmt.Errorf("campaign %q: tally: %w", cp.ID, err)
	}
	next, ok, err := a.Store.NextDue(ctx, cp.ID)
	if err != nil {
		return Snapshot{}, fmt.Errorf("campaign %q: next due contact: %w", cp.ID, err)
	}
	if ok {
		s.Pending, s.NextDue, s.Due = true, next, !next.After(now)
	}
	if cp.Queue != "" && cp.Mode != records.PaceAgentless && a.Agents != nil {
		if s.Agents, err = a.Agents(ctx, cp.Queue); err != nil {
			return Snapshot{}, fmt.Errorf("campaign %q: agents of queue %q: %w", cp.ID, cp.Queue, err)
		}
	}
	limit := 1
	if in.Recover {
		limit = maxLines
	}
	dialing, err := a.Store.ListContacts(ctx, cp.ID, records.ContactDialing, 0, limit)
	if err != nil {
		return Snapshot{}, fmt.Errorf("campaign %q: contacts being dialled: %w", cp.ID, err)
	}
	s.Claimed = len(dialing) > 0
	if in.Recover {
		s.Dialing = dialing
	}
	return s, nil
}

// ClaimInput claims up to N due contacts under ClaimID (idempotent).
type ClaimInput struct {
	Campaign string `json:"campaign"`
	ClaimID  string `json:"claim_id"`
	N        int    `json:"n"`
	Agent    string `json:"agent,omitempty"`
}

// Claim claims due contacts for dialling.
func (a *Activities) Claim(ctx context.Context, in ClaimInput) ([]records.Contact, error) {
	cs, err := a.Store.ClaimContacts(ctx, in.Campaign, in.ClaimID, a.now(), in.N, in.Agent)
	if err != nil {
		return nil, fmt.Errorf("campaign %q: claim %d contacts: %w", in.Campaign, in.N, err)
	}
	return cs, nil
}

// DialInput dials one claimed contact.
type DialInput struct {
	Campaign records.Campaign `json:"campaign"`
	Contact  int64            `json:"contact"`
	Agent    string           `json:"agent,omitempty"`
}

// DialResult says whether the call started; a contact that may not be
// called now is skipped for good (Skipped says why) or put back until
// Deferred (outside its calling window).
type DialResult struct {
	CallID   string    `json:"call_id,omitempty"`
	Attempt  int       `json:"attempt,omitempty"`
	Started  bool      `json:"started"`
	Skipped  string    `json:"skipped,omitempty"`
	Deferred time.Time `json:"deferred,omitempty"`
}

// Dial checks the do-not-call lists and the callee's calling window right
// before the dial, records the attempt and starts its call. The call's ID
// comes from the attempt, so a retried Dial never dials twice.
func (a *Activities) Dial(ctx context.Context, in DialInput) (DialResult, error) {
	cp := in.Campaign
	k, err := a.Store.GetContact(ctx, cp.ID, in.Contact)
	if err != nil {
		return DialResult{}, fmt.Errorf("campaign %q: contact %d: %w", cp.ID, in.Contact, err)
	}
	if k.State != records.ContactDialing {
		return DialResult{Skipped: "not claimed for dialling (" + k.State + ")"}, nil
	}
	if res, done, err := a.screen(ctx, cp, k); done || err != nil {
		return res, err
	}
	id := activities.CampaignCallID(cp.ID, k.ID, k.Attempts)
	_, err = a.Store.StartAttempt(ctx, records.DialAttempt{Campaign: cp.ID, Contact: k.ID, Attempt: k.Attempts,
		CallID: id, Number: k.Number, StartedAt: a.now(), Agent: in.Agent})
	if err != nil {
		return DialResult{}, fmt.Errorf("campaign %q: contact %d: record attempt: %w", cp.ID, k.ID, err)
	}
	if err := a.Calls.Start(ctx, Dial{CallID: id, Campaign: cp, Contact: k, Attempt: k.Attempts, Agent: in.Agent}); err != nil {
		return DialResult{}, fmt.Errorf("campaign %q: contact %d: %w", cp.ID, k.ID, err)
	}
	return DialResult{CallID: id, Attempt: k.Attempts, Started: true}, nil
}

// screen skips a contact on a do-not-call list and defers one outside its
// calling window; done reports that it did either.
func (a *Activities) screen(ctx context.Context, cp records.Campaign, k records.Contact) (DialResult, bool, error) {
	if e, on, err := a.Store.CheckDNC(ctx, k.Number, cp.ID); err != nil {
		return DialResult{}, false, fmt.Errorf("campaign %q: do-not-call check: %w", cp.ID, err)
	} else if on {
		reason := "do not call (global list)"
		if e.Campaign != "" {
			reason = "do not call (campaign list)"
		}
		return a.release(ctx, cp, k, time.Time{}, reason)
	}
	hours, err := dialer.ParseWindow(cp.Window)
	if err != nil {
		return a.release(ctx, cp, k, time.Time{}, "bad calling window: "+err.Error())
	}
	zones, err := dialer.ContactZones(k, cp.Region)
	if err != nil {
		return a.release(ctx, cp, k, time.Time{}, "time zone: "+err.Error())
	}
	now := a.now()
	if hours.Open(now, zones) {
		return DialResult{}, false, nil
	}
	next, ok := hours.NextOpen(now, zones)
	if !ok {
		return a.release(ctx, cp, k, time.Time{}, "no calling window fits the callee's time zones")
	}
	return a.release(ctx, cp, k, next, "")
}

func (a *Activities) release(ctx context.Context, cp records.Campaign, k records.Contact, next time.Time, reason string) (DialResult, bool, error) {
	if err := a.Store.ReleaseContact(ctx, cp.ID, k.ID, next, reason); err != nil {
		return DialResult{}, false, fmt.Errorf("campaign %q: contact %d: %w", cp.ID, k.ID, err)
	}
	return DialResult{Skipped: reason, Deferred: next}, true, nil
}

// FinishInput records how a dial ended.
type FinishInput struct {
	Campaign records.Campaign             `json:"campaign"`
	Event    activities.CampaignCallEvent `json:"event"`
}

// Finish records the attempt's outcome and moves its contact on: done,
// or pending until its retry.
func (a *Activities) Finish(ctx context.Context, in FinishInput) (records.Contact, error) {
	cp, ev := in.Campaign, in.Event
	att, err := a.Store.GetAttempt(ctx, cp.ID, ev.Contact, ev.Attempt)
	if err != nil {
		return records.Contact{}, fmt.Errorf("campaign %q: attempt %d of contact %d: %w", cp.ID, ev.Attempt, ev.Contact, err)
	}
	k, err := a.Store.GetContact(ctx, cp.ID, ev.Contact)
	if err != nil {
		return records.Contact{}, fmt.Errorf("campaign %q: contact %d: %w", cp.ID, ev.Contact, err)
	}
	now := a.now()
	att.EndedAt, att.Outcome, att.AnsweredBy, att.Agent = now, ev.Outcome, ev.AnsweredBy, ev.Agent
	att.Connect, att.Talk, att.Disposition = ev.Connect, ev.Talk, ev.Disposition
	if k.State != records.ContactDialing || k.Attempts != ev.Attempt {
		// Already moved on (a retried Finish): record the attempt only.
		return k, a.Store.FinishAttempt(ctx, att, k)
	}
	step := ev.Outcome
	if step == records.AttemptAbandoned && ev.Agent != "" {
		step = records.AttemptHuman // connected late: counted, not called again
	}
	next := dialer.NextStep(cp, k, step, now)
	if err := a.Store.FinishAttempt(ctx, att, next); err != nil {
		return records.Contact{}, fmt.Errorf("campaign %q: contact %d: %w", cp.ID, ev.Contact, err)
	}
	return next, nil
}

// CheckInput lists lines whose calls may have ended unheard.
type CheckInput struct {
	Campaign string `json:"campaign"`
	Lines    []Line `json:"lines"`
}

// CheckLines finds lines whose call ended without telling the campaign
// (an operator terminated it, or the campaign restarted) and returns their
// ended events, from the call record; a line whose call never started is
// released for a new dial.
func (a *Activities) CheckLines(ctx context.Context, in CheckInput) ([]activities.CampaignCallEvent, error) {
	var out []activities.CampaignCallEvent
	for _, l := range in.Lines {
		st, err := a.Calls.Status(ctx, l.CallID)
		if err != nil {
			return nil, fmt.Errorf("campaign %q: call %s: %w", in.Campaign, l.CallID, err)
		}
		switch st {
		case CallRunning:
			continue
		case CallUnknown:
			if err := a.Store.ReleaseContact(ctx, in.Campaign, l.Contact, time.Time{}, ""); err != nil {
				return nil, fmt.Errorf("campaign %q: release contact %d: %w", in.Campaign, l.Contact, err)
			}
			out = append(out, activities.CampaignCallEvent{CallID: l.CallID, Contact: l.Contact, Attempt: l.Attempt,
				Stage: stageReleased})
			continue
		}
		ev, err := a.endedFromRecord(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("campaign %q: %w", in.Campaign, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// stageReleased marks a line whose call never started (CheckLines).
const stageReleased = "released"

// endedFromRecord builds the ended event of a closed call from its CDR; a
// call with no record (terminated before saving it) failed.
func (a *Activities) endedFromRecord(ctx context.Context, l Line) (activities.CampaignCallEvent, error) {
	ev := activities.CampaignCallEvent{CallID: l.CallID, Contact: l.Contact, Attempt: l.Attempt,
		Stage: activities.CampaignCallEnded, Outcome: records.AttemptFailed, At: a.now()}
	rec, ok, err := a.Calls.Record(ctx, l.CallID)
	if err != nil {
		return ev, fmt.Errorf("record of call %s: %w", l.CallID, err)
	}
	if !ok {
		return ev, nil
	}
	ev.Outcome = outcomeOfRecord(rec)
	for _, q := range rec.Queues {
		if q.Agent != "" {
			ev.Agent, ev.Talk = q.Agent, ev.Talk+q.Talk
		}
	}
	ev.Abandoned = ev.Outcome == records.AttemptAbandoned
	return ev, nil
}

// outcomeOfRecord maps a campaign call's CDR outcome to its attempt's.
func outcomeOfRecord(rec records.CDR) string {
	switch rec.Outcome {
	case activities.OriginateBusy:
		return records.AttemptBusy
	case activities.OriginateNoAnswer:
		return records.AttemptNoAnswer
	case activities.OriginateFailed, records.OutcomeMediaLost:
		return records.AttemptFailed
	case records.AttemptMachine, records.AttemptAbandoned:
		return rec.Outcome
	}
	return records.AttemptHuman
}
