package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	pion "github.com/pion/webrtc/v4"
)

// Peer is one browser's audio: RTP in from its microphone track, RTP out to
// the track it plays. The peer connection is its single owner: every
// change of state goes through pion's callbacks into done.
type Peer struct {
	pc      *pion.PeerConnection
	codec   Codec
	pt      uint8
	eventPT int
	local   *AudioTrack
	remote  chan *pion.TrackRemote
	track   *pion.TrackRemote // set by the first ReadRTP that got it

	negotiate sync.Mutex // one offer/answer at a time
	done      chan struct{}
	doneOnce  sync.Once
	readers   sync.WaitGroup
}

// Answer answers a browser's offer: the codec is the first of the offer's
// audio formats the worker takes (ErrNoCommonCodec when none), candidates
// are gathered before the answer is returned (no trickle: host candidates
// take milliseconds, STUN is bounded by ctx).
func (t *Transport) Answer(ctx context.Context, offer string) (*Peer, string, error) {
	c, pt, err := t.pick(offer)
	if err != nil {
		return nil, "", err
	}
	api, err := t.api(c, pt)
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: media engine: %w", err)
	}
	pc, err := api.NewPeerConnection(pion.Configuration{ICEServers: t.ice})
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: peer connection: %w", err)
	}
	p := &Peer{pc: pc, codec: c, pt: pt, eventPT: eventPayloadType(offer), remote: make(chan *pion.TrackRemote, 1), done: make(chan struct{})}
	if err := p.setUp(); err != nil {
		_ = pc.Close()
		return nil, "", err
	}
	answer, err := p.Renegotiate(ctx, offer)
	if err != nil {
		p.Close()
		return nil, "", err
	}
	return p, answer, nil
}

// setUp adds our outgoing track and the callbacks that own the state.
func (p *Peer) setUp() error {
	capab := pion.RTPCodecCapability{MimeType: "audio/" + p.codec.Name, ClockRate: p.codec.ClockRate, Channels: p.codec.Channels}
	local := NewAudioTrack(capab, "audio")
	sender, err := p.pc.AddTrack(local)
	if err != nil {
		return fmt.Errorf("webrtc: add track: %w", err)
	}
	p.local = local
	// RTCP from the browser must be read for the interceptors (NACK,
	// reports) to work; the read ends when the connection closes.
	p.readers.Add(1)
	go func() {
		defer p.readers.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	p.pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		if tr.Kind() != pion.RTPCodecTypeAudio {
			return
		}
		select {
		case p.remote <- tr:
		default: // a second audio track: we take one
		}
	})
	p.pc.OnConnectionStateChange(func(s pion.PeerConnectionState) {
		// Disconnected may recover (ICE restart); failed and closed do not.
		if s == pion.PeerConnectionStateFailed || s == pion.PeerConnectionStateClosed {
			p.end()
		}
	})
	return nil
}

// Renegotiate answers a later offer of the same browser: an ICE restart
// after a network change keeps the call, its codec and its tracks.
func (p *Peer) Renegotiate(ctx context.Context, offer string) (string, error) {
	p.negotiate.Lock()
	defer p.negotiate.Unlock()
	if err := p.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("webrtc: create answer: %w", err)
	}
	gathered := pion.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("webrtc: set answer: %w", err)
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", fmt.Errorf("webrtc: gather candidates: %w", ctx.Err())
	}
	return p.pc.LocalDescription().SDP, nil
}

// Codec is the negotiated audio codec: its SDP name, payload type and clock.
func (p *Peer) Codec() (name string, payloadType uint8, clockRate int) {
	return p.codec.Name, p.pt, int(p.codec.ClockRate)
}

// EventPayloadType is the browser's telephone-event payload type, -1 when
// it offered none. Packets of that type written to the peer go out as
// key presses.
func (p *Peer) EventPayloadType() int { return p.eventPT }

// ReadRTP returns the browser's next packet (audio or telephone-event),
// waiting for its track to arrive; io.EOF once the peer is closed.
func (p *Peer) ReadRTP() (*rtp.Packet, error) {
	if p.track == nil {
		select {
		case p.track = <-p.remote:
		case <-p.done:
			return nil, io.EOF
		}
	}
	pkt, _, err := p.track.ReadRTP()
	if err != nil {
		return nil, io.EOF
	}
	return pkt, nil
}

// WriteRTP sends a packet on our track: a telephone-event keeps its type,
// anything else is sent as the audio codec's.
func (p *Peer) WriteRTP(pkt *rtp.Packet) error {
	if err := p.local.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		return err
	}
	return nil
}

// Done is closed when the connection failed (ICE gave up) or was closed.
func (p *Peer) Done() <-chan struct{} { return p.done }

func (p *Peer) end() { p.doneOnce.Do(func() { close(p.done) }) }

// Close ends the connection and waits for the peer's goroutines.
func (p *Peer) Close() error {
	err := p.pc.Close()
	p.end()
	p.readers.Wait()
	return err
}

// eventPayloadType finds telephone-event/8000 in an offer's audio section.
func eventPayloadType(offer string) int {
	var sd sdp.SessionDescription
	if sd.UnmarshalString(offer) != nil {
		return -1
	}
	for pt, c := range audioFormats(&sd) {
		if strings.EqualFold(c.Name, "telephone-event") && c.ClockRate == 8000 {
			return int(pt)
		}
	}
	return -1
}
