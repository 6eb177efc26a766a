package rtp

import (
	"net/netip"
	"testing"
)

func TestSourceFilter(t *testing.T) {
	sdp := netip.MustParseAddrPort("192.168.1.10:40000")
	nat := netip.MustParseAddrPort("203.0.113.7:61000")
	evil := netip.MustParseAddrPort("198.51.100.66:40000")
	type step struct {
		src  netip.AddrPort
		want bool
	}
	tests := []struct {
		name       string
		latch      bool
		steps      []step
		wantRemote netip.AddrPort
		dropped    uint64
	}{
		{"strict: only the SDP address", false, []step{{sdp, true}, {evil, false}, {nat, false}, {sdp, true}}, sdp, 2},
		{"strict: same IP, other port rejected", false, []step{{netip.MustParseAddrPort("192.168.1.10:40002"), false}}, sdp, 1},
		{"strict: IPv4-mapped IPv6 source matches", false, []step{{netip.MustParseAddrPort("[::ffff:192.168.1.10]:40000"), true}}, sdp, 0},
		{"latch: first source behind NAT wins, others rejected", true, []step{{nat, true}, {evil, false}, {sdp, false}, {nat, true}}, nat, 2},
		{"latch: a packet from the SDP address closes the window", true, []step{{sdp, true}, {nat, false}}, sdp, 1},
		{"invalid source never accepted", true, []step{{netip.AddrPort{}, false}, {nat, true}}, nat, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewSourceFilter(sdp, tt.latch)
			for i, s := range tt.steps {
				if got := f.Allow(s.src); got != s.want {
					t.Fatalf("step %d: Allow(%v) = %v, want %v", i, s.src, got, s.want)
				}
			}
			if f.Remote() != tt.wantRemote || f.Dropped() != tt.dropped {
				t.Fatalf("remote %v dropped %d; want %v %d", f.Remote(), f.Dropped(), tt.wantRemote, tt.dropped)
			}
		})
	}
}

func TestSourceFilterSetRemote(t *testing.T) {
	a := netip.MustParseAddrPort("10.0.0.1:5000")
	b := netip.MustParseAddrPort("10.0.0.2:6000")
	nat := netip.MustParseAddrPort("203.0.113.9:7000")
	f := NewSourceFilter(a, false)
	f.SetRemote(b) // re-INVITE moved the media
	if f.Allow(a) || !f.Allow(b) {
		t.Fatal("old address still accepted or new one refused after SetRemote")
	}
	l := NewSourceFilter(a, true)
	l.Allow(nat)
	l.SetRemote(b) // a new offer re-opens latching once
	if !l.Allow(netip.MustParseAddrPort("203.0.113.9:7002")) || l.Allow(nat) {
		t.Fatal("latching after SetRemote did not take exactly one new source")
	}
	// Unspecified SDP address (c=0.0.0.0 hold) without latching: nothing.
	h := NewSourceFilter(netip.AddrPortFrom(netip.IPv4Unspecified(), 0), false)
	if h.Allow(a) {
		t.Fatal("hold address accepted a packet")
	}
}
