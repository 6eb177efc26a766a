package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"

	"go.temporal.io/sdk/activity"

	"log/slog"
	"net/http"

	"github.com/voxflow/voxflow/activities"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/activities/llm"
	"github.com/voxflow/voxflow/platform/config"
)

// OfflineAI serves the AI activities with no model: intents and call
// summaries from the offline matcher; llm nodes take their on_error exit.
func OfflineAI(logger *slog.Logger) *llm.Activities {
	return &llm.Activities{Offline: llm.NewNLU(), Logger: orDefault(logger)}
}

// NewAI serves the AI activities on the configured endpoint, falling back
// to the offline matcher when it is down; with no endpoint, offline. The
// key comes from $VOXFLOW_LLM_API_KEY or ai.llm_key_file only.
func NewAI(c config.AI, logger *slog.Logger) (*llm.Activities, error) {
	logger = orDefault(logger)
	if c.LLMURL == "" {
		logger.Info("ai: no model endpoint (--llm-url): intents and summaries run offline; llm nodes take on_error")
		return OfflineAI(logger), nil
	}
	key, err := LLMKey(c)
	if err != nil {
		return nil, err
	}
	client, err := llm.New(LLMConfig(c), key, &http.Client{}, logger)
	if err != nil {
		return nil, fmt.Errorf("ai: %w", err)
	}
	cfg := client.Config()
	logger.Info("ai: models on an OpenAI-compatible endpoint", "url", cfg.BaseURL, "api", cfg.APIType,
		"model", cfg.Model, "key", key != "")
	return &llm.Activities{Client: client, Offline: llm.NewNLU(), Logger: logger}, nil
}

// LLMKey is the model endpoint's key: $VOXFLOW_LLM_API_KEY, or the
// content of ai.llm_key_file; "" when neither is set (local servers).
func LLMKey(c config.AI) (string, error) {
	key, err := llm.LoadAPIKey(llm.DefaultKeyEnv, c.KeyFile)
	if err != nil {
		return "", fmt.Errorf("ai: %w", err)
	}
	return key, nil
}

// LLMConfig is the llm client's configuration from the process's.
func LLMConfig(c config.AI) llm.Config {
	cfg := llm.Defaults()
	cfg.BaseURL = c.LLMURL
	if c.API != "" {
		cfg.APIType = c.API
	}
	if c.APIVersion != "" {
		cfg.APIVersion = c.APIVersion
	}
	if c.Model != "" {
		cfg.Model = c.Model
	}
	if c.Timeout > 0 {
		cfg.Timeout = c.Timeout
	}
	if c.JSONMode != "" {
		cfg.JSONMode = c.JSONMode
	}
	return cfg.WithDefaults()
}

// AICollectors are the metrics of ai: none when it runs offline.
func AICollectors(ai *llm.Activities) []prometheus.Collector {
	if ai == nil || ai.Client == nil {
		return nil
	}
	return []prometheus.Collector{AICollector{Client: ai.Client}}
}

// AICollector exports the model client's counters and breaker state.
type AICollector struct{ Client *llm.Client }

var (
	aiRequests = prometheus.NewDesc("voxflow_llm_requests_total", "HTTP requests sent to the model endpoint, retries included.", nil, nil)
	aiFailures = prometheus.NewDesc("voxflow_llm_failures_total", "Model requests that failed by outcome (failed: 5xx, 429, network or timeout; rejected: other 4xx; bad_output: unusable answers; short_circuited: refused by the open breaker).", []string{"outcome"}, nil)
	aiTokens   = prometheus.NewDesc("voxflow_llm_tokens_total", "Tokens the endpoint reported, by kind.", []string{"kind"}, nil)
	aiBreaker  = prometheus.NewDesc("voxflow_llm_breaker_open", "1 while the model endpoint's circuit breaker is open or half-open.", nil, nil)
)

// Describe implements prometheus.Collector.
func (a AICollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{aiRequests, aiFailures, aiTokens, aiBreaker} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (a AICollector) Collect(ch chan<- prometheus.Metric) {
	s := a.Client.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(aiRequests, s.Requests)
	counter(aiFailures, s.Failures, "failed")
	counter(aiFailures, s.Rejected, "rejected")
	counter(aiFailures, s.BadOutput, "bad_output")
	counter(aiFailures, s.ShortCircuited, "short_circuited")
	counter(aiTokens, s.PromptTokens, "prompt")
	counter(aiTokens, s.CompletionTokens, "completion")
	open := 0.0
	if s.State != llm.StateClosed {
		open = 1
	}
	ch <- prometheus.MustNewConstMetric(aiBreaker, prometheus.GaugeValue, open)
}

// AIActivities registers the AI activities on the shared queue's worker.
type AIActivities interface {
	Register(r activities.Registrar)
}

// DryRunAI prints, to w, the exact request each AI activity would send to
// the endpoint of cfg, and sends none: intents and summaries are then
// answered offline, llm nodes take on_error (there is no reply).
func DryRunAI(cfg llm.Config, w io.Writer, logger *slog.Logger) AIActivities {
	return &dryRunAI{cfg: cfg.WithDefaults(), w: w, offline: OfflineAI(logger)}
}

type dryRunAI struct {
	cfg     llm.Config
	w       io.Writer
	mu      sync.Mutex
	offline *llm.Activities
}

func (d *dryRunAI) Register(r activities.Registrar) {
	r.RegisterActivityWithOptions(d.intent, activity.RegisterOptions{Name: activities.ActIntent})
	r.RegisterActivityWithOptions(d.chat, activity.RegisterOptions{Name: activities.ActChat})
	r.RegisterActivityWithOptions(d.summarize, activity.RegisterOptions{Name: activities.ActSummarize})
}

func (d *dryRunAI) print(node string, in any) error {
	body, err := llm.DryRun(d.cfg, in)
	if err != nil {
		return activities.NewBadInput(fmt.Errorf("dry run: %w", err))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		pretty.Reset()
		pretty.Write(body)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	base := strings.TrimSuffix(d.cfg.BaseURL, "/")
	if base == "" {
		base = "<--llm-url>"
	}
	fmt.Fprintf(d.w, "[%s] dry run: would POST %s/chat/completions\n%s\n", node, base, pretty.String())
	return nil
}

func (d *dryRunAI) intent(ctx context.Context, in activities.IntentInput) (activities.IntentResult, error) {
	if err := d.print(in.NodeID, in); err != nil {
		return activities.IntentResult{}, err
	}
	return d.offline.Intent(ctx, in)
}

func (d *dryRunAI) chat(ctx context.Context, in activities.ChatInput) (activities.ChatResult, error) {
	if err := d.print(in.NodeID, in); err != nil {
		return activities.ChatResult{}, err
	}
	return activities.ChatResult{}, activities.NewAIUnavailable("dry run: no request sent, so no reply", nil)
}

func (d *dryRunAI) summarize(ctx context.Context, in activities.SummarizeInput) (activities.CallInsights, error) {
	if err := d.print("summary", in); err != nil {
		return activities.CallInsights{}, err
	}
	return d.offline.Summarize(ctx, in)
}
