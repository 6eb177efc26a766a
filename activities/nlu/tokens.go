package nlu

import (
	"strings"
	"unicode"
)

// token is one word, number or currency sign of a text: lower case, with
// its byte span in the original text (expanded contractions share the
// span of the word they came from).
type token struct {
	text       string
	start, end int
}

// tokenize splits text into tokens. Apostrophes and dashes inside words
// stay ("can't", "wi-fi"); ".,:/-" between digits stay ("3.5", "14:30",
// "12/25", "555-1234"); "$", "€" and "£" are tokens of their own.
// Contractions are then expanded and hyphenated words joined or split.
func tokenize(text string) []token {
	var raw []token
	rs := []rune(text)
	offs := runeOffsets(text)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '$' || r == '€' || r == '£':
			raw = append(raw, token{text: string(r), start: offs[i], end: offs[i+1]})
			i++
		case isWordRune(r):
			j := i + 1
			for j < len(rs) && (isWordRune(rs[j]) || joinsWord(rs, j)) {
				j++
			}
			raw = append(raw, token{text: normWord(string(rs[i:j])), start: offs[i], end: offs[j]})
			i = j
		default:
			i++
		}
	}
	out := make([]token, 0, len(raw))
	for _, t := range raw {
		out = append(out, expandToken(t)...)
	}
	return out
}

// runeOffsets gives the byte offset of each rune and, last, len(text).
func runeOffsets(text string) []int {
	offs := make([]int, 0, len(text)+1)
	for i := range text {
		offs = append(offs, i)
	}
	return append(offs, len(text))
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// joinsWord reports whether the punctuation at rs[j] is inside a word.
func joinsWord(rs []rune, j int) bool {
	if j+1 >= len(rs) || j == 0 {
		return false
	}
	prev, next := rs[j-1], rs[j+1]
	switch rs[j] {
	case '\'', '’':
		return unicode.IsLetter(prev) && unicode.IsLetter(next)
	case '-':
		return isWordRune(prev) && isWordRune(next)
	case '.', ',', ':', '/':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	}
	return false
}

func normWord(w string) string {
	return strings.ReplaceAll(strings.ToLower(w), "’", "'")
}

// contractions expand to the words a matcher and a negation scope see.
var contractions = map[string][]string{
	"can't": {"can", "not"}, "cannot": {"can", "not"}, "won't": {"will", "not"},
	"shan't": {"shall", "not"}, "ain't": {"is", "not"}, "i'm": {"i", "am"},
	"let's": {"let", "us"},
}

// suffixContractions are expanded when no whole-word entry matched.
var suffixContractions = []struct{ suffix, word string }{
	{"n't", "not"}, {"'re", "are"}, {"'ve", "have"}, {"'ll", "will"},
	{"'d", "would"}, {"'m", "am"}, {"'s", "is"},
}

// expandToken expands contractions, splits "twenty-five" and "3pm" and
// joins other hyphenated words ("wi-fi" is "wifi").
func expandToken(t token) []token {
	at := func(words ...string) []token {
		ts := make([]token, len(words))
		for i, w := range words {
			ts[i] = token{text: w, start: t.start, end: t.end}
		}
		return ts
	}
	w := t.text
	if ws, ok := contractions[w]; ok {
		return at(ws...)
	}
	for _, c := range suffixContractions {
		if stem, ok := strings.CutSuffix(w, c.suffix); ok && stem != "" {
			return at(stem, c.word)
		}
	}
	if strings.Contains(w, "'") {
		return at(strings.ReplaceAll(w, "'", ""))
	}
	if strings.Contains(w, "-") && !isDigitsToken(w) && (w[0] < '0' || w[0] > '9') {
		parts := strings.Split(w, "-")
		if allNumberWords(parts) {
			return at(parts...)
		}
		return at(strings.Join(parts, ""))
	}
	if num, unit, ok := splitNumberUnit(w); ok {
		return at(num, unit)
	}
	return []token{t}
}

// isDigitsToken reports a token of digits and the separators kept
// between digits.
func isDigitsToken(w string) bool {
	hasDigit := false
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			hasDigit = true
		case strings.ContainsRune(".,:/-", r):
		default:
			return false
		}
	}
	return hasDigit
}

func allNumberWords(ws []string) bool {
	for _, w := range ws {
		if _, ok := smallNumbers[w]; !ok {
			return false
		}
	}
	return len(ws) > 0
}

// numberUnits may follow a number without a space: "3pm", "10am".
var numberUnits = map[string]bool{"am": true, "pm": true}

// splitNumberUnit splits "3pm" into "3" and "pm"; ordinals ("5th") stay.
func splitNumberUnit(w string) (string, string, bool) {
	i := 0
	for i < len(w) && (w[i] >= '0' && w[i] <= '9' || (i > 0 && strings.IndexByte(".:", w[i]) >= 0)) {
		i++
	}
	if i == 0 || i == len(w) || !numberUnits[w[i:]] {
		return "", "", false
	}
	return w[:i], w[i:], true
}

// words returns the texts of tokens.
func words(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.text
	}
	return out
}
