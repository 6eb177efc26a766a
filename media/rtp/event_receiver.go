package rtp

import (
	"fmt"

	prtp "github.com/pion/rtp"
)

// Digit is a DTMF key received as RFC 4733 telephone-events.
type Digit struct {
	Key       rune   // '0'-'9', '*', '#', 'A'-'D'
	Code      uint8  // the RFC 4733 event code
	SSRC      uint32 // stream it came on
	Timestamp uint32 // RTP timestamp of the event start; identifies the event
	Volume    uint8  // -dBm0 from the packet that reported it
}

// EventReceiver turns the telephone-event packets of one RTP stream into
// digits, each reported exactly once.
//
// An event is identified by its RTP timestamp (RFC 4733 section 2.3.3: every
// packet of one event carries the start timestamp), not by the marker bit or
// by watching the key change: the start packet may be lost, the end packet is
// sent three times, the same key pressed twice gets two timestamps, and a
// first packet with duration 0 is legal (SIPp's stock pcaps send one; diago
// drops it). The digit is reported on the first packet seen for a new
// timestamp, so a lost start still yields it, on the first surviving packet.
// Timestamps are compared with serial-number arithmetic so the 32-bit wrap and
// stale packets of an earlier event (reordered behind a newer one) are handled;
// sequence numbers are not needed for this and their wrap cannot matter.
//
// Not safe for concurrent use; one receiver per inbound stream.
type EventReceiver struct {
	payloadType uint8

	have    bool
	ssrc    uint32
	ts      uint32 // timestamp of the current (latest) event
	code    uint8
	ended   bool
	maxDur  uint16
	ignored uint64
}

// NewEventReceiver returns a receiver for the negotiated telephone-event
// payload type (the a=rtpmap:<pt> telephone-event/8000 line of the SDP).
func NewEventReceiver(payloadType uint8) *EventReceiver {
	return &EventReceiver{payloadType: payloadType}
}

// Push feeds one RTP packet. Packets of other payload types are ignored so the
// caller can push every packet of the stream. It returns the digit when the
// packet starts a new DTMF event. Non-DTMF events (flash, tones) are tracked so
// their retransmissions are not mistaken for anything, but not reported.
func (r *EventReceiver) Push(pkt *prtp.Packet) (Digit, bool, error) {
	if pkt.PayloadType != r.payloadType {
		return Digit{}, false, nil
	}
	ev, err := ParseEvent(pkt.Payload)
	if err != nil {
		return Digit{}, false, fmt.Errorf("telephone-event seq %d ssrc %#x: %w", pkt.SequenceNumber, pkt.SSRC, err)
	}
	if r.have && pkt.SSRC == r.ssrc {
		delta := int32(pkt.Timestamp - r.ts)
		switch {
		case delta < 0:
			// A straggler from an event we already moved past.
			r.ignored++
			return Digit{}, false, nil
		case delta == 0 && ev.Code == r.code:
			// Update or end retransmission of the current event.
			r.ended = r.ended || ev.End
			r.maxDur = max(r.maxDur, ev.Duration)
			return Digit{}, false, nil
		case delta > 0 && r.continues(ev, uint32(delta)):
			// RFC 4733 2.5.1.3: an event longer than the 16-bit duration
			// continues under a new timestamp; it is still the same key press.
			r.ts, r.maxDur, r.ended = pkt.Timestamp, ev.Duration, ev.End
			return Digit{}, false, nil
		}
		// delta == 0 with another code only comes from broken senders that
		// reuse a timestamp; a different key is a different press.
	}
	r.have, r.ssrc, r.ts = true, pkt.SSRC, pkt.Timestamp
	r.code, r.ended, r.maxDur = ev.Code, ev.End, ev.Duration
	key, ok := ev.Key()
	if !ok {
		return Digit{}, false, nil
	}
	return Digit{Key: key, Code: ev.Code, SSRC: pkt.SSRC, Timestamp: pkt.Timestamp, Volume: ev.Volume}, true, nil
}

// PushRaw unmarshals buf as an RTP packet and calls Push.
func (r *EventReceiver) PushRaw(buf []byte) (Digit, bool, error) {
	var pkt prtp.Packet
	if err := pkt.Unmarshal(buf); err != nil {
		return Digit{}, false, fmt.Errorf("telephone-event: unmarshal rtp: %w", err)
	}
	return r.Push(&pkt)
}

// Stale reports how many packets were ignored as belonging to an older event.
func (r *EventReceiver) Stale() uint64 { return r.ignored }

func (r *EventReceiver) continues(ev Event, delta uint32) bool {
	return !r.ended && ev.Code == r.code && r.maxDur == 0xffff && delta <= 0xffff
}
