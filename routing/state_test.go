package routing

import "testing"

func TestParseState(t *testing.T) {
	for _, st := range States() {
		got, err := ParseState(" " + string(st) + " ")
		if err != nil || got != st {
			t.Errorf("ParseState(%q) = %q, %v", st, got, err)
		}
	}
	if got, err := ParseState("ON_CALL"); err != nil || got != OnCall {
		t.Errorf("ParseState(ON_CALL) = %q, %v", got, err)
	}
}

func TestRequestable(t *testing.T) {
	want := map[State]bool{Offline: true, Available: true, Break: true, Reserved: false, OnCall: false, WrapUp: false, "bogus": false}
	for st, ok := range want {
		if Requestable(st) != ok {
			t.Errorf("Requestable(%q) = %v, want %v", st, !ok, ok)
		}
	}
}
