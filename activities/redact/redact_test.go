package redact

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

type textCase struct {
	name    string
	in      string
	secrets []string
	want    string
}

var cardCases = []textCase{
	{name: "digits", in: "my card is 4111111111111111 thanks", want: "my card is [card] thanks"},
	{name: "spaced groups", in: "it's 4111 1111 1111 1111.", want: "it's [card]."},
	{name: "dashed groups", in: "4012-8888-8888-1881", want: "[card]"},
	{name: "amex groups", in: "amex 3782 822463 10005 ok", want: "amex [card] ok"},
	{name: "13 digits", in: "old visa 4222222222222", want: "old visa [card]"},
	{name: "19 digits", in: "6304000000000000000", want: "[card]"},
	{name: "beside letters", in: "ref4111111111111111x", want: "ref[card]x"},
	{
		name: "in a recording's url",
		in:   "file:///tmp/002/e0867c2f-voicemail-1796656989961.wav and /rec/4111111111111111.wav",
		want: "file:///tmp/002/e0867c2f-voicemail-1796656989961.wav and /rec/4111111111111111.wav",
	},
	{name: "in a url's query", in: "https://pay.example/x?card=4111111111111111", want: "https://pay.example/x?card=[card]"},
	{name: "two cards", in: "4111111111111111 or 5555 5555 5555 4444", want: "[card] or [card]"},
	{
		name: "spoken",
		in:   "sure it's four one one one one one one one one one one one one one one one",
		want: "sure it's [card]",
	},
	{
		name: "spoken upper case with commas",
		in:   "Four One One One, One One One One, One One One One, One One One One.",
		want: "[card].",
	},
	{
		name: "spoken zeros",
		in:   "four oh oh oh, oh oh oh oh, zero zero zero zero, zero zero zero two",
		want: "[card]",
	},
	{
		name: "double and triple",
		in:   "four triple one double one double one one one one one one one one one done",
		want: "[card] done",
	},
	{name: "digits and words", in: "4111 1111 one one one one 1111", want: "[card]"},
	{name: "card then more digits", in: "4111 1111 1111 1111 0427", want: "[card] 0427"},
	{name: "longest window", in: "card 4111111111111111 3 thanks", want: "card [card] thanks"},
	{
		// Speech does not say where a number starts: a Luhn-valid window of
		// a longer spoken number is masked.
		name: "window of spoken digits",
		in:   "four one one one one one one one one one one one one one one two",
		want: "four one one [card]",
	},
}

var notCardCases = []textCase{
	{name: "luhn failure", in: "4111111111111112", want: "4111111111111112"},
	{name: "luhn failure spaced", in: "4111 1111 1111 1112", want: "4111 1111 1111 1112"},
	{name: "luhn failure spoken", in: "four one one one one one one one one one one one one one one three", want: "four one one one one one one one one one one one one one one three"},
	{name: "12 digits", in: "411111111117", want: "411111111117"},
	{name: "20 digits", in: "41111111111111111115", want: "41111111111111111115"},
	{name: "double spaces", in: "4111  1111  1111  1111", want: "4111  1111  1111  1111"},
	{name: "comma list", in: "4111, 1111, 1111, 1111", want: "4111, 1111, 1111, 1111"},
	{name: "phone", in: "call me on +1 (415) 555-2671 or 555 123 4567", want: "call me on +1 (415) 555-2671 or 555 123 4567"},
	{name: "account", in: "account 4471, balance $12.50", want: "account 4471, balance $12.50"},
	{name: "dates", in: "on 2024-04-27 or 04/27/2024", want: "on 2024-04-27 or 04/27/2024"},
	{name: "decimal", in: "4111111.111111111", want: "4111111.111111111"},
	{name: "words that hold digit words", in: "someone, anyone, tone, often", want: "someone, anyone, tone, often"},
}

var codeCases = []textCase{
	{name: "cvv", in: "the cvv is 123", want: "the cvv is [code]"},
	{name: "CVV colon four digits", in: "CVV: 1234.", want: "CVV: [code]."},
	{name: "cv2", in: "cv2 456", want: "cv2 [code]"},
	{name: "cvv2 joined", in: "CVV2=789", want: "CVV2=[code]"},
	{name: "security code spoken", in: "the security code is one two three", want: "the security code is [code]"},
	{name: "digits on the back", in: "the three digits on the back are 7 4 2", want: "the three digits on the back are [code]"},
	{name: "card verification", in: "card verification value: 9 9 9 9", want: "card verification value: [code]"},
	{name: "oh as zero", in: "cvv? oh, one two three", want: "cvv? [code]"},
	{name: "after a card", in: "4111 1111 1111 1111 cvv 321", want: "[card] cvv [code]"},
	{name: "past a short number", in: "cvv, hmm, 12, no wait, 123", want: "cvv, hmm, 12, no wait, [code]"},
	{name: "eight words away", in: "cvv? wait, let me look at my own card: 123", want: "cvv? wait, let me look at my own card: [code]"},
	{name: "only the first", in: "cvv 123 and 456", want: "cvv [code] and 456"},
	{name: "stops at the next keyword", in: "security code, expiry 0427", want: "security code, expiry [expiry]"},
}

var notCodeCases = []textCase{
	{name: "no keyword", in: "my order is 123", want: "my order is 123"},
	{name: "too many digits", in: "cvv 12345", want: "cvv 12345"},
	{name: "nine words away", in: "cvv? wait, let me look at my own new card: 123", want: "cvv? wait, let me look at my own new card: 123"},
	{name: "numbers count as words", in: "cvv 1, 2, 3, 4, 5, 6, 7, 8, 9, 123", want: "cvv 1, 2, 3, 4, 5, 6, 7, 8, 9, 123"},
	{name: "too far", in: "cvv? I do not know, let me find my wallet it is 123", want: "cvv? I do not know, let me find my wallet it is 123"},
	{name: "before the keyword", in: "123 is my cvv", want: "123 is my cvv"},
	{name: "three digits alone", in: "I have three digits left: 123", want: "I have three digits left: 123"},
}

var expiryCases = []textCase{
	{name: "exp slash", in: "exp 04/27", want: "exp [expiry]"},
	{name: "expiry four digit year", in: "expiry date is 4/2027.", want: "expiry date is [expiry]."},
	{name: "spoken", in: "it expires oh four two seven", want: "it expires [expiry]"},
	{name: "valid thru dash", in: "valid thru 12-26", want: "valid thru [expiry]"},
	{name: "joined", in: "expiration 1226", want: "expiration [expiry]"},
	{name: "no keyword", in: "see you 04/27", want: "see you 04/27"},
	{name: "not a month", in: "exp 13/27", want: "exp 13/27"},
	{name: "days", in: "it expires in 30 days", want: "it expires in 30 days"},
}

var ssnCases = []textCase{
	{name: "written", in: "ssn 123-45-6789.", want: "ssn [ssn]."},
	{name: "written without keyword", in: "it's 123-45-6789", want: "it's [ssn]"},
	{name: "spaced after keyword", in: "social security number is 123 45 6789", want: "social security number is [ssn]"},
	{name: "spoken after keyword", in: "SSN one two three four five six seven eight nine", want: "SSN [ssn]"},
	{name: "other grouping", in: "123-456-789", want: "123-456-789"},
	{name: "nine digits without keyword", in: "order 123456789", want: "order 123456789"},
}

var secretCases = []textCase{
	{name: "digits", in: "my pin is 4471.", secrets: []string{"4471"}, want: "my pin is [redacted]."},
	{name: "spaced digits", in: "pin 44 71", secrets: []string{"4471"}, want: "pin [redacted]"},
	{name: "spoken digits", in: "it's four four seven one", secrets: []string{"4471"}, want: "it's [redacted]"},
	{name: "double", in: "double four seven one", secrets: []string{"4471"}, want: "[redacted]"},
	{name: "not inside a longer number", in: "ref 412345", secrets: []string{"1234"}, want: "ref 412345"},
	{name: "inside spoken digits", in: "four one two three four five", secrets: []string{"1234"}, want: "four [redacted] five"},
	{name: "beside letters", in: "PIN1234", secrets: []string{"1234"}, want: "PIN[redacted]"},
	{name: "case-insensitive", in: "my password is ROSEBUD.", secrets: []string{"rosebud"}, want: "my password is [redacted]."},
	{name: "unicode case", in: "Frau MÜLLER", secrets: []string{"Müller"}, want: "Frau [redacted]"},
	{name: "white space", in: "I'm john\n  smith", secrets: []string{"John Smith"}, want: "I'm [redacted]"},
	{name: "trimmed", in: "code alpha7", secrets: []string{" alpha7 "}, want: "code [redacted]"},
	{name: "not inside a word", in: "password", secrets: []string{"pass"}, want: "password"},
	{name: "too short", in: "ab ab 12", secrets: []string{"ab", "12", ""}, want: "ab ab 12"},
	{name: "punctuation", in: "ssn 123-45-6789", secrets: []string{"123-45-6789"}, want: "ssn [redacted]"},
	{name: "digit form of punctuation", in: "one two three, four five, six seven eight nine", secrets: []string{"123-45-6789"}, want: "[redacted]"},
	{name: "amount", in: "owes $12.50 now", secrets: []string{"12.50"}, want: "owes $[redacted] now"},
	{name: "email", in: "mail Ann.Lee@example.com.", secrets: []string{"ann.lee@example.com"}, want: "mail [redacted]."},
	{name: "longest first", in: "acme corp ltd", secrets: []string{"acme", "acme corp"}, want: "[redacted] ltd"},
	{name: "card secret is a card", in: "4111 1111 1111 1111", secrets: []string{"4111111111111111"}, want: "[card]"},
	{name: "secret inside a card", in: "4111 1111 1111 1111", secrets: []string{"1111"}, want: "[card]"},
	{name: "marks are not secrets", in: "[redacted] redacted", secrets: []string{"redacted"}, want: "[redacted] [redacted]"},
	{name: "mark neighbours", in: "abc4111111111111111", secrets: []string{"abc"}, want: "abc[card]"},
	{name: "digit secret beside a word secret", in: "ROSEBUD123", secrets: []string{"rosebud", "123"}, want: "ROSEBUD[redacted]"},
}

var markCases = []textCase{
	{name: "marks stay", in: "[card] [code] [expiry] [ssn] [redacted]", want: "[card] [code] [expiry] [ssn] [redacted]"},
	{name: "code mark stops a search", in: "cvv [code] 123", want: "cvv [code] 123"},
	{name: "empty", in: "", want: ""},
}

func TestText(t *testing.T) {
	groups := []struct {
		name  string
		cases []textCase
	}{
		{"card", cardCases}, {"not card", notCardCases}, {"code", codeCases}, {"not code", notCodeCases},
		{"expiry", expiryCases}, {"ssn", ssnCases}, {"secret", secretCases}, {"mark", markCases},
	}
	for _, g := range groups {
		for _, c := range g.cases {
			t.Run(g.name+"/"+c.name, func(t *testing.T) {
				got := Text(c.in, c.secrets)
				if got != c.want {
					t.Errorf("Text(%q, %q)\n got %q\nwant %q", c.in, c.secrets, got, c.want)
				}
				if again := Text(got, c.secrets); again != got {
					t.Errorf("not idempotent: Text(%q) = %q", got, again)
				}
			})
		}
	}
}

var update = flag.Bool("update", false, "rewrite the golden files")

// TestTranscriptGolden redacts a realistic call transcript as a whole, as
// the call record holds it: the caller's name, address and zip code are
// sensitive variables, and the security code is said in the turn after
// the question (found because Text sees both turns).
func TestTranscriptGolden(t *testing.T) {
	in, err := os.ReadFile(filepath.Join("testdata", "transcript.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := Text(string(in), []string{"Okafor", "77 Harbour Lane", "20481"})
	golden := filepath.Join("testdata", "transcript.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("redacted transcript differs from %s (go test -update rewrites it):\n%s", golden, got)
	}
}
