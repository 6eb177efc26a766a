package nlu

import (
	"fmt"
	"strconv"
	"strings"
)

// times finds times of day, in order, as "HH:MM". Read strictly, a time
// needs a marker: a colon ("14:30"), am/pm, o'clock, a part of the day
// ("in the morning"), "half past", "quarter to", noon, or a word such as
// "at" before it ("at 3"). Without am/pm or a part of the day, an hour
// from 1 to 6 is in the afternoon ("at 3" is 15:00): callers book and
// ask about working hours, not the small hours. "14:30" and "03:00" are
// taken as written.
func (st *slotText) times(loose bool) []candidate {
	var out []candidate
	for i := 0; i < len(st.ts); i++ {
		hm, n := st.namedTime(i)
		if n == 0 {
			hm, n = st.relativeTime(i)
		}
		if n == 0 {
			hm, n = st.clockTime(i, loose)
		}
		if n > 0 {
			out = append(out, candidate{value: hm, from: i, to: i + n})
			i += n - 1
		}
	}
	return out
}

func formatHM(h, m int) string { return fmt.Sprintf("%02d:%02d", h, m) }

// namedTime reads noon, midday and midnight.
func (st *slotText) namedTime(i int) (string, int) {
	switch st.word(i) {
	case "noon", "midday":
		return "12:00", 1
	case "midnight":
		return "00:00", 1
	}
	return "", 0
}

// relativeTime reads "half past two", "quarter to five pm", "ten past
// six", "twenty minutes to nine".
func (st *slotText) relativeTime(i int) (string, int) {
	k, mins := i, 0
	switch st.word(k) {
	case "half":
		mins, k = 30, k+1
	case "a", "quarter":
		if st.word(k) == "a" {
			k++
		}
		if st.word(k) != "quarter" {
			return "", 0
		}
		mins, k = 15, k+1
	default:
		if k >= len(st.ts) || !startsNumber(st.ts, k) {
			return "", 0
		}
		r := parseShortRun(st.ts, k)
		v := r.value()
		if len(r.groups) != 1 || v < 1 || v > 59 || v != float64(int(v)) {
			return "", 0
		}
		mins, k = int(v), r.to
		if w := st.word(k); w == "minutes" || w == "minute" {
			k++
		}
	}
	dir := st.word(k)
	if dir != "past" && dir != "to" && dir != "after" && dir != "before" {
		return "", 0
	}
	h, n := st.hourWord(k + 1)
	if n == 0 {
		return "", 0
	}
	k += 1 + n
	if dir == "to" || dir == "before" {
		h, mins = (h+23)%24, 60-mins
		if h == 0 {
			h = 12
		}
	}
	if isUnit(st.word(k)) {
		return "", 0
	}
	h, took, _ := st.dayHalf(h, k, i)
	if took < 0 {
		return "", 0
	}
	return formatHM(h, mins), k + took - i
}

// hourWord reads an hour 1-12 said or written alone.
func (st *slotText) hourWord(i int) (int, int) {
	w := st.word(i)
	if v, ok := smallNumbers[w]; ok && v >= 1 && v <= 12 {
		return v, 1
	}
	if isAllDigits(w) && len(w) <= 2 {
		if v, _ := strconv.Atoi(w); v >= 1 && v <= 12 {
			return v, 1
		}
	}
	if w == "noon" || w == "midday" {
		return 12, 1
	}
	return 0, 0
}

// clockTime reads "3pm", "three thirty pm", "14:30", "7 o'clock in the
// morning" and, with a word before it, "at 3".
func (st *slotText) clockTime(i int, loose bool) (string, int) {
	h, m, k, literal, ok := st.hourMinute(i)
	if !ok {
		return "", 0
	}
	if literal {
		return formatHM(h, m), k - i
	}
	marked := strings.Contains(st.word(i), ":") || timeWordBefore(st.word(i-1))
	if st.word(k) == "oclock" {
		k++
		marked = true
	}
	h, took, said := st.dayHalf(h, k, i)
	if took < 0 || !(marked || said || loose) || isUnit(st.word(k+took)) {
		return "", 0
	}
	return formatHM(h, m), k + took - i
}

// isUnit reports words that make the number before them a quantity.
func isUnit(w string) bool {
	switch strings.TrimSuffix(w, "s") {
	case "day", "week", "month", "year", "hour", "minute", "time", "percent":
		return true
	}
	return currencies[w] || centWords[w]
}

// timeWordBefore reports words that make the number after them a time.
func timeWordBefore(w string) bool {
	switch w {
	case "at", "around", "by", "from", "until", "till", "til", "before", "after", "about":
		return true
	}
	return false
}

// hourMinute reads an hour and its minutes at ts[i]; literal is a 24-hour
// or zero-led time ("14:30", "09:15") that keeps its hour.
func (st *slotText) hourMinute(i int) (h, m, next int, literal, ok bool) {
	w := st.word(i)
	if hh, mm, found := strings.Cut(w, ":"); found && isAllDigits(hh) && isAllDigits(mm) && len(mm) == 2 && len(hh) <= 2 {
		h, _ = strconv.Atoi(hh)
		m, _ = strconv.Atoi(mm)
		if h > 23 || m > 59 {
			return 0, 0, 0, false, false
		}
		return h, m, i + 1, h > 12 || h == 0 || strings.HasPrefix(hh, "0"), true
	}
	if isAllDigits(w) && len(w) == 4 && st.word(i+1) == "hours" {
		h, _ = strconv.Atoi(w[:2])
		m, _ = strconv.Atoi(w[2:])
		return h, m, i + 2, true, h <= 23 && m <= 59
	}
	h, n := st.hourWord(i)
	if n == 0 || w == "noon" || w == "midday" {
		return 0, 0, 0, false, false
	}
	m, took := st.minutesAt(i + 1)
	return h, m, i + 1 + took, false, true
}

// minutesAt reads the minutes after an hour: "thirty", "forty five",
// "oh five", "15".
func (st *slotText) minutesAt(i int) (int, int) {
	w := st.word(i)
	if w == "oh" || w == "o" {
		if v, ok := smallNumbers[st.word(i+1)]; ok && v >= 1 && v <= 9 {
			return v, 2
		}
		return 0, 0
	}
	if isAllDigits(w) && len(w) == 2 {
		v, _ := strconv.Atoi(w)
		if v <= 59 {
			return v, 1
		}
	}
	v, ok := smallNumbers[w]
	if !ok || v < 10 || v > 59 {
		return 0, 0
	}
	if v >= 20 {
		if u, ok := smallNumbers[st.word(i+1)]; ok && u >= 1 && u <= 9 {
			return v + u, 2
		}
	}
	return v, 1
}

// dayHalf applies am/pm or a part of the day said after the time (at
// ts[k]) or just before it ("tonight at 8"), and returns the 24-hour
// hour, how many tokens after k it took (-1: "15 am" is no time) and
// whether a half of the day was said. Without one, an hour from 1 to 6
// is in the afternoon.
func (st *slotText) dayHalf(h, k, from int) (int, int, bool) {
	pm, am, took, said := false, false, 0, false
	switch w := st.word(k); {
	case w == "pm" || (w == "p" && st.word(k+1) == "m"):
		pm, took = true, 1+boolInt(w == "p")
	case w == "am" || (w == "a" && st.word(k+1) == "m"):
		am, took = true, 1+boolInt(w == "a")
	case w == "in" && st.word(k+1) == "the":
		switch st.word(k + 2) {
		case "morning":
			am, took = true, 3
		case "afternoon", "evening":
			pm, took = true, 3
		}
	case w == "at" && st.word(k+1) == "night", w == "tonight":
		pm, took = true, 1+boolInt(w == "at")
	}
	if !am && !pm {
		// "tonight at 8", "this morning at 9"; not "good morning".
		for k := from - 1; k >= from-2 && k >= 0; k-- {
			switch b := st.word(k); {
			case st.word(k-1) == "good":
			case b == "tonight" || b == "evening" || b == "afternoon":
				pm, said = true, true
			case b == "morning":
				am, said = true, true
			}
		}
	}
	switch {
	case h > 12:
		if am {
			return 0, -1, true
		}
	case pm && h < 12:
		h += 12
	case am && h == 12:
		h = 0
	case !am && !pm && h >= 1 && h <= 6:
		h += 12
	}
	return h, took, said || took > 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
