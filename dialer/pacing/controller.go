package pacing

import (
	"math"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// Controller is a campaign's predictive pacing state: what it measured
// and how it steers. It is plain data, carried across continue-as-new.
// Averages are exponentially weighted, in seconds where they are times,
// and start as plain means (the weight is 1/n until n reaches the span).
type Controller struct {
	// Cap is the abandon cap (a snapshot's AbandonCap overrides it).
	Cap float64 `json:"cap"`
	// Target is the abandon rate steered to (0: DefaultTargetShare of the
	// cap; at most MaxTargetShare of it). Aim is the rate steered to at
	// the last decision: the Target less the 30-day rate's excess.
	Target float64 `json:"target,omitempty"`
	Aim    float64 `json:"aim,omitempty"`

	// Dials observed; Live is the live-answer share of them (p),
	// LineSeconds the mean time a dial holds a line, LiveLineSeconds the
	// mean of that time counting live answers only (q = LiveLineSeconds /
	// LineSeconds).
	Dials           int     `json:"dials"`
	Live            float64 `json:"live"`
	LineSeconds     float64 `json:"line_s"`
	LiveLineSeconds float64 `json:"live_line_s"`
	// LiveAnswers observed; HorizonSeconds is their mean dial to connect
	// (or abandon); Recent the abandoned share of them.
	LiveAnswers    int     `json:"live_answers"`
	HorizonSeconds float64 `json:"horizon_s"`
	Recent         float64 `json:"recent_abandon"`
	// Handled calls observed and their mean talk and wrap-up.
	Handled     int     `json:"handled"`
	TalkSeconds float64 `json:"talk_s"`
	WrapSeconds float64 `json:"wrap_s"`

	// Integral is the controller's integral term: the overflow the model
	// may allow is e^Integral times Aim.
	Integral float64 `json:"integral"`
	// Fallback is set while a predictive campaign paces progressively
	// because it is near its cap.
	Fallback bool `json:"fallback,omitempty"`
	// Pacing and Ratio are the last decision's.
	Pacing string  `json:"pacing,omitempty"`
	Ratio  float64 `json:"ratio,omitempty"`
}

// NewController returns a controller for a campaign with abandonCap.
func NewController(abandonCap float64) Controller {
	return Controller{Cap: abandonCap, Integral: initialIntegral}
}

// Observation is what the workflow learned of one dial when it left the
// lines (Outcome records.Attempt*: Ring and Wait), or of one connected
// call when its agent ended the wrap-up (Outcome OutcomeHandled: Talk and
// Wrap).
type Observation struct {
	Outcome string `json:"outcome"`
	// Ring is dial to answer, or to the end of an unanswered dial; Wait is
	// answer to the line's end: agent connected, abandoned, machine done.
	Ring time.Duration `json:"ring"`
	Wait time.Duration `json:"wait,omitempty"`
	Talk time.Duration `json:"talk,omitempty"`
	Wrap time.Duration `json:"wrap,omitempty"`
}

// Observe takes what the workflow learned of a dial or a handled call.
// Outcomes that are not dials (records.AttemptDNC, unknown ones) are
// ignored.
func (c *Controller) Observe(o Observation) {
	// Clocks of two machines may disagree: no time is below zero.
	o.Ring, o.Wait, o.Talk, o.Wrap = max(0, o.Ring), max(0, o.Wait), max(0, o.Talk), max(0, o.Wrap)
	switch o.Outcome {
	case OutcomeHandled:
		c.Handled++
		c.TalkSeconds = average(c.TalkSeconds, o.Talk.Seconds(), c.Handled, handleSpan)
		c.WrapSeconds = average(c.WrapSeconds, o.Wrap.Seconds(), c.Handled, handleSpan)
		return
	case records.AttemptHuman, records.AttemptAbandoned, records.AttemptMachine, records.AttemptBusy,
		records.AttemptNoAnswer, records.AttemptFailed, records.AttemptInvalid:
	default:
		return
	}
	live := o.Outcome == records.AttemptHuman || o.Outcome == records.AttemptAbandoned
	line := (o.Ring + o.Wait).Seconds()
	c.Dials++
	c.Live = average(c.Live, indicator(live), c.Dials, dialSpan)
	c.LineSeconds = average(c.LineSeconds, line, c.Dials, dialSpan)
	c.LiveLineSeconds = average(c.LiveLineSeconds, indicator(live)*line, c.Dials, dialSpan)
	if !live {
		return
	}
	abandoned := indicator(o.Outcome == records.AttemptAbandoned)
	c.LiveAnswers++
	c.HorizonSeconds = average(c.HorizonSeconds, line, c.LiveAnswers, dialSpan)
	c.Recent = average(c.Recent, abandoned, c.LiveAnswers, recentSpan)
	// The integral moves only on answers to predictive dials (as far as
	// the last decision tells): progressive pacing abandons nobody, and
	// counting that would wind it up.
	if c.Pacing == records.PacePredictive && c.Aim > 0 {
		c.Integral += ki * (c.Aim - abandoned)
		c.Integral = math.Min(maxIntegral, math.Max(minIntegral, c.Integral))
	}
}

// pool is the agents for the live answers of the horizon. Talk and
// wrap-up are taken as exponential: a wrapping agent frees within the
// horizon T with chance 1 - e^(-T/W), a talking one when the rest of the
// talk and the wrap-up both end within it (a hypoexponential). Until a
// call is handled no busy agent is counted.
func (c *Controller) pool(s Snapshot) agentPool {
	wrapping := min(max(0, s.AgentsWrapping), max(0, s.AgentsBusy))
	p := agentPool{free: max(0, s.AgentsAvailable), talking: max(0, s.AgentsBusy) - wrapping, wrapping: wrapping}
	if c.Handled == 0 {
		return p
	}
	h := c.HorizonSeconds
	if h <= 0 {
		return p
	}
	a, b := rate(c.TalkSeconds), rate(c.WrapSeconds)
	p.wrapFree = 1 - math.Exp(-b*h)
	switch {
	case math.IsInf(b, 1):
		p.talkFree = 1 - math.Exp(-a*h)
	case math.IsInf(a, 1):
		p.talkFree = p.wrapFree
	case math.Abs(a-b) < 1e-9*b:
		p.talkFree = 1 - math.Exp(-a*h)*(1+a*h)
	default:
		p.talkFree = 1 - (b*math.Exp(-a*h)-a*math.Exp(-b*h))/(b-a)
	}
	return p
}

// rate is 1 / mean, infinite for a mean of 0.
func rate(mean float64) float64 {
	if mean <= 0 {
		return math.Inf(1)
	}
	return 1 / mean
}

// liveLineShare is q: the share of lines in progress expected to turn
// into live answers.
func (c *Controller) liveLineShare() float64 {
	if c.LineSeconds <= 0 {
		return c.Live
	}
	return c.LiveLineSeconds / c.LineSeconds
}

// average moves mean toward x by 1/n, or 1/span once n reaches it.
func average(mean, x float64, n, span int) float64 {
	return mean + (x-mean)/float64(min(n, span))
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
