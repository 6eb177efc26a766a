package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/activities"
)

// Chat asks the model for the next message of a conversation, offering
// in's tools (tool_choice auto). A call of a tool that was not offered is
// an AIBadOutput error. in.Timeout, when set, bounds the whole call,
// retries included.
func (c *Client) Chat(ctx context.Context, in activities.ChatInput) (activities.ChatResult, error) {
	if len(in.Messages) == 0 {
		return activities.ChatResult{}, activities.NewBadInput(fmt.Errorf("node %s sends no messages", in.NodeID))
	}
	req := c.ChatRequest(in)
	res, err := c.complete(ctx, callInfo{op: "chat", callID: in.CallID, nodeID: in.NodeID}, req, in.Timeout)
	if err != nil {
		return activities.ChatResult{}, err
	}
	out, err := readChat(res, in.Tools)
	if err != nil {
		c.counts.badOutput.Add(1)
		return activities.ChatResult{}, err
	}
	out.Model = req.Model
	return out, nil
}

// ChatRequest is the chat completion request Chat sends for in.
func (c *Client) ChatRequest(in activities.ChatInput) openai.ChatCompletionRequest {
	req := openai.ChatCompletionRequest{
		Model:     pick(in.Model, c.cfg.Model),
		Messages:  make([]openai.ChatCompletionMessage, 0, len(in.Messages)),
		MaxTokens: in.MaxTokens,
	}
	for _, m := range in.Messages {
		msg := openai.ChatCompletionMessage{Role: m.Role, Content: m.Content, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			msg.ToolCalls = append(msg.ToolCalls, openai.ToolCall{
				ID: tc.ID, Type: openai.ToolTypeFunction,
				Function: openai.FunctionCall{Name: tc.Name, Arguments: tc.Arguments},
			})
		}
		req.Messages = append(req.Messages, msg)
	}
	for _, t := range in.Tools {
		var params any = t.Parameters
		if len(t.Parameters) == 0 {
			params = map[string]any{"type": "object", "properties": map[string]any{}}
		}
		req.Tools = append(req.Tools, openai.Tool{Type: openai.ToolTypeFunction, Function: &openai.FunctionDefinition{
			Name: t.Name, Description: t.Description, Parameters: params,
		}})
	}
	if len(req.Tools) > 0 {
		req.ToolChoice = "auto"
	}
	if in.Temperature != nil {
		req.Temperature = temperature(*in.Temperature)
	}
	fitModel(&req)
	return req
}

// readChat is the model's message, its tool calls checked against the
// tools offered.
func readChat(res openai.ChatCompletionResponse, tools []activities.ToolDef) (activities.ChatResult, error) {
	if len(res.Choices) == 0 {
		return activities.ChatResult{}, activities.NewAIBadOutput("model answered with no choices", nil)
	}
	ch := res.Choices[0]
	if ch.Message.Refusal != "" && ch.Message.Content == "" {
		return activities.ChatResult{}, activities.NewAIBadOutput("model refused: "+ch.Message.Refusal, nil)
	}
	out := activities.ChatResult{
		Content:          ch.Message.Content,
		FinishReason:     string(ch.FinishReason),
		PromptTokens:     res.Usage.PromptTokens,
		CompletionTokens: res.Usage.CompletionTokens,
	}
	offered := make(map[string]bool, len(tools))
	for _, t := range tools {
		offered[t.Name] = true
	}
	for _, tc := range ch.Message.ToolCalls {
		if !offered[tc.Function.Name] {
			return activities.ChatResult{}, activities.NewAIBadOutput(
				fmt.Sprintf("model called tool %q, which was not offered", clip(tc.Function.Name, 80)), nil)
		}
		args := strings.TrimSpace(tc.Function.Arguments)
		if args == "" {
			args = "{}"
		}
		if !json.Valid([]byte(args)) {
			return activities.ChatResult{}, activities.NewAIBadOutput(
				fmt.Sprintf("model called tool %q with arguments that are not JSON: %q", tc.Function.Name, clip(args, 200)), nil)
		}
		out.ToolCalls = append(out.ToolCalls, activities.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args})
	}
	if strings.TrimSpace(out.Content) == "" && len(out.ToolCalls) == 0 {
		return activities.ChatResult{}, activities.NewAIBadOutput(
			fmt.Sprintf("model answered with no text and no tool call (finish_reason %q)", out.FinishReason), nil)
	}
	return out, nil
}
