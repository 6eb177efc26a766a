package dialer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := LoadZone(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustHours(t testing.TB, w records.Window) Hours {
	t.Helper()
	h, err := ParseWindow(w)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestParseWindow(t *testing.T) {
	for _, c := range []struct {
		w    records.Window
		want string
	}{
		{records.Window{}, "08:00-21:00 every day"},
		{records.Window{Start: "9:30"}, "09:30-21:00 every day"},
		{records.Window{Start: "00:00", End: "24:00"}, "00:00-24:00 every day"},
		{records.Window{Start: "09:00", End: "17:00", Days: []string{"Mon", "tue", "wednesday", "THU", "fri"}},
			"09:00-17:00 mon,tue,wed,thu,fri"},
		{records.Window{Days: []string{"sat", "sat"}}, "08:00-21:00 sat"},
	} {
		h, err := ParseWindow(c.w)
		if err != nil || h.String() != c.want {
			t.Errorf("ParseWindow(%+v) = %s, %v; want %s", c.w, h, err, c.want)
		}
	}
}

func TestParseWindowErrors(t *testing.T) {
	for _, c := range []struct {
		w    records.Window
		want string
	}{
		{records.Window{Start: "25:00"}, `window.start "25:00": not a time of day (HH:MM)`},
		{records.Window{Start: "24:00"}, `window.start "24:00": not a time of day (HH:MM)`},
		{records.Window{End: "8h"}, `window.end "8h": not a time of day (HH:MM)`},
		{records.Window{End: "08:60"}, `window.end "08:60": not a time of day (HH:MM)`},
		{records.Window{Start: "21:00", End: "08:00"}, `window: empty (start 21:00 is not before end 08:00)`},
		{records.Window{Start: "21:00"}, `window: empty (start 21:00 is not before end 21:00)`},
		{records.Window{Days: []string{"mon", "wedn"}}, `window.days[1] "wedn": not a day (mon..sun); did you mean "wed"?`},
		{records.Window{Days: []string{"Thrusday"}}, `window.days[0] "Thrusday": not a day (mon..sun); did you mean "thu"?`},
		{records.Window{Days: []string{"holiday"}}, `window.days[0] "holiday": not a day (mon..sun)`},
		{records.Window{Start: "x", End: "y", Days: []string{"fr"}},
			"window.start \"x\": not a time of day (HH:MM)\nwindow.end \"y\": not a time of day (HH:MM)\n" +
				`window.days[0] "fr": not a day (mon..sun); did you mean "fri"?`},
	} {
		_, err := ParseWindow(c.w)
		var fe FieldErrors
		if !errors.As(err, &fe) || err.Error() != c.want {
			t.Errorf("ParseWindow(%+v) = %v;\nwant %s", c.w, err, c.want)
		}
	}
}

func TestOpen(t *testing.T) {
	ny, la := mustZone(t, "America/New_York"), mustZone(t, "America/Los_Angeles")
	h := mustHours(t, records.Window{})
	weekdays := mustHours(t, records.Window{Start: "09:00", End: "17:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}})
	at := func(s string) time.Time {
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	for _, c := range []struct {
		name  string
		h     Hours
		now   string
		zones []*time.Location
		want  bool
	}{
		{"at start", h, "2026-06-01T08:00:00-04:00", []*time.Location{ny}, true},
		{"just before start", h, "2026-06-01T07:59:59-04:00", []*time.Location{ny}, false},
		{"just before end", h, "2026-06-01T20:59:59-04:00", []*time.Location{ny}, true},
		{"at end", h, "2026-06-01T21:00:00-04:00", []*time.Location{ny}, false},
		{"open in NY, not yet in LA", h, "2026-06-01T09:00:00-04:00", []*time.Location{ny, la}, false},
		{"open in both", h, "2026-06-01T12:00:00-04:00", []*time.Location{ny, la}, true},
		{"no zone", h, "2026-06-01T12:00:00-04:00", nil, false},
		{"nil zone is UTC", h, "2026-06-01T12:00:00Z", []*time.Location{nil}, true},
		{"weekday window on Saturday", weekdays, "2026-06-06T12:00:00-04:00", []*time.Location{ny}, false},
		{"weekday window on Monday", weekdays, "2026-06-01T12:00:00-04:00", []*time.Location{ny}, true},
		// Friday evening in New York is Saturday in Tokyo.
		{"the day is the callee's", weekdays, "2026-06-05T20:30:00-04:00", []*time.Location{mustZone(t, "Asia/Tokyo")}, false},
	} {
		if got := c.h.Open(at(c.now), c.zones); got != c.want {
			t.Errorf("%s: Open(%s) = %v, want %v", c.name, c.now, got, c.want)
		}
	}
	if (Hours{}).Open(at("2026-06-01T12:00:00Z"), []*time.Location{time.UTC}) {
		t.Error("the zero Hours is open")
	}
}

func TestNextOpen(t *testing.T) {
	ny, london := mustZone(t, "America/New_York"), mustZone(t, "Europe/London")
	la := mustZone(t, "America/Los_Angeles")
	utc := func(s string) time.Time {
		tt, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	day := records.Window{}
	for _, c := range []struct {
		name  string
		w     records.Window
		now   string
		zones []*time.Location
		want  string // "" for none
	}{
		{"open now", day, "2026-06-01T14:00:00Z", []*time.Location{ny}, "2026-06-01T14:00:00Z"},
		{"tomorrow morning", day, "2026-06-02T02:00:00Z", []*time.Location{ny}, "2026-06-02T12:00:00Z"},
		// New York springs forward on 2026-03-08 at 02:00 EST (07:00Z).
		{"NY: evening before spring forward", day, "2026-03-08T03:00:00Z", []*time.Location{ny}, "2026-03-08T12:00:00Z"},
		{"NY: start in the skipped hour opens at the jump", records.Window{Start: "02:30", End: "04:00"},
			"2026-03-08T06:00:00Z", []*time.Location{ny}, "2026-03-08T07:00:00Z"},
		{"NY: window wholly skipped waits a day", records.Window{Start: "02:00", End: "02:30"},
			"2026-03-08T06:00:00Z", []*time.Location{ny}, "2026-03-09T06:00:00Z"},
		// New York falls back on 2026-11-01 at 02:00 EDT (06:00Z): 01:xx happens twice.
		{"NY: repeated hour opens the first time", records.Window{Start: "01:30", End: "03:00"},
			"2026-11-01T04:00:00Z", []*time.Location{ny}, "2026-11-01T05:30:00Z"},
		{"NY: evening before fall back", day, "2026-11-01T02:00:00Z", []*time.Location{ny}, "2026-11-01T13:00:00Z"},
		{"NY: after fall back, EST", day, "2026-11-02T02:00:00Z", []*time.Location{ny}, "2026-11-02T13:00:00Z"},
		// London springs forward on 2026-03-29 at 01:00 GMT, falls back on 2026-10-25 at 01:00 GMT.
		{"London: Saturday night before spring forward", day, "2026-03-28T21:30:00Z", []*time.Location{london},
			"2026-03-29T07:00:00Z"},
		{"London: window in the skipped hour waits a day", records.Window{Start: "01:00", End: "01:30"},
			"2026-03-28T23:00:00Z", []*time.Location{london}, "2026-03-30T00:00:00Z"},
		{"London: after fall back, GMT", day, "2026-10-24T22:00:00Z", []*time.Location{london}, "2026-10-25T08:00:00Z"},
		{"London: repeated hour", records.Window{Start: "01:15", End: "01:45"},
			"2026-10-24T22:00:00Z", []*time.Location{london}, "2026-10-25T00:15:00Z"},
		{"NY and LA: LA opens last", day, "2026-06-01T10:00:00Z", []*time.Location{ny, la}, "2026-06-01T15:00:00Z"},
		{"NY and LA: after NY closes", day, "2026-06-02T01:30:00Z", []*time.Location{ny, la}, "2026-06-02T15:00:00Z"},
		// London and New York in the weeks their changes differ (US changed, UK not yet).
		{"NY and London, 4 h apart", records.Window{Start: "09:00", End: "14:00"}, "2026-03-20T15:00:00Z",
			[]*time.Location{ny, london}, "2026-03-21T13:00:00Z"},
		{"weekdays from Friday night", records.Window{Start: "09:00", End: "17:00",
			Days: []string{"mon", "tue", "wed", "thu", "fri"}}, "2026-06-05T22:00:00Z", []*time.Location{ny},
			"2026-06-08T13:00:00Z"},
		{"one day a week", records.Window{Days: []string{"tue"}}, "2026-06-03T12:00:00Z", []*time.Location{ny},
			"2026-06-09T12:00:00Z"},
		{"zones too far apart", records.Window{Start: "09:00", End: "17:00"}, "2026-06-01T00:00:00Z",
			[]*time.Location{mustZone(t, "Europe/Kaliningrad"), mustZone(t, "Asia/Kamchatka")}, ""},
		{"no zone", day, "2026-06-01T00:00:00Z", nil, ""},
	} {
		h := mustHours(t, c.w)
		got, ok := h.NextOpen(utc(c.now), c.zones)
		switch {
		case c.want == "" && ok:
			t.Errorf("%s: NextOpen = %s, want none", c.name, got.UTC().Format(time.RFC3339))
		case c.want != "" && (!ok || !got.Equal(utc(c.want))):
			t.Errorf("%s: NextOpen = %s, %v; want %s", c.name, got.UTC().Format(time.RFC3339), ok, c.want)
		}
	}
}

// NextOpen agrees with a minute-by-minute search over random windows,
// zones and times, DST changes included.
func TestNextOpenMatchesScan(t *testing.T) {
	zoneNames := []string{"America/New_York", "Europe/London", "America/Los_Angeles", "Australia/Lord_Howe",
		"Asia/Kolkata", "Australia/Adelaide", "America/Santiago", "Pacific/Chatham", "Asia/Tokyo", "UTC"}
	rng := rand.New(rand.NewPCG(13, 1))
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := 60
	if testing.Short() {
		cases = 10
	}
	for i := range cases {
		start := rng.IntN(24*4) * 15
		end := start + 15 + rng.IntN(24*60-start)/15*15
		w := records.Window{Start: clockText(start), End: clockText(min(end, 24*60))}
		if rng.IntN(3) == 0 {
			w.Days = []string{dayNames[rng.IntN(7)], dayNames[rng.IntN(7)]}
		}
		var zones []*time.Location
		for range 1 + rng.IntN(3) {
			zones = append(zones, mustZone(t, zoneNames[rng.IntN(len(zoneNames))]))
		}
		// Around the March and October-November changes, and elsewhere.
		now := base.Add(time.Duration(rng.IntN(260*24*60)) * time.Minute)
		h := mustHours(t, w)
		got, ok := h.NextOpen(now, zones)
		want, wantOK := scanOpen(h, now, zones)
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Errorf("case %d: %+v in %v from %s: NextOpen = %s, %v; scan = %s, %v",
				i, w, zones, now.Format(time.RFC3339), got, ok, want, wantOK)
		}
	}
}

func clockText(minutes int) string {
	return fmt.Sprintf("%02d:%02d", minutes/60, minutes%60)
}

func scanOpen(h Hours, now time.Time, zones []*time.Location) (time.Time, bool) {
	for t := now; !t.After(now.Add(nextOpenHorizon)); t = t.Add(time.Minute) {
		if h.Open(t, zones) {
			return t, true
		}
	}
	return time.Time{}, false
}

func TestContactZones(t *testing.T) {
	names := func(locs []*time.Location) []string {
		var out []string
		for _, l := range locs {
			out = append(out, l.String())
		}
		return out
	}
	for _, c := range []struct {
		name    string
		contact records.Contact
		region  string
		want    []string
	}{
		{"the row's zone wins", records.Contact{Number: "+14155550100", Timezone: "America/Chicago"}, "US",
			[]string{"America/Chicago"}},
		{"the number's area", records.Contact{Number: "+14155550100"}, "GB", []string{"America/Los_Angeles"}},
		{"the number's country", records.Contact{Number: "+442079460958"}, "US", []string{"Europe/London"}},
		{"the region's when the number has none", records.Contact{Number: "not a number"}, "FR", []string{"Europe/Paris"}},
	} {
		got, err := ContactZones(c.contact, c.region)
		if err != nil || !slices.Equal(names(got), c.want) {
			t.Errorf("%s: ContactZones = %v, %v; want %v", c.name, names(got), err, c.want)
		}
	}
	for _, c := range []struct {
		contact records.Contact
		region  string
	}{
		{records.Contact{Number: "+14155550100", Timezone: "America/Nowhere"}, "US"},
		{records.Contact{Number: "+14155550100", Timezone: "Local"}, "US"},
		{records.Contact{Number: "bad"}, ""},
		{records.Contact{Number: "bad"}, "XX"},
	} {
		if got, err := ContactZones(c.contact, c.region); err == nil {
			t.Errorf("ContactZones(%+v, %q) = %v, want an error", c.contact, c.region, names(got))
		}
	}
	if _, err := ContactZones(records.Contact{Timezone: "Mars/Olympus"}, "US"); !errors.Is(err, ErrUnknownZone) {
		t.Errorf("unknown zone: %v, want ErrUnknownZone", err)
	}
}

// NextOpen for a callee who may be in any of Russia's 13 zones, from a
// time when the window is shut in some of them.
func BenchmarkNextOpen(b *testing.B) {
	zones, err := ContactZones(records.Contact{Number: "+74951234567"}, "")
	if err != nil {
		b.Fatal(err)
	}
	h := mustHours(b, records.Window{})
	now := time.Date(2026, 3, 27, 20, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, ok := h.NextOpen(now, zones); !ok {
			b.Fatal("never open")
		}
	}
}
