package redact

import (
	"slices"
	"strings"
)

// contextRule masks the first number that matches within a few words
// after one of its keyword phrases.
type contextRule struct {
	mark string
	// match returns how many units, from us[k] (a number), it masks; 0
	// when it does not match.
	match func(s string, us []unit, k int) int
	// phrases are its keywords, lower-case words separated by spaces; a
	// digit is a word ("cv 2" is "cv2", "CV2" or "cv-2").
	phrases []string
}

var contextRules = []*contextRule{
	{mark: MarkCode, match: matchCode, phrases: []string{
		"cvv", "cvc", "cv 2", "cvv 2", "cvc 2", "csc", "cid",
		"security code", "security number", "card verification",
		"three digits on the back", "3 digits on the back",
		"four digits on the front", "4 digits on the front",
		"three digit code", "3 digit code",
	}},
	// Expiry dates are masked only after a keyword: a bare "04/27" is as
	// likely a date or a score. The keyword is the card context; a card
	// number in the same text is not required, as callers say it in
	// another turn.
	{mark: MarkExpiry, match: matchExpiry, phrases: []string{
		"exp", "expiry", "expiration", "expires", "expire", "expiring", "expired",
		"valid thru", "valid through", "valid until", "good thru", "good through",
	}},
	// Written social security numbers are found anywhere (ssnWindows);
	// nine digits are one only after a keyword.
	{mark: MarkSSN, match: matchSSN, phrases: []string{
		"ssn", "social security", "social insurance",
	}},
}

// maxWordsAfter is how many words may come between a keyword and what it
// introduces: "the security code on the back of your card? It's 123".
const maxWordsAfter = 8

// phrase is a keyword phrase as tokens are compared with it.
type phrase struct {
	words []string
	rule  *contextRule
}

// phrasesByFirst indexes the phrases by their first word, longest first.
var phrasesByFirst = func() map[string][]phrase {
	m := map[string][]phrase{}
	for _, r := range contextRules {
		for _, p := range r.phrases {
			words := strings.Fields(p)
			m[words[0]] = append(m[words[0]], phrase{words: words, rule: r})
		}
	}
	for _, list := range m {
		slices.SortStableFunc(list, func(a, b phrase) int { return len(b.words) - len(a.words) })
	}
	return m
}()

// phraseMatch is a keyword phrase found in the tokens [from, to).
type phraseMatch struct {
	from, to int
	rule     *contextRule
}

// findPhrases finds the keyword phrases, left to right, and marks their
// tokens so that no digit of a phrase ("cv2", "three digits on the back")
// is read as part of a number.
func findPhrases(s string, toks []token) []phraseMatch {
	var out []phraseMatch
	for i := 0; i < len(toks); {
		if toks[i].kind == tokenMark || toks[i].key == "" {
			i++
			continue
		}
		n, rule := phraseAt(s, toks, i)
		if n == 0 {
			i++
			continue
		}
		for k := i; k < i+n; k++ {
			toks[k].inPhrase = true
		}
		out = append(out, phraseMatch{from: i, to: i + n, rule: rule})
		i += n
	}
	return out
}

// phraseAt returns the length in tokens of the longest phrase at toks[i]
// and its rule, or 0.
func phraseAt(s string, toks []token, i int) (int, *contextRule) {
next:
	for _, p := range phrasesByFirst[toks[i].key] {
		if i+len(p.words) > len(toks) {
			continue
		}
		for k := 1; k < len(p.words); k++ {
			t := toks[i+k]
			if t.kind == tokenMark || t.key != p.words[k] || !phraseGap(s[toks[i+k-1].end:t.start]) {
				continue next
			}
		}
		return len(p.words), p.rule
	}
	return 0, nil
}

// phraseGap reports whether gap may separate the words of a phrase.
func phraseGap(gap string) bool {
	return len(gap) <= 3 && strings.Trim(gap, " -") == ""
}

// maskAfterPhrases masks what the context rules find after their
// phrases. A search stops at the next phrase, at a mark of its own rule
// (what an earlier Text masked) or after maxWordsAfter words, numbers and
// other marks. So searches never share units, and a second Text stops
// where the first masked: Text stays idempotent.
func maskAfterPhrases(s string, us []unit) {
	for p := range us {
		if us[p].kind != unitPhrase {
			continue
		}
		rule := us[p].rule
		words := 0
	scan:
		for k := p + 1; k < len(us); k++ {
			switch u := us[k]; {
			case u.kind == unitPhrase, u.kind == unitMark && u.mark == rule.mark:
				break scan
			case u.kind == unitNumber:
				if n := rule.match(s, us, k); n > 0 {
					maskUnits(us[k:k+n], rule.mark)
					break scan
				}
			case u.kind == 0:
				continue // merged into the mark before it
			}
			if words++; words > maxWordsAfter {
				break
			}
		}
	}
}

// maskUnits turns the units into one mark that replaces them.
func maskUnits(us []unit, mark string) {
	start, end := us[0].start, us[len(us)-1].end
	for k := range us {
		us[k] = unit{}
	}
	us[0] = unit{kind: unitMark, start: start, end: end, mark: mark, replace: true}
}

// matchCode matches a card security code: 3 or 4 digits.
func matchCode(_ string, us []unit, k int) int {
	if n := digitCount(us[k].items); n == 3 || n == 4 {
		return 1
	}
	return 0
}

// matchSSN matches the nine digits of a social security number.
func matchSSN(_ string, us []unit, k int) int {
	if digitCount(us[k].items) == 9 {
		return 1
	}
	return 0
}

// matchExpiry matches an expiry date: "04/27", "4/2027", "04 27",
// "04-2027", "0427", "042027" or "oh four two seven".
func matchExpiry(s string, us []unit, k int) int {
	items := us[k].items
	if k+1 < len(us) && us[k+1].kind == unitNumber && len(items) == 1 && len(us[k+1].items) == 1 {
		gap := s[us[k].end:us[k+1].start]
		if (gap == "/" || gap == " / ") && monthYear(items[0], us[k+1].items[0]) {
			return 2
		}
	}
	if len(items) == 2 && monthYear(items[0], items[1]) {
		return 1
	}
	var d strings.Builder
	for _, it := range items {
		d.WriteString(it.digits)
	}
	switch ds := d.String(); len(ds) {
	case 4:
		if isMonth(ds[:2]) {
			return 1
		}
	case 6:
		if isMonth(ds[:2]) && ds[2:4] == "20" {
			return 1
		}
	}
	return 0
}

// monthYear reports whether the written items are a month and a year.
func monthYear(month, year item) bool {
	return !month.spoken && !year.spoken && isMonth(month.digits) &&
		(len(year.digits) == 2 || len(year.digits) == 4)
}

func isMonth(d string) bool {
	switch len(d) {
	case 1:
		return d != "0"
	case 2:
		return d[0] == '0' && d[1] != '0' || d == "10" || d == "11" || d == "12"
	}
	return false
}
