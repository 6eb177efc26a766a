// Package audio holds small signal tools for 8 kHz mono 16-bit telephony
// PCM: frame levels, a silence/speech detector (no-input and end-of-speech
// timing for gather and record), tone generation (beeps) and mixing for
// stereo recordings and bridges.
//
// Levels are in dBFS relative to a full-scale sine (AES17): a sine peaking
// at 32767 is 0 dBFS.
package audio

import "math"

const (
	// Rate is the sample rate these tools assume.
	Rate = 8000
	// FrameMs is the analysis frame length.
	FrameMs = 20
	// FrameSamples is the number of samples in a frame at Rate.
	FrameSamples = Rate * FrameMs / 1000
	// MinDBFS is the level reported for digital silence.
	MinDBFS = -120.0
)

// LevelDBFS returns the RMS level of pcm in dBFS (full-scale sine = 0),
// MinDBFS for silence or an empty slice.
func LevelDBFS(pcm []int16) float64 {
	if len(pcm) == 0 {
		return MinDBFS
	}
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	rms := math.Sqrt(sum / float64(len(pcm)))
	if rms == 0 {
		return MinDBFS
	}
	return max(MinDBFS, 20*math.Log10(rms*math.Sqrt2/32767))
}

// FrameLevels returns the level of each whole 20 ms frame of pcm; a trailing
// partial frame is ignored.
func FrameLevels(pcm []int16) []float64 {
	out := make([]float64, 0, len(pcm)/FrameSamples)
	for i := 0; i+FrameSamples <= len(pcm); i += FrameSamples {
		out = append(out, LevelDBFS(pcm[i:i+FrameSamples]))
	}
	return out
}

// Tone returns ms milliseconds of a sine at freq Hz and levelDBFS, with 5 ms
// raised-cosine fades at both ends so it starts and stops without a click.
func Tone(freq float64, ms int, levelDBFS float64) []int16 {
	if ms <= 0 {
		return nil
	}
	n := ms * Rate / 1000
	amp := 32767 * math.Pow(10, levelDBFS/20)
	fade := min(Rate*5/1000, n/2)
	out := make([]int16, n)
	for i := range out {
		v := amp * math.Sin(2*math.Pi*freq*float64(i)/Rate)
		if k := min(i, n-1-i); k < fade {
			v *= 0.5 - 0.5*math.Cos(math.Pi*float64(k)/float64(fade))
		}
		out[i] = saturate(math.Round(v))
	}
	return out
}

// Beep returns the record beep: 1000 Hz for 200 ms at -10 dBFS.
func Beep() []int16 { return Tone(1000, 200, -10) }

// Interleave makes stereo frames from two mono tracks (left, right), for a
// recording with the caller on the left and the agent on the right. The
// shorter track is padded with silence.
func Interleave(left, right []int16) []int16 {
	n := max(len(left), len(right))
	out := make([]int16, 2*n)
	for i, v := range left {
		out[2*i] = v
	}
	for i, v := range right {
		out[2*i+1] = v
	}
	return out
}

// Mix sums two mono tracks into one with saturation (for a mono recording
// of both sides or a conference); the result is as long as the longer input.
func Mix(a, b []int16) []int16 {
	if len(a) < len(b) {
		a, b = b, a
	}
	out := make([]int16, len(a))
	copy(out, a)
	for i, v := range b {
		out[i] = saturate(float64(out[i]) + float64(v))
	}
	return out
}

// Gain scales pcm in place by db decibels, with saturation.
func Gain(pcm []int16, db float64) {
	g := math.Pow(10, db/20)
	for i, v := range pcm {
		pcm[i] = saturate(math.Round(float64(v) * g))
	}
}

func saturate(v float64) int16 {
	return int16(max(math.MinInt16, min(math.MaxInt16, v)))
}
