package pacing

import (
	"fmt"

	"github.com/voxflow/voxflow/activities/records"
)

// Reasons a decision gives that callers may compare (ReasonNearCap
// begins a longer reason that gives the rates); the others carry figures
// and are for people.
const (
	ReasonPreview    = "preview: agents dial"
	ReasonNoAgents   = "no agents signed in"
	ReasonNoContacts = "no contacts due"
	ReasonNearCap    = "near the abandon cap"
)

// OutcomeHandled is the Outcome of an Observation that is not a dial: an
// agent ended the wrap-up of a connected call; Talk and Wrap are its
// figures.
const OutcomeHandled = "handled"

// Snapshot is what the campaign workflow knows when it asks for a
// decision.
type Snapshot struct {
	Mode string `json:"mode"` // records.Pace*: the campaign's configured mode
	// The campaign queue's agents: available is idle and not reserved;
	// busy is talking or wrapping up.
	AgentsSignedIn  int `json:"agents_signed_in"`
	AgentsAvailable int `json:"agents_available"`
	AgentsBusy      int `json:"agents_busy"`
	// AgentsWrapping are the busy agents in wrap-up, who free sooner than
	// talking ones; 0 when unknown takes every busy agent as talking,
	// which is cautious.
	AgentsWrapping int `json:"agents_wrapping,omitempty"`
	// Lines are dials in progress not yet connected to an agent nor ended
	// (ringing, or answered and waiting).
	Lines int `json:"lines"`
	// Window30d is the campaign's last 30 days, for the cap.
	Window30d  records.CampaignTally `json:"window_30d"`
	AbandonCap float64               `json:"abandon_cap"` // 0: the controller's
	// Concurrency is agentless pacing's lines at once.
	Concurrency int `json:"concurrency,omitempty"`
	// RatePerMinute bounds new dials a minute in any mode (0: unbounded);
	// DialsLastMinute counts them.
	RatePerMinute   int `json:"rate_per_minute,omitempty"`
	DialsLastMinute int `json:"dials_last_minute,omitempty"`
	// MaxRatio bounds predictive lines per expected agent (0: default).
	MaxRatio float64 `json:"max_ratio,omitempty"`
	// Pending is whether contacts are due (false: nothing to dial).
	Pending bool `json:"pending"`
}

// Decision is how many dials to start now.
type Decision struct {
	Dial int `json:"dial"`
	// Pacing is the mode in force: a predictive campaign warming up or
	// near its cap paces progressively.
	Pacing string `json:"pacing"`
	// Reason says why Dial is 0, or why the pacing is not the configured
	// one, or what cut Dial (the rate limit).
	Reason string `json:"reason,omitempty"`
	// Ratio is lines (after these dials) per agent they are for: per
	// available agent in progressive pacing, per agent expected free
	// within the horizon in predictive pacing.
	Ratio float64 `json:"ratio"`
}

// Decide says how many dials to start now. It updates the controller's
// pacing state (fallback and the mode in force), so call it once per
// decision actually taken.
func (c *Controller) Decide(s Snapshot) Decision {
	s = s.clamped()
	d := c.decide(s)
	d = limitRate(d, s)
	c.Pacing, c.Ratio = d.Pacing, d.Ratio
	return d
}

// clamped is s with no count below zero (a snapshot built from a board
// caught mid-change must not make Decide dial more) and with a cap or a
// ratio that is not a number, or out of bounds, left to the defaults.
func (s Snapshot) clamped() Snapshot {
	if !(s.AbandonCap > 0 && s.AbandonCap <= 1) {
		s.AbandonCap = 0
	}
	if !(s.MaxRatio > 0 && s.MaxRatio <= maxRatioBound) {
		s.MaxRatio = 0
	}
	for _, n := range []*int{&s.AgentsSignedIn, &s.AgentsAvailable, &s.AgentsBusy, &s.AgentsWrapping, &s.Lines,
		&s.Concurrency, &s.RatePerMinute, &s.DialsLastMinute, &s.Window30d.Human, &s.Window30d.Abandoned} {
		*n = max(0, *n)
	}
	s.Window30d.Abandoned = min(s.Window30d.Abandoned, s.Window30d.Human)
	return s
}

func (c *Controller) decide(s Snapshot) Decision {
	switch s.Mode {
	case records.PacePreview:
		return Decision{Pacing: records.PacePreview, Reason: ReasonPreview}
	case records.PaceAgentless:
		return agentless(s)
	case records.PaceProgressive:
		return progressive(s, "")
	case records.PacePredictive:
		return c.predictive(s)
	}
	return Decision{Pacing: s.Mode, Reason: fmt.Sprintf("unknown pacing mode %q", s.Mode)}
}

func agentless(s Snapshot) Decision {
	d := Decision{Pacing: records.PaceAgentless}
	switch {
	case !s.Pending:
		d.Reason = ReasonNoContacts
	case s.Concurrency <= 0:
		d.Reason = "no concurrency set"
	case s.Lines >= s.Concurrency:
		d.Reason = fmt.Sprintf("%d lines of %d in use", s.Lines, s.Concurrency)
	default:
		d.Dial = s.Concurrency - s.Lines
	}
	return d
}

// progressive keeps a line per available agent; why, when not empty, says
// why a predictive campaign paces so.
func progressive(s Snapshot, why string) Decision {
	d := Decision{Pacing: records.PaceProgressive, Reason: why}
	if s.AgentsAvailable > 0 {
		d.Ratio = float64(s.Lines) / float64(s.AgentsAvailable)
	}
	switch {
	case s.AgentsSignedIn <= 0:
		d.Reason = ReasonNoAgents
	case !s.Pending:
		d.Reason = ReasonNoContacts
	case s.AgentsAvailable <= 0:
		d.Reason = orWhy(why, "no agent available")
	case s.Lines >= s.AgentsAvailable:
		d.Reason = orWhy(why, fmt.Sprintf("%d lines cover the %d available agents", s.Lines, s.AgentsAvailable))
	default:
		d.Dial = s.AgentsAvailable - s.Lines
		d.Ratio = 1
	}
	return d
}

// orWhy keeps the reason a predictive campaign paces progressively over
// the reason it dials nobody now.
func orWhy(why, reason string) string {
	if why != "" {
		return why
	}
	return reason
}

// limitRate cuts d to the dials RatePerMinute leaves this minute.
func limitRate(d Decision, s Snapshot) Decision {
	if s.RatePerMinute <= 0 || d.Dial == 0 {
		return d
	}
	left := max(0, s.RatePerMinute-s.DialsLastMinute)
	if d.Dial > left {
		d.Dial = left
		limit := fmt.Sprintf("rate limit: %d dials a minute", s.RatePerMinute)
		if d.Reason != "" {
			limit = d.Reason + "; " + limit
		}
		d.Reason = limit
	}
	return d
}
