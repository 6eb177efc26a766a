// Package sipguard protects a media worker's SIP side: it admits new calls
// within a rate and a concurrency limit (admit.go) and bans scanners
// (bans.go). It holds limits and counters only; it knows no SIP stack.
package sipguard

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Reasons a call is refused; they are the reason label of
// voxflow_sip_rejected_calls_total.
const (
	ReasonRate        = "rate"
	ReasonConcurrency = "concurrency"
)

// Sentinels of a refusal; a *Rejected wraps one of them.
var (
	ErrRate        = errors.New("sipguard: new calls over the rate limit")
	ErrConcurrency = errors.New("sipguard: live calls at the limit")
)

// Retry-After bounds. A rate refusal is brief (a token comes back within a
// second at any rate of 1/s or more), so the caller (or the proxy) retries
// soon: the wait for a token, at least 1 s (the header's unit) and at most
// 5 s (for rates below 1/s). A concurrency refusal lasts
// as long as calls do (minutes), so the retry waits longer and a load
// balancer tries another worker meanwhile.
const (
	MinRateRetry     = 1 * time.Second
	MaxRateRetry     = 5 * time.Second
	ConcurrencyRetry = 10 * time.Second
)

// Limits are what an Admitter lets through; zero means no limit.
type Limits struct {
	// MaxCalls is how many admitted calls may be live at once.
	MaxCalls int
	// MaxCallRate is new calls per second, with a burst of one second's
	// worth (at least one call).
	MaxCallRate float64
}

// Rejected says why a call was refused and when to retry.
type Rejected struct {
	Reason     string // ReasonRate or ReasonConcurrency
	RetryAfter time.Duration
	err        error
}

func (r *Rejected) Error() string {
	return fmt.Sprintf("%v (retry after %s)", r.err, r.RetryAfter)
}

func (r *Rejected) Unwrap() error { return r.err }

// RetryAfterSeconds is RetryAfter as the Retry-After header's whole seconds.
func (r *Rejected) RetryAfterSeconds() int {
	return int(math.Ceil(r.RetryAfter.Seconds()))
}

// Admitter admits new calls: a token bucket for the rate and a counter of
// live calls. It is safe for concurrent use.
type Admitter struct {
	limits Limits
	now    func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
	live   int
}

// NewAdmitter admits within limits; now is the clock (nil: time.Now). The
// bucket starts full.
func NewAdmitter(limits Limits, now func() time.Time) *Admitter {
	if now == nil {
		now = time.Now
	}
	a := &Admitter{limits: limits, now: now}
	a.tokens = a.burst()
	a.last = now()
	return a
}

// Limits are the admitter's limits.
func (a *Admitter) Limits() Limits { return a.limits }

func (a *Admitter) burst() float64 { return math.Max(1, a.limits.MaxCallRate) }

// Acquire admits one new call, or refuses it with a *Rejected. An admitted
// call must call release once it has ended (answered or not); release is
// safe to call more than once. A refused call takes no token.
func (a *Admitter) Acquire() (release func(), err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.limits.MaxCalls > 0 && a.live >= a.limits.MaxCalls {
		return nil, &Rejected{Reason: ReasonConcurrency, RetryAfter: ConcurrencyRetry, err: ErrConcurrency}
	}
	if a.limits.MaxCallRate > 0 {
		a.refill()
		if a.tokens < 1 {
			return nil, &Rejected{Reason: ReasonRate, RetryAfter: a.rateRetry(), err: ErrRate}
		}
		a.tokens--
	}
	a.live++
	var once sync.Once
	return func() { once.Do(a.release) }, nil
}

func (a *Admitter) release() {
	a.mu.Lock()
	a.live--
	a.mu.Unlock()
}

// Live is how many admitted calls have not been released.
func (a *Admitter) Live() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.live
}

// refill adds the tokens earned since the last look, up to the burst.
func (a *Admitter) refill() {
	now := a.now()
	if dt := now.Sub(a.last).Seconds(); dt > 0 {
		a.tokens = math.Min(a.burst(), a.tokens+dt*a.limits.MaxCallRate)
	}
	a.last = now
}

// rateRetry is how long until the bucket holds a token again, bounded to
// MinRateRetry..MaxRateRetry.
func (a *Admitter) rateRetry() time.Duration {
	wait := time.Duration((1 - a.tokens) / a.limits.MaxCallRate * float64(time.Second)).Round(time.Millisecond)
	return min(max(wait, MinRateRetry), MaxRateRetry)
}
