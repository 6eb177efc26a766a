package designerapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/voxflow/voxflow/activities"
)

// callsWindow is how far back the stream's calls summary counts ended
// calls (the console's "ended in the last hour").
const callsWindow = time.Hour

// historyFresh is how old a history GET /board/history answers may be.
const historyFresh = 15 * time.Second

type boardHistoryOutput struct {
	Body BoardHistory
}

func (s *server) registerBoard(api huma.API) {
	o := routingOp("stream-board", http.MethodGet, "/board/events", RoleAgent,
		"Server-Sent Events of the supervisor board: board (the live Board, with every defined queue, when it changed), "+
			"calls (the live-calls summary of /metrics/summary over the last hour, when it changed; viewer and up), "+
			"history (the board's history, on connect and at each new interval), "+
			"alerts (the alerts raised on live calls, such as a caller's strongly negative turn, when they changed; supervisors and admins) "+
			"and problem (a part missing, or back). "+
			"A comment every 15 s keeps a quiet stream open.")
	o.Responses = map[string]*huma.Response{"200": {
		Description: "text/event-stream; each event's data is JSON: board a Board, calls a MetricsSummary, " +
			"history a BoardHistory, alerts a CallAlerts, problem a StreamProblem",
		Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{OneOf: []*huma.Schema{
			s.schemaOf(reflect.TypeFor[Board]()), s.schemaOf(reflect.TypeFor[MetricsSummary]()),
			s.schemaOf(reflect.TypeFor[BoardHistory]()), s.schemaOf(reflect.TypeFor[CallAlerts]()),
			s.schemaOf(reflect.TypeFor[StreamProblem]()),
		}}}},
	}}
	huma.Register(api, o, s.streamBoard)
	huma.Register(api, routingOp("board-history", http.MethodGet, "/board/history", RoleAgent,
		"The board's history for charts: per queue and 15-minute interval over the last 24 hours, calls answered, "+
			"abandoned, timed out or gone otherwise, average wait and service level, counted from the call records"),
		requires(s.needStore, s.boardHistory))
}

func (s *server) schemaOf(t reflect.Type) *huma.Schema {
	return s.api.OpenAPI().Components.Schemas.Schema(t, true, "")
}

// newBoardHub wires the hub's readers to the server's parts.
func (s *server) newBoardHub(t boardTimings) *boardHub {
	r := boardReaders{missing: map[string]string{}}
	if s.cfg.Routing != nil {
		r.board = s.streamedBoard
	} else {
		r.missing[EventBoard] = errNoRouting
	}
	if s.cfg.Calls != nil || s.cfg.Store != nil {
		r.calls = func(ctx context.Context) (MetricsSummary, error) { return s.summary(ctx, "", callsWindow) }
	} else {
		r.missing[EventCalls] = "live calls are not available: no Temporal connection or store configured"
	}
	if s.history != nil {
		r.history = func(ctx context.Context) (BoardHistory, error) { return s.history.get(ctx, historyFresh) }
	} else {
		r.missing[EventHistory] = "the history is not available: no store configured"
	}
	if s.cfg.Store != nil {
		r.alerts = s.callAlerts
	} else {
		r.missing[EventAlerts] = "alerts are not available: no store configured"
	}
	return newBoardHub(r, t)
}

// streamedBoard is the board as the stream shows it: the router's, with
// every queue the store defines (a queue no call joined yet has zeros).
func (s *server) streamedBoard(ctx context.Context) (Board, error) {
	b, err := s.cfg.Routing.Board(ctx)
	if err != nil {
		return Board{}, fmt.Errorf("the router did not answer: %w", err)
	}
	if s.cfg.Store != nil {
		qs, err := s.cfg.Store.Queues(ctx)
		if err != nil {
			return Board{}, fmt.Errorf("queues: %w", err)
		}
		var all []activities.QueueView
		for _, q := range qs {
			all = append(all, QueueOnBoard(b, q.Name, q.WithDefaults().SLThreshold))
		}
		for _, v := range b.Queues { // routed but no longer defined
			if !hasQueue(all, v.Name) {
				all = append(all, v)
			}
		}
		b.Queues = all
	}
	return boardOf(b), nil
}

func hasQueue(qs []activities.QueueView, name string) bool {
	for _, q := range qs {
		if q.Name == name {
			return true
		}
	}
	return false
}

func (s *server) boardHistory(ctx context.Context, _ *struct{}) (*boardHistoryOutput, error) {
	h, err := s.history.get(ctx, historyFresh)
	if err != nil {
		return nil, s.fail("board history", err)
	}
	return &boardHistoryOutput{Body: h}, nil
}

func (s *server) streamBoard(ctx context.Context, _ *struct{}) (*huma.StreamResponse, error) {
	p, _ := PrincipalFrom(ctx)
	// Agents see the board, not the calls; only those who may listen in
	// see the alerts.
	may := boardRights{calls: p.Role.Allows(RoleViewer), alerts: p.Role.MayMonitor()}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		sub := s.board.subscribe(may)
		defer s.board.unsubscribe(sub)
		writeBoardStream(hctx, sub, s.board.t.heartbeat)
	}}, nil
}

// writeBoardStream writes a subscriber's events as SSE until the client
// goes away or a write fails.
func writeBoardStream(hctx huma.Context, sub *boardSub, heartbeat time.Duration) {
	_, w := humago.Unwrap(hctx)
	rc := http.NewResponseController(w)
	hctx.SetHeader("Content-Type", "text/event-stream")
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("X-Accel-Buffering", "no")
	hctx.SetStatus(http.StatusOK)
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	beat := time.NewTicker(heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-hctx.Context().Done():
			return
		case <-beat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		case <-sub.wake:
			for _, ev := range sub.take() {
				if !write(fmt.Appendf(nil, "event: %s\ndata: %s\n\n", ev.name, ev.data)) {
					return
				}
			}
		}
	}
}
