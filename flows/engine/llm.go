package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

const (
	// toolRounds bounds the activity tools one reply may call.
	toolRounds = 3
	// contextBytes bounds the call context given to a model.
	contextBytes = 4096
)

// chat is an llm node's conversation with its model.
type chat struct {
	f        *flows.Flow
	n        *flows.Node
	messages []activities.ChatMessage
	tools    []activities.ToolDef
}

// runLLM has the model reply to the caller, turn by turn, until it takes
// an exit tool, the turns run out or the caller is silent.
func (c *call) runLLM(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	ch, err := c.newChat(f, n)
	if err != nil {
		return "", "", err
	}
	if !n.Prompt.IsZero() || !n.Audio.IsZero() {
		ps, err := c.prompt(f, n.Prompt, n.Audio)
		if err != nil {
			return "", "", err
		}
		if ok, err := c.listen(ch, ps); err != nil || !ok {
			return "next", n.Next, err
		}
	}
	turns := max(n.MaxTurns, flows.DefaultLLMTurns)
	for turn := 1; ; turn++ {
		res, err := c.reply(ch)
		if err != nil {
			return "", "", err
		}
		if tool := exitTool(n, res); tool != "" {
			return c.takeTool(f, n, tool, res)
		}
		if n.Var != "" {
			c.top().Vars[n.Var] = res.Content
		}
		speak := derefBool(n.Speak, true)
		var ps []activities.Prompt
		if speak {
			ps = c.replyPrompts(f, res.Content)
		}
		if turn >= turns || !speak {
			c.said(ps)
			c.pending = append(c.pending, ps...)
			return "next", n.Next, nil
		}
		if ok, err := c.listen(ch, ps); err != nil || !ok {
			return "next", n.Next, err
		}
	}
}

// newChat starts the conversation: instructions, the call's context and
// what was said so far.
func (c *call) newChat(f *flows.Flow, n *flows.Node) (*chat, error) {
	system, err := n.System.Render(c.env())
	if err != nil {
		return nil, fmt.Errorf("render system: %w", err)
	}
	ch := &chat{f: f, n: n, tools: toolDefs(n)}
	ch.messages = append(ch.messages,
		activities.ChatMessage{Role: "system", Content: c.redact(f, system)},
		activities.ChatMessage{Role: "system", Content: c.callContext()})
	for _, t := range c.turns() {
		role := "assistant"
		if t.From == activities.TurnCaller {
			role = "user"
		}
		ch.messages = append(ch.messages, activities.ChatMessage{Role: role, Content: t.Text})
	}
	return ch, nil
}

// callContext describes the call to the model: its facts, variables
// (redacted) and the nodes taken so far.
func (c *call) callContext() string {
	var path []string
	for _, s := range c.path {
		path = append(path, s.Node)
	}
	b, _ := json.Marshal(map[string]any{"caller": c.in.Call.From, "channel": c.in.Call.Channel,
		"variables": c.redactedVars(), "path": path})
	if len(b) > contextBytes {
		b = b[:contextBytes]
	}
	return "Call context (JSON): " + string(b)
}

// listen says ps, waits for the caller's words and adds them to the
// conversation; false when the caller said nothing (or pressed a key).
func (c *call) listen(ch *chat, ps []activities.Prompt) (bool, error) {
	in := c.freeSpeech(ch.f, ch.n, ps, nil)
	res, err := c.collect(in)
	if err != nil {
		return false, err
	}
	c.said(ps)
	if res.Kind == activities.InputTimeout && !ch.n.NoInputPrompt.IsZero() {
		if in.Prompts, err = c.prompt(ch.f, ch.n.NoInputPrompt, flows.Template{}); err != nil {
			return false, err
		}
		if res, err = c.collect(in); err != nil {
			return false, err
		}
		c.said(in.Prompts)
	}
	if res.Kind != activities.InputSpeech || strings.TrimSpace(res.Utterance) == "" {
		return false, nil
	}
	text := c.redactAnswer(ch.f, res.Utterance)
	c.markInput(text)
	c.heard(text)
	ch.messages = append(ch.messages, activities.ChatMessage{Role: "user", Content: text})
	return true, nil
}

// reply asks the model for its next message, running the activity tools
// it calls (at most toolRounds rounds) and giving their results back.
func (c *call) reply(ch *chat) (activities.ChatResult, error) {
	n := ch.n
	budget := n.Timeout.Or(DefaultLLMTimeout)
	for round := 0; ; round++ {
		in := activities.ChatInput{CallID: c.in.Call.ID, NodeID: n.ID, Model: modelOf(ch.f, n),
			Messages: ch.messages, Tools: ch.tools, MaxTokens: n.MaxTokens, Timeout: budget}
		if round == toolRounds {
			in.Tools = nil // the model must answer now
		}
		var res activities.ChatResult
		err := c.ai(activities.ActChat, in, &res, budget)
		turn := records.AITurn{Reply: c.redact(ch.f, res.Content), Source: activities.SourceLLM, Model: res.Model}
		if len(res.ToolCalls) > 0 {
			turn.Tool = res.ToolCalls[0].Name
		}
		if err != nil {
			turn.Error = aiError(err)
		}
		c.noteAI(turn)
		if err != nil || exitTool(n, res) != "" || len(res.ToolCalls) == 0 {
			return res, err
		}
		if round == toolRounds {
			return res, activities.NewAIBadOutput(fmt.Sprintf("the model kept calling tools after %d rounds", toolRounds), nil)
		}
		ch.messages = append(ch.messages, activities.ChatMessage{Role: "assistant", Content: res.Content, ToolCalls: res.ToolCalls})
		for _, call := range res.ToolCalls {
			ch.messages = append(ch.messages, activities.ChatMessage{Role: "tool", ToolCallID: call.ID,
				Content: c.redact(ch.f, c.runTool(n, call))})
		}
	}
}

// runTool runs an activity tool and returns its result (or error) as text
// for the model.
func (c *call) runTool(n *flows.Node, call activities.ToolCall) string {
	t := n.Tools[call.Name]
	if t == nil || t.Activity == "" {
		return `{"error": "unknown tool"}`
	}
	args := map[string]any{}
	if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
		return `{"error": "arguments are not a JSON object"}`
	}
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue: activities.SharedQueue, StartToCloseTimeout: DefaultActivityTimeout,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 2, NonRetryableErrorTypes: []string{activities.ErrTypeBadInput}},
	})
	var out any
	if err := c.interruptible(ctx, t.Activity, declaredArgs(t, args), &out, false); err != nil {
		b, _ := json.Marshal(map[string]string{"error": err.Error()})
		return string(b)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return `{"error": "result is not JSON"}`
	}
	return string(b)
}

// exitTool returns the first exit tool the model called, if any.
func exitTool(n *flows.Node, res activities.ChatResult) string {
	for _, call := range res.ToolCalls {
		if t := n.Tools[call.Name]; t != nil && t.Next != "" {
			return call.Name
		}
	}
	return ""
}

// takeTool takes an exit tool: its declared parameters become variables.
func (c *call) takeTool(f *flows.Flow, n *flows.Node, name string, res activities.ChatResult) (string, string, error) {
	t := n.Tools[name]
	for _, call := range res.ToolCalls {
		if call.Name != name {
			continue
		}
		args := map[string]any{}
		if err := json.Unmarshal([]byte(call.Arguments), &args); err != nil {
			return "", "", activities.NewAIBadOutput(fmt.Sprintf("tool %s: arguments are not a JSON object", name), err)
		}
		vars := c.top().Vars
		for k, v := range declaredArgs(t, args) {
			vars[k] = normalize(v)
		}
		break
	}
	if res.Content != "" {
		ps := c.replyPrompts(f, res.Content)
		c.said(ps)
		c.pending = append(c.pending, ps...)
	}
	return "tool " + name, t.Next, nil
}

// declaredArgs keeps only the parameters the tool declares.
func declaredArgs(t *flows.Tool, args map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(t.Params)) {
		if v, ok := args[k]; ok {
			out[k] = v
		}
	}
	return out
}

// toolDefs describes a node's tools to the model, sorted by name.
func toolDefs(n *flows.Node) []activities.ToolDef {
	var out []activities.ToolDef
	for _, name := range slices.Sorted(maps.Keys(n.Tools)) {
		t := n.Tools[name]
		props := map[string]any{}
		required := []string{}
		for _, p := range slices.Sorted(maps.Keys(t.Params)) {
			props[p] = map[string]any{"type": t.Params[p]}
			required = append(required, p)
		}
		out = append(out, activities.ToolDef{Name: name, Description: t.Description,
			Parameters: map[string]any{"type": "object", "properties": props, "required": required}})
	}
	return out
}

// replyPrompts is a generated reply as a prompt in the flow's voice.
func (c *call) replyPrompts(f *flows.Flow, text string) []activities.Prompt {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	return []activities.Prompt{{Node: c.top().Node, Text: text, Language: f.Settings.Language, Voice: f.Settings.Voice}}
}
