package activities

import "time"

// The routing contract: calls wait in queues held by one router workflow
// (RouterWorkflowID), which owns every agent's state so that an agent
// serving several queues is never offered two calls at once. A call joins
// through the ActJoinQueue activity (an update-with-start on the router,
// answered at once: position, or full), then hears its queue's hold flow
// until the router signals an Offer; it rings the agent through a bridged
// transfer and reports each step back as a QueueEvent.
const (
	// RouterWorkflowID is the one router of a namespace.
	RouterWorkflowID   = "voxflow-router"
	RouterWorkflowName = "RouterWorkflow"

	// UpdateJoin adds a call to a queue (payload JoinRequest, result JoinResult).
	UpdateJoin = "routing.join"
	// UpdateAgent changes an agent's state or profile (AgentRequest -> AgentView).
	UpdateAgent = "routing.agent"
	// UpdateWrapUp ends an agent's wrap-up with a disposition (WrapUpRequest -> AgentView).
	UpdateWrapUp = "routing.wrap-up"
	// SignalQueueEvent tells the router what happened to a call it
	// offered or that waits (payload QueueEvent).
	SignalQueueEvent = "routing.event"
	// QueryBoard returns the Board; QueryPosition (argument: the call's
	// workflow ID) a Position.
	QueryBoard    = "routing.board"
	QueryPosition = "routing.position"

	// SignalOffer tells a waiting call which agent to ring (payload Offer).
	SignalOffer = "routing.offer"
	// SignalBridgeAnswered tells a call that the other party of its
	// bridged transfer answered (payload BridgeAnswered), sent by the
	// media worker while the transfer activity goes on.
	SignalBridgeAnswered = "bridge-answered"
	// SignalBridgeSilence tells a call that neither party of its bridge
	// has made a sound for a while, or that one spoke again (payload
	// BridgeSilence): the router shows it on the agent for a supervisor.
	SignalBridgeSilence = "bridge-silence"

	// ActJoinQueue loads a queue's settings and joins the call through
	// UpdateJoin; ActQueuePosition queries the router; ActSaveWrapUp writes
	// an agent's wrap-up and disposition into the call's record.
	ActJoinQueue     = "routing.Join"
	ActQueuePosition = "routing.Position"
	ActSaveWrapUp    = "routing.SaveWrapUp"
	// ActSaveCallback keeps a callback's state in the store, for listing.
	ActSaveCallback = "routing.SaveCallback"

	// CallbackWorkflowName calls a caller back: it waits its turn in the
	// queue, reserves an agent, then dials the caller and bridges them.
	CallbackWorkflowName = "CallbackWorkflow"
)

// CallbackWorkflowID is the workflow of a callback.
//
// It is a call's workflow ID: the media worker that dials the caller
// signals it (hangup, bridge answered) as it signals any call.
func CallbackWorkflowID(id string) string { return WorkflowID(CallbackCallID(id)) }

// CallbackCallID is the call ID of a callback's outbound call.
func CallbackCallID(id string) string { return "cb-" + id }

// Callback states (CallbackRecord.State).
const (
	CallbackScheduled = "scheduled" // waiting for its time
	CallbackWaiting   = "waiting"   // in the queue, keeping the caller's place
	CallbackDialing   = "dialing"   // an agent is reserved; the caller's phone rings
	CallbackDone      = "done"      // the caller talked to an agent
	CallbackFailed    = "failed"    // every attempt went unanswered
)

// CallbackRecord is a callback as the store lists it.
type CallbackRecord struct {
	ID       string    `json:"id"`
	Queue    string    `json:"queue"`
	Number   string    `json:"number"`
	CallID   string    `json:"call_id"` // the call that asked for it
	Timezone string    `json:"timezone,omitempty"`
	DueAt    time.Time `json:"due_at"`
	State    string    `json:"state"`
	Attempts int       `json:"attempts"`
	Outcome  string    `json:"outcome,omitempty"`
	Agent    string    `json:"agent,omitempty"`
}

// QueueSettings are a queue's settings as a call and the router need them.
type QueueSettings struct {
	Name string `json:"name"`
	// HoldFlow is the flow a waiting caller hears, cycle after cycle.
	HoldFlow      string        `json:"hold_flow,omitempty"`
	AnnounceEvery time.Duration `json:"announce_every"`
	MaxWait       time.Duration `json:"max_wait"`
	MaxWaiting    int           `json:"max_waiting"` // 0: no limit
	RingTimeout   time.Duration `json:"ring_timeout"`
	WrapUp        time.Duration `json:"wrap_up"`
	SLThreshold   time.Duration `json:"sl_threshold"`
	Overflow      []Overflow    `json:"overflow,omitempty"`
}

// Overflow widens who may take a call once it has waited After: new
// required skills, none at all, or the agents of another queue.
type Overflow struct {
	After       time.Duration `json:"after"`
	Skills      []string      `json:"skills,omitempty"`
	ClearSkills bool          `json:"clear_skills,omitempty"`
	Queue       string        `json:"queue,omitempty"`
}

// JoinInput is what a queue node asks of ActJoinQueue.
type JoinInput struct {
	Call     string   `json:"call"` // the caller's workflow ID
	CallID   string   `json:"call_id"`
	Queue    string   `json:"queue"`
	Priority int      `json:"priority"`
	Skills   []string `json:"skills,omitempty"`
	From     string   `json:"from,omitempty"`
	// Token tells this stay's offers from a former stay's (a call may
	// queue twice).
	Token string `json:"token"`
	// Since keeps a place in line: a callback joins with the time its
	// caller first joined (zero: now).
	Since time.Time `json:"since,omitempty"`
}

// JoinRequest is UpdateJoin's payload: the input with the queue's
// settings as the store has them now.
type JoinRequest struct {
	JoinInput
	Settings QueueSettings `json:"settings"`
}

// JoinResult is where the call stands after joining.
type JoinResult struct {
	Full     bool          `json:"full,omitempty"`
	Settings QueueSettings `json:"settings"`
	Position Position      `json:"position"`
}

// Position is a waiting call's place: 1 is next. EstimatedWait is -1
// when nobody staffs the queue.
type Position struct {
	Queue         string        `json:"queue"`
	Position      int           `json:"position"`
	Waiting       int           `json:"waiting"`
	EstimatedWait time.Duration `json:"estimated_wait"`
	Waited        time.Duration `json:"waited"`
	// Staffed counts the agents signed in to the queue: a call that joins
	// a queue nobody staffs leaves it at once (outcome "unstaffed").
	Staffed int `json:"staffed"`
	// Found is false when the router does not hold the call.
	Found bool `json:"found"`
}

// Offer tells a waiting call to ring an agent (To is a transfer target:
// agent:NAME).
type Offer struct {
	Token       string        `json:"token"`
	Agent       string        `json:"agent"`
	To          string        `json:"to"`
	RingTimeout time.Duration `json:"ring_timeout"`
}

// BridgeAnswered is SignalBridgeAnswered's payload.
type BridgeAnswered struct {
	To   string        `json:"to"`
	Ring time.Duration `json:"ring"`
}

// BridgeSilence is SignalBridgeSilence's payload.
type BridgeSilence struct {
	Silent bool          `json:"silent"`
	For    time.Duration `json:"for"` // how long it has been quiet
}

// Queue event kinds (QueueEvent.Kind).
const (
	// QueueAnswered: the agent answered; QueueNoAnswer: the agent did not
	// (busy, not registered, ring timeout): the agent goes not-ready and
	// the caller back to the front; QueueEnded: the conversation ended
	// (the agent goes to wrap-up); QueueLeft: the caller left the queue
	// (Reason: abandoned, timeout, left, callback).
	QueueAnswered = "answered"
	QueueNoAnswer = "no_answer"
	QueueEnded    = "ended"
	QueueLeft     = "left"
	// QueueSilence: the conversation went quiet (Reason "started", Talk:
	// for how long) or came back (Reason "ended").
	QueueSilence = "silence"
)

// QueueEvent is SignalQueueEvent's payload.
type QueueEvent struct {
	Kind   string        `json:"kind"`
	Call   string        `json:"call"`
	Token  string        `json:"token"`
	Agent  string        `json:"agent,omitempty"`
	Reason string        `json:"reason,omitempty"`
	Ring   time.Duration `json:"ring,omitempty"`
	Talk   time.Duration `json:"talk,omitempty"`
}

// AgentProfile is what routing knows of an agent besides its state.
type AgentProfile struct {
	Skills   map[string]int `json:"skills,omitempty"`
	Queues   []string       `json:"queues,omitempty"`
	Capacity int            `json:"capacity"`
}

// AgentRequest is UpdateAgent's payload: a new state (offline,
// available, break) with a reason for a break, and the agent's profile
// as the store has it (required when the agent signs in).
type AgentRequest struct {
	Agent   string        `json:"agent"`
	State   string        `json:"state"`
	Reason  string        `json:"reason,omitempty"`
	Profile *AgentProfile `json:"profile,omitempty"`
}

// WrapUpRequest is UpdateWrapUp's payload.
type WrapUpRequest struct {
	Agent       string `json:"agent"`
	Disposition string `json:"disposition"`
	Notes       string `json:"notes,omitempty"`
}

// SaveWrapUpInput is ActSaveWrapUp's input.
type SaveWrapUpInput struct {
	CallID      string        `json:"call_id"`
	Agent       string        `json:"agent"`
	WrapUp      time.Duration `json:"wrap_up"`
	Disposition string        `json:"disposition,omitempty"`
	Notes       string        `json:"notes,omitempty"`
}

// AgentView is an agent as the board shows it.
type AgentView struct {
	Name     string    `json:"name"`
	State    string    `json:"state"`
	Reason   string    `json:"reason,omitempty"`
	Since    time.Time `json:"since"`
	Skills   []string  `json:"skills,omitempty"`
	Queues   []string  `json:"queues,omitempty"`
	Capacity int       `json:"capacity"`
	Calls    []string  `json:"calls,omitempty"` // call IDs reserved or talking
	// Pending is a state asked for while busy, applied when the call ends.
	Pending string `json:"pending,omitempty"`
	// Alert is set while something needs a supervisor's eye: "long
	// silence" on the agent's call since AlertSince.
	Alert      string    `json:"alert,omitempty"`
	AlertSince time.Time `json:"alert_since,omitempty"`
}

// QueueView is a queue as the board shows it; the figures cover the
// router's sliding window (Window).
type QueueView struct {
	Name          string        `json:"name"`
	Waiting       int           `json:"waiting"`
	Offered       int           `json:"offered_now"` // calls ringing an agent
	LongestWait   time.Duration `json:"longest_wait"`
	Staffed       int           `json:"staffed"`
	Available     int           `json:"available"`
	Answered      int           `json:"answered"`
	Abandoned     int           `json:"abandoned"`
	ServiceLevel  float64       `json:"service_level"`
	SLThreshold   time.Duration `json:"sl_threshold"`
	AHT           time.Duration `json:"aht"`
	AvgWait       time.Duration `json:"avg_wait"`
	EstimatedWait time.Duration `json:"estimated_wait"`
}

// Board is the router's live picture for supervisors.
type Board struct {
	At     time.Time     `json:"at"`
	Window time.Duration `json:"window"`
	Queues []QueueView   `json:"queues"`
	Agents []AgentView   `json:"agents"`
}
