// Package engine is the durable call engine: CallWorkflow interprets a
// validated flow inside a Temporal workflow. It is workflow code only: no
// clock, randomness, map-order dependence, goroutines or I/O; everything
// that touches the world is an activity from package activities.
package engine

import (
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
)

// CallInput starts (or continues) a call.
type CallInput struct {
	Call flows.CallInfo `json:"call"`
	// Flow is the pinned published version the call runs; editing or
	// republishing the flow never changes a call in progress.
	Flow activities.FlowSource `json:"flow"`
	// Subflows pinned by the starter; any missing one is loaded once by the
	// LoadFlows activity and kept for the rest of the call.
	Subflows []activities.FlowSource `json:"subflows,omitempty"`
	// Vars override the flow's initial variable values (platform settings
	// such as the CRM address, or facts the channel learned, e.g. SIP headers).
	Vars map[string]any `json:"vars,omitempty"`
	// MediaQueue is the task queue of the media worker (or channel) holding the call.
	MediaQueue string `json:"media_queue"`
	// Outbound, when set, makes this an outbound call: the workflow places
	// it first and runs the flow once it is answered.
	Outbound *Outbound `json:"outbound,omitempty"`
	// Campaign, with Outbound, makes this a campaign's dial: it is tagged
	// in the CDR, reports to the campaign and follows its machine and
	// abandon rules.
	Campaign *activities.CampaignDial `json:"campaign,omitempty"`
	// Recovery says what happens when the media worker holding the call dies.
	Recovery Recovery `json:"recovery,omitempty"`
	// Limits override engine limits (tests use small values).
	Limits Limits `json:"limits,omitempty"`
	// Resume carries state across continue-as-new.
	Resume *ResumeState `json:"resume,omitempty"`
	// Simulated marks a simulator's call: its queue nodes never reach an
	// agent (they act as if nobody staffed the queue), so trying a flow in
	// the designer does not ring a real agent's phone.
	Simulated bool `json:"simulated,omitempty"`
}

// Limits bound a call's resources.
type Limits struct {
	// MaxSteps overrides the flow's settings.max_steps when > 0.
	MaxSteps int `json:"max_steps,omitempty"`
	// HistoryEvents triggers continue-as-new when the history grows past it
	// (default DefaultHistoryEvents: about 300 caller turns; a shorter
	// history replays faster when a worker picks the call up again, and
	// Temporal warns at 10k events and stops at 50k).
	HistoryEvents int `json:"history_events,omitempty"`
	// MediaStartTimeout bounds how long a media activity may wait for its
	// worker (a dead media worker is noticed within this).
	MediaStartTimeout time.Duration `json:"media_start_timeout,omitempty"`
	// MediaHeartbeat is the heartbeat timeout of media activities; keep it
	// several times the workers' heartbeat cadence (the SIP worker beats
	// every 2 s, the text channel every 2 s).
	MediaHeartbeat time.Duration `json:"media_heartbeat,omitempty"`
}

// Outbound describes the call to place.
type Outbound struct {
	To   string `json:"to"`
	From string `json:"from,omitempty"`
	// RingTimeout bounds the ringing (default DefaultRingTimeout).
	RingTimeout time.Duration `json:"ring_timeout,omitempty"`
	// MediaQueue pins the media worker; empty picks the least-loaded one.
	MediaQueue string `json:"media_queue,omitempty"`
	// DetectMachine asks the media worker who answered (a person or an
	// answering machine); the flow sees it as call.answered_by.
	DetectMachine bool `json:"detect_machine,omitempty"`
}

// Recovery configures the callback after a media worker dies mid-call:
// the workflow notices (schedule-to-start or heartbeat timeout), waits
// Delay, calls the caller back through another worker and resumes at the
// last menu or gather. A node's own on_error takes precedence.
type Recovery struct {
	Disabled bool `json:"disabled,omitempty"`
	// CallbackTo is whom to call back (default: call.from).
	CallbackTo string        `json:"callback_to,omitempty"`
	Delay      time.Duration `json:"delay,omitempty"`
}

// Engine defaults.
const (
	DefaultHistoryEvents     = 1800
	DefaultMediaStartTimeout = 10 * time.Second
	DefaultMediaHeartbeat    = 10 * time.Second
	DefaultHTTPTimeout       = 10 * time.Second
	DefaultActivityTimeout   = 30 * time.Second
	DefaultQueueTimeout      = 10 * time.Minute
	DefaultRecordMax         = 2 * time.Minute
	// DefaultVoicemailSilence of quiet after the caller spoke (or without
	// a word) ends a voicemail message.
	DefaultVoicemailSilence = 5 * time.Second
	DefaultTransferTimeout  = 30 * time.Second
	// MaxBridgeDuration bounds one bridged conversation (the activity's
	// start-to-close timeout; its heartbeat notices a dead worker).
	MaxBridgeDuration    = 12 * time.Hour
	DefaultRingTimeout   = 30 * time.Second
	DefaultRecoveryDelay = 3 * time.Second
	// MaxRecoveries bounds callbacks per call.
	MaxRecoveries = 2
)

// Frame is one level of the flow call stack (the main flow, then subflows).
type Frame struct {
	Flow string         `json:"flow"`
	Node string         `json:"node"`
	Vars map[string]any `json:"vars"`
	// Caller is the subflow node in the frame below to return through.
	Caller string `json:"caller,omitempty"`
}

// ResumeState is what continue-as-new carries to the next run.
type ResumeState struct {
	Stack        []Frame                 `json:"stack"`
	Steps        int                     `json:"steps"`
	Path         []records.Step          `json:"path"`
	HungUp       bool                    `json:"hung_up"`
	InHangup     bool                    `json:"in_hangup"`
	Outcome      string                  `json:"outcome,omitempty"`
	Input        string                  `json:"input,omitempty"`
	Recordings   []string                `json:"recordings,omitempty"`
	LoadedFlows  []activities.FlowSource `json:"loaded_flows,omitempty"`
	Recoveries   int                     `json:"recoveries,omitempty"`
	Queues       []records.QueueStay     `json:"queues,omitempty"`
	ContinuedRun int                     `json:"continued_runs"`
	Transcript   []records.ChatLine      `json:"transcript,omitempty"`
	Alerted      bool                    `json:"alerted,omitempty"`
}

// CallState is what the `state` query returns: where the call is now.
type CallState struct {
	CallID      string `json:"call_id"`
	Flow        string `json:"flow"`
	FlowVersion int    `json:"flow_version"`
	// Node is the node the call is in now ("" when it ended).
	Node      string         `json:"node"`
	NodeFlow  string         `json:"node_flow"`
	NodeSince time.Time      `json:"node_since"`
	Path      []records.Step `json:"path"`
	Vars      map[string]any `json:"vars"`
	Steps     int            `json:"steps"`
	HungUp    bool           `json:"hung_up"`
	Ended     bool           `json:"ended"`
	Outcome   string         `json:"outcome,omitempty"`
}
