package audio

import "math"

// HoldMusicRef is the audio reference of the built-in hold music: a flow
// can play `audio: builtin:hold-music` with no audio file installed.
const HoldMusicRef = "builtin:hold-music"

// holdTune is a slow broken-chord progression (C, A minor, F, G), in Hz,
// one note per step: calm, clearly music, and far from DTMF frequencies'
// pairs so it never talks off a key press.
var holdTune = []float64{
	261.63, 329.63, 392.00, 329.63, // C
	220.00, 261.63, 329.63, 261.63, // Am
	174.61, 220.00, 261.63, 220.00, // F
	196.00, 246.94, 293.66, 246.94, // G
}

// HoldMusic returns about seconds of the built-in hold music at -24 dBFS:
// the tune repeated, each note 375 ms with a soft attack and decay and a
// quieter octave below it.
func HoldMusic(seconds int) []int16 {
	const noteMS = 375
	n := noteMS * Rate / 1000
	amp := 32767 * math.Pow(10, -24.0/20)
	notes := max(seconds*1000/noteMS, 1)
	out := make([]int16, 0, notes*n)
	for k := range notes {
		f := holdTune[k%len(holdTune)]
		for i := range n {
			t := float64(i) / Rate
			env := math.Min(1, float64(i)/(0.03*Rate)) * math.Exp(-2.5*t)
			v := amp * env * (math.Sin(2*math.Pi*f*t) + 0.35*math.Sin(math.Pi*f*t))
			out = append(out, saturate(math.Round(v)))
		}
	}
	return out
}
