package builtin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// ErrUnknownQueue: a queue node named a queue that is not defined.
var ErrUnknownQueue = errors.New("unknown queue")

// QueueDirectory returns a queue's settings; an error wrapping
// ErrUnknownQueue is the flow's mistake, not an outage.
type QueueDirectory interface {
	QueueSettings(ctx context.Context, name string) (activities.QueueSettings, error)
}

// RouterClient reaches the router workflow.
type RouterClient interface {
	Join(ctx context.Context, req activities.JoinRequest) (activities.JoinResult, error)
	Position(ctx context.Context, call string) (activities.Position, error)
}

// CallbackSink keeps callbacks' states for listing.
type CallbackSink interface {
	SaveCallback(ctx context.Context, cb activities.CallbackRecord) error
}

// WrapUpSink keeps an agent's wrap-up in the call's record.
type WrapUpSink interface {
	SetCDRWrapUp(ctx context.Context, callID, agent string, wrapUp time.Duration, disposition, notes string) error
}

// joinQueue loads the queue's settings and joins the call to it.
func (a *Activities) joinQueue(ctx context.Context, in activities.JoinInput) (activities.JoinResult, error) {
	if a.Queues == nil || a.Routing == nil {
		return activities.JoinResult{}, fmt.Errorf("join queue %q: this process runs no routing", in.Queue)
	}
	settings, err := a.Queues.QueueSettings(ctx, in.Queue)
	if errors.Is(err, ErrUnknownQueue) {
		return activities.JoinResult{}, activities.NewBadInput(fmt.Errorf("queue %q: %w (define it with `voxflow queues put %s` or PUT /api/v1/queues/%s)", in.Queue, err, in.Queue, in.Queue))
	}
	if err != nil {
		return activities.JoinResult{}, fmt.Errorf("queue %q: %w", in.Queue, err)
	}
	res, err := a.Routing.Join(ctx, activities.JoinRequest{JoinInput: in, Settings: settings})
	if err != nil {
		return res, fmt.Errorf("join queue %q: %w", in.Queue, err)
	}
	return res, nil
}

func (a *Activities) queuePosition(ctx context.Context, call string) (activities.Position, error) {
	if a.Routing == nil {
		return activities.Position{}, errors.New("queue position: this process runs no routing")
	}
	return a.Routing.Position(ctx, call)
}

func (a *Activities) saveWrapUp(ctx context.Context, in activities.SaveWrapUpInput) error {
	if a.WrapUps == nil {
		return nil
	}
	if err := a.WrapUps.SetCDRWrapUp(ctx, in.CallID, in.Agent, in.WrapUp, in.Disposition, in.Notes); err != nil {
		return fmt.Errorf("save wrap-up of call %s by %s: %w", in.CallID, in.Agent, err)
	}
	return nil
}

func (a *Activities) saveCallback(ctx context.Context, cb activities.CallbackRecord) error {
	if a.Callbacks == nil {
		return nil
	}
	if err := a.Callbacks.SaveCallback(ctx, cb); err != nil {
		return fmt.Errorf("save callback %s: %w", cb.ID, err)
	}
	return nil
}
