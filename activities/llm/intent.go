package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/activities"
)

// noIntent is the answer that no declared intent fits.
const noIntent = "none"

// Intent asks the model which of in's intents the utterance expresses and
// which slots it fills. The answer is checked: an intent the node does not
// declare, or JSON that does not parse, is an AIBadOutput error; slot
// values are normalised per type and dropped when they do not parse.
func (c *Client) Intent(ctx context.Context, in activities.IntentInput) (activities.IntentResult, error) {
	if len(in.Intents) == 0 {
		return activities.IntentResult{}, activities.NewBadInput(fmt.Errorf("node %s declares no intents", in.NodeID))
	}
	req := c.IntentRequest(in)
	res, err := c.complete(ctx, callInfo{op: "intent", callID: in.CallID, nodeID: in.NodeID}, req, 0)
	if err != nil {
		return activities.IntentResult{}, err
	}
	text, err := structuredAnswer(res, c.cfg.JSONMode, intentSchemaName)
	if err == nil {
		var out activities.IntentResult
		out, err = c.readIntent(text, in)
		if err == nil {
			out.Model = req.Model
			return out, nil
		}
	}
	c.counts.badOutput.Add(1)
	return activities.IntentResult{}, err
}

const intentSchemaName = "intent_answer"

// IntentRequest is the chat completion request Intent sends for in.
func (c *Client) IntentRequest(in activities.IntentInput) openai.ChatCompletionRequest {
	now, loc := localNow(in.Now, in.TimeZone)
	msgs := []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: intentPrompt(in, now, loc)}}
	msgs = append(msgs, transcriptMessages(in.Transcript)...)
	utterance := in.Utterance
	if strings.TrimSpace(utterance) == "" {
		utterance = "(the caller said nothing)"
	}
	msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: utterance})
	req := openai.ChatCompletionRequest{
		Model:       pick(in.Model, c.cfg.IntentModel, c.cfg.Model),
		Messages:    msgs,
		Temperature: temperature(0),
	}
	spec := answerSpec{name: intentSchemaName, description: "The caller's intent, its slots and the caller's sentiment.", schema: intentSchema(in.Intents)}
	if err := askStructured(&req, c.cfg.JSONMode, spec); err != nil {
		panic(err) // the schema is maps, strings and numbers: it always marshals
	}
	fitModel(&req)
	return req
}

// intentSchema is the answer's schema: an intent among the declared ones
// or "none", the slots of all intents (each nullable), confidence and
// sentiment.
func intentSchema(intents []activities.IntentDef) map[string]any {
	names := make([]any, 0, len(intents)+1)
	var slots []property
	seen := map[string]bool{}
	for _, it := range intents {
		names = append(names, it.Name)
		for _, s := range it.Slots {
			if !seen[s.Name] {
				seen[s.Name] = true
				slots = append(slots, property{s.Name, slotSchema(s)})
			}
		}
	}
	names = append(names, noIntent)
	props := []property{
		{"intent", map[string]any{"type": "string", "enum": names, "description": `The intent that fits, or "none".`}},
		{"confidence", map[string]any{"type": "number", "minimum": 0, "maximum": 1}},
	}
	if len(slots) > 0 {
		props = append(props, property{"slots", object("Slot values the caller gave; null for the others.", slots...)})
	}
	props = append(props, property{"sentiment", map[string]any{
		"type": "number", "minimum": -1, "maximum": 1, "description": "The caller's mood: -1 angry, 0 neutral, 1 happy.",
	}})
	return object("", props...)
}

// slotFormats says how each slot type is written in an answer.
var slotFormats = map[string]string{
	activities.SlotNumber: "a number",
	activities.SlotDigits: "the digits only, e.g. 4471",
	activities.SlotDate:   "a date as YYYY-MM-DD",
	activities.SlotTime:   "a time of day as HH:MM, 24-hour",
	activities.SlotMoney:  "an amount as a decimal number, e.g. 12.50",
	activities.SlotText:   "the caller's words",
	activities.SlotEnum:   "one of the listed values",
}

func slotSchema(s activities.SlotDef) map[string]any {
	desc := slotFormats[s.Type]
	if desc == "" {
		desc = slotFormats[activities.SlotText]
	}
	if s.Description != "" {
		desc = s.Description + ": " + desc
	}
	schema := map[string]any{"type": []string{"string", "null"}, "description": desc}
	switch s.Type {
	case activities.SlotNumber:
		schema["type"] = []string{"number", "null"}
	case activities.SlotEnum:
		enum := make([]any, 0, len(s.Values)+1)
		for _, v := range s.Values {
			enum = append(enum, v)
		}
		schema["enum"] = append(enum, nil)
	}
	return schema
}

// intentPrompt is the system message: the task, the clock for relative
// dates, the intents with their slots, and on a follow-up what was asked.
func intentPrompt(in activities.IntentInput, now time.Time, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("You classify what a caller said on a phone call into one of the intents below and extract its slot values.\n")
	if !now.IsZero() {
		fmt.Fprintf(&b, "Now is %s, %s in time zone %s: resolve relative dates and times (\"tomorrow\", \"at three\") against it.\n",
			now.Format("Monday 2006-01-02"), now.Format("15:04"), loc)
	}
	if in.Language != "" {
		fmt.Fprintf(&b, "The caller speaks %s.\n", in.Language)
	}
	b.WriteString("\nIntents:\n")
	for _, it := range in.Intents {
		writeIntent(&b, it)
	}
	fmt.Fprintf(&b, "\nAnswer %q when no intent fits. Give each slot the caller stated, written as its type says; "+
		"null for a slot they did not give. confidence is how sure you are, 0 to 1. "+
		"sentiment is the caller's mood from -1 (angry) to 1 (happy).\n", noIntent)
	if in.Intent != "" {
		fmt.Fprintf(&b, "\nThis is a follow-up: the caller already chose %q", in.Intent)
		if len(in.Want) > 0 {
			fmt.Fprintf(&b, " and was just asked for %s", strings.Join(in.Want, ", "))
		}
		fmt.Fprintf(&b, ". Keep intent %q and fill those slots unless the caller clearly asks for something else.\n", in.Intent)
	}
	return b.String()
}

func writeIntent(b *strings.Builder, it activities.IntentDef) {
	fmt.Fprintf(b, "- %s", it.Name)
	if it.Description != "" {
		fmt.Fprintf(b, ": %s", it.Description)
	}
	b.WriteByte('\n')
	if len(it.Examples) > 0 {
		quoted := make([]string, len(it.Examples))
		for i, e := range it.Examples {
			quoted[i] = fmt.Sprintf("%q", e)
		}
		fmt.Fprintf(b, "  Examples: %s\n", strings.Join(quoted, ", "))
	}
	for _, s := range it.Slots {
		fmt.Fprintf(b, "  Slot %s (%s", s.Name, s.Type)
		if s.Type == activities.SlotEnum {
			fmt.Fprintf(b, ": %s", strings.Join(s.Values, ", "))
		}
		if s.Required {
			b.WriteString(", required")
		}
		b.WriteByte(')')
		if s.Description != "" {
			fmt.Fprintf(b, ": %s", s.Description)
		}
		b.WriteByte('\n')
	}
}

// transcriptMessages turns the conversation so far into chat messages:
// the caller is the user, the flow the assistant.
func transcriptMessages(turns []activities.Turn) []openai.ChatCompletionMessage {
	out := make([]openai.ChatCompletionMessage, 0, len(turns))
	for _, t := range turns {
		if strings.TrimSpace(t.Text) == "" {
			continue
		}
		role := openai.ChatMessageRoleUser
		if t.From == activities.TurnFlow {
			role = openai.ChatMessageRoleAssistant
		}
		out = append(out, openai.ChatCompletionMessage{Role: role, Content: t.Text})
	}
	return out
}

// intentAnswer is the model's answer as the schema asks for it.
type intentAnswer struct {
	Intent     *string        `json:"intent"`
	Confidence float64        `json:"confidence"`
	Slots      map[string]any `json:"slots"`
	Sentiment  float64        `json:"sentiment"`
}

// readIntent checks and normalises the model's answer.
func (c *Client) readIntent(text []byte, in activities.IntentInput) (activities.IntentResult, error) {
	var a intentAnswer
	if err := json.Unmarshal(text, &a); err != nil {
		return activities.IntentResult{}, activities.NewAIBadOutput("model answer does not match the intent schema: "+err.Error(), nil)
	}
	if a.Intent == nil {
		return activities.IntentResult{}, activities.NewAIBadOutput("model answer has no intent", nil)
	}
	out := activities.IntentResult{
		Confidence: clamp(a.Confidence, 0, 1),
		Sentiment:  clamp(a.Sentiment, -1, 1),
		Source:     activities.SourceLLM,
	}
	if *a.Intent == noIntent || *a.Intent == "" {
		return out, nil
	}
	i := slices.IndexFunc(in.Intents, func(d activities.IntentDef) bool { return d.Name == *a.Intent })
	if i < 0 {
		return activities.IntentResult{}, activities.NewAIBadOutput(
			fmt.Sprintf("model chose intent %q, which node %s does not declare", clip(*a.Intent, 80), in.NodeID), nil)
	}
	out.Intent = *a.Intent
	now, loc := localNow(in.Now, in.TimeZone)
	for _, def := range in.Intents[i].Slots {
		if v, ok := c.normaliseSlot(def, a.Slots[def.Name], now, loc); ok {
			if out.Slots == nil {
				out.Slots = map[string]any{}
			}
			out.Slots[def.Name] = v
		}
	}
	return out, nil
}

// localNow is now in the named zone (UTC when it is unknown).
func localNow(now time.Time, zone string) (time.Time, *time.Location) {
	loc := location(zone)
	if now.IsZero() {
		return now, loc
	}
	return now.In(loc), loc
}

// locations caches time.LoadLocation, which reads the zone database on
// every call: most of building a request otherwise.
var locations sync.Map // zone name -> *time.Location

func location(zone string) *time.Location {
	if zone == "" {
		return time.UTC
	}
	if loc, ok := locations.Load(zone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	locations.Store(zone, loc)
	return loc
}

// pick is the first non-empty string.
func pick(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// fitModel adjusts req to what go-openai accepts for reasoning models
// (o-series, gpt-5): max_completion_tokens instead of max_tokens, and no
// temperature.
func fitModel(req *openai.ChatCompletionRequest) {
	if openai.NewReasoningValidator().Validate(*req) == nil {
		return
	}
	if req.MaxTokens > 0 {
		req.MaxCompletionTokens, req.MaxTokens = req.MaxTokens, 0
	}
	req.Temperature = 0
}
