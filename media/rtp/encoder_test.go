package rtp

import (
	"errors"
	"fmt"
	"testing"
)

// countingEncoder stands for a codec other than G.711: it sees every
// 20 ms frame and fails on the second.
type countingEncoder struct{ frames [][]int16 }

func (e *countingEncoder) Encode(pcm []int16) ([]byte, error) {
	e.frames = append(e.frames, append([]int16(nil), pcm...))
	if len(e.frames) == 2 {
		return nil, errors.New("encoder failed")
	}
	return []byte{byte(len(e.frames))}, nil
}

func TestPCMSourceWithEncoder(t *testing.T) {
	pcm := make([]int16, 3*160+10)
	for i := range pcm {
		pcm[i] = int16(i)
	}
	enc := &countingEncoder{}
	src := NewPCMSourceWith(pcm, enc)
	var got []string
	for range 5 {
		p, ok := src.NextFrame()
		got = append(got, fmt.Sprint(p, ok))
	}
	if want := "[[1] true [] false [3] true [4] true [] false]"; fmt.Sprint(got) != want {
		t.Errorf("frames %v, want %s (a failed frame is not sent, the rest go on)", got, want)
	}
	if len(enc.frames) != 4 || len(enc.frames[3]) != 160 || enc.frames[3][9] != 3*160+9 || enc.frames[3][10] != 0 {
		t.Errorf("encoder saw %d frames; the last must be 160 samples padded with silence", len(enc.frames))
	}
}
