package asr

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"sync"
)

// Weights of the parts of a hint model's corpus: the hints say most about
// what this caller will say, carrier phrases wrap them, slot examples show
// how values are spoken, and the bare vocabulary lets any of its words
// follow any other.
const (
	hintWeight    = 3
	carrierWeight = 1
	slotWeight    = 1
	wordWeight    = 0.5
)

// langModel is a language model (ARPA text) and the pronunciation
// dictionary of its words, ready to be written for the decoder.
type langModel struct {
	arpa, dict string
	words      int
}

// corpus collects the sentences and words of a model, keeping only words
// the pronunciation dictionary knows.
type corpus struct {
	dict    map[string][]string
	counts  *ngramCounts
	unknown []string
}

func newCorpus(dict map[string][]string) *corpus {
	return &corpus{dict: dict, counts: newNgramCounts()}
}

// sentence counts a phrase. A digit string is spoken digit by digit
// ("4471" -> "four four seven one"); a word the dictionary lacks splits
// the phrase, so no n-gram spans the gap.
func (c *corpus) sentence(phrase string, weight float64) {
	var run []string
	for _, w := range spellDigits(Words(phrase)) {
		if _, ok := c.dict[w]; !ok {
			c.miss(w)
			c.counts.addSentence(run, weight)
			run = run[:0]
			continue
		}
		run = append(run, w)
	}
	c.counts.addSentence(run, weight)
}

func (c *corpus) words(words []string, weight float64) {
	for _, w := range words {
		if _, ok := c.dict[w]; !ok {
			c.miss(w)
			continue
		}
		c.counts.addWord(w, weight)
	}
}

func (c *corpus) miss(w string) {
	if !slices.Contains(c.unknown, w) {
		c.unknown = append(c.unknown, w)
	}
}

// model estimates the language model and writes the dictionary lines of
// its words.
func (c *corpus) model() *langModel {
	m := c.counts.estimate()
	var words []string
	for w := range m.prob[0] {
		if w != sentEnd {
			words = append(words, w)
		}
	}
	slices.Sort(words)
	var dict strings.Builder
	for _, w := range words {
		for _, line := range c.dict[w] {
			dict.WriteString(line + "\n")
		}
	}
	return &langModel{arpa: m.writeARPA(), dict: dict.String(), words: len(words)}
}

// spellDigits replaces each all-digit word by its digits' names.
func spellDigits(words []string) []string {
	out := make([]string, 0, len(words))
	for _, w := range words {
		if strings.Trim(w, "0123456789") != "" {
			out = append(out, w)
			continue
		}
		for _, r := range w {
			out = append(out, digitWords[r-'0'])
		}
	}
	return out
}

// hintCorpus is the corpus of a transcription model: the hint phrases,
// carrier phrases and words, and the vocabulary and examples of the
// hinted slot types (digits always: account and reference numbers come
// up whatever a node asks).
func hintCorpus(dict map[string][]string, hints Hints) *corpus {
	c := newCorpus(dict)
	for _, ph := range hints.Phrases {
		c.sentence(ph, hintWeight)
	}
	for _, ph := range carrierPhrases {
		c.sentence(ph, carrierWeight)
	}
	c.words(carrierWords, wordWeight)
	slots := append([]string{SlotDigits}, hints.Slots...)
	seen := map[string]bool{}
	for _, s := range slots {
		s = strings.ToLower(s)
		if seen[s] {
			continue
		}
		seen[s] = true
		words, sentences := slotPhrases(s)
		c.words(words, wordWeight)
		for _, sent := range sentences {
			c.sentence(sent, slotWeight)
		}
	}
	return c
}

// hintsDigest names a hint set: the same phrases and slots, in any order
// and case, give the same model.
func hintsDigest(kind string, hints Hints) string {
	phrases := make([]string, 0, len(hints.Phrases))
	for _, p := range hints.Phrases {
		phrases = append(phrases, Normalize(p))
	}
	slots := make([]string, 0, len(hints.Slots))
	for _, s := range hints.Slots {
		slots = append(slots, strings.ToLower(strings.TrimSpace(s)))
	}
	slices.Sort(phrases)
	slices.Sort(slots)
	sum := sha256.Sum256([]byte(kind + "\x00" + strings.Join(phrases, "\x01") + "\x00" + strings.Join(slots, "\x01")))
	return hex.EncodeToString(sum[:16])
}

// modelCacheSize bounds the models kept in memory: a worker serves a
// handful of intent nodes and menus, each with a fixed hint set.
const modelCacheSize = 128

// modelCache memoises built models by hint digest.
type modelCache struct {
	mu     sync.Mutex
	models map[string]*langModel
}

// get returns the model for digest, building it with build on a miss.
// Two callers missing at once both build (cheap, and rare).
func (c *modelCache) get(digest string, build func() *langModel) *langModel {
	c.mu.Lock()
	m, ok := c.models[digest]
	c.mu.Unlock()
	if ok {
		return m
	}
	m = build()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.models == nil || len(c.models) >= modelCacheSize {
		c.models = map[string]*langModel{}
	}
	c.models[digest] = m
	return m
}

// menuCorpus is the corpus of a menu's rejection model: its phrases, and
// everyday filler words that soak up speech which is none of them.
func menuCorpus(dict map[string][]string, phrases []string, phraseWeight, fillerWeight float64) *corpus {
	c := newCorpus(dict)
	for _, ph := range phrases {
		c.sentence(ph, phraseWeight)
	}
	c.words(fillerWords, fillerWeight)
	return c
}
