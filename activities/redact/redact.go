// Package redact masks what callers say before it is stored in a call's
// timeline and record or sent to a model: payment card numbers, card
// security codes, expiry dates, social security numbers and the values of
// a flow's sensitive variables.
//
// It is called from workflow code, so it is pure and deterministic: no
// clock, no randomness, no map iteration order, no I/O, no goroutines.
//
// Text works in two stages. The first replaces the secrets that are not
// plain digit strings wherever they occur as whole words. The second reads
// the rest as tokens (digit runs, words, marks already written) and finds
// numbers in them: a number is a chain of digit runs joined by single
// spaces or dashes, or of digits spoken one by one as words ("four one
// one", "oh", "double one"). Card numbers, social security numbers and
// digit secrets are windows of such chains; codes and expiry dates are
// chains found a few words after a keyword ("cvv", "expiry"). Both stages
// treat the marks they write as opaque, which makes Text idempotent:
// redacting redacted text changes nothing.
//
// Matches are on word and digit boundaries: the secret "1234" is not found
// in "412345", nor "pass" in "password". Masking too much is the safe side
// where speech is ambiguous: any Luhn-valid window of 13 to 19 digits of a
// longer spoken number is a card. What is not found: numbers spoken as
// tens ("forty one eleven") or in other languages, digits other than
// ASCII, written groups joined by anything but one space or dash, and a
// code said before its keyword or in another text than its keyword (the
// engine redacts a transcript as a whole, or keeps a collected code in a
// sensitive variable).
package redact

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// The marks that replace what is redacted. Card numbers keep nothing, not
// even the last four digits: a transcript of speech cannot be matched
// reliably to a card format (the caller may pause, repeat or correct a
// digit), and nothing downstream needs them.
const (
	MarkCard   = "[card]"
	MarkCode   = "[code]"
	MarkExpiry = "[expiry]"
	MarkSSN    = "[ssn]"
	MarkSecret = "[redacted]"
)

// marks are the marks Text writes; found in its input, they are left alone.
var marks = []string{MarkCard, MarkCode, MarkExpiry, MarkSSN, MarkSecret}

// minSecret is the shortest secret (in characters, or digits for a digit
// secret) that Text looks for: shorter ones would mask ordinary words and
// numbers everywhere.
const minSecret = 3

// Text returns s with card numbers, security codes, expiry dates, social
// security numbers and the given secrets replaced by marks. Secrets are
// the values of sensitive variables (see Secrets): they are matched
// case-insensitively on word boundaries, and a secret made of digits is
// also found spoken ("four four seven one") or spaced ("44 71"). Secrets
// shorter than three characters are ignored.
func Text(s string, secrets []string) string {
	return prepareSecrets(secrets).redact(s)
}

// secretSet is the secrets as Text looks for them.
type secretSet struct {
	// text are the secrets that are not plain digit strings, trimmed,
	// longest first: matched as text.
	text []textSecret
	// digits are the digits of the secrets written with digits only (and
	// separators such as "123-45-6789"), longest first: matched against
	// numbers, however they were written or spoken.
	digits []string
}

// redact is Text with the secrets prepared.
func (set secretSet) redact(s string) string {
	s = replaceTextSecrets(s, set.text)
	return replaceNumbers(s, set.digits)
}

func prepareSecrets(secrets []string) secretSet {
	var set secretSet
	var text []string
	for _, secret := range secrets {
		t := strings.TrimSpace(secret)
		if utf8.RuneCountInString(t) < minSecret {
			continue
		}
		d, ok := digitForm(t)
		if ok && len(d) >= minSecret {
			set.digits = append(set.digits, d)
		}
		if !ok || d != t {
			text = append(text, t)
		}
	}
	for _, t := range sortLongestFirst(text) {
		set.text = append(set.text, newTextSecret(t))
	}
	set.digits = sortLongestFirst(set.digits)
	return set
}

// digitForm returns the digits of s when s is digits and the separators
// people write numbers with, and false otherwise.
func digitForm(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			b.WriteByte(c)
		case strings.IndexByte(" -.()+/", c) < 0:
			return "", false
		}
	}
	return b.String(), b.Len() > 0
}

// sortLongestFirst sorts longest first, then by text, and drops
// duplicates: longer secrets win where secrets overlap.
func sortLongestFirst(list []string) []string {
	slices.SortFunc(list, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(list)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// markAt returns the length of the mark that starts at s[i:], or 0.
func markAt(s string, i int) int {
	if i >= len(s) || s[i] != '[' {
		return 0
	}
	for _, m := range marks {
		if strings.HasPrefix(s[i:], m) {
			return len(m)
		}
	}
	return 0
}

// markEndsAt reports whether a mark ends just before s[i].
func markEndsAt(s string, i int) bool {
	if i == 0 || s[i-1] != ']' {
		return false
	}
	for _, m := range marks {
		if strings.HasSuffix(s[:i], m) {
			return true
		}
	}
	return false
}

// replacement is a byte range of the text and the mark that replaces it.
type replacement struct {
	start, end int
	mark       string
}

// apply writes s with the replacements, which are sorted and do not
// overlap.
func apply(s string, reps []replacement) string {
	if len(reps) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	at := 0
	for _, r := range reps {
		b.WriteString(s[at:r.start])
		b.WriteString(r.mark)
		at = r.end
	}
	b.WriteString(s[at:])
	return b.String()
}
