package nlu

import "strings"

// stem reduces a lower-case word to a light stem so that pay, paying and
// payment, or bill, bills and billing, meet. It is deliberately crude (a
// few suffixes, then a trailing "e" and a doubled final letter go): both
// the examples and the utterance pass through it, so only consistency
// matters, and fuzzy matching covers what it misses.
func stem(w string) string {
	if len(w) <= 3 || !isLetters(w) {
		return w
	}
	if s, ok := irregularStems[w]; ok {
		return s
	}
	for _, r := range suffixRules {
		if base, ok := strings.CutSuffix(w, r.suffix); ok && len(base) >= r.minBase {
			w = base + r.repl
			break
		}
	}
	if len(w) > 3 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	if n := len(w); n > 3 && w[n-1] == w[n-2] {
		w = w[:n-1]
	}
	return w
}

// suffixRules are tried in order; the first that fits applies.
var suffixRules = []struct {
	suffix, repl string
	minBase      int
}{
	{"ations", "", 4}, {"ation", "", 4}, {"ments", "", 3}, {"ment", "", 3},
	{"ions", "", 4}, {"ion", "", 4}, {"ies", "y", 3}, {"ing", "", 3},
	{"ers", "er", 3}, {"ed", "", 3}, {"ly", "", 4}, {"es", "", 4}, {"s", "", 3},
}

// irregularStems are words the suffix rules would get wrong.
var irregularStems = map[string]string{
	"paid": "pay", "was": "was", "has": "has", "does": "do", "this": "this",
	"bus": "bus", "plus": "plus", "news": "news", "yes": "yes", "address": "addres",
	"addresses": "addres", "less": "less", "business": "busines", "always": "always",
	"series": "series", "gas": "gas", "status": "status", "moved": "mov",
	"being": "be", "thing": "thing", "things": "thing", "nothing": "nothing",
	"something": "something", "morning": "morning", "evening": "evening",
	"during": "during", "sing": "sing", "ring": "ring", "string": "string",
	"owing": "owe", "owed": "owe", "owes": "owe",
}

func isLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// stopWords carry no intent: function words, fillers and politeness.
// Answers ("yes", "no", "sure", "ok") and negations are not here: they
// are all a confirmation intent has to go on.
var stopWords = setOf(
	"a", "an", "the", "i", "me", "my", "mine", "myself", "we", "us", "our", "you",
	"your", "yours", "he", "she", "it", "its", "they", "them", "their", "this", "that",
	"these", "those", "there", "here", "is", "am", "are", "was", "were", "be", "been",
	"being", "do", "does", "did", "done", "doing", "have", "has", "had", "having",
	"will", "would", "shall", "should", "can", "could", "may", "might", "must",
	"to", "of", "for", "on", "in", "at", "by", "with", "from", "into", "onto",
	"about", "as", "up", "so", "and", "or", "but", "if", "then", "than", "just",
	"please", "thanks", "thank", "hi", "hello", "hey", "um", "umm", "uh", "uhh", "er", "erm", "hmm", "oh", "ah", "well", "like",
	"want", "wanna", "wants", "need", "needs", "needed", "gonna", "gotta", "got", "would", "i'd", "id", "im", "what", "which", "who", "whom",
	"whose", "it's", "some", "any", "all", "also", "too", "very", "really", "actually",
	"basically", "just", "now", "guys", "guy", "sir", "madam", "maam",
	"never", "nothing", "anything", "everything", "dont", "don't", "cant", "calling", "call", "called",
	"trying", "try", "know", "let", "lets", "go", "going", "able", "way", "much",
	"how", "again", "still", "one", "today", "tomorrow", "tonight", "yesterday",
	"week", "month", "year", "day", "days", "weeks", "months", "number", "dollars",
	"dollar", "bucks", "buck", "euros", "euro", "pounds", "pound", "cents", "cent",
	"$", "€", "£", "am", "pm", "it", "ive", "youre", "thats", "whats", "there's",
	"theres", "kind", "sort", "bit", "lot", "little", "something", "thing", "things",
	"make", "made", "take", "put", "give", "tell", "say", "said", "see",
	// Modifiers that fit any request.
	"current", "currently", "full", "total", "anymore", "already", "exactly", "quick",
	"quickly", "other", "same", "maybe", "perhaps", "soon", "later", "ever",
	"over", "off", "some", "more", "most", "many", "every", "each", "own", "only",
)

// weakStems match but say little on their own: they count at a fraction
// of their weight.
var weakStems = stemSet(
	"account", "service", "when", "time", "new", "help", "problem", "line",
	"customer", "plan", "change", "check", "keep", "area", "home",
)

func stemSet(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[stem(w)] = true
	}
	return m
}

func setOf(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}
