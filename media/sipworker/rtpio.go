package sipworker

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/emiago/diago/media"
	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/media/dtmf"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// Frame geometry of the worker's audio: 8 kHz mono PCM in 20 ms frames,
// whatever the wire codec (codec.go).
const (
	sampleRate   = 8000
	frameSamples = 160
	frameDur     = 20 * time.Millisecond
	// jitterDepth is the receive playout delay.
	jitterDepth = 60 * time.Millisecond
)

// mediaClock paces every call's sending and playout: a few goroutines for
// all calls instead of a pacer and a playout goroutine, each with its own
// timer, per call (see vrtp.Clock). Its shards' goroutines run only while
// calls are up.
var mediaClock = sync.OnceValue(func() *vrtp.Clock {
	c, err := vrtp.NewClock(frameDur, max(4, runtime.GOMAXPROCS(0)))
	if err != nil {
		panic(err) // a constant, positive period
	}
	return c
})

// startMedia starts the call's media: the RTP reader goroutine, and the
// paced sender and receive playout on the shared media clock. They stop
// when the session ends and the media closes; wait for them with s.media.
func (s *session) startMedia() error {
	jb, err := vrtp.NewJitterBuffer(vrtp.JitterConfig{FrameDuration: frameDur, Depth: jitterDepth})
	if err != nil {
		return err
	}
	s.jb = jb
	s.q.rx = vrtp.NewReceiverStats(s.codec.clock)
	if s.med != nil {
		s.watchPeerReports()
	}
	if s.enc, err = s.codec.newEncoder(); err != nil {
		return err
	}
	if s.dec, err = s.codec.newDecoder(); err != nil {
		return err
	}
	var evPT uint8
	if s.dtmfSendPT >= 0 {
		evPT = uint8(s.dtmfSendPT)
	}
	s.pacer, err = vrtp.NewPacer(vrtp.PacerConfig{
		PayloadType: s.audioSendPT, ClockRate: s.codec.clock, FrameDuration: frameDur,
		EventPayloadType: evPT, EventClockRate: int(media.CodecTelephoneEvent8000.SampleRate),
		WritePacket: s.writeRTP,
	}, nil)
	if err != nil {
		return err
	}
	if s.dtmfPT < 0 {
		// No telephone-event negotiated: listen for tones in the audio.
		if s.inband, err = dtmf.NewDetector(sampleRate); err != nil {
			return err
		}
	}
	s.media.Add(2)
	go func() {
		defer s.media.Done()
		s.readLoop()
	}()
	leave := mediaClock().Join(vrtp.Member{Send: s.pacer.Tick, Work: s.playoutTick})
	context.AfterFunc(s.ctx, func() {
		defer s.media.Done()
		leave()
	})
	return nil
}

// writeRTP sends one packet the pacer built through diago's RTP session
// (which keeps the RTCP sender statistics and does SRTP when negotiated).
func (s *session) writeRTP(pkt *prtp.Packet) error {
	if s.held.Load() {
		return nil // the caller holds the call: nobody listens (hold.go)
	}
	if s.web != nil {
		return s.web.WriteRTP(pkt)
	}
	w := s.med.RTPPacketWriter.Writer()
	if w == nil {
		return errors.New("no RTP session")
	}
	return w.WriteRTP(pkt)
}

// readLoop reads the caller's RTP until the media closes.
func (s *session) readLoop() {
	if s.web != nil {
		s.webReadLoop()
		return
	}
	r := s.med.RTPPacketReader
	buf := make([]byte, media.RTPBufSize)
	var events *vrtp.EventReceiver
	if s.dtmfPT >= 0 {
		events = vrtp.NewEventReceiver(uint8(s.dtmfPT))
	}
	var pkt prtp.Packet // reused: receive keeps nothing of it
	for {
		n, err := r.Read(buf)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !s.gone() {
				continue // a re-INVITE swapped the session under the reader
			}
			if !errors.Is(err, io.EOF) && !s.gone() {
				s.log.Debug("rtp read", "error", err)
			}
			return
		}
		if n == 0 || !s.trustedSource() {
			continue
		}
		pkt.Header, pkt.Payload = r.PacketHeader, buf[:n]
		s.receive(&pkt, events)
	}
}

// receive takes one packet from the caller: a telephone-event becomes a
// key press, audio goes to the jitter buffer (which copies it).
func (s *session) receive(pkt *prtp.Packet, events *vrtp.EventReceiver) {
	s.q.countRTP(&pkt.Header, time.Now())
	switch {
	case events != nil && int(pkt.PayloadType) == s.dtmfPT:
		if d, ok, err := events.Push(pkt); err != nil {
			s.log.Debug("telephone-event", "error", err)
		} else if ok {
			s.pushDigit(d.Key)
		}
	case pkt.PayloadType == s.audioPT:
		s.jb.Push(pkt)
	}
}

// playoutTick runs on the media clock every frame: it releases the
// caller's audio from the jitter buffer in real time. A frame is due when
// the previous one's audio would have played out, so packets of any ptime
// (SIPp's g711a.pcap has 30 ms) keep wall-clock time; a frame due within
// half a tick is played on this one.
func (s *session) playoutTick(now time.Time) {
	if s.playDue.IsZero() {
		s.playDue = now
	}
	for !s.playDue.After(now.Add(frameDur / 2)) {
		n := s.playoutFrame()
		s.playDue = s.playDue.Add(time.Duration(n) * time.Second / sampleRate)
		if now.Sub(s.playDue) > 10*frameDur {
			s.playDue = now // a stall: do not burst to catch up
		}
	}
}

// playoutFrame plays one frame out of the jitter buffer: decodes it, runs
// in-band DTMF detection when needed and feeds the taps. It returns the
// number of samples played.
func (s *session) playoutFrame() int {
	f := s.jb.Pop()
	var pcm []int16
	var err error
	switch {
	case len(f.Payload) == 0:
	case f.Kind == vrtp.FramePlayed:
		pcm, err = s.dec.Decode(f.Payload)
	case f.Kind == vrtp.FrameRepeated:
		pcm, err = s.dec.Conceal(f.Payload)
	}
	if err != nil {
		s.log.Debug("decode", "codec", s.codec.name, "seq", f.SequenceNumber, "error", err)
	}
	if len(pcm) == 0 {
		clear(s.silence[:])
		pcm = s.silence[:]
	}
	if s.inband != nil {
		for _, d := range s.inband.Process(pcm) {
			s.pushDigit(d.Key)
		}
	}
	s.deliver(pcm)
	return len(pcm)
}

// trustedSource checks the last packet came from the caller (RTP
// injection from anyone who can reach the port is dropped).
func (s *session) trustedSource() bool {
	ms := s.med.MediaSession()
	if ms == nil {
		return false
	}
	from, ok := ms.ReadRTPFromAddr.(*net.UDPAddr)
	if !ok {
		return false
	}
	return s.source.Allow(from.AddrPort())
}

// playPCM sends audio to the caller through the pacer. It returns early
// (interrupted) when bargeIn reports true after a key press, and ctx.Err()
// when ctx ends.
func (s *session) playPCM(ctx context.Context, pcm []int16, bargeIn func() bool) (interrupted bool, err error) {
	if len(pcm) == 0 {
		return false, nil
	}
	s.playMu.Lock()
	defer s.playMu.Unlock()
	if bargeIn != nil && bargeIn() {
		return true, nil
	}
	src := s.promptSource(pcm)
	s.pacer.SetSource(src)
	defer s.pacer.SetSource(nil)
	var keys <-chan struct{}
	if bargeIn != nil {
		keys = s.digitSig
	}
	for {
		select {
		case <-src.Done():
			return false, nil
		case <-keys:
			// Consumers pop the queue before they wait, so taking the
			// signal here loses no key press.
			if bargeIn != nil && bargeIn() {
				return true, nil
			}
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// playSource is a pacer source that says when it has run out.
type playSource interface {
	vrtp.FrameSource
	Done() <-chan struct{}
}

// promptSource plays pcm: a prompt's frames shared with other calls when
// the prompt cache has them for this call's codec, else pcm encoded frame
// by frame with the call's encoder.
func (s *session) promptSource(pcm []int16) playSource {
	if s.w != nil {
		if frames, ok := s.w.prompts.frames(pcm, s.codec); ok {
			return vrtp.NewFramesSource(frames, s.codec.frameBytes)
		}
	}
	return vrtp.NewPCMSourceWith(pcm, s.enc)
}
