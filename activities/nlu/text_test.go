package nlu

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	for _, c := range []struct {
		text string
		want []string
	}{
		{"I can't pay, it's $12.50!", []string{"i", "can", "not", "pay", "it", "is", "$", "12.50"}},
		{"What’s my balance?", []string{"what", "is", "my", "balance"}},
		{"wi-fi twenty-five", []string{"wifi", "twenty", "five"}},
		{"at 3pm or 10:30am", []string{"at", "3", "pm", "or", "10:30", "am"}},
		{"12/25 and 555-1234, 1,200", []string{"12/25", "and", "555-1234", "1,200"}},
		{"the 5th o'clock", []string{"the", "5th", "oclock"}},
		{"  ", []string{}},
	} {
		if got := words(tokenize(c.text)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("tokenize(%q) = %q, want %q", c.text, got, c.want)
		}
	}
	ts := tokenize("pay £5")
	if ts[1].text != "£" || "pay £5"[ts[1].start:ts[1].end] != "£" {
		t.Errorf("spans: %+v", ts)
	}
}

func TestStem(t *testing.T) {
	groups := [][]string{
		{"pay", "paying", "payment", "payments", "pays", "paid"},
		{"bill", "bills", "billing", "billed"},
		{"cancel", "cancelled", "canceled", "cancelling", "cancellation"},
		{"move", "moving", "moved", "moves"},
		{"connect", "connection", "connecting", "connected"},
		{"router", "routers"},
		{"owe", "owed", "owing"},
		{"hour", "hours"},
	}
	for _, g := range groups {
		for _, w := range g[1:] {
			if stem(w) != stem(g[0]) {
				t.Errorf("stem(%q) = %q, stem(%q) = %q: want equal", w, stem(w), g[0], stem(g[0]))
			}
		}
	}
	if stem("bill") == stem("ball") || stem("open") == stem("opera") {
		t.Error("different words share a stem")
	}
}

func TestFuzzyMatch(t *testing.T) {
	for _, c := range []struct {
		a, b string
		ok   bool
	}{
		{"biling", "billing", true},
		{"acount", "account", true},
		{"agnet", "agent", true},
		{"cancle", "cancel", true},
		{"werk", "work", true},
		{"reprisentative", "representative", true},
		{"outedge", "outage", true},
		{"table", "cable", false},
		{"bil", "bal", false},
		{"book", "broke", false},
		{"hour", "your", false},
		{"same", "same", false},
	} {
		if _, ok := fuzzyMatch(c.a, c.b); ok != c.ok {
			t.Errorf("fuzzyMatch(%q, %q) = %v, want %v", c.a, c.b, ok, c.ok)
		}
	}
	if d := editDistance("abcd", "badc", 5); d != 2 {
		t.Errorf("two swaps: distance %d", d)
	}
	if d := editDistance("kitten", "sitting", 1); d != 2 {
		t.Errorf("over the bound: %d, want bound+1", d)
	}
}

func TestNumberRuns(t *testing.T) {
	for _, c := range []struct {
		text   string
		digits []string
	}{
		{"four four seven one then 12", []string{"4471", "12"}},
		{"a hundred and five", []string{"105"}},
		// Callers pause between groups of a number: a comma does not split it.
		{"one two three, oh four", []string{"12304"}},
		{"a cat", nil},
		{"oh no", nil},
	} {
		var got []string
		for _, r := range numberRuns(tokenize(c.text)) {
			got = append(got, r.digits())
		}
		if !reflect.DeepEqual(got, c.digits) {
			t.Errorf("runs of %q = %q, want %q", c.text, got, c.digits)
		}
	}
}
