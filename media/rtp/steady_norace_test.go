//go:build !race

package rtp

import (
	"testing"
	"time"

	prtp "github.com/pion/rtp"
)

// A steady stream allocates nothing per packet, sending or receiving (the
// race detector's instrumentation allocates, hence the build tag).
func TestSteadyStreamAllocatesNothing(t *testing.T) {
	p := steadyPacer(t)
	now := time.Unix(3000, 0)
	p.Tick(now)
	if n := testing.AllocsPerRun(200, func() {
		now = now.Add(20 * time.Millisecond)
		p.Tick(now)
	}); n != 0 {
		t.Errorf("pacer tick: %v allocations, want 0", n)
	}
	jb, err := NewJitterBuffer(JitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	push := func() {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		jb.Push(&pkt)
		jb.Pop()
	}
	for range 10 { // prefill, and the free list's first entries
		push()
	}
	if n := testing.AllocsPerRun(200, push); n != 0 {
		t.Errorf("jitter buffer push and pop: %v allocations, want 0", n)
	}
}
