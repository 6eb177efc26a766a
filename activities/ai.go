package activities

import (
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// AI activities: intent classification, generated replies and post-call
// insights. They run on SharedQueue. With an OpenAI-compatible endpoint
// configured they ask its models; without one, intents and insights come
// from the offline matcher (activities/nlu) and ActChat fails with
// ErrTypeAIUnavailable, so an llm node takes its on_error exit. Their
// results are activity results: a replay never calls a model.
const (
	ActIntent    = "ai.Intent"
	ActChat      = "ai.Chat"
	ActSummarize = "ai.Summarize"
	// ActCallAlert records something a supervisor must see about a live
	// call (a strongly negative turn) as a call event.
	ActCallAlert = "voxflow.CallAlert"
)

// Slot types of an intent node's slots.
const (
	SlotNumber = "number" // a number: "twelve", "3.5" -> 12, 3.5
	SlotDigits = "digits" // a digit string: "four four seven one" -> "4471"
	SlotDate   = "date"   // a calendar date: "tomorrow", "May 3rd" -> "2026-05-03"
	SlotTime   = "time"   // a time of day: "half past two pm" -> "14:30"
	SlotMoney  = "money"  // an amount: "$12.50", "twelve dollars" -> "12.50"
	SlotText   = "text"   // free text, what the caller said for it
	SlotEnum   = "enum"   // one of Values (canonical spelling)
)

// SlotTypes lists the slot types in the order docs show them.
var SlotTypes = []string{SlotNumber, SlotDigits, SlotDate, SlotTime, SlotMoney, SlotText, SlotEnum}

// Sources of an AI result.
const (
	SourceLLM     = "llm"     // an OpenAI-compatible model
	SourceOffline = "offline" // the offline matcher, no model
)

// IntentDef is one intent a node listens for.
type IntentDef struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Examples    []string  `json:"examples,omitempty"`
	Slots       []SlotDef `json:"slots,omitempty"`
}

// SlotDef is a value an intent carries.
type SlotDef struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description,omitempty"`
	Required    bool     `json:"required,omitempty"`
	Values      []string `json:"values,omitempty"` // enum only
}

// Turn is one line of a conversation as a model sees it.
type Turn struct {
	// From is "caller" or "flow" (what the flow said or generated).
	From string `json:"from"`
	Text string `json:"text"`
}

// Who said a Turn.
const (
	TurnCaller = "caller"
	TurnFlow   = "flow"
)

// IntentInput asks which intent an utterance expresses and which slots
// it fills.
type IntentInput struct {
	CallID string `json:"call_id"`
	NodeID string `json:"node_id"`
	// Model is the node's or flow's model; "" the endpoint's default.
	Model     string      `json:"model,omitempty"`
	Utterance string      `json:"utterance"`
	Intents   []IntentDef `json:"intents"`
	// Intent is set on a follow-up turn: the intent already chosen, whose
	// slots Want the utterance answers.
	Intent string   `json:"intent,omitempty"`
	Want   []string `json:"want,omitempty"`
	// Transcript is the conversation before this utterance (redacted).
	Transcript []Turn `json:"transcript,omitempty"`
	// Now (the workflow's clock) and TimeZone resolve "tomorrow" or
	// "at three"; Language is a BCP 47 tag.
	Now      time.Time `json:"now"`
	TimeZone string    `json:"time_zone,omitempty"`
	Language string    `json:"language,omitempty"`
}

// IntentResult is what the classifier made of an utterance. Intent is ""
// when nothing matched; an intent that is not among the node's intents is
// never returned (the activity fails with ErrTypeAIBadOutput instead).
type IntentResult struct {
	Intent     string         `json:"intent,omitempty"`
	Confidence float64        `json:"confidence"`
	Slots      map[string]any `json:"slots,omitempty"`
	// Sentiment of the utterance in [-1, 1] (negative is unhappy).
	Sentiment float64 `json:"sentiment"`
	Source    string  `json:"source"`
	Model     string  `json:"model,omitempty"`
}

// ChatMessage is one message of a chat request, as in the OpenAI API.
type ChatMessage struct {
	Role       string     `json:"role"` // system, user, assistant, tool
	Content    string     `json:"content,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolDef is a function the model may call: an exit of the flow or a
// declared activity. Parameters is a JSON Schema object.
type ToolDef struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Parameters  map[string]any `json:"parameters,omitempty"`
}

// ToolCall is the model's call of a tool; Arguments is JSON text.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatInput asks a model for the next message of a conversation.
type ChatInput struct {
	CallID    string        `json:"call_id"`
	NodeID    string        `json:"node_id"`
	Model     string        `json:"model,omitempty"`
	Messages  []ChatMessage `json:"messages"`
	Tools     []ToolDef     `json:"tools,omitempty"`
	MaxTokens int           `json:"max_tokens,omitempty"`
	// Timeout bounds the whole request, retries included.
	Timeout     time.Duration `json:"timeout,omitempty"`
	Temperature *float64      `json:"temperature,omitempty"`
}

// ChatResult is the model's message: text, tool calls, or both.
type ChatResult struct {
	Content          string     `json:"content,omitempty"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	FinishReason     string     `json:"finish_reason,omitempty"`
	Model            string     `json:"model,omitempty"`
	PromptTokens     int        `json:"prompt_tokens,omitempty"`
	CompletionTokens int        `json:"completion_tokens,omitempty"`
}

// SummarizeInput asks for a call's insights after it ended. Everything in
// it is already redacted.
type SummarizeInput struct {
	CallID  string `json:"call_id"`
	Flow    string `json:"flow"`
	Model   string `json:"model,omitempty"`
	Outcome string `json:"outcome"`
	// Path is the node IDs the call went through, in order.
	Path       []string       `json:"path,omitempty"`
	Transcript []Turn         `json:"transcript,omitempty"`
	Vars       map[string]any `json:"vars,omitempty"`
	// Dispositions, when set, are the only dispositions to choose from.
	Dispositions []string `json:"dispositions,omitempty"`
}

// Sentiment labels of CallInsights.
const (
	SentimentPositive = "positive"
	SentimentNeutral  = "neutral"
	SentimentNegative = "negative"
)

// SentimentLabel names a sentiment score: at or below -0.3 negative, at
// or above 0.3 positive, neutral between. Models and the offline
// summariser label alike.
func SentimentLabel(s float64) string {
	switch {
	case s <= -0.3:
		return SentimentNegative
	case s >= 0.3:
		return SentimentPositive
	}
	return SentimentNeutral
}

// CallInsights is a call's summary, disposition, sentiment and key facts,
// as ai.Summarize returns them and the call record keeps them.
type CallInsights = records.Insights

// CallAlertInput is something a supervisor must see about a live call.
type CallAlertInput struct {
	CallID string    `json:"call_id"`
	At     time.Time `json:"at"`
	// Action names the alert ("negative_sentiment"); Detail says why.
	Action string `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// Alert actions.
const AlertNegativeSentiment = "negative_sentiment"
