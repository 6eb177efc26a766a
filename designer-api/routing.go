package designerapi

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/routing"
)

// Routing reaches the router workflow that holds every queue's waiting
// calls and every agent's state. platform.Router implements it over a
// Temporal client; tests use a fake. A refused request (an unknown state,
// a state only routing sets, a first sign-in without a profile, a wrap-up
// of an agent not in wrap-up) is a *temporal.ApplicationError carrying the
// router's message, as a rejected Temporal update is.
type Routing interface {
	Board(ctx context.Context) (activities.Board, error)
	SetAgent(ctx context.Context, req activities.AgentRequest) (activities.AgentView, error)
	WrapUp(ctx context.Context, req activities.WrapUpRequest) (activities.AgentView, error)
}

// errNoRouting is why live routing figures are missing without Routing.
const errNoRouting = "routing is not available: no Temporal connection configured"

func (s *server) needRouting() error {
	if s.cfg.Routing == nil {
		return huma.Error503ServiceUnavailable(errNoRouting)
	}
	return nil
}

// routingFail maps an error of Routing: the router's refusal answers
// refused(message); an unreachable Temporal 503; the rest as fail does.
func (s *server) routingFail(what string, err error, refused func(msg string, errs ...error) huma.StatusError) error {
	var ae *temporal.ApplicationError
	var unavailable *serviceerror.Unavailable
	switch {
	case errors.As(err, &ae):
		return refused(ae.Message())
	case errors.As(err, &unavailable):
		s.log.Warn(what, "error", err)
		return huma.Error503ServiceUnavailable(what + ": Temporal is not reachable")
	}
	return s.fail(what, err)
}

// liveBoard asks the router for its board when it can. Without Routing,
// or when the router does not answer, ok is false and why says so: the
// store's side of a listing is still worth answering.
func (s *server) liveBoard(ctx context.Context) (b activities.Board, why string, ok bool) {
	if s.cfg.Routing == nil {
		return b, errNoRouting, false
	}
	b, err := s.cfg.Routing.Board(ctx)
	if err != nil {
		s.log.Warn("routing board", "error", err)
		return b, "the router did not answer: " + err.Error(), false
	}
	return b, "", true
}

// agentOf is the agent a caller acts as: the username of a session, the
// name of an API key (an agent-role key is named after its agent).
func agentOf(p Principal) string {
	if p.Via == "key" {
		return strings.TrimPrefix(p.Name, "key:")
	}
	return p.Name
}

// mayActFor lets operators (and above) change any agent; below operator,
// a caller changes only the agent named like them.
func mayActFor(ctx context.Context, agent string) error {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return huma.Error401Unauthorized(ErrUnauthenticated.Error())
	}
	if p.Role.Allows(RoleOperator) || agentOf(p) == agent {
		return nil
	}
	return huma.Error403Forbidden(fmt.Sprintf("%s %s may change only their own state; changing agent %s's needs %s or above",
		p.Role, agentOf(p), agent, RoleOperator))
}

// dur renders a duration for the API: a Go duration ("30s", "1m5.2s"),
// to the millisecond.
func dur(d time.Duration) string { return d.Round(time.Millisecond).String() }

// QueueLive is a queue as the router sees it now; the counts and averages
// cover the board's sliding window.
type QueueLive struct {
	Waiting       int     `json:"waiting" doc:"Callers waiting, not yet ringing an agent"`
	Offered       int     `json:"offered_now" doc:"Calls ringing an agent now"`
	LongestWait   string  `json:"longest_wait" doc:"Wait of the longest-waiting caller (Go duration)"`
	Staffed       int     `json:"staffed" doc:"Agents signed in (not offline) serving the queue"`
	Available     int     `json:"available" doc:"Of those, free to take a call now"`
	Answered      int     `json:"answered"`
	Abandoned     int     `json:"abandoned"`
	ServiceLevel  float64 `json:"service_level" doc:"Share (0 to 1) of calls answered within sl_threshold; 1 when none was offered"`
	SLThreshold   string  `json:"sl_threshold"`
	AHT           string  `json:"aht" doc:"Average handle time: talk and wrap-up"`
	AvgWait       string  `json:"avg_wait" doc:"Average wait of answered calls"`
	EstimatedWait string  `json:"estimated_wait,omitempty" doc:"Expected wait of a caller joining now; absent while nobody staffs the queue"`
}

func queueLiveOf(v activities.QueueView) QueueLive {
	l := QueueLive{Waiting: v.Waiting, Offered: v.Offered, LongestWait: dur(v.LongestWait), Staffed: v.Staffed,
		Available: v.Available, Answered: v.Answered, Abandoned: v.Abandoned, ServiceLevel: v.ServiceLevel,
		SLThreshold: dur(v.SLThreshold), AHT: dur(v.AHT), AvgWait: dur(v.AvgWait)}
	if v.EstimatedWait >= 0 {
		l.EstimatedWait = dur(v.EstimatedWait)
	}
	return l
}

// QueueOnBoard is the board's view of a queue. The router lists only the
// queues calls have joined since it started; for another queue it counts
// the board's agents serving it, as the router does, and reports no calls
// (service level 1, estimated wait from the default handle time).
func QueueOnBoard(b activities.Board, name string, slThreshold time.Duration) activities.QueueView {
	for _, v := range b.Queues {
		if v.Name == name {
			return v
		}
	}
	v := activities.QueueView{Name: name, ServiceLevel: 1, SLThreshold: slThreshold, AHT: routing.DefaultAHT}
	for _, a := range b.Agents {
		base := cmp.Or(a.Pending, a.State)
		// An agent with no queues serves every queue.
		if base == string(routing.Offline) || (len(a.Queues) > 0 && !slices.Contains(a.Queues, name)) {
			continue
		}
		v.Staffed++
		if a.State == string(routing.Available) && len(a.Calls) < max(a.Capacity, 1) {
			v.Available++
		}
	}
	v.EstimatedWait = routing.EstimateWait(1, v.Staffed, v.AHT)
	return v
}

// AgentLive is an agent as the router sees it now.
type AgentLive struct {
	State   string    `json:"state" doc:"offline, available, reserved (a call rings), on_call, wrap_up or break"`
	Reason  string    `json:"reason,omitempty" doc:"Why the agent is on a break"`
	Since   time.Time `json:"since,omitzero" doc:"When the agent entered the state"`
	Calls   []string  `json:"calls" doc:"IDs of the calls ringing or talking to the agent"`
	Pending string    `json:"pending,omitempty" doc:"The state asked for while busy, applied when the calls end"`
	// Alert needs a supervisor's eye: "long silence" on the agent's call.
	Alert      string    `json:"alert,omitempty" doc:"What needs a supervisor's eye, like long silence on the agent's call"`
	AlertSince time.Time `json:"alert_since,omitzero" doc:"Since when"`
}

func agentLiveOf(v activities.AgentView) AgentLive {
	return AgentLive{State: v.State, Reason: v.Reason, Since: v.Since, Calls: append([]string{}, v.Calls...), Pending: v.Pending,
		Alert: v.Alert, AlertSince: v.AlertSince}
}

// BoardQueue is a queue on the board.
type BoardQueue struct {
	Name string `json:"name"`
	QueueLive
}

// BoardAgent is an agent on the board, with the profile the router holds.
type BoardAgent struct {
	Name string `json:"name"`
	AgentLive
	Skills   []string `json:"skills" doc:"name:level"`
	Queues   []string `json:"queues"`
	Capacity int      `json:"capacity"`
}

// Board is the router's live picture of queues and agents for supervisors.
type Board struct {
	At     time.Time    `json:"at,omitzero" doc:"When the router drew it; absent before the router first ran"`
	Window string       `json:"window" doc:"The span the queues' counts and averages cover"`
	Queues []BoardQueue `json:"queues"`
	Agents []BoardAgent `json:"agents"`
}

func boardOf(b activities.Board) Board {
	out := Board{At: b.At, Window: dur(b.Window), Queues: []BoardQueue{}, Agents: []BoardAgent{}}
	for _, q := range b.Queues {
		out.Queues = append(out.Queues, BoardQueue{Name: q.Name, QueueLive: queueLiveOf(q)})
	}
	for _, a := range b.Agents {
		out.Agents = append(out.Agents, boardAgentOf(a))
	}
	return out
}

func boardAgentOf(a activities.AgentView) BoardAgent {
	return BoardAgent{Name: a.Name, AgentLive: agentLiveOf(a),
		Skills: append([]string{}, a.Skills...), Queues: append([]string{}, a.Queues...), Capacity: a.Capacity}
}

type boardOutput struct {
	Body Board
}

func routingOp(id, method, path string, min Role, summary string) huma.Operation {
	return op(id, method, path, min, "routing", summary)
}

func (s *server) registerRouting(api huma.API) {
	s.registerQueues(api)
	s.registerAgents(api)
	huma.Register(api, routingOp("get-board", http.MethodGet, "/board", RoleAgent,
		"The router's live board: every queue's waiting calls and figures, every agent's state"),
		requires(s.needRouting, s.getBoard))
	huma.Register(api, routingOp("list-callbacks", http.MethodGet, "/callbacks", RoleViewer,
		"Callbacks callers asked for instead of waiting, soonest due first"),
		requires(s.needStore, s.listCallbacks))
	s.registerCallbacks(api)
}

// getBoard answers what the stream sends: the router's board with every
// queue the store defines.
func (s *server) getBoard(ctx context.Context, _ *struct{}) (*boardOutput, error) {
	b, err := s.streamedBoard(ctx)
	if err != nil {
		return nil, s.routingFail("routing board", err, huma.Error502BadGateway)
	}
	return &boardOutput{Body: b}, nil
}
