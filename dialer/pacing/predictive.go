package pacing

import (
	"fmt"
	"math"

	"github.com/voxflow/voxflow/activities/records"
)

// Tuning of the predictive pacing (the package doc tells the algorithm).
// Shares are of the abandon cap.
const (
	// MinDials is how many dials are observed before predictive pacing
	// trusts its answer rate; until then it paces progressively.
	MinDials = 30
	// MinHandled and MinHandledPerAgent: how many calls are handled (talk
	// and wrap-up ended) before predictive pacing trusts its handle time.
	// The first calls to end are the short ones: waiting for two per agent
	// lets the long ones of the first round count.
	MinHandled         = 20
	MinHandledPerAgent = 2
	// MinLive30d: predictive pacing waits for this many live answers in
	// the 30-day window, so that a few early abandons cannot weigh on the
	// campaign's rate.
	MinLive30d = 100
	// DefaultMaxRatio bounds lines per agent expected free (available,
	// plus busy ones freeing within the horizon) when the snapshot sets no
	// MaxRatio.
	DefaultMaxRatio = 3
	// maxRatioBound is the largest MaxRatio taken; above, the default.
	maxRatioBound = 100
	// DefaultTargetShare is the abandon rate steered to, as a share of
	// the cap, when Target is 0; MaxTargetShare bounds a Target.
	DefaultTargetShare = 2.0 / 3
	MaxTargetShare     = 0.8
	// A predictive campaign paces progressively when the 30-day rate
	// reaches FallbackShare of the cap, or the recent rate (over about
	// the last 500 live answers, once RecentMin are seen) reaches
	// RecentFallbackShare: the cap itself, because at a 2% target its
	// noise (about 0.45 points) would trip a lower margin by chance. It
	// paces predictively again when the 30-day rate is at most
	// ResumeShare and the recent rate at most RecentResumeShare.
	FallbackShare       = 0.9
	RecentFallbackShare = 1.0
	RecentMin           = 100
	ResumeShare         = 0.75
	RecentResumeShare   = 2.0 / 3
	// DefaultCap is the cap when neither the snapshot nor the controller
	// sets one: the US rule's 3%.
	DefaultCap = 0.03

	dialSpan   = 200 // dials in the answer-rate averages
	handleSpan = 100 // handled calls in the handle-time average
	recentSpan = 500 // live answers in the recent abandon rate
	// ki is the integral gain per live answer; the integral I scales the
	// overflow the model may allow to e^I times the aim, I within these
	// bounds.
	ki          = 0.3
	minIntegral = -6
	maxIntegral = 3
	// initialIntegral: the model takes every agent freeing within the
	// horizon as ready for any live answer of it, which is optimistic
	// (the simulator settles I near -1 at 20 agents, -3 at 100); start
	// cautious and let the integral find the level.
	initialIntegral = -1.5
	// fallbackBackoff is what I loses when the campaign falls back.
	fallbackBackoff = 0.2
)

func (c *Controller) predictive(s Snapshot) Decision {
	cap, rate30d := c.cap(s), s.Window30d.AbandonRate()
	if c.updateFallback(rate30d, cap) {
		return progressive(s, fmt.Sprintf("%s: %.2f%% over 30 days, %.2f%% recently; predictive again at %.2f%% and %.2f%%",
			ReasonNearCap, 100*rate30d, 100*c.Recent, 100*ResumeShare*cap, 100*RecentResumeShare*cap))
	}
	if c.Dials < MinDials {
		return progressive(s, fmt.Sprintf("predictive: measuring the answer rate (%d of %d dials)", c.Dials, MinDials))
	}
	if need := max(MinHandled, MinHandledPerAgent*s.AgentsSignedIn); c.Handled < need {
		return progressive(s, fmt.Sprintf("predictive: measuring handle times (%d of %d calls)", c.Handled, need))
	}
	if s.Window30d.Human < MinLive30d {
		return progressive(s, fmt.Sprintf("predictive: %d of %d live answers in 30 days", s.Window30d.Human, MinLive30d))
	}
	d := Decision{Pacing: records.PacePredictive}
	switch {
	case s.AgentsSignedIn <= 0:
		d.Reason = ReasonNoAgents
		return d
	case !s.Pending:
		d.Reason = ReasonNoContacts
		return d
	}
	pool := c.pool(s)
	agents := pool.mean()
	if agents <= 0 {
		d.Reason = "no agent available or about to be"
		return d
	}
	c.Aim = c.target(rate30d, cap)
	ratio := s.MaxRatio
	if ratio <= 0 {
		ratio = DefaultMaxRatio
	}
	d.Dial = c.dials(s.Lines, pool, int(ratio*agents)-s.Lines)
	d.Ratio = float64(s.Lines+d.Dial) / agents
	if d.Dial == 0 {
		d.Reason = fmt.Sprintf("%d lines cover the %.1f agents expected free", s.Lines, agents)
	}
	return d
}

// dials is the most new dials, up to most, whose live answers are
// expected to overflow the agents by at most the allowed share.
func (c *Controller) dials(inProgress int, pool agentPool, most int) int {
	allowed := c.Aim * math.Exp(c.Integral)
	q, p := c.liveLineShare(), c.Live
	var pmf [exactMax + 2]float64
	freed := pool.freed(&pmf)
	fits := func(n int) bool {
		lines := inProgress + n
		if lines == 0 {
			return true
		}
		live := (q*float64(inProgress) + p*float64(n)) / float64(lines)
		return overflow(lines, live, pool, freed) <= allowed
	}
	if most <= 0 || !fits(0) {
		return 0
	}
	lo, hi := 0, most // fits(lo); the answer is in [lo, hi]
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo
}

// cap is the snapshot's abandon cap, or the controller's, or DefaultCap.
func (c *Controller) cap(s Snapshot) float64 {
	switch {
	case s.AbandonCap > 0:
		return s.AbandonCap
	case c.Cap > 0:
		return c.Cap
	}
	return DefaultCap
}

// updateFallback moves in or out of progressive fallback and reports
// whether the campaign is in it.
func (c *Controller) updateFallback(rate30d, cap float64) bool {
	recentKnown := c.LiveAnswers >= RecentMin
	if !c.Fallback {
		if rate30d >= FallbackShare*cap || recentKnown && c.Recent >= RecentFallbackShare*cap {
			c.Fallback = true
			c.Integral = math.Max(minIntegral, c.Integral-fallbackBackoff)
		}
		return c.Fallback
	}
	if rate30d <= ResumeShare*cap && c.Recent <= RecentResumeShare*cap {
		c.Fallback = false
	}
	return c.Fallback
}

// target is the abandon rate steered to: the Target, lowered by the
// 30-day rate's excess over it.
func (c *Controller) target(rate30d, cap float64) float64 {
	t := c.Target
	if t <= 0 {
		t = DefaultTargetShare * cap
	}
	t = math.Min(t, MaxTargetShare*cap)
	return math.Max(t/4, t-math.Max(0, rate30d-t))
}
