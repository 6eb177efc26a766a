package designerapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/store"
)

// Sign-in limit defaults (the same as the api.signin_* settings').
const (
	DefaultSigninFailures = 5
	DefaultSigninLockout  = time.Minute
	// MaxSigninLockout caps the doubling lockouts.
	MaxSigninLockout = time.Hour
	// SigninIPFactor: one source address may make this many times the
	// account's failures before it is locked out too (spraying many
	// usernames from one address).
	SigninIPFactor = 4
	// signinForget: a counter untouched (and unlocked) this long is
	// forgotten, so lockouts stop doubling after a quiet day.
	signinForget = 24 * time.Hour
)

// ErrSigninLocked: too many wrong passwords for the account or from the
// source address; the answer is the same whether the password was right.
var ErrSigninLocked = errors.New("too many failed sign-ins: try again later")

// SigninLimits bound wrong passwords. Zero fields take the defaults.
type SigninLimits struct {
	// Failures in a row lock an account for Lockout; each further lockout
	// doubles, up to MaxSigninLockout. A source address gets
	// SigninIPFactor times as many.
	Failures int
	Lockout  time.Duration
}

// Counters of the sign-in limit, for /metrics (see SecurityCollectors).
var (
	signinFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "voxflow_api_signin_failures_total", Help: "Sign-ins refused for a wrong username or password.",
	})
	signinLockouts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "voxflow_api_lockouts_total", Help: "Sign-in lockouts started, by what was locked (account or address).",
	}, []string{"scope"})
)

// SecurityCollectors are the API's security metrics, for a process's
// /metrics.
func SecurityCollectors() []prometheus.Collector {
	return []prometheus.Collector{signinFailures, signinLockouts}
}

// signinLimiter keeps the counters in the store, so every API instance
// shares them.
type signinLimiter struct {
	store  *store.Store
	limits SigninLimits
	now    func() time.Time
	log    *slog.Logger
}

func newSigninLimiter(s *store.Store, l SigninLimits, now func() time.Time, log *slog.Logger) *signinLimiter {
	if l.Failures <= 0 {
		l.Failures = DefaultSigninFailures
	}
	if l.Lockout <= 0 {
		l.Lockout = DefaultSigninLockout
	}
	return &signinLimiter{store: s, limits: l, now: now, log: log}
}

func userKey(name string) string { return "user:" + name }
func ipKey(ip string) string     { return "ip:" + ip }

// lockedFor is how much longer the account or the address is locked (0:
// neither is).
func (l *signinLimiter) lockedFor(ctx context.Context, user, ip string) (time.Duration, error) {
	var wait time.Duration
	for _, key := range []string{userKey(user), ipKey(ip)} {
		c, err := l.store.SigninCounter(ctx, key)
		if err != nil {
			return 0, fmt.Errorf("sign-in limit: %w", err)
		}
		wait = max(wait, c.LockedUntil.Sub(l.now()))
	}
	return wait, nil
}

// fail counts a wrong password for the account and the address and
// returns how long a lockout it started (0: none).
func (l *signinLimiter) fail(ctx context.Context, user, ip string) (time.Duration, error) {
	signinFailures.Inc()
	if err := l.store.PruneSigninCounters(ctx, l.now().Add(-signinForget)); err != nil {
		return 0, fmt.Errorf("sign-in limit: %w", err)
	}
	var wait time.Duration
	for _, k := range []struct {
		key, scope string
		limit      int
	}{{userKey(user), "account", l.limits.Failures}, {ipKey(ip), "address", l.limits.Failures * SigninIPFactor}} {
		var started time.Duration
		_, err := l.store.UpdateSigninCounter(ctx, k.key, func(c store.SigninCounter) store.SigninCounter {
			now := l.now()
			c.Failures++
			c.UpdatedAt = now
			if c.Failures >= k.limit {
				started = l.lockout(c.Lockouts)
				c.Failures, c.Lockouts, c.LockedUntil = 0, c.Lockouts+1, now.Add(started)
			}
			return c
		})
		if err != nil {
			return 0, fmt.Errorf("sign-in limit: %w", err)
		}
		if started > 0 {
			signinLockouts.WithLabelValues(k.scope).Inc()
			l.log.Warn("sign-in lockout", "scope", k.scope, "user", user, "source", ip, "for", started)
			wait = max(wait, started)
		}
	}
	return wait, nil
}

// lockout is the length of the lockout after n earlier ones: doubling,
// capped.
func (l *signinLimiter) lockout(n int) time.Duration {
	d := l.limits.Lockout
	for i := 0; i < n && d < MaxSigninLockout; i++ {
		d *= 2
	}
	return min(d, MaxSigninLockout)
}

// succeed forgets the account's failures and lockouts. The address keeps
// its count: one good password must not let it spray on.
func (l *signinLimiter) succeed(ctx context.Context, user string) error {
	if err := l.store.DeleteSigninCounter(ctx, userKey(user)); err != nil {
		return fmt.Errorf("sign-in limit: %w", err)
	}
	return nil
}

// lockedError is the 429 of a locked sign-in: the same body for a right
// or a wrong password, with Retry-After in whole seconds.
func lockedError(wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	return huma.ErrorWithHeaders(huma.Error429TooManyRequests(ErrSigninLocked.Error()),
		http.Header{"Retry-After": {strconv.Itoa(max(secs, 1))}})
}
