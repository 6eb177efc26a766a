package router

import (
	"cmp"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// view is an agent as the board shows it.
func (r *router) view(a *Agent) activities.AgentView {
	now := r.now()
	v := activities.AgentView{Name: a.Name, State: string(a.state(now)), Reason: a.Reason, Since: a.Since,
		Skills: routing.Skills(a.Profile.Skills).Strings(), Queues: a.Profile.Queues, Capacity: a.capacity(),
		Alert: a.Alert, AlertSince: a.AlertSince}
	for _, e := range a.Calls {
		v.Calls = append(v.Calls, e.CallID)
	}
	if shown := a.state(now); shown != a.Base {
		v.Pending = string(a.Base)
	}
	return v
}

// board answers QueryBoard.
func (r *router) board() (activities.Board, error) {
	now := r.now()
	b := activities.Board{At: now, Window: r.windowSpan()}
	for _, q := range r.st.Queues {
		b.Queues = append(b.Queues, r.queueView(q, now))
	}
	for _, a := range r.st.Agents {
		b.Agents = append(b.Agents, r.view(a))
	}
	return b, nil
}

func (r *router) queueView(q *Queue, now time.Time) activities.QueueView {
	name := q.Settings.Name
	st := q.Window.Stats(now)
	v := activities.QueueView{Name: name, Answered: st.Answered, Abandoned: st.Abandoned,
		ServiceLevel: st.ServiceLevel, SLThreshold: q.Settings.SLThreshold, AHT: st.AHT, AvgWait: st.AvgWait}
	for _, w := range r.st.Waiters {
		if w.Queue != name {
			continue
		}
		if w.Offered != "" {
			v.Offered++
			continue
		}
		v.Waiting++
		v.LongestWait = max(v.LongestWait, now.Sub(w.EnqueuedAt))
	}
	v.Staffed, v.Available = r.staffing(name, now)
	v.EstimatedWait = routing.EstimateWait(v.Waiting+1, v.Staffed, st.AHT)
	return v
}

// staffing counts the agents signed in to a queue, and those free now.
func (r *router) staffing(queue string, now time.Time) (staffed, available int) {
	for _, a := range r.st.Agents {
		if !a.serves(queue) || a.Base == routing.Offline {
			continue
		}
		staffed++
		if a.state(now) == routing.Available && len(a.Calls) < a.capacity() {
			available++
		}
	}
	return staffed, available
}

// staffedFor counts the agents signed in (not offline) who could take
// this call: they serve its queue and have its skills (as overflow has
// widened them by now).
func (r *router) staffedFor(w *Waiter, now time.Time) int {
	queue, needs := w.Queue, w.Needs
	if q := r.st.queue(w.Queue); q != nil {
		queue, needs = routing.Effective(w.Waiter, q.Rules, now)
	}
	n := 0
	for _, a := range r.st.Agents {
		if a.Base != routing.Offline && a.serves(queue) && routing.Skills(a.Profile.Skills).Meets(needs) {
			n++
		}
	}
	return n
}

// position answers QueryPosition for one call.
func (r *router) position(call string) (activities.Position, error) {
	_, w := r.st.waiter(call)
	if w == nil {
		return activities.Position{}, nil
	}
	return r.positionOf(w), nil
}

// positionOf is a waiting call's place among the calls of its queue not
// yet offered, in the order the policy serves them: priority, then time
// waited, then arrival.
func (r *router) positionOf(w *Waiter) activities.Position {
	now := r.now()
	p := activities.Position{Queue: w.Queue, Found: true, Waited: now.Sub(w.EnqueuedAt)}
	ahead := 0
	for _, o := range r.st.Waiters {
		if o.Queue != w.Queue || o.Offered != "" {
			continue
		}
		p.Waiting++
		if o != w && servedBefore(o, w) {
			ahead++
		}
	}
	p.Position = ahead + 1
	staffed := r.staffedFor(w, now)
	p.Staffed = staffed
	aht := routing.DefaultAHT
	if q := r.st.queue(w.Queue); q != nil {
		aht = q.Window.Stats(now).AHT
	}
	p.EstimatedWait = routing.EstimateWait(p.Position, staffed, aht)
	return p
}

func servedBefore(a, b *Waiter) bool {
	return cmp.Or(
		cmp.Compare(b.Priority, a.Priority),
		a.EnqueuedAt.Compare(b.EnqueuedAt),
		cmp.Compare(a.Seq, b.Seq),
	) < 0
}
