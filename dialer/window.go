package dialer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // callees' zones resolve the same on every worker, with or without system tzdata

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/suggest"
)

// DefaultWindow is the calling window of a campaign that sets none: 08:00
// to 21:00 every day, the callee's local time (the US TCPA's limits).
var DefaultWindow = records.Window{Start: "08:00", End: "21:00"}

// ErrUnknownZone is a time zone name the IANA database does not know.
var ErrUnknownZone = errors.New("not an IANA time zone (like America/New_York)")

// Hours is a parsed calling window: from start (included) to end
// (excluded) local time, on its days. The zero Hours is never open.
type Hours struct {
	start, end time.Duration // since local midnight
	days       [7]bool       // by time.Weekday
}

var dayNames = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// ParseWindow reads a campaign's window; empty fields take DefaultWindow's
// (and every day). Windows do not cross midnight: a calling window is a
// daytime range. Errors are FieldErrors naming window.start, window.end,
// window.days[i] or window.
func ParseWindow(w records.Window) (Hours, error) {
	var h Hours
	var errs FieldErrors
	start, end := orDefault(w.Start, DefaultWindow.Start), orDefault(w.End, DefaultWindow.End)
	var okStart, okEnd bool
	if h.start, okStart = parseClock(start, false); !okStart {
		errs = append(errs, FieldError{Field: "window.start", Value: w.Start, Message: "not a time of day (HH:MM)"})
	}
	if h.end, okEnd = parseClock(end, true); !okEnd {
		errs = append(errs, FieldError{Field: "window.end", Value: w.End, Message: "not a time of day (HH:MM)"})
	}
	if okStart && okEnd && h.start >= h.end {
		errs = append(errs, FieldError{Field: "window",
			Message: fmt.Sprintf("empty (start %s is not before end %s)", start, end)})
	}
	if len(w.Days) == 0 {
		h.days = [7]bool{true, true, true, true, true, true, true}
	}
	for i, d := range w.Days {
		day, ok := parseDay(d)
		if !ok {
			errs = append(errs, FieldError{Field: fmt.Sprintf("window.days[%d]", i), Value: d, Message: unknownDay(d)})
			continue
		}
		h.days[day] = true
	}
	if len(errs) > 0 {
		return Hours{}, errs
	}
	return h, nil
}

// orDefault is s, or def when s is blank.
func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// parseClock reads "HH:MM" (or "H:MM"); "24:00" is the end of the day
// when allowed.
func parseClock(s string, allow24 bool) (time.Duration, bool) {
	s = strings.TrimSpace(s)
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, false
	}
	h, okH := digitsValue(hh)
	m, okM := digitsValue(mm)
	switch {
	case !okH || !okM || m > 59:
		return 0, false
	case h == 24 && m == 0 && allow24:
	case h > 23:
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

func digitsValue(s string) (int, bool) {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// parseDay reads "mon" or "monday", in any case.
func parseDay(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, name := range dayNames {
		full := strings.ToLower(time.Weekday(i).String())
		if s == name || s == full {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// unknownDay says d is not a day, suggesting the nearest by its short or
// full name.
func unknownDay(d string) string {
	msg := "not a day (mon..sun)"
	word := strings.ToLower(strings.TrimSpace(d))
	var names []string
	for i := range dayNames {
		names = append(names, strings.ToLower(time.Weekday(i).String()))
	}
	names = append(names, dayNames...)
	if s := suggest.Nearest(word, names, 3); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s[:3])
	}
	return msg
}

// String writes the window as "08:00-21:00 every day" or "09:00-17:00
// mon,tue,wed,thu,fri".
func (h Hours) String() string {
	clock := func(d time.Duration) string {
		return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	var days []string
	for i, on := range h.days {
		if on {
			days = append(days, dayNames[i])
		}
	}
	which := strings.Join(days, ",")
	switch len(days) {
	case 7:
		which = "every day"
	case 0:
		which = "no day"
	}
	return clock(h.start) + "-" + clock(h.end) + " " + which
}

// Open reports whether now is inside the window in every zone: a callee
// whose zone is one of several must not be called while any of them is
// outside it. No zone is never open; a nil zone is UTC.
func (h Hours) Open(now time.Time, zones []*time.Location) bool {
	if len(zones) == 0 {
		return false
	}
	for _, loc := range zones {
		if !h.openIn(now, loc) {
			return false
		}
	}
	return true
}

func (h Hours) openIn(now time.Time, loc *time.Location) bool {
	if loc == nil {
		loc = time.UTC
	}
	t := now.In(loc)
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
		time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
	return h.days[t.Weekday()] && since >= h.start && since < h.end
}

// nextOpenHorizon is how far NextOpen looks: a week and a day, so that a
// window open one day a week is found from anywhere in the week.
const nextOpenHorizon = 8 * 24 * time.Hour

// NextOpen is the earliest instant at or after now when the window is
// open in every zone, looking up to 8 days ahead; false when there is
// none (zones too far apart for the window, no zone). The intersection of
// the zones' windows opens either at now or where one zone opens: at its
// start's wall time, or at a clock change that skips over the start; so
// those instants are the only candidates.
func (h Hours) NextOpen(now time.Time, zones []*time.Location) (time.Time, bool) {
	if h.Open(now, zones) {
		return now, true
	}
	if len(zones) == 0 {
		return time.Time{}, false
	}
	limit := now.Add(nextOpenHorizon)
	var candidates []time.Time
	for _, loc := range zones {
		if loc == nil {
			loc = time.UTC
		}
		candidates = h.openings(candidates, loc, now, limit)
	}
	slices.SortFunc(candidates, func(a, b time.Time) int { return a.Compare(b) })
	for _, c := range candidates {
		if !c.Before(now) && !c.After(limit) && h.Open(c, zones) {
			return c, true
		}
	}
	return time.Time{}, false
}

// openings appends the instants in [from, to] at which the window may
// open in loc: each day's start wall time under each offset the day has
// (a repeated hour has two), and every clock change.
func (h Hours) openings(out []time.Time, loc *time.Location, from, to time.Time) []time.Time {
	for t := from; t.Before(to); {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.After(t) {
			break
		}
		out = append(out, end)
		t = end
	}
	first := from.In(loc)
	day := time.Date(first.Year(), first.Month(), first.Day()-1, 0, 0, 0, 0, time.UTC)
	for ; !day.After(to.Add(24 * time.Hour)); day = day.AddDate(0, 0, 1) {
		if !h.days[day.Weekday()] {
			continue
		}
		wall := day.Add(h.start) // the start's wall time, written as if in UTC
		y, m, d := day.Date()
		_, offMorning := time.Date(y, m, d, 0, 0, 0, 0, loc).Zone()
		_, offEvening := time.Date(y, m, d, 23, 59, 0, 0, loc).Zone()
		out = append(out, wall.Add(-time.Duration(offMorning)*time.Second))
		if offEvening != offMorning {
			out = append(out, wall.Add(-time.Duration(offEvening)*time.Second))
		}
	}
	return out
}

// zoneCache keeps loaded zones: time.LoadLocation reads and parses the
// database on every call, and an import checks one zone per row.
var zoneCache sync.Map // name -> *time.Location

// LoadZone loads an IANA time zone by name ("Europe/Paris"); "Local" and
// "" are refused (they mean the worker's zone, not the callee's).
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zoneCache.Load(name); ok {
		return loc.(*time.Location), nil
	}
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q: %w", name, ErrUnknownZone)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, ErrUnknownZone)
	}
	zoneCache.Store(name, loc)
	return loc, nil
}

// ContactZones are the zones a contact's calling window must hold in: the
// row's own zone when it gave one, else those of the number's country (or
// NANP area), else those of region, the campaign's.
func ContactZones(c records.Contact, region string) ([]*time.Location, error) {
	if tz := strings.TrimSpace(c.Timezone); tz != "" {
		loc, err := LoadZone(tz)
		if err != nil {
			return nil, fmt.Errorf("contact %d: %w", c.ID, err)
		}
		return []*time.Location{loc}, nil
	}
	names := ZonesOf(c.Number)
	if len(names) == 0 {
		if home, ok := countryByRegion(region); ok {
			names = home.zoneNames()
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("contact %d: no time zone: number %q is not E.164 and region %q is not a country",
			c.ID, c.Number, region)
	}
	out := make([]*time.Location, 0, len(names))
	for _, n := range names {
		loc, err := LoadZone(n)
		if err != nil {
			return nil, fmt.Errorf("contact %d: %w", c.ID, err)
		}
		out = append(out, loc)
	}
	return out, nil
}
