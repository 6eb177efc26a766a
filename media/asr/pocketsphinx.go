package asr

import (
	"bufio"
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
// process per decode, offline. For a menu the phrases become a
// finite-state grammar (one phrase per utterance) over a dictionary
// holding only their words, taken from the model's pronunciation
// dictionary; phrases with a word the dictionary lacks are dropped with a
// warning. A second, open decode beside it rejects speech that is none of
// the phrases (see reject.go); Confidence is the lowest posterior of the
// phrase's words in that decode. Free speech (Transcribe) is decoded with
// a language model built from the hints (see transcribe.go).
//
// The model is a 16 kHz one (Debian ships no 8 kHz model, and running the
// 16 kHz model on 8 kHz features with a narrower filter bank recognised
// almost nothing in our tests): the call's 8 kHz audio is resampled to
// 16 kHz, padded with silence, its empty band above 4 kHz filled with a
// steady noise floor (see frontend.go), and decoded with noise removal
// off. Rejection also comes from an energy gate (too little speech is no
// match) and from the decoder finding no path through the grammar.
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
	// ClosedGrammar turns out-of-grammar rejection off: every utterance
	// with enough speech is forced onto the closest phrase (one decode
	// instead of two).
	ClosedGrammar bool

	sem chan struct{} // bounds concurrent decoder processes

	dictOnce sync.Once
	dict     map[string][]string // word -> its dictionary lines
	dictErr  error

	warned sync.Map   // phrases and words already reported as unusable
	models modelCache // language models by hint set
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
	if !hasSpeech(pcm) {
		return Result{}, nil
	}

	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	fsg, words := menuGrammar(dict, usable)
	wav16 := to16k(pcm)
	if p.ClosedGrammar {
		d, err := p.decode(ctx, wav16, fsgSearch(fsg, words))
		if err != nil {
			return Result{}, err
		}
		if phrase := MatchText(d.text, usable); phrase != "" {
			return Result{Phrase: phrase, Text: d.text, Confidence: 1}, nil
		}
		return Result{Text: d.text}, nil
	}
	g, open, err := p.decodeBoth(ctx, wav16, fsgSearch(fsg, words), lmSearch(p.menuModel(dict, usable)))
	if err != nil {
		return Result{}, err
	}
	phrase := MatchText(g.text, usable)
	if phrase == "" {
		return Result{Text: g.text}, nil
	}
	conf, heard := confirm(open, phrase)
	if !heard || conf < minPhrasePosterior {
		return Result{Text: open.text}, nil
	}
	return Result{Phrase: phrase, Text: g.text, Confidence: conf}, nil
}

func (p *Pocketsphinx) timeout() time.Duration {
	if p.Timeout > 0 {
		return p.Timeout
	}
	return DefaultTimeout
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

// menuGrammar returns a finite-state grammar accepting exactly one of the
// phrases, and the dictionary of their words.
func menuGrammar(dict map[string][]string, phrases []string) (fsg, words string) {
	var g, w strings.Builder
	// State 0 starts, 1 ends; a phrase of k words adds k-1 states.
	var trans []string
	states := 2
	prob := fmt.Sprintf("%.6f", 1/float64(len(phrases)))
	used := map[string]bool{}
	for _, ph := range phrases {
		ws := Words(ph)
		from := 0
		for i, word := range ws {
			to, pr := 1, "1.0"
			if i < len(ws)-1 {
				to = states
				states++
			}
			if i == 0 {
				pr = prob
			}
			trans = append(trans, fmt.Sprintf("TRANSITION %d %d %s %s", from, to, pr, word))
			from = to
			if !used[word] {
				used[word] = true
				for _, line := range dict[word] {
					w.WriteString(line + "\n")
				}
			}
		}
	}
	fmt.Fprintf(&g, "FSG_BEGIN menu\nNUM_STATES %d\nSTART_STATE 0\nFINAL_STATE 1\n", states)
	g.WriteString(strings.Join(trans, "\n"))
	g.WriteString("\nFSG_END\n")
	return g.String(), w.String()
}

var _ Recognizer = (*Pocketsphinx)(nil)
