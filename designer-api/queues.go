package designerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// QueueNameParam is the path parameter naming a queue.
type QueueNameParam struct {
	Name string `path:"name" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" doc:"Queue name"`
}

// OverflowStep widens who may take a caller once the caller has waited
// After: other required skills, none at all, or another queue's agents.
type OverflowStep struct {
	After       string   `json:"after" doc:"Go duration, e.g. 60s; each step later than the one before"`
	Skills      []string `json:"skills,omitempty" doc:"Skills required instead, as name or name:level (1 to 10)"`
	ClearSkills bool     `json:"clear_skills,omitempty" doc:"Require no skills at all"`
	Queue       string   `json:"queue,omitempty" doc:"Move the caller to this queue (it must exist)"`
}

// QueueSettings are a queue's settings. Durations are Go durations
// ("30s", "10m"); an omitted or zero setting takes the default, and
// answers show the defaults in place.
type QueueSettings struct {
	HoldFlow      string         `json:"hold_flow" required:"false" doc:"The flow a waiting caller hears, cycle after cycle (default queue-hold)"`
	AnnounceEvery string         `json:"announce_every" required:"false" doc:"How often a caller hears position and wait (default 30s)"`
	MaxWait       string         `json:"max_wait" required:"false" doc:"How long a caller waits before leaving with a timeout (default 10m)"`
	MaxWaiting    int            `json:"max_waiting" required:"false" minimum:"0" doc:"Callers waiting at most; more are turned away (0: no limit)"`
	RingTimeout   string         `json:"ring_timeout" required:"false" doc:"How long one agent rings before the next is tried (default 20s)"`
	WrapUp        string         `json:"wrap_up" required:"false" doc:"An agent's after-call time before the next call (default 30s)"`
	SLThreshold   string         `json:"sl_threshold" required:"false" doc:"Calls answered within it count toward the service level (default 20s)"`
	Overflow      []OverflowStep `json:"overflow" required:"false" doc:"Overflow steps, by increasing after"`
}

// Queue is a stored queue, its settings with defaults applied, and what
// the router shows of it now.
type Queue struct {
	Name string `json:"name"`
	QueueSettings
	CreatedAt time.Time  `json:"created_at,omitzero"`
	UpdatedAt time.Time  `json:"updated_at,omitzero"`
	Live      *QueueLive `json:"live,omitempty" doc:"Absent when the router cannot be asked; live_error says why"`
	LiveError string     `json:"live_error,omitempty"`
}

func queueOf(q store.Queue) Queue {
	q = q.WithDefaults()
	out := Queue{Name: q.Name, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt, QueueSettings: QueueSettings{
		HoldFlow: q.HoldFlow, AnnounceEvery: dur(q.AnnounceEvery), MaxWait: dur(q.MaxWait), MaxWaiting: q.MaxWaiting,
		RingTimeout: dur(q.RingTimeout), WrapUp: dur(q.WrapUp), SLThreshold: dur(q.SLThreshold), Overflow: []OverflowStep{},
	}}
	for _, o := range q.Overflow {
		out.Overflow = append(out.Overflow, OverflowStep{After: dur(o.After), Skills: o.Skills, ClearSkills: o.ClearSkills, Queue: o.Queue})
	}
	return out
}

// withLive adds the queue's figures from the board.
func (q *Queue) withLive(b activities.Board, slThreshold time.Duration) {
	l := queueLiveOf(QueueOnBoard(b, q.Name, slThreshold))
	q.Live = &l
}

// parseDur reads an optional duration of the body ("" is zero: the default).
func parseDur(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, huma.Error422UnprocessableEntity(fmt.Sprintf("%s %q: want a Go duration like 30s or 10m", field, s),
			&huma.ErrorDetail{Message: "want a non-negative Go duration like 30s or 10m", Location: "body." + field, Value: s})
	}
	return d, nil
}

// storeQueue is the queue a PUT body describes; errors are 422 naming the field.
func storeQueue(name string, in QueueSettings) (store.Queue, error) {
	q := store.Queue{Name: name, HoldFlow: in.HoldFlow, MaxWaiting: in.MaxWaiting}
	for _, f := range []struct {
		field string
		s     string
		d     *time.Duration
	}{
		{"announce_every", in.AnnounceEvery, &q.AnnounceEvery}, {"max_wait", in.MaxWait, &q.MaxWait},
		{"ring_timeout", in.RingTimeout, &q.RingTimeout}, {"wrap_up", in.WrapUp, &q.WrapUp},
		{"sl_threshold", in.SLThreshold, &q.SLThreshold},
	} {
		d, err := parseDur(f.field, f.s)
		if err != nil {
			return q, err
		}
		*f.d = d
	}
	for i, o := range in.Overflow {
		after, err := parseDur(fmt.Sprintf("overflow[%d].after", i), o.After)
		if err != nil {
			return q, err
		}
		if _, err := routing.ParseRequirements(o.Skills); err != nil {
			field := fmt.Sprintf("overflow[%d].skills", i)
			return q, huma.Error422UnprocessableEntity(field+": "+err.Error(),
				&huma.ErrorDetail{Message: err.Error(), Location: "body." + field, Value: o.Skills})
		}
		q.Overflow = append(q.Overflow, store.QueueOverflow{After: after, Skills: o.Skills, ClearSkills: o.ClearSkills, Queue: o.Queue})
	}
	return q, nil
}

type queueOutput struct {
	Body Queue
}

type queuesOutput struct {
	Body struct {
		Queues    []Queue `json:"queues"`
		LiveError string  `json:"live_error,omitempty" doc:"Why the queues have no live figures"`
	}
}

type putQueueInput struct {
	QueueNameParam
	Body QueueSettings
}

func (s *server) registerQueues(api huma.API) {
	huma.Register(api, routingOp("list-queues", http.MethodGet, "/queues", RoleViewer,
		"Every queue: its settings with defaults applied and its live figures"),
		requires(s.needStore, s.listQueues))
	huma.Register(api, routingOp("get-queue", http.MethodGet, "/queues/{name}", RoleViewer,
		"One queue: its settings with defaults applied and its live figures"),
		requires(s.needStore, s.getQueue))
	huma.Register(api, routingOp("put-queue", http.MethodPut, "/queues/{name}", RolePublisher,
		"Create or replace a queue (omitted settings take the defaults); calls joining from now on get the new settings"),
		requires(s.needStore, s.putQueue))
	o := routingOp("delete-queue", http.MethodDelete, "/queues/{name}", RolePublisher,
		"Delete a queue (409 while another queue overflows to it)")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, requires(s.needStore, s.deleteQueue))
}

func (s *server) listQueues(ctx context.Context, _ *struct{}) (*queuesOutput, error) {
	qs, err := s.cfg.Store.Queues(ctx)
	if err != nil {
		return nil, s.fail("list queues", err)
	}
	out := &queuesOutput{}
	out.Body.Queues = []Queue{}
	b, why, live := s.liveBoard(ctx)
	for _, q := range qs {
		v := queueOf(q)
		if live {
			v.withLive(b, q.WithDefaults().SLThreshold)
		}
		out.Body.Queues = append(out.Body.Queues, v)
	}
	out.Body.LiveError = why
	return out, nil
}

// queue is a stored queue with its live figures when they can be had.
func (s *server) queue(ctx context.Context, name string) (*queueOutput, error) {
	q, err := s.cfg.Store.Queue(ctx, name)
	if err != nil {
		return nil, s.fail("get queue", err)
	}
	v := queueOf(q)
	if b, why, live := s.liveBoard(ctx); live {
		v.withLive(b, q.WithDefaults().SLThreshold)
	} else {
		v.LiveError = why
	}
	return &queueOutput{Body: v}, nil
}

func (s *server) getQueue(ctx context.Context, in *QueueNameParam) (*queueOutput, error) {
	return s.queue(ctx, in.Name)
}

func (s *server) putQueue(ctx context.Context, in *putQueueInput) (*queueOutput, error) {
	q, err := storeQueue(in.Name, in.Body)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Store.PutQueue(ctx, q); err != nil {
		if errors.Is(err, store.ErrNotFound) { // an overflow queue: the body is wrong, not the path
			return nil, huma.Error422UnprocessableEntity(err.Error() + ": create that queue first")
		}
		return nil, s.fail("put queue", err)
	}
	return s.queue(ctx, in.Name)
}

func (s *server) deleteQueue(ctx context.Context, in *QueueNameParam) (*struct{}, error) {
	if err := s.cfg.Store.DeleteQueue(ctx, in.Name); err != nil {
		return nil, s.fail("delete queue", err)
	}
	return nil, nil
}

// Callback is a call back a caller asked for instead of waiting.
type Callback struct {
	ID        string    `json:"id"`
	Queue     string    `json:"queue"`
	Number    string    `json:"number" doc:"The number to call"`
	CallID    string    `json:"call_id" doc:"The call that asked"`
	Timezone  string    `json:"timezone,omitempty" doc:"The caller's IANA time zone, if known"`
	State     string    `json:"state" enum:"scheduled,waiting,dialing,done,failed,cancelled"`
	Outcome   string    `json:"outcome,omitempty"`
	Agent     string    `json:"agent,omitempty" doc:"Who took it"`
	DueAt     time.Time `json:"due_at"`
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type callbacksInput struct {
	State string `query:"state" enum:"scheduled,waiting,dialing,done,failed,cancelled" doc:"Only callbacks in this state"`
	Queue string `query:"queue" doc:"Only callbacks of this queue"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

type callbacksOutput struct {
	Body struct {
		Callbacks []Callback `json:"callbacks" doc:"Soonest due first"`
	}
}

func (s *server) listCallbacks(ctx context.Context, in *callbacksInput) (*callbacksOutput, error) {
	cbs, err := s.cfg.Store.Callbacks(ctx, store.CallbackQuery{State: in.State, Queue: in.Queue, Limit: in.Limit})
	if err != nil {
		return nil, s.fail("list callbacks", err)
	}
	out := &callbacksOutput{}
	out.Body.Callbacks = []Callback{}
	for _, c := range cbs {
		out.Body.Callbacks = append(out.Body.Callbacks, Callback{ID: c.ID, Queue: c.Queue, Number: c.Number, CallID: c.CallID,
			Timezone: c.Timezone, State: c.State, Outcome: c.Outcome, Agent: c.Agent, DueAt: c.DueAt, Attempts: c.Attempts,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt})
	}
	return out, nil
}
