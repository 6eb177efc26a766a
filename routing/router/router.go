// Package router is the routing workflow: one long-lived workflow per
// namespace (activities.RouterWorkflowID) that holds every queue's waiting
// calls and every agent's state, and pairs them with routing.Assign.
//
// One workflow, not one per queue: an agent serves several queues, and the
// agent's state must have one owner so that two queues never reserve the
// same agent. Temporal runs the workflow's handlers one at a time, so each
// assignment sees the state the last one left: nobody is assigned twice,
// even across restarts of every process (the state is the workflow's
// history). History is bounded by continue-as-new, carrying State.
package router

import (
	"errors"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
)

const (
	// DefaultHistoryLimit is when the router continues as new.
	DefaultHistoryLimit = 4000
	// DefaultWindow is the span of each queue's statistics.
	DefaultWindow = 30 * time.Minute
	// offerGrace is added to a reservation's ring timeout before the router
	// gives up on hearing from the call (the call's workflow reports an
	// answer or no answer long before, unless it is gone).
	offerGrace = 30 * time.Second
	// DefaultRingTimeout rings an agent when the queue names no ring time.
	DefaultRingTimeout = 20 * time.Second
)

// Input starts the router, fresh or carrying the last run's state.
type Input struct {
	State        *State        `json:"state,omitempty"`
	HistoryLimit int           `json:"history_limit,omitempty"`
	Window       time.Duration `json:"window,omitempty"`
}

// router is one run's state and context; its handlers and the main loop
// run one at a time (workflow coroutines), never in parallel.
type router struct {
	ctx workflow.Context
	in  Input
	st  *State
	// wake asks the main loop to assign again and recompute its timer.
	wake bool
	// inflight counts offers and wrap-up saves not yet confirmed: the run
	// does not continue as new until they are.
	inflight int
	events   workflow.ReceiveChannel
	// mainLoop: events are taken and the next deadline's timer kept by the
	// main loop (changeMainLoop); runs from before used a coroutine and a
	// timer per wait.
	mainLoop bool
	timer    workflow.Future
	timerAt  time.Time
	stopTime workflow.CancelFunc
}

// changeMainLoop: the router takes queue events in its main loop, so an
// event that arrives in the last task before continue-as-new goes with
// the state (a coroutine could hold it unapplied), and it keeps one timer
// for its next deadline instead of starting one per wait.
const (
	changeMainLoop  = "main-loop"
	mainLoopVersion = 1
)

// takeEvents applies every queue event received so far.
func (r *router) takeEvents() {
	var ev activities.QueueEvent
	for r.events.ReceiveAsync(&ev) {
		r.onEvent(ev)
		ev = activities.QueueEvent{}
	}
}

// receiveInCoroutine is how runs before changeMainLoop took events.
func (r *router) receiveInCoroutine() {
	workflow.Go(r.ctx, func(gctx workflow.Context) {
		for {
			var ev activities.QueueEvent
			r.events.Receive(gctx, &ev)
			r.onEvent(ev)
		}
	})
}

// RouterWorkflow runs the router until its history is long enough to
// continue as new.
func RouterWorkflow(ctx workflow.Context, in Input) error {
	r := &router{ctx: ctx, in: in, st: in.State}
	if r.st == nil {
		r.st = &State{}
	}
	if err := r.register(); err != nil {
		return err
	}
	r.events = workflow.GetSignalChannel(ctx, activities.SignalQueueEvent)
	r.mainLoop = workflow.GetVersion(ctx, changeMainLoop, workflow.DefaultVersion, mainLoopVersion) >= mainLoopVersion
	if !r.mainLoop {
		r.receiveInCoroutine()
	}
	for !r.shouldContinue() {
		if r.mainLoop {
			r.takeEvents()
		}
		r.reconcile()
		r.wake = false
		if err := r.sleep(); err != nil {
			return err
		}
	}
	if err := workflow.Await(ctx, func() bool { return r.inflight == 0 && workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	// Signals that arrived in this last task go with the state.
	r.takeEvents()
	next := r.in
	next.State = r.st
	return workflow.NewContinueAsNewError(ctx, RouterWorkflowName, next)
}

// RouterWorkflowName is the name the workflow is registered under.
const RouterWorkflowName = activities.RouterWorkflowName

func (r *router) shouldContinue() bool {
	info := workflow.GetInfo(r.ctx)
	limit := r.in.HistoryLimit
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	return info.GetCurrentHistoryLength() >= limit || info.GetContinueAsNewSuggested()
}

// sleep waits for a change or the next deadline (a reservation that
// expires, a wrap-up that ends, an overflow step that applies).
func (r *router) sleep() error {
	if !r.mainLoop {
		return r.sleepV0()
	}
	if err := r.armTimer(); err != nil {
		return nil // the deadline is due: reconcile now
	}
	return workflow.Await(r.ctx, func() bool {
		return r.wake || r.events.Len() > 0 || r.shouldContinue() || (r.timer != nil && r.timer.IsReady())
	})
}

// errDue: the next deadline has passed already.
var errDue = errors.New("deadline due")

// armTimer keeps one timer, for the next deadline: a new one only when the
// deadline moved or the last one fired.
func (r *router) armTimer() error {
	if r.timer != nil && r.timer.IsReady() {
		r.timer, r.timerAt, r.stopTime = nil, time.Time{}, nil
	}
	next := r.nextDeadline()
	if next.Equal(r.timerAt) {
		return nil
	}
	if r.stopTime != nil {
		r.stopTime()
	}
	r.timer, r.timerAt, r.stopTime = nil, time.Time{}, nil
	if next.IsZero() {
		return nil
	}
	d := next.Sub(r.now())
	if d <= 0 {
		return errDue
	}
	tctx, stop := workflow.WithCancel(r.ctx)
	r.timer, r.timerAt, r.stopTime = workflow.NewTimer(tctx, d), next, stop
	return nil
}

// sleepV0 is the wait of runs before changeMainLoop.
func (r *router) sleepV0() error {
	cond := func() bool { return r.wake || r.shouldContinue() }
	next := r.nextDeadline()
	if next.IsZero() {
		return workflow.Await(r.ctx, cond)
	}
	d := next.Sub(workflow.Now(r.ctx))
	if d <= 0 {
		return nil
	}
	_, err := workflow.AwaitWithTimeout(r.ctx, d, cond)
	return err
}

func (r *router) now() time.Time { return workflow.Now(r.ctx) }

func (r *router) windowSpan() time.Duration {
	if r.in.Window > 0 {
		return r.in.Window
	}
	return DefaultWindow
}

// register installs the updates and queries.
func (r *router) register() error {
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, activities.UpdateJoin, r.join,
		workflow.UpdateHandlerOptions{Validator: validateJoin}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, activities.UpdateAgent, r.setAgent,
		workflow.UpdateHandlerOptions{Validator: r.validateAgent}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(r.ctx, activities.UpdateWrapUp, r.endWrapUp,
		workflow.UpdateHandlerOptions{Validator: r.validateWrapUp}); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(r.ctx, activities.QueryBoard, r.board); err != nil {
		return err
	}
	return workflow.SetQueryHandler(r.ctx, activities.QueryPosition, r.position)
}

// nextDeadline is the earliest time something changes without an event.
func (r *router) nextDeadline() time.Time {
	var next time.Time
	earlier := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, a := range r.st.Agents {
		for _, e := range a.Calls {
			if !e.Answered {
				earlier(e.Deadline)
			}
		}
		if a.Wrap != nil {
			earlier(a.Wrap.Until)
		}
	}
	for _, w := range r.st.Waiters {
		if w.Offered != "" {
			continue
		}
		if q := r.st.queue(w.Queue); q != nil {
			for _, o := range q.Rules.Overflow {
				if t := w.EnqueuedAt.Add(o.After); t.After(r.now()) {
					earlier(t)
					break
				}
			}
		}
	}
	return next
}
