package flows

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones resolve the same on every worker, with or without system tzdata
)

// HoursState is what an hours node decides.
type HoursState int

// Hours states.
const (
	HoursClosed HoursState = iota
	HoursOpen
	HoursHoliday
)

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// HoursAt evaluates an hours node at t (the engine passes workflow time) in
// the node's time zone. Schedule keys are days ("mon"), ranges ("mon-fri"),
// lists ("sat,sun") or "daily"; values are "HH:MM-HH:MM" ranges, end
// exclusive, "24:00" allowed.
func (n *Node) HoursAt(t time.Time) (HoursState, error) {
	loc, err := time.LoadLocation(n.Timezone)
	if err != nil {
		return HoursClosed, fmt.Errorf("hours %q: time zone %q: %w", n.ID, n.Timezone, err)
	}
	local := t.In(loc)
	today := local.Format("2006-01-02")
	for _, h := range n.Holidays {
		if h == today {
			return HoursHoliday, nil
		}
	}
	minute := local.Hour()*60 + local.Minute()
	for _, key := range slices.Sorted(maps.Keys(n.Schedule)) {
		days, err := ParseDays(key)
		if err != nil {
			return HoursClosed, fmt.Errorf("hours %q: %w", n.ID, err)
		}
		if !days[local.Weekday()] {
			continue
		}
		for _, r := range n.Schedule[key] {
			from, to, err := parseRange(r)
			if err != nil {
				return HoursClosed, fmt.Errorf("hours %q: %w", n.ID, err)
			}
			if minute >= from && minute < to {
				return HoursOpen, nil
			}
		}
	}
	return HoursClosed, nil
}

// ParseDays reads a schedule key into the weekdays it covers.
func ParseDays(key string) (map[time.Weekday]bool, error) {
	out := map[time.Weekday]bool{}
	for _, part := range strings.Split(key, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		if part == "daily" || part == "every day" {
			for _, d := range weekdays {
				out[d] = true
			}
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		a, ok := weekdays[strings.TrimSpace(from)]
		if !ok {
			return nil, fmt.Errorf("unknown day %q", strings.TrimSpace(from))
		}
		b := a
		if isRange {
			if b, ok = weekdays[strings.TrimSpace(to)]; !ok {
				return nil, fmt.Errorf("unknown day %q", strings.TrimSpace(to))
			}
		}
		for d := a; ; d = (d + 1) % 7 {
			out[d] = true
			if d == b {
				break
			}
		}
	}
	return out, nil
}

func parseRange(r string) (int, int, error) {
	a, b, ok := strings.Cut(r, "-")
	if !ok {
		return 0, 0, fmt.Errorf("time range %q: want HH:MM-HH:MM", r)
	}
	from, err := parseClock(a)
	if err != nil {
		return 0, 0, fmt.Errorf("time range %q: %w", r, err)
	}
	to, err := parseClock(b)
	if err != nil {
		return 0, 0, fmt.Errorf("time range %q: %w", r, err)
	}
	if to <= from {
		return 0, 0, fmt.Errorf("time range %q ends before it starts", r)
	}
	return from, to, nil
}

func parseClock(s string) (int, error) {
	var h, m int
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d:%d", &h, &m); err != nil || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}
