// Package g711 implements ITU-T G.711 µ-law (PCMU) and A-law (PCMA)
// companding between 16-bit linear PCM and 8-bit codes.
//
// The conversions follow the ITU-T G.191 software tool library reference
// (g711.c): µ-law works on 14-bit magnitudes with a bias of 33 (0x84 in
// 16-bit units), A-law on 13-bit magnitudes, and negative samples take their
// ones' complement before quantisation. Decoding is bit-identical to the
// classic Sun g711.c (and to sox); encoding differs from sign-magnitude
// encoders only for negative samples sitting exactly on a decision level. Decoding uses
// 256-entry tables; encoding uses tables indexed by the significant bits of
// the sample (the low 2 bits for µ-law and 3 bits for A-law never change the
// code), so every call is a table lookup.
package g711

const (
	ulawBias = 0x84  // 33 in 14-bit units, shifted to 16-bit
	ulawClip = 32635 // largest magnitude before the bias overflows the top segment
)

var (
	ulawDecode [256]int16
	alawDecode [256]int16
	ulawEncode [1 << 14]byte // indexed by uint16(sample) >> 2
	alawEncode [1 << 13]byte // indexed by uint16(sample) >> 3
)

func init() {
	for i := range 256 {
		ulawDecode[i] = ulawToLinear(byte(i))
		alawDecode[i] = alawToLinear(byte(i))
	}
	for i := range ulawEncode {
		ulawEncode[i] = linearToULaw(int16(uint16(i << 2)))
	}
	for i := range alawEncode {
		alawEncode[i] = linearToALaw(int16(uint16(i << 3)))
	}
}

// ULawToLinear decodes one µ-law code.
func ULawToLinear(u byte) int16 { return ulawDecode[u] }

// ALawToLinear decodes one A-law code.
func ALawToLinear(a byte) int16 { return alawDecode[a] }

// LinearToULaw encodes one 16-bit sample as µ-law.
func LinearToULaw(s int16) byte { return ulawEncode[uint16(s)>>2] }

// LinearToALaw encodes one 16-bit sample as A-law.
func LinearToALaw(s int16) byte { return alawEncode[uint16(s)>>3] }

// EncodeULaw encodes pcm into dst as µ-law and returns the number of samples
// encoded, min(len(dst), len(pcm)).
func EncodeULaw(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	dst, pcm = dst[:n], pcm[:n]
	for i, s := range pcm {
		dst[i] = ulawEncode[uint16(s)>>2]
	}
	return n
}

// DecodeULaw decodes µ-law src into dst and returns the number of samples
// decoded, min(len(dst), len(src)).
func DecodeULaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, u := range src {
		dst[i] = ulawDecode[u]
	}
	return n
}

// EncodeALaw encodes pcm into dst as A-law and returns the number of samples
// encoded, min(len(dst), len(pcm)).
func EncodeALaw(dst []byte, pcm []int16) int {
	n := min(len(dst), len(pcm))
	dst, pcm = dst[:n], pcm[:n]
	for i, s := range pcm {
		dst[i] = alawEncode[uint16(s)>>3]
	}
	return n
}

// DecodeALaw decodes A-law src into dst and returns the number of samples
// decoded, min(len(dst), len(src)).
func DecodeALaw(dst []int16, src []byte) int {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i, a := range src {
		dst[i] = alawDecode[a]
	}
	return n
}

// linearToULaw is the reference G.711 µ-law encoder used to build the table.
func linearToULaw(s int16) byte {
	v := int32(s)
	var sign int32
	if v < 0 {
		sign = 0x80
		v = ^v // ones' complement, as in G.191
	}
	v = min(v, ulawClip)
	v += ulawBias
	exp := int32(7)
	for mask := int32(0x4000); v&mask == 0 && exp > 0; mask >>= 1 {
		exp--
	}
	mant := (v >> (exp + 3)) & 0x0F
	return ^byte(sign | exp<<4 | mant)
}

// ulawToLinear is the reference G.711 µ-law decoder used to build the table.
func ulawToLinear(u byte) int16 {
	u = ^u
	t := (int32(u&0x0F)<<3 + ulawBias) << ((u & 0x70) >> 4)
	if u&0x80 != 0 {
		return int16(ulawBias - t)
	}
	return int16(t - ulawBias)
}

// alawSegEnd holds the upper bound of each A-law segment in 13-bit units.
var alawSegEnd = [8]int32{0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF}

// linearToALaw is the reference G.711 A-law encoder used to build the table.
func linearToALaw(s int16) byte {
	v := int32(s) >> 3
	var mask byte
	if v >= 0 {
		mask = 0xD5 // sign bit set, even bits inverted
	} else {
		mask = 0x55
		v = -v - 1
	}
	seg := 0
	for seg < 8 && v > alawSegEnd[seg] {
		seg++
	}
	if seg >= 8 {
		return 0x7F ^ mask
	}
	aval := byte(seg << 4)
	if seg < 2 {
		aval |= byte(v>>1) & 0x0F
	} else {
		aval |= byte(v>>seg) & 0x0F
	}
	return aval ^ mask
}

// alawToLinear is the reference G.711 A-law decoder used to build the table.
func alawToLinear(a byte) int16 {
	a ^= 0x55
	t := int32(a&0x0F) << 4
	switch seg := (a & 0x70) >> 4; seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}
