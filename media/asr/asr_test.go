package asr

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/tts"
)

// needRecognizer fails (never skips) when pocketsphinx or espeak-ng is
// missing: these tests run the real recogniser on real synthesised speech.
func needRecognizer(t *testing.T) *Pocketsphinx {
	t.Helper()
	if _, err := exec.LookPath(tts.EspeakCommand); err != nil {
		t.Fatal("espeak-ng is not installed: run scripts/test (which installs it), or apt-get install espeak-ng")
	}
	p := NewPocketsphinx("")
	if err := p.Check(); err != nil {
		t.Fatalf("%v: run scripts/test (which installs them), or apt-get install pocketsphinx pocketsphinx-en-us", err)
	}
	return p
}

var (
	speechMu    sync.Mutex
	speechCache = map[string][]int16{}
	espeak      = tts.NewEspeak("")
)

// say renders text with espeak-ng at 8 kHz and passes it through G.711
// mu-law, as it would arrive from a phone.
func say(t testing.TB, text, voice string) []int16 {
	t.Helper()
	key := text + "|" + voice
	speechMu.Lock()
	defer speechMu.Unlock()
	if pcm, ok := speechCache[key]; ok {
		return pcm
	}
	pcm, err := espeak.Synthesize(context.Background(), text, voice, "en-US")
	if err != nil {
		t.Fatal(err)
	}
	enc := make([]byte, len(pcm))
	g711.EncodeULaw(enc, pcm)
	out := make([]int16, len(pcm))
	g711.DecodeULaw(out, enc)
	speechCache[key] = out
	return out
}

func TestRecognizeMenuPhrases(t *testing.T) {
	p := needRecognizer(t)
	phrases := []string{"Billing", "sales", "technical support", "operator"}
	for _, want := range phrases {
		res, err := p.Recognize(context.Background(), say(t, strings.ToLower(want), ""), phrases, "en-US")
		if err != nil {
			t.Fatal(err)
		}
		if res.Phrase != want {
			t.Errorf("said %q, recognised %+v", want, res)
		}
		if res.Confidence <= 0 || res.Text == "" {
			t.Errorf("said %q: a match needs a confidence and a text, got %+v", want, res)
		}
	}
}

// TestRecognizeAccuracy runs the example flows' menus (and a classic
// IVR menu) with four espeak-ng voices and reports accuracy and decode
// latency (`go test -v -run TestRecognizeAccuracy ./media/asr/`).
func TestRecognizeAccuracy(t *testing.T) {
	p := needRecognizer(t)
	menus := map[string][]string{
		"classic":              {"billing", "sales", "technical support", "operator"},
		"support-line":         {"sales", "buy", "billing", "invoice", "payment", "support", "help", "technical"},
		"appointment-reminder": {"confirm", "yes", "reschedule", "change", "cancel"},
		"bank-ivr":             {"advisor", "agent", "person"},
	}
	voices := []string{"en-us", "en-us+f3", "en-us+m3", "en-gb"}
	names := make([]string, 0, len(menus))
	for n := range menus {
		names = append(names, n)
	}
	sort.Strings(names)
	total, right := 0, 0
	var lat []time.Duration
	for _, name := range names {
		phrases := menus[name]
		ok, n := 0, 0
		var misses []string
		for _, v := range voices {
			for _, ph := range phrases {
				pcm := say(t, ph, v)
				start := time.Now()
				res, err := p.Recognize(context.Background(), pcm, phrases, "en-US")
				lat = append(lat, time.Since(start))
				if err != nil {
					t.Fatal(err)
				}
				n++
				if res.Phrase == ph {
					ok++
				} else {
					misses = append(misses, fmt.Sprintf("%s/%s->%q", ph, v, res.Phrase))
				}
			}
		}
		t.Logf("menu %-20s %2d/%2d right (%.0f%%) misses: %v", name, ok, n, 100*float64(ok)/float64(n), misses)
		total += n
		right += ok
	}
	slices.Sort(lat)
	acc := float64(right) / float64(total)
	t.Logf("accuracy %d/%d = %.1f%% over %d voices; decode latency p50 %v p90 %v max %v",
		right, total, 100*acc, len(voices), lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*9/10].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	// Synthetic voices at telephone bandwidth with a 16 kHz model: not
	// every phrase of every voice; the floor catches a broken set-up.
	// With out-of-grammar rejection on, 86% was measured (81% before the
	// high-band floor, with the closed grammar).
	if acc < 0.80 {
		t.Errorf("accuracy %.1f%% is below 80%%", 100*acc)
	}
}

func TestRecognizeSilenceAndNoiseIsNoMatch(t *testing.T) {
	p := needRecognizer(t)
	phrases := []string{"billing", "sales", "technical support", "operator"}
	rng := rand.New(rand.NewPCG(1, 2))
	noise := func(dbfs float64) []int16 {
		pcm := make([]int16, 2*Rate)
		for i := range pcm {
			pcm[i] = int16(rng.NormFloat64() * 1000)
		}
		audio.Gain(pcm, dbfs-audio.LevelDBFS(pcm))
		return pcm
	}
	cases := map[string][]int16{
		"silence":         make([]int16, 2*Rate),
		"line hiss":       noise(-55),
		"white noise":     noise(-30),
		"loud noise":      noise(-15),
		"empty":           nil,
		"click":           append(make([]int16, Rate), audio.Tone(1000, 40, -10)...),
		"hum 50 Hz":       audio.Tone(50, 2000, -25),
		"noise then hiss": append(noise(-25), noise(-55)...),
	}
	for name, pcm := range cases {
		res, err := p.Recognize(context.Background(), pcm, phrases, "en-US")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Matched() || res.Confidence != 0 {
			t.Errorf("%s: recognised %+v, want no match", name, res)
		}
	}
}

func TestRecognizeUnknownWords(t *testing.T) {
	p := needRecognizer(t)
	pcm := say(t, "billing", "")
	// One usable phrase is enough; the others are dropped (and logged).
	res, err := p.Recognize(context.Background(), pcm, []string{"zorgblatt", "billing", "sales qwxzv"}, "en")
	if err != nil || res.Phrase != "billing" {
		t.Fatalf("got %+v, %v; want billing", res, err)
	}
	_, err = p.Recognize(context.Background(), pcm, []string{"zorgblatt", "Qwxzv please"}, "en")
	var uw *UnknownWordsError
	if !errors.As(err, &uw) || !slices.Contains(uw.Words, "zorgblatt") || !slices.Contains(uw.Words, "qwxzv") || len(uw.Phrases) != 2 {
		t.Fatalf("err = %v, want an UnknownWordsError naming both words", err)
	}
	if !strings.Contains(err.Error(), "zorgblatt") {
		t.Errorf("error %q does not name the word", err)
	}
	if _, err := p.Recognize(context.Background(), pcm, nil, "en"); !errors.Is(err, ErrNoPhrases) {
		t.Errorf("no phrases: err = %v", err)
	}
	if _, err := p.Recognize(context.Background(), pcm, []string{"billing"}, "fr-FR"); !errors.Is(err, ErrUnsupportedLanguage) {
		t.Errorf("fr-FR: err = %v", err)
	}
}

func TestRecognizeMissingProgram(t *testing.T) {
	p := NewPocketsphinx("/nonexistent/pocketsphinx_batch")
	if err := p.Check(); err == nil || !strings.Contains(err.Error(), "pocketsphinx") {
		t.Fatalf("Check = %v", err)
	}
	p.Dict = "/nonexistent/dict"
	if _, err := p.Recognize(context.Background(), make([]int16, Rate), []string{"billing"}, ""); err == nil || !strings.Contains(err.Error(), "pocketsphinx-en-us") {
		t.Fatalf("Recognize = %v", err)
	}
}

func TestRecognizeTimeout(t *testing.T) {
	p := needRecognizer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Recognize(ctx, say(t, "billing", ""), []string{"billing"}, ""); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
}

func TestMatchText(t *testing.T) {
	phrases := []string{"Technical Support", "support", "billing", "Don't know"}
	for text, want := range map[string]string{
		"technical support":        "Technical Support",
		"SUPPORT":                  "support",
		"billing please":           "billing",
		"i need technical support": "Technical Support",
		"don't know":               "Don't know",
		"sales":                    "",
		"":                         "",
		"billings":                 "",
	} {
		if got := MatchText(text, phrases); got != want {
			t.Errorf("MatchText(%q) = %q, want %q", text, got, want)
		}
	}
	if got := Words("  Hello, World-wide 'quote' don't 42 "); !slices.Equal(got, []string{"hello", "world", "wide", "quote", "don't", "42"}) {
		t.Errorf("Words = %q", got)
	}
	if got := parseHyp("technical support (u -3476)\n"); got != "technical support" {
		t.Errorf("parseHyp = %q", got)
	}
	if got := parseHyp(" (u 0)\n"); got != "" {
		t.Errorf("parseHyp empty = %q", got)
	}
}
