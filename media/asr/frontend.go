package asr

import (
	"math"
	"math/rand/v2"
	"sync"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/wav"
)

// The decoder's model is a 16 kHz one and its filter bank reaches 6.8 kHz;
// telephone audio resampled to 16 kHz leaves everything above 4 kHz empty,
// and those near-zero band energies dominate the cepstra (fricatives and
// word onsets get lost). Filling the empty band with a steady noise floor,
// louder than the speech, makes it constant, and cepstral mean
// normalisation then takes it out. Measured on the espeak-ng test voices
// at 8 kHz through G.711: menu accuracy 81% -> 97.5%, free-speech word
// error rate 55% -> 30% (floor 10 dB above the speech; 0 to 15 dB give
// about the same, see the package tests).
const (
	// highBandOffsetDB places the floor relative to the mean level of the
	// utterance's active frames.
	highBandOffsetDB = 10
	// highBandSeconds of floor are made once and repeated.
	highBandSeconds = 8
	// quietDBFS stands in for the speech level when no frame is active.
	quietDBFS = -60
)

var (
	highBandOnce  sync.Once
	highBandNoise []float64 // unit RMS, 4-8 kHz, at 16 kHz
)

// highBand returns the shared noise floor: white noise from a fixed seed
// less its own 0-4 kHz part, scaled to unit RMS.
func highBand() []float64 {
	highBandOnce.Do(func() {
		rng := rand.New(rand.NewPCG(0x766f78, 0x666c6f77))
		n := make([]int16, highBandSeconds*2*Rate)
		for i := range n {
			n[i] = int16(max(-32768, min(32767, rng.NormFloat64()*4000)))
		}
		low := wav.Resample(wav.Resample(n, 2*Rate, Rate), Rate, 2*Rate)
		out := make([]float64, len(n))
		var sum float64
		for i := range n {
			out[i] = float64(n[i]) - float64(low[i])
			sum += out[i] * out[i]
		}
		rms := math.Sqrt(sum / float64(len(out)))
		for i := range out {
			out[i] /= rms
		}
		highBandNoise = out
	})
	return highBandNoise
}

// activeLevel is the mean level (dBFS) of pcm's frames above the gate.
func activeLevel(pcm []int16) float64 {
	var sum float64
	n := 0
	for _, l := range audio.FrameLevels(pcm) {
		if l > gateDBFS {
			sum += l
			n++
		}
	}
	if n == 0 {
		return quietDBFS
	}
	return sum / float64(n)
}

// to16k pads 8 kHz audio with silence on both sides, resamples it to the
// model's 16 kHz and fills the empty band above 4 kHz with the noise
// floor; the sum is scaled down as a whole if it would clip.
func to16k(pcm []int16) []int16 {
	padded := make([]int16, len(pcm)+2*padSamples)
	copy(padded[padSamples:], pcm)
	speech := wav.Resample(padded, Rate, 2*Rate)
	// RMS of a full-scale sine is 32767/sqrt(2) at 0 dBFS.
	rms := 32767 / math.Sqrt2 * math.Pow(10, (activeLevel(pcm)+highBandOffsetDB)/20)
	noise := highBand()
	mixed := make([]float64, len(speech))
	peak := 0.0
	for i, s := range speech {
		v := float64(s) + rms*noise[i%len(noise)]
		mixed[i] = v
		peak = max(peak, math.Abs(v))
	}
	scale := 1.0
	if peak > 32767 {
		scale = 32767 / peak
	}
	out := make([]int16, len(mixed))
	for i, v := range mixed {
		out[i] = int16(math.Round(v * scale))
	}
	return out
}
