package rtp

import (
	"sync"

	"github.com/voxflow/voxflow/media/g711"
)

// pcmFrameSamples is one 20 ms G.711 frame at 8 kHz.
const pcmFrameSamples = 160

// PCMSource feeds 8 kHz PCM to a Pacer as G.711 frames, one per tick, the
// last frame padded with silence. Done is closed once it has run out.
type PCMSource struct {
	pcm     []int16
	pos     int
	alaw    bool
	frame   [pcmFrameSamples]int16
	payload [pcmFrameSamples]byte
	once    sync.Once
	done    chan struct{}
}

// NewPCMSource encodes pcm as A-law when alaw, else µ-law.
func NewPCMSource(pcm []int16, alaw bool) *PCMSource {
	return &PCMSource{pcm: pcm, alaw: alaw, done: make(chan struct{})}
}

// Done is closed when every frame has been handed out.
func (p *PCMSource) Done() <-chan struct{} { return p.done }

// NextFrame returns the next encoded frame; the payload buffer is reused,
// so the caller must send it before asking for another.
func (p *PCMSource) NextFrame() ([]byte, bool) {
	if p.pos >= len(p.pcm) {
		p.once.Do(func() { close(p.done) })
		return nil, false
	}
	n := copy(p.frame[:], p.pcm[p.pos:])
	clear(p.frame[n:])
	p.pos += pcmFrameSamples
	if p.alaw {
		g711.EncodeALaw(p.payload[:], p.frame[:])
	} else {
		g711.EncodeULaw(p.payload[:], p.frame[:])
	}
	return p.payload[:], true
}
