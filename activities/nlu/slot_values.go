package nlu

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/voxflow/voxflow/activities"
)

// digitStrings are the digit strings of the number runs. Read strictly, a
// run needs three digits or a word naming the slot just before it.
func (st *slotText) digitStrings(def activities.SlotDef, loose bool) []candidate {
	hints := slotHints(def)
	var out []candidate
	for _, r := range st.runs {
		if r.decimal {
			continue
		}
		d := r.digits()
		if d == "" || (!loose && len(d) < 3 && !st.namedBefore(r.from, hints)) {
			continue
		}
		out = append(out, candidate{value: d, from: r.from, to: r.to})
	}
	return out
}

// namedBefore reports a hint word at most three tokens before ts[i]
// ("account number is 12").
func (st *slotText) namedBefore(i int, hints map[string]bool) bool {
	for k := i - 1; k >= 0 && k >= i-3; k-- {
		if hints[st.stems[k]] {
			return true
		}
	}
	return false
}

// numbers are the values of the number runs; read strictly, a lone "one"
// or "a" is a word, not a number ("the blue one").
func (st *slotText) numbers(loose bool) []candidate {
	var out []candidate
	for _, r := range st.runs {
		if !loose && r.to-r.from == 1 && st.ts[r.from].text == "one" {
			continue
		}
		out = append(out, candidate{value: numberValue(r.value()), from: r.from, to: r.to})
	}
	return out
}

// currencies are the words and signs that make a number an amount.
var currencies = setOf("$", "€", "£", "dollar", "dollars", "buck", "bucks", "euro",
	"euros", "pound", "pounds", "quid", "usd", "eur", "gbp", "cad", "aud")

// currencySigns may stand before the amount: "$12", "USD 12".
var currencySigns = setOf("$", "€", "£", "usd", "eur", "gbp", "cad", "aud")

var centWords = setOf("cent", "cents", "pence", "p")

// money finds amounts: "$12.50", "twelve dollars fifty", "12 euros",
// "a hundred bucks", "fifty cents". Loosely, any number is an amount
// ("twelve fifty" is 12.50).
func (st *slotText) money(loose bool) []candidate {
	var out []candidate
	for k, r := range st.runs {
		v, from, to, ok := st.amountAt(k)
		if !ok && loose {
			v, from, to, ok = looseAmount(r), r.from, r.to, true
		}
		if ok {
			out = append(out, candidate{value: fmt.Sprintf("%.2f", v), from: from, to: to})
		}
	}
	return out
}

// amountAt reads the amount around number run k, if a currency says it
// is one.
func (st *slotText) amountAt(k int) (float64, int, int, bool) {
	r := st.runs[k]
	v, from, to := r.value(), r.from, r.to
	at := func(i int) string {
		if i >= 0 && i < len(st.ts) {
			return st.ts[i].text
		}
		return ""
	}
	switch {
	case currencySigns[at(from-1)]:
		from--
	case centWords[at(to)] && at(to) != "p" || at(to) == "p" && r.words:
		return v / 100, from, to + 1, true
	case currencies[at(to)]:
		to++
	default:
		return 0, 0, 0, false
	}
	// Cents after the main unit: "twelve dollars fifty", "and 50 cents".
	i := to
	if at(i) == "and" {
		i++
	}
	if k+1 < len(st.runs) && st.runs[k+1].from == i && !r.decimal {
		c := st.runs[k+1]
		if cv := c.value(); cv < 100 && cv == float64(int(cv)) {
			to = c.to
			if centWords[at(to)] {
				to++
			}
			v += cv / 100
		}
	}
	return v, from, to, true
}

// looseAmount reads a bare number as an amount: two spoken groups with
// two digits after ("twelve fifty") are units and cents.
func looseAmount(r numberRun) float64 {
	if r.words && len(r.groups) == 2 && !r.decimal {
		a, c := r.groups[0].value, r.groups[1].value
		if c >= 10 && c < 100 && a < 1000 {
			return a + c/100
		}
	}
	return r.value()
}

// enum finds the enum values said: every word of a value, exactly or
// nearly spelt, in order. Only the value's own words count (no
// built-in synonyms), so a value is never read into a text that does not
// say it. Longer values come first ("mobile phone" over "phone"), then
// exact over near, then earliest.
func (st *slotText) enum(values []string) []candidate {
	type found struct {
		candidate
		words int
		exact bool
	}
	var all []found
	for _, v := range values {
		vw := tokenize(v)
		if len(vw) == 0 {
			continue
		}
		if from, to, exact, ok := st.findWords(words(vw)); ok {
			all = append(all, found{candidate{v, from, to}, len(vw), exact})
		}
	}
	slices.SortStableFunc(all, func(a, b found) int {
		switch {
		case a.words != b.words:
			return b.words - a.words
		case a.exact != b.exact:
			if a.exact {
				return -1
			}
			return 1
		}
		return a.from - b.from
	})
	out := make([]candidate, len(all))
	for i, f := range all {
		out[i] = f.candidate
	}
	return out
}

// findWords finds ws said one after the other in the text and reports
// the span and whether all matched exactly.
func (st *slotText) findWords(ws []string) (int, int, bool, bool) {
	for start := range st.ts {
		from, to, exact, ok := start, start, true, true
		for k, w := range ws {
			i := start + k
			if i >= len(st.ts) {
				ok = false
				break
			}
			e, m := wordMatches(w, st.ts[i].text)
			if !m {
				ok = false
				break
			}
			exact = exact && e
			to = i + 1
		}
		if ok {
			return from, to, exact, true
		}
	}
	return 0, 0, false, false
}

// wordMatches reports whether token t says enum word w: the same word or
// stem, the same number ("2" and "two"), or a near spelling.
func wordMatches(w, t string) (exact, ok bool) {
	if w == t || stem(w) == stem(t) {
		return true, true
	}
	if wn, ok := wordNumber(w); ok {
		tn, ok := wordNumber(t)
		return ok && wn == tn, ok && wn == tn
	}
	_, near := fuzzyMatch(stem(w), stem(t))
	return false, near
}

// wordNumber reads one token as a whole number.
func wordNumber(w string) (int, bool) {
	if v, ok := smallNumbers[w]; ok {
		return v, true
	}
	v, err := strconv.Atoi(w)
	return v, err == nil
}
