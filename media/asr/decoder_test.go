package asr

import (
	"strings"
	"testing"
)

func TestParseDecoderOutput(t *testing.T) {
	hyps := map[string]string{
		"technical support (u -3476)\n":             "technical support",
		" (u 0)\n":                                  "",
		"<s> I want(2) [NOISE] to <sil> pay (u -1)": "i want to pay",
		"": "",
	}
	for in, want := range hyps {
		if got := parseHyp(in); got != want {
			t.Errorf("parseHyp(%q) = %q, want %q", in, got, want)
		}
	}

	ctm := "u 1 0.13 0.17 i 0.837\nu 1 0.31 0.25 want(2) 0.721\nu 1 0.57 0.06 <sil> 0.9\n" +
		"u 1 0.6 0.2 bill 1.5\nu 1 0.8 0.2 bad NaN\nshort line\nu 1 0.9 0.1 to -0.2\n"
	got := parseCTM(ctm)
	want := []decodedWord{{"i", 0.837}, {"want", 0.721}, {"bill", 1}, {"to", 0}}
	if len(got) != len(want) {
		t.Fatalf("parseCTM = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("word %d = %v, want %v", i, got[i], want[i])
		}
	}

}

func TestConfirm(t *testing.T) {
	words := func(s string, confs ...float64) decoding {
		d := decoding{text: s}
		for i, w := range strings.Fields(s) {
			d.words = append(d.words, decodedWord{w, confs[i]})
		}
		return d
	}
	tests := []struct {
		name   string
		open   decoding
		phrase string
		conf   float64
		heard  bool
	}{
		{"alone", words("billing", 0.9), "Billing", 0.9, true},
		{"inside", words("i want technical support please", 1, 1, 0.8, 0.6, 1), "technical support", 0.6, true},
		{"best of two", words("sales no sales", 0.2, 1, 0.7), "sales", 0.7, true},
		{"partly", words("technical boy", 1, 0.2), "technical support", 0, false},
		{"other phrase", words("real", 0.9), "sales", 0, false},
		{"nothing", decoding{}, "sales", 0, false},
		{"no posteriors", decoding{text: "i need billing"}, "billing", 1, true},
		{"empty phrase", words("billing", 1), " ", 0, false},
	}
	for _, tt := range tests {
		conf, heard := confirm(tt.open, tt.phrase)
		if conf != tt.conf || heard != tt.heard {
			t.Errorf("%s: confirm = %v, %v; want %v, %v", tt.name, conf, heard, tt.conf, tt.heard)
		}
	}
}

// FuzzDecoderOutput feeds the parsers of pocketsphinx's output files
// anything: they must not panic, and what they return must be clean.
func FuzzDecoderOutput(f *testing.F) {
	f.Add("technical support (u -3476)\n")
	f.Add("u 1 0.13 0.17 i 0.837\nu 1 0.57 0.06 <sil> 0.9\n")
	f.Add("((( ( u 1 2 3 4 5 6")
	f.Fuzz(func(t *testing.T, out string) {
		text := parseHyp(out)
		if text != strings.TrimSpace(text) || strings.Contains(text, "  ") {
			t.Errorf("parseHyp(%q) = %q: not single-spaced", out, text)
		}
		for _, w := range parseCTM(out) {
			if w.conf < 0 || w.conf > 1 || w.conf != w.conf || w.word == "" || isFiller(w.word) {
				t.Errorf("parseCTM(%q) gave %+v", out, w)
			}
		}
	})
}
