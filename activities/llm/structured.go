package llm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/activities"
)

// property is one property of a JSON Schema object. Objects keep their
// properties in order, because models write the answer in schema order:
// the intent before its confidence, the summary before its disposition.
type property struct {
	name   string
	schema any
}

// properties marshals as a JSON object in its own order.
type properties []property

func (ps properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		name, err := json.Marshal(p.name)
		if err != nil {
			return nil, err
		}
		val, err := json.Marshal(p.schema)
		if err != nil {
			return nil, fmt.Errorf("schema of %q: %w", p.name, err)
		}
		b.Write(name)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// object is a strict JSON Schema object: every property required (null
// where optional) and no others, as OpenAI's strict mode demands.
func object(description string, props ...property) map[string]any {
	required := make([]string, len(props))
	for i, p := range props {
		required[i] = p.name
	}
	o := map[string]any{
		"type":                 "object",
		"properties":           properties(props),
		"required":             required,
		"additionalProperties": false,
	}
	if description != "" {
		o["description"] = description
	}
	return o
}

// answerSpec is the structured answer a request asks for.
type answerSpec struct {
	name        string // a schema or tool name: [a-zA-Z0-9_-]
	description string
	schema      map[string]any
}

// askStructured makes req ask for an answer matching spec, the way mode
// says. The system message must be req.Messages[0].
func askStructured(req *openai.ChatCompletionRequest, mode string, spec answerSpec) error {
	raw, err := json.Marshal(spec.schema)
	if err != nil {
		return fmt.Errorf("marshal %s schema: %w", spec.name, err)
	}
	switch mode {
	case JSONTool:
		req.Tools = []openai.Tool{{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: spec.name, Description: spec.description, Strict: true, Parameters: json.RawMessage(raw),
		}}}
		req.ToolChoice = openai.ToolChoice{Type: openai.ToolTypeFunction, Function: openai.ToolFunction{Name: spec.name}}
	case JSONObject:
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
		req.Messages[0].Content += "\n\nAnswer with one JSON object, and nothing else, that matches this JSON Schema:\n" + string(raw)
	default:
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: spec.name, Description: spec.description, Schema: json.RawMessage(raw), Strict: true,
			},
		}
	}
	return nil
}

// structuredAnswer is the JSON text of a structured answer: the content,
// or in tool mode the arguments of the forced tool call.
func structuredAnswer(res openai.ChatCompletionResponse, mode, name string) ([]byte, error) {
	if len(res.Choices) == 0 {
		return nil, activities.NewAIBadOutput("model answered with no choices", nil)
	}
	ch := res.Choices[0]
	if ch.Message.Refusal != "" {
		return nil, activities.NewAIBadOutput("model refused: "+ch.Message.Refusal, nil)
	}
	text := ch.Message.Content
	if mode == JSONTool {
		for _, tc := range ch.Message.ToolCalls {
			if tc.Function.Name == name {
				text = tc.Function.Arguments
				break
			}
		}
	}
	text = stripFence(text)
	if ch.FinishReason == openai.FinishReasonLength {
		return nil, activities.NewAIBadOutput("model answer was cut off (finish_reason length)", nil)
	}
	if !json.Valid([]byte(text)) {
		return nil, activities.NewAIBadOutput(fmt.Sprintf("model answer is not valid JSON: %q", clip(text, 200)), nil)
	}
	return []byte(text), nil
}

// stripFence removes a ```json fence that some local models put around
// JSON even when asked for JSON only.
func stripFence(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") || len(s) < 6 {
		return s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "```"), "```")
	s = strings.TrimPrefix(s, "json")
	return strings.TrimSpace(s)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// clamp bounds v to [lo, hi]; NaN is lo.
func clamp(v, lo, hi float64) float64 {
	if math.IsNaN(v) {
		return lo
	}
	return math.Min(math.Max(v, lo), hi)
}

// temperature is the float32 go-openai sends. It omits a zero temperature
// (omitempty), which would leave the server's default (often 1); the
// smallest positive float32 is greedy decoding in effect.
func temperature(t float64) float32 {
	if t <= 0 {
		return math.SmallestNonzeroFloat32
	}
	return float32(t)
}
