package simulator

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// TestAITurnsEmitOnce: each turn of the path is reported once, in path
// order, as the path grows between queries; a query that failed (nil)
// loses nothing.
func TestAITurnsEmitOnce(t *testing.T) {
	billing := records.AITurn{Utterance: "pay my bill", Intent: "billing", Confidence: 0.92, Slots: map[string]any{"account": "4471"}, Source: "offline"}
	ask := records.AITurn{Utterance: "4471", Intent: "billing", Confidence: 1, Source: "offline"}
	reply := records.AITurn{Reply: "Your balance is 12 dollars.", Source: "llm"}
	path1 := []records.Step{{Node: "greet"}, {Node: "understand", AI: []records.AITurn{billing}}}
	path2 := []records.Step{{Node: "greet"}, {Node: "understand", AI: []records.AITurn{billing, ask}}, {Node: "assistant", AI: []records.AITurn{reply}}}

	seen := aiTurns{}
	var got []Event
	collect := func(e Event) { got = append(got, e) }
	seen.emit(path1, collect)
	seen.emit(nil, collect)
	seen.emit(path1, collect)
	seen.emit(path2, collect)
	seen.emit(path2, collect)

	want := []struct {
		node string
		turn records.AITurn
	}{{"understand", billing}, {"understand", ask}, {"assistant", reply}}
	if len(got) != len(want) {
		t.Fatalf("got %d events %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		e := got[i]
		if e.Kind != EventAI || e.Node != w.node || e.AI == nil || !reflect.DeepEqual(*e.AI, w.turn) {
			t.Errorf("event %d = %+v, want the turn %+v at %s", i, e, w.turn, w.node)
			continue
		}
		var fromText records.AITurn
		if err := json.Unmarshal([]byte(e.Text), &fromText); err != nil || !reflect.DeepEqual(fromText, w.turn) {
			t.Errorf("event %d text %q is not the turn as JSON: %v", i, e.Text, err)
		}
	}
}

func TestDescribeAI(t *testing.T) {
	for _, c := range []struct {
		turn records.AITurn
		want string
	}{
		{records.AITurn{Intent: "billing", Confidence: 0.916, Source: "offline", Slots: map[string]any{"account": "4471", "amount": "12.50"}},
			"intent billing (92%, offline) account=4471 amount=12.50"},
		{records.AITurn{Intent: "agent", Confidence: 1, Source: "llm", Model: "gpt-4o-mini"}, "intent agent (100%, llm, gpt-4o-mini)"},
		{records.AITurn{Confidence: 0.31, Source: "offline"}, "no intent (31%, offline)"},
		{records.AITurn{Reply: "Your balance is 12 dollars.", Source: "llm", Model: "gpt-4o"}, `reply "Your balance is 12 dollars." (llm, gpt-4o)`},
		{records.AITurn{Reply: "One moment.", Tool: "to_agent", Source: "llm"}, `reply "One moment.", tool to_agent (llm)`},
		{records.AITurn{Tool: "to_agent", Source: "llm", Slots: map[string]any{"reason": "angry"}}, "tool to_agent (llm) reason=angry"},
		{records.AITurn{Error: "no model is configured"}, "no answer: no model is configured"},
	} {
		if got := DescribeAI(c.turn); got != c.want {
			t.Errorf("DescribeAI(%+v) = %q, want %q", c.turn, got, c.want)
		}
	}
}

// TestUsesAI: only calls whose flows (subflows included) have intent or
// llm nodes are asked for AI turns.
func TestUsesAI(t *testing.T) {
	const menu = "name: m\nentry: a\nnodes:\n  a:\n    type: hangup\n"
	const intent = "name: i\nentry: a\nnodes:\n  a:\n    type: intent\n    prompt: Hi\n    intents:\n      x: {examples: [x], next: b}\n    no_match: b\n  b:\n    type: hangup\n"
	const llm = "name: l\nentry: a\nnodes:\n  a:\n    type: llm\n    system: Be brief.\n"
	src := func(name, s string) activities.FlowSource { return activities.FlowSource{Name: name, Source: s} }
	for _, c := range []struct {
		name string
		req  Request
		want bool
	}{
		{"no AI node", Request{Flow: src("m", menu)}, false},
		{"an intent node", Request{Flow: src("i", intent)}, true},
		{"an llm node in a subflow", Request{Flow: src("m", menu), Subflows: []activities.FlowSource{src("l", llm)}}, true},
		{"unreadable", Request{Flow: src("x", "nodes: [")}, true},
	} {
		if got := usesAI(c.req); got != c.want {
			t.Errorf("%s: usesAI = %v, want %v", c.name, got, c.want)
		}
	}
}
