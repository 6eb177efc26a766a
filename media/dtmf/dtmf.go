// Package dtmf detects in-band DTMF (dual-tone multi-frequency) digits in
// linear PCM and generates DTMF tones. RFC 4733 telephone-events are handled
// elsewhere (media/rtp); this package only looks at audio.
//
// # Detector
//
// The detector analyses Hann-windowed 20 ms blocks every 5 ms. For each block
// it measures the eight DTMF frequencies with single-bin DFTs (Goertzel
// style) and, from the phase advance of each bin between successive blocks,
// estimates the true frequency of the strongest row and column tones. A block
// holds a digit when all of these gates pass (ITU-T Q.24 style):
//
//   - frequency: both tones within ±2.5% of nominal, so tones within ±1.5%
//     are accepted and tones ±3.5% off are rejected;
//   - level: each tone at least MinLevelDBFS (-36 dBFS, about -33 dBm0 for
//     µ-law, relative to a full-scale sine);
//   - twist: the high-group tone at most 8 dB weaker (normal twist, limit
//     MaxNormalTwistDB) or 4 dB stronger (reverse twist, MaxReverseTwistDB)
//     than the low-group tone, with 1 dB of measurement margin;
//   - purity: the two tones carry at least MinToneEnergyRatio of the block's
//     energy (rejects speech, music and noise);
//   - harmonics: the second harmonic of each tone at least
//     MinHarmonicRejectDB below it (speech is rich in harmonics; a DTMF
//     pair has none).
//
// A digit starts after three consecutive blocks agree and ends after three
// consecutive blocks without it, so tones and gaps of 40 ms are resolved.
// While a digit sounds, its blocks are held to relaxed level (-6 dB), twist
// (+2 dB) and purity (0.65) gates, so a tone near a limit does not flicker
// into several digits. Tones shorter than 40 ms (down to about 20 ms) may be
// detected too. Reported start and end offsets are accurate to
// about ±10 ms.
package dtmf

import (
	"errors"
	"fmt"
	"math"
)

// Keys lists the DTMF keys in keypad order.
const Keys = "123A456B789C*0#D"

// Nominal DTMF frequencies in Hz.
var (
	RowFreqs = [4]float64{697, 770, 852, 941}
	ColFreqs = [4]float64{1209, 1336, 1477, 1633}
)

// Detector gates; see the package documentation.
const (
	MinLevelDBFS        = -36.0
	MaxNormalTwistDB    = 8.0
	MaxReverseTwistDB   = 4.0
	twistMarginDB       = 1.0
	MaxFreqDeviation    = 0.025
	MinToneEnergyRatio  = 0.80
	MinHarmonicRejectDB = 15.0

	// Relaxed gates for a digit already sounding (hysteresis).
	holdLevelDB     = 6.0
	holdTwistDB     = 2.0
	holdEnergyRatio = 0.65
)

const (
	blockDur  = 0.020 // analysis window, seconds
	hopDur    = 0.005 // step between windows, seconds
	hitsToOn  = 3     // consecutive windows with the digit to start it
	missToOff = 3     // consecutive windows without it to end it
)

// Digit is one detected key press.
type Digit struct {
	Key rune // one of Keys
	// Start and End are sample offsets from the first sample given to the
	// detector (End exclusive).
	Start, End int64
}

// String formats the digit as key[start,end).
func (d Digit) String() string { return fmt.Sprintf("%c[%d,%d)", d.Key, d.Start, d.End) }

// keyAt returns the key for row r and column c.
func keyAt(r, c int) rune { return rune(Keys[r*4+c]) }

// bin holds a single-frequency DFT: Hann window times cos and sin.
type bin struct {
	freq     float64
	cos, sin []float64
}

func newBin(freq float64, rate, n int, win []float64) bin {
	b := bin{freq: freq, cos: make([]float64, n), sin: make([]float64, n)}
	for i := range n {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		b.cos[i] = win[i] * math.Cos(ph)
		b.sin[i] = win[i] * math.Sin(ph)
	}
	return b
}

func (b *bin) dft(x []float64) complex128 {
	var re, im float64
	c, s := b.cos[:len(x)], b.sin[:len(x)]
	for i, v := range x {
		re += v * c[i]
		im -= v * s[i]
	}
	return complex(re, im)
}

// Detector finds DTMF digits in a stream of mono PCM. It is not safe for
// concurrent use; use one per audio stream.
type Detector struct {
	rate    int
	n, hop  int
	win     []float64
	winSum  float64
	tones   [8]bin // rows then columns
	harm    [8]bin // second harmonics
	prev    [8]complex128
	hasPrev bool

	buf []float64 // samples not yet consumed; buf[0] is at offset pos
	pos int64

	// Run of consecutive windows holding the same candidate digit.
	cand      rune
	candCount int
	candStart int64

	active       rune
	start        int64
	lastHit      int64 // end of the last window holding the active digit
	misses       int
	strict, hold gates
}

// gates holds the thresholds classify applies.
type gates struct {
	minAmp      float64 // per tone, linear
	maxNormal   float64 // row/column amplitude ratio
	maxRev      float64 // column/row amplitude ratio
	energyRatio float64
}

// NewDetector returns a detector for mono 16-bit PCM at sampleRate Hz
// (8000 for telephony; at least 8000).
func NewDetector(sampleRate int) (*Detector, error) {
	if sampleRate < 8000 || sampleRate > 192000 {
		return nil, fmt.Errorf("dtmf: sample rate %d Hz not supported (8000 to 192000)", sampleRate)
	}
	n := int(math.Round(blockDur * float64(sampleRate)))
	d := &Detector{
		rate: sampleRate,
		n:    n,
		hop:  int(math.Round(hopDur * float64(sampleRate))),
		win:  make([]float64, n),
	}
	for i := range n {
		d.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(n))
		d.winSum += d.win[i]
	}
	for i, f := range append(RowFreqs[:], ColFreqs[:]...) {
		d.tones[i] = newBin(f, sampleRate, n, d.win)
		d.harm[i] = newBin(2*f, sampleRate, n, d.win)
	}
	db := func(v float64) float64 { return math.Pow(10, v/20) }
	d.strict = gates{
		minAmp:      32767 * db(MinLevelDBFS),
		maxNormal:   db(MaxNormalTwistDB + twistMarginDB),
		maxRev:      db(MaxReverseTwistDB + twistMarginDB),
		energyRatio: MinToneEnergyRatio,
	}
	d.hold = gates{
		minAmp:      32767 * db(MinLevelDBFS-holdLevelDB),
		maxNormal:   db(MaxNormalTwistDB + twistMarginDB + holdTwistDB),
		maxRev:      db(MaxReverseTwistDB + twistMarginDB + holdTwistDB),
		energyRatio: holdEnergyRatio,
	}
	return d, nil
}

// Process consumes the next samples of the stream and returns the digits
// that ended within them, in order. A digit still sounding at the end of pcm
// is reported by a later call (or by Flush).
func (d *Detector) Process(pcm []int16) []Digit {
	var out []Digit
	for _, s := range pcm {
		d.buf = append(d.buf, float64(s))
	}
	off := 0
	for len(d.buf)-off >= d.n {
		key, held := d.classify(d.buf[off : off+d.n])
		if dg, ok := d.step(key, held, d.pos+int64(off)); ok {
			out = append(out, dg)
		}
		off += d.hop
	}
	d.pos += int64(off)
	d.buf = append(d.buf[:0], d.buf[off:]...)
	return out
}

// Active reports the digit currently sounding, if one has started but not
// yet ended (useful for barge-in: stop a prompt as soon as a key goes down).
func (d *Detector) Active() (key rune, start int64, ok bool) {
	if d.active == 0 {
		return 0, 0, false
	}
	return d.active, d.start + d.edgeShift(), true
}

// Flush ends the stream: a digit still sounding is returned, ending at the
// last sample analysed, and the detector is reset to a fresh state (sample
// offsets continue).
func (d *Detector) Flush() []Digit {
	var out []Digit
	if d.active != 0 {
		out = append(out, d.digit())
	}
	d.pos += int64(len(d.buf))
	d.buf = d.buf[:0]
	d.active, d.cand, d.candCount, d.misses, d.hasPrev = 0, 0, 0, 0, false
	return out
}

// edgeShift moves reported edges inwards: windows that only partly overlap a
// tone still hold it, so the first hit window starts before the tone and the
// last one ends after it.
func (d *Detector) edgeShift() int64 { return int64(d.n / 4) }

func (d *Detector) digit() Digit {
	s := d.edgeShift()
	return Digit{Key: d.active, Start: d.start + s, End: max(d.lastHit-s, d.start+s+1)}
}

// step advances the on/off state machine with the key found in the window
// starting at offset at: key passed the strict gates, held the relaxed ones.
func (d *Detector) step(key, held rune, at int64) (Digit, bool) {
	if key != 0 && key == d.cand {
		d.candCount++
	} else {
		d.cand, d.candCount, d.candStart = key, 1, at
	}
	var (
		out   Digit
		ended bool
	)
	if d.active != 0 {
		if held == d.active {
			d.misses = 0
			d.lastHit = at + int64(d.n)
		} else if d.misses++; d.misses >= missToOff {
			out, ended = d.digit(), true
			d.active = 0
		}
	}
	if d.active == 0 && d.cand != 0 && d.candCount >= hitsToOn {
		d.active, d.start, d.lastHit, d.misses = d.cand, d.candStart, at+int64(d.n), 0
	}
	return out, ended
}

// hannGain is the Hann window's amplitude response at delta bins from its
// centre, relative to delta = 0.
func hannGain(delta float64) float64 {
	if math.Abs(delta) < 1e-9 {
		return 1
	}
	if math.Abs(math.Abs(delta)-1) < 1e-9 {
		return 0.5
	}
	x := math.Pi * delta
	return math.Abs(math.Sin(x) / x / (1 - delta*delta))
}

// classify returns the key one analysis window holds under the strict gates
// and under the relaxed (hold) gates, 0 for none.
func (d *Detector) classify(x []float64) (key, held rune) {
	var cur [8]complex128
	for i := range d.tones {
		cur[i] = d.tones[i].dft(x)
	}
	prev, hadPrev := d.prev, d.hasPrev
	d.prev, d.hasPrev = cur, true
	if !hadPrev {
		return 0, 0
	}

	// Strongest tone in each group.
	best := func(lo int) int {
		b := lo
		for i := lo + 1; i < lo+4; i++ {
			if cmplxAbs2(cur[i]) > cmplxAbs2(cur[b]) {
				b = i
			}
		}
		return b
	}
	r, c := best(0), best(4)

	// Amplitude of a tone from its bin, corrected for the window's
	// attenuation at the estimated frequency offset; ok is false when the
	// tone is too far from nominal.
	scale := 2 / d.winSum // |X| of a sine of amplitude A is A*winSum/2
	hopSec := float64(d.hop) / float64(d.rate)
	measure := func(i int) (amp, freq float64, ok bool) {
		f0 := d.tones[i].freq
		// Phase advance of the bin over one hop is 2π f hop (mod 2π).
		dph := phaseOf(cur[i] * conj(prev[i]))
		off := wrapPhase(dph-2*math.Pi*f0*hopSec) / (2 * math.Pi * hopSec)
		if math.Abs(off) > MaxFreqDeviation*f0 {
			return 0, 0, false
		}
		g := hannGain(off * float64(d.n) / float64(d.rate))
		return math.Sqrt(cmplxAbs2(cur[i])) * scale / g, f0 + off, true
	}
	ar, fr, ok := measure(r)
	if !ok {
		return 0, 0
	}
	ac, fc, ok := measure(c)
	if !ok {
		return 0, 0
	}
	// Second harmonics. The row's harmonic (1394-1704 Hz) can sit within
	// the window's main lobe of the column tone, which would leak into
	// it: check it only when clear of the measured column frequency.
	hr := math.Pow(10, -MinHarmonicRejectDB/20)
	if a := math.Sqrt(cmplxAbs2(d.harm[c].dft(x))) * scale; a > hr*ac {
		return 0, 0
	}
	if math.Abs(2*fr-fc) > 2.5*float64(d.rate)/float64(d.n) {
		if a := math.Sqrt(cmplxAbs2(d.harm[r].dft(x))) * scale; a > hr*ar {
			return 0, 0
		}
	}
	var p float64
	for i, v := range x {
		p += d.win[i] * v * v
	}
	p /= d.winSum
	k := keyAt(r, c-4)
	pass := func(g *gates) bool {
		return ar >= g.minAmp && ac >= g.minAmp &&
			// Twist: normal = column (high) weaker, reverse = stronger.
			ar <= ac*g.maxNormal && ac <= ar*g.maxRev &&
			// Purity: the two tones against the window's energy.
			(ar*ar+ac*ac)/2 >= g.energyRatio*p
	}
	if pass(&d.strict) {
		return k, k
	}
	if pass(&d.hold) {
		return 0, k
	}
	return 0, 0
}

func cmplxAbs2(z complex128) float64 { return real(z)*real(z) + imag(z)*imag(z) }
func conj(z complex128) complex128   { return complex(real(z), -imag(z)) }
func phaseOf(z complex128) float64   { return math.Atan2(imag(z), real(z)) }

func wrapPhase(p float64) float64 {
	p = math.Mod(p+math.Pi, 2*math.Pi)
	if p < 0 {
		p += 2 * math.Pi
	}
	return p - math.Pi
}

// ErrUnknownKey is returned for a key outside Keys.
var ErrUnknownKey = errors.New("dtmf: unknown key")

// Frequencies returns the row (low-group) and column (high-group)
// frequencies of key.
func Frequencies(key rune) (row, col float64, err error) {
	for i, k := range Keys {
		if k == key {
			return RowFreqs[i/4], ColFreqs[i%4], nil
		}
	}
	if key >= 'a' && key <= 'd' {
		return Frequencies(key - 'a' + 'A')
	}
	return 0, 0, fmt.Errorf("%w %q (want one of %s)", ErrUnknownKey, key, Keys)
}

// Generate returns ms milliseconds of the DTMF tone for key at 8000 Hz.
// levelDBFS is the low-group tone's level relative to a full-scale sine;
// the high-group tone is twistDB weaker (positive: normal twist) or
// stronger (negative: reverse twist). freqOffset shifts both frequencies by
// that fraction (0.015 is +1.5%). The sum is clipped to 16 bits. It returns
// nil for an unknown key.
func Generate(key rune, ms int, levelDBFS, twistDB, freqOffset float64) []int16 {
	return GenerateRate(8000, key, ms, levelDBFS, twistDB, freqOffset)
}

// GenerateRate is Generate at another sample rate.
func GenerateRate(rate int, key rune, ms int, levelDBFS, twistDB, freqOffset float64) []int16 {
	fr, fc, err := Frequencies(key)
	if err != nil || ms <= 0 || rate <= 0 {
		return nil
	}
	fr *= 1 + freqOffset
	fc *= 1 + freqOffset
	ar := 32767 * math.Pow(10, levelDBFS/20)
	ac := ar * math.Pow(10, -twistDB/20)
	out := make([]int16, ms*rate/1000)
	for i := range out {
		t := float64(i) / float64(rate)
		v := ar*math.Sin(2*math.Pi*fr*t) + ac*math.Sin(2*math.Pi*fc*t)
		out[i] = int16(max(-32768, min(32767, math.Round(v))))
	}
	return out
}
