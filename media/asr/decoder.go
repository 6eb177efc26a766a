package asr

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/voxflow/voxflow/media/wav"
)

// decoding is what one pocketsphinx_batch run made of an utterance.
type decoding struct {
	// text is the best hypothesis, lower case, fillers removed.
	text string
	// words are the hypothesis' words with the posterior probability the
	// decoder gives each (1 for grammar searches, which compute none).
	words []decodedWord
}

type decodedWord struct {
	word string
	conf float64
}

// confidence is the mean posterior of the words, 1 when the decoder gave
// none.
func (d decoding) confidence() float64 {
	if len(d.words) == 0 {
		return 1
	}
	var sum float64
	for _, w := range d.words {
		sum += w.conf
	}
	return sum / float64(len(d.words))
}

// search names the files of one search: the grammar or language model
// and the dictionary, by name inside the run's directory, with the
// decoder arguments that use them ("{dir}" stands for the directory).
type search struct {
	files map[string]string
	args  []string
}

func fsgSearch(fsg, dict string) search {
	return search{
		files: map[string]string{"menu.fsg": fsg, "words.dict": dict},
		args:  []string{"-fsg", "{dir}/menu.fsg", "-dict", "{dir}/words.dict"},
	}
}

func lmSearch(m *langModel) search {
	return search{
		files: map[string]string{"lm.arpa": m.arpa, "words.dict": m.dict},
		args:  []string{"-lm", "{dir}/lm.arpa", "-dict", "{dir}/words.dict"},
	}
}

// decode runs one pocketsphinx_batch process over wav16 (16 kHz PCM made
// by to16k) with search s, in a temporary directory of its own. It takes
// a decoder slot for the process's lifetime.
func (p *Pocketsphinx) decode(ctx context.Context, wav16 []int16, s search) (decoding, error) {
	if err := p.acquire(ctx); err != nil {
		return decoding{}, fmt.Errorf("asr: waiting for a pocketsphinx slot: %w", err)
	}
	defer p.release()
	dir, err := os.MkdirTemp("", "voxflow-asr-")
	if err != nil {
		return decoding{}, fmt.Errorf("asr: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := wav.WriteFile(filepath.Join(dir, "u.wav"), 2*Rate, wav16); err != nil {
		return decoding{}, fmt.Errorf("asr: %w", err)
	}
	files := map[string]string{"ctl": "u\n"}
	for name, body := range s.files {
		files[name] = body
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			return decoding{}, fmt.Errorf("asr: %w", err)
		}
	}
	args := []string{
		"-adcin", "yes", "-adchdr", "44", "-cepdir", dir, "-cepext", ".wav",
		"-ctl", filepath.Join(dir, "ctl"), "-hmm", p.ModelDir,
		"-samprate", "16000", "-remove_noise", "no",
		"-hyp", filepath.Join(dir, "hyp"), "-ctm", filepath.Join(dir, "ctm"),
		"-logfn", filepath.Join(dir, "log"),
	}
	for _, a := range s.args {
		args = append(args, strings.ReplaceAll(a, "{dir}", dir))
	}
	cmd := exec.CommandContext(ctx, p.Command, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return decoding{}, fmt.Errorf("asr: pocketsphinx gave no result in time: %w", ctx.Err())
		}
		return decoding{}, fmt.Errorf("asr: %s: %w: %s", p.Command, err, logErrors(filepath.Join(dir, "log"), stderr.String()))
	}
	hyp, err := os.ReadFile(filepath.Join(dir, "hyp"))
	if err != nil {
		return decoding{}, fmt.Errorf("asr: pocketsphinx wrote no result: %w: %s", err, logErrors(filepath.Join(dir, "log"), stderr.String()))
	}
	ctm, _ := os.ReadFile(filepath.Join(dir, "ctm")) // absent when nothing was heard
	return decoding{text: parseHyp(string(hyp)), words: parseCTM(string(ctm))}, nil
}

// parseHyp takes the transcript from a -hyp line: "words (u score)".
func parseHyp(out string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	if i := strings.LastIndex(line, "("); i >= 0 {
		line = line[:i]
	}
	var words []string
	for _, w := range strings.Fields(line) {
		if isFiller(w) {
			continue
		}
		words = append(words, baseWord(w))
	}
	return strings.Join(words, " ")
}

// parseCTM reads -ctm lines, "utt channel start duration word posterior",
// keeping the words (not fillers) and their posteriors, clamped to
// [0, 1]; malformed lines are skipped.
func parseCTM(out string) []decodedWord {
	var words []decodedWord
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || isFiller(f[4]) {
			continue
		}
		conf, err := strconv.ParseFloat(f[5], 64)
		if err != nil || conf != conf { // NaN
			continue
		}
		words = append(words, decodedWord{word: baseWord(f[4]), conf: min(max(conf, 0), 1)})
	}
	return words
}

// isFiller reports the decoder's non-words: <sil>, <s>, [NOISE], ++GARBAGE++.
func isFiller(w string) bool {
	return strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "++")
}

// baseWord drops an alternative pronunciation's "(2)" and lower-cases.
func baseWord(w string) string {
	if i := strings.IndexByte(w, '('); i > 0 {
		w = w[:i]
	}
	return strings.ToLower(w)
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
