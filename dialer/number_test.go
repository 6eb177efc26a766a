package dialer

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

func TestNormalizeNumber(t *testing.T) {
	for _, c := range []struct{ raw, region, want string }{
		{"+1 (415) 555-0100", "", "+14155550100"},
		{"+1 (415) 555-0100", "GB", "+14155550100"}, // the region does not matter with '+'
		{"00 44 20 7946 0958", "", "+442079460958"},
		{"00 44 20 7946 0958", "FR", "+442079460958"},
		{"020 7946 0958", "GB", "+442079460958"},
		{"020 7946 0958", "uk", "+442079460958"},
		{"20 7946 0958", "GB", "+442079460958"}, // trunk prefix left out
		{"+44 (0)20 7946 0958", "", "+442079460958"},
		{"+44 020 7946 0958", "", "+442079460958"},
		{"447700900123", "GB", "+447700900123"}, // a spreadsheet dropped the '+'
		{"415-555-0100", "US", "+14155550100"},
		{"1-415-555-0100", "US", "+14155550100"},
		{"(415) 555.0100", "us", "+14155550100"},
		{"011 44 20 7946 0958", "US", "+442079460958"},
		{"011 33 1 23 45 67 89", "CA", "+33123456789"},
		{"tel:+1-415-555-0100", "", "+14155550100"},
		{"TEL:+1-415-555-0100;ext=12", "", "+14155550100"},
		{"  +33 6 12 34 56 78 ", "", "+33612345678"},
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"030 123456", "DE", "+4930123456"},
		{"06 1234 5678", "IT", "+390612345678"}, // Italy keeps its 0
		{"+39 06 1234 5678", "", "+390612345678"},
		{"8 (495) 123-45-67", "RU", "+74951234567"},
		{"8 800 123 45 67", "RU", "+78001234567"},
		{"+7 800 123 4567", "", "+78001234567"}, // 8 is not a trunk prefix here
		{"06 1 234 5678", "HU", "+3612345678"},
		{"+52 1 55 1234 5678", "", "+525512345678"}, // Mexico's old mobile 1
		{"55 1234 5678", "MX", "+525512345678"},
		{"0412 345 678", "AU", "+61412345678"},
		{"0011 44 20 7946 0958", "AU", "+442079460958"},
		{"090-1234-5678", "JP", "+819012345678"},
		{"098765 43210", "IN", "+919876543210"},
		{"0803 123 4567", "NG", "+2348031234567"},
		{"082 123 4567", "ZA", "+27821234567"},
		{"(11) 91234-5678", "BR", "+5511912345678"},
		{"612 34 56 78", "ES", "+34612345678"},
		{"+1 345 949 1234", "", "+13459491234"},
		{"+1 415 555 0199", "", "+14155550199"}, // fictional 555-01XX: valid E.164
		{"+1\u00a0415\u2011555\u20110100", "", "+14155550100"},
	} {
		got, err := NormalizeNumber(c.raw, c.region)
		if err != nil || got != c.want {
			t.Errorf("NormalizeNumber(%q, %q) = %q, %v; want %q", c.raw, c.region, got, err, c.want)
		}
	}
}

func TestNormalizeNumberErrors(t *testing.T) {
	for _, c := range []struct{ raw, region, want string }{
		{"415-555-0100", "", "missing country code and no region"},
		{"+999 1234 5678", "", "country code 999 does not exist"},
		{"+0 415", "", "country codes do not start with 0"},
		{"+", "", "no digits"},
		{"", "US", "empty"},
		{"--", "US", "no digits"},
		{"0794 6095", "GB", "too short for GB: 7 digits, need 9-10"},
		{"555-01", "US", "too short for US: 5 digits, need 10"},
		{"+44 20 7946 0958 1234", "", "too long for GB: 14 digits, need 9-10"},
		{"+49 1234 5678 9012 3456", "", "too long for DE: 16 digits, need 6-13"},
		{"+1 055 555 0100", "", "area code 055 cannot start with 0"},
		{"+1 155 555 0100", "", "area code 155 cannot start with 1"},
		{"+1 911 555 0100", "", "area code 911 is a service code, not an area"},
		{"+1 415 055 0100", "", "exchange 055 (after area code 415) cannot start with 0"},
		{"1-800-FLOWERS", "US", "letters are not allowed"},
		{"415 555 0100 x12", "US", "letters are not allowed"},
		{"415#555", "US", `unexpected character '#'`},
		{"+1 415 +555", "", `unexpected character '+'`},
		{"+870 7612 34567", "", "country code 870 is Inmarsat satellite, not a country"},
		{"+33 0 0 12 34 56 78", "", "a FR number cannot start with 0 after the country code"},
		{"+44", "", "nothing after the country code +44"},
		{strings.Repeat("1", 40), "US", "too long: more than 30 digits"},
	} {
		got, err := NormalizeNumber(c.raw, c.region)
		var ne *NumberError
		if !errors.Is(err, ErrInvalidNumber) || !errors.As(err, &ne) || !strings.Contains(ne.Reason, c.want) {
			t.Errorf("NormalizeNumber(%q, %q) = %q, %v; want an ErrInvalidNumber saying %q", c.raw, c.region, got, err, c.want)
		}
	}
	_, err := NormalizeNumber("020 7946 0958", "XX")
	if !errors.Is(err, ErrUnknownRegion) || errors.Is(err, ErrInvalidNumber) {
		t.Errorf("unknown region: %v, want ErrUnknownRegion", err)
	}
	if n, err := NormalizeNumber("+44 20 7946 0958", "XX"); err != nil || n != "+442079460958" {
		t.Errorf("an international number with an unknown region = %q, %v; the region is not needed", n, err)
	}
}

func TestNumberErrorMessage(t *testing.T) {
	_, err := NormalizeNumber("0794 6095", "GB")
	if want := `invalid number "0794 6095": too short for GB: 7 digits, need 9-10`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestRegionOfAndZonesOf(t *testing.T) {
	for _, c := range []struct {
		number, region string
		zones          []string
	}{
		{"+14155550100", "US", []string{"America/Los_Angeles"}},
		{"+12125550100", "US", []string{"America/New_York"}},
		{"+19285550100", "US", []string{"America/Phoenix", "America/Denver"}},
		{"+14165550100", "CA", []string{"America/Toronto"}},
		{"+18095550100", "DO", []string{"America/Santo_Domingo"}},
		{"+17875550100", "PR", []string{"America/Puerto_Rico"}},
		{"+442079460958", "GB", []string{"Europe/London"}},
		{"+441534123456", "JE", []string{"Europe/Jersey"}},
		{"+74951234567", "RU", nil},
		{"+77011234567", "KZ", nil},
		{"+61891641234", "CX", []string{"Indian/Christmas"}},
		{"+390669812345", "VA", []string{"Europe/Vatican"}},
		{"+33612345678", "FR", []string{"Europe/Paris"}},
		{"+819012345678", "JP", []string{"Asia/Tokyo"}},
		{"+5511912345678", "BR", nil},
	} {
		if got := RegionOf(c.number); got != c.region {
			t.Errorf("RegionOf(%s) = %q, want %q", c.number, got, c.region)
		}
		if c.zones != nil && !slices.Equal(ZonesOf(c.number), c.zones) {
			t.Errorf("ZonesOf(%s) = %v, want %v", c.number, ZonesOf(c.number), c.zones)
		}
	}
	// A country with several zones gives them all; an unknown NANP area
	// (toll free) gives every US and Canadian zone.
	for number, want := range map[string][]string{
		"+74951234567":   {"Europe/Moscow", "Europe/Kaliningrad", "Asia/Kamchatka"},
		"+5511912345678": {"America/Sao_Paulo", "America/Manaus", "America/Noronha"},
		"+18005550100":   {"America/New_York", "Pacific/Honolulu", "America/St_Johns"},
	} {
		zones := ZonesOf(number)
		for _, z := range want {
			if !slices.Contains(zones, z) {
				t.Errorf("ZonesOf(%s) = %v, want it to include %s", number, zones, z)
			}
		}
	}
	for _, bad := range []string{"", "14155550100", "+1 415 555 0100", "+999123", "+19115550100"} {
		if r, z := RegionOf(bad), ZonesOf(bad); r != "" || z != nil {
			t.Errorf("RegionOf/ZonesOf(%q) = %q, %v; want nothing for a number not in E.164", bad, r, z)
		}
	}
}

// ZonesOf must not hand out the table's own slices.
func TestZonesOfReturnsACopy(t *testing.T) {
	ZonesOf("+442079460958")[0] = "Mars/Olympus"
	if z := ZonesOf("+442079460958"); z[0] != "Europe/London" {
		t.Fatalf("the table changed: %v", z)
	}
}

func TestCountryTable(t *testing.T) {
	regions := map[string]bool{}
	codes := map[string]bool{}
	for _, c := range countries {
		if regions[c.region] {
			t.Errorf("region %s listed twice", c.region)
		}
		regions[c.region] = true
		codes[c.code] = true
		if c.min < 1 || c.min > c.max || len(c.code)+c.max > e164Max {
			t.Errorf("%s: length %d-%d does not fit E.164 after +%s", c.region, c.min, c.max, c.code)
		}
		if c.zones == "" {
			t.Errorf("%s: no time zone", c.region)
		}
		if !regexp.MustCompile(`^[A-Z]{2}$`).MatchString(c.region) || !regexp.MustCompile(`^[1-9][0-9]{0,2}$`).MatchString(c.code) {
			t.Errorf("bad row %+v", c)
		}
	}
	for code := range globalCodes {
		codes[code] = true
	}
	// Calling codes are prefix-free, or splitCode would be ambiguous.
	for a := range codes {
		for b := range codes {
			if a != b && strings.HasPrefix(b, a) {
				t.Errorf("code %s is a prefix of code %s", a, b)
			}
		}
	}
	for _, p := range regionPrefixes {
		if c, ok := countryByRegion(p.region); !ok || c.code != p.code {
			t.Errorf("region prefix %+v: region not under that code", p)
		}
	}
	if len(countries) < 240 {
		t.Errorf("%d countries: the table misses some", len(countries))
	}
}

// Every zone named in the tables must load, from the embedded database.
func TestTableZonesLoad(t *testing.T) {
	names := map[string]bool{}
	for _, c := range countries {
		for _, z := range c.zoneNames() {
			names[z] = true
		}
	}
	for _, g := range nanpGroups {
		for _, z := range strings.Fields(g.zones) {
			names[z] = true
		}
	}
	for z := range names {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("zone %s: %v", z, err)
		}
	}
}

func TestNANPTable(t *testing.T) {
	seen := map[string]string{}
	for _, g := range nanpGroups {
		if _, ok := countryByRegion(g.region); !ok {
			t.Errorf("NANP group of unknown region %s", g.region)
		}
		for _, code := range strings.Fields(g.codes) {
			if prev, dup := seen[code]; dup {
				t.Errorf("area code %s in %s and %s", code, prev, g.region)
			}
			seen[code] = g.region
			n := "+1" + code + "5550100"
			if got, err := NormalizeNumber(n, ""); err != nil || got != n {
				t.Errorf("area code %s: %q, %v", code, got, err)
			}
		}
	}
	if len(seen) < 300 {
		t.Errorf("%d NANP area codes, want the 300 most common at least", len(seen))
	}
}
