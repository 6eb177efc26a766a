package nlu

import "strings"

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and swaps of neighbours each
// cost 1), or max+1 once it must exceed max.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// fuzzyBudget is how many edits a word of n letters may be off by: ASR
// and typing slips ("biling", "acount", "agnet") but not short words,
// where one edit makes another word.
func fuzzyBudget(n int) int {
	switch {
	case n >= 8:
		return 2
	case n >= 4:
		return 1
	}
	return 0
}

// fuzzyWeight is what a match d edits off counts for.
func fuzzyWeight(d int) float64 {
	if d <= 1 {
		return 0.85
	}
	return 0.7
}

// fuzzyMatch reports whether words a and b are near enough, and how
// near. Words under seven letters must also share their first letter
// ("werk" and "work"; not "table" and "cable"): recognisers rarely miss
// the start of a word.
func fuzzyMatch(a, b string) (float64, bool) {
	budget := fuzzyBudget(min(len(a), len(b)))
	if budget == 0 || a == b {
		return 0, false
	}
	if min(len(a), len(b)) < 7 && a[0] != b[0] {
		return 0, false
	}
	d := editDistance(a, b, max(budget, 2))
	switch {
	case d <= budget:
		return fuzzyWeight(d), true
	case d == 2 && min(len(a), len(b)) >= 5 && soundsAlike(a, b):
		// Two edits apart but pronounced alike: "outedge" and "outage".
		return soundAlikeWeight, true
	}
	return 0, false
}

// soundAlikeWeight is what a match by sound counts for.
const soundAlikeWeight = 0.75

// soundsAlike compares rough pronunciation keys of two words, of three
// or more consonant sounds.
func soundsAlike(a, b string) bool {
	ka, kb := soundKey(a), soundKey(b)
	return len(ka) >= 3 && ka == kb
}

// soundRewrites turn spellings into the consonant they sound as, in order.
var soundRewrites = strings.NewReplacer(
	"dge", "j", "ge", "j", "gi", "j", "ph", "f", "ck", "k", "ce", "s", "ci", "s",
	"cy", "s", "c", "k", "q", "k", "x", "ks", "z", "s", "wh", "w",
)

// soundKey is the first letter and then the consonants of a word after
// soundRewrites, doubled ones once: "outage" and "outedge" are "otj".
func soundKey(w string) string {
	r := soundRewrites.Replace(w)
	var b strings.Builder
	b.WriteByte(r[0])
	for i := 1; i < len(r); i++ {
		c := r[i]
		if strings.IndexByte("aeiouyhw", c) >= 0 || c == r[i-1] {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
