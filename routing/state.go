package routing

import (
	"fmt"
	"strings"
)

// State is an agent's state.
type State string

// The agent states. A person asks for offline, available or break; the
// router sets reserved (a call is ringing the agent), on_call and wrap_up.
const (
	Offline   State = "offline"
	Available State = "available"
	Reserved  State = "reserved"
	OnCall    State = "on_call"
	WrapUp    State = "wrap_up"
	Break     State = "break"
)

var allStates = [...]State{Offline, Available, Reserved, OnCall, WrapUp, Break}

// States lists every state, in the order error messages name them.
func States() []State { return append([]State(nil), allStates[:]...) }

// ParseState reads a state name, case-insensitive, spaces around ignored.
func ParseState(s string) (State, error) {
	want := State(strings.ToLower(strings.TrimSpace(s)))
	for _, st := range allStates {
		if st == want {
			return st, nil
		}
	}
	names := make([]string, len(allStates))
	for i, st := range allStates {
		names[i] = string(st)
	}
	return "", fmt.Errorf("state %q: must be one of %s", s, strings.Join(names, ", "))
}

// Requestable reports whether a person (API/CLI) may ask for state to:
// only offline, available and break. Reserved, on_call and wrap_up follow
// calls, so only the router sets them.
func Requestable(to State) bool {
	return to == Offline || to == Available || to == Break
}
