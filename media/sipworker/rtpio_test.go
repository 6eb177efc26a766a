package sipworker

import (
	"context"
	"log/slog"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/activities"
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

// A prompt's frames are encoded once per codec and shared by every call;
// PCM that render did not hand out (a beep) and codecs with state (Opus)
// are encoded by the call.
func TestPromptFramesShared(t *testing.T) {
	p := newPromptCache(toneTTS{}, "")
	pcm, err := p.render(context.Background(), activities.Prompt{Text: "Hello."})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := p.frames(pcm, codecPCMU)
	if !ok {
		t.Fatal("no frames for a rendered prompt")
	}
	b, _ := p.frames(pcm, codecPCMU)
	if &a[0] != &b[0] {
		t.Error("second call got its own frames, want the shared ones")
	}
	if len(a) != (len(pcm)+frameSamples-1)/frameSamples*frameSamples {
		t.Errorf("%d bytes of frames for %d samples", len(a), len(pcm))
	}
	if alaw, _ := p.frames(pcm, codecPCMA); &alaw[0] == &a[0] || alaw[0] == a[0] {
		t.Error("PCMA frames are the PCMU ones")
	}
	if _, ok := p.frames(append([]int16(nil), pcm...), codecPCMU); ok {
		t.Error("frames for PCM render never returned")
	}
	stateful := codecPCMU
	stateful.encodeAll = nil
	if _, ok := p.frames(pcm, stateful); ok {
		t.Error("shared frames for a codec with state")
	}
	s := mediaSession(t)
	s.w = &Worker{prompts: p}
	if _, ok := s.promptSource(pcm).(*vrtp.FramesSource); !ok {
		t.Error("a prompt plays from the shared frames")
	}
	if _, ok := s.promptSource(make([]int16, 800)).(*vrtp.PCMSource); !ok {
		t.Error("other audio is encoded by the call")
	}
}

// Prompts beyond the byte bound are dropped least recently used first.
func TestWireFramesBound(t *testing.T) {
	c := newWireFrames(3 * 2 * 1600) // three 1600-sample prompts' PCM
	var pcms [][]int16
	for range 4 {
		pcm := make([]int16, 1600)
		pcms = append(pcms, pcm)
		c.remember(pcm)
	}
	if _, ok := c.frames(pcms[0], codecPCMU); ok {
		t.Error("the oldest prompt is still held")
	}
	for _, pcm := range pcms[1:] {
		c.remember(pcm)
	}
	if _, ok := c.frames(pcms[3], codecPCMU); !ok {
		t.Error("the newest prompt was dropped")
	}
	if c.bytes > c.maxBytes {
		t.Errorf("%d bytes held, bound %d", c.bytes, c.maxBytes)
	}
}

// BenchmarkMediaPacket is one packet each way of a call in the middle of a
// prompt, as the worker handles it: an audio packet received into the
// jitter buffer, a frame sent by the pacer from the shared prompt frames,
// a frame played out (decoded, taps fed). diago's socket read and write
// are not in it (see BenchmarkHeldMedia for the whole path).
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
	s.pacer.SetSource(vrtp.NewFramesSource(codecPCMU.encodeAll(make([]int16, 600*sampleRate)), frameSamples))
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
