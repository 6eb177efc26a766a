package llm

import (
	"encoding/json"
	"fmt"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/activities"
)

// DryRun returns the JSON body the client of cfg would POST to
// /chat/completions for in: an activities.IntentInput, ChatInput or
// SummarizeInput (or a pointer to one). It needs no key and no endpoint:
// `voxflow flows simulate --dry-run-llm` shows it.
func DryRun(cfg Config, in any) ([]byte, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg}
	var req openai.ChatCompletionRequest
	switch in := in.(type) {
	case activities.IntentInput:
		req = c.IntentRequest(in)
	case *activities.IntentInput:
		req = c.IntentRequest(*in)
	case activities.ChatInput:
		req = c.ChatRequest(in)
	case *activities.ChatInput:
		req = c.ChatRequest(*in)
	case activities.SummarizeInput:
		req = c.SummarizeRequest(in)
	case *activities.SummarizeInput:
		req = c.SummarizeRequest(*in)
	default:
		return nil, fmt.Errorf("llm dry run: want an IntentInput, ChatInput or SummarizeInput, got %T", in)
	}
	// go-openai marshals the request with encoding/json: the same bytes.
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("llm dry run: marshal request: %w", err)
	}
	return body, nil
}
