package designerapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// CallbackScheduler starts callbacks; a Routing that implements it
// (platform.Router) lets POST /callbacks schedule one.
type CallbackScheduler interface {
	RequestCallback(ctx context.Context, cb activities.CallbackRecord) (activities.CallbackRecord, error)
}

type scheduleCallbackInput struct {
	Body struct {
		Queue    string `json:"queue" minLength:"1" doc:"The queue whose agents call back"`
		Number   string `json:"number" minLength:"1" doc:"The number (or SIP URI) to call"`
		At       string `json:"at,omitempty" doc:"When, in the caller's time zone: 2006-01-02T15:04, or RFC 3339 with an offset; empty: as soon as an agent is free"`
		Timezone string `json:"timezone,omitempty" doc:"The caller's IANA time zone, like Europe/Paris (default UTC)"`
	}
}

type scheduleCallbackOutput struct {
	Status int
	Body   Callback
}

func (s *server) registerCallbacks(api huma.API) {
	huma.Register(api, routingOp("schedule-callback", http.MethodPost, "/callbacks", RoleOperator,
		"Schedule a callback: at its time it waits for a free agent of the queue, reserves them, then calls the number"),
		requires(s.needStore, requires(s.needScheduler, s.scheduleCallback)))
}

func (s *server) needScheduler() error {
	if err := s.needRouting(); err != nil {
		return err
	}
	if _, ok := s.cfg.Routing.(CallbackScheduler); !ok {
		return huma.Error503ServiceUnavailable("routing here cannot start callbacks")
	}
	return nil
}

func (s *server) scheduleCallback(ctx context.Context, in *scheduleCallbackInput) (*scheduleCallbackOutput, error) {
	b := in.Body
	if _, err := s.cfg.Store.Queue(ctx, b.Queue); errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error422UnprocessableEntity("unknown queue", &huma.ErrorDetail{Message: "no such queue: define it with PUT /api/v1/queues/" + b.Queue, Location: "body.queue", Value: b.Queue})
	} else if err != nil {
		return nil, s.fail("schedule callback", err)
	}
	due, err := callbackTime(b.At, b.Timezone, time.Now())
	if err != nil {
		return nil, err
	}
	cb, err := s.cfg.Routing.(CallbackScheduler).RequestCallback(ctx, activities.CallbackRecord{
		Queue: b.Queue, Number: b.Number, Timezone: b.Timezone, DueAt: due})
	if err != nil {
		return nil, s.routingFail("schedule callback", err, huma.Error422UnprocessableEntity)
	}
	return &scheduleCallbackOutput{Status: http.StatusCreated, Body: Callback{ID: cb.ID, Queue: cb.Queue, Number: cb.Number,
		CallID: cb.CallID, Timezone: cb.Timezone, State: cb.State, DueAt: cb.DueAt}}, nil
}

// callbackTime reads a callback's time (routing.CallbackTime) and answers
// what is wrong with it as a problem naming the field.
func callbackTime(at, zone string, now time.Time) (time.Time, error) {
	due, err := routing.CallbackTime(at, zone, now)
	switch {
	case errors.Is(err, routing.ErrCallbackZone):
		return due, huma.Error422UnprocessableEntity("bad time zone",
			&huma.ErrorDetail{Message: routing.ErrCallbackZone.Error(), Location: "body.timezone", Value: zone})
	case errors.Is(err, routing.ErrCallbackAt):
		return due, huma.Error422UnprocessableEntity("bad time",
			&huma.ErrorDetail{Message: routing.ErrCallbackAt.Error(), Location: "body.at", Value: at})
	case err != nil:
		return due, huma.Error422UnprocessableEntity("callback time is in the past",
			&huma.ErrorDetail{Message: err.Error(), Location: "body.at", Value: at})
	}
	return due, nil
}
