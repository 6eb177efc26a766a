package sipworker

import (
	"log/slog"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// mediaSession is a session with the media state of an answered PCMU
// call (telephone-event 101) but no SIP or sockets: the pacer's packets are
// dropped. For driving receive, the pacer and playoutTick by hand.
func mediaSession(tb testing.TB) *session {
	s := &session{
		codec: codecPCMU, audioPT: 0, dtmfPT: 101, dtmfSendPT: 101,
		log: slog.New(slog.DiscardHandler), taps: map[int]func([]int16){}, digitSig: make(chan struct{}, 1),
	}
	var err error
	if s.jb, err = vrtp.NewJitterBuffer(vrtp.JitterConfig{FrameDuration: frameDur, Depth: jitterDepth}); err != nil {
		tb.Fatal(err)
	}
	if s.enc, err = s.codec.newEncoder(); err != nil {
		tb.Fatal(err)
	}
	if s.dec, err = s.codec.newDecoder(); err != nil {
		tb.Fatal(err)
	}
	s.pacer, err = vrtp.NewPacer(vrtp.PacerConfig{PayloadType: 0, FrameDuration: frameDur, EventPayloadType: 101,
		WritePacket: func(*prtp.Packet) error { return nil }}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Playout on the 20 ms media clock keeps wall-clock time whatever the
// caller's ptime: 30 ms packets (SIPp's g711a.pcap) play out without
// running the jitter buffer dry or letting it fill up.
func TestPlayoutKeepsTimeWith30msPackets(t *testing.T) {
	s := mediaSession(t)
	var heard int
	s.tap(func(pcm []int16) { heard += len(pcm) })
	t0 := time.Unix(5000, 0)
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SSRC: 7}, Payload: make([]byte, 240)}
	sent := 0
	const secs = 3
	for tick := 0; tick < secs*50; tick++ {
		now := t0.Add(time.Duration(tick) * frameDur)
		for ; time.Duration(sent)*30*time.Millisecond <= now.Sub(t0); sent++ {
			pkt.SequenceNumber, pkt.Timestamp = uint16(sent), uint32(sent*240)
			s.receive(&pkt, nil)
		}
		s.playoutTick(now)
	}
	elapsed := secs*sampleRate - frameSamples // the last tick is at 2.98 s
	if heard < elapsed || heard > elapsed+2*240 {
		t.Errorf("heard %d samples in %d samples of time", heard, elapsed)
	}
	st := s.jb.Stats()
	if st.Underflows != 0 || st.Lost != 0 || st.Late != 0 {
		t.Errorf("jitter buffer %+v: want no underflow, loss or late packet", st)
	}
	if b := s.jb.Buffered(); b > 3 {
		t.Errorf("%d packets buffered at the end: playout falls behind", b)
	}
}

// BenchmarkMediaPacket is one packet each way of a call in the middle of a
// prompt, as the worker handles it: an audio packet received into the
// jitter buffer, a frame sent by the pacer from a prompt, a frame played
// out (decoded, taps fed). diago's socket read and write are not in it
// (see BenchmarkHeldMedia for the whole path).
func BenchmarkMediaPacket(b *testing.B) {
	_, step := steadyCall(b)
	b.ReportAllocs()
	for b.Loop() {
		step()
	}
}

// steadyCall is a session in the middle of a prompt with the caller
// talking; step moves it one 20 ms frame on.
func steadyCall(tb testing.TB) (*session, func()) {
	s := mediaSession(tb)
	s.tap(func([]int16) {})
	s.pacer.SetSource(vrtp.NewPCMSourceWith(make([]int16, 600*sampleRate), s.enc))
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SSRC: 7}, Payload: make([]byte, frameSamples)}
	events := vrtp.NewEventReceiver(101)
	now := time.Unix(6000, 0)
	step := func() {
		now = now.Add(frameDur)
		pkt.SequenceNumber++
		pkt.Timestamp += frameSamples
		s.receive(&pkt, events)
		s.pacer.Tick(now)
		s.playoutTick(now)
	}
	for range 10 { // past the jitter buffer's prefill
		step()
	}
	return s, step
}
