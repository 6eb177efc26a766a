//go:build opus

package sipworker

import (
	"fmt"

	"github.com/emiago/diago/media"
	"gopkg.in/hraban/opus.v2"

	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// Opus (RFC 7587) with the opus build tag: cgo and libopus (Debian
// libopus-dev). libopus encodes and decodes at 8 kHz mono directly, so the
// worker's internal audio stays 8 kHz; on the wire the RTP clock is 48 kHz
// whatever the audio bandwidth (a 20 ms frame steps the timestamp by 960)
// and the SDP says opus/48000/2 with a dynamic payload type (diago's
// media.CodecAudioOpus, 96 in our offers; as answerer we take the caller's).
// diago writes the fmtp line: useinbandfec=0, the RFC's advice for a
// receiver that does not decode FEC; lost frames get libopus's packet-loss
// concealment instead.
//
// Offered after PCMU and PCMA: as answerer diago keeps the caller's order,
// so a phone that prefers Opus gets Opus; as offerer (originate, a bridge's
// second leg) G.711 first avoids transcoding with trunks and costs less CPU,
// and with 8 kHz audio inside Opus adds no quality, only less bandwidth and
// better loss concealment.

const (
	opusClock = 48000
	// opusBitrate: narrowband speech at 16 kb/s (a quarter of G.711's).
	opusBitrate = 16000
	// opusMaxFrame is the longest Opus packet at 8 kHz: 120 ms.
	opusMaxFrame = 120 * sampleRate / 1000
	// opusMaxPacket bounds one encoded frame (RFC 6716: 1275 bytes).
	opusMaxPacket = 1275
)

var codecOpus = wireCodec{name: "opus", sdp: media.CodecAudioOpus, clock: opusClock,
	newEncoder: func() (vrtp.Encoder, error) { return newOpusEncoder() },
	newDecoder: func() (frameDecoder, error) { return newOpusDecoder() }}

func init() { audioCodecs = append(audioCodecs, codecOpus) }

// opusEncoder encodes 20 ms of 8 kHz mono PCM per call.
type opusEncoder struct {
	enc *opus.Encoder
	buf []byte
}

func newOpusEncoder() (*opusEncoder, error) {
	enc, err := opus.NewEncoder(sampleRate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	if err := enc.SetBitrate(opusBitrate); err != nil {
		return nil, fmt.Errorf("opus encoder: bitrate: %w", err)
	}
	return &opusEncoder{enc: enc, buf: make([]byte, opusMaxPacket)}, nil
}

func (e *opusEncoder) Encode(pcm []int16) ([]byte, error) {
	n, err := e.enc.Encode(pcm, e.buf)
	if err != nil {
		return nil, fmt.Errorf("opus encode: %w", err)
	}
	return e.buf[:n], nil
}

// opusDecoder decodes any Opus packet (mono or stereo, any bandwidth) to
// 8 kHz mono; a lost frame is concealed by libopus for the duration of the
// last packet.
type opusDecoder struct {
	dec  *opus.Decoder
	pcm  []int16
	last int // samples in the last decoded packet
}

func newOpusDecoder() (*opusDecoder, error) {
	dec, err := opus.NewDecoder(sampleRate, 1)
	if err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	return &opusDecoder{dec: dec, pcm: make([]int16, opusMaxFrame), last: frameSamples}, nil
}

func (d *opusDecoder) Decode(payload []byte) ([]int16, error) {
	n, err := d.dec.Decode(payload, d.pcm)
	if err != nil {
		return nil, fmt.Errorf("opus decode: %w", err)
	}
	d.last = n
	return d.pcm[:n], nil
}

func (d *opusDecoder) Conceal([]byte) ([]int16, error) {
	// libopus conceals exactly as many samples as the buffer holds.
	pcm := d.pcm[:d.last:d.last]
	if err := d.dec.DecodePLC(pcm); err != nil {
		return nil, fmt.Errorf("opus concealment: %w", err)
	}
	return pcm, nil
}
