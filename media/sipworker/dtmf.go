package sipworker

import (
	"bufio"
	"strconv"
	"strings"
)

const eventDigits = "0123456789*#ABCD"

// parseDTMFInfo reads the key of a SIP INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160") or application/dtmf ("5").
func parseDTMFInfo(contentType string, body []byte) (rune, bool) {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	var sig string
	switch ct {
	case "application/dtmf-relay":
		sc := bufio.NewScanner(strings.NewReader(string(body)))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				sig = strings.TrimSpace(v)
				break
			}
		}
	case "application/dtmf":
		sig = strings.TrimSpace(string(body))
	default:
		return 0, false
	}
	sig = strings.ToUpper(sig)
	if len(sig) == 1 && strings.Contains(eventDigits, sig) {
		return rune(sig[0]), true
	}
	// Some phones send the event code (10 for *, 11 for #).
	if n, err := strconv.Atoi(sig); err == nil && n >= 0 && n < len(eventDigits) {
		return rune(eventDigits[n]), true
	}
	return 0, false
}
