package engine

import (
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// step runs the current node of the top frame and moves it to the next.
func (c *call) step() {
	top := c.top()
	f := c.flows[top.Flow]
	n := f.Nodes[top.Node]
	c.enter(n)
	exit, next, err := c.run(f, n)
	switch {
	case errors.Is(err, errCallGone):
		// Nothing more to do with the caller; the main loop runs on_hangup.
		exit, next = "caller_hangup", ""
	case isQueueInterrupt(err):
		// A hold-flow node cut short by an offer or the longest wait: the
		// queue node drops the hold flow's frame.
		exit, next = "interrupted", ""
	case errors.Is(err, errMediaLost) && n.OnError == "":
		exit, next = c.recoverMedia(n)
	case err != nil && n.OnError != "":
		exit, next = "on_error", n.OnError
	case err != nil:
		workflow.GetLogger(c.ctx).Error("node failed with no on_error", "flow", f.Name, "node", n.ID, "error", err)
		if c.outcome == "" {
			c.outcome = records.OutcomeFailed
		}
		exit, next = "failed", ""
	}
	c.leave(exit, err)
	// A subflow node pushes a frame; everything else moves this frame on.
	if n.Type == flows.TypeSubflow && err == nil {
		return
	}
	if top := c.top(); top != nil {
		top.Node = next
	}
}

// nodeRunner runs one node of a type and returns the exit label and the
// next node ID.
type nodeRunner func(c *call, f *flows.Flow, n *flows.Node) (string, string, error)

// runners is the engine's case for each node type. The workflow only looks
// types up in it, never ranges over it (map order is random), so replay
// stays deterministic. TestEveryNodeTypeHasARunner keeps it complete. It
// is filled in init: the queue runner runs hold-flow nodes through it.
var runners map[flows.NodeType]nodeRunner

func init() {
	runners = map[flows.NodeType]nodeRunner{
		flows.TypePlay:       (*call).runPlay,
		flows.TypeMenu:       (*call).runMenu,
		flows.TypeGather:     (*call).runGather,
		flows.TypeSet:        (*call).runSet,
		flows.TypeBranch:     (*call).runBranch,
		flows.TypeHTTP:       (*call).runHTTP,
		flows.TypeHours:      (*call).runHours,
		flows.TypeDistribute: (*call).runDistribute,
		flows.TypeSubflow:    (*call).runSubflow,
		flows.TypeActivity:   (*call).runActivity,
		flows.TypeWait:       (*call).runWait,
		flows.TypeTransfer:   (*call).runTransfer,
		flows.TypeQueue:      (*call).runQueue,
		flows.TypeRecord:     (*call).runRecord,
		flows.TypeVoicemail:  (*call).runRecord,
		flows.TypeHangup:     (*call).runHangup,
		flows.TypeIntent:     (*call).runIntent,
		flows.TypeLLM:        (*call).runLLM,
	}
}

// run executes one node and returns the exit label and the next node ID.
func (c *call) run(f *flows.Flow, n *flows.Node) (string, string, error) {
	if r, ok := runners[n.Type]; ok {
		return r(c, f, n)
	}
	return "", "", fmt.Errorf("node %q: unknown type %q", n.ID, n.Type)
}

func (c *call) runSet(_ *flows.Flow, n *flows.Node) (string, string, error) {
	if err := c.assign(n.Assign, c.env()); err != nil {
		return "", "", err
	}
	return "next", n.Next, nil
}

func (c *call) runBranch(_ *flows.Flow, n *flows.Node) (string, string, error) {
	return branchExit(n, c.env())
}

// branchExit is the exit a branch node takes in env.
func branchExit(n *flows.Node, env *flows.Env) (string, string, error) {
	for i, w := range n.When {
		ok, err := w.If.EvalBool(env)
		if err != nil {
			return "", "", fmt.Errorf("when %d: %w", i, err)
		}
		if ok {
			return fmt.Sprintf("when %d", i), w.Next, nil
		}
	}
	return "default", n.Default, nil
}

// prompt renders a node's text/audio template pair.
func (c *call) prompt(f *flows.Flow, text, audio flows.Template) ([]activities.Prompt, error) {
	if text.IsZero() && audio.IsZero() {
		return nil, nil
	}
	return renderPrompt(f, c.top().Node, text, audio, c.env())
}

// renderPrompt renders node's text/audio template pair in env.
func renderPrompt(f *flows.Flow, node string, text, audio flows.Template, env *flows.Env) ([]activities.Prompt, error) {
	if text.IsZero() && audio.IsZero() {
		return nil, nil
	}
	p := activities.Prompt{Node: node, Language: f.Settings.Language, Voice: f.Settings.Voice}
	var err error
	if p.Text, err = text.Render(env); err != nil {
		return nil, fmt.Errorf("render prompt: %w", err)
	}
	if p.Audio, err = audio.Render(env); err != nil {
		return nil, fmt.Errorf("render audio: %w", err)
	}
	return []activities.Prompt{p}, nil
}

func (c *call) runPlay(f *flows.Flow, n *flows.Node) (string, string, error) {
	ps, err := c.prompt(f, n.Say, n.Audio)
	if err != nil {
		return "", "", err
	}
	if c.hungUp {
		return "skipped", n.Next, nil
	}
	// Held back and sent with the next caller turn: one hop, not two.
	c.pending = append(c.pending, ps...)
	return "next", n.Next, nil
}

// announce queues a node's say/audio to be played before it acts.
func (c *call) announce(f *flows.Flow, n *flows.Node) error {
	ps, err := c.prompt(f, n.Say, n.Audio)
	c.pending = append(c.pending, ps...)
	return err
}

// takePrompts returns held-back prompts followed by ps.
func (c *call) takePrompts(ps []activities.Prompt) []activities.Prompt {
	out := append(c.pending, ps...)
	c.pending = nil
	return out
}

// flushPrompts plays held-back prompts before the call does something slow
// or ends, so the caller hears them in order.
func (c *call) flushPrompts() {
	if len(c.pending) == 0 || c.hungUp {
		c.pending = nil
		return
	}
	in := activities.PlayInput{CallID: c.in.Call.ID, NodeID: c.top().Node, Prompts: c.takePrompts(nil), BargeIn: false}
	if err := c.media(activities.ActPlay, in, nil); err != nil {
		workflow.GetLogger(c.ctx).Warn("play held prompts", "error", err)
	}
}

func (c *call) collect(in activities.CollectInput) (activities.CollectResult, error) {
	var res activities.CollectResult
	in.CallID = c.in.Call.ID
	in.NodeID = c.top().Node
	in.Prompts = c.takePrompts(in.Prompts)
	err := c.media(activities.ActCollect, in, &res)
	return res, err
}

func (c *call) runMenu(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	main, err := c.prompt(f, n.Prompt, n.Audio)
	if err != nil {
		return "", "", err
	}
	var phrases []string
	keys := slices.Sorted(maps.Keys(n.Options))
	for _, k := range keys {
		phrases = append(phrases, n.Options[k].Phrases...)
	}
	retries := derefInt(n.Retries, flows.DefaultRetries)
	var lead []activities.Prompt
	for attempt := 0; attempt <= retries; attempt++ {
		in := activities.CollectInput{
			Prompts: append(lead, main...), BargeIn: derefBool(n.BargeIn, true),
			MinDigits: 1, MaxDigits: 1,
			Timeout:           n.Timeout.Or(f.Settings.InputTimeout.D()),
			InterDigitTimeout: f.Settings.InterDigitTimeout.D(),
			Phrases:           phrases,
		}
		if c.fast {
			in.Then = c.thenPrompts(f, n, keys)
		}
		res, err := c.collect(in)
		if err != nil {
			return "", "", err
		}
		c.input = res.Digits + res.Utterance
		c.markInput(c.input)
		var retry flows.Template
		switch res.Kind {
		case activities.InputTimeout:
			retry = n.NoInputPrompt
		case activities.InputDTMF:
			if opt, ok := n.Options[res.Digits]; ok {
				return "option " + res.Digits, opt.Next, nil
			}
			retry = n.InvalidPrompt
		case activities.InputSpeech:
			if key, ok := matchPhrase(n, keys, res.Utterance); ok {
				return "option " + key, n.Options[key].Next, nil
			}
			retry = n.InvalidPrompt
		}
		if lead, err = c.prompt(f, retry, flows.Template{}); err != nil {
			return "", "", err
		}
	}
	return "on_failure", n.OnFailure, nil
}

// matchPhrase finds the option whose phrase the utterance contains.
func matchPhrase(n *flows.Node, keys []string, utterance string) (string, bool) {
	u := " " + strings.ToLower(strings.TrimSpace(utterance)) + " "
	for _, k := range keys {
		if strings.TrimSpace(utterance) == k {
			return k, true
		}
		for _, p := range n.Options[k].Phrases {
			if strings.Contains(u, " "+strings.ToLower(p)+" ") {
				return k, true
			}
		}
	}
	return "", false
}

func (c *call) markInput(in string) {
	if len(c.path) > 0 {
		c.path[len(c.path)-1].Input = in
	}
}

func (c *call) runGather(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	main, err := c.prompt(f, n.Prompt, n.Audio)
	if err != nil {
		return "", "", err
	}
	retries := derefInt(n.Retries, flows.DefaultRetries)
	minDigits, maxDigits := n.MinDigits, n.MaxDigits
	if minDigits <= 0 {
		minDigits = 1
	}
	var lead []activities.Prompt
	for attempt := 0; attempt <= retries; attempt++ {
		res, err := c.collect(activities.CollectInput{
			Prompts: append(lead, main...), BargeIn: derefBool(n.BargeIn, true),
			MinDigits: minDigits, MaxDigits: maxDigits, Terminator: n.Terminator,
			Timeout:           n.Timeout.Or(f.Settings.InputTimeout.D()),
			InterDigitTimeout: n.InterDigitTimeout.Or(f.Settings.InterDigitTimeout.D()),
			Sensitive:         slices.Contains(c.sensitive(f), n.Var),
		})
		if err != nil {
			return "", "", err
		}
		digits := res.Digits
		if res.Kind == activities.InputSpeech {
			digits = spokenDigits(res.Utterance)
		}
		c.input = digits
		c.markInput(c.maskedInput(f, n, digits))
		retry := n.InvalidPrompt
		if res.Kind == activities.InputTimeout || digits == "" {
			retry = n.NoInputPrompt
		} else if ok, err := c.gatherValid(n, digits, minDigits, maxDigits); err != nil {
			return "", "", err
		} else if ok {
			c.top().Vars[n.Var] = digits
			return "next", n.Next, nil
		}
		if lead, err = c.prompt(f, retry, flows.Template{}); err != nil {
			return "", "", err
		}
	}
	return "on_failure", n.OnFailure, nil
}

// maskedInput keeps secrets (PINs, and digits gathered into a variable
// the flow marks sensitive) out of the path shown to operators and saved
// in the CDR.
func (c *call) maskedInput(f *flows.Flow, n *flows.Node, digits string) string {
	if strings.Contains(strings.ToLower(n.Var), "pin") || slices.Contains(c.sensitive(f), n.Var) {
		return strings.Repeat("*", len(digits))
	}
	return digits
}

func (c *call) gatherValid(n *flows.Node, digits string, minDigits, maxDigits int) (bool, error) {
	if len(digits) < minDigits || (maxDigits > 0 && len(digits) > maxDigits) {
		return false, nil
	}
	if n.Valid == nil {
		return true, nil
	}
	env := c.env()
	env.Input = digits
	return n.Valid.EvalBool(env)
}

// spokenDigits turns "one two three" or "1 2 3" into "123".
func spokenDigits(u string) string {
	words := map[string]string{"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
		"five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
	var b strings.Builder
	for _, w := range strings.Fields(strings.ToLower(u)) {
		if d, ok := words[w]; ok {
			b.WriteString(d)
			continue
		}
		for _, r := range w {
			if r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

func (c *call) runHTTP(_ *flows.Flow, n *flows.Node) (string, string, error) {
	c.flushPrompts()
	env := c.env()
	in := activities.HTTPInput{Method: n.Method, Timeout: n.Timeout.Or(DefaultHTTPTimeout), Headers: map[string]string{}}
	var err error
	if in.URL, err = n.URL.Render(env); err != nil {
		return "", "", fmt.Errorf("render url: %w", err)
	}
	if in.Body, err = n.Body.Render(env); err != nil {
		return "", "", fmt.Errorf("render body: %w", err)
	}
	for _, k := range slices.Sorted(maps.Keys(n.Headers)) {
		if in.Headers[k], err = n.Headers[k].Render(env); err != nil {
			return "", "", fmt.Errorf("render header %s: %w", k, err)
		}
	}
	attempts := int32(1) // a POST is not idempotent: never resend it blindly
	if in.Method == "GET" || in.Method == "HEAD" {
		attempts = 3
	}
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue:           activities.SharedQueue,
		StartToCloseTimeout: in.Timeout + time.Second,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: attempts, InitialInterval: 200 * time.Millisecond,
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput, activities.ErrTypeHTTPStatus}},
	})
	c.publishNode()
	var res activities.HTTPResult
	if err := workflow.ExecuteActivity(ctx, activities.ActHTTP, in).Get(ctx, &res); err != nil {
		return "", "", err
	}
	env = c.env()
	env.Response = map[string]any{"status": float64(res.Status), "headers": stringMap(res.Headers), "body": res.Body}
	if err := c.assign(n.Response, env); err != nil {
		return "", "", err
	}
	return "next", n.Next, nil
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (c *call) runHours(_ *flows.Flow, n *flows.Node) (string, string, error) {
	state, err := n.HoursAt(workflow.Now(c.ctx))
	if err != nil {
		return "", "", err
	}
	switch state {
	case flows.HoursOpen:
		return "open", n.Open, nil
	case flows.HoursHoliday:
		if n.Holiday != "" {
			return "holiday", n.Holiday, nil
		}
	}
	return "closed", n.Closed, nil
}

// runDistribute picks a branch by a hash of the call and node: the same
// call always takes the same branch, on replay and on reset.
func (c *call) runDistribute(_ *flows.Flow, n *flows.Node) (string, string, error) {
	h := fnv.New32a()
	h.Write([]byte(c.in.Call.ID + "/" + n.ID))
	bucket := int(h.Sum32() % 100)
	acc := 0
	for _, s := range n.Split {
		acc += s.Percent
		if bucket < acc {
			return fmt.Sprintf("%d%%", s.Percent), s.Next, nil
		}
	}
	if len(n.Split) == 0 {
		return "", "", fmt.Errorf("distribute %q has no split", n.ID)
	}
	last := n.Split[len(n.Split)-1]
	return fmt.Sprintf("%d%%", last.Percent), last.Next, nil
}

func (c *call) runSubflow(_ *flows.Flow, n *flows.Node) (string, string, error) {
	sub, err := c.subflow(n.Flow)
	if err != nil {
		return "", "", err
	}
	// Input expressions run in the caller's scope; results seed the callee.
	vars := initialVars(sub)
	env := c.env()
	for _, a := range n.Input {
		v, err := a.Expr.Eval(env)
		if err != nil {
			return "", "", fmt.Errorf("subflow input %s: %w", a.Var, err)
		}
		vars[a.Var] = normalize(v)
	}
	c.stack = append(c.stack, Frame{Flow: sub.Name, Node: sub.Entry, Vars: vars, Caller: n.ID})
	return "call " + sub.Name, "", nil
}

// subflow returns a pinned flow, loading it once if the starter did not pin it.
func (c *call) subflow(name string) (*flows.Flow, error) {
	if f, ok := c.flows[name]; ok {
		return f, nil
	}
	var srcs []activities.FlowSource
	if err := c.shared(c.ctx, activities.ActLoadFlows, loadFlowsOptions, activities.LoadFlowsInput{Names: []string{name}}, &srcs); err != nil {
		return nil, fmt.Errorf("load subflow %q: %w", name, err)
	}
	for _, src := range srcs {
		if _, err := c.parse(src); err != nil {
			return nil, err
		}
		c.loaded = append(c.loaded, src)
	}
	f, ok := c.flows[name]
	if !ok {
		return nil, fmt.Errorf("subflow %q is not published", name)
	}
	return f, nil
}

func (c *call) runActivity(_ *flows.Flow, n *flows.Node) (string, string, error) {
	c.flushPrompts()
	env := c.env()
	input := map[string]any{}
	for _, a := range n.Input {
		v, err := a.Expr.Eval(env)
		if err != nil {
			return "", "", fmt.Errorf("activity input %s: %w", a.Var, err)
		}
		input[a.Var] = normalize(v)
	}
	queue := n.Queue
	if queue == "" {
		queue = activities.SharedQueue
	}
	attempts := n.MaxAttempts
	if attempts <= 0 {
		attempts = 3
	}
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue: queue, StartToCloseTimeout: n.Timeout.Or(DefaultActivityTimeout),
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: int32(attempts),
			NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	c.publishNode()
	var out any
	if err := workflow.ExecuteActivity(ctx, n.Name, input).Get(ctx, &out); err != nil {
		return "", "", err
	}
	if n.Var != "" {
		c.top().Vars[n.Var] = out
	}
	return "next", n.Next, nil
}

func (c *call) runWait(_ *flows.Flow, n *flows.Node) (string, string, error) {
	c.flushPrompts()
	c.publishNode()
	tctx, cancel := workflow.WithCancel(c.ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, n.Duration.D())
	sel := workflow.NewSelector(c.ctx)
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.AddReceive(c.hangupCh, func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(c.ctx, nil)
		c.markHungUp()
	})
	sel.Select(c.ctx)
	if c.hungUp && !c.inHangup {
		return "", "", errCallGone
	}
	return "next", n.Next, nil
}

func (c *call) runTransfer(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	to, err := n.To.Render(c.env())
	if err != nil {
		return "", "", fmt.Errorf("render to: %w", err)
	}
	if err := c.announce(f, n); err != nil {
		return "", "", err
	}
	c.flushPrompts()
	var res activities.TransferResult
	in := activities.TransferInput{CallID: c.in.Call.ID, NodeID: n.ID, To: to, Mode: n.Mode, Timeout: n.Timeout.Or(DefaultTransferTimeout), Record: n.Record}
	// A bridge lasts as long as the conversation: the heartbeat, not the
	// activity's length, tells a dead worker.
	run := c.media
	if n.Mode == "bridge" {
		run = func(name string, in, out any) error { return c.mediaFor(name, in, out, MaxBridgeDuration) }
	}
	if err := run(activities.ActTransfer, in, &res); err != nil {
		return "", "", err
	}
	if res.Left {
		c.outcome = records.OutcomeTransferred
		c.top().Node = ""
		c.stack = c.stack[:1]
		return "transferred", "", nil
	}
	if res.Recording != "" {
		c.recordings = append(c.recordings, res.Recording)
	}
	if n.Var != "" {
		v := map[string]any{"outcome": res.Outcome, "talk_seconds": res.Talk.Seconds()}
		if res.Recording != "" {
			v["recording"] = res.Recording
		}
		if res.SIPStatus != 0 {
			v["sip_status"] = res.SIPStatus
		}
		c.top().Vars[n.Var] = v
	}
	switch res.Outcome {
	case activities.OriginateNoAnswer, activities.OriginateBusy, activities.OriginateFailed:
		if n.OnTimeout != "" {
			return res.Outcome, n.OnTimeout, nil
		}
		return res.Outcome, n.Next, nil
	}
	return "next", n.Next, nil
}

// runQueueV0 is the queue node of calls started before the router: one
// routing.Enqueue activity that blocks until routing is done.
func (c *call) runQueueV0(f *flows.Flow, n *flows.Node) (string, string, error) {
	if err := c.announce(f, n); err != nil {
		return "", "", err
	}
	c.flushPrompts()
	env := c.env()
	in := activities.EnqueueInput{CallID: c.in.Call.ID, Queue: n.Queue, Timeout: n.Timeout.Or(DefaultQueueTimeout), MediaQueue: c.in.MediaQueue}
	if n.Priority != nil {
		v, err := n.Priority.Eval(env)
		if err != nil {
			return "", "", fmt.Errorf("priority: %w", err)
		}
		p, ok := toInt(v)
		if !ok {
			return "", "", fmt.Errorf("priority: want a number, got %T", v)
		}
		in.Priority = p
	}
	if n.Skills != nil {
		v, err := n.Skills.Eval(env)
		if err != nil {
			return "", "", fmt.Errorf("skills: %w", err)
		}
		if in.Skills, err = toStrings(v); err != nil {
			return "", "", fmt.Errorf("skills: %w", err)
		}
	}
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue: activities.SharedQueue, StartToCloseTimeout: in.Timeout + time.Minute,
		HeartbeatTimeout: time.Minute,
		RetryPolicy:      &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	c.publishNode()
	var res activities.EnqueueResult
	if err := c.interruptible(ctx, activities.ActEnqueue, in, &res, false); err != nil {
		return "", "", err
	}
	if res.Outcome == activities.EnqueueTimeout && n.OnTimeout != "" {
		return "on_timeout", n.OnTimeout, nil
	}
	return res.Outcome, n.Next, nil
}

func (c *call) runRecord(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	ps, err := c.prompt(f, n.Say, n.Audio)
	if err != nil {
		return "", "", err
	}
	mailbox, err := n.Mailbox.Render(c.env())
	if err != nil {
		return "", "", fmt.Errorf("render mailbox: %w", err)
	}
	in := activities.RecordInput{CallID: c.in.Call.ID, NodeID: n.ID, Prompts: c.takePrompts(ps),
		Beep: derefBool(n.Beep, true), MaxDuration: n.MaxDuration.Or(DefaultRecordMax), Mailbox: mailbox,
		Terminator: n.Terminator, Silence: n.Timeout.D()}
	if n.Type == flows.TypeVoicemail {
		// A message ends like on an answering machine: the caller hangs
		// up, presses #, or goes quiet.
		in.Terminator, in.Silence = "#", DefaultVoicemailSilence
	}
	var res activities.RecordResult
	if err := c.media(activities.ActRecord, in, &res); err != nil {
		return "", "", err
	}
	if res.Ref != "" {
		c.recordings = append(c.recordings, res.Ref)
	}
	if n.Var != "" {
		c.top().Vars[n.Var] = res.Ref
	}
	return "next", n.Next, nil
}

func (c *call) runHangup(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		c.stack = c.stack[:1]
		return "skipped", "", nil
	}
	ps, err := c.prompt(f, n.Say, n.Audio)
	if err != nil {
		return "", "", err
	}
	in := activities.HangupInput{CallID: c.in.Call.ID, Prompts: c.takePrompts(ps), Reason: n.Reason}
	if err := c.media(activities.ActHangup, in, nil); err != nil && !errors.Is(err, errCallGone) {
		return "", "", err
	}
	c.hungUp = true
	c.stack = c.stack[:1]
	return "hangup", "", nil
}

// media runs an activity on the call's media queue. A media activity is
// never retried blindly (it would replay audio to the caller), a dead media
// worker is noticed by the schedule-to-start and heartbeat timeouts, and a
// hangup signal cancels it at once.
func (c *call) media(name string, in, out any) error {
	return c.mediaFor(name, in, out, 30*time.Minute)
}

// mediaFor runs a media activity that may take up to maxRun.
func (c *call) mediaFor(name string, in, out any, maxRun time.Duration) error {
	if c.hungUp {
		return errCallGone
	}
	c.pollMediaLost()
	if c.mediaLost {
		return fmt.Errorf("%w: %s stopped reporting (media-lost signal)", errMediaLost, c.in.MediaQueue)
	}
	lim := c.in.Limits
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue:              c.in.MediaQueue,
		ScheduleToStartTimeout: orDuration(lim.MediaStartTimeout, DefaultMediaStartTimeout),
		StartToCloseTimeout:    maxRun,
		HeartbeatTimeout:       c.mediaHeartbeat(),
		WaitForCancellation:    true,
		RetryPolicy:            &temporal.RetryPolicy{MaximumAttempts: 1},
	})
	c.publishNode()
	err := c.interruptible(ctx, name, in, out, true)
	// The call's worker found the task marked started but never got it
	// (the matching service died with the poll answer): run it again. No
	// history from before has this error, so replays are unchanged.
	for again := 0; activities.IsMediaTaskLost(err) && again < maxLostTaskRuns; again++ {
		workflow.GetLogger(c.ctx).Warn("media activity task lost on its way to the worker: running it again", "activity", name)
		err = c.interruptible(ctx, name, in, out, true)
	}
	if activities.IsCallGone(err) {
		c.markHungUp()
		return errCallGone
	}
	if isMediaLost(err) {
		return fmt.Errorf("%w: %v", errMediaLost, err)
	}
	return err
}

// maxLostTaskRuns bounds how often one media step is run again after its
// task was lost.
const maxLostTaskRuns = 2

// hangupGrace is how long, after a hangup signal, the workflow waits for the
// running media activity to end by itself (its worker ends it at once when
// the caller left) before abandoning it.
const hangupGrace = 5 * time.Second

// mediaHeartbeat is the heartbeat timeout of media activities: none on the
// fast path, where a dead worker is found by the watchdog instead of by
// every call beating once a second through the server.
func (c *call) mediaHeartbeat() time.Duration {
	if c.fast {
		return 0
	}
	return orDuration(c.in.Limits.MediaHeartbeat, DefaultMediaHeartbeat)
}

// interruptible runs an activity that a hangup signal cancels; with media,
// a media-lost signal for the call's queue abandons it (its worker is gone
// and will never confirm a cancellation). On the fast path media
// activities do not heartbeat, so the cancellation never reaches them: the
// worker that saw the caller leave ends its activity itself, and one it
// does not end within hangupGrace (the hangup came from elsewhere) is
// abandoned.
func (c *call) interruptible(ctx workflow.Context, name string, in, out any, media bool) error {
	return c.interruptibleRun(ctx, func(actx workflow.Context) workflow.Future {
		return workflow.ExecuteActivity(actx, name, in)
	}, out, media)
}

// interruptibleRun is interruptible for any activity start (a local one).
func (c *call) interruptibleRun(ctx workflow.Context, start func(workflow.Context) workflow.Future, out any, media bool) error {
	actCtx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	fut := start(actCtx)
	var err error
	done := false
	sel := workflow.NewSelector(c.ctx)
	sel.AddFuture(fut, func(f workflow.Future) {
		done = true
		err = f.Get(c.ctx, out)
	})
	graceCtx, stopGrace := workflow.WithCancel(c.ctx)
	defer stopGrace()
	sel.AddReceive(c.hangupCh, func(ch workflow.ReceiveChannel, _ bool) {
		ch.Receive(c.ctx, nil)
		c.markHungUp()
		cancel()
		if !media || !c.fast {
			return
		}
		sel.AddFuture(workflow.NewTimer(graceCtx, hangupGrace), func(workflow.Future) {
			done, err = true, errCallGone
		})
	})
	c.addQueueInterrupts(sel, cancel, func(e error) { done, err = true, e })
	sel.AddReceive(c.lostCh, func(ch workflow.ReceiveChannel, _ bool) {
		var lost activities.MediaLost
		ch.Receive(c.ctx, &lost)
		if media && c.noteMediaLost(lost) {
			cancel()
			done, err = true, fmt.Errorf("%w: %s stopped reporting (media-lost signal)", errMediaLost, lost.Queue)
		}
	})
	for !done {
		sel.Select(c.ctx)
	}
	if errors.Is(err, errMediaLost) || isQueueInterrupt(err) {
		return err
	}
	// A result that arrived is kept even if the caller hung up meanwhile
	// (a voicemail recorded up to the hangup); the main loop then runs
	// on_hangup before entering another node.
	if err != nil && c.hungUp && !c.inHangup {
		return errCallGone
	}
	return err
}

func derefInt(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func derefBool(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func orDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	}
	return 0, false
}

func toStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{x}, nil
	case []string:
		return x, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("want a list of strings, got %T in it", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of strings, got %T", v)
}
