package engine

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// Search attribute keys set on every call.
var (
	attrFlow      = temporal.NewSearchAttributeKeyKeyword(activities.AttrFlow)
	attrVersion   = temporal.NewSearchAttributeKeyInt64(activities.AttrVersion)
	attrNode      = temporal.NewSearchAttributeKeyKeyword(activities.AttrNode)
	attrNodeSince = temporal.NewSearchAttributeKeyTime(activities.AttrNodeSince)
	attrMedia     = temporal.NewSearchAttributeKeyKeyword(activities.AttrMediaQueue)
)

// errCallGone stops media work after the caller hung up.
var errCallGone = errors.New("caller hung up")

// call is the interpreter's state for one run of CallWorkflow. It is owned
// by the workflow's single coroutine; the query handler only reads it.
type call struct {
	ctx    workflow.Context
	in     CallInput
	flows  map[string]*flows.Flow
	loaded []activities.FlowSource // flows fetched by LoadFlows during the call

	stack      []Frame
	steps      int
	maxSteps   int
	path       []records.Step
	hungUp     bool
	inHangup   bool // running the flow's on_hangup path
	outcome    string
	input      string
	recordings []string
	continued  int
	recoveries int
	// fast: this run takes the fast path (changeFastPath).
	fast bool
	// compat caps the changes this worker records; versions are the
	// changes this run decided (compat.go).
	compat   Compat
	versions map[string]workflow.Version

	hangupCh workflow.ReceiveChannel
	// lostCh receives media-lost signals; mediaLost notes one for the
	// call's current media queue that arrived between media activities.
	lostCh    workflow.ReceiveChannel
	mediaLost bool
	// offerCh and answerCh receive routing's offers and the media worker's
	// word that a bridged agent answered; queue is the stay in progress
	// and queues the stays so far (for the CDR).
	offerCh, answerCh, silenceCh workflow.ReceiveChannel
	queue                        *stay
	queues                       []records.QueueStay
	// pending holds prompts of play nodes not yet sent, so that a play
	// followed by a menu costs the caller one activity (one dispatch hop).
	pending       []activities.Prompt
	publishedNode string // node last published in search attributes
	nodeSince     time.Time
	// transcript is what AI nodes said and heard (redacted); alerted: a
	// supervisor was told the caller's sentiment turned negative.
	transcript []records.ChatLine
	alerted    bool
}

// CallWorkflow runs one call through its flow.
func CallWorkflow(ctx workflow.Context, in CallInput) (records.CDR, error) {
	return runCall(ctx, in, Compat{})
}

// runCall is CallWorkflow on a worker with the compat ceiling cp.
func runCall(ctx workflow.Context, in CallInput, cp Compat) (records.CDR, error) {
	c := &call{ctx: ctx, in: in, flows: map[string]*flows.Flow{}, compat: cp}
	c.fast = c.version(changeFastPath) >= fastPathVersion
	main, err := c.loadFlows()
	if err != nil {
		return records.CDR{}, err
	}
	if err := c.begin(main); err != nil {
		return records.CDR{}, err
	}
	if err := c.runSteps(); err != nil {
		return records.CDR{}, err
	}
	c.finish()
	rec := c.record()
	c.saveCDR(rec)
	c.campaignEnded()
	if main.Settings.Summary {
		rec.Insights = c.summarize(main, rec)
		c.saveCDR(rec)
	}
	return rec, nil
}

// loadFlows parses the call's flow and its subflows. A call started by
// name first pins the latest published version, once: the result is in
// the history, so replays and resets see the same.
func (c *call) loadFlows() (*flows.Flow, error) {
	if c.in.Flow.Source == "" && c.in.Resume == nil {
		src, err := c.load(c.in.Flow.Name)
		if err != nil {
			return nil, err
		}
		c.in.Flow = src
	}
	main, err := c.parse(c.in.Flow)
	if err != nil {
		return nil, activities.NewBadInput(err)
	}
	for _, src := range c.in.Subflows {
		if _, err := c.parse(src); err != nil {
			return nil, activities.NewBadInput(err)
		}
	}
	return main, nil
}

// begin sets up the call's state (fresh at the entry node, or restored
// after a continue-as-new), its hangup signal, state query and search
// attributes, and places an outbound call.
func (c *call) begin(main *flows.Flow) error {
	in := c.in
	c.maxSteps = main.Settings.MaxSteps
	if in.Limits.MaxSteps > 0 {
		c.maxSteps = in.Limits.MaxSteps
	}
	if in.Resume != nil {
		c.restore(in.Resume)
	} else {
		vars := initialVars(main)
		for k, v := range in.Vars {
			vars[k] = v
		}
		c.stack = []Frame{{Flow: main.Name, Node: main.Entry, Vars: vars}}
	}
	c.hangupCh = workflow.GetSignalChannel(c.ctx, activities.SignalHangup)
	c.lostCh = workflow.GetSignalChannel(c.ctx, activities.SignalMediaLost)
	c.offerCh = workflow.GetSignalChannel(c.ctx, activities.SignalOffer)
	c.answerCh = workflow.GetSignalChannel(c.ctx, activities.SignalBridgeAnswered)
	c.silenceCh = workflow.GetSignalChannel(c.ctx, activities.SignalBridgeSilence)
	if err := workflow.SetQueryHandler(c.ctx, activities.QueryState, c.state); err != nil {
		return fmt.Errorf("register state query: %w", err)
	}
	if attrs := c.startAttributes(); len(attrs) > 0 {
		if err := workflow.UpsertTypedSearchAttributes(c.ctx, attrs...); err != nil {
			return fmt.Errorf("set search attributes: %w", err)
		}
	}
	if in.Outbound != nil && in.Resume == nil {
		c.placeCall(in.Outbound)
	}
	return nil
}

// startAttributes are the search attributes set when a run starts: the
// flow and version, and on the fast path the media queue holding the call
// (the media watchdog finds a dead worker's calls by it).
func (c *call) startAttributes() []temporal.SearchAttributeUpdate {
	var out []temporal.SearchAttributeUpdate
	if c.in.Resume == nil {
		out = append(out, attrFlow.ValueSet(c.in.Flow.Name), attrVersion.ValueSet(int64(c.in.Flow.Version)))
	}
	if c.fast && c.in.MediaQueue != "" {
		out = append(out, attrMedia.ValueSet(c.in.MediaQueue))
	}
	return out
}

// setMediaQueue moves the call to the media worker holding it now (an
// answered outbound call or callback).
func (c *call) setMediaQueue(queue string) {
	c.mediaLost = false // a worker that answered is alive
	if queue == c.in.MediaQueue {
		return
	}
	c.in.MediaQueue = queue
	if !c.fast {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(c.ctx, attrMedia.ValueSet(queue)); err != nil {
		workflow.GetLogger(c.ctx).Warn("upsert media queue search attribute", "error", err)
	}
}

// pollMediaLost notes media-lost signals that arrived without blocking;
// only one for the call's current queue counts.
func (c *call) pollMediaLost() {
	var lost activities.MediaLost
	for c.lostCh.ReceiveAsync(&lost) {
		c.noteMediaLost(lost)
	}
}

func (c *call) noteMediaLost(lost activities.MediaLost) bool {
	if lost.Queue != "" && lost.Queue == c.in.MediaQueue {
		c.mediaLost = true
	}
	return c.mediaLost
}

// runSteps runs nodes until the call ends or reaches max steps. Its only
// error is the continue-as-new that carries a long call on.
func (c *call) runSteps() error {
	for {
		c.pollHangup()
		if c.hungUp && !c.inHangup {
			c.startHangupPath()
		}
		top := c.top()
		if top == nil || top.Node == "" {
			if c.returnFromSubflow() {
				continue
			}
			return nil
		}
		if c.steps >= c.maxSteps {
			workflow.GetLogger(c.ctx).Warn("call reached max steps", "max_steps", c.maxSteps)
			c.outcome = records.OutcomeMaxSteps
			return nil
		}
		if c.shouldContinueAsNew() {
			c.flushPrompts()
			return workflow.NewContinueAsNewError(c.ctx, activities.CallWorkflowName, c.continueInput())
		}
		c.steps++
		c.step()
	}
}

// saveCDR stores the call record, even when the call was cancelled.
func (c *call) saveCDR(rec records.CDR) {
	o := sharedOptions{StartToClose: 30 * time.Second, ScheduleToClose: 24 * time.Hour,
		Retry: &temporal.RetryPolicy{MaximumInterval: time.Minute}}
	if err := c.shared(disconnected(c.ctx), activities.ActSaveCDR, o, rec, nil); err != nil {
		workflow.GetLogger(c.ctx).Error("save call record", "error", err)
	}
}

// disconnected returns a context that is not cancelled with the workflow,
// so wrap-up work (the CDR) still runs when an operator cancels the call.
func disconnected(ctx workflow.Context) workflow.Context {
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	return dctx
}

func (c *call) parse(src activities.FlowSource) (*flows.Flow, error) {
	f, diags := parsedFlows.parse(src)
	if err := diags.Err(); err != nil {
		return nil, fmt.Errorf("flow %q version %d: %w", src.Name, src.Version, err)
	}
	c.flows[f.Name] = f
	return f, nil
}

func initialVars(f *flows.Flow) map[string]any {
	vars := make(map[string]any, len(f.Variables))
	for k, v := range f.Variables {
		vars[k] = v
	}
	return vars
}

func (c *call) restore(r *ResumeState) {
	c.stack = r.Stack
	c.steps = r.Steps
	c.path = r.Path
	c.hungUp = r.HungUp
	c.inHangup = r.InHangup
	c.outcome = r.Outcome
	c.input = r.Input
	c.recordings = r.Recordings
	c.continued = r.ContinuedRun
	c.recoveries = r.Recoveries
	c.queues = r.Queues
	c.transcript = r.Transcript
	c.alerted = r.Alerted
	for _, src := range r.LoadedFlows {
		if _, err := c.parse(src); err == nil {
			c.loaded = append(c.loaded, src)
		}
	}
}

func (c *call) shouldContinueAsNew() bool {
	limit := c.in.Limits.HistoryEvents
	if limit <= 0 {
		limit = DefaultHistoryEvents
	}
	info := workflow.GetInfo(c.ctx)
	return info.GetCurrentHistoryLength() >= limit || info.GetContinueAsNewSuggested()
}

func (c *call) continueInput() CallInput {
	next := c.in
	next.Resume = &ResumeState{
		Stack: c.stack, Steps: c.steps, Path: c.path, HungUp: c.hungUp, InHangup: c.inHangup,
		Outcome: c.outcome, Input: c.input, Recordings: c.recordings,
		LoadedFlows: c.loaded, ContinuedRun: c.continued + 1, Recoveries: c.recoveries, Queues: c.queues,
		Transcript: c.transcript, Alerted: c.alerted,
	}
	return next
}

func (c *call) top() *Frame {
	if len(c.stack) == 0 {
		return nil
	}
	return &c.stack[len(c.stack)-1]
}

// pollHangup notes a hangup signal without blocking.
func (c *call) pollHangup() {
	for c.hangupCh.ReceiveAsync(nil) {
		c.markHungUp()
	}
}

func (c *call) markHungUp() {
	if !c.hungUp {
		c.hungUp = true
		c.pending = nil
		if c.outcome == "" {
			c.outcome = records.OutcomeHungUp
		}
	}
}

// startHangupPath jumps to the flow's on_hangup node once, after the caller hung up.
func (c *call) startHangupPath() {
	c.inHangup = true
	main := c.flows[c.in.Flow.Name]
	c.stack = c.stack[:1]
	c.stack[0].Node = main.OnHangup
}

// returnFromSubflow pops a finished subflow frame and maps its output.
func (c *call) returnFromSubflow() bool {
	if len(c.stack) < 2 {
		return false
	}
	done := c.stack[len(c.stack)-1]
	c.stack = c.stack[:len(c.stack)-1]
	caller := c.top()
	node := c.flows[caller.Flow].Nodes[done.Caller]
	env := c.env()
	env.Result = done.Vars
	if err := c.assign(node.Output, env); err != nil {
		caller.Node = node.OnError
		return true
	}
	caller.Node = node.Next
	return true
}

// env builds the expression environment from workflow state.
func (c *call) env() *flows.Env {
	top := c.top()
	return &flows.Env{Call: c.in.Call, Vars: top.Vars, Input: c.input, Now: workflow.Now(c.ctx)}
}

// assign evaluates ordered assignments into the current frame's variables.
func (c *call) assign(as flows.Assignments, env *flows.Env) error {
	return assignInto(c.top().Vars, as, env)
}

// assignInto evaluates ordered assignments into vars; env sees each one.
func assignInto(vars map[string]any, as flows.Assignments, env *flows.Env) error {
	for _, a := range as {
		v, err := a.Expr.Eval(env)
		if err != nil {
			return fmt.Errorf("assign %s: %w", a.Var, err)
		}
		vars[a.Var] = normalize(v)
		env.Vars = vars
	}
	return nil
}

// normalize makes values survive a JSON round trip unchanged, so a value
// read after continue-as-new or in a query equals the one assigned.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int32:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = normalize(x[i])
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

// enter records that the call entered a node of the current frame.
func (c *call) enter(n *flows.Node) {
	now := workflow.Now(c.ctx)
	info := workflow.GetInfo(c.ctx)
	c.path = append(c.path, records.Step{
		Node: n.ID, Flow: c.top().Flow, Type: string(n.Type), EnteredAt: now,
		Event: int64(info.GetCurrentHistoryLength()), RunID: info.WorkflowExecution.RunID,
	})
	c.nodeSince = now
}

// leave closes the current path step with the exit taken.
func (c *call) leave(outcome string, err error) {
	if len(c.path) == 0 {
		return
	}
	s := &c.path[len(c.path)-1]
	s.LeftAt = workflow.Now(c.ctx)
	s.Outcome = outcome
	if err != nil {
		s.Error = err.Error()
		if len(c.stack) > 0 { // errors may quote a sensitive value (a URL, an expression's operand)
			s.Error = c.redact(c.flows[s.Flow], s.Error)
		}
	}
}

// publishNode updates the search attributes before the call blocks, so
// operators can list calls by the node they sit in. Pure nodes between
// blocking ones are not published: that would cost a command each.
func (c *call) publishNode() {
	top := c.top()
	if top == nil || top.Node == c.publishedNode {
		return
	}
	c.publishedNode = top.Node
	if err := workflow.UpsertTypedSearchAttributes(c.ctx,
		attrNode.ValueSet(top.Node), attrNodeSince.ValueSet(c.nodeSince)); err != nil {
		workflow.GetLogger(c.ctx).Warn("upsert node search attribute", "error", err)
	}
}

func (c *call) finish() {
	c.flushPrompts()
	if c.outcome == "" {
		c.outcome = records.OutcomeCompleted
	}
	if c.hungUp || c.outcome == records.OutcomeTransferred {
		return
	}
	// The flow ended without a hangup node: release the line.
	_ = c.media(activities.ActHangup, activities.HangupInput{CallID: c.in.Call.ID, Reason: c.outcome}, nil)
	c.hungUp = true
}

func (c *call) record() records.CDR {
	info := workflow.GetInfo(c.ctx)
	end := workflow.Now(c.ctx)
	return records.CDR{
		CallID: c.in.Call.ID, WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
		Flow: c.in.Flow.Name, FlowVersion: c.in.Flow.Version,
		From: c.in.Call.From, To: c.in.Call.To, Channel: c.in.Call.Channel,
		StartedAt: c.in.Call.StartedAt, EndedAt: end, Duration: end.Sub(c.in.Call.StartedAt),
		Outcome: c.outcome, Path: c.path, Vars: c.redactedVars(), Recordings: c.recordings, Queues: c.queues,
		Transcript: c.transcript, Campaign: c.campaignTag(),
	}
}

func (c *call) state() (CallState, error) {
	st := CallState{
		CallID: c.in.Call.ID, Flow: c.in.Flow.Name, FlowVersion: c.in.Flow.Version,
		Path: c.path, Steps: c.steps, HungUp: c.hungUp, Outcome: c.outcome, NodeSince: c.nodeSince,
	}
	if top := c.top(); top != nil {
		// Vars are the main flow's, as in the CDR, even inside a subflow.
		st.Node, st.NodeFlow, st.Vars = top.Node, top.Flow, c.redactedVars()
	}
	st.Ended = st.Node == ""
	return st, nil
}
