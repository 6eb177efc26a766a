package sipworker

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	"github.com/emiago/diago/media"

	"github.com/voxflow/voxflow/media/g711"
)

// Frame geometry: G.711 at 8 kHz, 20 ms packets.
const (
	sampleRate   = 8000
	frameSamples = 160
	frameDur     = 20 * time.Millisecond
)

// readLoop reads the caller's RTP until the media closes: telephone-events
// become key presses, audio is decoded and handed to the taps.
func (s *session) readLoop() {
	defer close(s.readerDone)
	r := s.med.RTPPacketReader
	buf := make([]byte, media.RTPBufSize)
	pcm := make([]int16, 0, 4*frameSamples)
	var events eventReceiver
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
		h := r.PacketHeader
		switch {
		case s.dtmfPT >= 0 && int(h.PayloadType) == s.dtmfPT:
			if d, ok := events.receive(h.Timestamp, buf[:n]); ok {
				s.pushDigit(d)
			}
		case h.PayloadType == s.audioPT:
			pcm = pcm[:n]
			if s.alaw {
				g711.DecodeALaw(pcm, buf[:n])
			} else {
				g711.DecodeULaw(pcm, buf[:n])
			}
			s.deliver(pcm)
		}
	}
}

// trustedSource checks the last packet came from the caller: the SDP
// connection address or the host that sent the INVITE (a NATed phone's
// media usually comes from its signalling address). Ports are not checked,
// so symmetric-RTP phones work.
func (s *session) trustedSource() bool {
	ms := s.med.MediaSession()
	if ms == nil {
		return false
	}
	from, ok := ms.ReadRTPFromAddr.(*net.UDPAddr)
	if !ok {
		return true // not known: do not drop
	}
	for _, ip := range s.trusted {
		if ip.Equal(from.IP) {
			return true
		}
	}
	return false
}

// playPCM sends audio to the caller paced at 20 ms a packet. It returns
// early (interrupted) when bargeIn reports true, and ctx.Err() when ctx ends.
func (s *session) playPCM(ctx context.Context, pcm []int16, bargeIn func() bool) (interrupted bool, err error) {
	if len(pcm) == 0 {
		return false, nil
	}
	s.playMu.Lock()
	defer s.playMu.Unlock()
	wr := s.med.RTPPacketWriter
	payload := make([]byte, frameSamples)
	frame := make([]int16, frameSamples)
	// Timestamps keep running over the silence since the last packet; the
	// first packet of the talkspurt has the marker bit.
	if !s.lastSent.IsZero() {
		if gap := time.Since(s.lastSent) - frameDur; gap > 0 {
			wr.DelayTimestamp(uint32(gap.Seconds() * sampleRate))
		}
	}
	tick := time.NewTicker(frameDur)
	defer tick.Stop()
	for i := 0; i < len(pcm); i += frameSamples {
		if bargeIn != nil && bargeIn() {
			return true, nil
		}
		n := copy(frame, pcm[i:])
		clear(frame[n:])
		if s.alaw {
			g711.EncodeALaw(payload, frame)
		} else {
			g711.EncodeULaw(payload, frame)
		}
		if _, err := wr.WriteSamples(payload, frameSamples, i == 0, s.audioPT); err != nil {
			if s.gone() {
				return false, context.Canceled
			}
			return false, err
		}
		s.lastSent = time.Now()
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	return false, nil
}
