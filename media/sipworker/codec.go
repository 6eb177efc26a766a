package sipworker

import (
	"strings"

	"github.com/emiago/diago/media"

	"github.com/voxflow/voxflow/media/g711"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// The worker's audio is 8 kHz mono PCM everywhere (taps, DTMF detection,
// speech, recording, bridging); only the wire codec differs per call. A
// wireCodec encodes 20 ms frames of that PCM to RTP payloads and decodes
// payloads back to it; its RTP clock drives the pacer's timestamps. G.711
// (PCMU, PCMA) is always built in; Opus only with the opus build tag
// (codec_opus.go, cgo and libopus).
type wireCodec struct {
	name  string      // for logs and tests: "PCMU", "PCMA", "opus"
	sdp   media.Codec // what diago offers and matches
	clock int         // RTP clock rate
	// newEncoder and newDecoder make the per-call, per-direction state:
	// the encoder runs on the pacer goroutine, the decoder on playout.
	newEncoder func() (vrtp.Encoder, error)
	newDecoder func() (frameDecoder, error)
	// encodeAll encodes a whole prompt into frames of frameBytes, the
	// last padded with silence, for a codec without state from frame to
	// frame (G.711): a prompt is then encoded once and its frames shared
	// by every call playing it (prompts.go). Nil for Opus, whose frames
	// depend on the stream's encoder state.
	encodeAll  func(pcm []int16) []byte
	frameBytes int
}

// frameDecoder decodes one stream's payloads to 8 kHz mono PCM. The
// returned samples are a buffer of the decoder's, valid until its next call.
type frameDecoder interface {
	// Decode decodes a received payload (of any packet duration).
	Decode(payload []byte) ([]int16, error)
	// Conceal fills in for a lost frame, the jitter buffer's repeat of
	// the last payload: G.711 plays it again, Opus runs its packet-loss
	// concealment instead.
	Conceal(last []byte) ([]int16, error)
}

var (
	codecPCMU = wireCodec{name: "PCMU", sdp: media.CodecAudioUlaw, clock: sampleRate,
		newEncoder: func() (vrtp.Encoder, error) { return &vrtp.G711Encoder{}, nil },
		newDecoder: func() (frameDecoder, error) { return &g711Decoder{}, nil },
		encodeAll:  func(pcm []int16) []byte { return vrtp.EncodeG711(pcm, false) }, frameBytes: frameSamples}
	codecPCMA = wireCodec{name: "PCMA", sdp: media.CodecAudioAlaw, clock: sampleRate,
		newEncoder: func() (vrtp.Encoder, error) { return &vrtp.G711Encoder{ALaw: true}, nil },
		newDecoder: func() (frameDecoder, error) { return &g711Decoder{alaw: true}, nil },
		encodeAll:  func(pcm []int16) []byte { return vrtp.EncodeG711(pcm, true) }, frameBytes: frameSamples}
)

// audioCodecs are the audio codecs this build has, in the order the worker
// offers them (codec_opus.go adds Opus after G.711).
var audioCodecs = []wireCodec{codecPCMU, codecPCMA}

// offeredCodecs are the codecs the worker offers and answers with, in
// preference order: the audio codecs, then telephone-event/8000.
func offeredCodecs() []media.Codec {
	out := make([]media.Codec, 0, len(audioCodecs)+1)
	for _, c := range audioCodecs {
		out = append(out, c.sdp)
	}
	return append(out, media.CodecTelephoneEvent8000)
}

// codecFor maps a negotiated diago codec onto ours.
func codecFor(c media.Codec) (wireCodec, bool) {
	for _, wc := range audioCodecs {
		if wc.sdp.Matches(c) {
			return wc, true
		}
	}
	return wireCodec{}, false
}

// codecNames lists the audio codecs for messages: "PCMU or PCMA".
func codecNames() string {
	names := make([]string, len(audioCodecs))
	for i, c := range audioCodecs {
		names[i] = c.name
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// g711Decoder decodes PCMU or PCMA; a lost frame repeats the last one.
type g711Decoder struct {
	alaw bool
	pcm  []int16
}

func (d *g711Decoder) Decode(payload []byte) ([]int16, error) {
	if cap(d.pcm) < len(payload) {
		d.pcm = make([]int16, max(len(payload), frameSamples))
	}
	pcm := d.pcm[:len(payload)]
	if d.alaw {
		g711.DecodeALaw(pcm, payload)
	} else {
		g711.DecodeULaw(pcm, payload)
	}
	return pcm, nil
}

func (d *g711Decoder) Conceal(last []byte) ([]int16, error) { return d.Decode(last) }
