package sipguard

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// banClock is a settable time for Bans.
type banClock struct{ t time.Time }

func (c *banClock) now() time.Time      { return c.t }
func (c *banClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newBanClock() *banClock            { return &banClock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)} }

// testBans bans after 5 failures in 1 min for 10 min, tracks 3 sources
// and logs to log.
func testBans(c *banClock, log *bytes.Buffer) *Bans {
	h := slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})
	return NewBans(BanConfig{AuthFailures: 5, AuthWindow: time.Minute, BanTime: 10 * time.Minute,
		MaxSources: 3, Worker: "w1", Logger: slog.New(h), Now: c.now})
}

// banStep is one event in a ban table test: a failure (f), a success (s) or
// a wait (w) from src, then whether src is banned.
type banStep struct {
	src    string
	ev     byte // 'f' failure, 's' success, 'w' wait
	wait   time.Duration
	banned bool
}

func TestBansTable(t *testing.T) {
	a, b := "127.0.0.2:5060", "127.0.0.3:5070"
	fails := func(src string, n int, last bool) []banStep {
		var s []banStep
		for i := 1; i <= n; i++ {
			s = append(s, banStep{src: src, ev: 'f', banned: last && i == n})
		}
		return s
	}
	cat := func(parts ...[]banStep) []banStep {
		var out []banStep
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name  string
		steps []banStep
	}{
		{"five failures ban", fails(a, 5, true)},
		{"four do not", fails(a, 4, false)},
		{"failures outside the window do not add up", cat(fails(a, 4, false),
			[]banStep{{src: a, ev: 'w', wait: 61 * time.Second}}, fails(a, 4, false))},
		{"a success resets its own source", cat(fails(a, 4, false), []banStep{{src: a, ev: 's'}}, fails(a, 4, false))},
		{"a success elsewhere resets nothing", cat(fails(a, 4, false), []banStep{{src: b, ev: 's'}}, fails(a, 1, true))},
		{"sources count apart", cat(fails(a, 4, false), fails(b, 4, false), fails(a, 1, true))},
		{"the port does not matter", cat(fails(a, 4, false), []banStep{{src: "127.0.0.2:9999", ev: 'f', banned: true}})},
		{"the ban ends after BanTime", cat(fails(a, 5, true),
			[]banStep{{src: a, ev: 'w', wait: 9 * time.Minute, banned: true}, {src: a, ev: 'w', wait: time.Minute, banned: false}},
			fails(a, 4, false))},
		{"a success while banned does not lift the ban", cat(fails(a, 5, true), []banStep{{src: a, ev: 's', banned: true}})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newBanClock()
			g := testBans(c, &bytes.Buffer{})
			for i, s := range tc.steps {
				switch s.ev {
				case 'f':
					g.AuthResult(s.src, false)
				case 's':
					g.AuthResult(s.src, true)
				case 'w':
					c.add(s.wait)
				}
				c.add(time.Second)
				if got := g.Banned(s.src); got != s.banned {
					t.Fatalf("banStep %d (%c %s): banned = %v, want %v", i, s.ev, s.src, got, s.banned)
				}
			}
		})
	}
}

func TestBansDropCountsAndLogs(t *testing.T) {
	c := newBanClock()
	var log bytes.Buffer
	g := testBans(c, &log)
	src := "127.0.0.2:5060"
	if g.Drop(src) {
		t.Fatal("dropped before any failure")
	}
	for range 5 {
		g.AuthResult(src, false)
	}
	for range 3 {
		if !g.Drop("127.0.0.2:40000") {
			t.Fatal("not dropped while banned")
		}
	}
	if g.Drop("127.0.0.1:5060") {
		t.Fatal("another source dropped")
	}
	for name, got := range map[string]float64{
		MetricAuthFailures: testutil.ToFloat64(g.failures), MetricBans: testutil.ToFloat64(g.bans),
		MetricBannedSources: testutil.ToFloat64(g.banned), MetricDroppedRequests: testutil.ToFloat64(g.dropped.WithLabelValues(ReasonBanned)),
	} {
		want := map[string]float64{MetricAuthFailures: 5, MetricBans: 1, MetricBannedSources: 1, MetricDroppedRequests: 3}[name]
		if got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if line := `level=WARN msg="sip source banned" component=sipguard ip=127.0.0.2 failures=5 for=10m`; !strings.Contains(log.String(), line) {
		t.Errorf("log lacks %q:\n%s", line, log.String())
	}
	c.add(10 * time.Minute)
	if g.Drop(src) || g.BannedCount() != 0 {
		t.Fatal("still banned after BanTime")
	}
	if !strings.Contains(log.String(), `level=DEBUG msg="sip source unbanned" component=sipguard ip=127.0.0.2`) {
		t.Errorf("no unban line:\n%s", log.String())
	}
}

func TestBansForgetOldestBeyondCap(t *testing.T) {
	c := newBanClock()
	g := testBans(c, &bytes.Buffer{}) // MaxSources: 3
	for range 4 {
		g.AuthResult("127.0.0.9:1", false)
	}
	for i := 1; i <= 3; i++ { // three newer sources push 127.0.0.9 out
		g.AuthResult("127.0.1."+strconv.Itoa(i)+":1", false)
	}
	if len(g.sources) != 3 || g.lru.Len() != 3 {
		t.Fatalf("tracking %d sources, want 3", len(g.sources))
	}
	g.AuthResult("127.0.0.9:1", false)
	if g.Banned("127.0.0.9") {
		t.Fatal("an evicted source kept its failures")
	}
}
