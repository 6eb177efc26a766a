package nlu

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// Weights of where a word of an intent comes from: its examples are what
// a caller says, its description and name what the author meant.
const (
	exampleWeight     = 1.0
	descriptionWeight = 0.6
	nameWeight        = 0.7
	// slotValueWeight counts the values of an intent's enum slots: "tv"
	// in "cancel my tv" is what the intent is about, not against it.
	slotValueWeight = 0.8
	// weakFactor scales words that say little alone ("account", "service").
	weakFactor = 0.5
)

// intentIndex is an intent set compiled for matching. It is read-only
// once built, so one index serves concurrent calls.
type intentIndex struct {
	intents []indexedIntent
	// idf is each vocabulary stem's weight in (0, 1]: 1 for a stem only
	// one intent uses, less the more intents share it.
	idf map[string]float64
	// weak are the stems that say little alone: weakStems and the values
	// of enum slots (parameters of an intent, not reasons for it).
	weak map[string]bool
	// lexicon is the vocabulary and every synonym, as written and as
	// stems, sorted, for fuzzy lookups of words the vocabulary does not
	// know.
	lexicon []lexEntry
}

// lexEntry is a known word and its stem.
type lexEntry struct{ raw, stem string }

type indexedIntent struct {
	def activities.IntentDef
	// bag is each stem the intent knows and how much it counts.
	bag map[string]float64
	// examples are the stems of each example (the description when there
	// are no examples), without repeats.
	examples [][]string
}

// buildIndex compiles intents.
func buildIndex(defs []activities.IntentDef) *intentIndex {
	ix := &intentIndex{idf: map[string]float64{}, weak: map[string]bool{}}
	for s := range weakStems {
		ix.weak[s] = true
	}
	df := map[string]int{}
	for _, d := range defs {
		in := indexedIntent{def: d, bag: map[string]float64{}}
		add := func(stems []string, w float64) {
			for _, s := range stems {
				in.bag[s] = max(in.bag[s], w)
			}
		}
		for _, ex := range d.Examples {
			stems := uniqueStems(ex)
			add(stems, exampleWeight)
			if len(stems) > 0 {
				in.examples = append(in.examples, stems)
			}
		}
		desc := uniqueStems(d.Description)
		add(desc, descriptionWeight)
		if len(in.examples) == 0 && len(desc) > 0 {
			in.examples = append(in.examples, desc)
		}
		name := uniqueStems(humanize(d.Name))
		add(name, nameWeight)
		if len(name) > 0 {
			in.examples = append(in.examples, name)
		}
		for _, sl := range d.Slots {
			for _, v := range sl.Values {
				stems := uniqueStems(v)
				add(stems, slotValueWeight)
				for _, st := range stems {
					ix.weak[st] = true
				}
			}
		}
		for s := range in.bag {
			df[s]++
		}
		ix.intents = append(ix.intents, in)
	}
	n := float64(len(defs))
	for s, c := range df {
		ix.idf[s] = math.Log(1+n/float64(c)) / math.Log(1+n)
	}
	ix.lexicon = buildLexicon(defs)
	return ix
}

// buildLexicon lists the words of defs and of the synonym groups.
func buildLexicon(defs []activities.IntentDef) []lexEntry {
	seen := map[lexEntry]bool{}
	addText := func(text string) {
		for _, w := range contentWords(tokenize(text)) {
			seen[lexEntry{w.raw, w.stem}] = true
		}
	}
	for _, d := range defs {
		for _, ex := range d.Examples {
			addText(ex)
		}
		addText(d.Description)
		addText(humanize(d.Name))
		for _, sl := range d.Slots {
			for _, v := range sl.Values {
				addText(v)
			}
		}
	}
	for _, g := range synonymGroups {
		for _, w := range g {
			seen[lexEntry{w, stem(w)}] = true
		}
	}
	out := make([]lexEntry, 0, len(seen))
	for e := range seen {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b lexEntry) int { return strings.Compare(a.raw+" "+a.stem, b.raw+" "+b.stem) })
	return out
}

// termWeight is how much vocabulary stem s counts in an example or an
// utterance.
func (ix *intentIndex) termWeight(s string) float64 {
	w := ix.idf[s]
	if ix.weak[s] {
		w *= weakFactor
	}
	return w
}

// uniqueStems are the content stems of text, in order, without repeats.
func uniqueStems(text string) []string {
	var out []string
	for _, w := range contentWords(tokenize(text)) {
		if !slices.Contains(out, w.stem) {
			out = append(out, w.stem)
		}
	}
	return out
}

// word is a content word of a text: its stem, its surface form and the
// span it covers.
type word struct {
	stem, raw  string
	start, end int
}

// contentWords are the words of ts that can tell intents apart: not stop
// words, numbers, amounts, dates or times (those are slot values).
func contentWords(ts []token) []word {
	var out []word
	inValue := valueTokens(ts)
	for _, t := range rewritePhrases(ts) {
		if inValue[t.start] {
			continue
		}
		w := t.text
		if !isLetters(w) || stopWords[w] || slotWords[w] || isNumberWord(w) {
			continue
		}
		s := stem(w)
		if stopWords[s] {
			continue
		}
		out = append(out, word{stem: s, raw: w, start: t.start, end: t.end})
	}
	return out
}

// isNumberWord reports words that belong to numbers.
func isNumberWord(w string) bool {
	if _, ok := smallNumbers[w]; ok {
		return true
	}
	if _, ok := ordinals[w]; ok {
		return true
	}
	return scales[w] > 0 || w == "double" || w == "triple" || w == "point"
}

// slotWords name months and parts of dates, times and amounts: they are
// slot values, not reasons for an intent.
var slotWords = setOf(
	"january", "february", "march", "april", "june", "july", "august",
	"september", "october", "november", "december", "jan", "feb", "mar", "apr",
	"jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "st", "nd", "rd", "th",
	"oclock", "noon", "midnight", "midday", "quarter", "half", "past", "zip",
	"code", "postcode", "zipcode",
)

// valueTokens marks the start offsets of the tokens inside dates, times
// and amounts. (A phrase rewritten into one word starts where its first
// token does.)
func valueTokens(ts []token) map[int]bool {
	st := &slotText{ts: ts, runs: numberRuns(ts), claimed: make([]bool, len(ts)), loc: time.UTC}
	out := map[int]bool{}
	for _, cs := range [][]candidate{st.dates(), st.times(false), st.money(false)} {
		for _, c := range cs {
			for _, t := range ts[c.from:c.to] {
				out[t.start] = true
			}
		}
	}
	return out
}
