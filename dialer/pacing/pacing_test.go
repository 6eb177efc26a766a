package pacing

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// warmed is a controller past its warm-up: 300 dials (30% live, 15%
// machines, the rest ringing out) and 2,000 handled calls of 3 min talk
// and 30 s wrap-up (two per agent of 1,000), its last decision
// predictive.
func warmed(t testing.TB) Controller {
	t.Helper()
	c := NewController(0.03)
	for i := range 300 {
		switch i % 20 {
		case 0, 1, 2, 3, 4, 5:
			c.Observe(Observation{Outcome: records.AttemptHuman, Ring: 12 * time.Second, Wait: 2 * time.Second})
		case 6, 7, 8:
			c.Observe(Observation{Outcome: records.AttemptMachine, Ring: 12 * time.Second, Wait: 2500 * time.Millisecond})
		default:
			c.Observe(Observation{Outcome: records.AttemptNoAnswer, Ring: 25 * time.Second})
		}
	}
	for range 2000 {
		c.Observe(Observation{Outcome: OutcomeHandled, Talk: 3 * time.Minute, Wrap: 30 * time.Second})
	}
	if d := c.Decide(agents(20, 20, 0, 0)); d.Pacing != records.PacePredictive {
		t.Fatalf("warmed controller paces %s: %s", d.Pacing, d.Reason)
	}
	return c
}

// agents is a predictive snapshot with contacts due and 200 live answers
// (2 abandoned) in 30 days.
func agents(signedIn, available, wrapping, lines int) Snapshot {
	return Snapshot{
		Mode:           records.PacePredictive,
		AgentsSignedIn: signedIn, AgentsAvailable: available, AgentsBusy: signedIn - available,
		AgentsWrapping: wrapping, Lines: lines, Pending: true,
		Window30d: records.CampaignTally{Human: 200, Abandoned: 2},
	}
}

func TestDecideModes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		s      Snapshot
		dial   int
		pacing string
		reason string // the Reason's beginning
	}{
		{"preview", Snapshot{Mode: records.PacePreview, AgentsSignedIn: 5, AgentsAvailable: 5, Pending: true},
			0, records.PacePreview, ReasonPreview},
		{"progressive: a line per available agent", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 8, AgentsAvailable: 5, AgentsBusy: 3, Lines: 2, Pending: true},
			3, records.PaceProgressive, ""},
		{"progressive: no agents signed in", Snapshot{Mode: records.PaceProgressive, Pending: true},
			0, records.PaceProgressive, ReasonNoAgents},
		{"progressive: no agents signed in, lines left", Snapshot{Mode: records.PaceProgressive, AgentsAvailable: 3, Lines: 2, Pending: true},
			0, records.PaceProgressive, ReasonNoAgents},
		{"progressive: all busy", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 4, AgentsBusy: 4, Pending: true},
			0, records.PaceProgressive, "no agent available"},
		{"progressive: lines above agents", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 4, AgentsAvailable: 3, AgentsBusy: 1, Lines: 5, Pending: true},
			0, records.PaceProgressive, "5 lines cover the 3 available agents"},
		{"progressive: nothing due", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 4, AgentsAvailable: 4},
			0, records.PaceProgressive, ReasonNoContacts},
		{"progressive: rate limit cuts", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 10, AgentsAvailable: 10, Pending: true, RatePerMinute: 30, DialsLastMinute: 27},
			3, records.PaceProgressive, "rate limit: 30 dials a minute"},
		{"progressive: rate limit spent", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 10, AgentsAvailable: 10, Pending: true, RatePerMinute: 30, DialsLastMinute: 31},
			0, records.PaceProgressive, "rate limit: 30 dials a minute"},
		{"progressive: rate limit not reached", Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 10, AgentsAvailable: 10, Pending: true, RatePerMinute: 30, DialsLastMinute: 5},
			10, records.PaceProgressive, ""},
		{"agentless: concurrency", Snapshot{Mode: records.PaceAgentless, Concurrency: 10, Lines: 4, Pending: true},
			6, records.PaceAgentless, ""},
		{"agentless: full", Snapshot{Mode: records.PaceAgentless, Concurrency: 10, Lines: 12, Pending: true},
			0, records.PaceAgentless, "12 lines of 10 in use"},
		{"agentless: no concurrency", Snapshot{Mode: records.PaceAgentless, Pending: true},
			0, records.PaceAgentless, "no concurrency set"},
		{"agentless: nothing due", Snapshot{Mode: records.PaceAgentless, Concurrency: 10},
			0, records.PaceAgentless, ReasonNoContacts},
		{"agentless: rate limit", Snapshot{Mode: records.PaceAgentless, Concurrency: 10, Pending: true, RatePerMinute: 4},
			4, records.PaceAgentless, "rate limit: 4 dials a minute"},
		{"unknown mode", Snapshot{Mode: "turbo", AgentsSignedIn: 3, AgentsAvailable: 3, Pending: true},
			0, "turbo", `unknown pacing mode "turbo"`},
		{"predictive warming up paces progressively", Snapshot{Mode: records.PacePredictive, AgentsSignedIn: 5, AgentsAvailable: 5, Pending: true},
			5, records.PaceProgressive, "predictive: measuring the answer rate (0 of 30 dials)"},
		{"predictive warming up: no agents signed in", Snapshot{Mode: records.PacePredictive, Pending: true},
			0, records.PaceProgressive, ReasonNoAgents},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewController(0.03)
			d := c.Decide(tc.s)
			if d.Dial != tc.dial || d.Pacing != tc.pacing || !strings.HasPrefix(d.Reason, tc.reason) || tc.reason == "" && d.Reason != "" {
				t.Errorf("Decide = %+v; want dial %d, pacing %s, reason %q", d, tc.dial, tc.pacing, tc.reason)
			}
		})
	}
}

func TestPredictiveWarmUp(t *testing.T) {
	c := NewController(0.03)
	for range MinDials {
		c.Observe(Observation{Outcome: records.AttemptHuman, Ring: 10 * time.Second, Wait: 2 * time.Second})
	}
	d := c.Decide(agents(20, 20, 0, 0))
	if d.Pacing != records.PaceProgressive || d.Reason != "predictive: measuring handle times (0 of 40 calls)" || d.Dial != 20 {
		t.Fatalf("no call handled yet: %+v", d)
	}
	for range 40 {
		c.Observe(Observation{Outcome: OutcomeHandled, Talk: time.Minute})
	}
	s := agents(20, 20, 0, 0)
	s.Window30d = records.CampaignTally{Human: 99}
	if d := c.Decide(s); d.Pacing != records.PaceProgressive || d.Reason != "predictive: 99 of 100 live answers in 30 days" {
		t.Fatalf("99 live answers in 30 days: %+v", d)
	}
	s.Window30d.Human = 100
	if d := c.Decide(s); d.Pacing != records.PacePredictive {
		t.Fatalf("warmed up: %+v", d)
	}
}

func TestPredictive(t *testing.T) {
	withRatio := func(s Snapshot, r float64) Snapshot { s.MaxRatio = r; return s }
	notDue := agents(20, 10, 0, 0)
	notDue.Pending = false
	limited := agents(20, 10, 0, 0)
	limited.RatePerMinute, limited.DialsLastMinute = 60, 58
	for _, tc := range []struct {
		name     string
		s        Snapshot
		min, max int // Dial within
		reason   string
	}{
		{"dials more lines than available agents", agents(20, 10, 0, 0), 11, 31, ""},
		{"no agents signed in", agents(0, 0, 0, 0), 0, 0, ReasonNoAgents},
		{"no agents signed in, lines left", Snapshot{Mode: records.PacePredictive, AgentsAvailable: 2, Lines: 4, Pending: true, Window30d: records.CampaignTally{Human: 200}}, 0, 0, ReasonNoAgents},
		{"nothing due", notDue, 0, 0, ReasonNoContacts},
		{"all busy talking: little to expect", agents(20, 0, 0, 0), 0, 2, ""},
		{"few available, many wrapping up", agents(20, 2, 10, 0), 3, 20, ""},
		{"lines above agents", agents(20, 2, 0, 30), 0, 0, "30 lines cover the "},
		{"max ratio 1", withRatio(agents(20, 10, 0, 0), 1), 10, 10, ""},
		{"rate limit", limited, 2, 2, "rate limit: 60 dials a minute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := warmed(t)
			d := c.Decide(tc.s)
			if d.Dial < tc.min || d.Dial > tc.max || !strings.HasPrefix(d.Reason, tc.reason) || d.Pacing != records.PacePredictive {
				t.Errorf("Decide = %+v; want dial %d to %d, reason %q", d, tc.min, tc.max, tc.reason)
			}
		})
	}
}

func TestPredictiveDialsForWrappingAgents(t *testing.T) {
	c := warmed(t)
	talking := c.Decide(agents(20, 2, 0, 0)).Dial
	wrapping := c.Decide(agents(20, 2, 8, 0)).Dial
	if wrapping <= talking {
		t.Fatalf("8 agents wrapping up: %d dials; all talking: %d", wrapping, talking)
	}
}

func TestPredictiveFallbackHysteresis(t *testing.T) {
	c := warmed(t)
	step := func(abandoned int, wantPacing, wantReason string) {
		t.Helper()
		s := agents(20, 10, 0, 0)
		s.Window30d = records.CampaignTally{Human: 1000, Abandoned: abandoned}
		d := c.Decide(s)
		if d.Pacing != wantPacing || !strings.HasPrefix(d.Reason, wantReason) {
			t.Fatalf("30-day rate %.1f%%: %+v; want %s, %q", float64(abandoned)/10, d, wantPacing, wantReason)
		}
		if wantPacing == records.PaceProgressive && d.Dial != 10 {
			t.Fatalf("fallback dials %d; want a line per available agent", d.Dial)
		}
	}
	step(26, records.PacePredictive, "")
	before := c.Integral
	step(27, records.PaceProgressive, ReasonNearCap+": 2.70% over 30 days") // 90% of the cap
	if c.Integral >= before {
		t.Fatalf("falling back kept the integral at %v", c.Integral)
	}
	step(25, records.PaceProgressive, ReasonNearCap) // below the margin, not well below
	step(23, records.PaceProgressive, ReasonNearCap)
	step(22, records.PacePredictive, "") // 75% of the cap: 2.25%
	step(26, records.PacePredictive, "")
}

func TestPredictiveFallbackOnRecentRate(t *testing.T) {
	c := warmed(t)
	// 100 more live answers, 9 abandoned: the recent rate is above 4%,
	// the 30-day window still low.
	for i := range 100 {
		outcome := records.AttemptHuman
		if i%12 == 0 {
			outcome = records.AttemptAbandoned
		}
		c.Observe(Observation{Outcome: outcome, Ring: 12 * time.Second, Wait: 2 * time.Second})
	}
	d := c.Decide(agents(20, 10, 0, 0))
	if d.Pacing != records.PaceProgressive || !strings.HasPrefix(d.Reason, ReasonNearCap) {
		t.Fatalf("recent rate %.2f%%: %+v", 100*c.Recent, d)
	}
	// Live answers without abandons bring the recent rate down; the
	// campaign resumes once it is 2/3 of the cap or below.
	for i := 0; ; i++ {
		before := c.Recent
		if d := c.Decide(agents(20, 10, 0, 0)); d.Pacing == records.PacePredictive {
			if before > 0.02+1e-9 || i == 0 {
				t.Fatalf("resumed at a recent rate of %.3f%%", 100*before)
			}
			break
		}
		if i > 1000 {
			t.Fatalf("still progressive at a recent rate of %.3f%%", 100*c.Recent)
		}
		c.Observe(Observation{Outcome: records.AttemptHuman, Ring: 12 * time.Second, Wait: 2 * time.Second})
	}
	if c.Recent < 0.0199 {
		t.Fatalf("resumed late, at a recent rate of %.3f%%", 100*c.Recent)
	}
}

func TestIntegralSteersOnPredictiveAnswers(t *testing.T) {
	c := warmed(t)
	i0 := c.Integral
	c.Observe(Observation{Outcome: records.AttemptAbandoned, Ring: 12 * time.Second, Wait: 2 * time.Second})
	i1 := c.Integral
	if i1 >= i0 {
		t.Fatalf("an abandon moved the integral from %v to %v", i0, i1)
	}
	c.Observe(Observation{Outcome: records.AttemptHuman, Ring: 12 * time.Second, Wait: time.Second})
	if c.Integral <= i1 {
		t.Fatalf("a connected answer moved the integral from %v to %v", i1, c.Integral)
	}
	// Paced progressively, answers do not wind the integral up.
	c.Decide(Snapshot{Mode: records.PaceProgressive, AgentsSignedIn: 1, AgentsAvailable: 1, Pending: true})
	i2 := c.Integral
	c.Observe(Observation{Outcome: records.AttemptHuman, Ring: 12 * time.Second, Wait: time.Second})
	if c.Integral != i2 {
		t.Fatalf("a progressive answer moved the integral from %v to %v", i2, c.Integral)
	}
}

func TestObserveIgnoresWhatIsNotADial(t *testing.T) {
	c := warmed(t)
	want := c
	c.Observe(Observation{Outcome: records.AttemptDNC})
	c.Observe(Observation{Outcome: "teleported", Ring: time.Second})
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("Observe changed the controller:\n%+v\nwant\n%+v", c, want)
	}
}

func TestTargetAndAim(t *testing.T) {
	for _, tc := range []struct {
		target, rate30d, want float64
	}{
		{0, 0.01, 0.02},       // default: 2/3 of 3%
		{0.01, 0.005, 0.01},   // below the target: the target
		{0.01, 0.015, 0.005},  // above: lowered by the excess
		{0.01, 0.5, 0.0025},   // at most to a quarter
		{0.05, 0, 0.024},      // at most 80% of the cap
		{0.024, 0.025, 0.023}, // the 30-day rate pulls it down
	} {
		c := Controller{Cap: 0.03, Target: tc.target}
		if got := c.target(tc.rate30d, 0.03); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("target %v, 30-day rate %v: aim %v; want %v", tc.target, tc.rate30d, got, tc.want)
		}
	}
}

// TestControllerJSON checks that a controller carried across
// continue-as-new as JSON decides as the original does.
func TestControllerJSON(t *testing.T) {
	c := warmed(t)
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Controller
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip:\n%+v\nwant\n%+v", back, c)
	}
	for _, s := range []Snapshot{agents(20, 3, 2, 4), agents(50, 10, 5, 20), agents(20, 0, 0, 0)} {
		if got, want := back.Decide(s), c.Decide(s); got != want {
			t.Fatalf("after JSON: %+v; want %+v", got, want)
		}
	}
}

func TestOverflow(t *testing.T) {
	over := func(lines int, live float64, pool agentPool) float64 {
		var pmf [exactMax + 2]float64
		return overflow(lines, live, pool, pool.freed(&pmf))
	}
	pool := agentPool{free: 3, talking: 10, wrapping: 2, talkFree: 0.02, wrapFree: 0.3}
	prev := -1.0
	for lines := range 40 {
		o := over(lines, 0.25, pool)
		if o < prev-1e-12 || o < 0 || o > 1 {
			t.Fatalf("overflow(%d lines) = %v after %v: not a share growing with lines", lines, o, prev)
		}
		prev = o
	}
	if o := over(4, 0.25, agentPool{free: 4}); o != 0 {
		t.Fatalf("4 lines, 4 free agents: overflow %v", o)
	}
	// One line sure to be live, no agent: it overflows.
	if o := over(1, 1, agentPool{}); o != 1 {
		t.Fatalf("a sure answer and no agent: overflow %v", o)
	}
	// Past exactMax lines the normal approximation serves; it agrees with
	// the exact sum nearby.
	big := agentPool{free: 40, talking: 100, wrapping: 20, talkFree: 0.05, wrapFree: 0.4}
	exact, approx := over(exactMax, 0.22, big), over(exactMax+1, 0.22*exactMax/(exactMax+1), big)
	if math.Abs(exact-approx) > 0.2*exact+1e-4 {
		t.Fatalf("exact %v, normal approximation %v", exact, approx)
	}
}

// BenchmarkDecide measures a predictive decision, which the campaign
// workflow takes on every tick and event.
func BenchmarkDecide(b *testing.B) {
	for _, bc := range []struct {
		name string
		s    Snapshot
	}{
		{"20-agents", agents(20, 4, 3, 2)},
		{"100-agents", agents(100, 10, 14, 20)},
		{"1000-agents", agents(1000, 60, 140, 150)}, // the normal approximation
	} {
		b.Run(bc.name, func(b *testing.B) {
			c := warmed(b)
			if d := c.Decide(bc.s); d.Pacing != records.PacePredictive || d.Dial == 0 {
				b.Fatalf("not a predictive decision to dial: %+v", d)
			}
			b.ReportAllocs()
			for b.Loop() {
				c.Decide(bc.s)
			}
		})
	}
}

// FuzzDecide checks the rules every decision keeps, whatever the
// snapshot.
func FuzzDecide(f *testing.F) {
	f.Add(uint8(2), 20, 5, 3, 4, 0, 0, 0, 0.0, true, 200, 2, true)
	f.Add(uint8(1), 0, 0, 0, 6, 10, 30, 29, 3.0, true, 0, 0, false)
	f.Fuzz(func(t *testing.T, mode uint8, signedIn, available, wrapping, lines, concurrency, rate, lastMinute int,
		ratio float64, pending bool, human, abandoned int, warm bool) {
		modes := []string{records.PacePreview, records.PaceProgressive, records.PacePredictive, records.PaceAgentless}
		s := Snapshot{
			Mode: modes[int(mode)%len(modes)], AgentsSignedIn: signedIn, AgentsAvailable: available,
			AgentsBusy: signedIn - available, AgentsWrapping: wrapping, Lines: lines, Concurrency: concurrency,
			RatePerMinute: rate, DialsLastMinute: lastMinute, MaxRatio: ratio, Pending: pending,
			Window30d: records.CampaignTally{Human: human, Abandoned: abandoned},
		}
		c := NewController(0.03)
		if warm {
			c = warmed(t)
		}
		d := c.Decide(s)
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("the controller no longer marshals: %v", err)
		}
		switch {
		case d.Dial < 0:
			t.Fatalf("negative dial: %+v", d)
		case d.Dial > 0 && !pending:
			t.Fatalf("dials with nothing due: %+v", d)
		case d.Dial > 0 && s.Mode == records.PacePreview:
			t.Fatalf("preview dials: %+v", d)
		case d.Dial > 0 && s.Mode != records.PaceAgentless && signedIn <= 0:
			t.Fatalf("dials with no agent signed in: %+v", d)
		case d.Dial > 0 && rate > 0 && d.Dial > rate-lastMinute:
			t.Fatalf("dials past the rate limit: %+v", d)
		case d.Pacing == records.PaceProgressive && d.Dial > 0 && d.Dial > available-lines:
			t.Fatalf("progressive dials %d for %d available and %d lines", d.Dial, available, lines)
		case s.Mode == records.PaceAgentless && d.Dial > 0 && d.Dial > concurrency-lines:
			t.Fatalf("agentless dials %d for concurrency %d and %d lines", d.Dial, concurrency, lines)
		}
	})
}
