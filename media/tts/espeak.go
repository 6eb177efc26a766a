package tts

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/voxflow/voxflow/media/wav"
)

// EspeakCommand is the program NewDefault looks for on PATH.
const EspeakCommand = "espeak-ng"

// MaxTextLen bounds the text one Synthesize call accepts (bytes).
const MaxTextLen = 8 << 10

// Espeak synthesises with the espeak-ng command-line program, one process per
// call: `espeak-ng --stdout -v <voice> --stdin` with the text on stdin (so
// text is never parsed as options), converting its WAV output to 8 kHz.
type Espeak struct {
	// Command is the program to run: a path, or a name looked up on PATH.
	Command string
	// Speed in words per minute; 0 leaves espeak-ng's default (175).
	Speed int

	voicesOnce sync.Once
	voices     map[string]bool // lower-cased names espeak-ng knows; nil if unknown
}

// NewEspeak returns an Espeak running command ("" means "espeak-ng").
func NewEspeak(command string) *Espeak {
	if command == "" {
		command = EspeakCommand
	}
	return &Espeak{Command: command}
}

// Synthesize implements Synthesizer.
func (e *Espeak) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, ErrEmptyText
	}
	if len(text) > MaxTextLen {
		return nil, fmt.Errorf("tts: text of %d bytes is longer than %d", len(text), MaxTextLen)
	}
	v := EspeakVoice(voice, language)
	// espeak-ng silently speaks with its default voice when it does not
	// know the one asked for: check first.
	if known := e.knownVoices(); known != nil {
		base, _, _ := strings.Cut(v, "+")
		if !known[strings.ToLower(base)] {
			return nil, fmt.Errorf("tts: espeak-ng has no voice %q (for voice %q, language %q); see `espeak-ng --voices`", v, voice, language)
		}
	}
	args := []string{"--stdout", "-v", v}
	if e.Speed > 0 {
		args = append(args, "-s", fmt.Sprint(e.Speed))
	}
	args = append(args, "--stdin")
	cmd := exec.CommandContext(ctx, e.Command, args...)
	cmd.Stdin = strings.NewReader(text)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("tts: espeak-ng voice %q: %w", v, ctx.Err())
		}
		return nil, fmt.Errorf("tts: espeak-ng voice %q: %w: %s", v, err, strings.TrimSpace(stderr.String()))
	}
	pcm, err := wav.Read(&stdout)
	if err != nil {
		return nil, fmt.Errorf("tts: espeak-ng voice %q output: %w", v, err)
	}
	if len(pcm) == 0 {
		return nil, fmt.Errorf("tts: espeak-ng voice %q produced no audio: %s", v, strings.TrimSpace(stderr.String()))
	}
	return pcm, nil
}

// knownVoices lists, once, the language codes, voice names and voice files
// `espeak-ng --voices` reports.
func (e *Espeak) knownVoices() map[string]bool {
	e.voicesOnce.Do(func() {
		// Not the caller's context: one cancelled call must not
		// disable the check for good.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, e.Command, "--voices").Output()
		if err != nil {
			return
		}
		known := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 5 {
				continue
			}
			for _, name := range []string{f[1], f[3], f[4], path.Base(f[4])} {
				known[strings.ToLower(name)] = true
			}
		}
		if len(known) > 0 {
			e.voices = known
		}
	})
	return e.voices
}

// Version returns espeak-ng's version line, or "unknown".
func (e *Espeak) Version(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, e.Command, "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// espeakVoices maps BCP 47 tags (lower case) whose espeak-ng voice is not
// simply the lower-cased tag or its language subtag.
var espeakVoices = map[string]string{
	"en":    "en-us",
	"en-ca": "en-us",
	"en-au": "en-gb",
	"en-nz": "en-gb",
	"en-ie": "en-gb",
	"en-in": "en-gb",
	"en-za": "en-gb",
	"es-mx": "es-419",
	"es-us": "es-419",
	"es-ar": "es-419",
	"es-co": "es-419",
	"es-es": "es",
	"fr-fr": "fr",
	"fr-ca": "fr",
	"fr-be": "fr-be",
	"fr-ch": "fr-ch",
	"de-de": "de",
	"de-at": "de",
	"de-ch": "de",
	"it-it": "it",
	"nl-nl": "nl",
	"nl-be": "nl",
	"pt":    "pt",
	"pt-pt": "pt",
	"pt-br": "pt-br",
	"zh":    "cmn",
	"zh-cn": "cmn",
	"zh-tw": "cmn",
	"zh-hk": "yue",
	"ja-jp": "ja",
	"ko-kr": "ko",
	"ru-ru": "ru",
	"pl-pl": "pl",
	"sv-se": "sv",
	"nb-no": "nb",
	"no":    "nb",
	"da-dk": "da",
	"fi-fi": "fi",
	"tr-tr": "tr",
	"ar-sa": "ar",
	"hi-in": "hi",
}

// EspeakVoice chooses the espeak-ng voice for a voice and language: an
// explicit voice (anything but "" or "default") is used as is, e.g.
// "en-us+f3"; otherwise the language maps to its espeak-ng voice ("en-US" to
// "en-us", "pt-BR" to "pt-br", "es-MX" to "es-419", "de-AT" to "de"), and an
// empty language means "en-us".
func EspeakVoice(voice, language string) string {
	if voice != "" && voice != "default" {
		return voice
	}
	tag := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(language), "_", "-"))
	if tag == "" {
		return "en-us"
	}
	if v, ok := espeakVoices[tag]; ok {
		return v
	}
	switch tag {
	case "en-us", "en-gb":
		return tag
	}
	primary, _, _ := strings.Cut(tag, "-")
	if v, ok := espeakVoices[primary]; ok {
		return v
	}
	return primary
}
