package rtp

import (
	"bytes"
	"testing"

	"github.com/voxflow/voxflow/media/g711"
)

func TestPCMSourceFramesAndPads(t *testing.T) {
	pcm := make([]int16, 2*pcmFrameSamples+10)
	for i := range pcm {
		pcm[i] = int16(i * 7)
	}
	for _, alaw := range []bool{false, true} {
		src := NewPCMSource(pcm, alaw)
		var got []int16
		frames := 0
		for {
			f, ok := src.NextFrame()
			if !ok {
				break
			}
			frames++
			dec := make([]int16, len(f))
			if alaw {
				g711.DecodeALaw(dec, f)
			} else {
				g711.DecodeULaw(dec, f)
			}
			got = append(got, dec...)
		}
		if frames != 3 || len(got) != 3*pcmFrameSamples {
			t.Fatalf("alaw=%v: %d frames, %d samples", alaw, frames, len(got))
		}
		for i := len(pcm); i < len(got); i++ {
			if got[i] > 8 || got[i] < -8 {
				t.Fatalf("alaw=%v: padding sample %d = %d, want silence", alaw, i, got[i])
			}
		}
		select {
		case <-src.Done():
		default:
			t.Fatalf("alaw=%v: Done not closed after the last frame", alaw)
		}
	}
}

// A FramesSource of EncodeG711's frames sends the same payloads as a
// PCMSource of the same audio, padding included.
func TestFramesSourceMatchesPCMSource(t *testing.T) {
	pcm := make([]int16, 3*pcmFrameSamples+17)
	for i := range pcm {
		pcm[i] = int16(i*37%4000 - 2000)
	}
	for _, alaw := range []bool{false, true} {
		want := NewPCMSource(pcm, alaw)
		got := NewFramesSource(EncodeG711(pcm, alaw), pcmFrameSamples)
		for i := 0; ; i++ {
			w, wok := want.NextFrame()
			g, gok := got.NextFrame()
			if wok != gok || !bytes.Equal(w, g) {
				t.Fatalf("alaw %v frame %d: %v %x, want %v %x", alaw, i, gok, g, wok, w)
			}
			if !wok {
				break
			}
		}
		select {
		case <-got.Done():
		default:
			t.Errorf("alaw %v: Done not closed at the end", alaw)
		}
	}
}
