package tts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

// needEspeak fails (never skips) when espeak-ng is missing.
func needEspeak(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath(EspeakCommand)
	if err != nil {
		t.Fatal("espeak-ng is not installed: the TTS tests run the real synthesiser; run scripts/test (which installs it), or apt-get install espeak-ng")
	}
	return path
}

// countingEspeak writes a wrapper script that counts its invocations in a
// file and runs espeak-ng, and returns its path and a counter reader.
func countingEspeak(t *testing.T) (string, func() int) {
	real := needEspeak(t)
	dir := t.TempDir()
	counter := filepath.Join(dir, "count")
	script := filepath.Join(dir, "espeak-counting")
	// Count syntheses, not the one-off `--voices` listing.
	body := fmt.Sprintf("#!/bin/sh\ncase \"$*\" in *--stdout*) echo x >> %q;; esac\nexec %q \"$@\"\n", counter, real)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return script, func() int {
		b, err := os.ReadFile(counter)
		if errors.Is(err, fs.ErrNotExist) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Count(string(b), "x")
	}
}

func TestEspeakVoice(t *testing.T) {
	tests := []struct{ voice, lang, want string }{
		{"", "", "en-us"},
		{"default", "en-US", "en-us"},
		{"", "en-GB", "en-gb"},
		{"", "en", "en-us"},
		{"", "en-AU", "en-gb"},
		{"", "es-MX", "es-419"},
		{"", "es-ES", "es"},
		{"", "pt-BR", "pt-br"},
		{"", "pt_PT", "pt"},
		{"", "de-AT", "de"},
		{"", "fr-CA", "fr"},
		{"", "zh-CN", "cmn"},
		{"", "sv-SE", "sv"},
		{"", "cy-GB", "cy"},
		{"en-us+f3", "de-DE", "en-us+f3"},
	}
	for _, tt := range tests {
		if got := EspeakVoice(tt.voice, tt.lang); got != tt.want {
			t.Errorf("EspeakVoice(%q, %q) = %q, want %q", tt.voice, tt.lang, got, tt.want)
		}
	}
}

func TestEspeakSynthesize(t *testing.T) {
	e := NewEspeak(needEspeak(t))
	ctx := context.Background()
	tests := []struct {
		name, text, voice, lang string
		minS, maxS              float64
	}{
		{"english", "Please hold while we connect your call.", "", "en-US", 1.2, 4},
		{"short", "Yes.", "default", "en-GB", 0.15, 1.2},
		{"german", "Bitte warten Sie einen Moment.", "", "de-DE", 1, 4},
		{"explicit voice", "Thank you for calling.", "en-us+f3", "", 0.7, 3},
		{"leading dash is text, not an option", "-v xx --help", "", "en-US", 0.5, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm, err := e.Synthesize(ctx, tt.text, tt.voice, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			secs := float64(len(pcm)) / Rate
			if secs < tt.minS || secs > tt.maxS {
				t.Fatalf("%.2f s of audio, want %.1f to %.1f s", secs, tt.minS, tt.maxS)
			}
			if lv := audio.LevelDBFS(pcm); lv < -35 {
				t.Fatalf("level %.1f dBFS: synthesised audio is (nearly) silent", lv)
			}
		})
	}

	if _, err := e.Synthesize(ctx, "  ", "", ""); !errors.Is(err, ErrEmptyText) {
		t.Fatalf("empty text: %v", err)
	}
	if _, err := e.Synthesize(ctx, strings.Repeat("a ", MaxTextLen), "", ""); err == nil {
		t.Fatal("over-long text accepted")
	}
	_, err := e.Synthesize(ctx, "hello", "no-such-voice-xyz", "")
	if err == nil || !strings.Contains(err.Error(), "no-such-voice-xyz") {
		t.Fatalf("unknown voice: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Synthesize(cctx, "hello", "", ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	if _, err := NewEspeak("/nonexistent/espeak").Synthesize(ctx, "hello", "", ""); err == nil {
		t.Fatal("missing program did not fail")
	}
	if v := e.Version(ctx); !strings.Contains(v, "eSpeak NG") {
		t.Fatalf("Version = %q", v)
	}
}

func TestCachedEspeakRunsOnce(t *testing.T) {
	script, count := countingEspeak(t)
	dir := filepath.Join(t.TempDir(), "tts-cache")
	c := NewCached(NewEspeak(script), 0, dir)
	ctx := context.Background()

	a, err := c.Synthesize(ctx, "Your call is important to us.", "default", "en-US")
	if err != nil {
		t.Fatal(err)
	}
	if count() != 1 {
		t.Fatalf("%d espeak-ng runs, want 1", count())
	}
	b, err := c.Synthesize(ctx, "Your call is important to us.", "", "en-US")
	if err != nil {
		t.Fatal(err)
	}
	if count() != 1 || &a[0] != &b[0] {
		t.Fatalf("cache miss: %d runs, same slice %v", count(), &a[0] == &b[0])
	}
	// Another language is another prompt.
	if _, err := c.Synthesize(ctx, "Your call is important to us.", "", "en-GB"); err != nil {
		t.Fatal(err)
	}
	if count() != 2 {
		t.Fatalf("%d runs after a new language, want 2", count())
	}

	// A new process (fresh memory) finds the prompt on disk.
	files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
	if len(files) != 2 {
		t.Fatalf("%d files in the disk cache, want 2", len(files))
	}
	c2 := NewCached(NewEspeak(script), 0, dir)
	d, err := c2.Synthesize(ctx, "Your call is important to us.", "", "en-US")
	if err != nil {
		t.Fatal(err)
	}
	if count() != 2 || len(d) != len(a) {
		t.Fatalf("disk cache: %d runs, len %d vs %d", count(), len(d), len(a))
	}
	for i := range d {
		if d[i] != a[i] {
			t.Fatalf("disk copy differs at sample %d", i)
		}
	}
	// A damaged file is re-synthesised.
	os.WriteFile(files[0], []byte("junk"), 0o644)
	os.WriteFile(files[1], []byte("junk"), 0o644)
	c3 := NewCached(NewEspeak(script), 0, dir)
	if _, err := c3.Synthesize(ctx, "Your call is important to us.", "", "en-US"); err != nil {
		t.Fatal(err)
	}
	if count() != 3 {
		t.Fatalf("%d runs after damaging the disk cache, want 3", count())
	}
}

// fakeSynth returns len(text)*100 samples and counts calls.
type fakeSynth struct {
	calls atomic.Int32
	delay time.Duration
	fail  bool
}

func (f *fakeSynth) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	f.calls.Add(1)
	time.Sleep(f.delay)
	if f.fail {
		return nil, errors.New("boom")
	}
	return make([]int16, 100*len(text)), nil
}

func TestCachedBoundsAndConcurrency(t *testing.T) {
	ctx := context.Background()
	f := &fakeSynth{}
	c := NewCached(f, 2*100*10*2, "") // room for two 10-character prompts
	for _, s := range []string{"aaaaaaaaaa", "bbbbbbbbbb", "aaaaaaaaaa", "cccccccccc"} {
		if _, err := c.Synthesize(ctx, s, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	// a was used more recently than b, so b went out when c came in.
	if c.Len() != 2 || f.calls.Load() != 3 {
		t.Fatalf("Len %d calls %d, want 2 and 3", c.Len(), f.calls.Load())
	}
	c.Synthesize(ctx, "aaaaaaaaaa", "", "")
	if f.calls.Load() != 3 {
		t.Fatal("recently used prompt was evicted")
	}
	c.Synthesize(ctx, "bbbbbbbbbb", "", "")
	if f.calls.Load() != 4 {
		t.Fatal("least recently used prompt was kept")
	}

	slow := &fakeSynth{delay: 50 * time.Millisecond}
	cs := NewCached(slow, 0, "")
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := cs.Synthesize(ctx, "same", "", ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if slow.calls.Load() != 1 {
		t.Fatalf("%d syntheses for 10 concurrent requests, want 1", slow.calls.Load())
	}

	bad := &fakeSynth{fail: true}
	cb := NewCached(bad, 0, "")
	for range 2 {
		if _, err := cb.Synthesize(ctx, "x", "", ""); err == nil {
			t.Fatal("error swallowed")
		}
	}
	if bad.calls.Load() != 2 || cb.Len() != 0 {
		t.Fatalf("errors cached: calls %d len %d", bad.calls.Load(), cb.Len())
	}
}

func TestFallback(t *testing.T) {
	var logs bytes.Buffer
	f := NewFallback(slog.New(slog.NewTextHandler(&logs, nil)))
	ctx := context.Background()
	get := func(text string) []int16 {
		t.Helper()
		pcm, err := f.Synthesize(ctx, text, "", "en-US")
		if err != nil {
			t.Fatal(err)
		}
		return pcm
	}
	hold := get("Please hold.")
	if len(hold) < Rate/4 || len(hold) > 2*Rate {
		t.Fatalf("please-hold is %d samples", len(hold))
	}
	if &get("please HOLD")[0] != &hold[0] {
		t.Fatal("case/punctuation-insensitive match failed")
	}
	if logs.Len() != 0 {
		t.Fatalf("exact match logged: %s", logs.String())
	}
	one, two := get("1"), get("2")
	if got := get("12 1"); len(got) != 2*len(one)+len(two)+2*Rate*150/1000 {
		t.Fatalf("digits: %d samples", len(got))
	}
	if &get("Please hold on.")[0] != &hold[0] || !strings.Contains(logs.String(), "closest shipped prompt") {
		t.Fatalf("closest match: %s", logs.String())
	}
	logs.Reset()
	generic := get("Welcome to Acme Corporation. For sales, press one.")
	if &generic[0] != &get("Sorry, there was a problem.")[0] {
		t.Fatal("unknown text did not get the generic prompt")
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "text_chars=50") || strings.Contains(logs.String(), "Welcome to Acme") {
		t.Fatalf("no warning for unknown text: %s", logs.String())
	}
	if _, err := f.Synthesize(ctx, "...", "", ""); !errors.Is(err, ErrEmptyText) {
		t.Fatalf("empty: %v", err)
	}
	if len(f.Texts()) != len(fallbackTexts) {
		t.Fatal("Texts incomplete")
	}
}

func TestShippedPromptsAreSmallTelephonyWAVs(t *testing.T) {
	entries, err := fallbackFS.ReadDir("fallback")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		b, _ := fallbackFS.ReadFile("fallback/" + e.Name())
		total += int64(len(b))
		_, info, err := wav.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if info.SampleRate != 8000 || info.Channels != 1 || info.BitsPerSample != 16 || info.FormatTag != wav.FormatPCM {
			t.Errorf("%s is %s, want PCM 16-bit mono 8000 Hz", e.Name(), info)
		}
		if _, ok := fallbackTexts[strings.TrimSuffix(e.Name(), ".wav")]; !ok {
			t.Errorf("%s has no text in fallbackTexts", e.Name())
		}
	}
	if len(entries) != len(fallbackTexts) {
		t.Errorf("%d files for %d texts", len(entries), len(fallbackTexts))
	}
	if total > 300<<10 {
		t.Errorf("shipped prompts total %d bytes, want under 300 KiB", total)
	}
}

func TestNewDefault(t *testing.T) {
	needEspeak(t)
	var logs bytes.Buffer
	s := NewDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	if _, ok := s.(*Cached); !ok {
		t.Fatalf("with espeak-ng on PATH got %T", s)
	}
	if !strings.Contains(logs.String(), "rendered by espeak-ng") {
		t.Fatalf("startup message: %s", logs.String())
	}
	pcm, err := s.Synthesize(context.Background(), "Goodbye.", "", "")
	if err != nil || len(pcm) == 0 {
		t.Fatalf("default synthesiser: %v", err)
	}

	t.Setenv("PATH", t.TempDir())
	logs.Reset()
	s = NewDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	if _, ok := s.(*Fallback); !ok {
		t.Fatalf("without espeak-ng got %T", s)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "espeak-ng not found") {
		t.Fatalf("fallback startup message: %s", logs.String())
	}
}
