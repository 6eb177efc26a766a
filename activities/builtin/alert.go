package builtin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// CallAlertSink keeps call events; store.Store is one. Adding the same
// event twice (same call, time, actor and action) must keep one.
type CallAlertSink interface {
	AddCallEvent(ctx context.Context, e records.CallEvent) error
}

// AlertActor is the actor of the call events voxflow.CallAlert adds: the
// engine's reading of the conversation, not a person.
const AlertActor = "ai"

// maxAlertDetail bounds an alert's detail (the node and the caller's
// redacted words), in runes: the board shows it on one line.
const maxAlertDetail = 300

// callAlert records an alert on a live call as a call event, for the
// board and the call's timeline. The event's time is the alert's (the
// workflow's clock), so a retry adds nothing new to a store that keeps an
// event once; without one it is the activity's first scheduled time,
// the same on every attempt.
func (a *Activities) callAlert(ctx context.Context, in activities.CallAlertInput) error {
	if strings.TrimSpace(in.CallID) == "" || strings.TrimSpace(in.Action) == "" {
		return activities.NewBadInput(errors.New("call alert: call_id and action are required"))
	}
	at := in.At
	if at.IsZero() {
		at = activity.GetInfo(ctx).ScheduledTime
	}
	ev := records.CallEvent{CallID: in.CallID, At: at.UTC(), Actor: AlertActor, Action: in.Action,
		Detail: truncateRunes(in.Detail, maxAlertDetail)}
	if err := a.Alerts.AddCallEvent(ctx, ev); err != nil {
		return fmt.Errorf("call alert %s on call %s: %w", in.Action, in.CallID, err)
	}
	return nil
}

// truncateRunes cuts s to at most n runes, marking a cut with an ellipsis.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
