// Package campaign is an outbound campaign as a Temporal workflow: one
// per campaign (ID "campaign-<id>"), the single owner of its pacing. On
// every tick and every event it reads a snapshot (agents, the 30-day
// abandon tally, whether contacts are due), asks dialer/pacing how many
// lines to add, claims that many contacts and dials them; each dial is a
// CallWorkflow that reports back by signal. Contacts live in the store:
// a claim is idempotent on its ID and a dial's call ID comes from its
// attempt, so no contact is dialled twice for one attempt whatever
// crashes. Workflow code only: no clock, randomness or I/O.
package campaign

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/pacing"
)

// Input starts (or, with Resume, continues) a campaign's workflow.
type Input struct {
	Campaign string `json:"campaign"`
	Resume   *State `json:"resume,omitempty"`
}

// Workflow statuses (State.Status).
const (
	statusRunning  = "running"
	statusPaused   = "paused"
	statusStopping = "stopping" // no new dials; ends when the lines have
)

// State is what a campaign's workflow carries across continue-as-new.
type State struct {
	Status     string            `json:"status"`
	Controller pacing.Controller `json:"controller"`
	Lines      []Line            `json:"lines,omitempty"`
	// Claims numbers the claims, which are idempotent on their ID.
	Claims int `json:"claims"`
	// Recent are the dial starts of the last minute (the rate limit).
	Recent []time.Time `json:"recent,omitempty"`
	Occ    Occupancy   `json:"occupancy"`
	// Recovered: contacts left dialling by an earlier run were taken over.
	Recovered bool      `json:"recovered,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitempty"`
}

// Line is a dial in progress.
type Line struct {
	CallID     string    `json:"call_id"`
	Contact    int64     `json:"contact"`
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	AnsweredAt time.Time `json:"answered_at,omitempty"`
	Connected  bool      `json:"connected,omitempty"`
}

// Occupancy integrates the agents' signed-in and busy time.
type Occupancy struct {
	SignedIn float64   `json:"signed_in"` // agent-seconds
	Busy     float64   `json:"busy"`
	At       time.Time `json:"at"`
	Agents   AgentCounts
}

// Timing.
const (
	tick       = time.Second      // pacing cadence while dialling
	idleTick   = time.Minute      // longest sleep with nothing due
	checkEvery = 30 * time.Second // look for lines whose call ended unheard
	// staleLine: a line not heard of for this long is checked.
	staleLine = 2 * time.Minute
	// maxLines bounds the dials in flight of one campaign.
	maxLines = 500
	// continueAfter is the history length that starts a new run.
	continueAfter = 4000
)

// run is one run of a campaign's workflow.
type run struct {
	ctx       workflow.Context
	id        string
	st        State
	cp        records.Campaign
	snap      Snapshot
	dec       pacing.Decision
	controlCh workflow.ReceiveChannel
	callCh    workflow.ReceiveChannel
	// freeHint is when the agent of the last connected call that ended
	// should be free: its end plus the queue's wrap-up (the snapshot may
	// have been read before the router started that wrap-up).
	freeHint time.Time
}

// Workflow runs a campaign until it is stopped or has no contact left.
func Workflow(ctx workflow.Context, in Input) error {
	r := &run{ctx: ctx, id: in.Campaign,
		controlCh: workflow.GetSignalChannel(ctx, activities.SignalCampaignControl),
		callCh:    workflow.GetSignalChannel(ctx, activities.SignalCampaignCall)}
	if in.Resume != nil {
		r.st = *in.Resume
	} else {
		r.st = State{Status: statusRunning}
	}
	if err := workflow.SetQueryHandler(ctx, activities.QueryCampaignLive, r.live); err != nil {
		return fmt.Errorf("register live query: %w", err)
	}
	if err := r.refresh(); err != nil {
		return err
	}
	if in.Resume == nil {
		r.st.Controller = pacing.NewController(r.cp.AbandonCap)
	}
	for {
		r.drain()
		if end, state := r.finished(); end {
			r.setState(state)
			return nil
		}
		if r.st.Status == statusRunning {
			r.pace()
			if end, state := r.finished(); end { // the fresh snapshot may say so
				r.setState(state)
				return nil
			}
		}
		r.checkLines()
		if workflow.GetInfo(ctx).GetCurrentHistoryLength() > continueAfter {
			r.drain()
			return workflow.NewContinueAsNewError(ctx, Workflow, Input{Campaign: r.id, Resume: &r.st})
		}
		r.wait()
	}
}

// finished says whether the campaign is over: stopped with no line left,
// or running with nothing pending, dialling or due.
func (r *run) finished() (bool, string) {
	if len(r.st.Lines) > 0 {
		return false, ""
	}
	switch {
	case r.st.Status == statusStopping:
		return true, records.CampaignStopped
	case r.st.Status == statusRunning && !r.snap.Pending && !r.snap.Claimed && r.st.Recovered:
		return true, records.CampaignCompleted
	}
	return false, ""
}

// pace adds the lines pacing asks for.
func (r *run) pace() {
	if err := r.refresh(); err != nil {
		// The store or the router is out for longer than the activity's
		// retries: dial nobody this round and look again on the next tick,
		// rather than fail the campaign.
		workflow.GetLogger(r.ctx).Error("campaign snapshot", "campaign", r.id, "error", err)
		r.dec = pacing.Decision{Pacing: r.cp.Mode, Reason: "snapshot failed: " + err.Error()}
		return
	}
	r.decide()
	if r.dec.Dial <= 0 || !r.snap.Due {
		return
	}
	var claimed []records.Contact
	r.st.Claims++
	in := ClaimInput{Campaign: r.id, ClaimID: fmt.Sprintf("%s/%d", workflow.GetInfo(r.ctx).FirstRunID, r.st.Claims),
		N: min(r.dec.Dial, maxLines-len(r.st.Lines))}
	if err := workflow.ExecuteActivity(r.opts(), activities.ActCampaignClaim, in).Get(r.ctx, &claimed); err != nil {
		workflow.GetLogger(r.ctx).Warn("claim contacts", "campaign", r.id, "error", err)
		return
	}
	r.dialAll(claimed, "")
}

// paced is a decision and the controller after it.
type paced struct {
	Decision   pacing.Decision   `json:"decision"`
	Controller pacing.Controller `json:"controller"`
}

// decide asks pacing for a decision as a side effect recorded in the
// history: a replay takes the recorded decision and controller instead of
// computing them again, so floating point that rounds differently on
// another CPU (math.Exp's assembly, fused multiply-adds) cannot change
// the commands a replay expects.
func (r *run) decide() {
	s, ctl := r.pacingSnapshot(), r.st.Controller
	var p paced
	err := workflow.SideEffect(r.ctx, func(workflow.Context) any {
		d := ctl.Decide(s)
		return paced{Decision: d, Controller: ctl}
	}).Get(&p)
	if err != nil {
		workflow.GetLogger(r.ctx).Error("pacing decision", "campaign", r.id, "error", err)
		r.dec = pacing.Decision{Pacing: r.cp.Mode, Reason: "pacing failed: " + err.Error()}
		return
	}
	r.dec, r.st.Controller = p.Decision, p.Controller
}

// dialAll dials contacts at once and keeps the lines that started.
func (r *run) dialAll(contacts []records.Contact, agent string) {
	futures := make([]workflow.Future, len(contacts))
	for i, k := range contacts {
		futures[i] = workflow.ExecuteActivity(r.opts(), activities.ActCampaignDial,
			DialInput{Campaign: r.cp, Contact: k.ID, Agent: agent})
	}
	now := workflow.Now(r.ctx)
	for i, f := range futures {
		var res DialResult
		if err := f.Get(r.ctx, &res); err != nil {
			workflow.GetLogger(r.ctx).Warn("dial", "campaign", r.id, "contact", contacts[i].ID, "error", err)
			continue
		}
		if !res.Started {
			continue
		}
		r.st.Recent = append(r.st.Recent, now)
		r.addLine(Line{CallID: res.CallID, Contact: contacts[i].ID, Attempt: res.Attempt, StartedAt: now})
	}
}

func (r *run) addLine(l Line) {
	if !slices.ContainsFunc(r.st.Lines, func(x Line) bool { return x.CallID == l.CallID }) {
		r.st.Lines = append(r.st.Lines, l)
	}
}

// refresh reads a snapshot and brings the campaign, occupancy and, on a
// fresh start, the contacts an earlier run left dialling up to date.
func (r *run) refresh() error {
	in := SnapshotInput{Campaign: r.id, Recover: !r.st.Recovered}
	var s Snapshot
	if err := workflow.ExecuteActivity(r.opts(), activities.ActCampaignSnapshot, in).Get(r.ctx, &s); err != nil {
		return fmt.Errorf("campaign %q: %w", r.id, err)
	}
	r.snap, r.cp = s, s.Campaign
	r.st.Occ.add(s.At, s.Agents)
	if !r.st.Recovered {
		for _, k := range s.Dialing {
			// Checked at once: a call that never started is released.
			r.addLine(Line{CallID: activities.CampaignCallID(r.id, k.ID, k.Attempts), Contact: k.ID, Attempt: k.Attempts})
		}
		r.st.Recovered = true
	}
	return nil
}

// add integrates the agents' time since the last snapshot.
func (o *Occupancy) add(at time.Time, a AgentCounts) {
	if !o.At.IsZero() && at.After(o.At) {
		dt := at.Sub(o.At).Seconds()
		o.SignedIn += dt * float64(o.Agents.SignedIn)
		o.Busy += dt * float64(o.Agents.Busy)
	}
	o.At, o.Agents = at, a
}

// pacingSnapshot is the snapshot as pacing sees it.
func (r *run) pacingSnapshot() pacing.Snapshot {
	now := workflow.Now(r.ctx)
	r.st.Recent = slices.DeleteFunc(r.st.Recent, func(t time.Time) bool { return now.Sub(t) >= time.Minute })
	waiting := 0
	for _, l := range r.st.Lines {
		if !l.Connected {
			waiting++
		}
	}
	return pacing.Snapshot{Mode: r.cp.Mode, AgentsSignedIn: r.snap.Agents.SignedIn, AgentsAvailable: r.snap.Agents.Available,
		AgentsBusy: r.snap.Agents.Busy, AgentsWrapping: r.snap.Agents.Wrapping, Lines: waiting, Window30d: r.snap.Last30d, AbandonCap: r.cp.AbandonCap,
		Concurrency: r.cp.Concurrency, RatePerMinute: r.cp.RatePerMinute, DialsLastMinute: len(r.st.Recent),
		MaxRatio: r.cp.MaxRatio, Pending: r.snap.Due}
}

func (r *run) opts() workflow.Context {
	return workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
		TaskQueue: activities.SharedQueue, StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
}

// setState keeps the campaign's state in the store.
func (r *run) setState(state string) {
	in := StateInput{Campaign: r.id, State: state}
	if err := workflow.ExecuteActivity(r.opts(), activities.ActCampaignState, in).Get(r.ctx, nil); err != nil {
		workflow.GetLogger(r.ctx).Warn("set campaign state", "campaign", r.id, "state", state, "error", err)
	}
}
