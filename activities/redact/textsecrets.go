package redact

import (
	"unicode"
	"unicode/utf8"
)

// replaceTextSecrets replaces each secret found in s as a whole word (or
// words) with MarkSecret, leftmost first, longest first where several
// start at the same place. Letters match case-insensitively and any run
// of white space matches any other.
//
// A secret that begins (ends) with a letter or digit must not follow
// (precede) one: "1234" is not found in "412345", nor "pass" in
// "password". Marks count as letters here, because they stand for letters
// or digits that were removed; without that, "abc" in "abc4111..." would
// be found once the card beside it became "[card]", and Text would not be
// idempotent. Marks themselves are never matched.
func replaceTextSecrets(s string, secrets []textSecret) string {
	if len(secrets) == 0 {
		return s
	}
	var reps []replacement
	wordBefore := false // s[i-1] ends a word or a mark
	for i := 0; i < len(s); {
		if n := markAt(s, i); n > 0 {
			i += n
			wordBefore = true
			continue
		}
		if end := matchSecretAt(s, i, wordBefore, secrets); end > i {
			reps = append(reps, replacement{start: i, end: end, mark: MarkSecret})
			i = end
			wordBefore = true
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		wordBefore = isWordRune(r)
	}
	return apply(s, reps)
}

// textSecret is a secret matched as text.
type textSecret struct {
	text string
	// first is the secret's first byte, lower-cased, when it is ASCII.
	first byte
	// wordStart and wordEnd say whether it begins and ends with a letter
	// or digit.
	wordStart, wordEnd bool
}

func newTextSecret(t string) textSecret {
	first, _ := utf8.DecodeRuneInString(t)
	sec := textSecret{text: t, wordStart: isWordRune(first), wordEnd: isWordRune(lastRune(t))}
	if first < utf8.RuneSelf {
		sec.first = lowerASCII(byte(first))
	}
	return sec
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// matchSecretAt returns the end of the first secret that matches at s[i:]
// as a whole word and overlaps no mark, or -1.
func matchSecretAt(s string, i int, wordBefore bool, secrets []textSecret) int {
	for _, sec := range secrets {
		if wordBefore && sec.wordStart {
			continue
		}
		// An ASCII byte folds only to ASCII bytes, but for "k" (Kelvin
		// sign) and "s" (long s): compare bytes only where both are
		// plain ASCII.
		if sec.first != 0 && s[i] < utf8.RuneSelf && lowerASCII(s[i]) != sec.first {
			continue
		}
		end := matchFold(s, i, sec.text)
		if end < 0 || overlapsMark(s, i, end) {
			continue
		}
		if sec.wordEnd && end < len(s) {
			next, _ := utf8.DecodeRuneInString(s[end:])
			if isWordRune(next) || markAt(s, end) > 0 {
				continue
			}
		}
		return end
	}
	return -1
}

// matchFold returns the end of secret matched at s[i:], or -1.
func matchFold(s string, i int, secret string) int {
	j := i
	for k := 0; k < len(secret); {
		want, n := utf8.DecodeRuneInString(secret[k:])
		k += n
		if unicode.IsSpace(want) {
			k += spaceRun(secret[k:])
			n := spaceRun(s[j:])
			if n == 0 {
				return -1
			}
			j += n
			continue
		}
		if j >= len(s) {
			return -1
		}
		got, m := utf8.DecodeRuneInString(s[j:])
		if !foldEqual(want, got) {
			return -1
		}
		j += m
	}
	return j
}

// spaceRun returns the length of the white space that begins s.
func spaceRun(s string) int {
	n := 0
	for n < len(s) {
		r, size := utf8.DecodeRuneInString(s[n:])
		if !unicode.IsSpace(r) {
			break
		}
		n += size
	}
	return n
}

// foldEqual reports whether a and b are the same letter under Unicode
// case folding, as strings.EqualFold compares them.
func foldEqual(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// overlapsMark reports whether s[start:end] overlaps a mark.
func overlapsMark(s string, start, end int) bool {
	// A mark that overlaps the range starts inside it or at most
	// len(longest mark)-1 bytes before it.
	from := max(0, start-len(MarkSecret)+1)
	for k := from; k < end; k++ {
		if n := markAt(s, k); n > 0 && k+n > start {
			return true
		}
	}
	return false
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// isWordRune reports whether r is part of a word: a letter, a digit or a
// combining mark.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}
