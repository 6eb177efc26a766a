package tts

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

// speechRequest is the JSON body of audio/speech.
type speechRequest struct {
	Model          string `json:"model"`
	Input          string `json:"input"`
	Voice          string `json:"voice"`
	ResponseFormat string `json:"response_format"`
}

// fakeSpeech is an audio/speech endpoint answering half a second of a
// 1 kHz tone in the format asked for, or failing while fail is set.
type fakeSpeech struct {
	srv  *httptest.Server
	fail atomic.Bool
	mu   sync.Mutex
	reqs []speechRequest
	path string
	auth string
}

func newFakeSpeech(t *testing.T) *fakeSpeech {
	f := &fakeSpeech{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req speechRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("body: %v", err)
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.path, f.auth = r.URL.Path, r.Header.Get("Authorization")
		f.mu.Unlock()
		if f.fail.Load() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":{"message":"boom for sk-secret-9","type":"server_error"}}`))
			return
		}
		tone := toneAt(24000, 1000, 500)
		switch req.ResponseFormat {
		case "pcm":
			binary.Write(w, binary.LittleEndian, tone)
		case "wav":
			var b bytes.Buffer
			if err := wav.Write(&b, 24000, tone); err != nil {
				t.Error(err)
			}
			w.Write(b.Bytes())
		default:
			http.Error(w, "format", http.StatusBadRequest)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSpeech) requests() []speechRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]speechRequest(nil), f.reqs...)
}

// toneAt is ms milliseconds of a sine at rate, -10 dBFS.
func toneAt(rate int, freq float64, ms int) []int16 {
	return wav.Resample(audio.Tone(freq, ms, -10), Rate, rate)
}

func TestOpenAISynthesize(t *testing.T) {
	for _, format := range []string{"", FormatWAV} {
		t.Run("format "+format, func(t *testing.T) {
			f := newFakeSpeech(t)
			o, err := NewOpenAI(OpenAIConfig{BaseURL: f.srv.URL + "/v1", APIKey: "sk-secret-9", Format: format})
			if err != nil {
				t.Fatal(err)
			}
			pcm, err := o.Synthesize(context.Background(), " Thank you for calling. ", "", "en-US")
			if err != nil {
				t.Fatal(err)
			}
			// Half a second at 8 kHz, the tone's level kept.
			if n := len(pcm); n < 3900 || n > 4100 {
				t.Errorf("%d samples, want about 4000 (0.5 s at 8 kHz)", n)
			}
			if lv := audio.LevelDBFS(pcm[400:3600]); lv < -11 || lv > -9 {
				t.Errorf("level %.1f dBFS, want about -10", lv)
			}
			want := speechRequest{Model: "tts-1", Input: "Thank you for calling.", Voice: "alloy", ResponseFormat: "pcm"}
			if format != "" {
				want.ResponseFormat = format
			}
			if got := f.requests(); len(got) != 1 || got[0] != want {
				t.Errorf("requests %+v, want %+v", got, want)
			}
			if f.path != "/v1/audio/speech" || f.auth != "Bearer sk-secret-9" {
				t.Errorf("path %q auth %q", f.path, f.auth)
			}
			if _, err := o.Synthesize(context.Background(), "Hi.", "nova", ""); err != nil {
				t.Fatal(err)
			}
			if got := f.requests(); got[len(got)-1].Voice != "nova" {
				t.Errorf("explicit voice sent as %q", got[len(got)-1].Voice)
			}
		})
	}
}

func TestOpenAISynthesizeErrors(t *testing.T) {
	f := newFakeSpeech(t)
	o, err := NewOpenAI(OpenAIConfig{BaseURL: f.srv.URL, APIKey: "sk-secret-9", Model: "tts-1-hd", Voice: "echo"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.Synthesize(context.Background(), "  ", "", ""); !errors.Is(err, ErrEmptyText) {
		t.Errorf("empty: %v", err)
	}
	if _, err := o.Synthesize(context.Background(), strings.Repeat("a", maxOpenAIText+1), "", ""); err == nil {
		t.Error("over-long text accepted")
	}
	f.fail.Store(true)
	_, err = o.Synthesize(context.Background(), "Hello.", "", "")
	if err == nil || !strings.Contains(err.Error(), "500") || strings.Contains(err.Error(), "sk-secret-9") {
		t.Errorf("failing endpoint: %v (want the status, not the key)", err)
	}
	for _, cfg := range []OpenAIConfig{{APIType: "bedrock"}, {APIType: APIAzure}, {Format: "mp3"}} {
		if _, err := NewOpenAI(cfg); err == nil {
			t.Errorf("NewOpenAI(%+v) accepted", cfg)
		}
	}
}

// stubSynth counts calls and answers a short tone, or fails for voices
// in bad.
type stubSynth struct {
	calls atomic.Int32
	bad   map[string]bool
}

func (s *stubSynth) Synthesize(_ context.Context, text, voice, _ string) ([]int16, error) {
	s.calls.Add(1)
	if s.bad[voice] {
		return nil, errors.New("no such voice " + voice)
	}
	return audio.Tone(440, 100, -20), nil
}

// logRecords collects log messages.
type logRecords struct {
	mu   sync.Mutex
	msgs []string
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	l.msgs = append(l.msgs, msg)
	return nil
}
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *logRecords) WithGroup(string) slog.Handler      { return l }
func (l *logRecords) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

func TestOpenAIWithFallback(t *testing.T) {
	f := newFakeSpeech(t)
	local := &stubSynth{bad: map[string]bool{"shimmer": true}}
	logs := &logRecords{}
	s, err := NewOpenAIWithFallback(OpenAIConfig{BaseURL: f.srv.URL, APIKey: "sk-secret-9", Timeout: 5 * time.Second}, 1<<20, t.TempDir(), local, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		if _, err := s.Synthesize(ctx, "Welcome.", "", "en-US"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests for one prompt said three times, want 1 (cached)", n)
	}

	f.fail.Store(true)
	for _, text := range []string{"Please hold.", "Goodbye.", "Please hold."} {
		pcm, err := s.Synthesize(ctx, text, "shimmer", "en-US")
		if err != nil || len(pcm) == 0 {
			t.Fatalf("outage: %v", err)
		}
	}
	// The cached prompt still comes from the cache.
	if _, err := s.Synthesize(ctx, "Welcome.", "", "en-US"); err != nil {
		t.Fatal(err)
	}
	// shimmer is unknown locally: each fallback tries it, then the default.
	if n := local.calls.Load(); n != 6 {
		t.Errorf("local synthesiser called %d times, want 6", n)
	}
	f.fail.Store(false)
	if _, err := s.Synthesize(ctx, "Please hold.", "", "en-US"); err != nil {
		t.Fatal(err)
	}
	msgs := logs.all()
	if len(msgs) != 2 || !strings.Contains(msgs[0], "failed") || !strings.Contains(msgs[1], "answers again") || !strings.Contains(msgs[1], "prompts_spoken_locally=3") {
		t.Errorf("logs %q: want one outage warning and one recovery", msgs)
	}
	for _, m := range msgs {
		if strings.Contains(m, "sk-secret-9") {
			t.Errorf("key logged: %q", m)
		}
	}

	// A cancelled call is not spoken locally.
	f.fail.Store(true)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	before := local.calls.Load()
	if _, err := s.Synthesize(cctx, "New prompt.", "", ""); err == nil || local.calls.Load() != before {
		t.Errorf("cancelled: err %v, local calls %d -> %d", err, before, local.calls.Load())
	}
}
