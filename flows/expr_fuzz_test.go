package flows

import (
	"errors"
	"testing"
	"time"
)

// exprDeadline is how long one evaluation may take before the fuzz target
// calls it a hang: expressions run inside the call's workflow task.
const exprDeadline = 10 * time.Second

func fuzzEnv() *Env {
	return &Env{
		Call: CallInfo{ID: "call-1", From: "+15550001111", To: "+15551230000", Channel: "sip",
			StartedAt: time.Unix(1_800_000_000, 0).UTC(), Headers: map[string]string{"X-Account": "42", "b": "2"}},
		Vars: map[string]any{"name": "Ann", "n": 3, "f": 2.5, "ok": true, "list": []any{3, 1, 2},
			"m": map[string]any{"a": 1, "b": "x", "c": []any{1}}},
		Input:    "12#",
		Now:      time.Unix(1_800_000_100, 0).UTC(),
		Response: map[string]any{"status": 200, "body": map[string]any{"k": "v", "z": 1, "y": 2}},
	}
}

// evalOnce compiles and evaluates source as a flow expression does (with
// the non-deterministic builtins disabled) and renders the result; it
// fails the test if that takes longer than exprDeadline.
func evalOnce(t *testing.T, source string, asBool bool) (string, error) {
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		e := &Expr{Source: source, asBool: asBool}
		if err := e.compile(); err != nil {
			var ee *exprError
			if !errors.As(err, &ee) || ee.Offset < 0 || ee.Offset > len([]rune(source)) {
				t.Errorf("compile error %v has no offset within %q", err, source)
			}
			done <- result{err: err}
			return
		}
		v, err := e.Eval(fuzzEnv())
		done <- result{text: FormatValue(v), err: err}
	}()
	select {
	case r := <-done:
		return r.text, r.err
	case <-time.After(exprDeadline):
		t.Fatalf("expression %q did not finish in %v", source, exprDeadline)
		return "", nil
	}
}

// FuzzExpr compiles and runs arbitrary flow expressions (`when`, `set`,
// branch conditions): no panic, no hang, compile errors point inside the
// source, and a second evaluation gives the same result (replay needs it).
func FuzzExpr(f *testing.F) {
	for _, s := range []string{
		`vars.n < 3`, `call.from startsWith "+1" && input == "12#"`, `vars.list | sortBy(#)`,
		`len(vars.m) > 1 ? upper(vars.name) : "x"`, `response.body.k ?? "none"`, `now.Year() > 2000`,
		`now()`, `keys(vars.m)`, `map(1..5, # * 2)`, `{"a": 1, "b": [1, 2]}`, `date("2026-01-02").Weekday()`,
		`vars.f ** 2 / 0`, `1 / 0`, `int("x")`, `toJSON(vars)`, `fromJSON("{\"a\":1}")`, `call.headers["X-Account"]`,
		`let x = 1; x + 1`, `filter(vars.list, # > 1) | count()`, `"a" matches "("`, `duration("1h").Minutes()`,
	} {
		f.Add(s, false)
	}
	f.Add(`vars.ok`, true)
	f.Fuzz(func(t *testing.T, source string, asBool bool) {
		a, errA := evalOnce(t, source, asBool)
		b, errB := evalOnce(t, source, asBool)
		if (errA == nil) != (errB == nil) || a != b {
			t.Fatalf("%q evaluated twice: %q (%v) then %q (%v)", source, a, errA, b, errB)
		}
		if errA == nil && asBool && a != "true" && a != "false" && a != "" {
			t.Fatalf("condition %q gave %q", source, a)
		}
	})
}

// FuzzTemplate renders arbitrary prompt/message templates: same rules.
func FuzzTemplate(f *testing.F) {
	for _, s := range []string{"Hello {{ vars.name }}", "{{", "}} {{ 1 }} {{ }}", "plain", "{{ vars.m }}{{ now }}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tpl := NewTemplate(raw)
		if err := tpl.compile(); err != nil {
			var te *templateError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len([]rune(raw)) {
				t.Fatalf("template error %v has no offset within %q", err, raw)
			}
			return
		}
		a, errA := tpl.Render(fuzzEnv())
		b, errB := tpl.Render(fuzzEnv())
		if (errA == nil) != (errB == nil) || a != b {
			t.Fatalf("%q rendered twice: %q then %q", raw, a, b)
		}
	})
}
