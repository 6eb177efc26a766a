package webrtc

import (
	"errors"
	"strings"
	"sync"

	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
)

// AudioTrack is an outgoing audio track that sends telephone-events too:
// pion's static track stamps its codec's payload type on every packet, so
// RFC 4733 key presses could not go out on the audio's SSRC. Packets whose
// payload type is the negotiated telephone-event keep it; every other
// packet gets the audio codec's.
type AudioTrack struct {
	codec pion.RTPCodecCapability
	id    string

	mu      sync.RWMutex
	bound   bool
	ssrc    pion.SSRC
	audioPT uint8
	eventPT int // -1: none negotiated
	out     pion.TrackLocalWriter
}

// NewAudioTrack returns a track sending codec under id.
func NewAudioTrack(codec pion.RTPCodecCapability, id string) *AudioTrack {
	return &AudioTrack{codec: codec, id: id, eventPT: -1}
}

var errTrackCodec = errors.New("the track's codec was not negotiated")

// Bind is called by pion once the codecs are negotiated.
func (t *AudioTrack) Bind(ctx pion.TrackLocalContext) (pion.RTPCodecParameters, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var audio *pion.RTPCodecParameters
	t.eventPT = -1
	for _, c := range ctx.CodecParameters() {
		switch {
		case strings.EqualFold(c.MimeType, t.codec.MimeType) && c.ClockRate == t.codec.ClockRate && audio == nil:
			audio = &c
		case strings.EqualFold(c.MimeType, telephoneEvent.MimeType) && c.ClockRate == 8000:
			t.eventPT = int(c.PayloadType)
		}
	}
	if audio == nil {
		return pion.RTPCodecParameters{}, errTrackCodec
	}
	t.bound, t.ssrc, t.audioPT, t.out = true, ctx.SSRC(), uint8(audio.PayloadType), ctx.WriteStream()
	return *audio, nil
}

// Unbind is called by pion when the track stops.
func (t *AudioTrack) Unbind(pion.TrackLocalContext) error {
	t.mu.Lock()
	t.bound = false
	t.mu.Unlock()
	return nil
}

func (t *AudioTrack) ID() string              { return t.id }
func (t *AudioTrack) RID() string             { return "" }
func (t *AudioTrack) StreamID() string        { return "voxflow" }
func (t *AudioTrack) Kind() pion.RTPCodecType { return pion.RTPCodecTypeAudio }

// EventPayloadType is the negotiated telephone-event type, -1 if none.
func (t *AudioTrack) EventPayloadType() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.eventPT
}

// WriteRTP sends pkt (unchanged: the header is copied); before the track is
// bound it is dropped.
func (t *AudioTrack) WriteRTP(pkt *rtp.Packet) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if !t.bound {
		return nil
	}
	h := pkt.Header
	h.SSRC = uint32(t.ssrc)
	if int(h.PayloadType) != t.eventPT || t.eventPT < 0 {
		h.PayloadType = t.audioPT
	}
	_, err := t.out.WriteRTP(&h, pkt.Payload)
	return err
}
