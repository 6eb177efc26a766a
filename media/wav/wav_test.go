package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/g711"
)

// fmtSpec describes a WAV file to synthesise in tests.
type fmtSpec struct {
	tag        uint16
	bits       int
	channels   int
	rate       int
	extensible bool
}

// encodeSample stores v in [-1, 1] in the spec's sample format.
func encodeSample(s fmtSpec, v float64) []byte {
	i16 := int16(math.Round(v * 32767))
	switch s.tag {
	case FormatULaw:
		return []byte{g711.LinearToULaw(i16)}
	case FormatALaw:
		return []byte{g711.LinearToALaw(i16)}
	case FormatFloat:
		if s.bits == 32 {
			return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v)))
		}
		return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
	}
	switch s.bits {
	case 8:
		return []byte{byte(int(math.Round(v*127)) + 128)}
	case 16:
		return binary.LittleEndian.AppendUint16(nil, uint16(i16))
	case 24:
		x := int32(math.Round(v * 8388607))
		return []byte{byte(x), byte(x >> 8), byte(x >> 16)}
	default:
		return binary.LittleEndian.AppendUint32(nil, uint32(int32(math.Round(v*2147483647))))
	}
}

// buildWAV synthesises a WAV file; gen(ch, i) gives channel ch's sample i.
func buildWAV(s fmtSpec, frames int, gen func(ch, i int) float64, extraChunks ...[]byte) []byte {
	le := binary.LittleEndian
	var fmtChunk []byte
	blockAlign := s.channels * s.bits / 8
	tag := s.tag
	if s.extensible {
		tag = FormatExtensible
	}
	fmtChunk = le.AppendUint16(fmtChunk, tag)
	fmtChunk = le.AppendUint16(fmtChunk, uint16(s.channels))
	fmtChunk = le.AppendUint32(fmtChunk, uint32(s.rate))
	fmtChunk = le.AppendUint32(fmtChunk, uint32(s.rate*blockAlign))
	fmtChunk = le.AppendUint16(fmtChunk, uint16(blockAlign))
	fmtChunk = le.AppendUint16(fmtChunk, uint16(s.bits))
	if s.extensible {
		fmtChunk = le.AppendUint16(fmtChunk, 22)
		fmtChunk = le.AppendUint16(fmtChunk, uint16(s.bits))
		fmtChunk = le.AppendUint32(fmtChunk, 0) // channel mask
		fmtChunk = le.AppendUint16(fmtChunk, s.tag)
		fmtChunk = append(fmtChunk, guidSuffix[:]...)
	}
	var data []byte
	for i := range frames {
		for c := range s.channels {
			data = append(data, encodeSample(s, gen(c, i))...)
		}
	}
	var body []byte
	body = append(body, "WAVE"...)
	body = append(body, "fmt "...)
	body = le.AppendUint32(body, uint32(len(fmtChunk)))
	body = append(body, fmtChunk...)
	for _, c := range extraChunks {
		body = append(body, c...)
	}
	body = append(body, "data"...)
	body = le.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	out := append([]byte("RIFF"), le.AppendUint32(nil, uint32(len(body)))...)
	return append(out, body...)
}

func sine(freq float64, rate int, amp float64) func(ch, i int) float64 {
	return func(_, i int) float64 { return amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)) }
}

// toneLevel returns the amplitude of freq in pcm (rate 8000) by correlation,
// ignoring the first and last 20 ms (filter edges).
func toneLevel(pcm []int16, freq float64) float64 {
	var re, im float64
	n := 0
	for i := 160; i < len(pcm)-160; i++ {
		ph := 2 * math.Pi * freq * float64(i) / Rate
		re += float64(pcm[i]) * math.Cos(ph)
		im += float64(pcm[i]) * math.Sin(ph)
		n++
	}
	return 2 * math.Hypot(re, im) / float64(n) / 32767
}

func rms(pcm []int16) float64 {
	var s float64
	for _, v := range pcm[160 : len(pcm)-160] {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s/float64(len(pcm)-320)) / 32767
}

func TestReadFormats(t *testing.T) {
	tests := []struct {
		name string
		spec fmtSpec
		tol  float64 // allowed amplitude error of the 1 kHz tone at 0.5
	}{
		{"pcm16 mono 8k", fmtSpec{FormatPCM, 16, 1, 8000, false}, 0.002},
		{"pcm8 mono 8k", fmtSpec{FormatPCM, 8, 1, 8000, false}, 0.01},
		{"pcm16 stereo 44.1k", fmtSpec{FormatPCM, 16, 2, 44100, false}, 0.005},
		{"pcm16 mono 48k", fmtSpec{FormatPCM, 16, 1, 48000, false}, 0.005},
		{"pcm16 mono 16k", fmtSpec{FormatPCM, 16, 1, 16000, false}, 0.005},
		{"pcm16 mono 22.05k", fmtSpec{FormatPCM, 16, 1, 22050, false}, 0.005},
		{"pcm16 mono 11.025k", fmtSpec{FormatPCM, 16, 1, 11025, false}, 0.005},
		{"pcm8 stereo 11.025k", fmtSpec{FormatPCM, 8, 2, 11025, false}, 0.01},
		{"pcm24 mono 96k", fmtSpec{FormatPCM, 24, 1, 96000, false}, 0.005},
		{"pcm32 stereo 32k", fmtSpec{FormatPCM, 32, 2, 32000, false}, 0.005},
		{"float32 mono 48k", fmtSpec{FormatFloat, 32, 1, 48000, false}, 0.005},
		{"float64 stereo 8k", fmtSpec{FormatFloat, 64, 2, 8000, false}, 0.002},
		{"ulaw mono 8k", fmtSpec{FormatULaw, 8, 1, 8000, false}, 0.01},
		{"alaw mono 8k", fmtSpec{FormatALaw, 8, 1, 8000, false}, 0.01},
		{"ulaw stereo 8k", fmtSpec{FormatULaw, 8, 2, 8000, false}, 0.01},
		{"extensible pcm16 stereo 48k", fmtSpec{FormatPCM, 16, 2, 48000, true}, 0.005},
		{"extensible float32 mono 44.1k", fmtSpec{FormatFloat, 32, 1, 44100, true}, 0.005},
		{"pcm16 6 channels 48k", fmtSpec{FormatPCM, 16, 6, 48000, false}, 0.005},
		{"pcm16 mono 7.35k (upsampling)", fmtSpec{FormatPCM, 16, 1, 7350, false}, 0.005},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames := tt.spec.rate / 2 // 500 ms
			b := buildWAV(tt.spec, frames, sine(1000, tt.spec.rate, 0.5))
			pcm, info, err := Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if info.Channels != tt.spec.channels || info.SampleRate != tt.spec.rate || info.BitsPerSample != tt.spec.bits || info.FormatTag != tt.spec.tag || info.Frames != frames || len(pcm) != frames {
				t.Fatalf("info = %+v (%s), len %d", info, info, len(pcm))
			}
			pcm8k, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if want := frames * Rate / tt.spec.rate; len(pcm8k) != want {
				t.Fatalf("8 kHz length = %d, want %d", len(pcm8k), want)
			}
			if lvl := toneLevel(pcm8k, 1000); math.Abs(lvl-0.5) > tt.tol {
				t.Fatalf("1 kHz amplitude %.4f, want 0.5±%.3f", lvl, tt.tol)
			}
		})
	}
}

func TestDownmixAverages(t *testing.T) {
	spec := fmtSpec{FormatPCM, 16, 2, 8000, false}
	b := buildWAV(spec, 4000, func(ch, i int) float64 {
		if ch == 0 {
			return 0.8 * math.Sin(2*math.Pi*1000*float64(i)/8000)
		}
		return 0
	})
	pcm, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if lvl := toneLevel(pcm, 1000); math.Abs(lvl-0.4) > 0.002 {
		t.Fatalf("left-only tone after downmix %.4f, want 0.4", lvl)
	}
}

func TestResampleAntiAliasing(t *testing.T) {
	tests := []struct {
		name     string
		rate     int
		freq     float64
		wantGain float64 // amplitude out / in
		tolDB    float64
	}{
		{"44.1k 3 kHz passes", 44100, 3000, 1, 0.1},
		{"48k 3.3 kHz passes", 48000, 3300, 1, 0.1},
		{"48k 3.4 kHz passes", 48000, 3400, 1, 0.5},
		{"16k 300 Hz passes", 16000, 300, 1, 0.1},
		{"22.05k 5 kHz removed", 22050, 5000, 0, 0},
		{"44.1k 4.5 kHz removed", 44100, 4500, 0, 0},
		{"48k 6 kHz removed (would alias to 2 kHz)", 48000, 6000, 0, 0},
		{"16k 7 kHz removed (would alias to 1 kHz)", 16000, 7000, 0, 0},
		{"96k 12 kHz removed", 96000, 12000, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make([]int16, tt.rate) // 1 s
			for i := range in {
				in[i] = int16(16000 * math.Sin(2*math.Pi*tt.freq*float64(i)/float64(tt.rate)))
			}
			out := Resample(in, tt.rate, 8000)
			if len(out) != 8000 {
				t.Fatalf("len %d", len(out))
			}
			gain := rms(out) * 32767 / (16000 / math.Sqrt2)
			if tt.wantGain == 0 {
				if db := 20 * math.Log10(gain+1e-12); db > -60 {
					t.Fatalf("out-of-band tone attenuated only %.1f dB, want <= -60 dB", db)
				}
				return
			}
			if db := 20 * math.Log10(gain); math.Abs(db) > tt.tolDB {
				t.Fatalf("pass-band gain %.3f dB, want 0±%.2f", db, tt.tolDB)
			}
		})
	}
}

func TestResampleSameRateCopies(t *testing.T) {
	in := []int16{1, 2, 3}
	out := Resample(in, 8000, 8000)
	out[0] = 9
	if in[0] != 1 {
		t.Fatal("Resample at the same rate aliased its input")
	}
}

func TestReadErrors(t *testing.T) {
	good := fmtSpec{FormatPCM, 16, 1, 8000, false}
	valid := buildWAV(good, 100, sine(440, 8000, 0.1))
	patch := func(off int, v []byte) []byte {
		b := append([]byte(nil), valid...)
		copy(b[off:], v)
		return b
	}
	u16 := func(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	tests := []struct {
		name    string
		in      []byte
		wantErr error
		wantMsg string
	}{
		{"empty", nil, ErrMalformed, "RIFF header"},
		{"not riff", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00 mp3 data"), ErrMalformed, "not a RIFF/WAVE"},
		{"rifx big endian", patch(0, []byte("RIFX")), ErrUnsupported, "little-endian"},
		{"ima adpcm", patch(20, u16(0x0011)), ErrUnsupported, "IMA ADPCM audio"},
		{"mp3 in wav", patch(20, u16(0x0055)), ErrUnsupported, "MPEG layer 3"},
		{"gsm", patch(20, u16(0x0031)), ErrUnsupported, "GSM 6.10"},
		{"12-bit pcm", patch(34, u16(12)), ErrUnsupported, "PCM with 12 bits per sample"},
		{"zero channels", patch(22, u16(0)), ErrUnsupported, "0 channels"},
		{"nine channels", patch(22, u16(9)), ErrUnsupported, "9 channels"},
		{"rate too low", patch(24, u32(1000)), ErrUnsupported, "sample rate 1000 Hz"},
		{"rate too high", patch(24, u32(1000000)), ErrUnsupported, "sample rate 1000000 Hz"},
		{"bad block align", patch(32, u16(3)), ErrMalformed, "block align 3"},
		{"short fmt", patch(16, u32(8)), ErrMalformed, "fmt chunk of 8 bytes"},
		{"no data chunk", valid[:36], ErrMalformed, "no data chunk"},
		{"data before fmt", []byte("RIFF\x00\x00\x00\x00WAVEdata\x00\x00\x00\x00"), ErrMalformed, "data chunk before fmt"},
		{"truncated chunk", append(append([]byte(nil), valid[:36]...), "LIST\xff\x00\x00\x00ab"...), ErrMalformed, `skipping "LIST"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestReadSkipsChunksAndToleratesStreamingSizes(t *testing.T) {
	spec := fmtSpec{FormatPCM, 16, 1, 8000, false}
	list := append([]byte("LIST\x05\x00\x00\x00INFOx"), 0) // odd size + pad byte
	b := buildWAV(spec, 800, sine(1000, 8000, 0.5), list)
	pcm, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) != 800 {
		t.Fatalf("len %d, want 800", len(pcm))
	}

	// A streaming writer's unknown data size (0xFFFFFFFF): data runs to EOF.
	i := bytes.Index(b, []byte("data"))
	copy(b[i+4:], []byte{0xFF, 0xFF, 0xFF, 0xFF})
	pcm2, err := Read(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(pcm, pcm2) {
		t.Fatal("unknown-size data chunk read differently")
	}

	// A truncated data chunk yields the whole frames present.
	pcm3, err := Read(bytes.NewReader(b[:len(b)-101]))
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm3) != 749 {
		t.Fatalf("truncated len %d, want 749", len(pcm3))
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriteRoundTrip(t *testing.T) {
	mono := make([]int16, 1234)
	for i := range mono {
		mono[i] = int16(i*37 - 20000)
	}
	var buf bytes.Buffer
	if err := Write(&buf, 8000, mono); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 44+2*len(mono) {
		t.Fatalf("size %d", buf.Len())
	}
	got, info, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if info.String() != "PCM 16-bit mono 8000 Hz" || !slicesEqual(got, mono) {
		t.Fatalf("round trip: %s, equal=%v", info, slicesEqual(got, mono))
	}

	// Stereo: caller left, agent right, shorter padded.
	left := []int16{1, 2, 3, 4}
	right := []int16{-1, -2}
	buf.Reset()
	if err := WriteStereo(&buf, 8000, left, right); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()[44:]
	want := []int16{1, -1, 2, -2, 3, 0, 4, 0}
	for i, w := range want {
		if g := int16(binary.LittleEndian.Uint16(raw[2*i:])); g != w {
			t.Fatalf("interleaved[%d] = %d, want %d", i, g, w)
		}
	}
	_, info, err = Decode(bytes.NewReader(buf.Bytes()))
	if err != nil || info.Channels != 2 || info.Frames != 4 {
		t.Fatalf("stereo decode: %+v %v", info, err)
	}

	for _, bad := range []struct {
		rate, ch int
	}{{0, 1}, {8000, 3}} {
		if err := checkParams(bad.rate, bad.ch); err == nil {
			t.Errorf("checkParams(%d, %d) accepted", bad.rate, bad.ch)
		}
	}
}

func TestStreamingWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(f, 8000, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 { // 50 frames of 20 ms
		frame := make([]int16, 320)
		for i := range 160 {
			frame[2*i] = 1000
			frame[2*i+1] = -1000
		}
		if err := w.WriteSamples(frame); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteSamples([]int16{1}); err == nil {
		t.Fatal("odd sample count accepted for stereo")
	}
	if w.Frames() != 8000 {
		t.Fatalf("Frames = %d", w.Frames())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := w.WriteSamples([]int16{1, 2}); err == nil {
		t.Fatal("write after Close accepted")
	}
	f.Close()
	b, _ := os.ReadFile(path)
	if got := binary.LittleEndian.Uint32(b[40:]); got != 32000 {
		t.Fatalf("data size %d, want 32000", got)
	}
	if got := binary.LittleEndian.Uint32(b[4:]); got != 32036 {
		t.Fatalf("RIFF size %d, want 32036", got)
	}
	pcm, info, err := Decode(bytes.NewReader(b))
	if err != nil || info.Frames != 8000 || pcm[100] != 0 {
		t.Fatalf("decode: %+v %v (downmix of ±1000 = %d)", info, err, pcm[100])
	}
}

func TestCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "prompt.wav")
	write := func(freq float64, mtime time.Time) {
		t.Helper()
		b := buildWAV(fmtSpec{FormatPCM, 16, 1, 16000, false}, 16000, sine(freq, 16000, 0.5))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	write(1000, t0)

	c := NewCache(0)
	a, err := c.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 8000 {
		t.Fatalf("len %d", len(a))
	}
	b, err := c.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if &a[0] != &b[0] {
		t.Fatal("second Load converted again instead of returning the cached PCM")
	}

	write(500, t0.Add(time.Second)) // replaced on disk
	d, err := c.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if &d[0] == &a[0] || toneLevel(d, 500) < 0.45 {
		t.Fatal("changed file was not converted again")
	}
	if c.Len() != 1 {
		t.Fatalf("Len = %d, want 1 (old version dropped)", c.Len())
	}

	// Concurrent loads share one conversion.
	c2 := NewCache(0)
	var wg sync.WaitGroup
	res := make([][]int16, 8)
	for i := range res {
		wg.Go(func() {
			p, err := c2.Load(path)
			if err != nil {
				t.Error(err)
			}
			res[i] = p
		})
	}
	wg.Wait()
	for _, p := range res[1:] {
		if &p[0] != &res[0][0] {
			t.Fatal("concurrent loads converted more than once")
		}
	}

	// Size bound: two 8000-sample files do not fit in 20000 bytes.
	other := filepath.Join(dir, "other.wav")
	if err := os.WriteFile(other, buildWAV(fmtSpec{FormatPCM, 16, 1, 8000, false}, 8000, sine(700, 8000, 0.3)), 0o644); err != nil {
		t.Fatal(err)
	}
	c3 := NewCache(20000)
	if _, err := c3.Load(path); err != nil {
		t.Fatal(err)
	}
	if _, err := c3.Load(other); err != nil {
		t.Fatal(err)
	}
	if c3.Len() != 1 {
		t.Fatalf("bounded cache holds %d files, want 1", c3.Len())
	}

	// Errors are reported with the path and not cached.
	bad := filepath.Join(dir, "bad.wav")
	os.WriteFile(bad, []byte("not audio at all"), 0o644)
	if _, err := c.Load(bad); err == nil || !strings.Contains(err.Error(), "bad.wav") || !errors.Is(err, ErrMalformed) {
		t.Fatalf("bad file: %v", err)
	}
	if _, err := c.Load(filepath.Join(dir, "missing.wav")); err == nil {
		t.Fatal("missing file loaded")
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []fmtSpec{
		{FormatPCM, 16, 1, 8000, false},
		{FormatPCM, 8, 2, 11025, false},
		{FormatPCM, 24, 1, 44100, false},
		{FormatFloat, 32, 2, 48000, true},
		{FormatULaw, 8, 1, 8000, false},
		{FormatALaw, 8, 1, 8000, true},
	} {
		b := buildWAV(s, 64, sine(1000, s.rate, 0.5), []byte("LIST\x03\x00\x00\x00abc\x00"))
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, in []byte) {
		pcm, info, err := Decode(bytes.NewReader(in))
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("error wraps neither ErrMalformed nor ErrUnsupported: %v", err)
			}
			return
		}
		if len(pcm) > len(in) || info.Frames != len(pcm) {
			t.Fatalf("%d samples from %d bytes (%+v)", len(pcm), len(in), info)
		}
		out, err := Read(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("Decode succeeded but Read failed: %v", err)
		}
		if want := int(int64(len(pcm)) * Rate / int64(info.SampleRate)); len(out) != want {
			t.Fatalf("resampled to %d samples, want %d", len(out), want)
		}
	})
}
