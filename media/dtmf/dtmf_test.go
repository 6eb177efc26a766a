package dtmf

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/wav"
)

const rate = 8000

func silence(ms int) []int16 { return make([]int16, ms*rate/1000) }

func concat(parts ...[]int16) []int16 {
	var out []int16
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// tonePair synthesises arbitrary row/column frequencies and levels (dBFS of
// a full-scale sine), for gates Generate cannot express.
func tonePair(fr, fc, lr, lc float64, ms int) []int16 {
	ar, ac := 32767*math.Pow(10, lr/20), 32767*math.Pow(10, lc/20)
	out := make([]int16, ms*rate/1000)
	for i := range out {
		t := float64(i) / rate
		out[i] = int16(math.Round(ar*math.Sin(2*math.Pi*fr*t) + ac*math.Sin(2*math.Pi*fc*t+1)))
	}
	return out
}

// addNoise adds white Gaussian noise at rmsDBFS (relative to a full-scale
// sine's RMS) to pcm.
func addNoise(pcm []int16, rmsDBFS float64, seed uint64) []int16 {
	r := rand.New(rand.NewPCG(seed, 7))
	sigma := 32767 / math.Sqrt2 * math.Pow(10, rmsDBFS/20)
	out := make([]int16, len(pcm))
	for i, v := range pcm {
		out[i] = int16(max(-32768, min(32767, math.Round(float64(v)+r.NormFloat64()*sigma))))
	}
	return out
}

func detect(t *testing.T, pcm []int16) []Digit {
	t.Helper()
	d, err := NewDetector(rate)
	if err != nil {
		t.Fatal(err)
	}
	return append(d.Process(pcm), d.Flush()...)
}

func keys(ds []Digit) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteRune(d.Key)
	}
	return b.String()
}

func TestAllKeysNominalWithTiming(t *testing.T) {
	for _, k := range Keys {
		t.Run(string(k), func(t *testing.T) {
			got := detect(t, concat(silence(50), Generate(k, 100, -10, 0, 0), silence(50)))
			if len(got) != 1 || got[0].Key != k {
				t.Fatalf("got %v, want one %c", got, k)
			}
			// Tone is samples [400, 1200): edges within 10 ms.
			if d := got[0]; abs64(d.Start-400) > 80 || abs64(d.End-1200) > 80 {
				t.Fatalf("digit %v, want about [400,1200)", d)
			}
		})
	}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestFrequencyTolerance(t *testing.T) {
	tests := []struct {
		name           string
		rowOff, colOff float64
		want           bool
	}{
		{"both +1.5%", 0.015, 0.015, true},
		{"both -1.5%", -0.015, -0.015, true},
		{"row +1.5% col -1.5%", 0.015, -0.015, true},
		{"row -1.5% col +1.5%", -0.015, 0.015, true},
		{"both +3.5%", 0.035, 0.035, false},
		{"both -3.5%", -0.035, -0.035, false},
		{"row +3.5% only", 0.035, 0, false},
		{"row -3.5% only", -0.035, 0, false},
		{"col +3.5% only", 0, 0.035, false},
		{"col -3.5% only", 0, -0.035, false},
	}
	for _, tt := range tests {
		for i, k := range Keys {
			t.Run(fmt.Sprintf("%s/%c", tt.name, k), func(t *testing.T) {
				fr, fc := RowFreqs[i/4]*(1+tt.rowOff), ColFreqs[i%4]*(1+tt.colOff)
				got := detect(t, concat(silence(40), tonePair(fr, fc, -10, -12, 80), silence(40)))
				if tt.want && (len(got) != 1 || got[0].Key != k) {
					t.Fatalf("%.1f+%.1f Hz: got %v, want %c", fr, fc, got, k)
				}
				if !tt.want && len(got) != 0 {
					t.Fatalf("%.1f+%.1f Hz: got %v, want nothing", fr, fc, got)
				}
			})
		}
	}
	// Generate's frequency offset follows the same gates.
	for _, off := range []float64{-0.015, 0.015} {
		if got := keys(detect(t, concat(silence(40), Generate('D', 60, -10, 0, off), silence(40)))); got != "D" {
			t.Errorf("Generate D at %+.1f%%: got %q", off*100, got)
		}
	}
}

func TestTwist(t *testing.T) {
	// twistDB > 0: normal twist (high group weaker); < 0: reverse.
	tests := []struct {
		twist  float64
		offset float64
		want   bool
	}{
		{0, 0, true},
		{4, 0, true},
		{8, 0, true},
		{8, 0.015, true},
		{8, -0.015, true},
		{-4, 0, true},
		{-4, 0.015, true},
		{-4, -0.015, true},
		{10, 0, false},
		{12, 0, false},
		{-6, 0, false},
		{-8, 0, false},
	}
	for _, tt := range tests {
		for _, k := range Keys {
			t.Run(fmt.Sprintf("%+gdB_%+g/%c", tt.twist, tt.offset*100, k), func(t *testing.T) {
				got := detect(t, concat(silence(40), Generate(k, 80, -8, tt.twist, tt.offset), silence(40)))
				if tt.want && keys(got) != string(k) {
					t.Fatalf("got %v, want %c", got, k)
				}
				if !tt.want && len(got) != 0 {
					t.Fatalf("got %v, want nothing", got)
				}
			})
		}
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		level float64 // per tone, dBFS
		want  bool
	}{
		{-3, true},
		{-20, true},
		{-30, true},
		{-33, true},
		{-40, false},
		{-45, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.level), func(t *testing.T) {
			for _, k := range Keys {
				got := detect(t, concat(silence(40), Generate(k, 80, tt.level, 0, 0), silence(40)))
				if tt.want && keys(got) != string(k) {
					t.Fatalf("%c at %g dBFS: got %v", k, tt.level, got)
				}
				if !tt.want && len(got) != 0 {
					t.Fatalf("%c at %g dBFS: got %v, want nothing", k, tt.level, got)
				}
			}
		})
	}
}

// sequence builds digits of toneMs each separated by gapMs, returning the
// audio and the true start offsets.
func sequence(digits string, toneMs, gapMs int, level, twist float64) ([]int16, []int64) {
	pcm := silence(gapMs)
	var starts []int64
	for _, k := range digits {
		starts = append(starts, int64(len(pcm)))
		pcm = append(pcm, Generate(k, toneMs, level, twist, 0)...)
		pcm = append(pcm, silence(gapMs)...)
	}
	return pcm, starts
}

func TestFortyMillisecondTonesAndGaps(t *testing.T) {
	tests := []struct {
		name     string
		digits   string
		level    float64
		twist    float64
		noiseDB  float64 // 0: none; else noise RMS in dBFS
		wantKeys string
	}{
		{"all keys", Keys, -10, 0, 0, Keys},
		{"repeated key", "11115555", -10, 0, 0, "11115555"},
		{"quiet", "0123456789", -28, 0, 0, "0123456789"},
		{"twist 8 normal", "*#*#0909", -8, 8, 0, "*#*#0909"},
		{"twist 4 reverse", "ABCDDCBA", -10, -4, 0, "ABCDDCBA"},
		// -10 dBFS per tone = -7 dBFS pair power; noise at -27 dBFS RMS: SNR 20 dB.
		{"noise SNR 20 dB", Keys, -10, 0, -27, Keys},
		// SNR 12 dB in the full 4 kHz band.
		{"noise SNR 12 dB", "159D*0#", -10, 0, -19, "159D*0#"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pcm, starts := sequence(tt.digits, 40, 40, tt.level, tt.twist)
			if tt.noiseDB != 0 {
				pcm = addNoise(pcm, tt.noiseDB, 1)
			}
			got := detect(t, pcm)
			if keys(got) != tt.wantKeys {
				t.Fatalf("got %q (%v), want %q", keys(got), got, tt.wantKeys)
			}
			for i, d := range got {
				if abs64(d.Start-starts[i]) > 80 || abs64(d.End-(starts[i]+320)) > 80 {
					t.Errorf("digit %d = %v, want about [%d,%d)", i, d, starts[i], starts[i]+320)
				}
			}
		})
	}
}

func TestChunkingDoesNotMatter(t *testing.T) {
	pcm, _ := sequence(Keys, 40, 40, -12, 2)
	pcm = addNoise(pcm, -30, 2)
	want := detect(t, pcm)
	r := rand.New(rand.NewPCG(3, 4))
	d, _ := NewDetector(rate)
	var got []Digit
	for rest := pcm; len(rest) > 0; {
		n := min(len(rest), 1+r.IntN(400))
		got = append(got, d.Process(rest[:n])...)
		rest = rest[n:]
	}
	got = append(got, d.Flush()...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("chunked %v\nwhole   %v", got, want)
	}
}

func TestActiveAndFlush(t *testing.T) {
	d, _ := NewDetector(rate)
	if got := d.Process(concat(silence(20), Generate('9', 200, -10, 0, 0))); len(got) != 0 {
		t.Fatalf("digit reported before it ended: %v", got)
	}
	if k, start, ok := d.Active(); !ok || k != '9' || abs64(start-160) > 80 {
		t.Fatalf("Active = %c %d %v, want 9 near 160", k, start, ok)
	}
	got := d.Flush()
	if keys(got) != "9" {
		t.Fatalf("Flush = %v", got)
	}
	if _, _, ok := d.Active(); ok {
		t.Fatal("still active after Flush")
	}
	// Offsets continue after Flush.
	got = append(d.Process(concat(silence(50), Generate('4', 60, -10, 0, 0), silence(50))), d.Flush()...)
	if keys(got) != "4" || got[0].Start < 1600+400-80 {
		t.Fatalf("after Flush: %v", got)
	}
}

func TestRejectsNonDTMF(t *testing.T) {
	sine := func(f, level float64, ms int) []int16 { return tonePair(f, f, level-6, -200, ms) }
	tests := []struct {
		name string
		pcm  []int16
	}{
		{"white noise -10 dBFS", addNoise(silence(5000), -10, 5)},
		{"white noise -30 dBFS", addNoise(silence(5000), -30, 6)},
		{"row tone only", sine(770, -6, 500)},
		{"column tone only", sine(1336, -6, 500)},
		{"dial tone 350+440", tonePair(350, 440, -10, -10, 500)},
		{"ringback 440+480", tonePair(440, 480, -10, -10, 500)},
		{"busy 480+620", tonePair(480, 620, -10, -10, 500)},
		{"beep 1000 Hz", sine(1000, -6, 500)},
		{"two rows and a column", func() []int16 {
			a, b := tonePair(697, 1209, -10, -10, 300), tonePair(852, 3000, -12, -200, 300)
			for i := range a {
				a[i] += b[i]
			}
			return a
		}()},
		{"digit with strong 2nd harmonic", func() []int16 {
			a, b := tonePair(941, 1336, -10, -10, 300), tonePair(2672, 1882, -16, -200, 300)
			for i := range a {
				a[i] += b[i]
			}
			return a
		}()},
		{"tone pair in loud noise (SNR 3 dB)", addNoise(tonePair(852, 1477, -10, -10, 300), -10, 8)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := detect(t, tt.pcm); len(got) != 0 {
				t.Fatalf("detected %v", got)
			}
		})
	}
}

func TestOtherSampleRate(t *testing.T) {
	d, err := NewDetector(16000)
	if err != nil {
		t.Fatal(err)
	}
	pcm := concat(make([]int16, 800), GenerateRate(16000, '#', 60, -10, 4, 0.01), make([]int16, 800), GenerateRate(16000, '2', 60, -10, 0, 0), make([]int16, 800))
	if got := keys(append(d.Process(pcm), d.Flush()...)); got != "#2" {
		t.Fatalf("16 kHz: got %q", got)
	}
	if _, err := NewDetector(4000); err == nil {
		t.Fatal("4 kHz accepted")
	}
}

func TestGenerateAndFrequencies(t *testing.T) {
	if Generate('X', 100, -10, 0, 0) != nil || Generate('1', 0, -10, 0, 0) != nil {
		t.Fatal("Generate accepted a bad key or length")
	}
	if _, _, err := Frequencies('X'); err == nil {
		t.Fatal("Frequencies accepted X")
	}
	if r, c, err := Frequencies('a'); err != nil || r != 697 || c != 1633 {
		t.Fatalf("Frequencies(a) = %v %v %v", r, c, err)
	}
	pcm := Generate('1', 100, -6, 3, 0)
	if len(pcm) != 800 {
		t.Fatalf("len %d", len(pcm))
	}
	// Peak of the pair is below the sum of the two amplitudes.
	var peak int16
	for _, v := range pcm {
		peak = max(peak, v)
	}
	if want := 32767 * (math.Pow(10, -6.0/20) + math.Pow(10, -9.0/20)); float64(peak) > want+1 || float64(peak) < 0.9*want {
		t.Fatalf("peak %d, want about %.0f", peak, want)
	}
}

// TestTalkOff runs the detector over about a minute of synthesised speech
// (espeak-ng, several voices, languages, pitches and speeds, at loud and
// normal levels and through a µ-law round trip) and requires zero digits.
func TestTalkOff(t *testing.T) {
	espeak, err := exec.LookPath("espeak-ng")
	if err != nil {
		t.Fatal("espeak-ng is not installed: the DTMF talk-off test needs it to synthesise its speech corpus; run scripts/test (which installs it), or apt-get install espeak-ng")
	}
	corpus := []struct{ voice, speed, pitch, text string }{
		{"en-us", "160", "50", "Thank you for calling. Please listen carefully, as our menu options have changed. For billing, press one. For technical support, press two."},
		{"en-gb", "150", "30", "Zero one two three four five six seven eight nine. My account number is four four seven, nine nine two, one three zero."},
		{"en-us+f3", "170", "70", "Hello? Hello, can you hear me? I would like to speak to an agent about my order, it has not arrived yet and I am waiting."},
		{"en-us+m3", "140", "20", "Ohhhhhh. Aaaaaah. Eeeeeee. Mmmmmmm. Noooooo. Yes, yes, yes. Hmm, let me think about that for a moment."},
		{"en-gb-x-rp", "180", "60", "The quick brown fox jumps over the lazy dog, while seven silent sheep sleep soundly beneath the shining stars."},
		{"en-us+f2", "130", "90", "Operator! Operator! I need help right now. Please transfer me to customer service, this is urgent."},
		{"de", "150", "50", "Guten Tag, vielen Dank für Ihren Anruf. Eins, zwei, drei, vier, fünf, sechs, sieben, acht, neun, null."},
		{"fr", "150", "50", "Bonjour, merci de votre appel. Un, deux, trois, quatre, cinq, six, sept, huit, neuf, zéro. Au revoir."},
		{"es", "160", "40", "Buenos días, gracias por llamar. Uno, dos, tres, cuatro, cinco, seis, siete, ocho, nueve, cero."},
		{"it", "150", "80", "Buongiorno, grazie per aver chiamato. La preghiamo di attendere in linea, un operatore risponderà al più presto."},
	}
	dir := t.TempDir()
	var speech []int16
	for i, c := range corpus {
		path := filepath.Join(dir, fmt.Sprintf("s%d.wav", i))
		cmd := exec.Command(espeak, "-v", c.voice, "-s", c.speed, "-p", c.pitch, "-w", path, c.text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("espeak-ng -v %s: %v: %s", c.voice, err, out)
		}
		pcm, err := wav.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		speech = append(speech, pcm...)
	}
	if secs := float64(len(speech)) / rate; secs < 30 {
		t.Fatalf("talk-off corpus is only %.1f s of speech, want at least 30 s", secs)
	}

	t.Logf("talk-off corpus: %.1f s of speech from %d voices", float64(len(speech))/rate, len(corpus))

	// Versions: as synthesised, normalised to a -1 dBFS peak (hot line),
	// 20 dB quieter, and through µ-law companding.
	var peak int
	for _, v := range speech {
		peak = max(peak, int(v), -int(v))
	}
	scaled := func(gain float64) []int16 {
		out := make([]int16, len(speech))
		for i, v := range speech {
			out[i] = int16(max(-32768, min(32767, math.Round(float64(v)*gain))))
		}
		return out
	}
	hot := scaled(32767 * math.Pow(10, -1.0/20) / float64(peak))
	ulaw := make([]byte, len(hot))
	g711.EncodeULaw(ulaw, hot)
	companded := make([]int16, len(hot))
	g711.DecodeULaw(companded, ulaw)

	versions := []struct {
		name string
		pcm  []int16
	}{
		{"as synthesised", speech},
		{"normalised to -1 dBFS", hot},
		{"20 dB quieter", scaled(32767 * math.Pow(10, -21.0/20) / float64(peak))},
		{"µ-law round trip", companded},
	}
	for _, v := range versions {
		t.Run(v.name, func(t *testing.T) {
			if got := detect(t, v.pcm); len(got) != 0 {
				t.Fatalf("talk-off: %d digits detected in %.1f s of speech: %v", len(got), float64(len(v.pcm))/rate, got)
			}
		})
	}

	// The same speech with digits mixed in still yields exactly the digits
	// (speech 10 dB below the tones).
	mix := scaled(32767 * math.Pow(10, -20.0/20) / float64(peak))[:rate*4]
	want := "3A7#"
	for i, k := range want {
		tone := Generate(k, 60, -10, 0, 0)
		at := (i + 1) * rate * 4 / 5
		for j, s := range tone {
			mix[at+j] = int16(max(-32768, min(32767, int(mix[at+j])+int(s))))
		}
	}
	if got := keys(detect(t, mix)); got != want {
		t.Fatalf("digits over speech: got %q, want %q", got, want)
	}
}

func BenchmarkDetector(b *testing.B) {
	pcm, _ := sequence("1234567890", 60, 60, -10, 0)
	pcm = addNoise(pcm, -40, 9)
	d, _ := NewDetector(rate)
	b.SetBytes(int64(2 * len(pcm)))
	b.ReportMetric(float64(len(pcm))/rate, "audio-s/op")
	for b.Loop() {
		for i := 0; i+160 <= len(pcm); i += 160 {
			d.Process(pcm[i : i+160])
		}
	}
}
