package llm

import (
	"context"
	"io"
	"log/slog"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
)

// errNoEndpoint is ai.Chat's error without an endpoint.
const errNoEndpoint = "no LLM endpoint configured (set --llm-url, ai.llm_url)"

// Activities are the AI activities. Without a Client everything is
// offline: intents and summaries from Offline, ai.Chat fails with
// AIUnavailable. With one, an unavailable endpoint (outage, open breaker)
// falls back to Offline for intents and summaries.
type Activities struct {
	// Client is the model endpoint; nil: offline.
	Client  *Client
	Offline Offline
	// Logger nil logs nothing.
	Logger *slog.Logger
}

// Register adds ai.Intent, ai.Chat and ai.Summarize to r.
func (a *Activities) Register(r activities.Registrar) {
	r.RegisterActivityWithOptions(a.Intent, activity.RegisterOptions{Name: activities.ActIntent})
	r.RegisterActivityWithOptions(a.Chat, activity.RegisterOptions{Name: activities.ActChat})
	r.RegisterActivityWithOptions(a.Summarize, activity.RegisterOptions{Name: activities.ActSummarize})
}

// Intent classifies an utterance with the model, or offline.
func (a *Activities) Intent(ctx context.Context, in activities.IntentInput) (activities.IntentResult, error) {
	if a.Client != nil {
		res, err := a.Client.Intent(ctx, in)
		if err == nil || !isUnavailable(err) || a.Offline == nil {
			return res, err
		}
		a.logger().Warn("llm unavailable, classifying offline", "call", in.CallID, "node", in.NodeID, "error", err.Error())
	}
	if a.Offline == nil {
		return activities.IntentResult{}, activities.NewAIUnavailable("no LLM endpoint and no offline matcher", nil)
	}
	res, err := a.Offline.Classify(in)
	if err != nil {
		return activities.IntentResult{}, activities.NewBadInput(err)
	}
	res.Source = activities.SourceOffline
	res.Model = ""
	return res, nil
}

// Chat generates a reply with the model; there is no offline chat.
func (a *Activities) Chat(ctx context.Context, in activities.ChatInput) (activities.ChatResult, error) {
	if a.Client == nil {
		return activities.ChatResult{}, activities.NewAIUnavailable(errNoEndpoint, nil)
	}
	return a.Client.Chat(ctx, in)
}

// Summarize writes a call's insights with the model, or offline.
func (a *Activities) Summarize(ctx context.Context, in activities.SummarizeInput) (activities.CallInsights, error) {
	if a.Client != nil {
		res, err := a.Client.Summarize(ctx, in)
		if err == nil || !isUnavailable(err) || a.Offline == nil {
			return res, err
		}
		a.logger().Warn("llm unavailable, summarising offline", "call", in.CallID, "error", err.Error())
	}
	if a.Offline == nil {
		return activities.CallInsights{}, activities.NewAIUnavailable("no LLM endpoint and no offline summariser", nil)
	}
	res := a.Offline.Summarize(in)
	res.Source = activities.SourceOffline
	res.Model = ""
	return res, nil
}

func (a *Activities) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a.Logger
}

// isUnavailable reports an AIUnavailable error. activities has IsAIError
// for all three AI types but no IsAIUnavailable yet.
func isUnavailable(err error) bool { return activities.IsAIUnavailable(err) }
