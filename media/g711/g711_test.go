package g711

import (
	"math/rand/v2"
	"testing"
)

func TestKnownValues(t *testing.T) {
	// Reference points from the G.711 tables (decoded values in 16-bit
	// units: µ-law 14-bit values × 4, A-law 13-bit values × 8). The full
	// decode tables were also checked against sox during development.
	tests := []struct {
		name string
		law  string
		code byte
		pcm  int16
	}{
		{"ulaw +0", "u", 0xFF, 0},
		{"ulaw -0", "u", 0x7F, 0},
		{"ulaw smallest +", "u", 0xFE, 8},
		{"ulaw smallest -", "u", 0x7E, -8},
		{"ulaw max +", "u", 0x80, 32124},
		{"ulaw max -", "u", 0x00, -32124},
		{"ulaw seg 1 start", "u", 0xEF, 132},
		{"ulaw 0x90", "u", 0x90, 15996},
		{"ulaw 0xD5", "u", 0xD5, 716},
		{"alaw smallest +", "a", 0xD5, 8},
		{"alaw smallest -", "a", 0x55, -8},
		{"alaw max +", "a", 0xAA, 32256},
		{"alaw max -", "a", 0x2A, -32256},
		{"alaw 0xFF", "a", 0xFF, 848},
		{"alaw 0x80", "a", 0x80, 5504},
		{"alaw 0x90", "a", 0x90, 2752},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got int16
			if tt.law == "u" {
				got = ULawToLinear(tt.code)
			} else {
				got = ALawToLinear(tt.code)
			}
			if got != tt.pcm {
				t.Fatalf("decode(%#02x) = %d, want %d", tt.code, got, tt.pcm)
			}
		})
	}

	encodes := []struct {
		pcm        int16
		ulaw, alaw byte
	}{
		{0, 0xFF, 0xD5},
		{1, 0xFF, 0xD5},
		{-1, 0x7F, 0x55},
		{100, 0xF2, 0xD3},
		{-100, 0x73, 0x53}, // on a decision level: ones' complement rounds toward zero
		{-101, 0x72, 0x53},
		{1000, 0xCE, 0xFA},
		{-1000, 0x4E, 0x7A},
		{10000, 0x9C, 0xB6},
		{-10000, 0x1C, 0x36},
		{32767, 0x80, 0xAA},
		{-32768, 0x00, 0x2A},
	}
	for _, tt := range encodes {
		if got := LinearToULaw(tt.pcm); got != tt.ulaw {
			t.Errorf("LinearToULaw(%d) = %#02x, want %#02x", tt.pcm, got, tt.ulaw)
		}
		if got := LinearToALaw(tt.pcm); got != tt.alaw {
			t.Errorf("LinearToALaw(%d) = %#02x, want %#02x", tt.pcm, got, tt.alaw)
		}
	}
}

// step returns the quantisation step (in 16-bit units) of the segment a code
// belongs to.
func ulawStep(c byte) int { return 8 << ((^c >> 4) & 7) }

func alawStep(c byte) int {
	seg := int(((c ^ 0x55) >> 4) & 7)
	return 16 << max(seg-1, 0)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestRoundTripErrorBound(t *testing.T) {
	tests := []struct {
		name   string
		enc    func(int16) byte
		dec    func(byte) int16
		step   func(byte) int
		maxMag int // decoded magnitude of the top code
	}{
		{"ulaw", LinearToULaw, ULawToLinear, ulawStep, 32124},
		{"alaw", LinearToALaw, ALawToLinear, alawStep, 32256},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := -32768; i <= 32767; i++ {
				c := tt.enc(int16(i))
				d := int(tt.dec(c))
				err := abs(d - i)
				// Half a step, plus one for the ones' complement of
				// negative samples.
				bound := tt.step(c)/2 + 1
				if abs(i) > tt.maxMag+tt.step(c)/2 {
					// Beyond the top decision level the codec clips.
					if abs(d) != tt.maxMag {
						t.Fatalf("%d: decoded %d, want clipped to ±%d", i, d, tt.maxMag)
					}
					continue
				}
				if err > bound {
					t.Fatalf("%d -> %#02x -> %d: error %d > %d", i, c, d, err, bound)
				}
				if (i > 0 && d < 0) || (i < -1 && d > 0) {
					t.Fatalf("%d -> %d: sign flipped", i, d)
				}
			}
		})
	}
}

func TestAllCodesConsistent(t *testing.T) {
	tests := []struct {
		name string
		enc  func(int16) byte
		dec  func(byte) int16
		// exceptions maps codes that legitimately re-encode differently.
		exceptions map[byte]byte
	}{
		// µ-law has two zeros; -0 re-encodes as +0.
		{"ulaw", LinearToULaw, ULawToLinear, map[byte]byte{0x7F: 0xFF}},
		{"alaw", LinearToALaw, ALawToLinear, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for c := range 256 {
				want := byte(c)
				if e, ok := tt.exceptions[want]; ok {
					want = e
				}
				d := tt.dec(byte(c))
				if got := tt.enc(d); got != want {
					t.Errorf("enc(dec(%#02x)=%d) = %#02x, want %#02x", c, d, got, want)
				}
				// Symmetry: flipping the sign bit negates the value.
				if n := tt.dec(byte(c) ^ 0x80); n != -d {
					t.Errorf("dec(%#02x) = %d, dec(%#02x) = %d: not symmetric", c, d, c^0x80, n)
				}
			}
		})
	}
}

func TestSliceAPIsMatchSampleAPIs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pcm := make([]int16, 1000)
	for i := range pcm {
		pcm[i] = int16(r.IntN(65536) - 32768)
	}
	codes := make([]byte, len(pcm))
	back := make([]int16, len(pcm))

	tests := []struct {
		name   string
		encode func([]byte, []int16) int
		decode func([]int16, []byte) int
		enc    func(int16) byte
		dec    func(byte) int16
	}{
		{"ulaw", EncodeULaw, DecodeULaw, LinearToULaw, ULawToLinear},
		{"alaw", EncodeALaw, DecodeALaw, LinearToALaw, ALawToLinear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n := tt.encode(codes, pcm); n != len(pcm) {
				t.Fatalf("encode n = %d", n)
			}
			if n := tt.decode(back, codes); n != len(codes) {
				t.Fatalf("decode n = %d", n)
			}
			for i := range pcm {
				if codes[i] != tt.enc(pcm[i]) || back[i] != tt.dec(codes[i]) {
					t.Fatalf("sample %d mismatch", i)
				}
			}
			// Short destinations bound the work.
			if n := tt.encode(codes[:10], pcm); n != 10 {
				t.Fatalf("short encode n = %d, want 10", n)
			}
			if n := tt.decode(back[:7], codes); n != 7 {
				t.Fatalf("short decode n = %d, want 7", n)
			}
		})
	}
}

func BenchmarkCodec(b *testing.B) {
	pcm := make([]int16, 160) // one 20 ms frame at 8 kHz
	for i := range pcm {
		pcm[i] = int16((i*7919)%65536 - 32768)
	}
	codes := make([]byte, len(pcm))
	out := make([]int16, len(pcm))
	b.Run("EncodeULaw", func(b *testing.B) {
		b.SetBytes(int64(len(pcm) * 2))
		for b.Loop() {
			EncodeULaw(codes, pcm)
		}
	})
	b.Run("DecodeULaw", func(b *testing.B) {
		b.SetBytes(int64(len(codes)))
		for b.Loop() {
			DecodeULaw(out, codes)
		}
	})
	b.Run("EncodeALaw", func(b *testing.B) {
		b.SetBytes(int64(len(pcm) * 2))
		for b.Loop() {
			EncodeALaw(codes, pcm)
		}
	})
	b.Run("DecodeALaw", func(b *testing.B) {
		b.SetBytes(int64(len(codes)))
		for b.Loop() {
			DecodeALaw(out, codes)
		}
	})
}
