package sipguard

import (
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// step is one action on an admitter: wait, then try a call (or release
// the oldest admitted one).
type step struct {
	wait    time.Duration
	release bool
	want    string // "ok", ReasonRate or ReasonConcurrency; "" with release
	retry   time.Duration
}

func TestAdmitter(t *testing.T) {
	ok := step{want: "ok"}
	rate := step{want: ReasonRate, retry: time.Second}
	conc := step{want: ReasonConcurrency, retry: ConcurrencyRetry}
	rel := step{release: true}
	cases := []struct {
		name   string
		limits Limits
		steps  []step
	}{
		{"no limits", Limits{}, []step{ok, ok, ok, ok, ok}},
		{"burst is one second's worth", Limits{MaxCallRate: 3}, []step{ok, ok, ok, rate, rate}},
		{"tokens come back at the rate", Limits{MaxCallRate: 2},
			[]step{ok, ok, rate, {wait: 500 * time.Millisecond, want: "ok"}, rate, {wait: 499 * time.Millisecond, want: ReasonRate, retry: time.Second}, {wait: time.Millisecond, want: "ok"}}},
		{"bucket refills only to the burst", Limits{MaxCallRate: 2},
			[]step{{wait: time.Hour, want: "ok"}, ok, rate}},
		{"slow rate retries later, at most 5 s", Limits{MaxCallRate: 0.1},
			[]step{ok, {want: ReasonRate, retry: MaxRateRetry}, {wait: 8 * time.Second, want: ReasonRate, retry: 2 * time.Second}, {wait: 2 * time.Second, want: "ok"}}},
		{"concurrency", Limits{MaxCalls: 2}, []step{ok, ok, conc, rel, ok, conc}},
		{"concurrency refusal takes no token", Limits{MaxCalls: 1, MaxCallRate: 2},
			[]step{ok, conc, conc, conc, rel, ok}},
		{"rate refusal counts no live call", Limits{MaxCalls: 2, MaxCallRate: 1},
			[]step{ok, rate, rate, {wait: time.Second, want: "ok"}, conc}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Unix(1e9, 0)}
			a := NewAdmitter(tc.limits, clock.now)
			var held []func()
			for i, s := range tc.steps {
				clock.advance(s.wait)
				if s.release {
					held[0]()
					held = held[1:]
					continue
				}
				release, err := a.Acquire()
				if got := outcome(err); got != s.want {
					t.Fatalf("step %d: got %s (%v), want %s", i, got, err, s.want)
				}
				if err != nil {
					var r *Rejected
					errors.As(err, &r)
					if r.RetryAfter != s.retry {
						t.Fatalf("step %d: retry after %s, want %s", i, r.RetryAfter, s.retry)
					}
					continue
				}
				held = append(held, release)
			}
			if a.Live() != len(held) {
				t.Fatalf("live %d, want %d", a.Live(), len(held))
			}
		})
	}
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrRate):
		return ReasonRate
	case errors.Is(err, ErrConcurrency):
		return ReasonConcurrency
	}
	return err.Error()
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{time.Second: 1, 1500 * time.Millisecond: 2, ConcurrencyRetry: 10} {
		if got := (&Rejected{RetryAfter: d}).RetryAfterSeconds(); got != want {
			t.Errorf("%s: %d, want %d", d, got, want)
		}
	}
}

// Releasing twice frees one place only, and concurrent calls never
// exceed the limit nor leak.
func TestAdmitterConcurrentReleaseOnce(t *testing.T) {
	a := NewAdmitter(Limits{MaxCalls: 5}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	peak := 0
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := a.Acquire()
			if err != nil {
				return
			}
			mu.Lock()
			peak = max(peak, a.Live())
			mu.Unlock()
			release()
			release()
		}()
	}
	wg.Wait()
	if a.Live() != 0 || peak > 5 {
		t.Fatalf("live %d after all released, peak %d (limit 5)", a.Live(), peak)
	}
}
