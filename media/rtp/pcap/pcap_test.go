package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"testing"
	"time"
)

// capture builds a pcap file in memory.
func capture(order binary.ByteOrder, nano bool, linkType uint32, frames ...[]byte) []byte {
	var b bytes.Buffer
	magic := uint32(0xa1b2c3d4)
	if nano {
		magic = 0xa1b23c4d
	}
	h := make([]byte, 24)
	order.PutUint32(h[0:], magic)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], 65535)
	order.PutUint32(h[20:], linkType)
	b.Write(h)
	for i, f := range frames {
		r := make([]byte, 16)
		order.PutUint32(r[0:], 1700000000+uint32(i))
		order.PutUint32(r[4:], 500)
		order.PutUint32(r[8:], uint32(len(f)))
		order.PutUint32(r[12:], uint32(len(f)))
		b.Write(r)
		b.Write(f)
	}
	return b.Bytes()
}

func udpBytes(sport, dport uint16, payload []byte) []byte {
	u := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	return append(u, payload...)
}

func ipv4(proto byte, src, dst [4]byte, body []byte) []byte {
	ip := make([]byte, 20, 20+len(body))
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(body)))
	ip[8] = 64
	ip[9] = proto
	copy(ip[12:], src[:])
	copy(ip[16:], dst[:])
	return append(ip, body...)
}

func ipv6(next byte, body []byte) []byte {
	ip := make([]byte, 40, 40+len(body))
	ip[0] = 0x60
	binary.BigEndian.PutUint16(ip[4:], uint16(len(body)))
	ip[6] = next
	ip[23] = 1 // ::1
	ip[39] = 1
	return append(ip, body...)
}

func ether(etherType uint16, body []byte) []byte {
	e := make([]byte, 14, 14+len(body))
	binary.BigEndian.PutUint16(e[12:], etherType)
	return append(e, body...)
}

func TestDecodeUDPLinkTypes(t *testing.T) {
	payload := []byte("rtp!")
	v4 := ipv4(17, [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}, udpBytes(4000, 5000, payload))
	v6 := ipv6(17, udpBytes(4000, 5000, payload))
	sll := append(make([]byte, 14), 0x08, 0x00)
	sll2 := append([]byte{0x08, 0x00}, make([]byte, 18)...)
	vlan := append([]byte{0x81, 0x00, 0x00, 0x05, 0x08, 0x00}, v4...)
	tests := []struct {
		name     string
		linkType uint32
		frame    []byte
		src      string
	}{
		{"ethernet ipv4", LinkTypeEthernet, ether(0x0800, v4), "10.0.0.1:4000"},
		{"ethernet ipv4 with padding", LinkTypeEthernet, ether(0x0800, append(bytes.Clone(v4), 0, 0, 0, 0)), "10.0.0.1:4000"},
		{"ethernet vlan", LinkTypeEthernet, append(make([]byte, 12), vlan...), "10.0.0.1:4000"},
		{"ethernet ipv6", LinkTypeEthernet, ether(0x86dd, v6), "[::1]:4000"},
		{"linux cooked", LinkTypeLinuxSLL, append(sll, v4...), "10.0.0.1:4000"},
		{"linux cooked v2", LinkTypeLinuxSLL2, append(sll2, v4...), "10.0.0.1:4000"},
		{"raw ip", LinkTypeRaw, v4, "10.0.0.1:4000"},
		{"bsd loopback", LinkTypeNull, append([]byte{2, 0, 0, 0}, v4...), "10.0.0.1:4000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := DecodeUDP(tt.linkType, tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if u.Src.String() != tt.src || u.Dst.Port() != 5000 || !bytes.Equal(u.Payload, payload) {
				t.Fatalf("got %v -> %v %q", u.Src, u.Dst, u.Payload)
			}
		})
	}
}

func TestDecodeUDPRejects(t *testing.T) {
	v4 := ipv4(17, [4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, udpBytes(1, 2, []byte("x")))
	frag := bytes.Clone(v4)
	frag[6] = 0x20 // more fragments
	longUDP := bytes.Clone(v4)
	binary.BigEndian.PutUint16(longUDP[24:], 200)
	tests := []struct {
		name     string
		linkType uint32
		frame    []byte
		notUDP   bool
	}{
		{"tcp", LinkTypeEthernet, ether(0x0800, ipv4(6, [4]byte{}, [4]byte{}, make([]byte, 20))), true},
		{"arp", LinkTypeEthernet, ether(0x0806, make([]byte, 28)), true},
		{"icmpv6", LinkTypeRaw, ipv6(58, make([]byte, 8)), true},
		{"short ethernet", LinkTypeEthernet, make([]byte, 10), false},
		{"short ipv4", LinkTypeRaw, v4[:12], false},
		{"fragment", LinkTypeRaw, frag, false},
		{"udp length past capture (snaplen)", LinkTypeRaw, longUDP, false},
		{"unknown link type", 147, v4, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeUDP(tt.linkType, tt.frame)
			if err == nil {
				t.Fatal("no error")
			}
			if errors.Is(err, ErrNotUDP) != tt.notUDP {
				t.Fatalf("err = %v; ErrNotUDP want %v", err, tt.notUDP)
			}
		})
	}
}

func TestReaderFormats(t *testing.T) {
	udp := ether(0x0800, ipv4(17, [4]byte{192, 168, 0, 3}, [4]byte{192, 168, 0, 1}, udpBytes(49176, 10000, []byte{0x80, 0xe5})))
	arp := ether(0x0806, make([]byte, 28))
	for _, tc := range []struct {
		name  string
		order binary.ByteOrder
		nano  bool
		frac  time.Duration
	}{
		{"little endian usec", binary.LittleEndian, false, 500 * time.Microsecond},
		{"big endian usec", binary.BigEndian, false, 500 * time.Microsecond},
		{"little endian nsec", binary.LittleEndian, true, 500},
		{"big endian nsec", binary.BigEndian, true, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(capture(tc.order, tc.nano, LinkTypeEthernet, arp, udp, udp)))
			if err != nil {
				t.Fatal(err)
			}
			if r.LinkType() != LinkTypeEthernet {
				t.Fatalf("link type %d", r.LinkType())
			}
			var got []UDP
			for {
				u, err := r.NextUDP()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, u)
			}
			if len(got) != 2 {
				t.Fatalf("%d datagrams, want 2 (ARP skipped)", len(got))
			}
			want := time.Unix(1700000001, int64(tc.frac)).UTC()
			if !got[0].Time.Equal(want) || got[0].Src != netip.MustParseAddrPort("192.168.0.3:49176") {
				t.Fatalf("first datagram %v from %v, want %v", got[0].Time, got[0].Src, want)
			}
		})
	}
}

func TestReaderErrors(t *testing.T) {
	good := capture(binary.LittleEndian, false, LinkTypeEthernet, make([]byte, 60))
	huge := bytes.Clone(good)
	binary.LittleEndian.PutUint32(huge[24+8:], 1<<30)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte{1, 2, 3, 4}, good[4:]...)},
		{"pcapng", append([]byte{0x0a, 0x0d, 0x0d, 0x0a}, good[4:]...)},
		{"truncated record", good[:len(good)-5]},
		{"huge record length", huge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(bytes.NewReader(tc.in))
			if err == nil {
				_, err = r.Next()
			}
			if err == nil || err == io.EOF {
				t.Fatalf("err = %v, want a decode error", err)
			}
		})
	}
}

// TestReadSIPpG711 reads SIPp's stock G.711 capture, a different capture
// than the DTMF ones the rtp package tests use: 236 RTP packets.
func TestReadSIPpG711(t *testing.T) {
	const path = "/usr/share/sip-tester/g711a.pcap"
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("SIPp capture missing (%v): run scripts/test, which installs the sip-tester package", err)
	}
	udp, err := ReadUDPFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(udp) != 236 {
		t.Fatalf("%d datagrams, want 236", len(udp))
	}
	for i, u := range udp {
		// RTP version 2, payload type 8 (PCMA), 30 ms (240-byte) frames + 12-byte header.
		if len(u.Payload) != 252 || u.Payload[0]>>6 != 2 || u.Payload[1]&0x7f != 8 {
			t.Fatalf("datagram %d: %d bytes, header %x", i, len(u.Payload), u.Payload[:2])
		}
	}
}

func FuzzReader(f *testing.F) {
	v4 := ipv4(17, [4]byte{1, 2, 3, 4}, [4]byte{5, 6, 7, 8}, udpBytes(1, 2, []byte("abc")))
	f.Add(capture(binary.LittleEndian, false, LinkTypeEthernet, ether(0x0800, v4)))
	f.Add(capture(binary.BigEndian, true, LinkTypeLinuxSLL, append(append(make([]byte, 14), 8, 0), v4...)))
	f.Add(capture(binary.LittleEndian, false, LinkTypeRaw, ipv6(17, udpBytes(1, 2, nil))))
	f.Add(capture(binary.LittleEndian, false, LinkTypeLinuxSLL2, append([]byte{0x86, 0xdd}, make([]byte, 18)...)))
	if b, err := os.ReadFile("/usr/share/sip-tester/dtmf_2833_1.pcap"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := NewReader(bytes.NewReader(b))
		if err != nil {
			return
		}
		for range 1000 {
			u, err := r.NextUDP()
			if err != nil {
				return
			}
			if !u.Src.IsValid() || !u.Dst.IsValid() {
				t.Fatalf("decoded datagram with invalid address: %+v", u)
			}
		}
	})
}

func FuzzDecodeUDP(f *testing.F) {
	f.Add(LinkTypeEthernet, ether(0x0800, ipv4(17, [4]byte{}, [4]byte{}, udpBytes(1, 2, []byte("x")))))
	f.Add(LinkTypeRaw, ipv6(17, udpBytes(1, 2, nil)))
	f.Add(LinkTypeNull, []byte{2, 0, 0, 0, 0x45})
	f.Fuzz(func(t *testing.T, lt uint32, frame []byte) {
		u, err := DecodeUDP(lt, frame)
		if err == nil && len(u.Payload) > len(frame) {
			t.Fatalf("payload longer than frame")
		}
	})
}
