package redact

// Card numbers have 13 to 19 digits (ISO/IEC 7812).
const (
	minCardDigits = 13
	maxCardDigits = 19
)

// window is a run of items of a chain, [from, to), and its mark.
type window struct {
	from, to int
	mark     string
}

// windowRule finds the windows of a run of items that it masks. Rules are
// context-free (a window matches or not whatever lies around it) and
// greedy (each start is tried, left to right): so a rule finds nothing in
// what it left, and Text is idempotent.
type windowRule func(items []item, digitSecrets []string) []window

// windowRules run in order, each on what the ones before left.
var windowRules = []windowRule{cardWindows, ssnWindows, secretWindows}

// replaceNumbers masks the numbers of s: card numbers, social security
// numbers and digit secrets anywhere, codes and expiry dates after their
// keywords.
func replaceNumbers(s string, digitSecrets []string) string {
	toks := tokenize(s)
	markPaths(s, toks)
	phrases := findPhrases(s, toks)
	// Context rules only look forward from a phrase: what comes before
	// the first needs no units.
	firstPhrase := len(toks)
	if len(phrases) > 0 {
		firstPhrase = phrases[0].from
	}
	var reps []replacement
	b := unitBuilder{s: s, toks: toks, phrases: phrases}
	if len(phrases) > 0 {
		b.units = make([]unit, 0, len(toks)-firstPhrase)
	}
	next := firstPhrase // the first token not yet turned into units
	for _, chain := range chains(s, toks) {
		ws := maskChain(chain, digitSecrets)
		if chain[0].tok < firstPhrase {
			for _, w := range ws {
				reps = append(reps, replacement{start: chain[w.from].start, end: chain[w.to-1].end, mark: w.mark})
			}
			continue
		}
		b.addTokens(next, chain[0].tok)
		b.addChain(chain, ws)
		next = chain[len(chain)-1].next
	}
	if len(phrases) > 0 {
		b.addTokens(next, len(toks))
		maskAfterPhrases(s, b.units)
	}
	for _, u := range b.units {
		if u.replace {
			reps = append(reps, replacement{start: u.start, end: u.end, mark: u.mark})
		}
	}
	return apply(s, reps)
}

// maskChain runs the window rules over a chain and returns its windows,
// in order.
func maskChain(chain []item, digitSecrets []string) []window {
	var ws []window
	for _, rule := range windowRules {
		var found []window
		from := 0
		for k := 0; k <= len(ws); k++ {
			to := len(chain)
			if k < len(ws) {
				to = ws[k].from
			}
			for _, f := range rule(chain[from:to], digitSecrets) {
				found = append(found, window{from: f.from + from, to: f.to + from, mark: f.mark})
			}
			if k < len(ws) {
				from = ws[k].to
			}
		}
		ws = mergeWindows(ws, found)
	}
	return ws
}

// mergeWindows merges two sorted lists of windows that do not overlap.
func mergeWindows(a, b []window) []window {
	if len(b) == 0 {
		return a
	}
	out := make([]window, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].from < b[0].from {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// cardWindows finds card numbers: 13 to 19 digits that pass the Luhn
// check, the longest at each start.
func cardWindows(items []item, _ []string) []window {
	var out []window
	for i := 0; i < len(items); {
		best, total := 0, 0
		for j := i; j < len(items); j++ {
			total += len(items[j].digits)
			if total > maxCardDigits {
				break
			}
			if total >= minCardDigits && luhnValid(items[i:j+1]) {
				best = j + 1
			}
		}
		if best == 0 {
			i++
			continue
		}
		out = append(out, window{from: i, to: best, mark: MarkCard})
		i = best
	}
	return out
}

// luhnValid reports whether the digits of items pass the Luhn check.
func luhnValid(items []item) bool {
	sum, double := 0, false
	for k := len(items) - 1; k >= 0; k-- {
		d := items[k].digits
		for x := len(d) - 1; x >= 0; x-- {
			v := int(d[x] - '0')
			if double {
				v *= 2
				if v > 9 {
					v -= 9
				}
			}
			sum += v
			double = !double
		}
	}
	return sum%10 == 0
}

// ssnWindows finds written social security numbers: "123-45-6789".
func ssnWindows(items []item, _ []string) []window {
	var out []window
	for i := 0; i+3 <= len(items); {
		a, b, c := items[i], items[i+1], items[i+2]
		if !a.spoken && !b.spoken && !c.spoken &&
			len(a.digits) == 3 && len(b.digits) == 2 && len(c.digits) == 4 &&
			b.gap == "-" && c.gap == "-" {
			out = append(out, window{from: i, to: i + 3, mark: MarkSSN})
			i += 3
			continue
		}
		i++
	}
	return out
}

// secretWindows finds digit secrets however they were written or spoken,
// on item boundaries: the secret 1234 is found in "12 34" and "one two
// three four" but not in "412345". Spoken digits are single items, so a
// secret is found inside a longer spoken number: speech does not say
// where a number ends, and masking too much is the safe side.
func secretWindows(items []item, digitSecrets []string) []window {
	var out []window
	for i := 0; i < len(items); {
		to := 0
		for _, secret := range digitSecrets {
			if to = matchDigits(items[i:], secret); to > 0 {
				break
			}
		}
		if to == 0 {
			i++
			continue
		}
		out = append(out, window{from: i, to: i + to, mark: MarkSecret})
		i += to
	}
	return out
}

// matchDigits returns how many items, from the first, spell secret, or 0.
func matchDigits(items []item, secret string) int {
	rest := secret
	for k, it := range items {
		if len(it.digits) > len(rest) || rest[:len(it.digits)] != it.digits {
			return 0
		}
		rest = rest[len(it.digits):]
		if rest == "" {
			return k + 1
		}
	}
	return 0
}
