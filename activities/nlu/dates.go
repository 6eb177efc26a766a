package nlu

import (
	"strconv"
	"strings"
	"time"
)

var months = map[string]time.Month{
	"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
	"apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
	"september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11,
	"nov": 11, "december": 12, "dec": 12,
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday,
	"saturday": time.Saturday,
}

const dateLayout = "2006-01-02"

// dates finds calendar dates, in order. Resolution rules, relative to the
// call's today: a weekday ("friday", "this friday") is the next one, today
// included; "next friday" is the one in next week (weeks start on
// Monday); "last friday" the latest before today. A day alone ("the 5th")
// is the next such day, today included. A month and day without a year
// ("May 3rd", "12/25") is the nearest one, up to six months either way.
// Numeric dates are US month/day.
func (st *slotText) dates() []candidate {
	var out []candidate
	for i := 0; i < len(st.ts); i++ {
		for _, f := range []func(int) (time.Time, int){st.numericDate, st.relativeDay,
			st.weekdayDate, st.monthDay, st.dayMonth, st.dayOnly} {
			if d, n := f(i); n > 0 {
				out = append(out, candidate{value: d.Format(dateLayout), from: i, to: i + n})
				i += n - 1
				break
			}
		}
	}
	return out
}

func (st *slotText) word(i int) string {
	if i >= 0 && i < len(st.ts) {
		return st.ts[i].text
	}
	return ""
}

func (st *slotText) today() time.Time {
	y, m, d := st.now.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, st.loc)
}

// numericDate reads "2026-05-03", "12/25", "12/25/2026" and "5/3/26",
// and the date of an ISO timestamp a model may give ("2026-05-03T10:00Z").
func (st *slotText) numericDate(i int) (time.Time, int) {
	w := st.word(i)
	if len(w) > 10 && w[10] == 't' {
		w = w[:10]
	}
	sep := "/"
	if strings.Count(w, "-") == 2 && len(w) == 10 {
		sep = "-"
	}
	parts := strings.Split(w, sep)
	if len(parts) < 2 || len(parts) > 3 || !allDigits(parts) {
		return time.Time{}, 0
	}
	n := make([]int, len(parts))
	for k, p := range parts {
		n[k], _ = strconv.Atoi(p)
	}
	if sep == "-" {
		return st.exactDate(n[0], n[1], n[2], 1)
	}
	if len(parts) == 2 {
		return st.nearestDate(time.Month(n[0]), n[1], 1)
	}
	y := n[2]
	if len(parts[2]) == 2 {
		y += 2000
	}
	return st.exactDate(y, n[0], n[1], 1)
}

func allDigits(ps []string) bool {
	for _, p := range ps {
		if !isAllDigits(p) || len(p) > 4 {
			return false
		}
	}
	return true
}

// exactDate is y-m-d if it exists, taking n tokens.
func (st *slotText) exactDate(y, m, d, n int) (time.Time, int) {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, st.loc)
	if m < 1 || m > 12 || t.Day() != d || y < 1900 || y > 2200 {
		return time.Time{}, 0
	}
	return t, n
}

// nearestDate is the month and day nearest today, a year back, this year
// or a year on (ties go to the future).
func (st *slotText) nearestDate(m time.Month, d, n int) (time.Time, int) {
	today := st.today()
	var best time.Time
	for _, y := range []int{today.Year() + 1, today.Year(), today.Year() - 1} {
		t, took := st.exactDate(y, int(m), d, n)
		if took == 0 {
			continue
		}
		if best.IsZero() || absDays(t.Sub(today)) < absDays(best.Sub(today)) ||
			absDays(t.Sub(today)) == absDays(best.Sub(today)) && t.After(best) {
			best = t
		}
	}
	if best.IsZero() {
		return time.Time{}, 0
	}
	return best, n
}

func absDays(d time.Duration) time.Duration { return max(d, -d) }

// relativeDay reads today, tonight, tomorrow, yesterday, "the day after
// tomorrow" and "in 3 days" / "in two weeks".
func (st *slotText) relativeDay(i int) (time.Time, int) {
	today := st.today()
	switch st.word(i) {
	case "today", "tonight":
		return today, 1
	case "tomorrow":
		return today.AddDate(0, 0, 1), 1
	case "yesterday":
		return today.AddDate(0, 0, -1), 1
	case "the", "day":
		k := i
		if st.word(k) == "the" {
			k++
		}
		if st.word(k) == "day" && st.word(k+1) == "after" && st.word(k+2) == "tomorrow" {
			return today.AddDate(0, 0, 2), k + 3 - i
		}
	case "in":
		r := parseShortRun(st.ts, i+1)
		if i+1 < len(st.ts) && startsNumber(st.ts, i+1) && len(r.groups) == 1 {
			v := int(r.value())
			switch st.word(r.to) {
			case "day", "days":
				return today.AddDate(0, 0, v), r.to + 1 - i
			case "week", "weeks":
				return today.AddDate(0, 0, 7*v), r.to + 1 - i
			}
		}
	}
	return time.Time{}, 0
}

// weekdayDate reads "[this|next|last|coming|on] friday".
func (st *slotText) weekdayDate(i int) (time.Time, int) {
	mod, k := st.word(i), i
	switch mod {
	case "this", "next", "last", "coming", "on":
		k++
	default:
		mod = ""
	}
	wd, ok := weekdays[strings.TrimSuffix(st.word(k), "s")]
	if !ok {
		wd, ok = weekdays[st.word(k)]
	}
	if !ok {
		return time.Time{}, 0
	}
	today := st.today()
	ahead := (int(wd) - int(today.Weekday()) + 7) % 7
	switch mod {
	case "next":
		// The day in next week, weeks starting on Monday.
		monday := today.AddDate(0, 0, -((int(today.Weekday())+6)%7)+7)
		return monday.AddDate(0, 0, (int(wd)+6)%7), k + 1 - i
	case "last":
		back := (int(today.Weekday()) - int(wd) + 7) % 7
		if back == 0 {
			back = 7
		}
		return today.AddDate(0, 0, -back), k + 1 - i
	}
	return today.AddDate(0, 0, ahead), k + 1 - i
}

// monthDay reads "May 3rd", "may the third", "December 25, 2026".
func (st *slotText) monthDay(i int) (time.Time, int) {
	m, ok := months[st.word(i)]
	if !ok {
		return time.Time{}, 0
	}
	k := i + 1
	if st.word(k) == "the" {
		k++
	}
	d, n := st.dayAt(k)
	if n == 0 {
		return time.Time{}, 0
	}
	return st.withYear(m, d, k+n, i)
}

// dayMonth reads "3 May", "the 3rd of May", "third of may 2027".
func (st *slotText) dayMonth(i int) (time.Time, int) {
	k := i
	if st.word(k) == "the" {
		k++
	}
	d, n := st.dayAt(k)
	if n == 0 {
		return time.Time{}, 0
	}
	k += n
	if st.word(k) == "of" {
		k++
	}
	m, ok := months[st.word(k)]
	if !ok {
		return time.Time{}, 0
	}
	return st.withYear(m, d, k+1, i)
}

// withYear finishes a month and day at ts[k]: a year said there, else
// the nearest.
func (st *slotText) withYear(m time.Month, d, k, from int) (time.Time, int) {
	if j := k; j < len(st.ts) && startsNumber(st.ts, j) {
		r := parseShortRun(st.ts, j)
		if y, err := strconv.Atoi(r.digits()); err == nil && len(r.digits()) == 4 && y >= 1900 && y <= 2200 {
			return st.exactDate(y, int(m), d, r.to-from)
		}
	}
	return st.nearestDate(m, d, k-from)
}

// dayOnly reads "the 5th" or "on the fifth": the next such day.
func (st *slotText) dayOnly(i int) (time.Time, int) {
	k := i
	if st.word(k) == "on" {
		k++
	}
	if st.word(k) != "the" {
		return time.Time{}, 0
	}
	d, n := ordinalAt(st.ts, k+1)
	if n == 0 || d < 1 || d > 31 || !endsDayOnly(st.word(k+1+n)) {
		return time.Time{}, 0
	}
	today := st.today()
	for add := 0; add < 3; add++ {
		t := time.Date(today.Year(), today.Month()+time.Month(add), d, 0, 0, 0, 0, st.loc)
		if t.Day() == d && !t.Before(today) {
			return t, k + 1 + n - i
		}
	}
	return time.Time{}, 0
}

// endsDayOnly reports words that may follow "the 5th" when it is a date:
// not "of May" (dayMonth reads that) nor a noun ("the third time").
func endsDayOnly(w string) bool {
	return w == "" || dayOnlyFollowers[w]
}

var dayOnlyFollowers = setOf("at", "in", "on", "or", "and", "please", "then", "is", "would",
	"works", "if", "so", "because", "i", "we", "that", "for", "around", "by", "before", "after",
	"instead", "maybe", "perhaps", "thanks", "thank", "okay", "ok", "this", "next", "morning",
	"afternoon", "evening", "will", "should", "could", "between", "from", "to", "till", "until")

// dayAt reads a day of the month: "3rd", "third", "twenty first", "3",
// "twenty one".
func (st *slotText) dayAt(i int) (int, int) {
	if d, n := ordinalAt(st.ts, i); n > 0 {
		return d, n
	}
	w := st.word(i)
	if isAllDigits(w) && len(w) <= 2 {
		d, _ := strconv.Atoi(w)
		return d, 1
	}
	v, ok := smallNumbers[w]
	if !ok || v == 0 {
		return 0, 0
	}
	if v >= 20 {
		if u, ok := smallNumbers[st.word(i+1)]; ok && u > 0 && u < 10 {
			return v + u, 2
		}
	}
	return v, 1
}
