// Package flows owns the voxflow flow language: the model of a contact flow,
// YAML decoding with line:column diagnostics, validation, expression
// compilation and the JSON Schema editors use. It has no Temporal, media or
// network dependencies, so the designer, the CLI and the engine share it.
package flows

import (
	"maps"
	"reflect"
	"slices"
	"time"
)

// Flow is one contact flow as authored in YAML.
type Flow struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Entry is the ID of the first node.
	Entry    string   `yaml:"entry" json:"entry"`
	Settings Settings `yaml:"settings,omitempty" json:"settings,omitempty"`
	// Variables declares the flow's variables with their initial values.
	Variables map[string]any `yaml:"variables,omitempty" json:"variables,omitempty"`
	// OnHangup is a node run after the caller hangs up, for wrap-up work.
	OnHangup string `yaml:"on_hangup,omitempty" json:"on_hangup,omitempty"`
	// Sensitive names variables whose values are secrets (redacted).
	Sensitive []string `yaml:"sensitive,omitempty" json:"sensitive,omitempty"`
	// Nodes by ID.
	Nodes map[string]*Node `yaml:"nodes" json:"nodes"`
	// Metadata is free-form data for tools (designer positions live here).
	Metadata map[string]any `yaml:"metadata,omitempty" json:"metadata,omitempty"`
}

// Settings are flow-wide defaults.
type Settings struct {
	Language          string   `yaml:"language,omitempty" json:"language,omitempty"`
	Voice             string   `yaml:"voice,omitempty" json:"voice,omitempty"`
	InputTimeout      Duration `yaml:"input_timeout,omitempty" json:"input_timeout,omitempty"`
	InterDigitTimeout Duration `yaml:"inter_digit_timeout,omitempty" json:"inter_digit_timeout,omitempty"`
	MaxSteps          int      `yaml:"max_steps,omitempty" json:"max_steps,omitempty"`
	// EarlyMedia: on SIP, prompts before the first node that needs the
	// caller are early media (183) and the call is answered only then.
	EarlyMedia bool `yaml:"early_media,omitempty" json:"early_media,omitempty"`
	// LLMModel is the default model of AI nodes and summaries.
	LLMModel string `yaml:"llm_model,omitempty" json:"llm_model,omitempty"`
	// Summary asks for post-call insights in the call record.
	Summary      bool     `yaml:"summary,omitempty" json:"summary,omitempty"`
	Dispositions []string `yaml:"dispositions,omitempty" json:"dispositions,omitempty"`
}

// Defaults applied when a flow leaves a setting out.
const (
	DefaultLanguage          = "en-US"
	DefaultVoice             = "default"
	DefaultInputTimeout      = 5 * time.Second
	DefaultInterDigitTimeout = 3 * time.Second
	DefaultMaxSteps          = 500
	DefaultRetries           = 2
	// Intent and llm nodes.
	DefaultMinConfidence = 0.5
	DefaultIntentTurns   = 2 // follow-up questions for missing slots
	DefaultLLMTurns      = 1
	DefaultMaxTokens     = 256
	MaxAITurns           = 10
)

// Node is one step of a flow. Fields are flat so YAML stays readable; which
// fields a type accepts is defined by the validator (and the JSON Schema),
// and a field that does not belong to the node's type is an error.
type Node struct {
	// ID is the key of the node in Flow.Nodes (filled in by the decoder).
	ID   string   `yaml:"-" json:"-"`
	Type NodeType `yaml:"type" json:"type"`
	// Label is a human title for the designer.
	Label   string `yaml:"label,omitempty" json:"label,omitempty"`
	Next    string `yaml:"next,omitempty" json:"next,omitempty"`
	OnError string `yaml:"on_error,omitempty" json:"on_error,omitempty"`

	// Prompting (play, menu, gather, record, voicemail, hangup, queue).
	Say     Template `yaml:"say,omitempty" json:"say,omitempty"`
	Prompt  Template `yaml:"prompt,omitempty" json:"prompt,omitempty"`
	Audio   Template `yaml:"audio,omitempty" json:"audio,omitempty"`
	BargeIn *bool    `yaml:"barge_in,omitempty" json:"barge_in,omitempty"`

	// Input (menu, gather).
	Options           map[string]*MenuOption `yaml:"options,omitempty" json:"options,omitempty"`
	Retries           *int                   `yaml:"retries,omitempty" json:"retries,omitempty"`
	NoInputPrompt     Template               `yaml:"no_input_prompt,omitempty" json:"no_input_prompt,omitempty"`
	InvalidPrompt     Template               `yaml:"invalid_prompt,omitempty" json:"invalid_prompt,omitempty"`
	OnFailure         string                 `yaml:"on_failure,omitempty" json:"on_failure,omitempty"`
	Timeout           Duration               `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	InterDigitTimeout Duration               `yaml:"inter_digit_timeout,omitempty" json:"inter_digit_timeout,omitempty"`
	MinDigits         int                    `yaml:"min_digits,omitempty" json:"min_digits,omitempty"`
	MaxDigits         int                    `yaml:"max_digits,omitempty" json:"max_digits,omitempty"`
	Terminator        string                 `yaml:"terminator,omitempty" json:"terminator,omitempty"`
	// Valid is an optional expression over `input` that accepts gathered digits.
	Valid *Expr `yaml:"valid,omitempty" json:"valid,omitempty"`
	// Var receives the node's result (gather digits, record reference, ...).
	Var string `yaml:"var,omitempty" json:"var,omitempty"`

	// set: ordered assignments var <- expression.
	Assign Assignments `yaml:"assign,omitempty" json:"assign,omitempty"`

	// branch.
	When    []*WhenClause `yaml:"when,omitempty" json:"when,omitempty"`
	Default string        `yaml:"default,omitempty" json:"default,omitempty"`

	// http.
	Method  string              `yaml:"method,omitempty" json:"method,omitempty"`
	URL     Template            `yaml:"url,omitempty" json:"url,omitempty"`
	Headers map[string]Template `yaml:"headers,omitempty" json:"headers,omitempty"`
	Body    Template            `yaml:"body,omitempty" json:"body,omitempty"`
	// Response maps variables from `response` (status, headers, body).
	Response Assignments `yaml:"response,omitempty" json:"response,omitempty"`

	// hours.
	Timezone string              `yaml:"timezone,omitempty" json:"timezone,omitempty"`
	Schedule map[string][]string `yaml:"schedule,omitempty" json:"schedule,omitempty"`
	Holidays []string            `yaml:"holidays,omitempty" json:"holidays,omitempty"`
	Open     string              `yaml:"open,omitempty" json:"open,omitempty"`
	Closed   string              `yaml:"closed,omitempty" json:"closed,omitempty"`
	Holiday  string              `yaml:"holiday,omitempty" json:"holiday,omitempty"`

	// distribute.
	Split []*SplitBranch `yaml:"split,omitempty" json:"split,omitempty"`

	// subflow: Flow names the flow to call; Input maps its variables from
	// ours; Output maps our variables from its final variables (`result`).
	Flow   string      `yaml:"flow,omitempty" json:"flow,omitempty"`
	Input  Assignments `yaml:"input,omitempty" json:"input,omitempty"`
	Output Assignments `yaml:"output,omitempty" json:"output,omitempty"`

	// activity: Name of the registered activity; Input as above; Var gets
	// the result; Queue overrides the shared task queue.
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Queue       string `yaml:"queue,omitempty" json:"queue,omitempty"`
	MaxAttempts int    `yaml:"max_attempts,omitempty" json:"max_attempts,omitempty"`

	// wait.
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`

	// transfer: To is a SIP URI or number; Mode is blind (default) or
	// bridge; Record (bridge) records both parties as a stereo WAV. A
	// bridge's Var gets {outcome, talk_seconds, recording, sip_status}; an
	// unanswered bridge takes OnTimeout (queue's field) when set.
	To     Template `yaml:"to,omitempty" json:"to,omitempty"`
	Mode   string   `yaml:"mode,omitempty" json:"mode,omitempty"`
	Record bool     `yaml:"record,omitempty" json:"record,omitempty"`

	// queue: Queue (above) names it; Priority and Skills are expressions.
	// OnTimeout is taken after the queue's longest wait, OnFull when the
	// queue holds its most callers, OnLeave when the caller chose to leave
	// in the hold flow (it set `leave`); Var gets {outcome, agent,
	// wait_seconds, talk_seconds, left}.
	Priority  *Expr  `yaml:"priority,omitempty" json:"priority,omitempty"`
	Skills    *Expr  `yaml:"skills,omitempty" json:"skills,omitempty"`
	OnTimeout string `yaml:"on_timeout,omitempty" json:"on_timeout,omitempty"`
	OnFull    string `yaml:"on_full,omitempty" json:"on_full,omitempty"`
	OnLeave   string `yaml:"on_leave,omitempty" json:"on_leave,omitempty"`

	// record, voicemail.
	MaxDuration Duration `yaml:"max_duration,omitempty" json:"max_duration,omitempty"`
	Beep        *bool    `yaml:"beep,omitempty" json:"beep,omitempty"`
	Mailbox     Template `yaml:"mailbox,omitempty" json:"mailbox,omitempty"`

	// hangup.
	Reason string `yaml:"reason,omitempty" json:"reason,omitempty"`

	// intent: Intents by name; below MinConfidence (0..1) the caller is
	// asked again, then NoMatch is taken. MaxTurns bounds follow-up
	// questions for missing slots (llm: replies). Model overrides the flow's.
	Intents       map[string]*Intent `yaml:"intents,omitempty" json:"intents,omitempty"`
	MinConfidence *float64           `yaml:"min_confidence,omitempty" json:"min_confidence,omitempty"`
	MaxTurns      int                `yaml:"max_turns,omitempty" json:"max_turns,omitempty"`
	Model         string             `yaml:"model,omitempty" json:"model,omitempty"`
	NoMatch       string             `yaml:"no_match,omitempty" json:"no_match,omitempty"`

	// llm: System is the model's instructions; Tools are functions it may
	// call; MaxTokens bounds a reply; Speak says replies to the caller.
	System    Template         `yaml:"system,omitempty" json:"system,omitempty"`
	Tools     map[string]*Tool `yaml:"tools,omitempty" json:"tools,omitempty"`
	MaxTokens int              `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	Speak     *bool            `yaml:"speak,omitempty" json:"speak,omitempty"`
}

// Intent is one intent of an intent node.
type Intent struct {
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Examples are phrases a caller might say; they train the offline
	// matcher and bias speech recognition.
	Examples []string `yaml:"examples,omitempty" json:"examples,omitempty"`
	// Slots by name: values the intent carries into vars.<name>.
	Slots map[string]*Slot `yaml:"slots,omitempty" json:"slots,omitempty"`
	Next  string           `yaml:"next" json:"next"`
}

// Slot is a value an intent carries; a required one missing is asked for
// with Ask.
type Slot struct {
	Type        string   `yaml:"type" json:"type"`
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Required    bool     `yaml:"required,omitempty" json:"required,omitempty"`
	Ask         Template `yaml:"ask,omitempty" json:"ask,omitempty"`
	Values      []string `yaml:"values,omitempty" json:"values,omitempty"`
}

// Tool is a function an llm node offers its model: a flow exit (Next;
// its parameters become variables) or an activity (Activity; its result
// goes back to the model).
type Tool struct {
	Description string `yaml:"description" json:"description"`
	// Params by name: string, number, integer or boolean.
	Params   map[string]string `yaml:"params,omitempty" json:"params,omitempty"`
	Next     string            `yaml:"next,omitempty" json:"next,omitempty"`
	Activity string            `yaml:"activity,omitempty" json:"activity,omitempty"`
}

// MenuOption is one DTMF key of a menu, optionally with speech phrases.
// In YAML an option is either a node ID (`"1": sales`) or a mapping.
type MenuOption struct {
	Next    string   `yaml:"next" json:"next"`
	Phrases []string `yaml:"phrases,omitempty" json:"phrases,omitempty"`
}

// WhenClause is one ordered condition of a branch node.
type WhenClause struct {
	If   *Expr  `yaml:"if" json:"if"`
	Next string `yaml:"next" json:"next"`
}

// SplitBranch is one share of a distribute node.
type SplitBranch struct {
	Percent int    `yaml:"percent" json:"percent"`
	Next    string `yaml:"next" json:"next"`
}

// Assignment sets Var to the value of Expr.
type Assignment struct {
	Var  string
	Expr *Expr
}

// Assignments keep the order they were written in: later ones see the
// results of earlier ones. In YAML they are a mapping `var: expression`.
type Assignments []Assignment

// Exit is one outgoing edge of a node: the designer draws it, the validator
// checks its target exists, the engine follows it.
type Exit struct {
	// Label names the exit: "next", "on_error", "option 1", "when 0", ...
	Label string
	// Field is the YAML path of the field below the node, e.g. "options.1.next".
	Field  string
	Target string
}

// Exits lists the node's outgoing edges in a stable order: the fields of
// exitFields in their order, each option by key, each clause and share in
// its order. Empty targets are left out.
func (n *Node) Exits() []Exit {
	var out []Exit
	add := func(label, field, target string) {
		if target != "" {
			out = append(out, Exit{Label: label, Field: field, Target: target})
		}
	}
	for _, x := range exitFields {
		switch x.Kind {
		case exitRef:
			add(x.Field, x.Field, reflect.ValueOf(n).Elem().Field(nodeFieldIndex[x.Field]).String())
		case exitOptions:
			for _, key := range slices.Sorted(maps.Keys(n.Options)) {
				add("option "+key, "options."+key+".next", n.Options[key].Next)
			}
		case exitWhen:
			for i, w := range n.When {
				add("when "+itoa(i), "when["+itoa(i)+"].next", w.Next)
			}
		case exitSplit:
			for i, s := range n.Split {
				add(itoa(s.Percent)+"%", "split["+itoa(i)+"].next", s.Next)
			}
		case exitIntents:
			for _, name := range slices.Sorted(maps.Keys(n.Intents)) {
				if in := n.Intents[name]; in != nil {
					add("intent "+name, "intents."+name+".next", in.Next)
				}
			}
		case exitTools:
			for _, name := range slices.Sorted(maps.Keys(n.Tools)) {
				if t := n.Tools[name]; t != nil {
					add("tool "+name, "tools."+name+".next", t.Next)
				}
			}
		}
	}
	return out
}

// Duration is a time.Duration written as "5s", "1m30s" in YAML and JSON.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Or returns d, or def when d is zero.
func (d Duration) Or(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// CallInfo is the `call` object in expressions: facts of the call that do
// not change while it runs.
type CallInfo struct {
	ID        string            `expr:"id" json:"id"`
	From      string            `expr:"from" json:"from"`
	To        string            `expr:"to" json:"to"`
	Channel   string            `expr:"channel" json:"channel"`
	StartedAt time.Time         `expr:"started_at" json:"started_at"`
	Headers   map[string]string `expr:"headers" json:"headers,omitempty"`
	// AnsweredBy is human, machine or unknown on an outbound call placed
	// with answering-machine detection; empty otherwise.
	AnsweredBy string `expr:"answered_by" json:"answered_by,omitempty"`
}

// Env is what an expression or template sees. The engine fills it from
// workflow state only (Now is workflow.Now), so evaluation is deterministic.
type Env struct {
	Call  CallInfo       `expr:"call"`
	Vars  map[string]any `expr:"vars"`
	Input string         `expr:"input"`
	Now   time.Time      `expr:"now"`
	// Response is set while mapping an http node's response: status, headers, body.
	Response map[string]any `expr:"response"`
	// Result is set while mapping a subflow's output: its final variables.
	Result map[string]any `expr:"result"`
}
