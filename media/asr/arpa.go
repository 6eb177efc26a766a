package asr

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Sentence markers of ARPA language models.
const (
	sentStart = "<s>"
	sentEnd   = "</s>"
)

// lmOrder is the n-gram order of the models built here (trigrams).
const lmOrder = 3

// ngramCounts gathers weighted n-gram counts (orders 1 to lmOrder) for a
// back-off language model.
type ngramCounts struct {
	// counts[n-1] maps an n-gram (words joined by spaces) to its count.
	counts [lmOrder]map[string]float64
	// vocab holds words that may be said though no sentence shows them in
	// context; each gets a unigram count of its own.
	vocab map[string]float64
}

func newNgramCounts() *ngramCounts {
	c := &ngramCounts{vocab: map[string]float64{}}
	for i := range c.counts {
		c.counts[i] = map[string]float64{}
	}
	return c
}

// addSentence counts the n-grams of one sentence, bracketed by <s> and
// </s>, weight times.
func (c *ngramCounts) addSentence(words []string, weight float64) {
	if len(words) == 0 || weight <= 0 {
		return
	}
	s := make([]string, 0, len(words)+2)
	s = append(append(append(s, sentStart), words...), sentEnd)
	for i := 1; i < len(s); i++ { // every n-gram ends on a word after <s>
		for n := 1; n <= lmOrder && i-n+1 >= 0; n++ {
			c.counts[n-1][strings.Join(s[i-n+1:i+1], " ")] += weight
		}
	}
}

// addWord makes a word part of the vocabulary with a unigram count.
func (c *ngramCounts) addWord(word string, weight float64) { c.vocab[word] += weight }

// arpaModel is a back-off model ready to be written: for every seen n-gram
// its probability, and for every history its back-off weight.
type arpaModel struct {
	prob    [lmOrder]map[string]float64
	backoff map[string]float64
}

// estimate turns counts into an interpolated Witten-Bell model:
//
//	p(w|h) = (c(h w) + T(h)·p(w|h')) / (c(h) + T(h))
//
// where T(h) is the number of distinct words seen after h and h' is h
// without its first word; unigrams are the counts normalised (every word
// of the vocabulary has a count). Written as ARPA, each seen n-gram gets
// its interpolated probability and each history the back-off weight
// T(h)/(c(h)+T(h)), which is exactly the unseen case of the formula, so
// the model sums to one over the vocabulary after every history. Witten-
// Bell suits the weighted (fractional) counts of a synthetic corpus.
func (c *ngramCounts) estimate() *arpaModel {
	m := &arpaModel{backoff: map[string]float64{}}
	for i := range m.prob {
		m.prob[i] = map[string]float64{}
	}
	uni := map[string]float64{}
	for w, v := range c.counts[0] {
		uni[w] += v
	}
	for w, v := range c.vocab {
		if w != sentStart && v > 0 {
			uni[w] += v
		}
	}
	var total float64
	for _, v := range uni {
		total += v
	}
	for w, v := range uni {
		m.prob[0][w] = v / total
	}
	for n := 2; n <= lmOrder; n++ {
		histTotal, histTypes := map[string]float64{}, map[string]float64{}
		for g, v := range c.counts[n-1] {
			h, _ := splitLast(g)
			histTotal[h] += v
			histTypes[h]++
		}
		for g, v := range c.counts[n-1] {
			h, _ := splitLast(g)
			m.prob[n-1][g] = (v + histTypes[h]*m.p(dropFirst(g))) / (histTotal[h] + histTypes[h])
		}
		for h, t := range histTotal {
			m.backoff[h] = histTypes[h] / (t + histTypes[h])
		}
	}
	return m
}

func splitLast(ngram string) (history, word string) {
	i := strings.LastIndexByte(ngram, ' ')
	if i < 0 {
		return "", ngram
	}
	return ngram[:i], ngram[i+1:]
}

func dropFirst(ngram string) string {
	_, rest, _ := strings.Cut(ngram, " ")
	return rest
}

// p is the model's probability of an n-gram's last word given the words
// before it, backing off through shorter histories.
func (m *arpaModel) p(ngram string) float64 {
	n := strings.Count(ngram, " ") + 1
	if n > lmOrder {
		return 0
	}
	if p, ok := m.prob[n-1][ngram]; ok {
		return p
	}
	if n == 1 {
		return 0 // not in the vocabulary
	}
	h, _ := splitLast(ngram)
	bo, ok := m.backoff[h]
	if !ok {
		bo = 1
	}
	return bo * m.p(dropFirst(ngram))
}

// writeARPA renders the model in the ARPA text format pocketsphinx reads
// with -lm. <s> gets the conventional -99 (it is never predicted).
func (m *arpaModel) writeARPA() string {
	var b strings.Builder
	grams := make([][]string, lmOrder)
	for n := range lmOrder {
		for g := range m.prob[n] {
			grams[n] = append(grams[n], g)
		}
		slices.Sort(grams[n])
	}
	b.WriteString("\\data\\\n")
	fmt.Fprintf(&b, "ngram 1=%d\n", len(grams[0])+1)
	for n := 1; n < lmOrder; n++ {
		fmt.Fprintf(&b, "ngram %d=%d\n", n+1, len(grams[n]))
	}
	for n := range lmOrder {
		fmt.Fprintf(&b, "\n\\%d-grams:\n", n+1)
		if n == 0 {
			fmt.Fprintf(&b, "-99.0000 %s %.4f\n", sentStart, log10OrZero(m.backoff[sentStart]))
		}
		for _, g := range grams[n] {
			fmt.Fprintf(&b, "%.4f %s", math.Log10(m.prob[n][g]), g)
			if bo, ok := m.backoff[g]; ok && n < lmOrder-1 {
				fmt.Fprintf(&b, " %.4f", math.Log10(bo))
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString("\n\\end\\\n")
	return b.String()
}

func log10OrZero(v float64) float64 {
	if v <= 0 {
		return 0
	}
	return math.Log10(v)
}
