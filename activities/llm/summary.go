package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/activities"
)

const summarySchemaName = "call_insights"

// Summarize asks the model for a finished call's insights: a summary of
// at most three sentences, a disposition (one of in.Dispositions when
// given), the caller's sentiment and key facts.
func (c *Client) Summarize(ctx context.Context, in activities.SummarizeInput) (activities.CallInsights, error) {
	req := c.SummarizeRequest(in)
	res, err := c.complete(ctx, callInfo{op: "summarize", callID: in.CallID}, req, 0)
	if err != nil {
		return activities.CallInsights{}, err
	}
	text, err := structuredAnswer(res, c.cfg.JSONMode, summarySchemaName)
	if err == nil {
		var out activities.CallInsights
		if out, err = readInsights(text, in.Dispositions); err == nil {
			out.Model = req.Model
			return out, nil
		}
	}
	c.counts.badOutput.Add(1)
	return activities.CallInsights{}, err
}

// SummarizeRequest is the chat completion request Summarize sends for in.
func (c *Client) SummarizeRequest(in activities.SummarizeInput) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{
		Model: pick(in.Model, c.cfg.SummaryModel, c.cfg.Model),
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: summaryPrompt(in)},
			{Role: openai.ChatMessageRoleUser, Content: transcriptText(in.Transcript)},
		},
		Temperature: temperature(0),
	}
	spec := answerSpec{name: summarySchemaName, description: "The call's summary, disposition, sentiment and key facts.", schema: summarySchema(in.Dispositions)}
	if err := askStructured(&req, c.cfg.JSONMode, spec); err != nil {
		panic(err) // the schema is maps, strings and numbers: it always marshals
	}
	fitModel(&req)
	return req
}

// summarySchema is the answer's schema. Key facts are name/value pairs:
// strict structured output allows no free-form object.
func summarySchema(dispositions []string) map[string]any {
	disposition := map[string]any{"type": "string", "description": "How the call ended, in a few words."}
	if len(dispositions) > 0 {
		disposition = map[string]any{"type": "string", "enum": dispositions, "description": "How the call ended."}
	}
	fact := object("", property{"name", map[string]any{"type": "string"}}, property{"value", map[string]any{"type": "string"}})
	return object("",
		property{"summary", map[string]any{"type": "string", "description": "What the call was about and how it ended, in at most 3 sentences."}},
		property{"disposition", disposition},
		property{"sentiment", map[string]any{"type": "number", "minimum": -1, "maximum": 1, "description": "The caller's mood: -1 angry, 0 neutral, 1 happy."}},
		property{"key_facts", map[string]any{"type": "array", "items": fact, "description": "Facts the next agent needs, e.g. order_number."}},
	)
}

func summaryPrompt(in activities.SummarizeInput) string {
	var b strings.Builder
	b.WriteString("You write the record of a finished phone call to a contact centre. The user message is its transcript " +
		"(sensitive values are already masked; keep them masked).\n")
	fmt.Fprintf(&b, "Flow: %s\nOutcome: %s\n", in.Flow, in.Outcome)
	if len(in.Path) > 0 {
		fmt.Fprintf(&b, "Steps of the flow it went through: %s\n", strings.Join(in.Path, " > "))
	}
	if len(in.Vars) > 0 {
		vars, err := json.Marshal(in.Vars)
		if err == nil {
			fmt.Fprintf(&b, "Call variables: %s\n", vars)
		}
	}
	b.WriteString("\nGive a summary of at most 3 sentences, ")
	if len(in.Dispositions) > 0 {
		fmt.Fprintf(&b, "the disposition (one of: %s), ", strings.Join(in.Dispositions, ", "))
	} else {
		b.WriteString("a short disposition, ")
	}
	b.WriteString("the caller's sentiment from -1 (angry) to 1 (happy), and key facts as name/value pairs.\n")
	return b.String()
}

// transcriptText is the conversation as lines "Caller: ..." / "Flow: ...".
func transcriptText(turns []activities.Turn) string {
	var b strings.Builder
	for _, t := range turns {
		who := "Caller"
		if t.From == activities.TurnFlow {
			who = "Flow"
		}
		fmt.Fprintf(&b, "%s: %s\n", who, t.Text)
	}
	if b.Len() == 0 {
		return "(no one spoke)"
	}
	return b.String()
}

// insightsAnswer is the model's answer. KeyFacts is an array of pairs as
// the schema asks, or an object from servers in json_object mode.
type insightsAnswer struct {
	Summary     string          `json:"summary"`
	Disposition string          `json:"disposition"`
	Sentiment   float64         `json:"sentiment"`
	KeyFacts    json.RawMessage `json:"key_facts"`
}

func readInsights(text []byte, dispositions []string) (activities.CallInsights, error) {
	var a insightsAnswer
	if err := json.Unmarshal(text, &a); err != nil {
		return activities.CallInsights{}, activities.NewAIBadOutput("model answer does not match the insights schema: "+err.Error(), nil)
	}
	if strings.TrimSpace(a.Summary) == "" {
		return activities.CallInsights{}, activities.NewAIBadOutput("model answer has no summary", nil)
	}
	out := activities.CallInsights{
		Summary:     strings.TrimSpace(a.Summary),
		Disposition: strings.TrimSpace(a.Disposition),
		Sentiment:   clamp(a.Sentiment, -1, 1),
		Source:      activities.SourceLLM,
	}
	out.SentimentLabel = activities.SentimentLabel(out.Sentiment)
	if len(dispositions) > 0 {
		i := slices.IndexFunc(dispositions, func(d string) bool { return strings.EqualFold(d, out.Disposition) })
		if i < 0 {
			return activities.CallInsights{}, activities.NewAIBadOutput(
				fmt.Sprintf("model chose disposition %q, which is not among %s", clip(out.Disposition, 80), strings.Join(dispositions, ", ")), nil)
		}
		out.Disposition = dispositions[i]
	}
	facts, err := keyFacts(a.KeyFacts)
	if err != nil {
		return activities.CallInsights{}, activities.NewAIBadOutput("model answer's key_facts: "+err.Error(), nil)
	}
	out.KeyFacts = facts
	return out, nil
}

// keyFacts reads [{"name":..,"value":..}] or {"name": value}.
func keyFacts(raw json.RawMessage) (map[string]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	facts := map[string]string{}
	var pairs []struct{ Name, Value string }
	if err := json.Unmarshal(raw, &pairs); err == nil {
		for _, p := range pairs {
			if p.Name != "" {
				facts[p.Name] = p.Value
			}
		}
	} else {
		var obj map[string]any
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, fmt.Errorf("want name/value pairs or an object, got %s", clip(string(raw), 80))
		}
		for k, v := range obj {
			if s, ok := v.(string); ok {
				facts[k] = s
			} else if v != nil {
				b, _ := json.Marshal(v)
				facts[k] = string(b)
			}
		}
	}
	if len(facts) == 0 {
		return nil, nil
	}
	return facts, nil
}
