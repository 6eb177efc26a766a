package rtp

import (
	"net/netip"
	"sync"
)

// SourceFilter decides which source addresses a media socket accepts.
//
// diago accepts RTP from any source; we do not: anyone who can reach the
// port could inject audio or DTMF into a call (RTP injection / "RTP bleed").
// By default only the address and port from the remote SDP (c= and m= lines)
// are accepted.
//
// With latching (symmetric RTP, for callers behind NAT whose SDP carries a
// private address the packets never come from), the first packet received
// after NewSourceFilter or SetRemote fixes the accepted source, whatever it
// is, and Remote then returns it so replies go back through the NAT binding.
// After that, only that source is accepted. The trade-off: whoever sends the
// first packet owns the stream, so enable latching only where a NAT is
// expected (for example when the SDP address is private and the SIP request
// came from a public one) and open the socket just before the answer goes out
// to keep the window short. A packet from the SDP address itself also latches,
// so a well-behaved peer closes the window with its first packet.
//
// Use one filter for RTP and another for RTCP (the RTCP port is usually RTP+1).
// Safe for concurrent use.
type SourceFilter struct {
	mu      sync.Mutex
	remote  netip.AddrPort
	latch   bool
	latched bool
	dropped uint64
}

// NewSourceFilter accepts packets from remote, the address in the remote
// SDP; with latch, from the first source seen instead (see SourceFilter).
func NewSourceFilter(remote netip.AddrPort, latch bool) *SourceFilter {
	return &SourceFilter{remote: unmap(remote), latch: latch}
}

// Allow reports whether a packet from src is accepted; rejected packets are
// counted.
func (f *SourceFilter) Allow(src netip.AddrPort) bool {
	src = unmap(src)
	f.mu.Lock()
	defer f.mu.Unlock()
	if src.IsValid() && src == f.remote {
		f.latched = true
		return true
	}
	if f.latch && !f.latched && src.IsValid() {
		f.remote, f.latched = src, true
		return true
	}
	f.dropped++
	return false
}

// Remote is where media for this peer should be sent: the SDP address, or
// the latched source.
func (f *SourceFilter) Remote() netip.AddrPort {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.remote
}

// SetRemote takes the address from a new SDP (re-INVITE, transfer) and, if
// latching, allows one new latch.
func (f *SourceFilter) SetRemote(remote netip.AddrPort) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.remote, f.latched = unmap(remote), false
}

// Dropped counts packets rejected so far.
func (f *SourceFilter) Dropped() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropped
}

// unmap compares ::ffff:a.b.c.d (what a dual-stack socket reports) equal to
// a.b.c.d (what the SDP says).
func unmap(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
