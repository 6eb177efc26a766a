package rtp

import (
	"sync"

	"github.com/voxflow/voxflow/media/g711"
)

// pcmFrameSamples is one 20 ms frame at 8 kHz.
const pcmFrameSamples = 160

// Encoder turns one 20 ms frame of 8 kHz mono PCM (160 samples) into an
// RTP payload, whatever the codec's RTP clock. The payload may be a buffer
// of the encoder's that the next call reuses. A codec with state (Opus)
// needs one Encoder per stream, called from one goroutine (the pacer's).
type Encoder interface {
	Encode(pcm []int16) ([]byte, error)
}

// G711Encoder encodes G.711: A-law when ALaw, else µ-law.
type G711Encoder struct {
	ALaw bool
	buf  []byte
}

// Encode encodes pcm, one byte per sample.
func (e *G711Encoder) Encode(pcm []int16) ([]byte, error) {
	if cap(e.buf) < len(pcm) {
		e.buf = make([]byte, len(pcm))
	}
	out := e.buf[:len(pcm)]
	if e.ALaw {
		g711.EncodeALaw(out, pcm)
	} else {
		g711.EncodeULaw(out, pcm)
	}
	return out, nil
}

// PCMSource feeds 8 kHz PCM to a Pacer, one encoded 20 ms frame per tick,
// the last frame padded with silence. Done is closed once it has run out.
type PCMSource struct {
	pcm   []int16
	pos   int
	enc   Encoder
	frame [pcmFrameSamples]int16
	once  sync.Once
	done  chan struct{}
}

// NewPCMSource encodes pcm as A-law when alaw, else µ-law.
func NewPCMSource(pcm []int16, alaw bool) *PCMSource {
	return NewPCMSourceWith(pcm, &G711Encoder{ALaw: alaw})
}

// NewPCMSourceWith encodes pcm with enc (the stream's codec).
func NewPCMSourceWith(pcm []int16, enc Encoder) *PCMSource {
	return &PCMSource{pcm: pcm, enc: enc, done: make(chan struct{})}
}

// Done is closed when every frame has been handed out.
func (p *PCMSource) Done() <-chan struct{} { return p.done }

// NextFrame returns the next encoded frame; the payload buffer is reused,
// so the caller must send it before asking for another. A frame the
// encoder fails on is not sent (the pacer treats it as silence).
func (p *PCMSource) NextFrame() ([]byte, bool) {
	if p.pos >= len(p.pcm) {
		p.once.Do(func() { close(p.done) })
		return nil, false
	}
	n := copy(p.frame[:], p.pcm[p.pos:])
	clear(p.frame[n:])
	p.pos += pcmFrameSamples
	payload, err := p.enc.Encode(p.frame[:])
	if err != nil {
		return nil, false
	}
	return payload, true
}

// FramesSource feeds a Pacer frames encoded beforehand, frameLen bytes
// each: a prompt encoded once and shared by every call playing it (the
// frames are only read). Done is closed once it has run out.
type FramesSource struct {
	frames   []byte
	frameLen int
	pos      int
	once     sync.Once
	done     chan struct{}
}

// NewFramesSource plays frames, whole frames of frameLen bytes (a partial
// last frame is dropped).
func NewFramesSource(frames []byte, frameLen int) *FramesSource {
	return &FramesSource{frames: frames, frameLen: max(frameLen, 1), done: make(chan struct{})}
}

// Done is closed when every frame has been handed out.
func (f *FramesSource) Done() <-chan struct{} { return f.done }

// NextFrame returns the next frame, a slice of the shared frames.
func (f *FramesSource) NextFrame() ([]byte, bool) {
	if f.pos+f.frameLen > len(f.frames) {
		f.once.Do(func() { close(f.done) })
		return nil, false
	}
	frame := f.frames[f.pos : f.pos+f.frameLen : f.pos+f.frameLen]
	f.pos += f.frameLen
	return frame, true
}

// EncodeG711 encodes pcm as G.711 (A-law when alaw, else µ-law) in whole
// 20 ms frames, the last padded with silence: the bytes a PCMSource sends,
// for a FramesSource.
func EncodeG711(pcm []int16, alaw bool) []byte {
	n := (len(pcm) + pcmFrameSamples - 1) / pcmFrameSamples * pcmFrameSamples
	padded := pcm
	if n != len(pcm) {
		padded = make([]int16, n)
		copy(padded, pcm)
	}
	out := make([]byte, n)
	if alaw {
		g711.EncodeALaw(out, padded)
	} else {
		g711.EncodeULaw(out, padded)
	}
	return out
}
