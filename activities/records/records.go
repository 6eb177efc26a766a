// Package records holds the facts voxflow keeps about calls and workers:
// the call record (CDR) with the path a call took and how it ended, and the
// liveness row of a media worker. The engine writes them, activities carry
// them and the store persists them; the package imports no Temporal or
// storage package, so each side can depend on it without the other.
package records

import "time"

// Step is one node the call went through.
type Step struct {
	Node      string    `json:"node"`
	Flow      string    `json:"flow,omitempty"`
	Type      string    `json:"type"`
	EnteredAt time.Time `json:"entered_at"`
	LeftAt    time.Time `json:"left_at,omitempty"`
	// Outcome is the exit taken ("next", "option 1", "on_error", ...) or an error.
	Outcome string `json:"outcome,omitempty"`
	Input   string `json:"input,omitempty"`
	Error   string `json:"error,omitempty"`
	// Event is the history length when the node was entered: the workflow
	// task that entered it, which `calls reset --to-node` resets to.
	Event int64 `json:"event,omitempty"`
	// RunID is the workflow run the node ran in (runs change on continue-as-new).
	RunID string `json:"run_id,omitempty"`
	// AI holds what an intent or llm node understood, turn by turn.
	AI []AITurn `json:"ai,omitempty"`
}

// AITurn is one turn of an intent or llm node: what the caller said (or
// the prompt sent), what came back and from where. Texts are redacted.
type AITurn struct {
	Utterance  string         `json:"utterance,omitempty"`
	Intent     string         `json:"intent,omitempty"`
	Confidence float64        `json:"confidence,omitempty"`
	Slots      map[string]any `json:"slots,omitempty"`
	Sentiment  float64        `json:"sentiment,omitempty"`
	// Reply is an llm node's generated text; Tool the tool it called.
	Reply  string `json:"reply,omitempty"`
	Tool   string `json:"tool,omitempty"`
	Source string `json:"source,omitempty"`
	Model  string `json:"model,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Insights are a call's post-call summary, disposition, sentiment and key
// facts (from a model, or the offline summariser).
type Insights struct {
	Summary        string            `json:"summary"`
	Disposition    string            `json:"disposition,omitempty"`
	Sentiment      float64           `json:"sentiment"`
	SentimentLabel string            `json:"sentiment_label"`
	KeyFacts       map[string]string `json:"key_facts,omitempty"`
	Source         string            `json:"source"`
	Model          string            `json:"model,omitempty"`
	Error          string            `json:"error,omitempty"`
}

// CDR is the call record stored when a call ends.
type CDR struct {
	CallID      string         `json:"call_id"`
	WorkflowID  string         `json:"workflow_id"`
	RunID       string         `json:"run_id"`
	Flow        string         `json:"flow"`
	FlowVersion int            `json:"flow_version"`
	From        string         `json:"from"`
	To          string         `json:"to"`
	Channel     string         `json:"channel"`
	StartedAt   time.Time      `json:"started_at"`
	EndedAt     time.Time      `json:"ended_at"`
	Duration    time.Duration  `json:"duration"`
	Outcome     string         `json:"outcome"`
	Path        []Step         `json:"path"`
	Vars        map[string]any `json:"vars,omitempty"`
	Recordings  []string       `json:"recordings,omitempty"`
	// Queues are the call's stays in queues, in order (a call may queue
	// more than once).
	Queues []QueueStay `json:"queues,omitempty"`
	// Transcript is the conversation, oldest first: a web chat's messages,
	// or on voice what the flow said and the caller said at intent and
	// llm nodes (redacted).
	Transcript []ChatLine `json:"transcript,omitempty"`
	// Insights are filled after the call when the flow asks for a summary.
	Insights *Insights `json:"insights,omitempty"`
	// Campaign tags a call a campaign dialled.
	Campaign *CampaignCall `json:"campaign,omitempty"`
}

// ChatLine is one message of a web chat.
type ChatLine struct {
	At   time.Time `json:"at"`
	From string    `json:"from"` // ChatFlow, ChatAgent or ChatCustomer
	// Name is the agent's, on their lines (a chat may pass through several).
	Name string `json:"name,omitempty"`
	Text string `json:"text"`
}

// Who wrote a chat line (ChatLine.From).
const (
	ChatFlow     = "flow"     // a prompt of the flow
	ChatAgent    = "agent"    // the agent the chat was routed to
	ChatCustomer = "customer" // the person on the web page
)

// Call outcomes recorded in the CDR. Outbound calls that were never
// answered end with the originate outcome instead (activities'
// OriginateNoAnswer, OriginateBusy or OriginateFailed).
const (
	OutcomeCompleted   = "completed" // the flow ran to its end
	OutcomeHungUp      = "caller_hangup"
	OutcomeTransferred = "transferred"
	// OutcomeBridged: a bridged transfer ended by the other party; the
	// caller went on in the flow.
	OutcomeBridged  = "bridged"
	OutcomeMaxSteps = "max_steps"
	OutcomeFailed   = "failed"
	// OutcomeMediaLost: the media worker died and the callback failed.
	OutcomeMediaLost = "media_lost"
)

// MediaWorker is one live media worker as the registry sees it. A
// draining worker reports LiveCalls -1.
type MediaWorker struct {
	ID        string    `json:"id"`
	Queue     string    `json:"queue"`
	LiveCalls int       `json:"live_calls"`
	SeenAt    time.Time `json:"seen_at"`
}

// CallEvent is something a person did to a live call besides the flow: a
// supervisor listening, whispering, barging in or leaving.
type CallEvent struct {
	CallID string    `json:"call_id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail,omitempty"`
}
