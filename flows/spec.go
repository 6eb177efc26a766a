package flows

// This file is the single table of what the flow language accepts: the
// fields of a flow, of its settings and of each node type. Validation, the
// JSON Schema, Node.Exits and the designer's palette and ports (through
// NodeTypes) are all derived from it. A new node type is a row in nodeTypes,
// a case in the engine (flows/engine), a section in docs/flow-language.md
// and a node in testdata/valid/all_nodes.yaml.

// NodeType names a kind of node.
type NodeType string

// Node types of the flow language.
const (
	TypePlay       NodeType = "play"
	TypeMenu       NodeType = "menu"
	TypeGather     NodeType = "gather"
	TypeSet        NodeType = "set"
	TypeBranch     NodeType = "branch"
	TypeHTTP       NodeType = "http"
	TypeHours      NodeType = "hours"
	TypeDistribute NodeType = "distribute"
	TypeSubflow    NodeType = "subflow"
	TypeActivity   NodeType = "activity"
	TypeWait       NodeType = "wait"
	TypeTransfer   NodeType = "transfer"
	TypeQueue      NodeType = "queue"
	TypeRecord     NodeType = "record"
	TypeVoicemail  NodeType = "voicemail"
	TypeHangup     NodeType = "hangup"
	TypeIntent     NodeType = "intent"
	TypeLLM        NodeType = "llm"
)

// fieldKind is the shape of a field's value.
type fieldKind int

const (
	kindString      fieldKind = iota // free text
	kindNodeRef                      // ID of another node
	kindTemplate                     // text with {{ expression }} segments
	kindExpr                         // expression
	kindBoolExpr                     // expression that yields a boolean
	kindDuration                     // "5s", "1m30s"
	kindBool                         // true / false
	kindInt                          // integer >= 0
	kindVarName                      // a flow variable name
	kindAssignments                  // mapping var: expression
	kindInputs                       // mapping name: expression (names of another flow or activity)
	kindOptions                      // menu options
	kindWhen                         // branch conditions
	kindSplit                        // distribute shares
	kindSchedule                     // hours schedule
	kindDates                        // list of YYYY-MM-DD
	kindHeaders                      // mapping header: template
	kindEnum                         // one of Enum
	kindNodeType                     // the node type
	kindPercent                      // integer 0..100
	kindStrings                      // list of strings
	kindMap                          // free-form mapping
	kindDigit                        // one DTMF key
	kindIntents                      // intent node intents
	kindTools                        // llm node tools
	kindConfidence                   // a number 0..1
)

// fieldSpec describes one field of the flow language.
type fieldSpec struct {
	Name    string
	Kind    fieldKind
	Doc     string
	Enum    []string
	Default any
}

// typeSpec describes one node type: its fields, which are required, groups
// of which at least one field is required, and how the designer shows it.
type typeSpec struct {
	Type NodeType
	Doc  string
	// Group is the palette section (an ID of nodeGroups); Icon the symbol
	// on the palette item and the graph node.
	Group string
	Icon  string
	// Color is the colour class of the node when it is not its group's
	// (hangup is drawn as the end of the call).
	Color string
	// Media: the node talks to the caller through the media worker.
	Media bool
	// Input: the node collects input from the caller.
	Input bool
	// Waits: the node waits for the caller, an agent or time, so a cycle
	// through it is not an infinite loop.
	Waits    bool
	Required []string
	Optional []string
	// AnyOf lists groups of fields of which at least one must be set.
	AnyOf [][]string
	// Starter holds the fields, in order, a node added in the designer
	// starts with (the rest is filled in its form).
	Starter []StarterField
}

// StarterField is one field a new node starts with in the designer.
type StarterField struct {
	Field string `json:"field"`
	Value any    `json:"value"`
}

// nodeGroup is a section of the designer's palette.
type nodeGroup struct {
	ID, Title string
}

// nodeGroups are the palette sections in the order the designer shows them.
var nodeGroups = []nodeGroup{
	{"prompt", "Prompts"},
	{"input", "Caller input"},
	{"logic", "Logic"},
	{"integration", "Integrations"},
	{"routing", "Routing"},
	{"ai", "AI"},
}

// exitKind says how a field leads to other nodes.
type exitKind string

const (
	exitRef     exitKind = "ref"     // the field is a node ID
	exitOptions exitKind = "options" // each menu option's next
	exitWhen    exitKind = "when"    // each when clause's next
	exitSplit   exitKind = "split"   // each split share's next
	exitIntents exitKind = "intents" // each intent's next
	exitTools   exitKind = "tools"   // each exit tool's next
)

// exitSpec is a node field that leads to other nodes.
type exitSpec struct {
	Field string
	Kind  exitKind
	// Caption is the short caption of the designer's port (ref fields).
	Caption string
}

// exitFields are the node fields that lead to other nodes, in the order
// Node.Exits lists them and the designer draws their ports. Every node
// field of kind nodeRef, options, when or split is here (a test checks).
var exitFields = []exitSpec{
	{Field: "next", Kind: exitRef, Caption: "next"},
	{Field: "options", Kind: exitOptions},
	{Field: "when", Kind: exitWhen},
	{Field: "default", Kind: exitRef, Caption: "default"},
	{Field: "open", Kind: exitRef, Caption: "open"},
	{Field: "closed", Kind: exitRef, Caption: "closed"},
	{Field: "holiday", Kind: exitRef, Caption: "holiday"},
	{Field: "split", Kind: exitSplit},
	{Field: "intents", Kind: exitIntents},
	{Field: "tools", Kind: exitTools},
	{Field: "no_match", Kind: exitRef, Caption: "no match"},
	{Field: "on_failure", Kind: exitRef, Caption: "fail"},
	{Field: "on_timeout", Kind: exitRef, Caption: "timeout"},
	{Field: "on_full", Kind: exitRef, Caption: "full"},
	{Field: "on_leave", Kind: exitRef, Caption: "left"},
	{Field: "on_error", Kind: exitRef, Caption: "error"},
}

// Valid values of enumerated fields.
var (
	httpMethods   = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
	transferModes = []string{"blind", "bridge"}
	weekDays      = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
	dtmfKeys      = "0123456789*#"
	// slotTypes are the activities' slot types (flows imports no
	// Temporal, so the names are repeated; a test keeps them equal).
	slotTypes  = []string{"number", "digits", "date", "time", "money", "text", "enum"}
	paramTypes = []string{"string", "number", "integer", "boolean"}
	// schedulePattern matches schedule keys for editors: days, ranges, lists, daily.
	schedulePattern = `^(daily|(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?(, ?(mon|tue|wed|thu|fri|sat|sun)(-(mon|tue|wed|thu|fri|sat|sun))?)*)$`
)

// flowFields are the top-level fields of a flow file.
var flowFields = []fieldSpec{
	{Name: "name", Kind: kindString, Doc: "Name of the flow (unique in a workspace)."},
	{Name: "description", Kind: kindString, Doc: "What the flow is for."},
	{Name: "entry", Kind: kindNodeRef, Doc: "ID of the first node."},
	{Name: "settings", Kind: kindMap, Doc: "Flow-wide defaults."},
	{Name: "variables", Kind: kindMap, Doc: "Variables of the flow with their initial values."},
	{Name: "on_hangup", Kind: kindNodeRef, Doc: "Node run after the caller hangs up, for wrap-up work."},
	{Name: "sensitive", Kind: kindStrings, Doc: "Variables whose values are secrets: redacted from timelines, call records, transcripts and model requests."},
	{Name: "nodes", Kind: kindMap, Doc: "The nodes of the flow by ID."},
	{Name: "metadata", Kind: kindMap, Doc: "Free-form data for tools (designer positions)."},
}

var flowRequired = []string{"name", "entry", "nodes"}

// settingsFields are the fields of `settings`.
var settingsFields = []fieldSpec{
	{Name: "language", Kind: kindString, Doc: "Language of prompts and speech recognition.", Default: DefaultLanguage},
	{Name: "voice", Kind: kindString, Doc: "Text-to-speech voice.", Default: DefaultVoice},
	{Name: "input_timeout", Kind: kindDuration, Doc: "How long menus and gathers wait for the first key.", Default: Duration(DefaultInputTimeout).String()},
	{Name: "inter_digit_timeout", Kind: kindDuration, Doc: "How long a gather waits between keys.", Default: Duration(DefaultInterDigitTimeout).String()},
	{Name: "max_steps", Kind: kindInt, Doc: "Most nodes one call may run before it is ended.", Default: DefaultMaxSteps},
	{Name: "llm_model", Kind: kindString, Doc: "Model of intent and llm nodes and of the call summary, unless a node names its own (\"\": the endpoint's default)."},
	{Name: "summary", Kind: kindBool, Doc: "After each call, write a summary, disposition, sentiment and key facts into its call record (a model when one is configured, else the offline summariser).", Default: false},
	{Name: "dispositions", Kind: kindStrings, Doc: "Dispositions the call summary chooses from (empty: free)."},
	{Name: "early_media", Kind: kindBool, Doc: "SIP calls: play prompts as early media (183 Session Progress) and answer (200 OK) only when a node needs the caller (menu, gather, record, transfer); a hangup before that rejects the call unanswered (480).", Default: false},
}

// nodeFields are all fields a node may have, in the order the schema and
// the docs list them. Which type accepts which is in nodeTypes.
var nodeFields = []fieldSpec{
	{Name: "type", Kind: kindNodeType, Doc: "The node type."},
	{Name: "label", Kind: kindString, Doc: "Human title shown in the designer."},
	{Name: "say", Kind: kindTemplate, Doc: "Text to speak (template)."},
	{Name: "prompt", Kind: kindTemplate, Doc: "Text spoken before waiting for input (template)."},
	{Name: "audio", Kind: kindTemplate, Doc: "Audio file to play (template)."},
	{Name: "barge_in", Kind: kindBool, Doc: "Whether a key press stops the prompt.", Default: true},
	{Name: "options", Kind: kindOptions, Doc: "Menu keys: a node ID, or {next, phrases}."},
	{Name: "retries", Kind: kindInt, Doc: "How many more times to ask after no or invalid input.", Default: DefaultRetries},
	{Name: "no_input_prompt", Kind: kindTemplate, Doc: "Said when the caller pressed nothing."},
	{Name: "invalid_prompt", Kind: kindTemplate, Doc: "Said when the input was not valid."},
	{Name: "on_failure", Kind: kindNodeRef, Doc: "Node taken when retries are exhausted."},
	{Name: "timeout", Kind: kindDuration, Doc: "How long to wait (input, request, queue or ring time)."},
	{Name: "inter_digit_timeout", Kind: kindDuration, Doc: "How long to wait between keys."},
	{Name: "min_digits", Kind: kindInt, Doc: "Fewest digits accepted."},
	{Name: "max_digits", Kind: kindInt, Doc: "Most digits collected."},
	{Name: "terminator", Kind: kindDigit, Doc: "Key that ends input early, like #."},
	{Name: "valid", Kind: kindBoolExpr, Doc: "Condition over input that accepts the digits."},
	{Name: "var", Kind: kindVarName, Doc: "Variable that receives the node's result."},
	{Name: "assign", Kind: kindAssignments, Doc: "Ordered assignments variable: expression."},
	{Name: "when", Kind: kindWhen, Doc: "Ordered conditions; the first true one is taken."},
	{Name: "default", Kind: kindNodeRef, Doc: "Node taken when no condition is true."},
	{Name: "method", Kind: kindEnum, Enum: httpMethods, Doc: "HTTP method.", Default: "GET"},
	{Name: "url", Kind: kindTemplate, Doc: "URL to call (template)."},
	{Name: "headers", Kind: kindHeaders, Doc: "Request headers (templates)."},
	{Name: "body", Kind: kindTemplate, Doc: "Request body (template)."},
	{Name: "response", Kind: kindAssignments, Doc: "Variables set from response (status, headers, body)."},
	{Name: "timezone", Kind: kindString, Doc: "IANA time zone, like Europe/Paris."},
	{Name: "schedule", Kind: kindSchedule, Doc: "Opening hours per day: mon..sun -> [\"09:00-17:00\"]."},
	{Name: "holidays", Kind: kindDates, Doc: "Closed dates, YYYY-MM-DD."},
	{Name: "open", Kind: kindNodeRef, Doc: "Node taken during opening hours."},
	{Name: "closed", Kind: kindNodeRef, Doc: "Node taken outside opening hours."},
	{Name: "holiday", Kind: kindNodeRef, Doc: "Node taken on holidays (default: closed)."},
	{Name: "split", Kind: kindSplit, Doc: "Shares of calls: percent and next; percents sum to 100."},
	{Name: "flow", Kind: kindString, Doc: "Name of the flow to run."},
	{Name: "input", Kind: kindInputs, Doc: "Inputs by name: expression."},
	{Name: "output", Kind: kindAssignments, Doc: "Our variables set from the subflow's variables (result)."},
	{Name: "name", Kind: kindString, Doc: "Name of the registered activity."},
	{Name: "queue", Kind: kindString, Doc: "Queue name (queue node) or task queue (activity node)."},
	{Name: "max_attempts", Kind: kindInt, Doc: "Most attempts of the activity (0: the engine's default)."},
	{Name: "duration", Kind: kindDuration, Doc: "How long to wait."},
	{Name: "to", Kind: kindTemplate, Doc: "SIP URI or number to transfer to (template)."},
	{Name: "mode", Kind: kindEnum, Enum: transferModes, Doc: "blind hands the call over; bridge stays on it.", Default: "blind"},
	{Name: "record", Kind: kindBool, Doc: "bridge: record the conversation as a stereo WAV (caller left, other party right).", Default: false},
	{Name: "priority", Kind: kindExpr, Doc: "Queue priority (expression, higher first)."},
	{Name: "skills", Kind: kindExpr, Doc: "Skills an agent needs (expression yielding a list)."},
	{Name: "on_timeout", Kind: kindNodeRef, Doc: "Node taken when nobody answers in time."},
	{Name: "on_full", Kind: kindNodeRef, Doc: "Queue: node taken when the queue already holds its most callers."},
	{Name: "on_leave", Kind: kindNodeRef, Doc: "Queue: node taken when the caller chose to leave in the hold flow (it set `leave`, e.g. to \"voicemail\" or \"callback\")."},
	{Name: "max_duration", Kind: kindDuration, Doc: "Longest recording."},
	{Name: "beep", Kind: kindBool, Doc: "Whether to beep before recording.", Default: true},
	{Name: "mailbox", Kind: kindTemplate, Doc: "Mailbox that receives the message (template)."},
	{Name: "reason", Kind: kindString, Doc: "Why the call ends (kept in the call record)."},
	{Name: "intents", Kind: kindIntents, Doc: "Intents by name: description, examples, slots and next."},
	{Name: "min_confidence", Kind: kindConfidence, Doc: "Lowest confidence (0 to 1) that takes an intent's exit; below it the caller is asked again, then no_match.", Default: 0.5},
	{Name: "max_turns", Kind: kindInt, Doc: "intent: most follow-up questions for missing slots; llm: most replies before next (1 to 10)."},
	{Name: "model", Kind: kindString, Doc: "Model to ask (default: settings.llm_model, then the endpoint's default)."},
	{Name: "no_match", Kind: kindNodeRef, Doc: "intent: node taken when no intent was recognised with enough confidence (after retries), or a required slot stayed missing."},
	{Name: "system", Kind: kindTemplate, Doc: "The model's instructions (template)."},
	{Name: "tools", Kind: kindTools, Doc: "Functions the model may call: a flow exit (next) or a registered activity (activity)."},
	{Name: "max_tokens", Kind: kindInt, Doc: "Most tokens of one reply.", Default: 256},
	{Name: "speak", Kind: kindBool, Doc: "Say each reply to the caller (false: only keep it in var).", Default: true},
	{Name: "next", Kind: kindNodeRef, Doc: "Node taken next."},
	{Name: "on_error", Kind: kindNodeRef, Doc: "Node taken when the node fails."},
}

// nodeTypes is the table of node types: allowed and required fields, and
// what the designer needs. `type` and `label` are allowed on every node.
// The order is the docs' and the schema's; the palette shows each group's
// types in this order.
var nodeTypes = []typeSpec{
	{Type: TypePlay, Doc: "Speaks text or plays audio to the caller.",
		Group: "prompt", Icon: "▶", Media: true,
		AnyOf:    [][]string{{"say", "audio"}},
		Optional: []string{"say", "audio", "barge_in", "next", "on_error"},
		Starter:  []StarterField{{"say", "Text to speak."}}},
	{Type: TypeMenu, Doc: "Asks the caller to press a key (or say a phrase) and follows the chosen option.",
		Group: "input", Icon: "☰", Media: true, Input: true, Waits: true,
		Required: []string{"prompt", "options"},
		Optional: []string{"audio", "barge_in", "retries", "no_input_prompt", "invalid_prompt", "timeout", "on_failure", "on_error"},
		Starter:  []StarterField{{"prompt", "For sales press 1, for support press 2."}}},
	{Type: TypeGather, Doc: "Collects digits into a variable.",
		Group: "input", Icon: "#", Media: true, Input: true, Waits: true,
		Required: []string{"var"},
		Optional: []string{"prompt", "audio", "barge_in", "retries", "no_input_prompt", "invalid_prompt", "timeout", "inter_digit_timeout", "min_digits", "max_digits", "terminator", "valid", "next", "on_failure", "on_error"},
		Starter:  []StarterField{{"prompt", "Enter your account number, then hash."}, {"var", "account"}, {"terminator", "#"}}},
	{Type: TypeSet, Doc: "Sets variables from expressions, in order.",
		Group: "logic", Icon: "=",
		Required: []string{"assign"},
		Optional: []string{"next", "on_error"},
		Starter:  []StarterField{{"assign", map[string]any{"attempts": "vars.attempts + 1"}}}},
	{Type: TypeBranch, Doc: "Takes the first `when` whose condition is true, else `default`.",
		Group: "logic", Icon: "◇",
		Required: []string{"when"},
		Optional: []string{"default", "on_error"}},
	{Type: TypeHTTP, Doc: "Calls an HTTP endpoint and maps its response to variables.",
		Group: "integration", Icon: "⇄",
		Required: []string{"url"},
		Optional: []string{"method", "headers", "body", "timeout", "response", "next", "on_error"},
		Starter:  []StarterField{{"method", "GET"}, {"url", "https://example.com/api"}}},
	{Type: TypeHours, Doc: "Routes by opening hours and holidays.",
		Group: "logic", Icon: "◷",
		Required: []string{"timezone", "schedule", "open", "closed"},
		Optional: []string{"holidays", "holiday"},
		Starter:  []StarterField{{"timezone", "Europe/Paris"}, {"schedule", map[string]any{"mon-fri": []any{"09:00-17:00"}}}}},
	{Type: TypeDistribute, Doc: "Splits calls between branches by percentage.",
		Group: "logic", Icon: "%",
		Required: []string{"split"}},
	{Type: TypeSubflow, Doc: "Runs another published flow and maps its result back.",
		Group: "integration", Icon: "↳",
		Required: []string{"flow"},
		Optional: []string{"input", "output", "next", "on_error"}},
	{Type: TypeActivity, Doc: "Runs a custom activity registered by a developer.",
		Group: "integration", Icon: "⚙",
		Required: []string{"name"},
		Optional: []string{"input", "var", "queue", "timeout", "max_attempts", "next", "on_error"}},
	{Type: TypeWait, Doc: "Waits for a while.",
		Group: "logic", Icon: "◔", Waits: true,
		Required: []string{"duration"},
		Optional: []string{"next"},
		Starter:  []StarterField{{"duration", "2s"}}},
	{Type: TypeTransfer, Doc: "Transfers the call to a number or SIP URI.",
		Group: "routing", Icon: "☎", Media: true, Waits: true,
		Required: []string{"to"},
		Optional: []string{"mode", "say", "audio", "timeout", "record", "var", "on_timeout", "next", "on_error"},
		Starter:  []StarterField{{"to", "sip:desk@pbx.example.com"}}},
	{Type: TypeQueue, Doc: "Puts the caller in a queue, where they hear the queue's hold flow, until an agent answers; `next` follows the conversation.",
		Group: "routing", Icon: "⋯", Waits: true,
		Required: []string{"queue"},
		Optional: []string{"say", "audio", "priority", "skills", "timeout", "record", "var", "on_timeout", "on_full", "on_leave", "next", "on_error"},
		Starter:  []StarterField{{"queue", "support"}}},
	{Type: TypeRecord, Doc: "Records the caller into a variable (a recording reference).",
		Group: "input", Icon: "●", Media: true, Input: true, Waits: true,
		Optional: []string{"say", "audio", "var", "max_duration", "beep", "terminator", "timeout", "next", "on_error"},
		Starter:  []StarterField{{"say", "After the beep, say your name."}, {"var", "recording"}, {"max_duration", "10s"}}},
	{Type: TypeVoicemail, Doc: "Takes a voicemail message for a mailbox.",
		Group: "routing", Icon: "✉", Media: true, Input: true, Waits: true,
		Optional: []string{"say", "audio", "mailbox", "var", "max_duration", "beep", "next", "on_error"},
		Starter:  []StarterField{{"say", "Please leave a message after the beep."}, {"max_duration", "2m"}}},
	{Type: TypeHangup, Doc: "Ends the call, optionally saying goodbye first.",
		Group: "routing", Icon: "✕", Color: "end", Media: true,
		Optional: []string{"say", "audio", "reason"},
		Starter:  []StarterField{{"say", "Goodbye."}}},
	{Type: TypeIntent, Doc: "Asks the caller what they want, in their own words, and takes the exit of the intent recognised, with its slots in variables.",
		Group: "ai", Icon: "✦", Media: true, Input: true, Waits: true,
		Required: []string{"prompt", "intents", "no_match"},
		Optional: []string{"audio", "barge_in", "retries", "no_input_prompt", "invalid_prompt", "timeout", "min_confidence", "max_turns", "model", "var", "on_error"},
		Starter: []StarterField{{"prompt", "In a few words, what are you calling about?"},
			{"intents", map[string]any{"billing": map[string]any{"examples": []any{"pay my bill"}}}}}},
	{Type: TypeLLM, Doc: "Has a model reply to the caller from instructions and the call's context, optionally calling tools that are the flow's exits or activities.",
		Group: "ai", Icon: "✧", Media: true, Input: true, Waits: true,
		Required: []string{"system"},
		Optional: []string{"prompt", "audio", "barge_in", "model", "tools", "max_tokens", "timeout", "max_turns", "speak", "no_input_prompt", "var", "next", "on_error"},
		Starter:  []StarterField{{"system", "You are a friendly assistant of Acme. Answer in one or two short sentences."}}},
}

// commonNodeFields are allowed on every node type.
var commonNodeFields = []string{"type", "label"}

var (
	fieldByName = map[string]*fieldSpec{}
	typeByName  = map[NodeType]*typeSpec{}
	// allowed[type][field] is true when the type accepts the field.
	allowed = map[NodeType]map[string]bool{}
)

func init() {
	for i := range nodeFields {
		fieldByName[nodeFields[i].Name] = &nodeFields[i]
	}
	for i := range nodeTypes {
		ts := &nodeTypes[i]
		typeByName[ts.Type] = ts
		a := map[string]bool{}
		for _, list := range [][]string{commonNodeFields, ts.Required, ts.Optional} {
			for _, f := range list {
				a[f] = true
			}
		}
		allowed[ts.Type] = a
	}
}

// fields returns the allowed fields of a type in table order.
func (ts *typeSpec) fields() []*fieldSpec {
	var out []*fieldSpec
	for i := range nodeFields {
		if allowed[ts.Type][nodeFields[i].Name] {
			out = append(out, &nodeFields[i])
		}
	}
	return out
}

func isRequired(ts *typeSpec, name string) bool {
	for _, r := range ts.Required {
		if r == name {
			return true
		}
	}
	return false
}

func typeNames() []string {
	out := make([]string, len(nodeTypes))
	for i, t := range nodeTypes {
		out[i] = string(t.Type)
	}
	return out
}
