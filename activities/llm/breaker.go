package llm

import (
	"sync"
	"sync/atomic"
	"time"
)

// Breaker states, as State reports them.
const (
	StateClosed   = "closed"
	StateOpen     = "open"
	StateHalfOpen = "half-open"
)

// breaker is the circuit breaker of one endpoint. Closed, it lets every
// request through and counts failures in a row; at the threshold it
// opens, and every request fails at once for the cool-down; then it lets
// one trial request through (half-open): success closes it, failure opens
// it again.
type breaker struct {
	failures int
	coolDown time.Duration
	now      func() time.Time

	mu        sync.Mutex
	inRow     int
	openUntil time.Time // zero while closed
	trial     bool      // a half-open trial request is in flight
	opened    atomic.Uint64
}

func newBreaker(cfg BreakerConfig, now func() time.Time) *breaker {
	return &breaker{failures: cfg.Failures, coolDown: cfg.CoolDown, now: now}
}

// allow reports whether a request may go now; when it returns true the
// caller must report the outcome with done.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true
	}
	if b.trial || b.now().Before(b.openUntil) {
		return false
	}
	b.trial = true
	return true
}

// done records the outcome of a request allow let through. failed is a
// failure of the endpoint (5xx, 429, network, timeout), not of the request.
func (b *breaker) done(failed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasTrial := b.trial
	b.trial = false
	if !failed {
		b.inRow = 0
		b.openUntil = time.Time{}
		return
	}
	b.inRow++
	if wasTrial || b.inRow >= b.failures {
		if b.openUntil.IsZero() || wasTrial {
			b.opened.Add(1)
		}
		b.openUntil = b.now().Add(b.coolDown)
	}
}

// release gives back a trial slot whose request never reached the
// endpoint (the caller's context ended first).
func (b *breaker) release() {
	b.mu.Lock()
	b.trial = false
	b.mu.Unlock()
}

// state is closed, open or half-open (the cool-down is over, or its trial
// request is in flight).
func (b *breaker) state() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.openUntil.IsZero():
		return StateClosed
	case b.trial || !b.now().Before(b.openUntil):
		return StateHalfOpen
	default:
		return StateOpen
	}
}
