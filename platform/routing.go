package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/builtin"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/routing/router"
	"github.com/voxflow/voxflow/store"
)

// Router reaches the router workflow: calls join queues through it, and
// the API and CLI read the board and change agents' states. Every write
// is an update-with-start, so the first one starts the router.
type Router struct {
	Client client.Client
}

// startRouter is the router's start, used only when it is not running.
func (r Router) startRouter() client.WithStartWorkflowOperation {
	return r.Client.NewWithStartWorkflowOperation(client.StartWorkflowOptions{
		ID: activities.RouterWorkflowID, TaskQueue: activities.EngineQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, activities.RouterWorkflowName, router.Input{})
}

// update runs an update on the router, starting it if needed. A failure
// that is not the router's refusal (too many updates in flight, a router
// task that failed, a timeout waiting for the result) is tried again with
// the same update ID, so the router applies it once.
func (r Router) update(ctx context.Context, name, id string, arg, out any) error {
	if id == "" {
		id = name + "/" + uuid.NewString()
	}
	var err error
	for attempt, wait := 0, 50*time.Millisecond; attempt < updateAttempts; attempt, wait = attempt+1, wait*2 {
		if err = r.updateOnce(ctx, name, id, arg, out); err == nil || refusedUpdate(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
	return err
}

// updateAttempts bounds update retries (about 1.5 s of back-off in all).
const updateAttempts = 5

func (r Router) updateOnce(ctx context.Context, name, id string, arg, out any) error {
	h, err := r.Client.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: r.startRouter(),
		UpdateOptions: client.UpdateWorkflowOptions{UpdateID: id, UpdateName: name, Args: []any{arg},
			WaitForStage: client.WorkflowUpdateStageCompleted},
	})
	if err != nil {
		return err
	}
	return h.Get(ctx, out)
}

// refusedUpdate tells the router's answer "no" (a validator or handler
// error, which retrying repeats) from a failure to reach it.
func refusedUpdate(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae)
}

// Join adds a call to a queue (builtin.RouterClient). The update ID is
// the call and its stay's token, so a retried join is answered once.
func (r Router) Join(ctx context.Context, req activities.JoinRequest) (activities.JoinResult, error) {
	var res activities.JoinResult
	err := r.update(ctx, activities.UpdateJoin, "join/"+req.Call+"/"+req.Token, req, &res)
	return res, err
}

// Position asks where a waiting call stands.
func (r Router) Position(ctx context.Context, call string) (activities.Position, error) {
	var p activities.Position
	err := r.query(ctx, activities.QueryPosition, &p, call)
	return p, err
}

// Board is the live picture of queues and agents; empty before the router
// first started.
func (r Router) Board(ctx context.Context) (activities.Board, error) {
	var b activities.Board
	err := r.query(ctx, activities.QueryBoard, &b)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return activities.Board{}, nil
	}
	return b, err
}

// SetAgent changes an agent's state (and profile); a refused change
// (unknown state, no profile) is an error that says why.
func (r Router) SetAgent(ctx context.Context, req activities.AgentRequest) (activities.AgentView, error) {
	var v activities.AgentView
	err := r.update(ctx, activities.UpdateAgent, "", req, &v)
	return v, err
}

// WrapUp ends an agent's wrap-up with a disposition.
func (r Router) WrapUp(ctx context.Context, req activities.WrapUpRequest) (activities.AgentView, error) {
	var v activities.AgentView
	err := r.update(ctx, activities.UpdateWrapUp, "", req, &v)
	return v, err
}

func (r Router) query(ctx context.Context, name string, out any, args ...any) error {
	v, err := r.Client.QueryWorkflow(ctx, activities.RouterWorkflowID, "", name, args...)
	if err != nil {
		return fmt.Errorf("query router %s: %w", name, err)
	}
	return v.Get(out)
}

// StoreQueues reads queue settings from the store (builtin.QueueDirectory).
type StoreQueues struct{ Store *store.Store }

// QueueSettings returns a queue's settings with defaults in place.
func (s StoreQueues) QueueSettings(ctx context.Context, name string) (activities.QueueSettings, error) {
	q, err := s.Store.Queue(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return activities.QueueSettings{}, builtin.ErrUnknownQueue
	}
	if err != nil {
		return activities.QueueSettings{}, err
	}
	return QueueSettingsOf(q), nil
}

// QueueSettingsOf is a stored queue as routing sees it, defaults applied.
func QueueSettingsOf(q store.Queue) activities.QueueSettings {
	q = q.WithDefaults()
	s := activities.QueueSettings{Name: q.Name, HoldFlow: q.HoldFlow, AnnounceEvery: q.AnnounceEvery,
		MaxWait: q.MaxWait, MaxWaiting: q.MaxWaiting, RingTimeout: q.RingTimeout, WrapUp: q.WrapUp,
		SLThreshold: q.SLThreshold}
	for _, o := range q.Overflow {
		s.Overflow = append(s.Overflow, activities.Overflow{After: o.After, Skills: o.Skills, ClearSkills: o.ClearSkills, Queue: o.Queue})
	}
	return s
}

// implicitQueues serves a process with no store (the embedded simulator):
// every queue exists with the default settings and no hold flow.
type implicitQueues struct{}

func (implicitQueues) QueueSettings(ctx context.Context, name string) (activities.QueueSettings, error) {
	s := QueueSettingsOf(store.Queue{Name: name})
	s.HoldFlow = ""
	return s, nil
}

// StoreCallbacks keeps callbacks' states in the store (builtin.CallbackSink).
type StoreCallbacks struct{ Store *store.Store }

// SaveCallback writes a callback's row; the first write creates it.
func (s StoreCallbacks) SaveCallback(ctx context.Context, cb activities.CallbackRecord) error {
	return s.Store.PutCallback(ctx, store.Callback{ID: cb.ID, Queue: cb.Queue, Number: cb.Number, CallID: cb.CallID,
		Timezone: cb.Timezone, State: cb.State, Outcome: cb.Outcome, Agent: cb.Agent, DueAt: cb.DueAt, Attempts: cb.Attempts})
}

// ErrCallbackInPast: a scheduled callback's time has already passed.
var ErrCallbackInPast = errors.New("callback time is in the past")

// ScheduleCallback starts a callback for a queue: at DueAt (zero: now) it
// waits its turn, reserves an agent, then calls Number. The ID names it
// (empty: a new one); starting the same ID twice starts it once.
func (r Router) ScheduleCallback(ctx context.Context, in engine.CallbackInput, now time.Time) (string, error) {
	if !in.DueAt.IsZero() && in.DueAt.Before(now) {
		return "", fmt.Errorf("%w: %s is before now (%s)", ErrCallbackInPast, in.DueAt.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	_, err := r.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: activities.CallbackWorkflowID(in.ID), TaskQueue: activities.EngineQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, activities.CallbackWorkflowName, in)
	if err != nil {
		return "", fmt.Errorf("start callback %s: %w", in.ID, err)
	}
	return in.ID, nil
}

// RequestCallback schedules a callback of the API's kind (no call asked
// for it): it is a CallbackWorkflow due at cb.DueAt (zero: now).
func (r Router) RequestCallback(ctx context.Context, cb activities.CallbackRecord) (activities.CallbackRecord, error) {
	id, err := r.ScheduleCallback(ctx, engine.CallbackInput{ID: cb.ID, Queue: cb.Queue, Number: cb.Number,
		CallID: cb.CallID, Timezone: cb.Timezone, DueAt: cb.DueAt}, time.Now())
	if err != nil {
		return cb, err
	}
	cb.ID, cb.State = id, activities.CallbackScheduled
	if cb.CallID == "" {
		cb.CallID = activities.CallbackCallID(id)
	}
	if cb.DueAt.IsZero() {
		cb.DueAt = time.Now()
	}
	return cb, nil
}
