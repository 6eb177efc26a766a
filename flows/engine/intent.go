package engine

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// AI nodes ask models through activities on the shared queue, so a replay
// reads their answers from the history and never asks again.
const (
	// DefaultIntentTimeout bounds one classification, retries included.
	DefaultIntentTimeout = 8 * time.Second
	// DefaultLLMTimeout bounds one reply of an llm node.
	DefaultLLMTimeout = 10 * time.Second
	// alertSentiment: a caller turn at or below it alerts supervisors.
	alertSentiment = -0.6
	// slotDigitsMax bounds a slot keyed in on the phone.
	slotDigitsMax = 20
)

// aiRetry retries an AI activity only when its worker died: the activity
// retries the endpoint itself within its budget, and its own errors say
// whether waiting longer could help (it cannot).
var aiRetry = &temporal.RetryPolicy{MaximumAttempts: 2, InitialInterval: 100 * time.Millisecond,
	NonRetryableErrorTypes: []string{activities.ErrTypeBadInput, activities.ErrTypeAIUnavailable,
		activities.ErrTypeAIRejected, activities.ErrTypeAIBadOutput}}

// ai runs an AI activity of a caller's turn (ai.Intent, ai.Chat) that a
// hangup interrupts. Since changeLocalAI it is a local activity of the
// engine worker: no dispatch through the server and no second workflow
// task in the turn (about 10-15 ms of a spoken turn's engine share, see
// bench/README.md "Spoken turns"); calls from before keep the shared queue.
func (c *call) ai(name string, in, out any, budget time.Duration) error {
	c.publishNode()
	if c.version(changeLocalAI) >= localAIVersion {
		lctx := workflow.WithLocalActivityOptions(c.ctx, workflow.LocalActivityOptions{
			StartToCloseTimeout: budget + 2*time.Second, RetryPolicy: aiRetry,
		})
		return c.interruptibleRun(lctx, func(actx workflow.Context) workflow.Future {
			return workflow.ExecuteLocalActivity(actx, name, in)
		}, out, false)
	}
	ctx := workflow.WithActivityOptions(c.ctx, workflow.ActivityOptions{
		TaskQueue: activities.SharedQueue, StartToCloseTimeout: budget + 2*time.Second, RetryPolicy: aiRetry,
	})
	return c.interruptible(ctx, name, in, out, false)
}

// runIntent asks the caller what they want and takes the exit of the
// intent recognised, asking for missing required slots.
func (c *call) runIntent(f *flows.Flow, n *flows.Node) (string, string, error) {
	if c.hungUp {
		return "", "", errCallGone
	}
	main, err := c.prompt(f, n.Prompt, n.Audio)
	if err != nil {
		return "", "", err
	}
	var lead []activities.Prompt
	for attempt := 0; attempt <= derefInt(n.Retries, 1); attempt++ {
		ps := append(lead, main...)
		res, err := c.collect(c.freeSpeech(f, n, ps, nil))
		if err != nil {
			return "", "", err
		}
		c.said(ps)
		retry := n.NoInputPrompt
		switch {
		case res.Kind == activities.InputDTMF:
			// Keys mean the caller would rather use the menu.
			c.markInput(res.Digits)
			return "no_match", n.NoMatch, nil
		case res.Kind == activities.InputSpeech && strings.TrimSpace(res.Utterance) == "":
			// Sound the recogniser made nothing of: not worth a model call.
			c.markInput("(unintelligible)")
			retry = n.InvalidPrompt
		case res.Kind == activities.InputSpeech:
			r, err := c.classify(f, n, res.Utterance, "", nil)
			if err != nil {
				return "", "", err
			}
			if r.Intent != "" && r.Confidence >= derefFloat(n.MinConfidence, flows.DefaultMinConfidence) {
				return c.fillSlots(f, n, r, res.Utterance)
			}
			retry = n.InvalidPrompt
		}
		if lead, err = c.prompt(f, retry, flows.Template{}); err != nil {
			return "", "", err
		}
	}
	return "no_match", n.NoMatch, nil
}

// freeSpeech is a collect of the caller's own words, biased towards the
// node's examples and slot types; keys are collected as for a slot.
func (c *call) freeSpeech(f *flows.Flow, n *flows.Node, ps []activities.Prompt, slot *flows.Slot) activities.CollectInput {
	in := activities.CollectInput{
		Prompts: ps, BargeIn: derefBool(n.BargeIn, true),
		MinDigits: 1, MaxDigits: 1,
		Timeout:           n.Timeout.Or(f.Settings.InputTimeout.D()),
		InterDigitTimeout: f.Settings.InterDigitTimeout.D(),
		FreeSpeech:        true,
	}
	if slot != nil {
		in.HintSlots = []string{slot.Type}
		if slot.Type == activities.SlotDigits || slot.Type == activities.SlotNumber {
			in.MaxDigits, in.Terminator = slotDigitsMax, "#"
		}
		return in
	}
	for _, name := range slices.Sorted(maps.Keys(n.Intents)) {
		in.Hints = append(in.Hints, n.Intents[name].Examples...)
		for _, sn := range slices.Sorted(maps.Keys(n.Intents[name].Slots)) {
			if t := n.Intents[name].Slots[sn].Type; !slices.Contains(in.HintSlots, t) {
				in.HintSlots = append(in.HintSlots, t)
			}
		}
	}
	return in
}

// classify asks ai.Intent what the (redacted) utterance means; on a
// follow-up, intent is the one chosen and want the slots asked for.
func (c *call) classify(f *flows.Flow, n *flows.Node, utterance, intent string, want []string) (activities.IntentResult, error) {
	text := c.redactAnswer(f, utterance)
	c.markInput(text)
	in := activities.IntentInput{
		CallID: c.in.Call.ID, NodeID: n.ID, Model: modelOf(f, n), Utterance: text,
		Intents: intentDefs(n), Intent: intent, Want: want, Transcript: c.turns(),
		Now: workflow.Now(c.ctx), Language: f.Settings.Language,
	}
	c.heard(text)
	var r activities.IntentResult
	err := c.ai(activities.ActIntent, in, &r, n.Timeout.Or(DefaultIntentTimeout))
	turn := records.AITurn{Utterance: text, Intent: r.Intent, Confidence: r.Confidence, Slots: r.Slots,
		Sentiment: r.Sentiment, Source: r.Source, Model: r.Model}
	if err != nil {
		turn.Error = aiError(err)
	}
	c.noteAI(turn)
	if err == nil {
		c.watchSentiment(n, text, r.Sentiment)
	}
	return r, err
}

// intentDefs turns a node's intents into the contract's, sorted by name.
func intentDefs(n *flows.Node) []activities.IntentDef {
	var out []activities.IntentDef
	for _, name := range slices.Sorted(maps.Keys(n.Intents)) {
		in := n.Intents[name]
		d := activities.IntentDef{Name: name, Description: in.Description, Examples: in.Examples}
		for _, sn := range slices.Sorted(maps.Keys(in.Slots)) {
			s := in.Slots[sn]
			d.Slots = append(d.Slots, activities.SlotDef{Name: sn, Type: s.Type, Description: s.Description,
				Required: s.Required, Values: s.Values})
		}
		out = append(out, d)
	}
	return out
}

func modelOf(f *flows.Flow, n *flows.Node) string {
	if n.Model != "" {
		return n.Model
	}
	return f.Settings.LLMModel
}

func derefFloat(p *float64, def float64) float64 {
	if p == nil {
		return def
	}
	return *p
}

// spokenName is how a slot's name is said in a default question.
func spokenName(name string) string { return strings.ReplaceAll(name, "_", " ") }

// fillSlots asks for the required slots the caller did not say (at most
// max_turns questions), puts the slots in variables and takes the
// intent's exit, or no_match when a required slot is still missing.
func (c *call) fillSlots(f *flows.Flow, n *flows.Node, r activities.IntentResult, utterance string) (string, string, error) {
	intent := n.Intents[r.Intent]
	slots := maps.Clone(r.Slots)
	if slots == nil {
		slots = map[string]any{}
	}
	turns := n.MaxTurns
	if turns == 0 {
		turns = flows.DefaultIntentTurns
	}
	for asked := 0; asked < turns; asked++ {
		missing := missingSlots(intent, slots)
		if len(missing) == 0 {
			break
		}
		name, s := missing[0], intent.Slots[missing[0]]
		ps, err := c.slotQuestion(f, name, s)
		if err != nil {
			return "", "", err
		}
		res, err := c.collect(c.freeSpeech(f, n, ps, s))
		if err != nil {
			return "", "", err
		}
		c.said(ps)
		switch res.Kind {
		case activities.InputDTMF:
			if v, ok := keyedSlot(s, res.Digits); ok {
				slots[name] = v
				c.markInput(c.redact(f, res.Digits))
				c.heard(c.redact(f, res.Digits))
			}
		case activities.InputSpeech:
			more, err := c.classify(f, n, res.Utterance, r.Intent, missing)
			if err != nil {
				return "", "", err
			}
			for k, v := range more.Slots {
				if _, ok := intent.Slots[k]; ok {
					slots[k] = v
				}
			}
		}
	}
	vars := c.top().Vars
	for _, name := range slices.Sorted(maps.Keys(intent.Slots)) {
		if v, ok := slots[name]; ok && v != nil {
			vars[name] = normalize(v)
		}
	}
	if n.Var != "" {
		vars[n.Var] = map[string]any{"intent": r.Intent, "confidence": r.Confidence,
			"slots": normalize(map[string]any(slots)), "utterance": c.redact(f, utterance), "source": r.Source}
	}
	if len(missingSlots(intent, slots)) > 0 {
		return "no_match", n.NoMatch, nil
	}
	return "intent " + r.Intent, intent.Next, nil
}

// missingSlots lists an intent's required slots without a value, by name.
func missingSlots(in *flows.Intent, slots map[string]any) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(in.Slots)) {
		if v, ok := slots[name]; in.Slots[name].Required && (!ok || v == nil || v == "") {
			out = append(out, name)
		}
	}
	return out
}

// slotQuestion is the prompt asking for a missing slot.
func (c *call) slotQuestion(f *flows.Flow, name string, s *flows.Slot) ([]activities.Prompt, error) {
	if !s.Ask.IsZero() {
		return c.prompt(f, s.Ask, flows.Template{})
	}
	return []activities.Prompt{{Node: c.top().Node, Text: "What is your " + spokenName(name) + "?",
		Language: f.Settings.Language, Voice: f.Settings.Voice}}, nil
}

// keyedSlot reads a slot keyed in on the phone.
func keyedSlot(s *flows.Slot, digits string) (any, bool) {
	if digits == "" {
		return nil, false
	}
	switch s.Type {
	case activities.SlotDigits:
		return digits, true
	case activities.SlotNumber:
		v, err := strconv.ParseFloat(digits, 64)
		return v, err == nil
	}
	return nil, false
}
