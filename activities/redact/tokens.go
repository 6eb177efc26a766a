package redact

import (
	"strings"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokenDigits tokenKind = iota + 1 // a run of ASCII digits
	tokenWord                        // a run of letters, combining marks and non-ASCII digits
	tokenMark                        // a mark such as "[card]"
)

// token is a digit run, a word or a mark of the text. What lies between
// tokens (spaces, punctuation) is not a token: the gap between two
// neighbours is s[a.end:b.start].
type token struct {
	kind       tokenKind
	start, end int
	// key is the text of a digit run or a mark, or for a word that is a
	// keyword or a digit word, that word in lower case; "" for other
	// words. Phrases and digit words are compared with it.
	key string
	// inPhrase marks a token that is part of a keyword phrase ("cv", "2");
	// it is never a digit.
	inPhrase bool
	// inPath marks a token of a URL's or file's path: a name such as
	// "voicemail-1796656989961.wav", never a number to mask.
	inPath bool
}

// maxKeyLen is the longest word that may be a keyword or a digit word.
const maxKeyLen = len("verification")

func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/4+1)
	for i := 0; i < len(s); {
		if isDigit(s[i]) {
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			toks = append(toks, token{kind: tokenDigits, start: i, end: j, key: s[i:j]})
			i = j
			continue
		}
		if n := markAt(s, i); n > 0 {
			toks = append(toks, token{kind: tokenMark, start: i, end: i + n, key: s[i : i+n]})
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			i += n
			continue
		}
		j := i + n
		for j < len(s) && !isDigit(s[j]) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if !isWordRune(r) {
				break
			}
			j += n
		}
		toks = append(toks, token{kind: tokenWord, start: i, end: j, key: keyOf(s[i:j])})
		i = j
	}
	return toks
}

// keyOf returns word in lower case if it is a keyword or a digit word,
// and "" otherwise, without allocating.
func keyOf(word string) string {
	if len(word) > maxKeyLen {
		return ""
	}
	first := lowerASCII(word[0])
	if first < 'a' || first > 'z' || keywordStarts[len(word)]&(1<<(first-'a')) == 0 {
		return "" // most words: no keyword has this length and first letter
	}
	var buf [maxKeyLen]byte
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= utf8.RuneSelf {
			return "" // keywords are ASCII
		}
		buf[i] = lowerASCII(c)
	}
	return keywords[string(buf[:len(word)])]
}

// keywords maps each keyword and digit word to itself; keywordStarts
// holds, for each length, a bit for each first letter of a keyword.
var keywords, keywordStarts = func() (map[string]string, [maxKeyLen + 1]uint32) {
	m := map[string]string{}
	var starts [maxKeyLen + 1]uint32
	add := func(w string) {
		m[w] = w
		if w[0] >= 'a' && w[0] <= 'z' {
			starts[len(w)] |= 1 << (w[0] - 'a')
		}
	}
	for w := range digitWords {
		add(w)
	}
	for w := range repeatWords {
		add(w)
	}
	for _, r := range contextRules {
		for _, p := range r.phrases {
			for _, w := range strings.Fields(p) {
				add(w)
			}
		}
	}
	return m, starts
}()

// digitWords are the words a caller speaks digits with.
var digitWords = map[string]string{
	"zero": "0", "oh": "0", "o": "0", "nought": "0",
	"one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
	"six": "6", "seven": "7", "eight": "8", "nine": "9",
}

// repeatWords say that the next digit is spoken more than once.
var repeatWords = map[string]int{"double": 2, "triple": 3}

// item is one piece of a spoken or written number: a digit run, a digit
// word, or "double"/"triple" and the digit word after it.
type item struct {
	start, end int
	// tok is the index of the item's first token, next of the first token
	// after it.
	tok, next int
	digits    string
	spoken    bool
	// gap is the text between the previous item of the chain and this
	// one; "" for the first.
	gap string
}

// chains returns the numbers of the text: runs of items where each is
// joined to the next by an allowed gap. The chains share one array.
func chains(s string, toks []token) [][]item {
	var all []item
	var bounds []int // where each chain starts in all
	for i := 0; i < len(toks); {
		it, ok := itemAt(s, toks, i)
		if !ok {
			i++
			continue
		}
		if len(all) == 0 {
			all = make([]item, 0, 16)
		}
		if len(bounds) > 0 {
			prev := all[len(all)-1]
			it.gap = s[prev.end:it.start]
			if prev.next != i || !joins(it.gap, prev.spoken || it.spoken) {
				it.gap = ""
				bounds = append(bounds, len(all))
			}
		} else {
			bounds = append(bounds, 0)
		}
		all = append(all, it)
		i = it.next
	}
	out := make([][]item, len(bounds))
	for k, from := range bounds {
		to := len(all)
		if k+1 < len(bounds) {
			to = bounds[k+1]
		}
		out[k] = all[from:to:to]
	}
	return out
}

// itemAt returns the item that begins at toks[i], if one does.
func itemAt(s string, toks []token, i int) (item, bool) {
	t := toks[i]
	if t.inPhrase || t.inPath {
		return item{}, false
	}
	if t.kind == tokenDigits {
		return item{start: t.start, end: t.end, tok: i, next: i + 1, digits: t.key}, true
	}
	if t.kind != tokenWord || t.key == "" {
		return item{}, false
	}
	if d, ok := digitWords[t.key]; ok {
		return item{start: t.start, end: t.end, tok: i, next: i + 1, digits: d, spoken: true}, true
	}
	times, ok := repeatWords[t.key]
	if !ok || i+1 >= len(toks) {
		return item{}, false
	}
	u := toks[i+1]
	if u.inPhrase || s[t.end:u.start] != " " {
		return item{}, false
	}
	d, ok := digitWords[u.key]
	if u.kind == tokenDigits && len(u.key) == 1 {
		d, ok = u.key, true
	}
	if !ok {
		return item{}, false
	}
	return item{start: t.start, end: u.end, tok: i, next: i + 2, digits: strings.Repeat(d, times), spoken: true}, true
}

// joins reports whether gap joins two items into one number. Written
// digit groups are joined by a single space or dash ("4111 1111",
// "123-45-6789"), not by dots, commas or slashes (amounts, dates, lists).
// Spoken digits come with whatever punctuation the recogniser adds: up to
// three spaces, commas, dots and dashes.
func joins(gap string, spoken bool) bool {
	if !spoken {
		return gap == " " || gap == "-"
	}
	if len(gap) > 3 {
		return false
	}
	for i := 0; i < len(gap); i++ {
		if strings.IndexByte(" ,.-", gap[i]) < 0 {
			return false
		}
	}
	return true
}

// digitCount returns how many digits the items hold.
func digitCount(items []item) int {
	n := 0
	for _, it := range items {
		n += len(it.digits)
	}
	return n
}

// markPaths marks the tokens of URL and file paths: in a space-free field
// that holds "://" or starts with "/", what comes before its query ("?")
// or fragment ("#"). A recording's URL carries a millisecond timestamp
// that passes the Luhn check one time in ten; a card number in a query
// ("?card=4111...") is still masked.
func markPaths(s string, toks []token) {
	if strings.IndexByte(s, '/') < 0 {
		return // most lines: no path to look for
	}
	for i := 0; i < len(toks); {
		from, to := fieldAround(s, toks[i].start)
		field := s[from:to]
		if !strings.Contains(field, "://") && !strings.HasPrefix(field, "/") {
			for i < len(toks) && toks[i].start < to {
				i++
			}
			continue
		}
		end := to
		if k := strings.IndexAny(field, "?#"); k >= 0 {
			end = from + k
		}
		for ; i < len(toks) && toks[i].start < to; i++ {
			toks[i].inPath = toks[i].end <= end
		}
	}
}

// fieldAround returns the bounds of the space-free run of s around i.
func fieldAround(s string, i int) (from, to int) {
	from, to = i, i
	for from > 0 && !isSpace(s[from-1]) {
		from--
	}
	for to < len(s) && !isSpace(s[to]) {
		to++
	}
	return from, to
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
