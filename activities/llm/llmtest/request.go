package llmtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
)

// Request is one request the server received: the raw HTTP parts and the
// chat completion fields tests check.
type Request struct {
	// N numbers requests from 1.
	N      int
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte

	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Tools          []Tool          `json:"tools"`
	ToolChoice     json.RawMessage `json:"tool_choice"`
	ResponseFormat *ResponseFormat `json:"response_format"`
	MaxTokens      int             `json:"max_tokens"`
	Temperature    *float64        `json:"temperature"`
}

// Message is a chat message, as sent or as answered.
type Message struct {
	Role       string     `json:"role"`
	Content    string     `json:"content"`
	Refusal    string     `json:"refusal,omitempty"`
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a call of a function tool.
type ToolCall struct {
	ID       string   `json:"id"`
	Type     string   `json:"type"`
	Function Function `json:"function"`
}

// Function is a tool call's function and its JSON arguments.
type Function struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// Tool is a tool offered to the model.
type Tool struct {
	Type     string `json:"type"`
	Function struct {
		Name        string          `json:"name"`
		Description string          `json:"description"`
		Strict      bool            `json:"strict"`
		Parameters  json.RawMessage `json:"parameters"`
	} `json:"function"`
}

// ResponseFormat is the structured output asked for.
type ResponseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Strict bool            `json:"strict"`
		Schema json.RawMessage `json:"schema"`
	} `json:"json_schema"`
}

func decodeRequest(r *http.Request, body []byte) (Request, error) {
	req := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body}
	if err := json.Unmarshal(body, &req); err != nil {
		return Request{}, err
	}
	if req.Model == "" || len(req.Messages) == 0 {
		return Request{}, fmt.Errorf("want a model and messages")
	}
	return req, nil
}

// Authorization is the Authorization header.
func (r Request) Authorization() string { return r.Header.Get("Authorization") }

// LastUser is the content of the last user message.
func (r Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Content
		}
	}
	return ""
}

// System is the content of the first message when it is a system message.
func (r Request) System() string {
	if len(r.Messages) > 0 && r.Messages[0].Role == "system" {
		return r.Messages[0].Content
	}
	return ""
}

// ForcedTool is the tool tool_choice forces, "" when none is forced.
func (r Request) ForcedTool() string {
	var choice struct {
		Function struct{ Name string } `json:"function"`
	}
	if json.Unmarshal(r.ToolChoice, &choice) != nil {
		return ""
	}
	return choice.Function.Name
}

// SchemaName is the name of the structured answer asked for: the
// response_format json_schema's name, or the forced tool's.
func (r Request) SchemaName() string {
	if r.ResponseFormat != nil && r.ResponseFormat.JSONSchema != nil {
		return r.ResponseFormat.JSONSchema.Name
	}
	return r.ForcedTool()
}

// Schema is the JSON Schema of the structured answer asked for (from
// response_format or the forced tool), nil when none.
func (r Request) Schema() map[string]any {
	var raw json.RawMessage
	if r.ResponseFormat != nil && r.ResponseFormat.JSONSchema != nil {
		raw = r.ResponseFormat.JSONSchema.Schema
	} else if name := r.ForcedTool(); name != "" {
		for _, t := range r.Tools {
			if t.Function.Name == name {
				raw = t.Function.Parameters
			}
		}
	}
	var schema map[string]any
	if json.Unmarshal(raw, &schema) != nil {
		return nil
	}
	return schema
}

// Enum is the enum of property name in the answer's schema.
func (r Request) Enum(name string) []string {
	props, _ := r.Schema()["properties"].(map[string]any)
	prop, _ := props[name].(map[string]any)
	vals, _ := prop["enum"].([]any)
	var out []string
	for _, v := range vals {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
