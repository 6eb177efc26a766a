package rtp

import (
	"bytes"
	"errors"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Event
		wantErr bool
	}{
		{"digit 1 start dur 0", []byte{1, 10, 0, 0}, Event{Code: 1, Volume: 10}, false},
		{"pound end", []byte{11, 0x80 | 10, 0x08, 0xc0}, Event{Code: 11, End: true, Volume: 10, Duration: 2240}, false},
		{"reserved bit ignored", []byte{5, 0x40 | 7, 0, 160}, Event{Code: 5, Volume: 7, Duration: 160}, false},
		{"max volume and duration", []byte{16, 0xff, 0xff, 0xff}, Event{Code: 16, End: true, Volume: 63, Duration: 0xffff}, false},
		{"empty", nil, Event{}, true},
		{"short", []byte{1, 2, 3}, Event{}, true},
		{"long (two events need RFC 2198)", []byte{1, 2, 3, 4, 5, 6, 7, 8}, Event{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrEventLength) {
					t.Fatalf("err = %v, want ErrEventLength", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseEvent(%x) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEventMarshalRoundTrip(t *testing.T) {
	for _, ev := range []Event{{}, {Code: 11, End: true, Volume: 63, Duration: 0xffff}, {Code: 3, Volume: 10, Duration: 400}} {
		got, err := ParseEvent(ev.Marshal())
		if err != nil || got != ev {
			t.Errorf("round trip %+v = %+v, %v", ev, got, err)
		}
	}
	// Volume is a 6-bit field: higher bits must not leak into E or R.
	if b := (Event{Volume: 0xff}).Marshal(); b[1] != 0x3f {
		t.Errorf("volume 0xff marshalled as %#x, want 0x3f", b[1])
	}
}

func TestKeys(t *testing.T) {
	for i, k := range "0123456789*#ABCD" {
		code, ok := CodeForKey(k)
		if !ok || int(code) != i {
			t.Errorf("CodeForKey(%q) = %d, %v; want %d", k, code, ok, i)
		}
		if got, ok := KeyForCode(uint8(i)); !ok || got != k {
			t.Errorf("KeyForCode(%d) = %q, %v; want %q", i, got, ok, k)
		}
	}
	if c, ok := CodeForKey('d'); !ok || c != EventD {
		t.Errorf("CodeForKey('d') = %d, %v", c, ok)
	}
	for _, c := range []uint8{EventFlash, 17, 255} {
		if _, ok := KeyForCode(c); ok {
			t.Errorf("KeyForCode(%d) reported a key", c)
		}
	}
	if _, ok := CodeForKey('x'); ok {
		t.Error("CodeForKey('x') reported a code")
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte{1, 10, 0, 0})
	f.Add([]byte{11, 0x8a, 0x08, 0xc0})
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b)
		if err != nil {
			if len(b) == EventPayloadLen {
				t.Fatalf("4-byte payload rejected: %v", err)
			}
			return
		}
		want := bytes.Clone(b)
		want[1] &^= 0x40 // R is ignored on read and sent as zero
		if got := ev.Marshal(); !bytes.Equal(got, want) {
			t.Fatalf("Marshal(ParseEvent(%x)) = %x", b, got)
		}
	})
}

// evPkt builds a telephone-event packet on payload type 101.
func evPkt(seq uint16, ts uint32, code uint8, end bool, dur uint16) *prtp.Packet {
	return &prtp.Packet{
		Header:  prtp.Header{Version: 2, PayloadType: 101, SequenceNumber: seq, Timestamp: ts, SSRC: 0x1234},
		Payload: Event{Code: code, End: end, Volume: 10, Duration: dur}.Marshal(),
	}
}

func TestEventReceiver(t *testing.T) {
	// One key press as a well-behaved sender sends it: start, updates, 3 ends.
	press := func(seq uint16, ts uint32, code uint8) []*prtp.Packet {
		return []*prtp.Packet{
			evPkt(seq, ts, code, false, 0),
			evPkt(seq+1, ts, code, false, 400),
			evPkt(seq+2, ts, code, false, 800),
			evPkt(seq+3, ts, code, true, 960),
			evPkt(seq+4, ts, code, true, 960),
			evPkt(seq+5, ts, code, true, 960),
		}
	}
	cat := func(ps ...[]*prtp.Packet) []*prtp.Packet {
		var out []*prtp.Packet
		for _, p := range ps {
			out = append(out, p...)
		}
		return out
	}
	audio := &prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: 1, Timestamp: 1, SSRC: 0x1234}, Payload: make([]byte, 160)}
	otherSSRC := evPkt(9, 100, 3, false, 0)
	otherSSRC.SSRC = 0x9999

	tests := []struct {
		name string
		pkts []*prtp.Packet
		want string
	}{
		{"single press, duration 0 start, end x3 counts once", press(100, 8000, 5), "5"},
		{"same key twice is two digits", cat(press(100, 8000, 5), press(106, 9600, 5)), "55"},
		{"lost start and updates, only ends", press(100, 8000, 7)[3:], "7"},
		{"only one end packet survives", press(100, 8000, 7)[5:], "7"},
		{"start lost, update reports", press(100, 8000, 9)[1:], "9"},
		{"star pound A-D", cat(press(1, 100, 10), press(7, 2000, 11), press(13, 4000, 12), press(19, 6000, 15)), "*#AD"},
		{"sequence wraps inside an event", press(65533, 8000, 1), "1"},
		{"timestamp wraps between events", cat(press(10, 0xffffff00, 2), press(16, 0x00000200, 3)), "23"},
		{"event starting exactly at timestamp wrap", cat(press(10, 0xfffffc00, 2), press(16, 0, 3)), "23"},
		{"straggler of the previous event is not a new digit", cat(press(10, 8000, 4), press(16, 9600, 6), []*prtp.Packet{evPkt(15, 8000, 4, true, 960)}), "46"},
		{"reordered update before start", []*prtp.Packet{evPkt(2, 500, 8, false, 400), evPkt(1, 500, 8, false, 0), evPkt(3, 500, 8, true, 800)}, "8"},
		{"audio and flash are not digits", []*prtp.Packet{audio, evPkt(1, 50, EventFlash, false, 0), evPkt(2, 50, EventFlash, true, 800), evPkt(3, 50, EventFlash, true, 800)}, ""},
		{"new ssrc restarts tracking", cat(press(10, 100, 3), []*prtp.Packet{otherSSRC}), "33"},
		{"broken sender reusing a timestamp for another key", cat(press(1, 100, 1), press(7, 100, 2)), "12"},
		{"long event continues under a new timestamp", []*prtp.Packet{
			evPkt(1, 1000, 0, false, 0), evPkt(2, 1000, 0, false, 0xffff),
			evPkt(3, 1000+0xffff, 0, false, 400), evPkt(4, 1000+0xffff, 0, true, 800),
		}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewEventReceiver(101)
			var got []rune
			for _, p := range tt.pkts {
				d, ok, err := r.Push(p)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					got = append(got, d.Key)
				}
			}
			if string(got) != tt.want {
				t.Fatalf("digits %q, want %q", string(got), tt.want)
			}
		})
	}
}

func TestEventReceiverErrors(t *testing.T) {
	r := NewEventReceiver(101)
	p := evPkt(1, 1, 1, false, 0)
	p.Payload = p.Payload[:3]
	if _, _, err := r.Push(p); !errors.Is(err, ErrEventLength) {
		t.Fatalf("short payload: err = %v", err)
	}
	if _, _, err := r.PushRaw([]byte{0x80}); err == nil {
		t.Fatal("PushRaw of a 1-byte packet succeeded")
	}
	raw, _ := evPkt(1, 1, 4, false, 0).Marshal()
	if d, ok, err := r.PushRaw(raw); err != nil || !ok || d.Key != '4' {
		t.Fatalf("PushRaw = %+v, %v, %v", d, ok, err)
	}
}

func TestEventSender(t *testing.T) {
	s := EventSender{PayloadType: 101, ClockRate: 8000}
	pkts, err := s.Packets(EventPound, 120*time.Millisecond, prtp.Header{SSRC: 7, SequenceNumber: 65534, Timestamp: 0xfffffff0})
	if err != nil {
		t.Fatal(err)
	}
	// 120 ms at 50 ms updates: 400, 800, then 960 (capped) as three ends.
	wantDur := []uint16{400, 800, 960, 960, 960}
	wantEnd := []bool{false, false, true, true, true}
	if len(pkts) != len(wantDur) {
		t.Fatalf("%d packets, want %d", len(pkts), len(wantDur))
	}
	for i, p := range pkts {
		ev, err := ParseEvent(p.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Duration != wantDur[i] || ev.End != wantEnd[i] || ev.Code != EventPound || ev.Volume != 10 {
			t.Errorf("packet %d: %+v", i, ev)
		}
		if p.Marker != (i == 0) || p.Timestamp != 0xfffffff0 || p.SSRC != 7 || p.PayloadType != 101 || p.Version != 2 {
			t.Errorf("packet %d header: %+v", i, p.Header)
		}
		if p.SequenceNumber != uint16(65534+i) {
			t.Errorf("packet %d seq %d", i, p.SequenceNumber)
		}
	}
	// Round trip through the receiver: one digit.
	r := NewEventReceiver(101)
	n := 0
	for _, p := range pkts {
		raw, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if d, ok, err := r.PushRaw(raw); err != nil {
			t.Fatal(err)
		} else if ok {
			n++
			if d.Key != '#' {
				t.Errorf("key %q", d.Key)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d digits from one press", n)
	}

	// Short press at 20 ms updates and a 16 kHz clock.
	s = EventSender{PayloadType: 96, ClockRate: 16000, Interval: 20 * time.Millisecond, Volume: 20}
	pkts, err = s.Packets(1, 40*time.Millisecond, prtp.Header{})
	if err != nil || len(pkts) != 4 {
		t.Fatalf("%d packets, %v", len(pkts), err)
	}
	if ev, _ := ParseEvent(pkts[0].Payload); ev.Duration != 320 || ev.Volume != 20 {
		t.Errorf("first packet %+v, want duration 320 volume 20", ev)
	}

	for _, bad := range []struct {
		s EventSender
		d time.Duration
	}{
		{EventSender{ClockRate: 0}, time.Second / 10},
		{EventSender{ClockRate: 8000}, 0},
		{EventSender{ClockRate: 8000}, 9 * time.Second},
		{EventSender{ClockRate: 8000, Interval: time.Microsecond}, time.Second / 10},
	} {
		if _, err := bad.s.Packets(1, bad.d, prtp.Header{}); err == nil {
			t.Errorf("%+v for %v: no error", bad.s, bad.d)
		}
	}
}
