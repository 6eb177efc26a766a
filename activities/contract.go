// Package activities holds the contracts between the call engine and the
// workers that do real work: activity names, their inputs and outputs, the
// error types that cross the Temporal boundary, and the public API for
// registering custom activities. It imports nothing heavy, so workflow code,
// media workers and custom worker binaries can all depend on it.
package activities

import (
	"time"

	"go.temporal.io/sdk/activity"
)

// Registrar is where activities are registered: a worker, or a test
// environment.
type Registrar interface {
	RegisterActivityWithOptions(a interface{}, options activity.RegisterOptions)
}

// Task queues shared by every call. Media activities run on the call's own
// queue, MediaQueue(workerID).
const (
	// EngineQueue is where CallWorkflow tasks run.
	EngineQueue = "voxflow-engine"
	// SharedQueue runs HTTP, store, routing and custom activities.
	SharedQueue = "voxflow-activities"
)

// MediaQueue is the task queue of one media worker (or simulator channel).
func MediaQueue(workerID string) string { return "media-" + workerID }

// WorkflowID is the ID of a call's workflow: one workflow per call, so a
// retried start never runs the same call twice.
func WorkflowID(callID string) string { return "call-" + callID }

// Workflow, signal, query and search attribute names of a call.
const (
	CallWorkflowName = "CallWorkflow"
	// SignalHangup tells the workflow the caller hung up.
	SignalHangup = "hangup"
	// SignalMediaLost tells the workflow a media worker died (payload
	// MediaLost): a call on that worker's queue takes its recovery path.
	SignalMediaLost = "media-lost"
	// QueryState returns a CallState.
	QueryState = "state"

	// Search attributes set on every call (registered by `voxflow dev`).
	AttrFlow      = "VoxflowFlow"      // Keyword: flow name
	AttrVersion   = "VoxflowVersion"   // Int: published flow version
	AttrNode      = "VoxflowNode"      // Keyword: current node ID
	AttrNodeSince = "VoxflowNodeSince" // Datetime: when the current node was entered
	// AttrMediaQueue is the media queue holding the call (Keyword), so the
	// calls of a dead media worker can be found and told.
	AttrMediaQueue = "VoxflowMediaQueue"
)

// MediaLost is the payload of SignalMediaLost.
type MediaLost struct {
	// Queue is the dead worker's media queue; a call on another queue
	// ignores the signal.
	Queue string `json:"queue"`
}

// Activity names. Media activities are implemented by every channel (SIP
// media worker, simulator text channel, web chat).
const (
	ActPlay     = "media.Play"
	ActCollect  = "media.Collect"
	ActRecord   = "media.Record"
	ActTransfer = "media.Transfer"
	ActHangup   = "media.Hangup"

	// ActOriginate places an outbound call from a media worker (the
	// session it creates is keyed by the call ID, as for inbound calls).
	ActOriginate = "media.Originate"

	ActHTTP = "voxflow.HTTP"
	// ActPickMediaWorker picks the least-loaded live media worker.
	ActPickMediaWorker = "voxflow.PickMediaWorker"
	ActSaveCDR         = "voxflow.SaveCDR"
	ActEnqueue         = "routing.Enqueue"
	ActLoadFlows       = "voxflow.LoadFlows"
)

// Prompt is something to say to the caller: text rendered by TTS, or an audio file.
type Prompt struct {
	// Node is the flow node the prompt comes from (held-back play prompts
	// are sent with a later node's activity).
	Node     string `json:"node,omitempty"`
	Text     string `json:"text,omitempty"`
	Audio    string `json:"audio,omitempty"`
	Language string `json:"language,omitempty"`
	Voice    string `json:"voice,omitempty"`
}

// PlayInput plays prompts to the caller. With BargeIn, a key press stops
// playback early (the digit is kept for the next collect).
type PlayInput struct {
	CallID  string   `json:"call_id"`
	NodeID  string   `json:"node_id"`
	Prompts []Prompt `json:"prompts"`
	BargeIn bool     `json:"barge_in"`
}

// CollectInput is one caller turn: play prompts, then wait for DTMF or speech.
// One activity per turn keeps a caller turn to one dispatch hop.
type CollectInput struct {
	CallID            string        `json:"call_id"`
	NodeID            string        `json:"node_id"`
	Prompts           []Prompt      `json:"prompts"`
	BargeIn           bool          `json:"barge_in"`
	MinDigits         int           `json:"min_digits"`
	MaxDigits         int           `json:"max_digits"`
	Terminator        string        `json:"terminator,omitempty"`
	Timeout           time.Duration `json:"timeout"`
	InterDigitTimeout time.Duration `json:"inter_digit_timeout"`
	// Phrases are speech hints (menu options' phrases); empty means DTMF only.
	Phrases []string `json:"phrases,omitempty"`
	// FreeSpeech asks for what the caller says in their own words (intent
	// and llm nodes): the channel transcribes the utterance, biased towards
	// Hints (example phrases) and the slot types HintSlots (SlotDigits,
	// SlotNumber, ...), and returns the transcript as Utterance.
	FreeSpeech bool     `json:"free_speech,omitempty"`
	Hints      []string `json:"hints,omitempty"`
	HintSlots  []string `json:"hint_slots,omitempty"`
	// Then is what the caller hears next for each key the flow expects
	// ("1", "2", ...), worked out by the workflow through the nodes that
	// need no I/O: the prompts its next media activity will begin with. A
	// channel may start them the moment the key arrives, without waiting
	// for the round trip through the workflow; the next activity adopts
	// them when its prompts are the same and replaces them otherwise.
	Then map[string][]Prompt `json:"then,omitempty"`
	// Sensitive: the answer goes into a variable the flow marks sensitive
	// (a card number): channels must not echo or log what the caller gives.
	Sensitive bool `json:"sensitive,omitempty"`
}

// Input kinds reported by a collect.
const (
	InputDTMF    = "dtmf"
	InputSpeech  = "speech"
	InputTimeout = "timeout"
)

// CollectResult is what the caller did.
type CollectResult struct {
	Kind string `json:"kind"`
	// Digits pressed (terminator excluded) when Kind is dtmf.
	Digits string `json:"digits,omitempty"`
	// Utterance recognised when Kind is speech.
	Utterance string `json:"utterance,omitempty"`
	// Speech, when Kind is speech on a voice channel, says how long the
	// channel took to hear it (the spoken turn's budget).
	Speech *SpeechTiming `json:"speech,omitempty"`
}

// SpeechTiming breaks down how a channel heard an utterance.
type SpeechTiming struct {
	// Endpoint is the silence waited for before the end of speech was
	// declared; Recognize the recogniser's time after that.
	Endpoint  time.Duration `json:"endpoint"`
	Recognize time.Duration `json:"recognize"`
	// Confidence is the recogniser's, in [0, 1] (1 when it gives none).
	Confidence float64 `json:"confidence"`
	Recognizer string  `json:"recognizer,omitempty"`
}

// RecordInput records the caller (voicemail and record nodes).
type RecordInput struct {
	CallID      string        `json:"call_id"`
	NodeID      string        `json:"node_id"`
	Prompts     []Prompt      `json:"prompts"`
	Beep        bool          `json:"beep"`
	MaxDuration time.Duration `json:"max_duration"`
	Mailbox     string        `json:"mailbox,omitempty"`
	// Terminator is a key that ends the recording; Silence ends it after
	// that much silence (0: only MaxDuration or hangup ends it).
	Terminator string        `json:"terminator,omitempty"`
	Silence    time.Duration `json:"silence,omitempty"`
}

// RecordResult references the stored recording.
type RecordResult struct {
	Ref      string        `json:"ref"`
	Duration time.Duration `json:"duration"`
}

// TransferInput moves the caller to another party.
type TransferInput struct {
	CallID string `json:"call_id"`
	NodeID string `json:"node_id"`
	To     string `json:"to"`
	// Mode is "blind" (REFER, the call leaves us) or "bridge" (second leg).
	Mode string `json:"mode"`
	// Timeout bounds the REFER (blind) or the second leg's ringing (bridge).
	Timeout time.Duration `json:"timeout"`
	// Record (bridge only) records the conversation as a stereo WAV: the
	// caller on the left channel, the other party on the right.
	Record bool `json:"record,omitempty"`
}

// Transfer outcomes (TransferResult.Outcome). An unanswered second leg of a
// bridge reports OriginateNoAnswer, OriginateBusy or OriginateFailed.
const (
	// TransferLeft: a blind transfer was accepted and the call left us.
	TransferLeft = "transferred"
	// TransferBridged: the other party hung up first; the caller is back
	// in the flow.
	TransferBridged = "bridged"
	// TransferCallerHangup: the caller hung up during the bridge.
	TransferCallerHangup = "caller_hangup"
)

// TransferResult tells whether the caller is still with us.
type TransferResult struct {
	// Left is true when the call left the platform (blind transfer done).
	Left bool `json:"left"`
	// Outcome is one of the Transfer outcomes, or for an unanswered
	// bridge the second leg's no_answer, busy or failed.
	Outcome string `json:"outcome"`
	// Bridge only: the second leg's final SIP status when it was not
	// answered, how long the parties talked, and the recording's reference
	// (file://...) when Record was set.
	SIPStatus int           `json:"sip_status,omitempty"`
	Talk      time.Duration `json:"talk,omitempty"`
	Recording string        `json:"recording,omitempty"`
}

// HangupInput ends the call, optionally after a last prompt.
type HangupInput struct {
	CallID  string   `json:"call_id"`
	Prompts []Prompt `json:"prompts,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// OriginateInput places a call to To (a SIP URI, or a number sent through
// the worker's configured trunk) and waits until it is answered.
type OriginateInput struct {
	CallID  string            `json:"call_id"`
	To      string            `json:"to"`
	From    string            `json:"from,omitempty"`
	Timeout time.Duration     `json:"timeout"` // ring time
	Headers map[string]string `json:"headers,omitempty"`
	// DetectMachine listens to the first seconds after the answer and
	// reports who answered (OriginateResult.AnsweredBy).
	DetectMachine bool `json:"detect_machine,omitempty"`
	// AwaitBeep, with DetectMachine: when a machine answers, keep listening
	// until its greeting ends (the beep, or BeepSilence of quiet) before
	// returning, so a message played next is recorded whole.
	AwaitBeep bool `json:"await_beep,omitempty"`
}

// Originate outcomes.
const (
	OriginateAnswered = "answered"
	OriginateNoAnswer = "no_answer"
	OriginateBusy     = "busy"
	OriginateFailed   = "failed"
)

// OriginateResult tells whether the callee answered.
type OriginateResult struct {
	Outcome string `json:"outcome"`
	// SIPStatus is the final SIP response code when it was not answered.
	SIPStatus int `json:"sip_status,omitempty"`
	// AnsweredBy is human, machine or unknown (media/audio's answering
	// machine hint) when DetectMachine was asked and the call was answered.
	AnsweredBy string `json:"answered_by,omitempty"`
	// AnsweredAt is when the callee answered; GreetingEndedAt is when the
	// detector heard the callee's greeting end (a person's "Hello?" or, with
	// AwaitBeep, a machine's beep); zero when unknown. The dialer's abandon
	// rule counts 2 s from GreetingEndedAt.
	AnsweredAt      time.Time `json:"answered_at,omitempty"`
	GreetingEndedAt time.Time `json:"greeting_ended_at,omitempty"`
	// Beep says a machine's beep was heard (AwaitBeep).
	Beep bool `json:"beep,omitempty"`
}

// HTTPInput is a rendered request of an http node.
type HTTPInput struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	Timeout time.Duration     `json:"timeout"`
}

// HTTPResult is the response as expressions see it (`response.status`, ...).
// Body is the decoded JSON when the response is JSON, else the text.
type HTTPResult struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    any               `json:"body,omitempty"`
}

// EnqueueInput hands the call to routing (the routing contract).
type EnqueueInput struct {
	CallID   string        `json:"call_id"`
	Queue    string        `json:"queue"`
	Priority int           `json:"priority"`
	Skills   []string      `json:"skills,omitempty"`
	Timeout  time.Duration `json:"timeout"`
	// MediaQueue lets routing reach the caller's media worker to bridge.
	MediaQueue string `json:"media_queue"`
}

// Enqueue outcomes.
const (
	EnqueueConnected = "connected" // an agent took the call and it ended
	EnqueueTimeout   = "timeout"   // nobody answered in time
)

// EnqueueResult is how the queue hand-off ended.
type EnqueueResult struct {
	Outcome string `json:"outcome"`
	Agent   string `json:"agent,omitempty"`
}

// LoadFlowsInput asks for the published sources of flows a call needs
// (subflows), pinned once so a republish never changes a running call.
type LoadFlowsInput struct {
	Names []string `json:"names"`
}

// FlowSource is one pinned published flow version.
type FlowSource struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	Source  string `json:"source"`
}
