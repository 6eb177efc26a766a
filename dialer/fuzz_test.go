package dialer

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func FuzzNormalizeNumber(f *testing.F) {
	for _, s := range []struct{ raw, region string }{
		{"+1 (415) 555-0100", ""}, {"00 44 20 7946 0958", ""}, {"020 7946 0958", "GB"}, {"415-555-0100", "US"},
		{"tel:+1-415-555-0100;ext=1", ""}, {"+44 (0)20 7946 0958", ""}, {"8 800 123 45 67", "RU"},
		{"06 1 234 5678", "HU"}, {"+52 1 55 1234 5678", ""}, {"011 44 20", "CA"}, {"0011 1", "AU"},
		{"447700900123", "GB"}, {"+870 123", ""}, {"+36 06 06 1234", ""}, {"\u00a0+٣", "EG"},
	} {
		f.Add(s.raw, s.region)
	}
	f.Fuzz(func(t *testing.T, raw, region string) {
		n, err := NormalizeNumber(raw, region)
		if err != nil {
			if !errors.Is(err, ErrInvalidNumber) && !errors.Is(err, ErrUnknownRegion) {
				t.Fatalf("NormalizeNumber(%q, %q): error %v is neither sentinel", raw, region, err)
			}
			return
		}
		if !e164Pattern.MatchString(n) {
			t.Fatalf("NormalizeNumber(%q, %q) = %q: not E.164", raw, region, n)
		}
		for _, r := range []string{"", region, "US", "GB"} {
			if again, err := NormalizeNumber(n, r); err != nil || again != n {
				t.Fatalf("NormalizeNumber(%q, %q) = %q, but normalising that (region %q) gives %q, %v",
					raw, region, n, r, again, err)
			}
		}
		if RegionOf(n) == "" || len(ZonesOf(n)) == 0 {
			t.Fatalf("%q: region %q, zones %v", n, RegionOf(n), ZonesOf(n))
		}
	})
}

func FuzzParseWindow(f *testing.F) {
	f.Add("08:00", "21:00", "mon,tue", int64(0))
	f.Add("", "", "", int64(1_780_000_000))
	f.Add("23:59", "24:00", "sun", int64(-1))
	f.Add("9:5", "25:00", "wdn,", int64(42))
	f.Fuzz(func(t *testing.T, start, end, days string, unix int64) {
		w := records.Window{Start: start, End: end}
		if days != "" {
			w.Days = strings.Split(days, ",")
		}
		h, err := ParseWindow(w)
		if err != nil {
			var fe FieldErrors
			if !errors.As(err, &fe) || len(fe) == 0 {
				t.Fatalf("ParseWindow(%+v): %v is not FieldErrors", w, err)
			}
			return
		}
		if h.start >= h.end || h.start < 0 || h.end > 24*time.Hour {
			t.Fatalf("ParseWindow(%+v) = %s: empty or out of the day", w, h)
		}
		now := time.Unix(unix%(1<<34), 0)
		zones := []*time.Location{time.UTC, mustZone(t, "America/New_York")}
		if next, ok := h.NextOpen(now, zones); ok && (next.Before(now) || !h.Open(next, zones)) {
			t.Fatalf("%s: NextOpen(%s) = %s, which is not open", h, now, next)
		}
	})
}

func FuzzReadContacts(f *testing.F) {
	f.Add("phone,name\n+14155550100,Ada\n")
	f.Add("\uFEFFphone;tz\n415-555-0100;America/New_York\n415-555-0100;x\n")
	f.Add("phone,name\n\"+1 415\n555 0100\",\"a\"\"b\"\n1,2,3\n\"")
	f.Add("mobile\tcountry\n020 7946 0958\tGB\n")
	f.Fuzz(func(t *testing.T, csv string) {
		emitted := 0
		rep, err := ReadContacts(strings.NewReader(csv), ImportOptions{Region: "US", MaxErrors: 5},
			func(c records.Contact) error {
				if !e164Pattern.MatchString(c.Number) || c.State != records.ContactPending {
					t.Fatalf("emitted %+v", c)
				}
				emitted++
				return nil
			})
		if err != nil {
			return
		}
		if rep.Accepted+rep.Rejected != rep.Rows || rep.Accepted != emitted || len(rep.Errors) > 5 ||
			rep.Duplicates > rep.Rejected {
			t.Fatalf("report %+v, %d emitted", rep, emitted)
		}
	})
}
