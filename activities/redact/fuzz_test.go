package redact

import (
	"strings"
	"testing"
)

// FuzzText checks, for any text and secret, that Text does not panic,
// leaves no Luhn-valid run of 13 to 19 digits, and is idempotent.
func FuzzText(f *testing.F) {
	for _, cases := range [][]textCase{cardCases, notCardCases, codeCases, notCodeCases, expiryCases, ssnCases, secretCases, markCases} {
		for _, c := range cases {
			secret := ""
			if len(c.secrets) > 0 {
				secret = c.secrets[0]
			}
			f.Add(c.in, secret)
		}
	}
	f.Add("abc[card]4111111111111111[redacted]xyz", "abc")
	f.Add("double double one triple", "111")
	f.Add("cvv exp 04/27 ssn 123 45 6789 cvv 12", "[code]")
	f.Fuzz(func(t *testing.T, s, secret string) {
		secrets := []string{secret}
		got := Text(s, secrets)
		if run, ok := cardRun(got); ok {
			t.Errorf("Text(%q, %q) = %q keeps the card number %s", s, secret, got, run)
		}
		if again := Text(got, secrets); again != got {
			t.Errorf("not idempotent for %q, %q:\n once %q\ntwice %q", s, secret, got, again)
		}
	})
}

// cardRun returns the first run of 13 to 19 ASCII digits in s that passes
// the Luhn check, outside the paths of URLs and files (which Text keeps).
func cardRun(s string) (string, bool) {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		run := s[i:j]
		if inPath(s, i) {
			i = j
			continue
		}
		if len(run) >= minCardDigits && len(run) <= maxCardDigits && luhnValid([]item{{digits: run}}) {
			return run, true
		}
		i = j
	}
	return "", false
}

// inPath reports whether s[i] lies in the path of a URL or file: a
// space-free field with "://" or a leading "/", before any "?" or "#".
func inPath(s string, i int) bool {
	from := strings.LastIndexAny(s[:i], " \t\n\r") + 1
	field := s[from:]
	if k := strings.IndexAny(field, " \t\n\r"); k >= 0 {
		field = field[:k]
	}
	if !strings.Contains(field, "://") && !strings.HasPrefix(field, "/") {
		return false
	}
	end := strings.IndexAny(field, "?#")
	return end < 0 || i-from < end
}

func TestCardRun(t *testing.T) {
	if _, ok := cardRun("x 4111111111111111 y"); !ok {
		t.Error("cardRun missed a card number")
	}
	if _, ok := cardRun("https://x/y?card=4111111111111111"); !ok {
		t.Error("cardRun missed a card number in a query")
	}
	if run, ok := cardRun("4111111111111112 41111111111111111115 /rec/4111111111111111.wav"); ok {
		t.Errorf("cardRun found %s", run)
	}
}

// vocabulary is what FuzzTextWords builds texts from: digits, digit
// words, keywords, marks and the separators between them, which random
// bytes seldom spell.
var vocabulary = []string{
	"0", "1", "2", "3", "4", "9", "12", "04", "27", "123", "4471", "1111", "4111", "5555", "6789", "45", "2027",
	"zero", "oh", "o", "one", "two", "three", "four", "five", "seven", "nine", "double", "triple",
	"cvv", "cv", "security", "code", "card", "verification", "digits", "digit", "on", "the", "back", "front",
	"exp", "expires", "valid", "thru", "ssn", "social", "my", "is", "pin", "abc", "ROSEBUD",
	"[card]", "[code]", "[expiry]", "[ssn]", "[redacted]", "[", "]",
	" ", " ", " ", "-", ", ", ".", "/", " / ", "  ", "\n", "$", "é",
}

// FuzzTextWords checks the properties of FuzzText on texts made of the
// vocabulary, with secrets that matter to it.
func FuzzTextWords(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 60, 7, 60, 8, 60, 9}, uint8(0))
	f.Add([]byte{27, 60, 11, 60, 28, 60, 9, 62, 4, 60, 44, 60, 39, 60, 5}, uint8(3))
	secrets := [][]string{nil, {"4471"}, {"1111"}, {"abc"}, {"rosebud", "123"}, {"abc 4111"}, {"[code]"}, {"code"}}
	f.Fuzz(func(t *testing.T, picks []byte, secretPick uint8) {
		var b strings.Builder
		for _, p := range picks {
			b.WriteString(vocabulary[int(p)%len(vocabulary)])
		}
		s, sec := b.String(), secrets[int(secretPick)%len(secrets)]
		got := Text(s, sec)
		if run, ok := cardRun(got); ok {
			t.Errorf("Text(%q, %q) = %q keeps the card number %s", s, sec, got, run)
		}
		if again := Text(got, sec); again != got {
			t.Errorf("not idempotent for %q, %q:\n once %q\ntwice %q", s, sec, got, again)
		}
	})
}
