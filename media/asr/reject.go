package asr

import (
	"context"
	"slices"
)

// Out-of-grammar rejection. A grammar accepts one of its phrases and
// nothing else, so it forces "hello" onto some option. Each menu
// utterance is therefore decoded twice, at once: with the grammar, and
// with a small language model holding the menu's phrases beside everyday
// filler words. The grammar's phrase is accepted only when the open
// decode heard that same phrase, each of its words with a posterior of at
// least minPhrasePosterior; otherwise the result is no match.
//
// Measured with espeak-ng voices at 8 kHz through G.711 (TestMenuRejection,
// four menus, 28 out-of-grammar phrases, three voices): false accepts
// 6% of 336 out-of-grammar utterances (98.8% with the grammar alone);
// false rejects 10% and wrong phrase 1.7% of 60 in-grammar ones (0% and
// 5% with the grammar alone). Most of what remains is acoustic: espeak-ng's
// "seven" decodes as "billing", its "sales" as "real" (the /s/ lies above
// the telephone band).
//
// The phrase weight (per phrase, against one per filler word) sets the
// trade-off; on an earlier run of the same set, false rejects (and wrong)
// against false accepts: 3: 20% / 4%; 10: 17.5% / 5.4%; 30: 14% / 5.4%;
// 100: 11% / 9%. Tried and dropped: comparing the two decodes' acoustic
// scores (no separation at all), and a parallel decode with the general
// en-us language model accepting the phrase when the transcript is
// phonetically close to it (phone edit distance over the best-aligned
// window): at 6% false accepts it rejected or missed 71% of in-grammar
// utterances, and took 0.5 s of CPU per second of speech against 0.1.
const (
	menuPhraseWeight   = 30
	menuFillerWeight   = 1
	minPhrasePosterior = 0.3
)

// menuModel returns the rejection model of a menu's phrases, built once.
func (p *Pocketsphinx) menuModel(dict map[string][]string, phrases []string) *langModel {
	return p.models.get(hintsDigest("menu", Hints{Phrases: phrases}), func() *langModel {
		return menuCorpus(dict, phrases, menuPhraseWeight, menuFillerWeight).model()
	})
}

// confirm reports whether the open decode heard phrase, and the lowest
// posterior of its words where it did (the best occurrence). Without
// word posteriors the text alone decides, with confidence 1.
func confirm(open decoding, phrase string) (float64, bool) {
	want := Words(phrase)
	if len(want) == 0 {
		return 0, false
	}
	if len(open.words) == 0 {
		if MatchText(open.text, []string{phrase}) == phrase {
			return 1, true
		}
		return 0, false
	}
	got := make([]string, len(open.words))
	for i, w := range open.words {
		got[i] = w.word
	}
	best, found := 0.0, false
	for i := 0; i+len(want) <= len(got); i++ {
		if !slices.Equal(got[i:i+len(want)], want) {
			continue
		}
		lowest := 1.0
		for _, w := range open.words[i : i+len(want)] {
			lowest = min(lowest, w.conf)
		}
		best, found = max(best, lowest), true
	}
	return best, found
}

// decodeBoth runs the grammar and the open decode of one utterance side
// by side and waits for both.
func (p *Pocketsphinx) decodeBoth(ctx context.Context, wav16 []int16, grammar, open search) (g, o decoding, err error) {
	type result struct {
		d   decoding
		err error
	}
	done := make(chan result, 1)
	go func() {
		d, err := p.decode(ctx, wav16, open)
		done <- result{d, err}
	}()
	g, gerr := p.decode(ctx, wav16, grammar)
	r := <-done // always collected: no goroutine outlives the call
	if gerr != nil {
		return decoding{}, decoding{}, gerr
	}
	return g, r.d, r.err
}
