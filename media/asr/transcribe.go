package asr

import (
	"context"
	"fmt"
	"slices"
)

// Transcribe implements Transcriber: the utterance is decoded with a small
// trigram language model built from the hints (their phrases, the words
// and examples of their slot types, digits always) and common carrier
// phrases and words, so free phrasing around the intents' themes decodes
// while the vocabulary stays small enough for the telephone-band audio.
// Models are built once per hint set and kept in memory. Words the
// pronunciation dictionary lacks are dropped, logged once each. The text
// is lower case with numbers as words ("four four seven one"); the
// confidence is the mean of the decoder's word posteriors.
func (p *Pocketsphinx) Transcribe(ctx context.Context, pcm []int16, hints Hints, language string) (Transcript, error) {
	if !p.supports(language) {
		return Transcript{}, fmt.Errorf("%w: %q (the pocketsphinx model is %s)", ErrUnsupportedLanguage, language, p.lang())
	}
	dict, err := p.loadDict()
	if err != nil {
		return Transcript{}, err
	}
	if !hasSpeech(pcm) {
		return Transcript{}, nil
	}
	m := p.models.get(hintsDigest("transcribe", hints), func() *langModel {
		c := hintCorpus(dict, hints)
		p.warnUnknown(c.unknown, "hint words are not in the pocketsphinx dictionary and cannot be heard")
		return c.model()
	})
	ctx, cancel := context.WithTimeout(ctx, p.timeout())
	defer cancel()
	d, err := p.decode(ctx, to16k(pcm), lmSearch(m))
	if err != nil {
		return Transcript{}, err
	}
	if d.text == "" {
		return Transcript{}, nil
	}
	return Transcript{Text: d.text, Confidence: d.confidence()}, nil
}

// warnUnknown logs each word once per recogniser.
func (p *Pocketsphinx) warnUnknown(words []string, msg string) {
	var fresh []string
	for _, w := range words {
		if _, was := p.warned.LoadOrStore("word:"+w, true); !was {
			fresh = append(fresh, w)
		}
	}
	if len(fresh) > 0 {
		slices.Sort(fresh)
		p.logger().Warn("asr: "+msg, "words", fresh, "dict", p.Dict)
	}
}

var _ Transcriber = (*Pocketsphinx)(nil)
