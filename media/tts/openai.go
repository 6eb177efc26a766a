package tts

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"

	"github.com/voxflow/voxflow/media/openaiapi"
	"github.com/voxflow/voxflow/media/wav"
)

// OpenAI endpoint kinds and defaults (the same names the llm activities'
// configuration uses).
const (
	APIOpenAI = openaiapi.APIOpenAI
	APIAzure  = openaiapi.APIAzure
	// DefaultOpenAIModel and DefaultOpenAIVoice are used when the
	// configuration names none.
	DefaultOpenAIModel = string(openai.TTSModel1)
	DefaultOpenAIVoice = string(openai.VoiceAlloy)
	// DefaultAzureAPIVersion is sent to Azure when none is configured.
	DefaultAzureAPIVersion = openaiapi.DefaultAzureAPIVersion
	// DefaultOpenAITimeout bounds one synthesis request.
	DefaultOpenAITimeout = 15 * time.Second
	// FormatPCM (the default) is raw 24 kHz 16-bit mono little-endian;
	// FormatWAV a WAV file at whatever rate the endpoint chooses.
	FormatPCM = "pcm"
	FormatWAV = "wav"
	// openAIPCMRate is the rate of OpenAI's "pcm" response format.
	openAIPCMRate = 24000
	// maxOpenAIText is the endpoint's input limit, in characters.
	maxOpenAIText = 4096
	// maxOpenAIAudio bounds the response read (about 4 minutes of pcm).
	maxOpenAIAudio = 12 << 20
)

// OpenAIConfig describes an OpenAI-compatible speech endpoint.
type OpenAIConfig struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1", a local
	// server's "http://localhost:8880/v1", or for Azure the resource's
	// "https://NAME.openai.azure.com". Empty means OpenAI's.
	BaseURL string
	// APIKey is sent as a bearer token (Azure: api-key); may be empty for
	// local servers. It never appears in errors or logs.
	APIKey string
	// Model is the speech model (default "tts-1"); for Azure, the
	// deployment name.
	Model string
	// Voice speaks prompts whose voice is "" or "default" (default
	// "alloy"); a prompt naming a voice is sent with that voice.
	Voice string
	// Format is FormatPCM (default) or FormatWAV.
	Format string
	// Timeout bounds one request (default DefaultOpenAITimeout).
	Timeout time.Duration
	// APIType is APIOpenAI (default) or APIAzure; APIVersion is Azure's
	// api-version (default DefaultAzureAPIVersion).
	APIType, APIVersion string
	// HTTPClient carries the requests (default http.DefaultClient's
	// transport).
	HTTPClient *http.Client
}

// OpenAI synthesises through an OpenAI-compatible audio/speech endpoint
// and returns 8 kHz PCM. It does not cache: see NewOpenAIWithFallback.
// language is not sent (the voices speak the text's language).
type OpenAI struct {
	client         *openai.Client
	model, voice   string
	format         string
	timeout        time.Duration
	key            string
	defaultsForKey string // model and default voice, for cache directories
}

// NewOpenAI returns a synthesiser for the endpoint cfg describes.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	client, err := openaiapi.Endpoint{BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, APIType: cfg.APIType,
		APIVersion: cfg.APIVersion, HTTPClient: cfg.HTTPClient}.Client("tts")
	if err != nil {
		return nil, err
	}
	format := strings.ToLower(orDefault(cfg.Format, FormatPCM))
	if format != FormatPCM && format != FormatWAV {
		return nil, fmt.Errorf("tts: openai: unknown response format %q (want %q or %q)", cfg.Format, FormatPCM, FormatWAV)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultOpenAITimeout
	}
	o := &OpenAI{
		client: client,
		model:  orDefault(cfg.Model, DefaultOpenAIModel),
		voice:  orDefault(cfg.Voice, DefaultOpenAIVoice),
		format: format, timeout: timeout, key: cfg.APIKey,
	}
	o.defaultsForKey = o.model + "-" + o.voice + "-" + o.format
	return o, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Synthesize implements Synthesizer.
func (o *OpenAI) Synthesize(ctx context.Context, text, voice, _ string) ([]int16, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, ErrEmptyText
	}
	if n := utf8.RuneCountInString(text); n > maxOpenAIText {
		return nil, fmt.Errorf("tts: openai: text of %d characters is longer than %d", n, maxOpenAIText)
	}
	if voice == "" || voice == "default" {
		voice = o.voice
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	resp, err := o.client.CreateSpeech(ctx, openai.CreateSpeechRequest{
		Model: openai.SpeechModel(o.model), Input: text, Voice: openai.SpeechVoice(voice),
		ResponseFormat: openai.SpeechResponseFormat(o.format),
	})
	if err != nil {
		return nil, fmt.Errorf("tts: openai speech (model %s, voice %s): %w", o.model, voice, openaiapi.Scrub(err, o.key))
	}
	defer resp.Close()
	body, err := io.ReadAll(io.LimitReader(resp, maxOpenAIAudio+1))
	if err != nil {
		return nil, fmt.Errorf("tts: openai speech (model %s, voice %s): reading audio: %w", o.model, voice, err)
	}
	if len(body) > maxOpenAIAudio {
		return nil, fmt.Errorf("tts: openai speech: more than %d bytes of audio", maxOpenAIAudio)
	}
	pcm, err := o.decode(body)
	if err != nil {
		return nil, fmt.Errorf("tts: openai speech (model %s, voice %s): %w", o.model, voice, err)
	}
	return pcm, nil
}

// decode turns the endpoint's audio into 8 kHz PCM.
func (o *OpenAI) decode(body []byte) ([]int16, error) {
	var pcm []int16
	if o.format == FormatWAV {
		p, err := wav.Read(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		pcm = p
	} else {
		raw := make([]int16, len(body)/2)
		if err := binary.Read(bytes.NewReader(body[:2*len(raw)]), binary.LittleEndian, raw); err != nil {
			return nil, fmt.Errorf("pcm audio: %w", err)
		}
		pcm = wav.Resample(raw, openAIPCMRate, Rate)
	}
	if len(pcm) == 0 {
		return nil, errors.New("no audio in the answer")
	}
	return pcm, nil
}

// NewOpenAIWithFallback returns the endpoint's voices as a call should use
// them: cached, and falling back to local (espeak-ng, say) whenever the
// endpoint fails, so a call never goes silent.
//
// The cache is a Cached keyed by the prompt's text, voice and language:
// in memory (up to cacheBytes) and, when cacheDir is set, as WAV files
// named by a hash of that key, in a subdirectory per model, default voice
// and format, so changing the configuration never plays old renderings.
// Prompts are static text and safe to keep; text holding caller data (a
// name, a balance, an account number) must not be cached to disk: render
// it with the OpenAI value itself (uncached), or with a Cached without a
// directory.
func NewOpenAIWithFallback(cfg OpenAIConfig, cacheBytes int64, cacheDir string, local Synthesizer, logger *slog.Logger) (Synthesizer, error) {
	o, err := NewOpenAI(cfg)
	if err != nil {
		return nil, err
	}
	dir := ""
	if cacheDir != "" {
		dir = filepath.Join(cacheDir, "openai-"+unsafeName.ReplaceAllString(o.defaultsForKey, "_"))
	}
	return NewFailover(NewCached(o, cacheBytes, dir), local, logger), nil
}

// unsafeName matches what a configured name may not put in a path.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)
