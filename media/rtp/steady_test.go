package rtp

import (
	"bytes"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
)

// Ticks from a shared clock land in the middle of the pacer's slots: each
// tick late or early by up to just under half a frame against the first
// still sends the next slot, with no skip and no marker past the first.
func TestPacerTickToleratesHalfAFrame(t *testing.T) {
	rec := &recorder{}
	p, err := NewPacer(PacerConfig{PayloadType: 0}, rec.write)
	if err != nil {
		t.Fatal(err)
	}
	p.SetSource(&frames{})
	t0 := time.Unix(2000, 0)
	offsets := []time.Duration{0, 9, -9, 9, 0, -9, 5, -5, 9} // ms against the grid
	for i, off := range offsets {
		p.Tick(t0.Add(time.Duration(i)*20*time.Millisecond + off*time.Millisecond))
	}
	if len(rec.pkts) != len(offsets) {
		t.Fatalf("%d packets, want %d", len(rec.pkts), len(offsets))
	}
	for i, pk := range rec.pkts {
		if d := pk.Timestamp - rec.pkts[0].Timestamp; d != uint32(i)*160 {
			t.Errorf("packet %d at +%d samples, want +%d", i, d, i*160)
		}
		if pk.Marker != (i == 0) {
			t.Errorf("packet %d marker %v", i, pk.Marker)
		}
	}
	if st := p.Stats(); st.Skipped != 0 {
		t.Errorf("skipped %d slots", st.Skipped)
	}
	// A stall of two frames is still seen as one: the slot it missed is
	// skipped and the stream restarts with the marker bit.
	p.Tick(t0.Add(time.Duration(len(offsets)+2) * 20 * time.Millisecond))
	last := rec.pkts[len(rec.pkts)-1]
	if st := p.Stats(); st.Skipped != 2 || !last.Marker {
		t.Errorf("after a stall: skipped %d, marker %v; want 2, true", st.Skipped, last.Marker)
	}
}

// The jitter buffer copies what it is given: the caller may reuse its
// packet and buffer at once.
func TestJitterBufferCopiesPayload(t *testing.T) {
	jb, err := NewJitterBuffer(JitterConfig{Depth: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	buf := []byte{1, 2, 3}
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SequenceNumber: 7, Timestamp: 160, SSRC: 9}, Payload: buf}
	if !jb.Push(&pkt) {
		t.Fatal("packet refused")
	}
	copy(buf, []byte{9, 9, 9})
	pkt.SequenceNumber = 99
	f := jb.Pop()
	if f.Kind != FramePlayed || f.SequenceNumber != 7 || !bytes.Equal(f.Payload, []byte{1, 2, 3}) {
		t.Errorf("popped %+v, want seq 7 payload [1 2 3]", f)
	}
	if r := jb.Pop(); r.Kind != FrameRepeated || !bytes.Equal(r.Payload, []byte{1, 2, 3}) {
		t.Errorf("concealment %+v, want a repeat of [1 2 3]", r)
	}
}

// After a burst the buffer keeps only a few spare entries for the call,
// not one per packet of the burst.
func TestJitterBufferSparesAfterBurst(t *testing.T) {
	jb, err := NewJitterBuffer(JitterConfig{})
	if err != nil {
		t.Fatal(err)
	}
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	for i := range 40 {
		pkt.SequenceNumber, pkt.Timestamp = uint16(i), uint32(i*160)
		jb.Push(&pkt)
	}
	for range 45 {
		jb.Pop()
	}
	if n := len(jb.free); n > jb.depth+2 {
		t.Errorf("%d spare entries after a burst of 40, want at most %d", n, jb.depth+2)
	}
}

// steadyPacer is a pacer sending G.711 frames to a writer that drops
// them, as a call does in the middle of a prompt.
func steadyPacer(tb testing.TB) *Pacer {
	p, err := NewPacer(PacerConfig{PayloadType: 0, WritePacket: func(*prtp.Packet) error { return nil }}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	frame := make([]byte, pcmFrameSamples)
	p.SetSource(FrameSourceFunc(func() ([]byte, bool) { return frame, true }))
	return p
}

// BenchmarkPacerTick is the send side of one packet: a tick of a pacer in
// the middle of a prompt.
func BenchmarkPacerTick(b *testing.B) {
	p := steadyPacer(b)
	now := time.Unix(3000, 0)
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(20 * time.Millisecond)
		p.Tick(now)
	}
}

// BenchmarkJitterPushPop is the receive side of one packet in the jitter
// buffer: a packet in, a frame out.
func BenchmarkJitterPushPop(b *testing.B) {
	jb, err := NewJitterBuffer(JitterConfig{})
	if err != nil {
		b.Fatal(err)
	}
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SSRC: 1}, Payload: make([]byte, 160)}
	b.ReportAllocs()
	for b.Loop() {
		pkt.SequenceNumber++
		pkt.Timestamp += 160
		jb.Push(&pkt)
		jb.Pop()
	}
}

// A source that ends silence starts at once, in the slot the moment falls
// in (or the next one when this one was sent: a cut prompt), instead of at
// the next tick; the tick of a slot sent ahead then sends nothing, so the
// grid neither moves nor repeats a timestamp.
func TestPacerStartsNewSourceAtOnce(t *testing.T) {
	rec := &recorder{}
	p, err := NewPacer(PacerConfig{PayloadType: 0}, rec.write)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(3000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	p.tick(ms(0)) // slot 0, silent
	p.setSourceAt(&frames{}, ms(7))
	if len(rec.pkts) != 1 || !rec.pkts[0].Marker {
		t.Fatalf("after the source started: %d packets, want 1 with the marker", len(rec.pkts))
	}
	p.tick(ms(20)) // slot 1
	p.setSourceAt(nil, ms(25))
	p.setSourceAt(&frames{}, ms(26)) // slot 1 already sent: slot 2 goes now
	if len(rec.pkts) != 3 {
		t.Fatalf("%d packets, want 3: slot 2 sent ahead", len(rec.pkts))
	}
	p.tick(ms(40)) // slot 2's tick: already sent
	p.setSourceAt(nil, ms(45))
	p.tick(ms(60))                   // slot 3, silent
	p.setSourceAt(&frames{}, ms(85)) // slot 4, ahead of its tick
	p.tick(ms(90))                   // slot 4's tick: already sent
	p.tick(ms(100))                  // slot 5
	want := []struct {
		slot   uint32
		marker bool
	}{{0, true}, {1, false}, {2, false}, {4, true}, {5, false}}
	if len(rec.pkts) != len(want) {
		t.Fatalf("%d packets, want %d", len(rec.pkts), len(want))
	}
	base := rec.pkts[0].Timestamp
	for i, w := range want {
		if got := rec.pkts[i]; got.Timestamp-base != w.slot*160 || got.Marker != w.marker {
			t.Errorf("packet %d: ts +%d marker %v; want +%d marker %v", i, got.Timestamp-base, got.Marker, w.slot*160, w.marker)
		}
	}
	if st := p.Stats(); st.Skipped != 0 {
		t.Errorf("skipped %d slots", st.Skipped)
	}
}
