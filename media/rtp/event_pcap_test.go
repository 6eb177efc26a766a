package rtp

import (
	"os"
	"path/filepath"
	"sort"
	"testing"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/media/rtp/pcap"
)

// sipTesterDir holds SIPp's stock captures (Debian package sip-tester).
const sipTesterDir = "/usr/share/sip-tester"

// sippDTMF lists SIPp's stock RFC 4733 captures and the key each encodes.
// Inspected with tshark: each is one key press on PT 101 at 192.168.0.3:49176
// -> 192.168.0.1:10000, ten packets 20 ms apart: a marker-bit start with
// duration 0 (the packet diago drops), six updates (+320 each), then the end
// packet (duration 2240) three times with the same sequence number.
var sippDTMF = []struct {
	file string
	key  rune
}{
	{"dtmf_2833_0.pcap", '0'}, {"dtmf_2833_1.pcap", '1'}, {"dtmf_2833_2.pcap", '2'},
	{"dtmf_2833_3.pcap", '3'}, {"dtmf_2833_4.pcap", '4'}, {"dtmf_2833_5.pcap", '5'},
	{"dtmf_2833_6.pcap", '6'}, {"dtmf_2833_7.pcap", '7'}, {"dtmf_2833_8.pcap", '8'},
	{"dtmf_2833_9.pcap", '9'}, {"dtmf_2833_star.pcap", '*'}, {"dtmf_2833_pound.pcap", '#'},
}

func readSIPpCapture(t *testing.T, file string) []*prtp.Packet {
	t.Helper()
	path := filepath.Join(sipTesterDir, file)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("SIPp capture missing (%v): run scripts/test, which installs the sip-tester package, or apt-get install sip-tester", err)
	}
	udp, err := pcap.ReadUDPFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*prtp.Packet
	for _, u := range udp {
		p := new(prtp.Packet)
		if err := p.Unmarshal(u.Payload); err != nil {
			t.Fatalf("%s: RTP from %v: %v", file, u.Src, err)
		}
		out = append(out, p)
	}
	return out
}

func TestEventReceiverSIPpCaptures(t *testing.T) {
	var stream [][]*prtp.Packet
	for _, c := range sippDTMF {
		t.Run(c.file, func(t *testing.T) {
			pkts := readSIPpCapture(t, c.file)
			if len(pkts) != 10 {
				t.Fatalf("%d packets, want 10", len(pkts))
			}
			first, err := ParseEvent(pkts[0].Payload)
			if err != nil {
				t.Fatal(err)
			}
			if first.Duration != 0 || !pkts[0].Marker {
				t.Fatalf("capture changed: first packet %+v marker %v; this test exists for the duration-0 start", first, pkts[0].Marker)
			}
			r := NewEventReceiver(101)
			var got []rune
			for i, p := range pkts {
				d, ok, err := r.Push(p)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					if i != 0 {
						t.Errorf("digit reported on packet %d, want the first (duration 0)", i)
					}
					got = append(got, d.Key)
				}
			}
			stream = append(stream, pkts)
			if string(got) != string(c.key) {
				t.Fatalf("digits %q, want %q", string(got), string(c.key))
			}
			// Without its start packet, the digit still arrives once.
			r = NewEventReceiver(101)
			got = got[:0]
			for _, p := range pkts[1:] {
				if d, ok, _ := r.Push(p); ok {
					got = append(got, d.Key)
				}
			}
			if string(got) != string(c.key) {
				t.Fatalf("without start: digits %q, want %q", string(got), string(c.key))
			}
		})
	}
	if t.Failed() {
		return
	}
	// The captures share an SSRC, so back to back they are one caller typing
	// the keypad; ordered by timestamp (1 was captured before 0) every key
	// counts once, and in file order '1' arrives with an older timestamp than
	// '0' and is, correctly, a straggler.
	fileOrder := append([][]*prtp.Packet(nil), stream...)
	sort.Slice(stream, func(i, j int) bool { return stream[i][0].Timestamp < stream[j][0].Timestamp })
	for _, tc := range []struct {
		name   string
		stream [][]*prtp.Packet
		want   string
	}{
		{"by timestamp", stream, "1023456789*#"},
		{"in file order", fileOrder, "023456789*#"},
	} {
		r := NewEventReceiver(101)
		var got []rune
		for _, pkts := range tc.stream {
			for _, p := range pkts {
				if d, ok, _ := r.Push(p); ok {
					got = append(got, d.Key)
				}
			}
		}
		if string(got) != tc.want {
			t.Fatalf("all captures in one stream %s: %q, want %q", tc.name, string(got), tc.want)
		}
	}
}
