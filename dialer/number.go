package dialer

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// ErrInvalidNumber is a phone number that cannot be made E.164; the
// *NumberError wrapping it says why, in words a manager understands.
var ErrInvalidNumber = errors.New("invalid number")

// ErrUnknownRegion is a region that is not an ISO 3166 alpha-2 country of
// the numbering plan.
var ErrUnknownRegion = errors.New("not a country code (ISO 3166 alpha-2, like US or GB)")

// NumberError is why NormalizeNumber refused a number.
type NumberError struct {
	Input  string // the number as given
	Reason string // "too short for GB: 7 digits, need 9-10"
}

func (e *NumberError) Error() string {
	return fmt.Sprintf("%s %q: %s", ErrInvalidNumber, e.Input, e.Reason)
}

// Unwrap makes errors.Is(err, ErrInvalidNumber) hold.
func (e *NumberError) Unwrap() error { return ErrInvalidNumber }

// e164Max is the most digits an E.164 number has, country code included.
const e164Max = 15

// NormalizeNumber writes a phone number as E.164 ("+442079460958"). It
// takes international forms ("+44 20 7946 0958", "00 44 ...", "011 44 ..."
// from NANP regions, "tel:+44...") and national ones read in region (ISO
// 3166 alpha-2; "020 7946 0958" in GB, "415-555-0100" in US), drops the
// formatting and the trunk prefix, and checks the country code and the
// national number's length. region is only consulted for national forms.
// Errors are a *NumberError (ErrInvalidNumber) or ErrUnknownRegion.
func NormalizeNumber(raw, region string) (string, error) {
	digits, plus, reason := numberDigits(raw)
	if reason != "" {
		return "", &NumberError{Input: raw, Reason: reason}
	}
	var home *country
	if region != "" {
		home, _ = countryByRegion(region)
	}
	intl := plus
	if !intl {
		if rest, ok := cutIntlPrefix(digits, home); ok {
			digits, intl = rest, true
		}
	}
	var code, nsn string
	if intl {
		var ok bool
		if code, nsn, ok = splitCode(digits); !ok {
			return "", &NumberError{Input: raw, Reason: unknownCode(digits)}
		}
		if name, global := globalCodes[code]; global {
			return "", &NumberError{Input: raw, Reason: fmt.Sprintf(
				"country code %s is %s, not a country: it has no calling window", code, name)}
		}
		nsn = stripTrunk(byCode[code], nsn)
	} else {
		switch {
		case region == "":
			return "", &NumberError{Input: raw, Reason: "missing country code and no region"}
		case home == nil:
			return "", fmt.Errorf("number %q: region %q: %w", raw, region, ErrUnknownRegion)
		}
		code, nsn = home.code, nationalNumber(home, digits)
	}
	if reason := checkNSN(code, nsn); reason != "" {
		return "", &NumberError{Input: raw, Reason: reason}
	}
	return "+" + code + nsn, nil
}

// numberDigits keeps the digits of raw, and says whether it began with
// '+'; reason is why it is not a phone number at all.
func numberDigits(raw string) (digits string, plus bool, reason string) {
	s := strings.TrimSpace(raw)
	if len(s) >= 4 && strings.EqualFold(s[:4], "tel:") {
		s, _, _ = strings.Cut(s[4:], ";") // parameters: ;ext=, ;phone-context=
		s = strings.TrimSpace(s)
	}
	// "+44 (0)20 ...": the "(0)" is the trunk prefix for national
	// callers, which stripTrunk removes where the country has one.
	s, plus = strings.CutPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			if b.Len() == 2*e164Max {
				return "", false, fmt.Sprintf("too long: more than %d digits", 2*e164Max)
			}
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' ||
			r == '\t' || r == '\u00a0' || r == '\u2010' || r == '\u2011' || r == '\u2013':
		case unicode.IsLetter(r):
			return "", false, "letters are not allowed: write the number in digits, without an extension"
		default:
			return "", false, fmt.Sprintf("unexpected character %q", r)
		}
	}
	if b.Len() == 0 {
		if strings.TrimSpace(raw) == "" {
			return "", false, "empty"
		}
		return "", false, "no digits"
	}
	return b.String(), plus, ""
}

// cutIntlPrefix removes the prefix for dialling abroad: 00 anywhere, and
// the region's own (011 in NANP, 0011 in Australia...).
func cutIntlPrefix(digits string, home *country) (string, bool) {
	if home != nil {
		p := intlPrefixes[home.region]
		if home.code == "1" {
			p = intlPrefixes["1"]
		}
		if p != "" && strings.HasPrefix(digits, p) {
			return digits[len(p):], true
		}
	}
	if rest, ok := strings.CutPrefix(digits, "00"); ok {
		return rest, true
	}
	return digits, false
}

// nationalNumber reads digits written for callers inside home: without
// the trunk prefix, and without the country code that spreadsheets often
// keep while dropping its '+' ("447911123456" in GB).
func nationalNumber(home *country, digits string) string {
	nsn := stripTrunk(home, digits)
	if len(nsn) > home.max && strings.HasPrefix(digits, home.code) {
		if rest := stripTrunk(home, digits[len(home.code):]); len(rest) >= home.min && len(rest) <= home.max {
			return rest
		}
	}
	return nsn
}

// stripTrunk removes a trunk prefix written before a national number. A
// prefix of zeros is always a prefix (those numbers never start with 0);
// others ("1", "8") only when enough digits remain, as numbers may start
// with the same digit (Russia's 8 800 and +7 800).
func stripTrunk(c *country, nsn string) string {
	if c == nil || c.trunk == "" || !strings.HasPrefix(nsn, c.trunk) {
		return nsn
	}
	if c.trunk[0] == '0' || len(nsn)-len(c.trunk) >= c.min {
		return nsn[len(c.trunk):]
	}
	return nsn
}

// unknownCode explains international digits that start no country code.
func unknownCode(digits string) string {
	if digits == "" {
		return "no digits after the international prefix"
	}
	if digits[0] == '0' {
		return "country codes do not start with 0"
	}
	return fmt.Sprintf("country code %s does not exist", digits[:min(3, len(digits))])
}

// checkNSN checks a national significant number under its country code;
// the reason names the region the number belongs to. The table's lengths
// keep every number within E.164's 15 digits (TestCountryTable).
func checkNSN(code, nsn string) string {
	c := regionOfNSN(code, nsn)
	switch {
	case nsn == "":
		return fmt.Sprintf("nothing after the country code +%s", code)
	case len(nsn) < c.min:
		return fmt.Sprintf("too short for %s: %d digits, need %s", c.region, len(nsn), lengths(c))
	case len(nsn) > c.max:
		return fmt.Sprintf("too long for %s: %d digits, need %s", c.region, len(nsn), lengths(c))
	case c.trunk != "" && c.trunk[0] == '0' && nsn[0] == '0':
		return fmt.Sprintf("a %s number cannot start with 0 after the country code", c.region)
	case code == "1":
		return checkNANP(nsn)
	}
	return ""
}

func lengths(c *country) string {
	if c.min == c.max {
		return fmt.Sprint(c.min)
	}
	return fmt.Sprintf("%d-%d", c.min, c.max)
}

// checkNANP applies the plan's rules to a ten-digit number: area code and
// exchange start with 2-9, and N11 codes are services (411, 911), not
// areas. 555-01XX numbers are fictional but well formed: kept.
func checkNANP(nsn string) string {
	area, exchange := nsn[:3], nsn[3:6]
	switch {
	case area[0] < '2':
		return fmt.Sprintf("area code %s cannot start with %c", area, area[0])
	case area[1] == '1' && area[2] == '1':
		return fmt.Sprintf("area code %s is a service code, not an area", area)
	case exchange[0] < '2':
		return fmt.Sprintf("exchange %s (after area code %s) cannot start with %c", exchange, area, exchange[0])
	}
	return ""
}

// RegionOf is the region (ISO 3166 alpha-2) of an E.164 number, by its
// country code and, where regions share one, its first digits (NANP area
// codes, +7 6/7 for Kazakhstan...); "" unless e164 is a valid number
// written as NormalizeNumber writes it.
func RegionOf(e164 string) string {
	c := countryOf(e164)
	if c == nil {
		return ""
	}
	return c.region
}

// ZonesOf lists the IANA time zones an E.164 number may ring in: its NANP
// area's, else its country's (every zone of a country that has several);
// nil unless e164 is a valid number written as NormalizeNumber writes it.
func ZonesOf(e164 string) []string {
	n, err := NormalizeNumber(e164, "")
	if err != nil || n != e164 {
		return nil
	}
	code, nsn, _ := splitCode(n[1:])
	if code == "1" {
		if a, ok := nanpArea(nsn); ok {
			return strings.Fields(a.zones)
		}
		return nanpUnknownZones()
	}
	return regionOfNSN(code, nsn).zoneNames()
}

// countryOf is the region an E.164 number belongs to; nil if invalid.
func countryOf(e164 string) *country {
	n, err := NormalizeNumber(e164, "")
	if err != nil || n != e164 {
		return nil
	}
	code, nsn, _ := splitCode(n[1:])
	return regionOfNSN(code, nsn)
}
