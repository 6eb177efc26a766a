package redact

import (
	"strings"
	"testing"
)

// benchLine is a 500-character transcript line with a spoken card, a code,
// an expiry date, a secret and ordinary numbers.
var benchLine = func() string {
	s := "caller: Yes, so the card is four one one one, one one one one, one one one one, one one one one, " +
		"expires oh nine two eight and the three digits on the back are three two one. My account is 4471 and " +
		"the balance you said was $82.50 due on 04/30/2025, I think. My name is Grace Okafor and I live at 77 " +
		"Harbour Lane, zip two oh four eight one. Could you also send the receipt to grace@example.com please, " +
		"and call me on 555 123 4567 if anything goes wrong with the payment today. Thanks a lot!"
	return s + strings.Repeat(" ", 500-len(s))
}()

func BenchmarkText(b *testing.B) {
	secrets := []string{"20481", "77 Harbour Lane", "Okafor"}
	b.SetBytes(int64(len(benchLine)))
	b.ReportAllocs()
	for b.Loop() {
		Text(benchLine, secrets)
	}
}

func BenchmarkTextNothingToMask(b *testing.B) {
	line := strings.Repeat("I would like to check the balance of my account please. ", 9)[:500]
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		Text(line, nil)
	}
}
