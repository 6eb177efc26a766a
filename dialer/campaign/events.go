package campaign

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/pacing"
)

// drain handles the signals that arrived, without blocking.
func (r *run) drain() {
	for {
		var ctl activities.CampaignControl
		if !r.controlCh.ReceiveAsync(&ctl) {
			break
		}
		r.control(ctl)
	}
	for {
		var ev activities.CampaignCallEvent
		if !r.callCh.ReceiveAsync(&ev) {
			break
		}
		r.callEvent(ev)
	}
}

// wait blocks until a signal or the next tick.
func (r *run) wait() {
	tctx, cancel := workflow.WithCancel(r.ctx)
	defer cancel()
	sel := workflow.NewSelector(r.ctx)
	sel.AddReceive(r.controlCh, func(ch workflow.ReceiveChannel, _ bool) {
		var ctl activities.CampaignControl
		ch.Receive(r.ctx, &ctl)
		r.control(ctl)
	})
	sel.AddReceive(r.callCh, func(ch workflow.ReceiveChannel, _ bool) {
		var ev activities.CampaignCallEvent
		ch.Receive(r.ctx, &ev)
		r.callEvent(ev)
	})
	if d := r.sleep(); d > 0 {
		sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	}
	sel.Select(r.ctx)
}

// sleep is how long to wait for a signal before looking again; 0 waits
// for a signal only (paused or stopping with no line).
func (r *run) sleep() time.Duration {
	now := workflow.Now(r.ctx)
	switch {
	case r.st.Status != statusRunning && len(r.st.Lines) == 0:
		return 0
	case r.st.Status != statusRunning:
		return checkEvery
	case r.snap.Due && r.snap.Agents.SignedIn == 0 && r.cp.Mode != records.PaceAgentless && len(r.st.Lines) == 0:
		return 2 * tick // nobody to dial for: look less often
	case r.snap.Due || len(r.st.Lines) > 0:
		return r.untilFree(tick)
	case r.snap.Pending:
		return min(max(r.snap.NextDue.Sub(now), tick), idleTick)
	}
	return idleTick
}

// freeMargin follows a wrap-up's end: the router's timer task must have
// run before its board shows the agent available.
const freeMargin = 20 * time.Millisecond

// untilFree cuts a wait to just after the first agent's wrap-up ends, so
// that an agent pacing dials for is dialled for at once, not on the next
// tick. A wrap-up end already past (the router's board lags, or its
// wrap-up runs longer than the queue's setting) is left to the tick, so
// a lagging board is never polled in a tight loop.
func (r *run) untilFree(d time.Duration) time.Duration {
	now, free := workflow.Now(r.ctx), r.snap.Agents.FreeAt
	if h := r.freeHint; h.After(now) && (free.IsZero() || h.Before(free)) {
		free = h
	}
	if free.IsZero() || !r.snap.Due {
		return d
	}
	wait := free.Sub(now) + freeMargin
	if wait <= 0 {
		return d
	}
	return min(d, wait)
}

// control applies a manager's or an agent's request.
func (r *run) control(ctl activities.CampaignControl) {
	switch ctl.Action {
	case activities.CampaignPause:
		if r.st.Status == statusRunning {
			r.st.Status = statusPaused
		}
	case activities.CampaignResume:
		r.st.Status = statusRunning
	case activities.CampaignStop:
		r.st.Status = statusStopping
	case activities.CampaignPreview:
		if r.st.Status == statusRunning && len(r.st.Lines) < maxLines {
			r.dialAll([]records.Contact{{ID: ctl.Contact}}, ctl.Agent)
		}
	}
}

// callEvent follows a dial: answered, connected to an agent, ended.
func (r *run) callEvent(ev activities.CampaignCallEvent) {
	i := slices.IndexFunc(r.st.Lines, func(l Line) bool { return l.CallID == ev.CallID })
	if i < 0 {
		return // ended already (found by checkLines), or not this run's
	}
	l := &r.st.Lines[i]
	switch ev.Stage {
	case activities.CampaignCallAnswered:
		l.AnsweredAt = ev.At
	case activities.CampaignCallConnected:
		l.Connected = true
		r.observeDial(*l, activities.CampaignCallEvent{Outcome: records.AttemptHuman, At: ev.At})
	case stageReleased:
		r.st.Lines = slices.Delete(r.st.Lines, i, i+1)
	case activities.CampaignCallEnded:
		line := *l
		r.st.Lines = slices.Delete(r.st.Lines, i, i+1)
		r.ended(line, ev)
	}
}

// observeDial tells pacing a dial left the lines: connected to an agent,
// or ended without one.
func (r *run) observeDial(l Line, ev activities.CampaignCallEvent) {
	if l.StartedAt.IsZero() {
		return // taken over from an earlier run: its timing is unknown
	}
	o := pacing.Observation{Outcome: ev.Outcome, Ring: ev.At.Sub(l.StartedAt)}
	if !l.AnsweredAt.IsZero() {
		o.Ring, o.Wait = l.AnsweredAt.Sub(l.StartedAt), ev.At.Sub(l.AnsweredAt)
	}
	r.st.Controller.Observe(o)
}

// ended feeds an ended dial to pacing (a connected one as a handled call:
// its talk and the queue's wrap-up) and records it.
func (r *run) ended(l Line, ev activities.CampaignCallEvent) {
	if l.Connected {
		r.st.Controller.Observe(pacing.Observation{Outcome: pacing.OutcomeHandled, Talk: ev.Talk,
			Wrap: max(ev.Wrap, r.snap.Agents.WrapUp)})
		r.freeHint = ev.At.Add(r.snap.Agents.WrapUp)
	} else {
		r.observeDial(l, ev)
	}
	in := FinishInput{Campaign: r.cp, Event: ev}
	var next records.Contact
	if err := workflow.ExecuteActivity(r.opts(), activities.ActCampaignFinish, in).Get(r.ctx, &next); err != nil {
		workflow.GetLogger(r.ctx).Error("record a finished dial", "campaign", r.id, "call", ev.CallID, "error", err)
		return
	}
	if next.State == records.ContactPending && !r.snap.Pending {
		// A retry is due later: the snapshot, read before this Finish,
		// does not know it, and finished must not end the campaign.
		r.snap.Pending, r.snap.NextDue = true, next.NextAt
	}
}

// checkLines looks, every checkEvery, for lines whose call ended without
// a word (or never started) and ends them from their records.
func (r *run) checkLines() {
	now := workflow.Now(r.ctx)
	if len(r.st.Lines) == 0 || now.Sub(r.st.CheckedAt) < checkEvery && !r.hasRecovered() {
		return
	}
	r.st.CheckedAt = now
	var stale []Line
	for _, l := range r.st.Lines {
		if l.StartedAt.IsZero() || now.Sub(l.StartedAt) >= staleLine {
			stale = append(stale, l)
		}
	}
	if len(stale) == 0 {
		return
	}
	var evs []activities.CampaignCallEvent
	in := CheckInput{Campaign: r.id, Lines: stale}
	if err := workflow.ExecuteActivity(r.opts(), activities.ActCampaignCheck, in).Get(r.ctx, &evs); err != nil {
		workflow.GetLogger(r.ctx).Warn("check lines", "campaign", r.id, "error", err)
		return
	}
	for _, ev := range evs {
		r.callEvent(ev)
	}
	for i := range r.st.Lines {
		if r.st.Lines[i].StartedAt.IsZero() { // still running: a recovered line
			r.st.Lines[i].StartedAt = now
		}
	}
}

// hasRecovered: a line taken over from an earlier run waits for a check.
func (r *run) hasRecovered() bool {
	return slices.ContainsFunc(r.st.Lines, func(l Line) bool { return l.StartedAt.IsZero() })
}

// live is the campaign's picture for the API (query handler).
func (r *run) live() (records.CampaignLive, error) {
	lines := 0
	for _, l := range r.st.Lines {
		if !l.Connected {
			lines++
		}
	}
	out := records.CampaignLive{Campaign: r.id, State: r.st.Status, Pacing: r.dec.Pacing, Reason: r.dec.Reason,
		Lines: lines, Ratio: r.dec.Ratio, AgentsSignedIn: r.snap.Agents.SignedIn, AgentsAvailable: r.snap.Agents.Available,
		AgentsBusy: r.snap.Agents.Busy, Abandon30d: r.snap.Last30d.AbandonRate(), At: r.snap.At}
	if r.st.Occ.SignedIn > 0 {
		out.Occupancy = r.st.Occ.Busy / r.st.Occ.SignedIn
	}
	if r.st.Status == statusStopping {
		out.State = records.CampaignStopped
	}
	return out, nil
}
