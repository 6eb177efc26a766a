package audio_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/dtmf"
	"github.com/voxflow/voxflow/media/g711"
)

// line passes pcm through µ-law, as a phone line delivers it.
func line(pcm []int16) []int16 {
	enc := make([]byte, len(pcm))
	g711.EncodeULaw(enc, pcm)
	out := make([]int16, len(pcm))
	g711.DecodeULaw(out, enc)
	return out
}

func cat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// whiteNoise is n ms of Gaussian noise of the given RMS.
func whiteNoise(ms int, rms float64, seed uint64) []int16 {
	rng := rand.New(rand.NewPCG(seed, 7))
	out := make([]int16, ms*8)
	for i := range out {
		out[i] = int16(max(-32768, min(32767, rng.NormFloat64()*rms)))
	}
	return out
}

// beeps feeds pcm in chunks of the given size and returns the beeps heard.
func beeps(pcm []int16, chunk int) []audio.HeardBeep {
	d := audio.NewBeepDetector(audio.BeepConfig{})
	var out []audio.HeardBeep
	for i := 0; i < len(pcm); i += chunk {
		if b, ok := d.Process(pcm[i:min(i+chunk, len(pcm))]); ok {
			out = append(out, b)
		}
	}
	return out
}

func TestBeepDetectorTones(t *testing.T) {
	cases := []struct {
		name      string
		hz        float64
		ms, lead  int
		noiseRMS  float64
		wantBeeps int
	}{
		{"440 Hz", 440, 400, 500, 0, 1},
		{"1000 Hz", 1000, 400, 510, 0, 1},
		{"2000 Hz", 2000, 400, 505, 0, 1},
		{"1400 Hz, short", 1400, 200, 300, 0, 1},
		{"850 Hz, just long enough", 850, 150, 300, 0, 1},
		{"1000 Hz, 10 dB above noise", 1000, 400, 500, 700, 1},
		{"1000 Hz, too short", 1000, 100, 300, 0, 0},
		{"300 Hz, below the band", 300, 400, 300, 0, 0},
		{"2500 Hz, above the band", 2500, 400, 300, 0, 0},
		{"1000 Hz, too quiet", 1000, 400, 300, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			level := -20.0
			if c.name == "1000 Hz, too quiet" {
				level = -50
			}
			pcm := cat(silence(c.lead), audio.Tone(c.hz, c.ms, level), silence(500))
			if c.noiseRMS > 0 {
				pcm = audio.Mix(pcm, whiteNoise(len(pcm)/8, c.noiseRMS, 1))
			}
			pcm = line(pcm)
			for _, chunk := range []int{160, 240, 77, len(pcm)} {
				got := beeps(pcm, chunk)
				if len(got) != c.wantBeeps {
					t.Fatalf("chunks of %d: beeps %+v, want %d", chunk, got, c.wantBeeps)
				}
				if c.wantBeeps == 0 {
					continue
				}
				b := got[0]
				if math.Abs(b.Hz-c.hz) > 15 {
					t.Errorf("heard %.1f Hz, want %v", b.Hz, c.hz)
				}
				// Within a frame of the truth, at either end.
				if b.StartMs < c.lead-20 || b.StartMs > c.lead+20 || b.EndMs < c.lead+c.ms-20 || b.EndMs > c.lead+c.ms+20 {
					t.Errorf("beep %d..%d ms, want %d..%d", b.StartMs, b.EndMs, c.lead, c.lead+c.ms)
				}
			}
		})
	}
}

// TestBeepDetectorIgnoresSpeech: vowels are periodic, yet no spoken
// greeting, noise, silence or key tone is a beep.
func TestBeepDetectorIgnoresSpeech(t *testing.T) {
	texts := []string{
		"Hello?",
		"Hi, this is Ann.",
		"Hi, you have reached the voicemail of Sam. Please leave a message after the tone.",
		"You have reached 4 1 5 5 5 5 0 1 0 0",
		"Noooo. Weeee. Laaaa. Mooooo. Yeeees. Hellooooooo?",
	}
	for _, v := range []string{"en-us", "en-gb", "en-us+f3", "en-us+f5", "en+f2"} {
		for _, text := range texts {
			pcm := cat(silence(200), speak(t, v, text), silence(500))
			if got := beeps(pcm, 160); len(got) != 0 {
				t.Errorf("%q by %s: heard beeps %+v", text, v, got)
			}
		}
	}
	dualTone := audio.Mix(audio.Tone(440, 2000, -20), audio.Tone(480, 2000, -20)) // US ringback
	for name, pcm := range map[string][]int16{
		"white noise":   whiteNoise(3000, 3000, 2),
		"silence":       silence(3000),
		"key 5 (DTMF)":  cat(silence(100), dtmf.Generate('5', 400, -10, 0, 0), silence(300)),
		"ringback tone": dualTone,
	} {
		if got := beeps(line(pcm), 160); len(got) != 0 {
			t.Errorf("%s: heard beeps %+v", name, got)
		}
	}
}

func TestBeepDetectorInTone(t *testing.T) {
	d := audio.NewBeepDetector(audio.BeepConfig{})
	d.Process(silence(200))
	d.Process(audio.Tone(1000, 100, -20))
	if d.InTone() {
		t.Fatal("in a beep after 100 ms of tone")
	}
	d.Process(audio.Tone(1000, 200, -20)[:800])
	if !d.InTone() {
		t.Fatal("not in a beep after 200 ms of tone")
	}
	if _, ok := d.Process(silence(40)); !ok || d.InTone() || d.Beeps() != 1 {
		t.Fatalf("the tone's end: beeps %d, in tone %v", d.Beeps(), d.InTone())
	}
}

// FuzzBeepDetector: any audio, in any chunks, gives beeps in the band that
// end after they start, in order.
func FuzzBeepDetector(f *testing.F) {
	f.Add(make([]byte, 640), uint8(160))
	tone := audio.Tone(1000, 300, -10)
	raw := make([]byte, 2*len(tone))
	for i, v := range tone {
		raw[2*i], raw[2*i+1] = byte(v), byte(v>>8)
	}
	f.Add(raw, uint8(37))
	f.Fuzz(func(t *testing.T, raw []byte, chunk uint8) {
		pcm := make([]int16, len(raw)/2)
		for i := range pcm {
			pcm[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		pcm = append(pcm, silence(40)...) // let a tone at the end end
		step := max(1, int(chunk))
		lastEnd := 0
		for _, b := range beeps(pcm, step) {
			if b.Hz < 400 || b.Hz > 2100 || b.StartMs < 0 || b.EndMs-b.StartMs < 140 || b.StartMs < lastEnd || b.EndMs > len(pcm)/8 {
				t.Fatalf("beep %+v (after one ending at %d, in %d ms of audio)", b, lastEnd, len(pcm)/8)
			}
			lastEnd = b.EndMs
		}
	})
}

// BenchmarkBeepDetector: the cost of one second of audio (50 frames) of
// speech-like noise, the detector's usual input.
func BenchmarkBeepDetector(b *testing.B) {
	pcm := line(whiteNoise(1000, 3000, 3))
	d := audio.NewBeepDetector(audio.BeepConfig{})
	b.SetBytes(int64(2 * len(pcm)))
	for b.Loop() {
		for i := 0; i < len(pcm); i += 160 {
			d.Process(pcm[i : i+160])
		}
	}
}
