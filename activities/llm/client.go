package llm

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	openai "github.com/sashabaranov/go-openai"
)

// Client talks to one OpenAI-compatible endpoint. It is safe for
// concurrent use; its circuit breaker is shared by all its calls.
type Client struct {
	cfg    Config
	key    string
	api    *openai.Client
	log    *slog.Logger
	brk    *breaker
	counts counters

	// now is the breaker's clock, replaced in tests; jitter returns a
	// fraction in [0, 1); parseSlot nil is nlu.ParseSlot.
	now       func() time.Time
	jitter    func() float64
	parseSlot slotParser
}

// New returns a client of the endpoint cfg describes. key may be empty
// (local servers); httpClient nil uses a default one; logger nil logs
// nothing. cfg's defaults are applied; it must be Enabled and valid.
func New(cfg Config, key string, httpClient *http.Client, logger *slog.Logger) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !cfg.Enabled() {
		return nil, fmt.Errorf("%w: llm.base_url: empty, no endpoint to call", ErrConfig)
	}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{cfg: cfg, key: key, log: logger, now: time.Now, jitter: rand.Float64}
	c.brk = newBreaker(cfg.Breaker, func() time.Time { return c.now() })
	oc := openaiConfig(cfg, key)
	oc.HTTPClient = recordingClient(httpClient)
	c.api = openai.NewClientWithConfig(oc)
	return c, nil
}

// openaiConfig is go-openai's configuration of cfg's endpoint.
func openaiConfig(cfg Config, key string) openai.ClientConfig {
	if cfg.APIType == APIAzure {
		oc := openai.DefaultAzureConfig(key, cfg.BaseURL)
		oc.APIVersion = cfg.APIVersion
		deployments := maps.Clone(cfg.Deployments)
		oc.AzureModelMapperFunc = func(model string) string {
			if d, ok := deployments[model]; ok {
				return d
			}
			return model
		}
		return oc
	}
	oc := openai.DefaultConfig(key)
	oc.BaseURL = cfg.BaseURL
	oc.OrgID = cfg.Organization
	return oc
}

// Config returns the client's configuration, defaults applied.
func (c *Client) Config() Config { return c.cfg }

// State is the circuit breaker's state: StateClosed, StateOpen or
// StateHalfOpen.
func (c *Client) State() string { return c.brk.state() }

// Stats are a client's counters since it was made, for metrics.
type Stats struct {
	// Requests is HTTP requests sent (attempts, retries included).
	Requests uint64
	// Retries is attempts after the first of a call.
	Retries uint64
	// Failures is requests that failed on the endpoint's side (5xx, 429,
	// network, timeout).
	Failures uint64
	// Rejected is requests the endpoint refused (4xx but 429).
	Rejected uint64
	// BadOutput is answers that could not be used.
	BadOutput uint64
	// ShortCircuited is calls failed at once by the open breaker.
	ShortCircuited uint64
	// BreakerOpened is how many times the breaker opened.
	BreakerOpened uint64
	// PromptTokens and CompletionTokens are the usage the endpoint
	// reported.
	PromptTokens, CompletionTokens uint64
	// State is the breaker's state now.
	State string
}

type counters struct {
	requests, retries, failures, rejected, badOutput, shortCircuited atomic.Uint64
	promptTokens, completionTokens                                   atomic.Uint64
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:         c.counts.requests.Load(),
		Retries:          c.counts.retries.Load(),
		Failures:         c.counts.failures.Load(),
		Rejected:         c.counts.rejected.Load(),
		BadOutput:        c.counts.badOutput.Load(),
		ShortCircuited:   c.counts.shortCircuited.Load(),
		BreakerOpened:    c.brk.opened.Load(),
		PromptTokens:     c.counts.promptTokens.Load(),
		CompletionTokens: c.counts.completionTokens.Load(),
		State:            c.brk.state(),
	}
}

// scrub removes the API key from text that may reach logs or errors (an
// endpoint may echo it back in an error message).
func (c *Client) scrub(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}
