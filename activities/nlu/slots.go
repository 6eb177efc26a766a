package nlu

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// candidate is a slot value found in a text, over tokens[from:to].
type candidate struct {
	value    any
	from, to int
}

// slotText is a text being searched for slot values: its tokens, its
// number runs, and which tokens a slot already took.
type slotText struct {
	text    string
	ts      []token
	stems   []string
	runs    []numberRun
	claimed []bool
	now     time.Time
	loc     *time.Location
}

func newSlotText(text string, now time.Time, loc *time.Location) *slotText {
	if loc == nil {
		loc = time.UTC
	}
	ts := tokenize(text)
	stems := make([]string, len(ts))
	for i, t := range ts {
		stems[i] = stem(t.text)
	}
	return &slotText{text: text, ts: ts, stems: stems, runs: numberRuns(ts), claimed: make([]bool, len(ts)),
		now: now.In(loc), loc: loc}
}

// free reports whether no slot took any of tokens[from:to].
func (st *slotText) free(c candidate) bool {
	return !slices.Contains(st.claimed[c.from:c.to], true)
}

func (st *slotText) claim(c candidate) {
	for i := c.from; i < c.to; i++ {
		st.claimed[i] = true
	}
}

// find lists the candidates of a slot type. Loose is how an answer to a
// question reads: a bare number is then an amount, a time or a digit
// string; strict needs the value to say what it is ("$12", "at 3pm").
func (st *slotText) find(def activities.SlotDef, loose bool) []candidate {
	switch def.Type {
	case activities.SlotMoney:
		return st.money(loose)
	case activities.SlotDate:
		return st.dates()
	case activities.SlotTime:
		return st.times(loose)
	case activities.SlotDigits:
		return st.digitStrings(def, loose)
	case activities.SlotNumber:
		return st.numbers(loose)
	case activities.SlotEnum:
		return st.enum(def.Values)
	}
	return nil
}

// typeOrder is the order slots take values in: the types that need a
// marker first, so "$20" is an amount before it can be a number.
var typeOrder = map[string]int{
	activities.SlotMoney: 0, activities.SlotDate: 1, activities.SlotTime: 2,
	activities.SlotEnum: 3, activities.SlotDigits: 4, activities.SlotNumber: 5,
	activities.SlotText: 6,
}

// ExtractSlots finds the values of slots in text. A value must say what it
// is (an amount needs a currency, a time "at", "pm" or "o'clock", a digit
// string three digits or a word naming the slot next to it); nothing is
// invented. Each part of the text fills at most one slot. The first text
// slot takes the whole text: ExtractSlots does not know which words chose
// an intent (Classify fills it with what follows them). Dates and times
// are relative to now in loc (nil: UTC).
func ExtractSlots(text string, slots []activities.SlotDef, now time.Time, loc *time.Location) map[string]any {
	out := extract(text, slots, nil, now, loc)
	k := slices.IndexFunc(slots, func(d activities.SlotDef) bool { return d.Type == activities.SlotText })
	if t := strings.TrimSpace(text); k >= 0 && t != "" {
		if _, taken := out[slots[k].Name]; !taken {
			out[slots[k].Name] = t
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// extract fills the non-text slots: wanted ones first (read loosely),
// then the others by type order, then declaration order.
func extract(text string, slots []activities.SlotDef, want []string, now time.Time, loc *time.Location) map[string]any {
	st := newSlotText(text, now, loc)
	order := make([]int, len(slots))
	for i := range order {
		order[i] = i
	}
	wanted := func(i int) int {
		if k := slices.Index(want, slots[i].Name); k >= 0 {
			return k
		}
		return len(want)
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if wa, wb := wanted(a), wanted(b); wa != wb {
			return wa - wb
		}
		return typeOrder[slots[a].Type] - typeOrder[slots[b].Type]
	})
	out := map[string]any{}
	for _, i := range order {
		d := slots[i]
		if _, done := out[d.Name]; done || d.Type == activities.SlotText {
			continue
		}
		loose := wanted(i) < len(want)
		if c, ok := st.pick(d, st.find(d, loose)); ok {
			st.claim(c)
			out[d.Name] = c.value
		}
	}
	return out
}

// pick chooses among the free candidates of a slot the one nearest a
// word naming it ("account 4471" over "zip 90210" for account), else the
// first.
func (st *slotText) pick(d activities.SlotDef, cands []candidate) (candidate, bool) {
	hints := slotHints(d)
	var at []int // positions of the words naming the slot, ascending
	for i, s := range st.stems {
		if hints[s] {
			at = append(at, i)
		}
	}
	best, bestDist, found := candidate{}, math.MaxInt, false
	for _, c := range cands {
		if !st.free(c) {
			continue
		}
		dist := math.MaxInt - 1
		k, _ := slices.BinarySearch(at, c.from)
		if k > 0 {
			dist = c.from - at[k-1]
		}
		if k, _ := slices.BinarySearch(at, c.to); k < len(at) {
			// A name after its value counts double: "account 4471, zip
			// 90210" names 90210 with zip, not 4471.
			dist = min(dist, 2*(at[k]-c.to+1))
		}
		if !found || dist < bestDist {
			best, bestDist, found = c, dist, true
		}
	}
	return best, found
}

// slotHints are the stems of words that name a slot: its name's words,
// and for digit strings the usual words for numbers of that kind.
func slotHints(d activities.SlotDef) map[string]bool {
	h := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(d.Name), func(r rune) bool { return r == '_' || r == '-' }) {
		h[stem(w)] = true
		for _, extra := range hintWords[w] {
			h[stem(extra)] = true
		}
	}
	return h
}

// hintWords are other words callers use for a slot of that name.
var hintWords = map[string][]string{
	"account":  {"acct", "customer"},
	"phone":    {"telephone", "mobile", "cell", "callback"},
	"zip":      {"postcode", "postal", "code"},
	"postcode": {"zip", "postal", "code"},
	"pin":      {"code", "passcode"},
	"amount":   {"pay", "payment"},
}

// ParseSlot reads text as the value of one slot of type typ, loosely: it
// is the answer to a question about that slot, or a model's value to
// normalise ("four four seven one" for digits is "4471"). Values are the
// enum's values. Text is returned trimmed. It reports false when text
// holds no value of the type, or the type is unknown.
func ParseSlot(typ, text string, values []string, now time.Time, loc *time.Location) (any, bool) {
	if typ == activities.SlotText {
		t := strings.TrimSpace(text)
		return t, t != ""
	}
	if !slices.Contains(activities.SlotTypes, typ) {
		return nil, false
	}
	st := newSlotText(text, now, loc)
	cands := st.find(activities.SlotDef{Type: typ, Values: values}, true)
	if len(cands) == 0 {
		return nil, false
	}
	return cands[0].value, true
}

// numberValue is v as a slot value: an int when whole (and exact as an
// int), else a float64.
func numberValue(v float64) any {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return int(v)
	}
	return v
}
