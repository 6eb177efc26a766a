// Package simulator runs a flow as a real CallWorkflow with the text
// channel in place of media: prompts come out as text and inputs are typed
// or scripted. Business users try flows with it before publishing them;
// `voxflow flows simulate` and the designer's simulator panel are both
// built on Start.
package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/platform"
)

// Defaults of a simulated call.
const (
	DefaultFrom = "+15550100"
	DefaultTo   = "simulator"
	// MaxCall bounds how long a simulated call is followed.
	MaxCall = 30 * time.Minute
)

// ErrEnded is wrapped by Send once the call is over.
var ErrEnded = errors.New("the simulated call has ended")

// Request is one simulated call.
type Request struct {
	// CallID is the call's ID; empty: a fresh one.
	CallID   string
	Flow     activities.FlowSource
	Subflows []activities.FlowSource
	From, To string
	// Vars override the flow's initial variables.
	Vars map[string]any
	// ReachAgents lets the call's queue nodes reach signed-in agents. Off,
	// a queue acts as if nobody staffed it: a simulated call must not ring
	// a real agent for a conversation that never happens.
	ReachAgents bool
	// Inputs, when not nil, supplies the caller's inputs in order (see
	// text.ParseInput); after it every turn is silence. Without a script
	// inputs come from Call.Send.
	Inputs []string
	// Outbound places the call to To instead of taking an inbound one.
	Outbound bool
}

// Simulator places simulated calls on a text channel whose media
// activities a worker serves (platform.StartWorkers).
type Simulator struct {
	client  client.Client
	channel *text.Channel
}

// New returns a simulator placing calls through c on ch.
func New(c client.Client, ch *text.Channel) *Simulator {
	return &Simulator{client: c, channel: ch}
}

// Event kinds: what the text channel reports, then EventEnd, always last.
const (
	EventPrompt   = text.EventPrompt   // the flow said Text at Node
	EventListen   = text.EventListen   // the flow waits for input at Node
	EventInput    = text.EventInput    // what the caller did
	EventRecord   = text.EventRecord   // a recording was taken
	EventTransfer = text.EventTransfer // the caller was transferred
	EventHangup   = text.EventHangup   // the flow hung up
	EventAnswered = text.EventAnswered // an outbound call was answered
	// EventAI is a turn of an intent or llm node at Node: what it
	// understood or replied (AI; Text holds it as JSON).
	EventAI  = "ai"
	EventEnd = "end"
)

// stateQueryTimeout bounds one query of the call's state for AI turns.
const stateQueryTimeout = 5 * time.Second

// Event is one thing that happened on the call.
type Event struct {
	Kind string
	Node string
	Text string
	// AI only: the node's turn.
	AI *records.AITurn
	// End only: the call's record, and why it failed when it did.
	Record *records.CDR
	Err    error
}

// Call is a simulated call in progress.
type Call struct {
	ID   string
	sess *text.Session
	done chan struct{}
	rec  records.CDR
	err  error
}

// Start opens a text session, starts the call's workflow and follows it in
// the background: onEvent gets every event in order, from one goroutine,
// ending with EventEnd. ctx bounds only the start.
func (s *Simulator) Start(ctx context.Context, req Request, onEvent func(Event)) (*Call, error) {
	c, ch := s.client, s.channel
	call := &Call{ID: req.CallID, done: make(chan struct{})}
	if call.ID == "" {
		call.ID = platform.NewCallID()
	}
	var script []text.Input
	if req.Inputs != nil {
		script = make([]text.Input, 0, len(req.Inputs))
		for _, s := range req.Inputs {
			script = append(script, text.ParseInput(s))
		}
	}
	call.sess = ch.Open(call.ID, script)
	if _, err := platform.StartCall(ctx, c, callInput(call.ID, req, ch)); err != nil {
		ch.Close(call.ID)
		return nil, err
	}
	go call.follow(c, ch, usesAI(req), onEvent)
	return call, nil
}

// usesAI says whether the call's flows have intent or llm nodes, whose
// turns follow asks the workflow for; a flow that does not parse counts.
func usesAI(req Request) bool {
	for _, fs := range append([]activities.FlowSource{req.Flow}, req.Subflows...) {
		f, _ := flows.Parse(fs.Name, []byte(fs.Source))
		if f == nil {
			return true
		}
		for _, n := range f.Nodes {
			if n != nil && (n.Type == flows.TypeIntent || n.Type == flows.TypeLLM) {
				return true
			}
		}
	}
	return false
}

// callInput is the engine's input for a simulated call.
func callInput(callID string, req Request, ch *text.Channel) engine.CallInput {
	from, to := req.From, req.To
	if from == "" {
		from = DefaultFrom
	}
	if to == "" {
		to = DefaultTo
	}
	in := engine.CallInput{
		Call:       flows.CallInfo{ID: callID, From: from, To: to, Channel: "text", StartedAt: time.Now().UTC()},
		Flow:       req.Flow,
		Subflows:   req.Subflows,
		Vars:       req.Vars,
		MediaQueue: ch.Queue(),
		Simulated:  !req.ReachAgents,
	}
	if req.Outbound {
		in.Outbound = &engine.Outbound{To: to, From: from, MediaQueue: ch.Queue()}
	}
	return in
}

// follow relays the session's events until the workflow ends, then sends
// EventEnd with the call's record. After each caller input it asks the
// workflow once for the call's path, when the next event shows the flow
// has moved on (the input is understood only after it was reported), and
// reports the AI turns recorded since; the end reports the rest from the
// call's record. Flows without AI nodes (ai false) are never queried.
func (call *Call) follow(c client.Client, ch *text.Channel, ai bool, onEvent func(Event)) {
	defer close(call.done)
	defer ch.Close(call.ID)
	ended := make(chan struct{})
	go func() {
		call.rec, call.err = await(c, call.ID)
		close(ended)
	}()
	turns := aiTurns{}
	pending := false
	relay := func(e text.Event, path func() []records.Step) {
		if pending {
			pending = false
			turns.emit(path(), onEvent)
		}
		onEvent(Event{Kind: e.Kind, Node: e.Node, Text: e.Text})
		pending = ai && e.Kind == EventInput
	}
	live := func() []records.Step { return queryPath(c, call.ID) }
	final := func() []records.Step { return call.rec.Path }
	for {
		select {
		case e := <-call.sess.Events():
			relay(e, live)
		case <-ended:
			for drained := false; !drained; {
				select {
				case e := <-call.sess.Events():
					relay(e, final)
				default:
					drained = true
				}
			}
			turns.emit(call.rec.Path, onEvent)
			onEvent(Event{Kind: EventEnd, Record: &call.rec, Err: call.err})
			return
		}
	}
}

// queryPath asks the call's workflow for the path so far; nil when it
// does not answer in time (the turns then come with a later query or the
// record).
func queryPath(c client.Client, callID string) []records.Step {
	ctx, cancel := context.WithTimeout(context.Background(), stateQueryTimeout)
	defer cancel()
	v, err := c.QueryWorkflow(ctx, activities.WorkflowID(callID), "", activities.QueryState)
	if err != nil {
		return nil
	}
	var st engine.CallState
	if v.Get(&st) != nil {
		return nil
	}
	return st.Path
}

// aiTurns counts the AI turns already reported per step of the path (by
// the step's index, as the path only grows).
type aiTurns map[int]int

// emit reports the turns of path not reported yet, in path order.
func (seen aiTurns) emit(path []records.Step, onEvent func(Event)) {
	for i, step := range path {
		for _, t := range step.AI[min(seen[i], len(step.AI)):] {
			b, _ := json.Marshal(t)
			onEvent(Event{Kind: EventAI, Node: step.Node, Text: string(b), AI: &t})
		}
		seen[i] = max(seen[i], len(step.AI))
	}
}

// await waits for the call's workflow to end, following it to a new run
// when an operator resets it.
func await(c client.Client, callID string) (records.CDR, error) {
	ctx, cancel := context.WithTimeout(context.Background(), MaxCall)
	defer cancel()
	var rec records.CDR
	for {
		err := platform.AwaitCall(ctx, c, callID, &rec)
		if err == nil || ctx.Err() != nil || !running(ctx, c, callID) {
			if err != nil {
				err = fmt.Errorf("simulated call %s: %w", callID, err)
			}
			return rec, err
		}
	}
}

// running reports whether the call's current run is running.
func running(ctx context.Context, c client.Client, callID string) bool {
	desc, err := c.DescribeWorkflowExecution(ctx, activities.WorkflowID(callID), "")
	return err == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// Send delivers a typed caller input (text.ParseInput: digits, words,
// "hangup", "" for silence) to the call's current turn.
func (call *Call) Send(ctx context.Context, input string) error {
	errc := make(chan error, 1)
	go func() { errc <- call.sess.Send(text.ParseInput(input)) }()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("simulated call %s: %w: %w", call.ID, ErrEnded, err)
		}
		return nil
	case <-call.done:
		return fmt.Errorf("simulated call %s: %w", call.ID, ErrEnded)
	case <-ctx.Done():
		return fmt.Errorf("send input to simulated call %s: %w", call.ID, ctx.Err())
	}
}

// Wait waits for the call to end and returns its record.
func (call *Call) Wait(ctx context.Context) (records.CDR, error) {
	select {
	case <-call.done:
		return call.rec, call.err
	case <-ctx.Done():
		return records.CDR{}, ctx.Err()
	}
}
