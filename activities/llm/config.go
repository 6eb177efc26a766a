// Package llm runs voxflow's AI activities (ai.Intent, ai.Chat,
// ai.Summarize) on any OpenAI-compatible endpoint: OpenAI, Azure OpenAI,
// Ollama, vLLM, llama.cpp. Answers come as structured output checked
// against the node's declaration; every request has a timeout, retries
// with backoff honour Retry-After within the node's budget, and a circuit
// breaker fails calls at once while the endpoint is down. Without an
// endpoint, or while it is down, intents and summaries come from the
// offline matcher instead.
package llm

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults, applied to the zero values of a Config.
const (
	DefaultModel           = "gpt-4o-mini"
	DefaultTimeout         = 10 * time.Second
	DefaultMaxRetries      = 3
	DefaultBreakerFailures = 5
	DefaultBreakerCoolDown = 30 * time.Second
	DefaultAzureAPIVersion = "2024-10-21"
	// DefaultKeyEnv is the environment variable LoadAPIKey reads.
	DefaultKeyEnv = "VOXFLOW_LLM_API_KEY"
)

// API types.
const (
	APIOpenAI = "openai"
	APIAzure  = "azure"
)

// JSON modes: how a structured answer is asked for.
const (
	// JSONSchema sends response_format json_schema, strict (OpenAI, vLLM,
	// llama.cpp, recent Ollama).
	JSONSchema = "json_schema"
	// JSONTool forces a call of one tool whose parameters are the schema,
	// for servers with tool calling but no structured output.
	JSONTool = "tool"
	// JSONObject sends response_format json_object and puts the schema in
	// the system message, for servers that only promise valid JSON.
	JSONObject = "json_object"
)

// ErrConfig is wrapped by every problem Validate reports.
var ErrConfig = errors.New("invalid llm configuration")

// Config is where the model endpoint is and how to talk to it. The API key
// is not part of it: LoadAPIKey reads it from the environment or a file.
type Config struct {
	// BaseURL is the API root: https://api.openai.com/v1,
	// http://localhost:11434/v1 (Ollama), a vLLM or llama.cpp server, or an
	// Azure resource (https://NAME.openai.azure.com). Empty: no endpoint,
	// everything runs offline.
	BaseURL string
	// APIType is APIOpenAI (default) or APIAzure.
	APIType string
	// APIVersion is Azure's api-version (default DefaultAzureAPIVersion).
	APIVersion string
	// Deployments maps a model name to its Azure deployment; a model not
	// listed is its own deployment name.
	Deployments map[string]string
	// Model is the default model; IntentModel and SummaryModel override it
	// for intents and summaries. A node's own model overrides all three.
	Model        string
	IntentModel  string
	SummaryModel string
	Organization string
	// Timeout bounds one HTTP request (default DefaultTimeout).
	Timeout time.Duration
	// MaxRetries is how many times a failed request is retried (0: the
	// default DefaultMaxRetries; negative: never).
	MaxRetries int
	Breaker    BreakerConfig
	// JSONMode is JSONSchema (default), JSONTool or JSONObject.
	JSONMode string
}

// BreakerConfig sets the circuit breaker of the endpoint.
type BreakerConfig struct {
	// Failures is how many failed requests in a row open it (default
	// DefaultBreakerFailures).
	Failures int
	// CoolDown is how long it stays open before one trial request
	// (default DefaultBreakerCoolDown).
	CoolDown time.Duration
}

// Defaults returns a Config with every default filled in and no endpoint.
func Defaults() Config { return Config{}.WithDefaults() }

// WithDefaults returns c with its zero values replaced by the defaults.
func (c Config) WithDefaults() Config {
	if c.APIType == "" {
		c.APIType = APIOpenAI
	}
	if c.APIType == APIAzure && c.APIVersion == "" {
		c.APIVersion = DefaultAzureAPIVersion
	}
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.Breaker.Failures == 0 {
		c.Breaker.Failures = DefaultBreakerFailures
	}
	if c.Breaker.CoolDown == 0 {
		c.Breaker.CoolDown = DefaultBreakerCoolDown
	}
	if c.JSONMode == "" {
		c.JSONMode = JSONSchema
	}
	return c
}

// Enabled reports whether an endpoint is configured.
func (c Config) Enabled() bool { return c.BaseURL != "" }

// Validate checks c after defaults: one line per problem, each naming the
// setting (llm.base_url, ...) and wrapping ErrConfig.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: llm.%s: %s", ErrConfig, key, fmt.Sprintf(format, args...)))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("base_url", "want an http:// or https:// URL such as https://api.openai.com/v1, got %q", c.BaseURL)
		}
	}
	switch c.APIType {
	case APIOpenAI:
		if len(c.Deployments) > 0 {
			bad("deployments", "deployments are for api_type %q only", APIAzure)
		}
	case APIAzure:
	default:
		bad("api_type", "want %q or %q, got %q", APIOpenAI, APIAzure, c.APIType)
	}
	if c.Timeout < 0 {
		bad("timeout", "want a positive duration, got %s", c.Timeout)
	}
	if c.Breaker.Failures < 0 {
		bad("breaker.failures", "want a positive count, got %d", c.Breaker.Failures)
	}
	if c.Breaker.CoolDown < 0 {
		bad("breaker.cool_down", "want a positive duration, got %s", c.Breaker.CoolDown)
	}
	switch c.JSONMode {
	case JSONSchema, JSONTool, JSONObject:
	default:
		bad("json_mode", "want %q, %q or %q, got %q", JSONSchema, JSONTool, JSONObject, c.JSONMode)
	}
	return errors.Join(errs...)
}

// retries is the number of retries after the first attempt.
func (c Config) retries() int { return max(c.MaxRetries, 0) }

// LoadAPIKey reads the endpoint's API key: from file when it is given (its
// whole content, trailing newline trimmed; the file must not be readable
// by group or others), else from the environment variable envName
// (DefaultKeyEnv when empty). No key at all is "" and no error: local
// servers need none.
func LoadAPIKey(envName, file string) (string, error) {
	if file == "" {
		if envName == "" {
			envName = DefaultKeyEnv
		}
		return strings.TrimRight(os.Getenv(envName), "\r\n"), nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", fmt.Errorf("read llm api key file: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return "", fmt.Errorf("llm api key file %s is readable by group or others (mode %04o): chmod 600 it", file, perm)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read llm api key file: %w", err)
	}
	key := strings.TrimRight(string(b), "\r\n")
	if key == "" {
		return "", fmt.Errorf("llm api key file %s is empty", file)
	}
	return key, nil
}
