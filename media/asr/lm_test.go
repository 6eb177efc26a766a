package asr

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// arpaSums checks that the model is a distribution after each history:
// the probabilities of every vocabulary word (and </s>) sum to one.
func arpaSums(t *testing.T, m *arpaModel, histories []string) {
	t.Helper()
	var vocab []string
	for w := range m.prob[0] {
		vocab = append(vocab, w)
	}
	for _, h := range histories {
		var sum float64
		for _, w := range vocab {
			g := w
			if h != "" {
				g = h + " " + w
			}
			sum += m.p(g)
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("after %q the probabilities sum to %v", h, sum)
		}
	}
}

func TestWittenBellModel(t *testing.T) {
	c := newNgramCounts()
	c.addSentence(strings.Fields("i want to pay my bill"), 3)
	c.addSentence(strings.Fields("i want to talk to an agent"), 1)
	c.addSentence(strings.Fields("four four seven one"), 0.3)
	c.addSentence(nil, 5)
	c.addWord("please", 0.5)
	m := c.estimate()
	arpaSums(t, m, []string{"", "<s>", "i", "to", "four", "please", "<s> i", "i want", "want to", "four four", "to zebra"})
	// Seen continuations beat backing off; the heavier sentence wins.
	if m.p("want to") <= m.p("want please") || m.p("to pay") <= m.p("to talk") {
		t.Errorf("p(to|want) %v p(please|want) %v p(pay|to) %v p(talk|to) %v",
			m.p("want to"), m.p("want please"), m.p("to pay"), m.p("to talk"))
	}
	if m.p("zebra") != 0 {
		t.Error("a word outside the vocabulary has a probability")
	}

	arpa := m.writeARPA()
	for _, want := range []string{"\\data\\\nngram 1=", "\n\\1-grams:\n-99.0000 <s> ", "\n\\3-grams:\n", "\n\\end\\\n"} {
		if !strings.Contains(arpa, want) {
			t.Errorf("ARPA text lacks %q", want)
		}
	}
	counts := map[string]int{}
	section := ""
	for _, line := range strings.Split(arpa, "\n") {
		switch {
		case strings.HasSuffix(line, "-grams:"):
			section = line
		case section != "" && line != "" && line != "\\end\\":
			counts[section]++
			f := strings.Fields(line)
			if _, err := strconv.ParseFloat(f[0], 64); err != nil {
				t.Errorf("line %q: %v", line, err)
			}
		}
	}
	if !strings.Contains(arpa, "ngram 2="+strconv.Itoa(counts["\\2-grams:"])) || !strings.Contains(arpa, "ngram 1="+strconv.Itoa(counts["\\1-grams:"])) {
		t.Errorf("header counts do not match the sections %v:\n%s", counts, arpa[:80])
	}
}

func TestHintCorpusVocabulary(t *testing.T) {
	p := needRecognizer(t)
	dict := mustDict(t, p)
	// Every built-in word must be in the dictionary: one that is not would
	// silently never be heard.
	lists := map[string][]string{"carrier": carrierWords, "filler": fillerWords}
	for _, s := range []string{SlotDigits, SlotNumber, SlotDate, SlotTime, SlotMoney} {
		words, sentences := slotPhrases(s)
		if len(words) == 0 || len(sentences) == 0 {
			t.Errorf("slot %s has no vocabulary", s)
		}
		lists[s] = append(words, strings.Fields(strings.Join(sentences, " "))...)
	}
	lists["carrier phrases"] = strings.Fields(strings.Join(carrierPhrases, " "))
	for name, words := range lists {
		for _, w := range words {
			if _, ok := dict[w]; !ok {
				t.Errorf("%s word %q is not in %s", name, w, p.Dict)
			}
		}
	}
	c := hintCorpus(dict, Hints{Phrases: []string{"Pay my bill"}, Slots: []string{"TIME", "bogus"}})
	if len(c.unknown) != 0 {
		t.Errorf("unknown %q", c.unknown)
	}
	m := c.model()
	for _, w := range []string{"pay", "o'clock", "four", "account"} {
		if !strings.Contains(m.dict, "\n"+w+" ") && !strings.HasPrefix(m.dict, w+" ") {
			t.Errorf("dictionary lacks %q", w)
		}
	}
	if strings.Contains(m.dict, "\ndollars ") {
		t.Error("money words without a money slot")
	}
	if m.words < 200 || m.words > 600 {
		t.Errorf("%d words: the model should stay small", m.words)
	}
}

func TestHintsDigest(t *testing.T) {
	a := hintsDigest("t", Hints{Phrases: []string{"Pay my bill", "agent"}, Slots: []string{"digits", "Date"}})
	b := hintsDigest("t", Hints{Phrases: []string{"agent", "pay  my BILL"}, Slots: []string{"date", "digits"}})
	if a != b {
		t.Error("the same hints in another order or case digest differently")
	}
	for _, other := range []string{
		hintsDigest("m", Hints{Phrases: []string{"Pay my bill", "agent"}, Slots: []string{"digits", "Date"}}),
		hintsDigest("t", Hints{Phrases: []string{"Pay my bill", "agents"}, Slots: []string{"digits", "Date"}}),
		hintsDigest("t", Hints{Phrases: []string{"Pay my bill", "agent"}, Slots: []string{"digits"}}),
		hintsDigest("t", Hints{Phrases: []string{"Pay my bill agent"}, Slots: []string{"digits", "Date"}}),
	} {
		if other == a {
			t.Error("different hints share a digest")
		}
	}
}

func TestModelCache(t *testing.T) {
	var c modelCache
	builds := 0
	build := func() *langModel { builds++; return &langModel{} }
	first := c.get("a", build)
	if c.get("a", build) != first || builds != 1 {
		t.Fatalf("cached model rebuilt (%d builds)", builds)
	}
	for i := range modelCacheSize + 5 {
		c.get(strconv.Itoa(i), build)
	}
	if len(c.models) > modelCacheSize {
		t.Errorf("%d models held, bound %d", len(c.models), modelCacheSize)
	}
}
