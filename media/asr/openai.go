package asr

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/openaiapi"
	"github.com/voxflow/voxflow/media/wav"
)

// OpenAI endpoint kinds and defaults (the same names the llm activities'
// configuration uses).
const (
	APIOpenAI = openaiapi.APIOpenAI
	APIAzure  = openaiapi.APIAzure
	// DefaultOpenAIModel is the transcription model asked for when the
	// configuration names none.
	DefaultOpenAIModel = openai.Whisper1
	// DefaultAzureAPIVersion is sent to Azure when none is configured.
	DefaultAzureAPIVersion = openaiapi.DefaultAzureAPIVersion
	// DefaultOpenAITimeout bounds one transcription request.
	DefaultOpenAITimeout = 10 * time.Second
	// openAIRate is the sample rate of the WAV sent: Whisper works at
	// 16 kHz and resamples anything else itself.
	openAIRate = 16000
	// maxPromptChars bounds the prompt built from hints (Whisper reads
	// only its last 224 tokens).
	maxPromptChars = 800
)

// OpenAIConfig describes an OpenAI-compatible transcription endpoint.
type OpenAIConfig struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1", a local
	// server's "http://localhost:8000/v1", or for Azure the resource's
	// "https://NAME.openai.azure.com". Empty means OpenAI's.
	BaseURL string
	// APIKey is sent as a bearer token (Azure: api-key); may be empty
	// for local servers. It never appears in errors or logs.
	APIKey string
	// Model is the transcription model (default "whisper-1"); for Azure,
	// the deployment name.
	Model string
	// Timeout bounds one request (default DefaultOpenAITimeout).
	Timeout time.Duration
	// APIType is APIOpenAI (default) or APIAzure; APIVersion is Azure's
	// api-version (default DefaultAzureAPIVersion).
	APIType, APIVersion string
	// HTTPClient carries the requests (default http.DefaultClient's
	// transport).
	HTTPClient *http.Client
}

// OpenAI transcribes through an OpenAI-compatible audio/transcriptions
// endpoint (OpenAI, Azure OpenAI, or a local Whisper server): the utterance
// goes as a 16 kHz WAV, the hint phrases as the prompt (Whisper leans
// towards the vocabulary of its prompt) and the language's primary subtag
// as the language. The endpoint gives no confidence, so it is 1.
type OpenAI struct {
	client  *openai.Client
	model   string
	timeout time.Duration
	key     string
}

// NewOpenAI returns a transcriber for the endpoint cfg describes.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	client, err := openaiapi.Endpoint{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, APIType: cfg.APIType,
		APIVersion: cfg.APIVersion, HTTPClient: cfg.HTTPClient}.Client("asr")
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultOpenAITimeout
	}
	return &OpenAI{client: client, model: cmpOr(cfg.Model, DefaultOpenAIModel), timeout: timeout, key: cfg.APIKey}, nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Transcribe implements Transcriber.
func (o *OpenAI) Transcribe(ctx context.Context, pcm []int16, hints Hints, language string) (Transcript, error) {
	if !hasSpeech(pcm) {
		return Transcript{}, nil
	}
	var body bytes.Buffer
	if err := wav.Write(&body, openAIRate, wav.Resample(pcm, Rate, openAIRate)); err != nil {
		return Transcript{}, fmt.Errorf("asr: openai: encode utterance: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	resp, err := o.client.CreateTranscription(ctx, openai.AudioRequest{
		Model:    o.model,
		FilePath: "utterance.wav",
		Reader:   &body,
		Prompt:   hintPrompt(hints),
		Language: primaryLanguage(language),
		Format:   openai.AudioResponseFormatJSON,
	})
	if err != nil {
		return Transcript{}, fmt.Errorf("asr: openai transcription (model %s): %w", o.model, openaiapi.Scrub(err, o.key))
	}
	text := strings.TrimSpace(resp.Text)
	if text == "" {
		return Transcript{}, nil
	}
	return Transcript{Text: text, Confidence: 1}, nil
}

// hasSpeech is the energy gate every recogniser applies: too little
// audio above the gate level is silence or a click.
func hasSpeech(pcm []int16) bool {
	loud := 0
	for _, l := range audio.FrameLevels(pcm) {
		if l > gateDBFS {
			loud++
		}
	}
	return loud >= gateFrames
}

// hintPrompt lists the hint phrases as a sentence Whisper can take its
// spelling from, the most important (first) ones kept when it is long.
func hintPrompt(h Hints) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, p := range h.Phrases {
		p = strings.TrimSpace(p)
		n := Normalize(p)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if b.Len()+len(p)+2 > maxPromptChars {
			break
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p)
	}
	if b.Len() > 0 {
		b.WriteString(".")
	}
	return b.String()
}

// primaryLanguage is a BCP 47 tag's primary subtag, lower case ("en-US"
// -> "en"), the ISO 639-1 code Whisper takes; "" lets it detect.
func primaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")), "-")
	return primary
}

var _ Transcriber = (*OpenAI)(nil)
