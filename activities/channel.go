package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"
)

// Channel is a media channel: it holds live calls (SIP, WebRTC, text chat)
// and does what a flow asks of the caller. Each method serves the media
// activity of the same name for calls on the channel's queue; an
// implementation returns NewCallGone once the caller is no longer there and
// NewBadInput for a request it cannot serve. One flow runs on every
// channel: CallStart.Channel tells them apart (`call.channel`).
type Channel interface {
	// Queue is the task queue of the channel's media activities,
	// MediaQueue(id) of the process that holds the calls.
	Queue() string
	Play(ctx context.Context, in PlayInput) error
	Collect(ctx context.Context, in CollectInput) (CollectResult, error)
	Record(ctx context.Context, in RecordInput) (RecordResult, error)
	Transfer(ctx context.Context, in TransferInput) (TransferResult, error)
	Hangup(ctx context.Context, in HangupInput) error
	// Originate places an outbound call whose session is keyed by in.CallID.
	Originate(ctx context.Context, in OriginateInput) (OriginateResult, error)
}

// RegisterChannel registers ch's media activities under their contract
// names on r, a worker polling ch.Queue().
func RegisterChannel(r Registrar, ch Channel) {
	r.RegisterActivityWithOptions(ch.Play, activity.RegisterOptions{Name: ActPlay})
	r.RegisterActivityWithOptions(ch.Collect, activity.RegisterOptions{Name: ActCollect})
	r.RegisterActivityWithOptions(ch.Record, activity.RegisterOptions{Name: ActRecord})
	r.RegisterActivityWithOptions(ch.Transfer, activity.RegisterOptions{Name: ActTransfer})
	r.RegisterActivityWithOptions(ch.Hangup, activity.RegisterOptions{Name: ActHangup})
	r.RegisterActivityWithOptions(ch.Originate, activity.RegisterOptions{Name: ActOriginate})
}

// Route is what a channel learns about a dialled number before it answers:
// the flow version serving it and the channel settings that flow declares.
type Route struct {
	Flow FlowSource
	// EarlyMedia: the flow's settings.early_media (play prompts before the
	// call is answered).
	EarlyMedia bool
}

// ErrNoRoute is wrapped by a Routes look-up when no published flow serves
// the number (a channel answers it as "not found", not as a failure).
var ErrNoRoute = errors.New("no published flow serves this number")

// Routes finds the flow serving a dialled number.
type Routes interface {
	Route(ctx context.Context, number string) (Route, error)
}

// CallStart is what a channel knows of a new inbound call when it asks for
// its workflow to be started; the platform's launcher turns it into the
// engine's input.
type CallStart struct {
	CallID    string
	From, To  string
	Channel   string // "sip", "text", ...
	StartedAt time.Time
	Headers   map[string]string
	Flow      FlowSource
	// Vars override the flow's initial variables.
	Vars       map[string]any
	MediaQueue string
	// CallbackTo is where to call the caller back if the channel's worker
	// dies mid-call (a SIP URI); empty: no callback.
	CallbackTo string
}
