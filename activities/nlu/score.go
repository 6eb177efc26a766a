package nlu

import (
	"math"
	"slices"
)

// Tuning of the scorer (on testdata/tuned.tsv only; see accuracy_test.go).
const (
	// unknownWeight is what a word no intent knows weighs in an
	// utterance: the more of those, the less any intent explains it.
	unknownWeight = 0.75
	// The raw score is the mean of the best single example's similarity
	// and the intent's coverage of the utterance (shareExample of it from
	// the example), times how much evidence there is: 1-exp(-e/scale)
	// where e sums the weights of the matched words, so one weak word is
	// not a confident match.
	shareExample  = 0.5
	evidenceScale = 0.45
	// completeEvidence is the evidence of saying every word of an example
	// of two or more words, however weak each is ("new customer").
	completeEvidence = 0.95
	// A near tie with the runner-up scales confidence down to tieFloor.
	tieFloor  = 0.7
	tieMargin = 0.5
)

// matchedWord is an utterance word and the vocabulary stems it matches,
// each with how well (1 exact, less for a synonym or a near spelling).
type matchedWord struct {
	word
	weight float64
	terms  map[string]float64
}

// matchWords looks up each content word of an utterance in the index.
func (ix *intentIndex) matchWords(ws []word) []matchedWord {
	memo := map[word]map[string]float64{}
	expand := func(w word) map[string]float64 {
		key := word{stem: w.stem, raw: w.raw}
		if t, ok := memo[key]; ok {
			return t
		}
		t := ix.expand(w)
		memo[key] = t
		return t
	}
	ws = ix.joinSplitWords(ws, expand)
	var out []matchedWord
	seen := map[string]bool{}
	for _, w := range ws {
		if seen[w.stem] {
			continue
		}
		seen[w.stem] = true
		m := matchedWord{word: w, terms: expand(w)}
		m.weight = unknownWeight
		if len(m.terms) > 0 {
			m.weight = 0
			for t := range m.terms {
				m.weight = max(m.weight, ix.termWeight(t))
			}
			if ix.weak[w.stem] {
				m.weight *= weakFactor
			}
		}
		out = append(out, m)
	}
	return out
}

// expand returns the vocabulary stems w matches: its stem, its synonyms,
// or, when it knows none of those, what a near spelling of it matches
// (compared as written and as stems).
func (ix *intentIndex) expand(w word) map[string]float64 {
	terms := ix.direct(w.stem, 1)
	if len(terms) > 0 {
		return terms
	}
	best, bestW := []string(nil), 0.0
	for _, l := range ix.lexicon {
		sim, ok := fuzzyMatch(w.raw, l.raw)
		if s2, ok2 := fuzzyMatch(w.stem, l.stem); ok2 && len(w.stem) >= 5 && (!ok || s2 > sim) {
			sim, ok = s2, true
		}
		switch {
		case !ok || sim < bestW:
		case sim > bestW:
			best, bestW = []string{l.stem}, sim
		case !slices.Contains(best, l.stem):
			best = append(best, l.stem)
		}
	}
	terms = map[string]float64{}
	for _, l := range best {
		for t, w := range ix.direct(l, bestW) {
			terms[t] = max(terms[t], w)
		}
	}
	return terms
}

// direct is s itself and its synonyms that the vocabulary holds, scaled.
func (ix *intentIndex) direct(s string, scale float64) map[string]float64 {
	terms := map[string]float64{}
	if _, ok := ix.idf[s]; ok {
		terms[s] = scale
	}
	for _, o := range synonyms[s] {
		if _, ok := ix.idf[o]; ok && terms[o] == 0 {
			terms[o] = scale * synonymWeight
		}
	}
	return terms
}

// joinSplitWords joins two neighbouring unknown words that make a known
// one: speech recognisers split words ("out edge" for "outage").
func (ix *intentIndex) joinSplitWords(ws []word, expand func(word) map[string]float64) []word {
	var out []word
	for i := 0; i < len(ws); i++ {
		if i+1 < len(ws) && len(ix.direct(ws[i].stem, 1)) == 0 && len(ix.direct(ws[i+1].stem, 1)) == 0 {
			j := word{raw: ws[i].raw + ws[i+1].raw, start: ws[i].start, end: ws[i+1].end}
			j.stem = stem(j.raw)
			if len(expand(j)) > 0 {
				out = append(out, j)
				i++
				continue
			}
		}
		out = append(out, ws[i])
	}
	return out
}

// intentScore is the raw score of one intent and its parts.
type intentScore struct {
	index                         int
	raw, example, cover, evidence float64
}

// score rates intent i against the matched words of an utterance.
func (ix *intentIndex) score(i int, mw []matchedWord) intentScore {
	in := ix.intents[i]
	total, covered := 0.0, 0.0
	for _, m := range mw {
		total += m.weight
		best := 0.0
		for t, sim := range m.terms {
			best = max(best, sim*in.bag[t])
		}
		covered += m.weight * best
	}
	s := intentScore{index: i}
	if total == 0 || covered == 0 {
		return s
	}
	s.cover = covered / total
	s.evidence = 1 - math.Exp(-covered/evidenceScale)
	for _, ex := range in.examples {
		sim, said := ix.exampleSimilarity(ex, mw, total)
		s.example = max(s.example, sim)
		if len(ex) >= 2 {
			s.evidence = max(s.evidence, completeEvidence*said)
		}
	}
	s.raw = (shareExample*s.example + (1-shareExample)*s.cover) * s.evidence
	return s
}

// exampleSimilarity is the geometric mean of how much of the example the
// utterance says (also returned) and how much of the utterance the
// example explains, both weighted, in any word order.
func (ix *intentIndex) exampleSimilarity(ex []string, mw []matchedWord, total float64) (float64, float64) {
	exWeight, exHit := 0.0, 0.0
	for _, t := range ex {
		w := ix.termWeight(t)
		exWeight += w
		best := 0.0
		for _, m := range mw {
			best = max(best, m.terms[t])
		}
		exHit += w * best
	}
	uHit := 0.0
	for _, m := range mw {
		best := 0.0
		for _, t := range ex {
			best = max(best, m.terms[t])
		}
		uHit += m.weight * best
	}
	if exWeight == 0 || total == 0 {
		return 0, 0
	}
	said := exHit / exWeight
	return math.Sqrt(said * uHit / total), said
}

// rank scores every intent, best first (ties in declaration order).
func (ix *intentIndex) rank(mw []matchedWord) []intentScore {
	scores := make([]intentScore, len(ix.intents))
	for i := range ix.intents {
		scores[i] = ix.score(i, mw)
	}
	slices.SortStableFunc(scores, func(a, b intentScore) int {
		switch {
		case a.raw > b.raw:
			return -1
		case a.raw < b.raw:
			return 1
		}
		return 0
	})
	return scores
}

// confidence calibrates the best raw score: a near tie with the runner-up
// lowers it, down to tieFloor of the raw score for an exact tie. It is
// rounded to 0.001, and at least that when anything matched.
func confidence(best, second float64) float64 {
	if best <= 0 {
		return 0
	}
	margin := (best - second) / best
	c := best * (tieFloor + (1-tieFloor)*min(1, margin/tieMargin))
	return max(0.001, math.Round(min(1, c)*1000)/1000)
}
