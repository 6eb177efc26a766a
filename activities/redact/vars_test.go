package redact

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"testing"
)

func callVars() map[string]any {
	return map[string]any{
		"card": "4111111111111111",
		"pin":  float64(4471),
		"note": "call me back, my card is 4111 1111 1111 1111 and pin four four seven one",
		"customer": map[string]any{
			"name": "Ann Lee",
			"ssn":  "123-45-6789",
			"tags": []any{"vip", "pin 4471", 3, true, nil},
		},
		"labels":  map[string]string{"last": "said 4471"},
		"lines":   []string{"ann lee called"},
		"count":   float64(3),
		"ok":      true,
		"nothing": nil,
		"empty":   []any(nil),
	}
}

func TestVars(t *testing.T) {
	in := callVars()
	got := Vars(in, []string{"card", "pin", "customer.name", "customer.ssn", "missing", "count.x"})
	want := map[string]any{
		"card": MarkSecret,
		"pin":  MarkSecret,
		"note": "call me back, my card is [card] and pin [redacted]",
		"customer": map[string]any{
			"name": MarkSecret,
			"ssn":  MarkSecret,
			"tags": []any{"vip", "pin [redacted]", 3, true, nil},
		},
		"labels":  map[string]string{"last": "said [redacted]"},
		"lines":   []string{"[redacted] called"},
		"count":   float64(3),
		"ok":      true,
		"nothing": nil,
		"empty":   []any(nil),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Vars =\n%#v\nwant\n%#v", got, want)
	}
	if !reflect.DeepEqual(in, callVars()) {
		t.Errorf("Vars modified its input: %#v", in)
	}
}

func TestVarsWithoutSensitiveStillMasksCards(t *testing.T) {
	got := Vars(map[string]any{"said": "cvv 123", "n": 4111111111111111.0}, nil)
	want := map[string]any{"said": "cvv [code]", "n": 4111111111111111.0}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Vars = %#v, want %#v", got, want)
	}
	if Vars(nil, []string{"x"}) != nil {
		t.Error("Vars(nil) is not nil")
	}
}

func TestSecrets(t *testing.T) {
	vars := map[string]any{
		"pin":    float64(4471),
		"amount": 12.5,
		"big":    1e21,
		"small":  int64(-7),
		"num":    json.Number("0042"),
		"nan":    math.NaN(),
		"flag":   true,
		"none":   nil,
		"blank":  "  ",
		"name":   "Ann Lee",
		"dup":    "Ann Lee",
		"customer": map[string]any{
			"ssn":   "123-45-6789",
			"cards": []any{"4111111111111111", float64(4471)},
		},
		"a.b": "dotted name",
	}
	got := Secrets(vars, []string{"pin", "amount", "big", "small", "num", "nan", "flag", "none", "blank", "name", "dup", "customer", "a.b", "missing"})
	want := []string{"-7", "0042", "12.5", "1e+21", "4111111111111111", "4471", "123-45-6789", "Ann Lee", "dotted name"}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Secrets =\n%q\nwant\n%q", got, want)
	}
	if got := Secrets(vars, []string{"customer.ssn"}); !slices.Equal(got, []string{"123-45-6789"}) {
		t.Errorf("Secrets(customer.ssn) = %q", got)
	}
	if got := Secrets(vars, nil); len(got) != 0 {
		t.Errorf("Secrets(no names) = %q", got)
	}
}
