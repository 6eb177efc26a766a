package llmtest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Structured answers req with v as JSON in the form req asked for: the
// arguments of the forced tool's call, else the content.
func Structured(req Request, v any) Reply {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("llmtest.Structured: %v", err))
	}
	if name := req.ForcedTool(); name != "" {
		return ToolCalls(name, string(b))
	}
	return Text(string(b))
}

// IntentAnswer is an answer to an intent request.
func IntentAnswer(intent string, confidence float64, slots map[string]any, sentiment float64) map[string]any {
	if slots == nil {
		slots = map[string]any{}
	}
	return map[string]any{"intent": intent, "confidence": confidence, "slots": slots, "sentiment": sentiment}
}

// Keywords is a Responder for e2e tests: an intent request is answered
// with the intent of the first keyword (pairs: keyword, intent) found in
// the caller's last words, case-insensitively, or "none"; a summary
// request with a fixed summary; any other request with a short text.
func Keywords(pairs ...string) Responder {
	return func(req Request) Reply {
		switch {
		case slices.Contains(req.Enum("intent"), "none"):
			said := strings.ToLower(req.LastUser())
			for i := 0; i+1 < len(pairs); i += 2 {
				if strings.Contains(said, strings.ToLower(pairs[i])) {
					return Structured(req, IntentAnswer(pairs[i+1], 0.9, nil, 0))
				}
			}
			return Structured(req, IntentAnswer("none", 0.2, nil, 0))
		case req.SchemaName() == "call_insights":
			disposition := "completed"
			if d := req.Enum("disposition"); len(d) > 0 {
				disposition = d[0]
			}
			return Structured(req, map[string]any{
				"summary": "The caller talked with the flow.", "disposition": disposition,
				"sentiment": 0, "key_facts": []any{},
			})
		default:
			return Text("I can help with that.")
		}
	}
}
