package designerapi

import (
	"context"
	"fmt"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// The board's alerts: what the engine raised on calls still live (a
// caller's strongly negative turn, voxflow.CallAlert), read from the call
// events. A call counts as live until its record is saved, which the
// engine does as the call ends; an alert older than alertsWindow is
// dropped even then, so a call whose record was never written does not
// stay on the board.

const (
	// alertsWindow is how far back the board shows alerts.
	alertsWindow = time.Hour
	// maxBoardAlerts bounds the alerts on the board, newest first.
	maxBoardAlerts = 50
)

// CallAlerts are the alerts raised on live calls.
type CallAlerts struct {
	Since  time.Time           `json:"since" doc:"The alerts raised since then are shown (the last hour)"`
	Alerts []records.CallEvent `json:"alerts" doc:"Newest first, at most 50; action negative_sentiment: a caller's turn was strongly negative (detail: the node and what the caller said, redacted). A call leaves the list when its record is saved (it ended)."`
}

// callAlerts reads the alerts of the calls still live.
func (s *server) callAlerts(ctx context.Context) (CallAlerts, error) {
	since := time.Now().UTC().Add(-alertsWindow)
	evs, err := s.cfg.Store.RecentCallEvents(ctx, store.CallEventQuery{
		Action: activities.AlertNegativeSentiment, Since: since, Open: true, Limit: maxBoardAlerts})
	if err != nil {
		return CallAlerts{}, fmt.Errorf("read alerts: %w", err)
	}
	return CallAlerts{Since: since, Alerts: append([]records.CallEvent{}, evs...)}, nil
}
