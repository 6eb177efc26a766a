package routing

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// ag is an available agent, capacity 1, idle since t0 minus idle.
func ag(name string, idle time.Duration, skills ...string) Agent {
	s, err := ParseSkills(skills)
	if err != nil {
		panic(err)
	}
	return Agent{Name: name, Skills: s, Capacity: 1, State: Available, IdleSince: t0.Add(-idle)}
}

// wt is a waiter of queue "q", priority 0, enqueued waited before t0.
func wt(call string, waited time.Duration, seq uint64, needs ...string) Waiter {
	r, err := ParseRequirements(needs)
	if err != nil {
		panic(err)
	}
	return Waiter{Call: call, Queue: "q", Needs: r, EnqueuedAt: t0.Add(-waited), Seq: seq}
}

func with[T any](v T, f func(*T)) T { f(&v); return v }

func TestAssign(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name    string
		waiters []Waiter
		agents  []Agent
		rules   map[string]Rules
		want    string // "call>agent" pairs, in order
	}{
		{"skill level", []Waiter{wt("c1", sec, 1, "billing:5")},
			[]Agent{ag("a", 9*sec, "billing:4"), ag("b", sec, "billing:5")}, nil, "c1>b"},
		{"missing skill", []Waiter{wt("c1", sec, 1, "billing:1", "french")},
			[]Agent{ag("a", sec, "billing:9", "english")}, nil, ""},
		{"every need", []Waiter{wt("c1", sec, 1, "billing:3", "english")},
			[]Agent{ag("a", 9*sec, "billing:9"), ag("b", sec, "billing:3", "english:2")}, nil, "c1>b"},
		{"priority before time waited", []Waiter{wt("old", 60*sec, 1), with(wt("vip", sec, 2), func(w *Waiter) { w.Priority = 5 })},
			[]Agent{ag("a", sec)}, nil, "vip>a"},
		{"longest waiting first", []Waiter{wt("new", sec, 1), wt("old", 9*sec, 2)},
			[]Agent{ag("a", sec)}, nil, "old>a"},
		{"seq breaks a tie in time", []Waiter{wt("second", sec, 8), wt("first", sec, 7)},
			[]Agent{ag("a", sec)}, nil, "first>a"},
		{"longest idle agent", []Waiter{wt("c1", sec, 1)},
			[]Agent{ag("a", 5*sec), ag("b", 50*sec), ag("c", 10*sec)}, nil, "c1>b"},
		{"name breaks a tie in idle", []Waiter{wt("c1", sec, 1)},
			[]Agent{ag("zed", sec), ag("amy", sec)}, nil, "c1>amy"},
		{"fewest active before idle", []Waiter{wt("c1", sec, 1)},
			[]Agent{with(ag("busy", 99*sec), func(a *Agent) { a.Capacity, a.Active = 3, 1 }), ag("free", sec)}, nil, "c1>free"},
		{"capacity fills in one pass", []Waiter{wt("c1", 3*sec, 1), wt("c2", 2*sec, 2), wt("c3", sec, 3)},
			[]Agent{with(ag("multi", sec), func(a *Agent) { a.Capacity, a.Active = 3, 1 })}, nil, "c1>multi c2>multi"},
		{"spreads before stacking", []Waiter{wt("c1", 3*sec, 1), wt("c2", 2*sec, 2), wt("c3", sec, 3)},
			[]Agent{with(ag("a", 9*sec), func(a *Agent) { a.Capacity = 2 }), with(ag("b", sec), func(a *Agent) { a.Capacity = 2 })}, nil, "c1>a c2>b c3>a"},
		{"capacity 0 means 1", []Waiter{wt("c1", 2*sec, 1), wt("c2", sec, 2)},
			[]Agent{with(ag("a", sec), func(a *Agent) { a.Capacity = 0 })}, nil, "c1>a"},
		{"full agent", []Waiter{wt("c1", sec, 1)},
			[]Agent{with(ag("a", sec), func(a *Agent) { a.Active = 1 })}, nil, ""},
		{"only available agents", []Waiter{wt("c1", sec, 1)},
			[]Agent{with(ag("r", 9*sec), func(a *Agent) { a.State = Reserved }), with(ag("o", 9*sec), func(a *Agent) { a.State = Offline }),
				with(ag("b", 9*sec), func(a *Agent) { a.State = Break }), with(ag("w", 9*sec), func(a *Agent) { a.State = WrapUp }),
				with(ag("c", 9*sec), func(a *Agent) { a.State = OnCall }), ag("av", sec)}, nil, "c1>av"},
		{"skip", []Waiter{with(wt("c1", 2*sec, 1), func(w *Waiter) { w.Skip = []string{"a"} }), wt("c2", sec, 2)},
			[]Agent{ag("a", 9*sec), ag("b", sec)}, nil, "c1>b c2>a"},
		{"skip leaves the agent to the next", []Waiter{with(wt("c1", 2*sec, 1), func(w *Waiter) { w.Skip = []string{"a"} }), wt("c2", sec, 2)},
			[]Agent{ag("a", sec)}, nil, "c2>a"},
		{"a miss with skip is not a miss for others", []Waiter{
			with(wt("c1", 3*sec, 1, "x:2"), func(w *Waiter) { w.Skip = []string{"a"} }), wt("c2", sec, 2, "x:2")},
			[]Agent{ag("a", sec, "x:2")}, nil, "c2>a"},
		{"same needs after a miss", []Waiter{wt("c1", 3*sec, 1, "x:9"), wt("c2", 2*sec, 2, "x:9"), wt("c3", sec, 3, "x:1")},
			[]Agent{ag("a", sec, "x:2")}, nil, "c3>a"},
		{"queue membership", []Waiter{with(wt("s1", 2*sec, 1), func(w *Waiter) { w.Queue = "sales" }), with(wt("p1", sec, 2), func(w *Waiter) { w.Queue = "support" })},
			[]Agent{with(ag("salesonly", 9*sec), func(a *Agent) { a.Queues = []string{"sales"} }), with(ag("any", sec), func(a *Agent) { a.Queues = nil })},
			nil, "s1>salesonly p1>any"},
		{"agent of other queues", []Waiter{wt("c1", sec, 1)},
			[]Agent{with(ag("a", sec), func(a *Agent) { a.Queues = []string{"sales", "billing"} })}, nil, ""},
		{"overflow widens needs", []Waiter{wt("c1", 90*sec, 1, "billing:8"), wt("c2", 30*sec, 2, "billing:8")},
			[]Agent{ag("a", sec, "billing:5"), ag("b", sec, "billing:5")},
			map[string]Rules{"q": {Overflow: []Overflow{{After: 60 * sec, Needs: []Requirement{{"billing", 3}}}}}}, "c1>a"},
		{"overflow at exactly After", []Waiter{wt("c1", 60*sec, 1, "billing:8")},
			[]Agent{ag("a", sec, "billing:5")},
			map[string]Rules{"q": {Overflow: []Overflow{{After: 60 * sec, Needs: []Requirement{{"billing", 3}}}}}}, "c1>a"},
		{"overflow clears needs", []Waiter{wt("c1", 90*sec, 1, "billing:8", "french")},
			[]Agent{ag("a", sec)},
			map[string]Rules{"q": {Overflow: []Overflow{{After: 60 * sec, ClearNeeds: true}}}}, "c1>a"},
		{"overflow moves queue", []Waiter{wt("c1", 130*sec, 1), wt("c2", 100*sec, 2)},
			[]Agent{with(ag("p", sec), func(a *Agent) { a.Queues = []string{"support"} }), with(ag("p2", sec), func(a *Agent) { a.Queues = []string{"support"} })},
			map[string]Rules{"q": {Overflow: []Overflow{{After: 120 * sec, Queue: "support"}}}}, "c1>p"},
		{"steps cumulative in order of After", []Waiter{wt("c1", 130*sec, 1, "x:9")},
			[]Agent{with(ag("s", 9*sec), func(a *Agent) { a.Queues = []string{"q"} }), with(ag("p", sec, "x:5"), func(a *Agent) { a.Queues = []string{"support"} })},
			map[string]Rules{"q": {Overflow: []Overflow{{After: 120 * sec, Queue: "support"}, {After: 60 * sec, Needs: []Requirement{{"x", 5}}}}}}, "c1>p"},
		{"later step replaces a cleared need", []Waiter{wt("c1", 130*sec, 1, "x:9")},
			[]Agent{ag("a", 9*sec), ag("b", sec, "y:2")},
			map[string]Rules{"q": {Overflow: []Overflow{{After: 120 * sec, Needs: []Requirement{{"y", 2}}}, {After: 60 * sec, ClearNeeds: true}}}}, "c1>b"},
		{"only the waiter's own rules", []Waiter{wt("c1", 130*sec, 1, "x:9")},
			[]Agent{ag("a", sec)},
			map[string]Rules{"other": {Overflow: []Overflow{{After: 0, ClearNeeds: true}}}}, ""},
		{"no waiters", nil, []Agent{ag("a", sec)}, nil, ""},
		{"no agents", []Waiter{wt("c1", sec, 1)}, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fmt.Sprint(tt.agents, tt.waiters)
			got := Assign(tt.waiters, tt.agents, tt.rules, t0)
			if s := matchString(got); s != tt.want {
				t.Errorf("Assign = %q, want %q", s, tt.want)
			}
			if after := fmt.Sprint(tt.agents, tt.waiters); after != before {
				t.Errorf("Assign modified its input")
			}
			if ref := matchString(refAssign(tt.waiters, tt.agents, tt.rules, t0)); ref != tt.want {
				t.Errorf("reference = %q, want %q (the test's reference is wrong)", ref, tt.want)
			}
		})
	}
}

func matchString(ms []Match) string {
	s := ""
	for i, m := range ms {
		if i > 0 {
			s += " "
		}
		s += m.Call + ">" + m.Agent
	}
	return s
}

// refAssign is the policy written plainly from its definition, without the
// shortcuts of Assign (pool, early stops, miss cache).
func refAssign(waiters []Waiter, agents []Agent, rules map[string]Rules, now time.Time) []Match {
	ws := slices.Clone(waiters)
	slices.SortStableFunc(ws, func(a, b Waiter) int {
		switch {
		case a.Priority != b.Priority:
			return b.Priority - a.Priority
		case !a.EnqueuedAt.Equal(b.EnqueuedAt):
			return a.EnqueuedAt.Compare(b.EnqueuedAt)
		case a.Seq != b.Seq:
			if a.Seq < b.Seq {
				return -1
			}
			return 1
		}
		return 0
	})
	active := map[string]int{}
	for _, a := range agents {
		active[a.Name] = a.Active
	}
	var out []Match
	for _, w := range ws {
		queue, needs := Effective(w, rules[w.Queue], now)
		var best *Agent
		for i := range agents {
			a := &agents[i]
			limit := max(a.Capacity, 1)
			if a.State != Available || active[a.Name] >= limit || !a.Serves(queue) || !a.Skills.Meets(needs) || slices.Contains(w.Skip, a.Name) {
				continue
			}
			if best == nil || active[a.Name] < active[best.Name] ||
				active[a.Name] == active[best.Name] && (a.IdleSince.Before(best.IdleSince) ||
					a.IdleSince.Equal(best.IdleSince) && a.Name < best.Name) {
				best = a
			}
		}
		if best != nil {
			active[best.Name]++
			out = append(out, Match{Call: w.Call, Agent: best.Name})
		}
	}
	return out
}

// randomCase builds a crowded, varied input: several queues, skills and
// levels, priorities, skips, capacities and states.
func randomCase(r *rand.Rand, nw, na int) ([]Waiter, []Agent, map[string]Rules) {
	queues := []string{"sales", "support", "billing"}
	skills := []string{"english", "french", "billing", "tech"}
	agents := make([]Agent, na)
	for i := range agents {
		a := Agent{Name: fmt.Sprintf("agent%03d", i), Capacity: 1 + r.IntN(2), State: Available,
			IdleSince: t0.Add(-time.Duration(r.IntN(600)) * time.Second), Skills: Skills{}}
		a.Active = r.IntN(a.Capacity + 1)
		if r.IntN(5) == 0 {
			a.State = States()[r.IntN(len(allStates))]
		}
		for _, s := range skills {
			if r.IntN(2) == 0 {
				a.Skills[s] = 1 + r.IntN(MaxLevel)
			}
		}
		if r.IntN(3) > 0 {
			a.Queues = []string{queues[r.IntN(len(queues))]}
		}
		agents[i] = a
	}
	waiters := make([]Waiter, nw)
	for i := range waiters {
		w := Waiter{Call: fmt.Sprintf("call%04d", i), Queue: queues[r.IntN(len(queues))], Priority: r.IntN(3),
			EnqueuedAt: t0.Add(-time.Duration(r.IntN(300)) * time.Second), Seq: uint64(i)}
		for _, s := range skills {
			if r.IntN(3) == 0 {
				w.Needs = append(w.Needs, Requirement{s, 1 + r.IntN(MaxLevel)})
			}
		}
		if r.IntN(6) == 0 {
			w.Skip = []string{agents[r.IntN(na)].Name}
		}
		waiters[i] = w
	}
	rules := map[string]Rules{
		"sales":   {Overflow: []Overflow{{After: 240 * time.Second, Queue: "support"}, {After: 60 * time.Second, ClearNeeds: true}}},
		"billing": {Overflow: []Overflow{{After: 120 * time.Second, Needs: []Requirement{{"billing", 2}}}}},
	}
	return waiters, agents, rules
}

func TestAssignMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		waiters, agents, rules := randomCase(r, 1+r.IntN(60), 1+r.IntN(30))
		got, want := Assign(waiters, agents, rules, t0), refAssign(waiters, agents, rules, t0)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: Assign = %v\nreference = %v", i, got, want)
		}
	}
}

func TestAssignDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	waiters, agents, rules := randomCase(r, 300, 60)
	want := Assign(waiters, agents, rules, t0)
	if len(want) < 10 {
		t.Fatalf("only %d matches: the case tests little", len(want))
	}
	for range 20 {
		r.Shuffle(len(waiters), func(i, j int) { waiters[i], waiters[j] = waiters[j], waiters[i] })
		r.Shuffle(len(agents), func(i, j int) { agents[i], agents[j] = agents[j], agents[i] })
		if got := Assign(waiters, agents, rules, t0); !reflect.DeepEqual(got, want) {
			t.Fatalf("shuffled input gives other matches:\n%v\nwant\n%v", got, want)
		}
	}
}

func TestEffective(t *testing.T) {
	needs := []Requirement{{"x", 9}}
	r := Rules{Overflow: []Overflow{
		{After: 3 * time.Minute, Queue: "other"},
		{After: time.Minute, Needs: []Requirement{{"x", 5}}},
		{After: 2 * time.Minute, ClearNeeds: true},
	}}
	tests := []struct {
		waited    time.Duration
		wantQueue string
		wantNeeds []Requirement
	}{
		{-time.Second, "q", needs},
		{59 * time.Second, "q", needs},
		{time.Minute, "q", []Requirement{{"x", 5}}},
		{150 * time.Second, "q", nil},
		{time.Hour, "other", nil},
	}
	for _, tt := range tests {
		w := Waiter{Queue: "q", Needs: needs, EnqueuedAt: t0.Add(-tt.waited)}
		q, n := Effective(w, r, t0)
		if q != tt.wantQueue || !reflect.DeepEqual(n, tt.wantNeeds) {
			t.Errorf("waited %v: Effective = %q %v, want %q %v", tt.waited, q, n, tt.wantQueue, tt.wantNeeds)
		}
	}
	if r.Overflow[0].After != 3*time.Minute {
		t.Error("Effective reordered the caller's rules")
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		step Overflow
		want string
	}{
		{Overflow{After: time.Minute, Queue: "b"}, ""},
		{Overflow{After: -time.Second, Queue: "b"}, "overflow step 1: after -1s is negative"},
		{Overflow{After: time.Minute}, "overflow step 1: changes nothing; set needs, clear_needs or queue"},
		{Overflow{ClearNeeds: true, Needs: []Requirement{{"x", 1}}}, "overflow step 1: sets needs and clear_needs; use one"},
	}
	for _, tt := range tests {
		err := Rules{Overflow: []Overflow{tt.step}}.Validate()
		if got := fmt.Sprint(err); err == nil && tt.want != "" || err != nil && got != tt.want {
			t.Errorf("Validate(%+v) = %v, want %q", tt.step, err, tt.want)
		}
	}
}

// BenchmarkAssign is one pass over 1,000 waiters and 200 agents.
//   - mixed: randomCase (queues, skills, capacities, overflow); about half
//     the agents have room.
//   - all-busy: no agent has room, the usual state under load.
//   - no-match: every agent free, no waiter's needs met: the longest scan.
func BenchmarkAssign(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	waiters, agents, rules := randomCase(r, 1000, 200)
	busy := slices.Clone(agents)
	for i := range busy {
		busy[i].State = OnCall
	}
	free := slices.Clone(agents)
	for i := range free {
		free[i].State, free[i].Active = Available, 0
	}
	unmet := slices.Clone(waiters)
	for i := range unmet {
		unmet[i].Needs = []Requirement{{"klingon", 1 + i%MaxLevel}}
	}
	cases := []struct {
		name    string
		waiters []Waiter
		agents  []Agent
		rules   map[string]Rules
	}{{"mixed", waiters, agents, rules}, {"all-busy", waiters, busy, rules}, {"no-match", unmet, free, nil}}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var n int
			b.ReportAllocs()
			for b.Loop() {
				n = len(Assign(c.waiters, c.agents, c.rules, t0))
			}
			b.ReportMetric(float64(n), "matches")
		})
	}
}
