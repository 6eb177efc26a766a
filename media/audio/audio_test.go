package audio

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func sine(freq float64, ms int, levelDBFS float64) []int16 {
	n := ms * Rate / 1000
	amp := 32767 * math.Pow(10, levelDBFS/20)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(math.Round(amp * math.Sin(2*math.Pi*freq*float64(i)/Rate)))
	}
	return out
}

func noise(ms int, rmsDBFS float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 1))
	sigma := 32767 / math.Sqrt2 * math.Pow(10, rmsDBFS/20)
	out := make([]int16, ms*Rate/1000)
	for i := range out {
		out[i] = saturate(math.Round(r.NormFloat64() * sigma))
	}
	return out
}

func silence(ms int) []int16 { return make([]int16, ms*Rate/1000) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestLevelDBFS(t *testing.T) {
	tests := []struct {
		name string
		pcm  []int16
		want float64
		tol  float64
	}{
		{"full-scale sine", sine(1000, 20, 0), 0, 0.05},
		{"-20 dBFS sine", sine(400, 20, -20), -20, 0.05},
		{"-45 dBFS sine", sine(1000, 20, -45), -45, 0.1},
		{"white noise -30", noise(1000, -30, 1), -30, 0.2},
		{"full-scale square", func() []int16 {
			s := make([]int16, 160)
			for i := range s {
				s[i] = 32767
				if i%8 < 4 {
					s[i] = -32767
				}
			}
			return s
		}(), 3.01, 0.05},
		{"silence", silence(20), MinDBFS, 0},
		{"empty", nil, MinDBFS, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LevelDBFS(tt.pcm); math.Abs(got-tt.want) > tt.tol {
				t.Fatalf("LevelDBFS = %.2f, want %.2f±%.2f", got, tt.want, tt.tol)
			}
		})
	}
	lv := FrameLevels(concat(sine(1000, 40, -10), silence(20), sine(1000, 10, -10)))
	if len(lv) != 3 || math.Abs(lv[0]+10) > 0.1 || lv[2] != MinDBFS {
		t.Fatalf("FrameLevels = %v", lv)
	}
}

func TestSilenceDetector(t *testing.T) {
	speech := func(ms int) []int16 { return noise(ms, -20, uint64(ms)) } // speech-like level
	lineNoise := func(ms int) []int16 { return noise(ms, -55, 99) }
	frame := func(ms int) int64 { return int64(ms * Rate / 1000) }
	tests := []struct {
		name string
		cfg  SilenceConfig
		pcm  []int16
		want []Event
	}{
		{
			name: "no input",
			pcm:  lineNoise(6000),
			want: []Event{{NoInput, frame(5000)}},
		},
		{
			name: "no input disabled",
			cfg:  SilenceConfig{NoInputMs: -1},
			pcm:  lineNoise(6000),
			want: nil,
		},
		{
			name: "speech then end of speech",
			pcm:  concat(lineNoise(500), speech(1000), lineNoise(2000)),
			want: []Event{{SpeechStart, frame(500)}, {SpeechEnd, frame(1500)}},
		},
		{
			name: "pause shorter than the silence timeout does not end speech",
			pcm:  concat(lineNoise(200), speech(600), lineNoise(1000), speech(600), lineNoise(1600)),
			want: []Event{{SpeechStart, frame(200)}, {SpeechEnd, frame(2400)}},
		},
		{
			name: "short silence timeout splits utterances",
			cfg:  SilenceConfig{SilenceMs: 500},
			pcm:  concat(lineNoise(200), speech(600), lineNoise(1000), speech(600), lineNoise(600)),
			want: []Event{{SpeechStart, frame(200)}, {SpeechEnd, frame(800)}, {SpeechStart, frame(1800)}, {SpeechEnd, frame(2400)}},
		},
		{
			name: "click is not speech",
			pcm:  concat(lineNoise(1000), speech(40), lineNoise(4200)),
			want: []Event{{NoInput, frame(5000)}},
		},
		{
			name: "speech late after no input",
			pcm:  concat(lineNoise(5200), speech(400), lineNoise(1600)),
			want: []Event{{NoInput, frame(5000)}, {SpeechStart, frame(5200)}, {SpeechEnd, frame(5600)}},
		},
		{
			name: "custom threshold ignores quiet speech",
			cfg:  SilenceConfig{ThresholdDBFS: -15, NoInputMs: 2000},
			pcm:  concat(speech(2500)),
			want: []Event{{NoInput, frame(2000)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewSilenceDetector(tt.cfg)
			got := d.Process(tt.pcm)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
			// Same result fed in odd-sized chunks.
			d2 := NewSilenceDetector(tt.cfg)
			var got2 []Event
			for rest := tt.pcm; len(rest) > 0; {
				n := min(len(rest), 77)
				got2 = append(got2, d2.Process(rest[:n])...)
				rest = rest[n:]
			}
			if fmt.Sprint(got2) != fmt.Sprint(tt.want) {
				t.Fatalf("chunked: got %v\nwant %v", got2, tt.want)
			}
		})
	}
}

func TestSilenceDetectorReset(t *testing.T) {
	d := NewSilenceDetector(SilenceConfig{NoInputMs: 1000})
	if got := d.Process(silence(1000)); len(got) != 1 || got[0].Type != NoInput {
		t.Fatalf("first prompt: %v", got)
	}
	d.Reset()
	if got := d.Process(silence(900)); len(got) != 0 {
		t.Fatalf("before second timeout: %v", got)
	}
	if got := d.Process(silence(100)); len(got) != 1 || got[0] != (Event{NoInput, 16000}) {
		t.Fatalf("second prompt: %v", got)
	}
	if d.Speaking() {
		t.Fatal("speaking in silence")
	}
	if c := d.Config(); c.SilenceMs != 1500 || c.ThresholdDBFS != -40 || c.MinSpeechMs != 60 {
		t.Fatalf("defaults not filled: %+v", c)
	}
}

func TestBeepAndTone(t *testing.T) {
	b := Beep()
	if len(b) != 1600 {
		t.Fatalf("beep length %d, want 1600 (200 ms)", len(b))
	}
	if b[0] != 0 || math.Abs(float64(b[len(b)-1])) > 200 {
		t.Fatalf("beep not faded: first %d last %d", b[0], b[len(b)-1])
	}
	if lv := LevelDBFS(b[400:1200]); math.Abs(lv+10) > 0.1 {
		t.Fatalf("beep level %.2f, want -10 dBFS", lv)
	}
	// 1000 Hz: 2 zero crossings per ms in the steady part.
	crossings := 0
	for i := 401; i < 1200; i++ {
		if (b[i-1] < 0) != (b[i] < 0) {
			crossings++
		}
	}
	if crossings < 198 || crossings > 202 {
		t.Fatalf("%d zero crossings in 100 ms, want about 200 for 1000 Hz", crossings)
	}
	if Tone(440, 0, -10) != nil {
		t.Fatal("zero-length tone")
	}
	if len(Tone(440, 3, 0)) != 24 {
		t.Fatal("short tone length")
	}
}

func TestInterleaveMixGain(t *testing.T) {
	if got := fmt.Sprint(Interleave([]int16{1, 2, 3}, []int16{-1})); got != "[1 -1 2 0 3 0]" {
		t.Fatalf("Interleave = %s", got)
	}
	if got := fmt.Sprint(Interleave(nil, []int16{5, 6})); got != "[0 5 0 6]" {
		t.Fatalf("Interleave = %s", got)
	}
	if got := fmt.Sprint(Mix([]int16{1, 30000, -30000}, []int16{2, 10000, -10000, 7})); got != "[3 32767 -32768 7]" {
		t.Fatalf("Mix = %s", got)
	}
	p := []int16{1000, -1000, 20000}
	Gain(p, 6.0206)
	if fmt.Sprint(p) != "[2000 -2000 32767]" {
		t.Fatalf("Gain = %v", p)
	}
}

func BenchmarkSilenceDetector(b *testing.B) {
	pcm := concat(noise(1000, -20, 1), noise(1000, -55, 2))
	d := NewSilenceDetector(SilenceConfig{})
	b.SetBytes(int64(2 * len(pcm)))
	for b.Loop() {
		for i := 0; i < len(pcm); i += FrameSamples {
			d.Process(pcm[i : i+FrameSamples])
		}
	}
}
