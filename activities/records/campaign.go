package records

import "time"

// Pacing modes of a campaign (Campaign.Mode).
const (
	// PacePreview: an agent sees the contact and clicks to dial it.
	PacePreview = "preview"
	// PaceProgressive: one line per available agent.
	PaceProgressive = "progressive"
	// PacePredictive: lines per available agent adapted from the measured
	// answer rate, talk and wrap times, under the abandon cap.
	PacePredictive = "predictive"
	// PaceAgentless: an IVR-only flow (reminders) at a fixed concurrency
	// and rate; no agent is involved.
	PaceAgentless = "agentless"
)

// Campaign states (Campaign.State).
const (
	CampaignDraft     = "draft"     // created, not started
	CampaignRunning   = "running"   // dialling
	CampaignPaused    = "paused"    // no new dials; calls in progress finish
	CampaignStopped   = "stopped"   // ended by the manager
	CampaignCompleted = "completed" // every contact is done or skipped
)

// What to do when an answering machine picks up (Campaign.Machine).
const (
	MachineHangUp  = "hangup"  // hang up at once
	MachineMessage = "message" // wait for the beep and leave MachineText
	MachineFlow    = "flow"    // let the flow decide (call.answered_by)
)

// Attempt outcomes (DialAttempt.Outcome, Contact.LastOutcome): what one
// dial of a contact came to.
const (
	AttemptHuman     = "answered_human"
	AttemptMachine   = "answered_machine"
	AttemptBusy      = "busy"
	AttemptNoAnswer  = "no_answer"
	AttemptFailed    = "failed"
	AttemptInvalid   = "invalid_number"
	AttemptDNC       = "dnc"
	AttemptAbandoned = "abandoned" // a person answered; no agent within 2 s
)

// Contact states (Contact.State).
const (
	ContactPending = "pending" // waiting to be dialled (now or at NextAt)
	ContactDialing = "dialing" // an attempt is in progress
	ContactDone    = "done"    // reached, or no retry left
	ContactSkipped = "skipped" // never to be dialled: SkipReason says why
)

// Campaign is an outbound campaign's settings and state.
type Campaign struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Flow is the published flow each answered call runs.
	Flow string `json:"flow"`
	Mode string `json:"mode"`
	// Queue is the agents' queue for preview, progressive and predictive.
	Queue string `json:"queue,omitempty"`
	// CallerID is the number presented to callees.
	CallerID string `json:"caller_id,omitempty"`
	// Region is the country (ISO 3166 alpha-2) of numbers written without
	// a country code, and of the calling window when a row has no zone.
	Region string `json:"region,omitempty"`
	Window Window `json:"window"`
	// MaxAttempts bounds the dials of one contact; MinSpacing is the least
	// time between two of them.
	MaxAttempts int           `json:"max_attempts"`
	MinSpacing  time.Duration `json:"min_spacing"`
	Retry       []RetryRule   `json:"retry,omitempty"`
	RingTimeout time.Duration `json:"ring_timeout,omitempty"`
	Machine     string        `json:"machine"`
	// MachineText is the message left after the beep (Machine "message").
	MachineText string `json:"machine_text,omitempty"`
	// AbandonCap is the largest abandoned share of live answers (0.03);
	// AbandonText is what a person hears when no agent is free in time:
	// it must name the caller (47 CFR 64.1200(a)(7)).
	AbandonCap  float64 `json:"abandon_cap"`
	AbandonText string  `json:"abandon_text,omitempty"`
	// Concurrency (agentless: lines at once) and RatePerMinute (any mode:
	// dials started per minute, 0 = unbounded).
	Concurrency   int `json:"concurrency,omitempty"`
	RatePerMinute int `json:"rate_per_minute,omitempty"`
	// MaxRatio bounds a predictive campaign's lines per available agent.
	MaxRatio float64 `json:"max_ratio,omitempty"`
	// Required are the CSV columns every row must fill (the flow's vars).
	Required  []string  `json:"required,omitempty"`
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Window is a daily calling window in the callee's local time.
type Window struct {
	Start string `json:"start"` // "08:00"
	End   string `json:"end"`   // "21:00", after Start
	// Days are the weekdays it applies to ("mon".."sun"); empty is every day.
	Days []string `json:"days,omitempty"`
}

// RetryRule says when an outcome is tried again: after Delay, at most Max
// times for this outcome (the campaign's MaxAttempts bounds all).
type RetryRule struct {
	Outcome string        `json:"outcome"`
	Delay   time.Duration `json:"delay"`
	Max     int           `json:"max"`
}

// Contact is one row of a campaign's list.
type Contact struct {
	Campaign string `json:"campaign"`
	ID       int64  `json:"id"`
	// Row is the CSV line it came from (1 is the header).
	Row int `json:"row"`
	// Number is E.164 ("+14155550100"); Timezone an IANA zone ("" when
	// the row gave none: the number's country decides).
	Number   string            `json:"number"`
	Timezone string            `json:"timezone,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
	State    string            `json:"state"`
	Attempts int               `json:"attempts"`
	// NextAt is when it may be dialled next (zero: now).
	NextAt      time.Time `json:"next_at,omitempty"`
	LastOutcome string    `json:"last_outcome,omitempty"`
	LastAt      time.Time `json:"last_at,omitempty"`
	// Outcomes counts the contact's attempts by outcome, for the retry
	// rules' Max.
	Outcomes   map[string]int `json:"outcomes,omitempty"`
	SkipReason string         `json:"skip_reason,omitempty"`
	// Agent is the agent a preview contact is offered to.
	Agent string `json:"agent,omitempty"`
}

// DialAttempt is one dial of a contact; (Campaign, Contact, Attempt) is
// unique, and CallID is derived from it, so an attempt is dialled once.
type DialAttempt struct {
	Campaign   string    `json:"campaign"`
	Contact    int64     `json:"contact"`
	Attempt    int       `json:"attempt"`
	CallID     string    `json:"call_id"`
	Number     string    `json:"number"`
	StartedAt  time.Time `json:"started_at"`
	EndedAt    time.Time `json:"ended_at,omitempty"`
	Outcome    string    `json:"outcome,omitempty"`
	AnsweredBy string    `json:"answered_by,omitempty"`
	Agent      string    `json:"agent,omitempty"`
	// Connect is answer to agent connected (live answers that reached one).
	Connect     time.Duration `json:"connect,omitempty"`
	Talk        time.Duration `json:"talk,omitempty"`
	Disposition string        `json:"disposition,omitempty"`
}

// CampaignCall tags a call's CDR with the campaign dial it came from.
type CampaignCall struct {
	Campaign string `json:"campaign"`
	Contact  int64  `json:"contact"`
	Attempt  int    `json:"attempt"`
	Mode     string `json:"mode"`
	// Abandoned is set when a person answered and no agent was connected
	// within the abandon limit.
	Abandoned bool `json:"abandoned,omitempty"`
}

// CampaignTally counts a campaign's attempts, for its stats and pacing.
type CampaignTally struct {
	Dials     int `json:"dials"`
	Human     int `json:"human"` // live answers (abandoned ones included)
	Machine   int `json:"machine"`
	Busy      int `json:"busy"`
	NoAnswer  int `json:"no_answer"`
	Failed    int `json:"failed"` // failed and invalid numbers
	Abandoned int `json:"abandoned"`
	// Talk is the total talk time of live answers that reached an agent.
	Talk time.Duration `json:"talk"`
}

// AbandonRate is abandoned live answers over live answers (0 with none).
func (t CampaignTally) AbandonRate() float64 {
	if t.Human == 0 {
		return 0
	}
	return float64(t.Abandoned) / float64(t.Human)
}

// CampaignLive is what a running campaign's workflow knows now.
type CampaignLive struct {
	Campaign string `json:"campaign"`
	State    string `json:"state"`
	// Pacing is the mode in force: a predictive campaign near its abandon
	// cap paces progressively; Reason says why it dials no more now
	// ("no agents signed in", "outside calling windows", ...).
	Pacing string  `json:"pacing"`
	Reason string  `json:"reason,omitempty"`
	Lines  int     `json:"lines"` // dials not yet connected or ended
	Ratio  float64 `json:"ratio"` // lines per available agent (predictive)
	// Agents of the campaign's queue.
	AgentsSignedIn  int `json:"agents_signed_in"`
	AgentsAvailable int `json:"agents_available"`
	AgentsBusy      int `json:"agents_busy"` // talking or wrapping up
	// Occupancy is talk and wrap-up over signed-in time, since the start.
	Occupancy float64 `json:"occupancy"`
	// Abandon30d is the abandon rate over the last 30 days.
	Abandon30d float64   `json:"abandon_30d"`
	At         time.Time `json:"at"`
}

// CampaignStats is a campaign's progress and figures for the manager.
type CampaignStats struct {
	Campaign Campaign `json:"campaign"`
	// Contacts counts the list by state (pending, dialing, done, skipped).
	Contacts map[string]int `json:"contacts"`
	// Skipped counts skipped contacts by reason.
	Skipped map[string]int `json:"skipped,omitempty"`
	// Today and Last30d tally the attempts (today: since 00:00 UTC).
	Today   CampaignTally `json:"today"`
	Last30d CampaignTally `json:"last_30d"`
	// Live is the workflow's picture; nil when the campaign is not running.
	Live *CampaignLive `json:"live,omitempty"`
}

// DNCEntry is a number on a do-not-call list: the global list when
// Campaign is "", else that campaign's.
type DNCEntry struct {
	Number   string    `json:"number"` // E.164
	Campaign string    `json:"campaign,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	AddedAt  time.Time `json:"added_at"`
}
