// Package openaiapi is what the media worker's OpenAI-compatible speech
// providers (media/asr transcription, media/tts voices) share: building a
// go-openai client for an endpoint (OpenAI, Azure OpenAI, a local server)
// and keeping its key out of errors.
package openaiapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// API types.
const (
	APIOpenAI = "openai"
	APIAzure  = "azure"
	// DefaultAzureAPIVersion is sent to Azure when none is configured.
	DefaultAzureAPIVersion = "2024-10-21"
)

// Endpoint is where an OpenAI-compatible API is and how to reach it.
type Endpoint struct {
	// BaseURL is the API root ("https://api.openai.com/v1", a local
	// server's "http://localhost:8000/v1", or for Azure the resource's
	// "https://NAME.openai.azure.com"); empty means OpenAI's.
	BaseURL string
	// APIKey may be empty for local servers.
	APIKey string
	// APIType is APIOpenAI (default) or APIAzure; APIVersion Azure's.
	APIType, APIVersion string
	// HTTPClient carries the requests (nil: go-openai's default).
	HTTPClient *http.Client
}

// Client returns a go-openai client for the endpoint; what names the
// caller in errors ("asr", "tts").
func (e Endpoint) Client(what string) (*openai.Client, error) {
	var oc openai.ClientConfig
	switch strings.ToLower(e.APIType) {
	case "", APIOpenAI:
		oc = openai.DefaultConfig(e.APIKey)
		if e.BaseURL != "" {
			oc.BaseURL = strings.TrimRight(e.BaseURL, "/")
		}
	case APIAzure:
		if e.BaseURL == "" {
			return nil, fmt.Errorf("%s: openai: an Azure endpoint needs its base URL", what)
		}
		oc = openai.DefaultAzureConfig(e.APIKey, e.BaseURL)
		oc.APIVersion = e.APIVersion
		if oc.APIVersion == "" {
			oc.APIVersion = DefaultAzureAPIVersion
		}
	default:
		return nil, fmt.Errorf("%s: openai: unknown api type %q (want %q or %q)", what, e.APIType, APIOpenAI, APIAzure)
	}
	if e.HTTPClient != nil {
		oc.HTTPClient = e.HTTPClient
	}
	return openai.NewClientWithConfig(oc), nil
}

// Scrub hides a secret that an endpoint echoed in its error message (some
// answer "incorrect API key provided: sk-..."). The scrubbed error does
// not unwrap: the original, holding the secret, stays here.
func Scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), secret, "[redacted]"))
}
