package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/flows/engine"
)

// ScreenPop is what an agent's desktop shows of a call it is offered: the
// flow and where the caller is in it, the way they came, and what the flow
// learned (variables: the CRM record, the intent, the caller's choices).
type ScreenPop struct {
	Flow    string         `json:"flow"`
	Version int            `json:"version"`
	Node    string         `json:"node"`
	Path    []PopStep      `json:"path"`
	Vars    map[string]any `json:"vars"`
}

// PopStep is one node the caller went through.
type PopStep struct {
	Node  string `json:"node"`
	Type  string `json:"type,omitempty"`
	Exit  string `json:"exit,omitempty"`
	Input string `json:"input,omitempty"`
}

// secretWords mark variables an agent must not see (the path already
// masks PIN-like inputs).
var secretWords = []string{"pin", "password", "passcode", "secret", "cvv", "card_number", "token"}

// ScreenPopper returns what the desktop is sent for a call: its state
// query, trimmed to what an agent needs and with secrets masked.
func ScreenPopper(c client.Client) func(ctx context.Context, callID string) (json.RawMessage, error) {
	return func(ctx context.Context, callID string) (json.RawMessage, error) {
		v, err := c.QueryWorkflow(ctx, activities.WorkflowID(callID), "", activities.QueryState)
		if err != nil {
			return nil, fmt.Errorf("screen-pop of call %s: %w", callID, err)
		}
		var st engine.CallState
		if err := v.Get(&st); err != nil {
			return nil, fmt.Errorf("screen-pop of call %s: decode state: %w", callID, err)
		}
		return json.Marshal(screenPop(st))
	}
}

func screenPop(st engine.CallState) ScreenPop {
	pop := ScreenPop{Flow: st.Flow, Version: st.FlowVersion, Node: st.Node, Vars: map[string]any{}}
	for _, p := range st.Path {
		pop.Path = append(pop.Path, PopStep{Node: p.Node, Type: p.Type, Exit: p.Outcome, Input: p.Input})
	}
	for k, v := range st.Vars {
		pop.Vars[k] = maskSecrets(k, v)
	}
	return pop
}

// maskSecrets hides a secret-looking variable, and secret-looking fields
// of a record (a CRM answer) one level down.
func maskSecrets(name string, v any) any {
	lower := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return "•••"
		}
	}
	if m, ok := v.(map[string]any); ok {
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[k] = maskSecrets(k, x)
		}
		return out
	}
	return v
}
