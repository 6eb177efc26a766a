package llm

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

func chatInput() activities.ChatInput {
	temp := 0.0
	return activities.ChatInput{
		CallID: "c-2", NodeID: "assistant",
		Messages: []activities.ChatMessage{
			{Role: "system", Content: "You are the billing assistant of Acme Energy."},
			{Role: "user", Content: "Why is my bill so high?"},
			{Role: "assistant", ToolCalls: []activities.ToolCall{{ID: "call_1", Name: "lookup_invoice", Arguments: `{"account":"[redacted]"}`}}},
			{Role: "tool", ToolCallID: "call_1", Content: `{"amount":"49.00","reason":"installation fee"}`},
			{Role: "user", Content: "I want to dispute it with a person."},
		},
		Tools: []activities.ToolDef{
			{Name: "lookup_invoice", Description: "Find the caller's last invoice", Parameters: map[string]any{
				"type": "object", "properties": map[string]any{"account": map[string]any{"type": "string"}}, "required": []any{"account"},
			}},
			{Name: "transfer_to_agent", Description: "Hand the call to a person"},
		},
		MaxTokens:   200,
		Temperature: &temp,
	}
}

func TestChatReturnsToolCall(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Recorded("tool_call"))
	c, _ := newTestClient(t, srv, nil)

	got, err := c.Chat(context.Background(), chatInput())
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	want := activities.ChatResult{
		ToolCalls: []activities.ToolCall{{ID: "call_Vd2fNq8sKx1mTzR4bYhC7wLe", Name: "transfer_to_agent",
			Arguments: `{"department":"billing","reason":"caller disputes a charge"}`}},
		FinishReason: "tool_calls", Model: "test-model", PromptTokens: 286, CompletionTokens: 27,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result\n got %+v\nwant %+v", got, want)
	}

	req := srv.Last()
	if string(req.ToolChoice) != `"auto"` || len(req.Tools) != 2 || req.MaxTokens != 200 {
		t.Errorf("tool_choice %s, %d tools, max_tokens %d; want auto, 2, 200", req.ToolChoice, len(req.Tools), req.MaxTokens)
	}
	var params map[string]any
	if err := json.Unmarshal(req.Tools[1].Function.Parameters, &params); err != nil || params["type"] != "object" {
		t.Errorf("a tool without parameters must still send an object schema, got %s", req.Tools[1].Function.Parameters)
	}
	if req.Temperature == nil || *req.Temperature > 1e-30 {
		t.Errorf("temperature 0 was not sent as (about) zero: %v", req.Temperature)
	}
	m := req.Messages
	if len(m) != 5 || m[2].ToolCalls[0].Function.Name != "lookup_invoice" || m[2].ToolCalls[0].Type != "function" ||
		m[3].Role != "tool" || m[3].ToolCallID != "call_1" {
		t.Errorf("messages not mapped: %+v", m)
	}
}

func TestChatText(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Text("Your bill includes a one-off installation fee."))
	c, _ := newTestClient(t, srv, nil)
	in := chatInput()
	in.Tools, in.Temperature = nil, nil
	got, err := c.Chat(context.Background(), in)
	if err != nil {
		t.Fatalf("Chat: %v", err)
	}
	if got.Content != "Your bill includes a one-off installation fee." || got.FinishReason != "stop" || got.CompletionTokens == 0 {
		t.Errorf("got %+v", got)
	}
	if req := srv.Last(); req.ToolChoice != nil || req.Tools != nil || req.Temperature != nil {
		t.Errorf("no tools and no temperature were asked for: %s %+v %v", req.ToolChoice, req.Tools, req.Temperature)
	}
}

func TestChatBadOutput(t *testing.T) {
	cases := []struct {
		name  string
		reply llmtest.Reply
		msg   string
	}{
		{"unknown tool", llmtest.ToolCalls("delete_account", `{}`), `tool "delete_account", which was not offered`},
		{"arguments not JSON", llmtest.ToolCalls("transfer_to_agent", `{"department":`), "arguments that are not JSON"},
		{"empty", llmtest.Text(""), "no text and no tool call"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := llmtest.NewServer(t)
			srv.Enqueue(tc.reply)
			c, _ := newTestClient(t, srv, nil)
			_, err := c.Chat(context.Background(), chatInput())
			wantErrType(t, err, activities.ErrTypeAIBadOutput)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q lacks %q", err, tc.msg)
			}
		})
	}
}

func TestChatToolWithoutArguments(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.ToolCalls("transfer_to_agent", ""))
	c, _ := newTestClient(t, srv, nil)
	got, err := c.Chat(context.Background(), chatInput())
	if err != nil || len(got.ToolCalls) != 1 || got.ToolCalls[0].Arguments != "{}" {
		t.Fatalf("got %+v, %v; want one call with arguments {}", got, err)
	}
}

func TestReasoningModelsGetMaxCompletionTokens(t *testing.T) {
	c := &Client{cfg: Defaults()}
	in := chatInput()
	in.Model, in.Tools = "o3-mini", nil
	req := c.ChatRequest(in)
	if req.MaxTokens != 0 || req.MaxCompletionTokens != 200 || req.Temperature != 0 {
		t.Errorf("max_tokens %d, max_completion_tokens %d, temperature %v; want 0, 200, 0", req.MaxTokens, req.MaxCompletionTokens, req.Temperature)
	}
}
