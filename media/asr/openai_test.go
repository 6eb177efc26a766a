package asr

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

// transcriptionRequest is what the fake endpoint saw of one request.
type transcriptionRequest struct {
	path, auth                string
	model, prompt, language   string
	format, fileName          string
	rate, samples             int
	apiVersion, contentLength string
}

// fakeTranscriptions answers audio/transcriptions like OpenAI: status and
// body are what to answer.
func fakeTranscriptions(t *testing.T, status int, body string) (*httptest.Server, func() []transcriptionRequest) {
	t.Helper()
	var mu sync.Mutex
	var seen []transcriptionRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := transcriptionRequest{path: r.URL.Path, auth: r.Header.Get("Authorization") + r.Header.Get("api-key"), apiVersion: r.URL.Query().Get("api-version")}
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			t.Errorf("not a multipart form: %v", err)
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		req.model, req.prompt, req.language = r.FormValue("model"), r.FormValue("prompt"), r.FormValue("language")
		req.format = r.FormValue("response_format")
		f, hdr, err := r.FormFile("file")
		if err != nil {
			t.Errorf("no file part: %v", err)
		} else {
			req.fileName = hdr.Filename
			b, _ := io.ReadAll(f)
			pcm, info, err := wav.Decode(bytes.NewReader(b))
			if err != nil {
				t.Errorf("file is not a WAV: %v", err)
			}
			req.rate, req.samples = info.SampleRate, len(pcm)
		}
		mu.Lock()
		seen = append(seen, req)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []transcriptionRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]transcriptionRequest(nil), seen...)
	}
}

func speechLike() []int16 { return audio.Tone(300, 1500, -18) }

func TestOpenAITranscribe(t *testing.T) {
	srv, seen := fakeTranscriptions(t, http.StatusOK, `{"text":" I want to pay my bill, it's account 4471. "}`)
	o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL + "/v1", APIKey: "sk-test-123", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	pcm := speechLike()
	hints := Hints{Phrases: []string{"pay my bill", "technical support", "Pay my bill", "talk to an agent"}, Slots: []string{SlotDigits}}
	got, err := o.Transcribe(context.Background(), pcm, hints, "en-US")
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != "I want to pay my bill, it's account 4471." || got.Confidence != 1 {
		t.Errorf("transcript %+v", got)
	}
	reqs := seen()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	want := transcriptionRequest{
		path: "/v1/audio/transcriptions", auth: "Bearer sk-test-123",
		model: "whisper-1", prompt: "pay my bill, technical support, talk to an agent.", language: "en",
		format: "json", fileName: "utterance.wav", rate: 16000, samples: 2 * len(pcm),
	}
	if r != want {
		t.Errorf("request\n got %+v\nwant %+v", r, want)
	}
}

func TestOpenAITranscribeOptions(t *testing.T) {
	srv, seen := fakeTranscriptions(t, http.StatusOK, `{"text":"hola"}`)
	o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, APIKey: "k", Model: "my-whisper", APIType: APIAzure})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Transcribe(context.Background(), speechLike(), Hints{}, "es_MX"); err != nil {
		t.Fatal(err)
	}
	r := seen()[0]
	if r.path != "/openai/deployments/my-whisper/audio/transcriptions" || r.apiVersion != DefaultAzureAPIVersion || r.auth != "k" {
		t.Errorf("azure request: %+v", r)
	}
	if r.language != "es" || r.prompt != "" {
		t.Errorf("language %q prompt %q", r.language, r.prompt)
	}

	// Silence never reaches the endpoint.
	got, err := o.Transcribe(context.Background(), make([]int16, Rate), Hints{}, "")
	if err != nil || got != (Transcript{}) || len(seen()) != 1 {
		t.Errorf("silence: %+v %v, %d requests", got, err, len(seen()))
	}

	for _, cfg := range []OpenAIConfig{{APIType: "anthropic"}, {APIType: APIAzure}} {
		if _, err := NewOpenAI(cfg); err == nil {
			t.Errorf("NewOpenAI(%+v) accepted", cfg)
		}
	}
}

func TestOpenAITranscribeErrors(t *testing.T) {
	const key = "sk-secret-key-42"
	tests := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"server error", http.StatusInternalServerError, `{"error":{"message":"overloaded","type":"server_error"}}`, "500"},
		{"key echoed", http.StatusUnauthorized, `{"error":{"message":"Incorrect API key provided: ` + key + `","type":"invalid_request_error"}}`, "[redacted]"},
		{"not json", http.StatusOK, `<html>`, "openai transcription"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeTranscriptions(t, tt.status, tt.body)
			o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, APIKey: key})
			if err != nil {
				t.Fatal(err)
			}
			_, err = o.Transcribe(context.Background(), speechLike(), Hints{}, "en")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), key) {
				t.Errorf("error %q: want %q in it and no key", err, tt.want)
			}
		})
	}
}

func TestOpenAITranscribeTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	o, err := NewOpenAI(OpenAIConfig{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Transcribe(context.Background(), speechLike(), Hints{}, "en")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
}

func TestHintPrompt(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		hints Hints
		want  string
	}{
		{Hints{}, ""},
		{Hints{Phrases: []string{" billing ", "", "Billing!", "sales"}}, "billing, sales."},
		{Hints{Phrases: []string{long, long + "a", long + "b", long + "c"}}, long + ", " + long + "a."},
	}
	for _, tt := range tests {
		if got := hintPrompt(tt.hints); got != tt.want {
			t.Errorf("hintPrompt(%q) = %q, want %q", tt.hints.Phrases, got, tt.want)
		}
	}
	for tag, want := range map[string]string{"en-US": "en", "pt_BR": "pt", "": "", "DE": "de"} {
		if got := primaryLanguage(tag); got != want {
			t.Errorf("primaryLanguage(%q) = %q, want %q", tag, got, want)
		}
	}
}
