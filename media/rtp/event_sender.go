package rtp

import (
	"errors"
	"fmt"
	"time"

	prtp "github.com/pion/rtp"
)

// EventEndRepeats is how many times the final packet of an event is sent
// (RFC 4733 section 2.5.1.4 recommends three): a receiver must count them once.
const EventEndRepeats = 3

// EventSender builds the RFC 4733 packet sequence for one key press.
type EventSender struct {
	PayloadType uint8         // negotiated telephone-event payload type, e.g. 101
	ClockRate   int           // telephone-event clock rate, 8000 unless the SDP says otherwise
	Interval    time.Duration // time between packets; 50 ms per RFC 4733 if zero
	Volume      uint8         // -dBm0; 10 if zero (a typical keypad level)
}

// Packets returns the packets for one event of the given code lasting d, on
// the stream described by h (SSRC, the next sequence number and the stream's
// current timestamp, which becomes the event timestamp). Send packet i at
// i*Interval after the first. All packets share h.Timestamp; the first carries
// the marker bit; each update reports the duration reached by the time the
// next packet is due, capped at d, so the first packet never has duration 0
// (receivers such as diago drop those); the final duration is sent
// EventEndRepeats times with the E bit, each with its own sequence number
// (RTP requires it; SRTP replay protection would drop repeats otherwise).
// The caller advances its stream timestamp by the event duration plus the
// time the end packets took before sending audio again.
func (s EventSender) Packets(code uint8, d time.Duration, h prtp.Header) ([]*prtp.Packet, error) {
	interval := s.Interval
	if interval == 0 {
		interval = 50 * time.Millisecond
	}
	volume := s.Volume
	if volume == 0 {
		volume = 10
	}
	if s.ClockRate <= 0 {
		return nil, fmt.Errorf("telephone-event: clock rate %d", s.ClockRate)
	}
	step := samples(interval, s.ClockRate)
	total := samples(d, s.ClockRate)
	switch {
	case step <= 0:
		return nil, fmt.Errorf("telephone-event: interval %v is under one sample at %d Hz", interval, s.ClockRate)
	case total <= 0:
		return nil, errors.New("telephone-event: duration must be at least one sample")
	case total > 0xffff:
		// Longer events need RFC 4733 2.5.1.3 segmentation; no keypad needs it.
		return nil, fmt.Errorf("telephone-event: duration %v exceeds %d samples", d, 0xffff)
	}
	var pkts []*prtp.Packet
	add := func(dur int, end bool) {
		hdr := h
		hdr.Version = 2
		hdr.PayloadType = s.PayloadType
		hdr.Marker = len(pkts) == 0
		hdr.SequenceNumber = h.SequenceNumber + uint16(len(pkts))
		ev := Event{Code: code, End: end, Volume: volume, Duration: uint16(dur)}
		pkts = append(pkts, &prtp.Packet{Header: hdr, Payload: ev.Marshal()})
	}
	for dur := step; dur < total; dur += step {
		add(dur, false)
	}
	for range EventEndRepeats {
		add(total, true)
	}
	return pkts, nil
}

// samples converts a duration to a whole number of clock ticks.
func samples(d time.Duration, clockRate int) int {
	return int(int64(d) * int64(clockRate) / int64(time.Second))
}
