package asr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

// Where Debian's pocketsphinx (0.8+5prealpha) and pocketsphinx-en-us
// packages put the decoder and the US English model.
const (
	PocketsphinxCommand = "pocketsphinx_batch"
	DefaultModelDir     = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultDict         = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	// DefaultTimeout bounds one recognition (the decoder needs well under
	// a second for an 8 s utterance on one core).
	DefaultTimeout = 5 * time.Second
)

// Pocketsphinx recognises with CMU pocketsphinx, one pocketsphinx_batch
// process per utterance, offline. The phrases become a finite-state
// grammar (one phrase per utterance) over a dictionary holding only their
// words, taken from the model's pronunciation dictionary; phrases with a
// word the dictionary lacks are dropped with a warning.
//
// The model is a 16 kHz one (Debian ships no 8 kHz model, and running the
// 16 kHz model on 8 kHz features with a narrower filter bank recognised
// almost nothing in our tests): the call's 8 kHz audio is resampled to
// 16 kHz, padded with silence, and decoded with noise removal off (on, it
// treats the empty 4-8 kHz band as noise and loses words).
// pocketsphinx's grammar search gives no posterior, so
// Confidence is 1 for a match; rejection comes from an energy gate
// (too little speech is no match) and from the decoder finding no path
// through the grammar (noise).
type Pocketsphinx struct {
	// Command is pocketsphinx_batch: a path, or a name looked up on PATH.
	Command string
	// ModelDir is the acoustic model directory (-hmm); Dict the model's
	// pronunciation dictionary.
	ModelDir, Dict string
	// Language is the primary language subtag the model serves ("en").
	Language string
	// Timeout bounds one recognition (default DefaultTimeout).
	Timeout time.Duration
	// Logger reports dropped phrases (default slog.Default()).
	Logger *slog.Logger

	sem chan struct{} // bounds concurrent decoder processes

	dictOnce sync.Once
	dict     map[string][]string // word -> its dictionary lines
	dictErr  error

	warned sync.Map // phrases already reported as unusable
}

// NewPocketsphinx returns a recogniser running command ("" means
// pocketsphinx_batch on PATH) with the Debian en-us model.
func NewPocketsphinx(command string) *Pocketsphinx {
	if command == "" {
		command = PocketsphinxCommand
	}
	return &Pocketsphinx{Command: command, ModelDir: DefaultModelDir, Dict: DefaultDict, Language: "en"}
}

// NewDefault returns pocketsphinx when its program and the en-us model are
// installed, logging what it uses; otherwise it logs how to install them
// and returns nil (speech input off: menus take keys only).
func NewDefault(logger *slog.Logger) Recognizer {
	if logger == nil {
		logger = slog.Default()
	}
	p := NewPocketsphinx("")
	p.Logger = logger
	if err := p.Check(); err != nil {
		logger.Warn("asr: speech recognition is off, menus on phone calls accept keys only: "+err.Error(),
			"fix", "install the Debian packages pocketsphinx and pocketsphinx-en-us (scripts/test does)")
		return nil
	}
	go p.loadDict() // warm: the first caller should not wait for it
	path, _ := exec.LookPath(p.Command)
	logger.Info("asr: spoken menu choices are recognised by pocketsphinx (offline)", "path", path, "model", p.ModelDir, "dict", p.Dict)
	return p
}

// Check reports whether the program, the model and the dictionary are there.
func (p *Pocketsphinx) Check() error {
	if _, err := exec.LookPath(p.Command); err != nil {
		return fmt.Errorf("asr: %s not found (Debian package pocketsphinx): %w", p.Command, err)
	}
	if _, err := os.Stat(filepath.Join(p.ModelDir, "mdef")); err != nil {
		return fmt.Errorf("asr: pocketsphinx model missing (Debian package pocketsphinx-en-us): %w", err)
	}
	if _, err := os.Stat(p.Dict); err != nil {
		return fmt.Errorf("asr: pocketsphinx dictionary missing (Debian package pocketsphinx-en-us): %w", err)
	}
	return nil
}

// Gate: an utterance needs this much audio above this level to be
// decoded at all (digital silence or a click otherwise gets forced onto
// some phrase by the closed grammar).
const (
	gateDBFS   = -45
	gateFrames = 5 // 100 ms
	padSamples = Rate / 4
)

// Recognize implements Recognizer.
func (p *Pocketsphinx) Recognize(ctx context.Context, pcm []int16, phrases []string, language string) (Result, error) {
	if !p.supports(language) {
		return Result{}, fmt.Errorf("%w: %q (the pocketsphinx model is %s)", ErrUnsupportedLanguage, language, p.lang())
	}
	if len(phrases) == 0 {
		return Result{}, ErrNoPhrases
	}
	dict, err := p.loadDict()
	if err != nil {
		return Result{}, err
	}
	usable, err := p.usable(dict, phrases)
	if err != nil {
		return Result{}, err
	}
	loud := 0
	for _, l := range audio.FrameLevels(pcm) {
		if l > gateDBFS {
			loud++
		}
	}
	if loud < gateFrames {
		return Result{}, nil
	}

	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := p.acquire(ctx); err != nil {
		return Result{}, fmt.Errorf("asr: waiting for a pocketsphinx slot: %w", err)
	}
	defer p.release()

	dir, err := os.MkdirTemp("", "voxflow-asr-")
	if err != nil {
		return Result{}, fmt.Errorf("asr: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := writeInputs(dir, dict, usable, pcm); err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, p.Command,
		"-adcin", "yes", "-adchdr", "44", "-cepdir", dir, "-cepext", ".wav",
		"-ctl", filepath.Join(dir, "ctl"), "-fsg", filepath.Join(dir, "menu.fsg"),
		"-dict", filepath.Join(dir, "words.dict"), "-hmm", p.ModelDir,
		"-samprate", "16000", "-remove_noise", "no",
		"-hyp", filepath.Join(dir, "hyp"), "-logfn", filepath.Join(dir, "log"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("asr: pocketsphinx gave no result within %s: %w", timeout, ctx.Err())
		}
		return Result{}, fmt.Errorf("asr: %s: %w: %s", p.Command, err, logErrors(filepath.Join(dir, "log"), stderr.String()))
	}
	out, err := os.ReadFile(filepath.Join(dir, "hyp"))
	if err != nil {
		return Result{}, fmt.Errorf("asr: pocketsphinx wrote no result: %w: %s", err, logErrors(filepath.Join(dir, "log"), stderr.String()))
	}
	text := parseHyp(string(out))
	phrase := MatchText(text, usable)
	if phrase == "" {
		return Result{Text: text}, nil
	}
	return Result{Phrase: phrase, Text: text, Confidence: 1}, nil
}

func (p *Pocketsphinx) lang() string {
	if p.Language == "" {
		return "en"
	}
	return strings.ToLower(p.Language)
}

// supports reports whether language's primary subtag is the model's.
func (p *Pocketsphinx) supports(language string) bool {
	if language == "" {
		return true
	}
	primary, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(language, "_", "-")), "-")
	return primary == p.lang()
}

// acquire takes a decoder slot (loadDict, called first, makes the slots).
func (p *Pocketsphinx) acquire(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Pocketsphinx) release() { <-p.sem }

// loadDict reads the model's dictionary once.
func (p *Pocketsphinx) loadDict() (map[string][]string, error) {
	p.dictOnce.Do(func() {
		p.sem = make(chan struct{}, max(1, runtime.NumCPU()))
		f, err := os.Open(p.Dict)
		if err != nil {
			p.dictErr = fmt.Errorf("asr: pocketsphinx dictionary (Debian package pocketsphinx-en-us): %w", err)
			return
		}
		defer f.Close()
		dict := map[string][]string{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			word, _, ok := strings.Cut(line, " ")
			if !ok || word == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if i := strings.IndexByte(word, '('); i > 0 {
				word = word[:i] // alternative pronunciation "word(2)"
			}
			word = strings.ToLower(word)
			dict[word] = append(dict[word], line)
		}
		if err := sc.Err(); err != nil {
			p.dictErr = fmt.Errorf("asr: reading %s: %w", p.Dict, err)
			return
		}
		if len(dict) == 0 {
			p.dictErr = fmt.Errorf("asr: %s holds no words", p.Dict)
			return
		}
		p.dict = dict
	})
	return p.dict, p.dictErr
}

// usable returns the phrases whose words are all in the dictionary, once
// each; the others are logged once. With none left it returns an
// *UnknownWordsError.
func (p *Pocketsphinx) usable(dict map[string][]string, phrases []string) ([]string, error) {
	var ok, dropped, unknown []string
	seen := map[string]bool{}
	for _, ph := range phrases {
		n := Normalize(ph)
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		var missing []string
		for _, w := range Words(ph) {
			if _, in := dict[w]; !in {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			ok = append(ok, ph)
			continue
		}
		dropped = append(dropped, ph)
		for _, w := range missing {
			if !slices.Contains(unknown, w) {
				unknown = append(unknown, w)
			}
		}
		if _, was := p.warned.LoadOrStore(n, true); !was {
			p.logger().Warn("asr: phrase cannot be recognised, its words are not in the pocketsphinx dictionary", "phrase", ph, "unknown_words", missing, "dict", p.Dict)
		}
	}
	if len(ok) == 0 {
		if len(dropped) == 0 {
			return nil, ErrNoPhrases
		}
		return nil, &UnknownWordsError{Words: unknown, Phrases: dropped}
	}
	return ok, nil
}

func (p *Pocketsphinx) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// writeInputs writes the utterance (16 kHz WAV), its control file, the
// grammar and the dictionary of its words into dir.
func writeInputs(dir string, dict map[string][]string, phrases []string, pcm []int16) error {
	if err := wav.WriteFile(filepath.Join(dir, "u.wav"), 2*Rate, to16k(pcm)); err != nil {
		return fmt.Errorf("asr: %w", err)
	}
	var fsg, words strings.Builder
	// State 0 starts, 1 ends; a phrase of k words adds k-1 states.
	var trans []string
	states := 2
	prob := fmt.Sprintf("%.6f", 1/float64(len(phrases)))
	used := map[string]bool{}
	for _, ph := range phrases {
		ws := Words(ph)
		from := 0
		for i, w := range ws {
			to, pr := 1, "1.0"
			if i < len(ws)-1 {
				to = states
				states++
			}
			if i == 0 {
				pr = prob
			}
			trans = append(trans, fmt.Sprintf("TRANSITION %d %d %s %s", from, to, pr, w))
			from = to
			if !used[w] {
				used[w] = true
				for _, line := range dict[w] {
					words.WriteString(line + "\n")
				}
			}
		}
	}
	fmt.Fprintf(&fsg, "FSG_BEGIN menu\nNUM_STATES %d\nSTART_STATE 0\nFINAL_STATE 1\n", states)
	fsg.WriteString(strings.Join(trans, "\n"))
	fsg.WriteString("\nFSG_END\n")
	for name, body := range map[string]string{"menu.fsg": fsg.String(), "words.dict": words.String(), "ctl": "u\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return fmt.Errorf("asr: %w", err)
		}
	}
	return nil
}

// to16k pads 8 kHz audio with silence on both sides and resamples it to
// the model's 16 kHz.
func to16k(pcm []int16) []int16 {
	padded := make([]int16, len(pcm)+2*padSamples)
	copy(padded[padSamples:], pcm)
	return wav.Resample(padded, Rate, 2*Rate)
}

// parseHyp takes the transcript from a -hyp line: "words (u score)".
func parseHyp(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if i := strings.LastIndex(line, "("); i >= 0 {
		line = line[:i]
	}
	var words []string
	for _, w := range strings.Fields(line) {
		if strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "++") {
			continue // fillers: <sil>, [NOISE], ++GARBAGE++
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i]
		}
		words = append(words, strings.ToLower(w))
	}
	return strings.Join(words, " ")
}

// logErrors picks the ERROR and FATAL lines of the decoder's log.
func logErrors(logPath, stderr string) string {
	b, _ := os.ReadFile(logPath)
	var lines []string
	for _, l := range strings.Split(string(b)+"\n"+stderr, "\n") {
		if strings.Contains(l, "ERROR") || strings.Contains(l, "FATAL") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	if len(lines) == 0 {
		return "no error logged"
	}
	return strings.Join(lines, "; ")
}

var _ Recognizer = (*Pocketsphinx)(nil)
