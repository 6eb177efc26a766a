package activities

import (
	"fmt"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// The campaign workflow: one per campaign, on the engine queue.
const (
	CampaignWorkflowName = "voxflow.Campaign"
	// SignalCampaignControl carries a CampaignControl (pause, resume,
	// stop, a preview dial, or a nudge after new contacts or agents).
	SignalCampaignControl = "campaign.control"
	// SignalCampaignCall carries a CampaignCallEvent from a campaign's call.
	SignalCampaignCall = "campaign.call"
	// QueryCampaignLive returns records.CampaignLive.
	QueryCampaignLive = "campaign.live"
)

// The campaign's activities (shared queue).
const (
	ActCampaignSnapshot = "dialer.Snapshot"
	ActCampaignClaim    = "dialer.Claim"
	ActCampaignDial     = "dialer.Dial"
	ActCampaignFinish   = "dialer.Finish"
	ActCampaignCheck    = "dialer.CheckLines"
	ActCampaignState    = "dialer.SetState"
)

// CampaignWorkflowID is the workflow ID of campaign id.
func CampaignWorkflowID(id string) string { return "campaign-" + id }

// CampaignCallID is the call ID of a campaign's dial: one per attempt, so
// a dial started twice (a retried activity, a crash) is one call.
func CampaignCallID(campaign string, contact int64, attempt int) string {
	return fmt.Sprintf("cmp-%s-%d-%d", campaign, contact, attempt)
}

// Campaign control actions (CampaignControl.Action).
const (
	CampaignPause   = "pause"
	CampaignResume  = "resume"
	CampaignStop    = "stop"
	CampaignNudge   = "nudge"   // look again now: contacts added, agents changed
	CampaignPreview = "preview" // dial Contact for Agent (preview mode)
)

// CampaignControl is a manager's (or an agent's) request to a campaign.
type CampaignControl struct {
	Action  string `json:"action"`
	Contact int64  `json:"contact,omitempty"`
	Agent   string `json:"agent,omitempty"`
	By      string `json:"by,omitempty"`
}

// Stages of a campaign call (CampaignCallEvent.Stage).
const (
	CampaignCallAnswered  = "answered"  // a person or machine answered
	CampaignCallConnected = "connected" // an agent took the live answer
	CampaignCallEnded     = "ended"
)

// CampaignCallEvent is what a campaign's call tells its campaign.
type CampaignCallEvent struct {
	CallID  string    `json:"call_id"`
	Contact int64     `json:"contact"`
	Attempt int       `json:"attempt"`
	Stage   string    `json:"stage"`
	At      time.Time `json:"at"`
	// AnsweredBy is human, machine or unknown (answered).
	AnsweredBy string `json:"answered_by,omitempty"`
	// Outcome is a records.Attempt* outcome (ended).
	Outcome   string        `json:"outcome,omitempty"`
	SIPStatus int           `json:"sip_status,omitempty"`
	Agent     string        `json:"agent,omitempty"`
	Connect   time.Duration `json:"connect,omitempty"` // greeting end to agent
	Talk      time.Duration `json:"talk,omitempty"`
	Wrap      time.Duration `json:"wrap,omitempty"`
	Abandoned bool          `json:"abandoned,omitempty"`
	// Disposition is what the flow or agent set (`vars.disposition`).
	Disposition string `json:"disposition,omitempty"`
}

// CampaignDial is what the engine needs to run a campaign's call: the CDR
// tag, the machine action and the abandon rule.
type CampaignDial struct {
	records.CampaignCall
	// Machine is records.MachineHangUp, MachineMessage or MachineFlow;
	// MachineText is the message left after the beep.
	Machine     string `json:"machine,omitempty"`
	MachineText string `json:"machine_text,omitempty"`
	// AbandonAfter (predictive and progressive: 2 s) bounds the wait of a
	// live answer for an agent, from the end of their greeting; past it
	// the callee hears AbandonText and the call ends as abandoned.
	AbandonAfter time.Duration `json:"abandon_after,omitempty"`
	AbandonText  string        `json:"abandon_text,omitempty"`
	// Agent is the preview agent the call is bridged to.
	Agent string `json:"agent,omitempty"`

	// What the call learned as it went, carried across continue-as-new.
	Dialed     string    `json:"dialed,omitempty"` // the originate outcome
	SIPStatus  int       `json:"sip_status,omitempty"`
	AnsweredBy string    `json:"answered_by,omitempty"`
	AnsweredAt time.Time `json:"answered_at,omitempty"`
	// GreetingEndedAt starts the abandon clock.
	GreetingEndedAt time.Time     `json:"greeting_ended_at,omitempty"`
	ConnectedTo     string        `json:"connected_to,omitempty"` // the agent who took it
	Connect         time.Duration `json:"connect,omitempty"`
}
