package sipworker

import (
	"bufio"
	"strconv"
	"strings"
)

// eventReceiver turns RFC 4733 telephone-event packets into key presses.
// All packets of one event share its RTP timestamp, so a key counts once
// on the first packet seen with a new timestamp: the duration-0 start
// packet some senders use (SIPp's stock pcaps), the updates and the end
// packet sent three times all fall on the same one.
type eventReceiver struct {
	seen  bool
	ts    uint32
	event uint8
}

// receive takes one telephone-event payload and returns the key it starts.
func (e *eventReceiver) receive(ts uint32, payload []byte) (rune, bool) {
	if len(payload) < 4 {
		return 0, false
	}
	ev := payload[0]
	if e.seen && e.ts == ts && e.event == ev {
		return 0, false
	}
	e.seen, e.ts, e.event = true, ts, ev
	return eventDigit(ev)
}

const eventDigits = "0123456789*#ABCD"

// eventDigit maps an RFC 4733 event code to its key.
func eventDigit(ev uint8) (rune, bool) {
	if int(ev) < len(eventDigits) {
		return rune(eventDigits[ev]), true
	}
	return 0, false
}

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
