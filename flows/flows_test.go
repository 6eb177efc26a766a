package flows

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func mustParse(t *testing.T, path string) *Flow {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := Parse(filepath.Base(path), src)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags)
	}
	return f
}

func TestValidFlowAllNodeTypes(t *testing.T) {
	f := mustParse(t, "testdata/valid/all_nodes.yaml")
	seen := map[NodeType]bool{}
	for id, n := range f.Nodes {
		if n.ID != id {
			t.Errorf("node %s has ID %q", id, n.ID)
		}
		seen[n.Type] = true
	}
	for _, info := range NodeTypes() {
		if !seen[info.Type] {
			t.Errorf("valid flow does not use node type %s", info.Type)
		}
	}
	// Settings: given and defaulted.
	s := f.Settings
	if s.Language != "en-GB" || s.Voice != DefaultVoice || s.InputTimeout.D() != 4*time.Second ||
		s.InterDigitTimeout.D() != DefaultInterDigitTimeout || s.MaxSteps != DefaultMaxSteps {
		t.Errorf("settings = %+v", s)
	}
	// Node defaults, only where the type has the field.
	menu := f.Nodes["menu"]
	if *menu.Retries != 3 || !*menu.BargeIn {
		t.Errorf("menu retries/barge_in = %d/%v", *menu.Retries, *menu.BargeIn)
	}
	if g := f.Nodes["account"]; *g.Retries != DefaultRetries {
		t.Errorf("gather retries = %d", *g.Retries)
	}
	if p := f.Nodes["greet"]; *p.BargeIn || p.Retries != nil {
		t.Errorf("play barge_in=%v retries=%v", *p.BargeIn, p.Retries)
	}
	if v := f.Nodes["voicemail"]; !*v.Beep {
		t.Error("voicemail beep should default to true")
	}
	if h := f.Nodes["lookup"]; h.Method != "POST" {
		t.Errorf("method = %q", h.Method)
	}
	if tr := f.Nodes["vip_queue"]; tr.Mode != "bridge" {
		t.Errorf("mode = %q", tr.Mode)
	}
	// Menu options in both forms.
	if o := menu.Options["1"]; o.Next != "sales" || o.Phrases != nil {
		t.Errorf("option 1 = %+v", o)
	}
	if o := menu.Options["2"]; o.Next != "account" || !reflect.DeepEqual(o.Phrases, []string{"support", "help"}) {
		t.Errorf("option 2 = %+v", o)
	}
	// Assignments keep their order.
	set := f.Nodes["count"]
	if len(set.Assign) != 2 || set.Assign[0].Var != "attempts" || set.Assign[1].Var != "label" {
		t.Errorf("assign = %+v", set.Assign)
	}
	// Everything is compiled by Parse.
	if set.Assign[0].Expr.prog.Load() == nil || f.Nodes["route"].When[0].If.prog.Load() == nil {
		t.Error("expressions not compiled by Parse")
	}
	if f.Nodes["greet"].Say.segs == nil {
		t.Error("template not compiled by Parse")
	}
	// Evaluate a few against an Env.
	env := &Env{Call: CallInfo{From: "+15550001", Headers: map[string]string{"X-Campaign": "spring"}}, Vars: map[string]any{"attempts": 1, "tier": "gold", "account": "1234"}}
	say, err := f.Nodes["greet"].Say.Render(env)
	if err != nil || say != "Hello +15550001, thanks for calling." {
		t.Errorf("Render = %q, %v", say, err)
	}
	ok, err := f.Nodes["route"].When[0].If.EvalBool(env)
	if err != nil || !ok {
		t.Errorf("when[0] = %v, %v", ok, err)
	}
	v, err := set.Assign[1].Expr.Eval(env)
	if err != nil || v != "account 1234" {
		t.Errorf("assign label = %v, %v", v, err)
	}
	if f.Variables["attempts"] != 0 {
		t.Errorf("variables attempts = %#v", f.Variables["attempts"])
	}
}

func TestRoundTrip(t *testing.T) {
	f := mustParse(t, "testdata/valid/all_nodes.yaml")
	js1, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	// YAML out and back in gives the same flow.
	y, err := yaml.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	g, diags := Parse("again.yaml", y)
	if diags.HasErrors() {
		t.Fatalf("re-parse of marshalled YAML:\n%s\n%s", diags, y)
	}
	js2, _ := json.Marshal(g)
	if string(js1) != string(js2) {
		t.Errorf("YAML round trip changed the flow:\n%s\n%s", js1, js2)
	}
	for _, want := range []string{`"1": sales`, `say: Hello {{ call.from }}, thanks for calling.`, "duration: 2s"} {
		if !strings.Contains(string(y), want) {
			t.Errorf("marshalled YAML lacks %q:\n%s", want, y)
		}
	}
	// JSON back in.
	var h Flow
	if err := json.Unmarshal(js1, &h); err != nil {
		t.Fatal(err)
	}
	for id, n := range h.Nodes {
		n.ID = id
	}
	js3, _ := json.Marshal(&h)
	if string(js1) != string(js3) {
		t.Errorf("JSON round trip changed the flow:\n%s\n%s", js1, js3)
	}
	if !strings.Contains(string(js1), `"assign":{"attempts":"vars.attempts + 1","label":"\"account \" + vars.account"}`) {
		t.Errorf("assignments JSON not ordered: %s", js1)
	}
}

func TestExprEval(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	env := &Env{
		Call:     CallInfo{ID: "c1", From: "+331234", To: "100", Channel: "sip", StartedAt: now.Add(-time.Minute), Headers: map[string]string{"X-Lang": "fr"}},
		Vars:     map[string]any{"n": 2, "name": "Ada", "list": []any{3, 1, 2}, "m": map[string]any{"b": 2, "a": 1}},
		Input:    "1234",
		Now:      now,
		Response: map[string]any{"status": 200, "body": map[string]any{"id": "x9"}},
		Result:   map[string]any{"score": 5},
	}
	tests := []struct {
		src  string
		want any
	}{
		{`vars.n + 1`, 3},
		{`vars.name + "!"`, "Ada!"},
		{`call.from`, "+331234"},
		{`call.to + call.channel + call.id`, "100sipc1"},
		{`call.headers["X-Lang"]`, "fr"},
		{`input`, "1234"},
		{`len(input) == 4`, true},
		{`now.Hour()`, 10},
		{`now.Sub(call.started_at).Seconds()`, 60.0},
		{`response.status`, 200},
		{`response.body.id`, "x9"},
		{`result.score`, 5},
		{`vars.missing`, nil},
		{`vars.missing ?? "none"`, "none"},
		{`sort(vars.list)`, []any{1, 2, 3}},
		{`upper(vars.name)`, "ADA"},
		{`toJSON(vars.m)`, "{\n  \"a\": 1,\n  \"b\": 2\n}"},
		{`duration("1m").Seconds()`, 60.0},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := NewExpr(tt.src).Eval(env)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestEvalBool(t *testing.T) {
	env := &Env{Vars: map[string]any{"n": 2}}
	for src, want := range map[string]bool{"vars.n > 1": true, "vars.n > 5": false, "vars.unset": false} {
		got, err := NewExpr(src).EvalBool(env)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
	if _, err := NewExpr("vars.n").EvalBool(env); err == nil {
		t.Error("EvalBool of a number should fail")
	}
	if _, err := NewExpr("1 +").Eval(nil); err == nil || !strings.Contains(err.Error(), "compile expression") {
		t.Errorf("lazy compile error = %v", err)
	}
	var nilExpr *Expr
	if _, err := nilExpr.Eval(env); err == nil {
		t.Error("nil expression should fail")
	}
}

func TestDisabledBuiltins(t *testing.T) {
	for _, src := range []string{"now()", "keys(vars)", "values(vars)", "toPairs(vars)", "len(keys(vars))"} {
		if err := NewExpr(src).compile(); err == nil || !strings.Contains(err.Error(), "disabled") {
			t.Errorf("%s: err = %v, want disabled", src, err)
		}
	}
	// The now variable is not the builtin.
	if err := NewExpr("now.Year() > 2000").compile(); err != nil {
		t.Errorf("now variable: %v", err)
	}
	// Unknown names are compile errors: the Env is typed.
	if err := NewExpr("foo + 1").compile(); err == nil {
		t.Error("unknown name should not compile")
	}
}

func TestTemplateRender(t *testing.T) {
	env := &Env{Call: CallInfo{From: "+1555"}, Vars: map[string]any{"n": 3, "f": 2.5, "ok": true, "l": []any{1, "a"}, "t": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}
	tests := []struct{ raw, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"Hi {{ call.from }}", "Hi +1555"},
		{"{{vars.n}} items, {{ vars.n * 2 }} total", "3 items, 6 total"},
		{"{{ vars.f }} {{ vars.n / 1 }} {{ vars.ok }}", "2.5 3 true"},
		{"{{ vars.missing }}|", "|"},
		{"{{ vars.l }}", `[1,"a"]`},
		{"{{ vars.t }}", "2026-01-02T03:04:05Z"},
		{"multi\nline {{ vars.n }}", "multi\nline 3"},
	}
	for _, tt := range tests {
		got, err := NewTemplate(tt.raw).Render(env)
		if err != nil || got != tt.want {
			t.Errorf("Render(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
		}
	}
	for _, raw := range []string{"{{ vars.n ", "{{ }}", "{{ now() }}"} {
		if _, err := NewTemplate(raw).Render(env); err == nil {
			t.Errorf("Render(%q) should fail", raw)
		}
	}
	tp := NewTemplate("x {{ 1 }}")
	if tp.IsZero() || tp.String() != "x {{ 1 }}" || !(Template{}).IsZero() {
		t.Error("IsZero/String")
	}
}

// parseErrors parses src and returns its rendered diagnostics.
func parseErrors(src string) string {
	_, diags := Parse("f.yaml", []byte(src))
	return diags.String()
}

const flowHead = "name: t\nentry: a\nnodes:\n"

func TestValidationTable(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings of the rendered diagnostics; empty: none
	}{
		{"ok", flowHead + "  a:\n    type: hangup\n", nil},
		{"empty file", "", []string{"1:1: error: empty flow file"}},
		{"not a mapping", "- a\n", []string{"must be a mapping"}},
		{"two documents", flowHead + "  a:\n    type: hangup\n---\nname: x\n", []string{"one YAML document"}},
		{"node not mapping", flowHead + "  a: hangup\n", []string{"4:3: error: node a must be a mapping"}},
		{"no type", flowHead + "  a:\n    say: hi\n", []string{"node a has no type"}},
		{"loop with wait is fine", flowHead + "  a:\n    type: wait\n    duration: 1s\n    next: b\n  b:\n    type: set\n    assign: {x: '1'}\n    next: a\n", nil},
		{"self loop", flowHead + "  a:\n    type: set\n    assign: {x: '1'}\n    next: a\n", []string{"infinite loop: a -> a"}},
		{"inner loop beside a menu", flowHead + "  a:\n    type: menu\n    prompt: p\n    options: {'1': b}\n  b:\n    type: branch\n    when: [{if: 'true', next: c}]\n    default: a\n  c:\n    type: set\n    assign: {x: '1'}\n    next: b\n", []string{"infinite loop: b -> c -> b"}},
		{"on_error loop", flowHead + "  a:\n    type: http\n    url: u\n    on_error: a\n", []string{"infinite loop: a -> a"}},
		{"block scalar expression", flowHead + "  a:\n    type: set\n    assign:\n      x: |\n        1 +\n          * 2\n    next: b\n  b:\n    type: hangup\n", []string{"f.yaml:9:11: error: invalid expression"}},
		{"quoted expression column", flowHead + "  a:\n    type: set\n    assign:\n      x: \"1 + + * 2\"\n  ", []string{"f.yaml:7:17: error: invalid expression"}},
		{"response outside http", flowHead + "  a:\n    type: set\n    assign:\n      x: response.status\n", []string{"7:10: warning: response is only set"}},
		{"bool condition", flowHead + "  a:\n    type: branch\n    when:\n      - if: '\"yes\"'\n        next: a\n", []string{"expected bool"}},
		{"when without next", flowHead + "  a:\n    type: branch\n    when:\n      - if: 'true'\n    default: b\n  b:\n    type: hangup\n", []string{"when clause 0 of node a has no next node"}},
		{"negative retries", flowHead + "  a:\n    type: menu\n    prompt: p\n    retries: -1\n    options: {'1': a}\n", []string{"retries must not be negative"}},
		{"lowercase method", flowHead + "  a:\n    type: http\n    url: u\n    method: get\n", []string{"invalid http method \"get\""}},
		{"unknown field in option", flowHead + "  a:\n    type: menu\n    prompt: p\n    options:\n      '1': {next: a, phrase: [x]}\n", []string{"unknown field phrase in menu option 1"}},
		{"duplicate key in node", flowHead + "  a:\n    type: hangup\n    say: a\n    say: b\n", []string{"7:5: error: duplicate key \"say\": also defined at line 6, column 5"}},
		{"bad type key", flowHead + "  a:\n    type: [x]\n", []string{"unknown node type"}},
		{"alias node", flowHead + "  a: &x\n    type: hangup\n  b: *x\n", []string{"unreachable"}},
		{"merge key", flowHead + "  base: &base\n    type: hangup\n    reason: r\n  a:\n    <<: *base\n    say: bye\n", []string{"node base is unreachable"}},
		{"unknown hours zone", flowHead + "  a:\n    type: hours\n    timezone: Nowhere/City\n    schedule: {mon: ['09:00-17:00']}\n    open: a\n    closed: a\n", []string{"unknown time zone"}},
		{"24:00 ok", flowHead + "  a:\n    type: hours\n    timezone: UTC\n    schedule: {sun: ['00:00-24:00']}\n    open: b\n    closed: b\n  b:\n    type: hangup\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseErrors(tt.src)
			if len(tt.want) == 0 && got != "" {
				t.Fatalf("unexpected diagnostics:\n%s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestDiagnostics(t *testing.T) {
	src := flowHead + "  a:\n    type: play\n    say: hi\n    next: b\n  b:\n    type: hangup\n  c:\n    type: hangup\n"
	_, diags := Parse("w.yaml", []byte(src))
	if len(diags) != 1 || diags[0].Severity != SeverityWarning || diags.HasErrors() || diags.Err() != nil {
		t.Fatalf("want one warning, got %v", diags)
	}
	d := diags[0]
	if d.Path != "$.nodes.c" || d.Line != 10 || d.Column != 3 {
		t.Errorf("diagnostic = %+v", d)
	}
	want := "w.yaml:10:3: warning: node c is unreachable from entry or on_hangup\n   10 |   c:\n      |   ^"
	if d.String() != want {
		t.Errorf("String() =\n%s\nwant\n%s", d, want)
	}

	_, diags = Parse("e.yaml", []byte("name: t\nentry: x\nnodes:\n  a:\n    type: play\n"))
	err := diags.Err()
	if err == nil || !IsInvalidFlow(err) {
		t.Fatalf("Err() = %v", err)
	}
	for _, want := range []string{"e.yaml:2:8: entry refers to unknown node \"x\"", "e.yaml:4:3: play node a needs say or audio", "2 error(s)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestDecodeOnly(t *testing.T) {
	src, _ := os.ReadFile("testdata/valid/all_nodes.yaml")
	f, diags := Decode("all_nodes.yaml", src)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if f.Settings.MaxSteps != 0 || f.Nodes["menu"].Options["1"].Next != "sales" || f.Nodes["menu"].ID != "menu" {
		t.Error("Decode should fill IDs and apply no defaults")
	}
	if _, diags := Decode("x.yaml", []byte("a: [")); !diags.HasErrors() {
		t.Error("syntax error not reported")
	}
}

// TestTableMatchesModel keeps the field table and the Node struct in sync.
func TestTableMatchesModel(t *testing.T) {
	for name := range nodeFieldIndex {
		if fieldByName[name] == nil {
			t.Errorf("Node field %s is missing from nodeFields", name)
		}
	}
	for _, f := range nodeFields {
		if _, ok := nodeFieldIndex[f.Name]; !ok {
			t.Errorf("nodeFields has %s, which Node lacks", f.Name)
		}
	}
	for _, ts := range nodeTypes {
		for _, list := range [][]string{ts.Required, ts.Optional} {
			for _, f := range list {
				if fieldByName[f] == nil {
					t.Errorf("type %s lists unknown field %s", ts.Type, f)
				}
			}
		}
	}
	var schema map[string]any
	if err := json.Unmarshal(Schema(), &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	defs := schema["$defs"].(map[string]any)
	play := defs["playNode"].(map[string]any)
	if play["additionalProperties"] != false {
		t.Error("node schemas must not allow additional properties")
	}
	props := play["properties"].(map[string]any)
	if _, ok := props["options"]; ok {
		t.Error("play node schema must not have options")
	}
}

func TestDurationAndMenuOptionJSON(t *testing.T) {
	var n Node
	if err := json.Unmarshal([]byte(`{"type":"menu","timeout":"1m30s","options":{"1":"a","2":{"next":"b","phrases":["x"]}}}`), &n); err != nil {
		t.Fatal(err)
	}
	if n.Timeout.D() != 90*time.Second || n.Options["1"].Next != "a" || n.Options["2"].Next != "b" {
		t.Errorf("node = %+v", n)
	}
	if err := json.Unmarshal([]byte(`{"timeout":"-1s"}`), &n); err == nil {
		t.Error("negative duration accepted")
	}
	if got := Duration(0).Or(time.Second); got != time.Second {
		t.Error("Or")
	}
}

func TestParseRange(t *testing.T) {
	from, to, err := ParseRange("09:00-17:30")
	if err != nil || from != 540 || to != 1050 {
		t.Errorf("ParseRange = %d %d %v", from, to, err)
	}
	for _, bad := range []string{"9-5", "10:00-09:00", "24:30-25:00", "0900-1000"} {
		if _, _, err := ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) accepted", bad)
		}
	}
}

// An intent node asks again once by default, not twice like a menu.
func TestIntentRetriesDefault(t *testing.T) {
	f, diags := Parse("f.yaml", []byte(`name: f
entry: a
nodes:
  a:
    type: intent
    prompt: Hi
    intents: {x: {examples: [x], next: b}}
    no_match: b
  b:
    type: hangup
`))
	if err := diags.Err(); err != nil {
		t.Fatal(err)
	}
	if r := f.Nodes["a"].Retries; r == nil || *r != 1 {
		t.Errorf("retries = %v, want 1", r)
	}
	if c := f.Nodes["a"].MinConfidence; c == nil || *c != DefaultMinConfidence {
		t.Errorf("min_confidence = %v", c)
	}
}
