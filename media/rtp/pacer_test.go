package rtp

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
)

// recorder collects what a pacer writes.
type recorder struct {
	mu   sync.Mutex
	pkts []*prtp.Packet
	at   []time.Time
	err  error
}

func (r *recorder) write(b []byte) error {
	p := new(prtp.Packet)
	if err := p.Unmarshal(b); err != nil {
		return err
	}
	p.Payload = slices.Clone(p.Payload) // b is reused by the pacer
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pkts = append(r.pkts, p)
	r.at = append(r.at, time.Now())
	return r.err
}

// frames is a source of numbered frames with silence at the given indices.
type frames struct {
	n       int
	silence map[int]bool
}

func (f *frames) NextFrame() ([]byte, bool) {
	i := f.n
	f.n++
	if f.silence[i] {
		return nil, false
	}
	return []byte{byte(i), 0xff, 0xff}, true
}

// WritePacket gets the same packets as the marshalled path, unparsed.
func TestPacerWritePacket(t *testing.T) {
	marshalled, direct := &recorder{}, &recorder{}
	a, err := NewPacer(PacerConfig{PayloadType: 8}, marshalled.write)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewPacer(PacerConfig{PayloadType: 8, WritePacket: func(p *prtp.Packet) error {
		c := *p
		c.Payload = slices.Clone(p.Payload) // the source reuses its buffer
		direct.mu.Lock()
		defer direct.mu.Unlock()
		direct.pkts = append(direct.pkts, &c)
		return nil
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.SetSource(&frames{silence: map[int]bool{1: true}})
	b.SetSource(&frames{silence: map[int]bool{1: true}})
	t0 := time.Unix(1000, 0)
	for i := range 4 {
		a.tick(t0.Add(time.Duration(i) * 20 * time.Millisecond))
		b.tick(t0.Add(time.Duration(i) * 20 * time.Millisecond))
	}
	if len(direct.pkts) != 3 || len(marshalled.pkts) != 3 {
		t.Fatalf("%d direct, %d marshalled packets; want 3 each", len(direct.pkts), len(marshalled.pkts))
	}
	for i := range direct.pkts {
		d, m := direct.pkts[i], marshalled.pkts[i]
		if d.Timestamp-direct.pkts[0].Timestamp != m.Timestamp-marshalled.pkts[0].Timestamp ||
			d.SequenceNumber-direct.pkts[0].SequenceNumber != uint16(i) || d.Marker != m.Marker ||
			d.PayloadType != 8 || d.Version != 2 || !slices.Equal(d.Payload, m.Payload) {
			t.Errorf("packet %d: direct %+v, marshalled %+v", i, d, m)
		}
	}
	if st := b.Stats(); st.Packets != 3 || st.Octets != 9 {
		t.Errorf("stats %+v", st)
	}
}

func TestPacerTimestampsMarkersAndStalls(t *testing.T) {
	rec := &recorder{}
	p, err := NewPacer(PacerConfig{PayloadType: 0}, rec.write)
	if err != nil {
		t.Fatal(err)
	}
	p.SetSource(&frames{silence: map[int]bool{2: true, 3: true}})
	t0 := time.Unix(1000, 0)
	at := func(frame float64) time.Time { return t0.Add(time.Duration(frame * float64(20*time.Millisecond))) }
	// Slots 0-5 on time (source silent in 2-3), a stall from 5 to 9.5 (slots
	// 6-8 skipped), then two ticks arriving together (the late one and the
	// next: never the same timestamp twice), then on time again.
	for _, f := range []float64{0, 1.01, 2.02, 3, 4, 5, 9.5, 9.5, 11.01} {
		p.tick(at(f))
	}
	// Slot per packet and whether it carries the marker.
	want := []struct {
		slot   uint32
		marker bool
	}{{0, true}, {1, false}, {4, true}, {5, false}, {9, true}, {10, false}, {11, false}}
	if len(rec.pkts) != len(want) {
		t.Fatalf("%d packets, want %d", len(rec.pkts), len(want))
	}
	base := rec.pkts[0]
	for i, w := range want {
		got := rec.pkts[i]
		if got.Timestamp-base.Timestamp != w.slot*160 || got.Marker != w.marker {
			t.Errorf("packet %d: ts +%d marker %v; want +%d marker %v", i, got.Timestamp-base.Timestamp, got.Marker, w.slot*160, w.marker)
		}
		if got.SequenceNumber != base.SequenceNumber+uint16(i) || got.SSRC != p.SSRC() || got.PayloadType != 0 {
			t.Errorf("packet %d header %+v", i, got.Header)
		}
	}
	st := p.Stats()
	if st.Skipped != 3 || st.Packets != 7 || st.Octets != 21 {
		t.Errorf("stats %+v, want 3 skipped, 7 packets, 21 octets", st)
	}
	// The source is pulled once per sent or silent slot, never for skipped ones.
	if got := rec.pkts[4].Payload[0]; got != 6 {
		t.Errorf("frame after stall is source frame %d, want 6 (delayed, not cut)", got)
	}
	if rt := p.RTPTimeAt(at(11)); rt != base.Timestamp+11*160 {
		t.Errorf("RTPTimeAt = %d, want %d", rt, base.Timestamp+11*160)
	}
}

func TestPacerDigit(t *testing.T) {
	rec := &recorder{}
	p, err := NewPacer(PacerConfig{PayloadType: 8, EventPayloadType: 101}, rec.write)
	if err != nil {
		t.Fatal(err)
	}
	p.SetSource(&frames{})
	t0 := time.Unix(0, 0)
	p.tick(t0)
	if err := p.SendDigit('5', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 9; i++ {
		p.tick(t0.Add(time.Duration(i) * 20 * time.Millisecond))
	}
	// audio, 4 updates + 3 ends at one timestamp, audio with marker, audio.
	if len(rec.pkts) != 10 {
		t.Fatalf("%d packets, want 10", len(rec.pkts))
	}
	r := NewEventReceiver(101)
	var digits []rune
	for i, pk := range rec.pkts {
		if pk.SequenceNumber != rec.pkts[0].SequenceNumber+uint16(i) {
			t.Errorf("packet %d seq not contiguous", i)
		}
		d, ok, err := r.Push(pk)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			digits = append(digits, d.Key)
		}
	}
	if string(digits) != "5" {
		t.Fatalf("digits %q", string(digits))
	}
	ev := rec.pkts[1:8]
	for _, pk := range ev {
		if pk.PayloadType != 101 || pk.Timestamp != rec.pkts[0].Timestamp+160 {
			t.Errorf("event packet %+v", pk.Header)
		}
	}
	if !ev[0].Marker || ev[1].Marker {
		t.Error("marker must be on the first event packet only")
	}
	if after := rec.pkts[8]; after.PayloadType != 8 || !after.Marker || after.Timestamp != rec.pkts[0].Timestamp+8*160 {
		t.Errorf("audio after digit: %+v", after.Header)
	}
	if rec.pkts[9].Marker {
		t.Error("marker on the second audio packet after the digit")
	}
	if err := p.SendDigit('x', time.Second/10); err == nil {
		t.Error("SendDigit('x') succeeded")
	}
	noEv, _ := NewPacer(PacerConfig{}, rec.write)
	if err := noEv.SendDigit('1', time.Second/10); err == nil {
		t.Error("SendDigit without telephone-event payload type succeeded")
	}
}

func TestPacerRandomStartAndWriteErrors(t *testing.T) {
	rec := &recorder{err: errors.New("connection refused")}
	a, _ := NewPacer(PacerConfig{}, rec.write)
	b, _ := NewPacer(PacerConfig{}, rec.write)
	if a.SSRC() == b.SSRC() && a.seq == b.seq && a.ts0 == b.ts0 {
		t.Fatal("two pacers started with the same SSRC, sequence and timestamp")
	}
	a.SetSource(&frames{})
	a.tick(time.Unix(0, 0))
	a.tick(time.Unix(0, int64(20*time.Millisecond)))
	st := a.Stats()
	if st.WriteErrors != 2 || st.Packets != 0 || st.LastError == nil {
		t.Fatalf("stats %+v", st)
	}
	if _, err := NewPacer(PacerConfig{FrameDuration: time.Microsecond}, rec.write); err == nil {
		t.Error("1 µs frames accepted")
	}
	if _, err := NewPacer(PacerConfig{}, nil); err == nil {
		t.Error("nil write accepted")
	}
}

// TestPacerOverUDP runs the real ticker over a loopback UDP socket, logs the
// send and arrival interval jitter, and checks no goroutine outlives Run.
func TestPacerOverUDP(t *testing.T) {
	before := runtime.NumGoroutine()

	ln, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp4", nil, ln.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	var sendAt []time.Time
	p, err := NewPacer(PacerConfig{}, func(b []byte) error {
		sendAt = append(sendAt, time.Now()) // called from Run's goroutine only
		_, err := conn.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p.SetSource(FrameSourceFunc(func() ([]byte, bool) { return make([]byte, 160), true }))

	frames := 100 // 2 s
	if testing.Short() {
		frames = 25
	}
	var arrive []time.Time
	var seqs []uint16
	var nArrived atomic.Int64
	recvDone := make(chan struct{})
	go func() {
		defer close(recvDone)
		buf := make([]byte, 1500)
		for {
			n, err := ln.Read(buf)
			if err != nil {
				return
			}
			var pk prtp.Packet
			if pk.Unmarshal(buf[:n]) == nil {
				arrive = append(arrive, time.Now())
				seqs = append(seqs, pk.SequenceNumber)
				nArrived.Add(1)
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(frames)*20*time.Millisecond+5*time.Millisecond)
	runErr := make(chan error, 1)
	go func() { runErr <- p.Run(ctx) }()
	if err := <-runErr; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run = %v", err)
	}
	cancel()
	// Let the last datagrams land before closing (bounded: loopback UDP
	// could in theory drop, and the check below reports it).
	for wait := time.Now().Add(2 * time.Second); nArrived.Load() < int64(p.Stats().Packets) && time.Now().Before(wait); {
		time.Sleep(5 * time.Millisecond)
	}
	conn.Close()
	ln.Close()
	<-recvDone

	if err := p.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
	st := p.Stats()
	// No timing assertions (the CPUs are shared): every slot is either sent
	// or counted as skipped, and loopback delivers what was sent.
	slots := int(st.Packets) + int(st.Skipped)
	if st.WriteErrors != 0 || len(arrive) != int(st.Packets) || slots > frames+1 || slots < frames/2 {
		t.Fatalf("sent %d + skipped %d (%d errors), received %d, over %d slots", st.Packets, st.Skipped, st.WriteErrors, len(arrive), frames+1)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Errorf("sequence gap at %d: %d -> %d", i, seqs[i-1], seqs[i])
		}
	}
	t.Logf("send   intervals over %d packets: %s", len(sendAt), intervalStats(sendAt, 20*time.Millisecond))
	t.Logf("arrive intervals over %d packets: %s", len(arrive), intervalStats(arrive, 20*time.Millisecond))
	t.Logf("skipped slots: %d", st.Skipped)

	// Goroutine leak check (goleak is in go.sum but not required by go.mod,
	// and go.mod is not ours to change): settle, then compare.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines %d after Run returned, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// intervalStats summarises deviations of successive intervals from nominal.
func intervalStats(at []time.Time, nominal time.Duration) string {
	if len(at) < 3 {
		return "too few samples"
	}
	dev := make([]float64, 0, len(at)-1)
	for i := 1; i < len(at); i++ {
		dev = append(dev, math.Abs(float64(at[i].Sub(at[i-1])-nominal))/float64(time.Millisecond))
	}
	slices.Sort(dev)
	mean := 0.0
	for _, d := range dev {
		mean += d
	}
	mean /= float64(len(dev))
	q := func(p float64) float64 { return dev[min(len(dev)-1, int(p*float64(len(dev))))] }
	return fmt.Sprintf("|interval-20ms| mean %.3f ms, p50 %.3f ms, p99 %.3f ms, max %.3f ms", mean, q(0.5), q(0.99), dev[len(dev)-1])
}

// An Opus stream (RFC 7587: 48 kHz RTP clock) with telephone-event/8000:
// audio timestamps step 960 per 20 ms frame, events are stamped on the
// stream's clock and their durations counted at 8 kHz.
func TestPacerClockRateAndEventClock(t *testing.T) {
	rec := &recorder{}
	p, err := NewPacer(PacerConfig{PayloadType: 96, ClockRate: 48000, EventPayloadType: 101, EventClockRate: 8000}, rec.write)
	if err != nil {
		t.Fatal(err)
	}
	p.SetSource(&frames{})
	t0 := time.Unix(0, 0)
	p.tick(t0)
	p.tick(t0.Add(20 * time.Millisecond))
	if err := p.SendDigit('7', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 10; i++ {
		p.tick(t0.Add(time.Duration(i) * 20 * time.Millisecond))
	}
	pk := rec.pkts
	if len(pk) != 11 {
		t.Fatalf("%d packets, want 11", len(pk))
	}
	if d := pk[1].Timestamp - pk[0].Timestamp; d != 960 {
		t.Errorf("audio timestamp step %d, want 960", d)
	}
	var last Event
	for _, e := range pk[2:9] {
		if e.PayloadType != 101 || e.Timestamp != pk[0].Timestamp+2*960 {
			t.Errorf("event packet %+v, want pt 101 at +1920", e.Header)
		}
		ev, err := ParseEvent(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		last = ev
	}
	if !last.End || last.Duration != 800 {
		t.Errorf("final event %+v, want end with duration 800 (100 ms at 8 kHz)", last)
	}
	if after := pk[9]; after.PayloadType != 96 || after.Timestamp != pk[0].Timestamp+9*960 {
		t.Errorf("audio after digit: %+v", after.Header)
	}
	if rt := p.RTPTimeAt(t0.Add(time.Second)); rt != pk[0].Timestamp+48000 {
		t.Errorf("RTPTimeAt one second = +%d, want +48000", rt-pk[0].Timestamp)
	}
}
