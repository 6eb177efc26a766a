package rtp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// EventPayloadLen is the size of one RFC 4733 telephone-event payload.
const EventPayloadLen = 4

// ErrEventLength is returned by ParseEvent for payloads that are not exactly
// EventPayloadLen bytes. Several events in one packet are only legal through
// RFC 2198 redundancy, which is a different payload type, so anything longer
// is a framing error rather than something to read the first four bytes of.
var ErrEventLength = errors.New("rtp: telephone-event payload must be 4 bytes")

// Event codes for DTMF (RFC 4733 section 3.2).
const (
	EventStar  uint8 = 10
	EventPound uint8 = 11
	EventA     uint8 = 12
	EventD     uint8 = 15
	EventFlash uint8 = 16
)

// Event is one RFC 4733 telephone-event payload.
type Event struct {
	Code uint8 // 0-9 digits, 10 '*', 11 '#', 12-15 A-D, 16 flash
	End  bool  // E bit: this is (a retransmission of) the final packet
	// Volume is the power level in -dBm0, 0-63; only the low 6 bits are sent.
	Volume uint8
	// Duration is the event length so far in RTP timestamp units, counted from
	// the packet's RTP timestamp (the event start).
	Duration uint16
}

// ParseEvent decodes a telephone-event payload. The reserved R bit is ignored
// as RFC 4733 requires.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) != EventPayloadLen {
		return Event{}, fmt.Errorf("%w, got %d", ErrEventLength, len(payload))
	}
	return Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3f,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}, nil
}

// Marshal encodes the event as a 4-byte payload.
func (e Event) Marshal() []byte {
	b := make([]byte, EventPayloadLen)
	b[0] = e.Code
	b[1] = e.Volume & 0x3f
	if e.End {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], e.Duration)
	return b
}

// Key returns the DTMF key for the event code ('0'-'9', '*', '#', 'A'-'D'),
// or false for non-DTMF events such as flash.
func (e Event) Key() (rune, bool) { return KeyForCode(e.Code) }

// KeyForCode maps an RFC 4733 DTMF event code to its key.
func KeyForCode(code uint8) (rune, bool) {
	switch {
	case code <= 9:
		return rune('0' + code), true
	case code == EventStar:
		return '*', true
	case code == EventPound:
		return '#', true
	case code >= EventA && code <= EventD:
		return rune('A' + code - EventA), true
	}
	return 0, false
}

// CodeForKey maps a DTMF key to its RFC 4733 event code; lower-case a-d are
// accepted because SIP INFO bodies use both.
func CodeForKey(key rune) (uint8, bool) {
	switch {
	case key >= '0' && key <= '9':
		return uint8(key - '0'), true
	case key == '*':
		return EventStar, true
	case key == '#':
		return EventPound, true
	case key >= 'A' && key <= 'D':
		return EventA + uint8(key-'A'), true
	case key >= 'a' && key <= 'd':
		return EventA + uint8(key-'a'), true
	}
	return 0, false
}
