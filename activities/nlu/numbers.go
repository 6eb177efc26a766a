package nlu

import (
	"strconv"
	"strings"
)

// smallNumbers are the number words below a hundred that stand alone.
var smallNumbers = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
	"seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
	"thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
	"eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
	"fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}

// scales multiply what came before them.
var scales = map[string]float64{"hundred": 100, "thousand": 1000, "million": 1e6}

// numGroup is one number said on its own: 71 in "four four seventy one".
type numGroup struct {
	value  float64
	digits string // as written ("007") or the value's digits ("71")
}

// numberRun is a maximal run of number tokens, tokens[from:to].
type numberRun struct {
	from, to int
	groups   []numGroup
	decimal  bool // a decimal point was said or written
	words    bool // spoken as words, not written as digits
}

// digits is the run as a digit string: "four four seventy one" is "4471".
func (r numberRun) digits() string {
	var b strings.Builder
	for _, g := range r.groups {
		b.WriteString(g.digits)
	}
	return b.String()
}

// value is the run's number: one group is itself; several groups said one
// after the other ("four four seven one") read as their digit string.
func (r numberRun) value() float64 {
	switch len(r.groups) {
	case 0:
		return 0
	case 1:
		return r.groups[0].value
	}
	v, err := strconv.ParseFloat(r.digits(), 64)
	if err != nil {
		return r.groups[0].value
	}
	return v
}

// numberRuns finds the number runs of tokens, in order.
func numberRuns(ts []token) []numberRun {
	var runs []numberRun
	for i := 0; i < len(ts); {
		if !startsNumber(ts, i) {
			i++
			continue
		}
		r := parseRun(ts, i)
		if r.to <= i || len(r.groups) == 0 {
			i++
			continue
		}
		runs = append(runs, r)
		i = r.to
	}
	return runs
}

// startsNumber reports whether a number run may start at ts[i].
func startsNumber(ts []token, i int) bool {
	w := ts[i].text
	if isNumeral(w) {
		return true
	}
	if _, ok := smallNumbers[w]; ok {
		return true
	}
	next := func(k int) string {
		if i+k < len(ts) {
			return ts[i+k].text
		}
		return ""
	}
	switch w {
	case "a", "an":
		return next(1) == "hundred" || next(1) == "thousand" || next(1) == "million"
	case "double", "triple":
		return isDigitWord(next(1))
	case "oh", "o":
		return isDigitWord(next(1)) && isDigitWord(next(2))
	}
	return false
}

// isNumeral reports a written number: "4471", "3.5", "1,200".
func isNumeral(w string) bool {
	if w == "" || w[0] < '0' || w[0] > '9' {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if (c < '0' || c > '9') && c != '.' && c != ',' && c != '-' {
			return false
		}
	}
	return true
}

// isDigitWord reports a single digit, spoken or written.
func isDigitWord(w string) bool {
	if v, ok := smallNumbers[w]; ok {
		return v < 10
	}
	return w == "oh" || w == "o" || (len(w) == 1 && w[0] >= '0' && w[0] <= '9')
}

func digitOf(w string) int {
	if v, ok := smallNumbers[w]; ok {
		return v
	}
	if w == "oh" || w == "o" {
		return 0
	}
	return int(w[0] - '0')
}

// shortRunTokens bounds a number read inside a date or time ("in three
// days", "twenty past four"), so scanning a long text stays linear.
const shortRunTokens = 8

// parseShortRun parses at most shortRunTokens tokens from ts[from].
func parseShortRun(ts []token, from int) numberRun {
	return parseRun(ts[:min(len(ts), from+shortRunTokens)], from)
}

// runParser composes number words into groups.
type runParser struct {
	run       numberRun
	cur       float64 // the group being built
	total     float64 // its part above the last scale
	last      string  // kind of the last item: unit, teen, tens, hundred, scale, and, numeral
	lastScale float64
	open      bool // a group is being built
	digits    string
}

// parseRun parses the number run starting at ts[from].
func parseRun(ts []token, from int) numberRun {
	p := &runParser{run: numberRun{from: from}}
	i := from
	for i < len(ts) {
		n := p.step(ts, i)
		if n == 0 {
			break
		}
		i += n
	}
	p.flush()
	p.run.to = i
	return p.run
}

// step consumes the item at ts[i] and returns how many tokens it took
// (0: the run ends before ts[i]).
func (p *runParser) step(ts []token, i int) int {
	w := ts[i].text
	next := ""
	if i+1 < len(ts) {
		next = ts[i+1].text
	}
	switch {
	case isNumeral(w):
		return p.numeral(w)
	case w == "double" || w == "triple":
		if !isDigitWord(next) {
			return 0
		}
		d := strconv.Itoa(digitOf(next))
		p.flush()
		times := 2
		if w == "triple" {
			times = 3
		}
		for range times {
			p.run.groups = append(p.run.groups, numGroup{value: float64(digitOf(next)), digits: d})
		}
		p.run.words = true
		return 2
	case w == "oh" || w == "o":
		if !isDigitWord(next) && p.last == "" {
			return 0
		}
		p.flush()
		p.run.groups = append(p.run.groups, numGroup{digits: "0"})
		p.last = "numeral"
		return 1
	case (w == "a" || w == "an") && p.last == "" && scales[next] > 1:
		p.cur, p.open, p.last = 1, true, "unit"
		return 1
	case w == "point":
		return p.point(ts, i)
	case w == "and":
		if (p.last == "hundred" || p.last == "scale") && smallNumbers[next] > 0 {
			p.last = "and"
			return 1
		}
		return 0
	case scales[w] > 0:
		return p.scale(w)
	}
	v, ok := smallNumbers[w]
	if !ok {
		return 0
	}
	return p.word(v)
}

// word adds a number word below a hundred, starting a new group when it
// cannot continue the current one ("four four" is two groups).
func (p *runParser) word(v int) int {
	kind := "unit"
	switch {
	case v >= 20:
		kind = "tens"
	case v >= 10:
		kind = "teen"
	}
	continues := p.last == "hundred" || p.last == "scale" || p.last == "and" ||
		(p.last == "tens" && kind == "unit" && v > 0)
	if !continues {
		p.flush()
	}
	if v == 0 && !continues {
		p.run.groups = append(p.run.groups, numGroup{digits: "0"})
		p.last, p.run.words = "numeral", true
		return 1
	}
	p.cur += float64(v)
	p.open, p.last, p.run.words = true, kind, true
	return 1
}

func (p *runParser) scale(w string) int {
	s := scales[w]
	switch {
	case w == "hundred" && (p.last == "unit" || p.last == "teen" || p.last == "numeral") && p.cur > 0 && p.cur < 100:
		p.cur *= 100
		p.last = "hundred"
	case (p.last == "unit" || p.last == "teen" || p.last == "tens" || p.last == "hundred" || p.last == "numeral") &&
		p.cur > 0 && (p.lastScale == 0 || s < p.lastScale):
		p.total += p.cur * s
		p.cur, p.lastScale, p.last = 0, s, "scale"
	default:
		return 0
	}
	p.run.words = true
	return 1
}

// numeral adds a written number; a small one may take a scale after it
// ("5 thousand").
func (p *runParser) numeral(w string) int {
	p.flush()
	clean := strings.ReplaceAll(w, ",", "")
	if strings.Contains(clean, "-") {
		// A written phone or account number: "555-1234".
		d := strings.ReplaceAll(clean, "-", "")
		v, _ := strconv.ParseFloat(d, 64)
		p.run.groups = append(p.run.groups, numGroup{value: v, digits: d})
		p.last = "decimal"
		return 1
	}
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return 0
	}
	if strings.Contains(clean, ".") {
		p.run.decimal = true
		p.run.groups = append(p.run.groups, numGroup{value: v, digits: strings.ReplaceAll(clean, ".", "")})
		p.last = "decimal"
		return 1
	}
	p.cur, p.open, p.last, p.digits = v, true, "numeral", clean
	return 1
}

// point reads "three point five": digit words after "point".
func (p *runParser) point(ts []token, i int) int {
	if !p.open || i+1 >= len(ts) || !isDigitWord(ts[i+1].text) {
		return 0
	}
	frac := ""
	n := 1
	for i+n < len(ts) && isDigitWord(ts[i+n].text) {
		frac += strconv.Itoa(digitOf(ts[i+n].text))
		n++
	}
	whole := p.total + p.cur
	p.cur, p.total, p.open, p.digits = 0, 0, false, ""
	v, _ := strconv.ParseFloat(formatWhole(whole)+"."+frac, 64)
	p.run.groups = append(p.run.groups, numGroup{value: v, digits: formatWhole(whole) + frac})
	p.run.decimal, p.last = true, "decimal"
	return n
}

// flush ends the group being built.
func (p *runParser) flush() {
	if p.open {
		v := p.total + p.cur
		d := p.digits
		if d == "" || p.last != "numeral" {
			d = formatWhole(v)
		}
		p.run.groups = append(p.run.groups, numGroup{value: v, digits: d})
	}
	p.cur, p.total, p.lastScale, p.open, p.digits = 0, 0, 0, false, ""
	p.last = ""
}

func formatWhole(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ordinals are the day numbers said as ordinals.
var ordinals = map[string]int{
	"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
	"seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11,
	"twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
	"sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
	"twentieth": 20, "thirtieth": 30,
}

// ordinalAt reads an ordinal at ts[i] ("5th", "fifth", "twenty first")
// and returns it and how many tokens it took.
func ordinalAt(ts []token, i int) (int, int) {
	if i >= len(ts) {
		return 0, 0
	}
	w := ts[i].text
	for _, suf := range []string{"st", "nd", "rd", "th"} {
		if num, ok := strings.CutSuffix(w, suf); ok && num != "" && isAllDigits(num) {
			v, _ := strconv.Atoi(num)
			return v, 1
		}
	}
	if v, ok := ordinals[w]; ok {
		return v, 1
	}
	if tens, ok := smallNumbers[w]; ok && tens >= 20 && tens%10 == 0 && i+1 < len(ts) {
		if u, ok := ordinals[ts[i+1].text]; ok && u < 10 {
			return tens + u, 2
		}
	}
	return 0, 0
}

func isAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
