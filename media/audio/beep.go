package audio

import "math"

// Beep detection: the tone an answering machine plays when its greeting
// ends and recording starts. Voicemail beeps are a single steady sine,
// somewhere from 400 to 2100 Hz depending on the system, lasting a few
// hundred milliseconds.
//
// Each 20 ms frame is tested in two steps:
//
//  1. Its frequency is estimated from its autocorrelation at lags 1 and 2
//     (see sineHz): O(N), with no filter bank to sweep over the band,
//     and not biased by white noise.
//  2. A Goertzel filter (Hann-windowed) at that frequency measures the
//     tone's purity: the share of the frame's energy the sine holds. A
//     clean tone, even through µ-law, holds over 0.95; white noise a few
//     hundredths; speech rarely over 0.5, and never for long.
//
// Speech is the hard case: vowels are periodic, but their energy is spread
// over many harmonics of a pitch that moves, so no single sine holds most
// of it, and not steadily. A beep must therefore be pure in every frame,
// keep the same frequency frame after frame, and last MinMs.

// BeepConfig tunes a BeepDetector. Zero fields take the defaults.
type BeepConfig struct {
	// MinHz and MaxHz bound the beep's frequency (default 400 and 2100).
	// Below 400 Hz the first harmonics of voices dominate vowels.
	MinHz, MaxHz float64
	// MinMs is how long the tone must last (default 150), counted in
	// whole 20 ms frames that pass, less one frame for a tone that does
	// not start on a frame's edge.
	MinMs int
	// ThresholdDBFS: quieter frames are not tones (default -40).
	ThresholdDBFS float64
	// Purity is the share of a frame's energy the sine must hold
	// (default 0.7: a tone 10 dB above white noise passes; espeak-ng
	// voices never held it for more than 3 frames in a row).
	Purity float64
	// DriftHz is how far the frequency may move from the tone's first
	// frame (default 20).
	DriftHz float64
}

func (c BeepConfig) withDefaults() BeepConfig {
	defF := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	defF(&c.MinHz, 400)
	defF(&c.MaxHz, 2100)
	defF(&c.ThresholdDBFS, -40)
	defF(&c.Purity, 0.7)
	defF(&c.DriftHz, 20)
	if c.MinMs == 0 {
		c.MinMs = 150
	}
	return c
}

// HeardBeep is a tone the detector heard: its frequency and where it started
// and ended, in ms from the first audio fed.
type HeardBeep struct {
	Hz             float64
	StartMs, EndMs int
}

// BeepDetector finds beeps in 8 kHz audio fed in any chunk size. It is
// not safe for concurrent use.
type BeepDetector struct {
	cfg     BeepConfig
	pending []int16 // less than a frame, carried to the next Process

	elapsed int       // ms analysed
	runHz   float64   // frequency of the tone in progress (its first frame)
	runSum  float64   // sum of its frames' frequencies
	run     int       // its frames
	last    HeardBeep // the last beep that ended
	beeps   int
}

// NewBeepDetector returns a detector with cfg's zero fields defaulted.
func NewBeepDetector(cfg BeepConfig) *BeepDetector {
	return &BeepDetector{cfg: cfg.withDefaults()}
}

// Process analyses pcm and reports the beep that ended in it, if one did
// (the last one, should a chunk hold several). A beep ends on the first
// frame that is not its tone, so it is reported 20 ms after its end.
func (d *BeepDetector) Process(pcm []int16) (HeardBeep, bool) {
	before := d.beeps
	d.pending = append(d.pending, pcm...)
	n := 0
	for ; len(d.pending)-n >= FrameSamples; n += FrameSamples {
		d.step(d.pending[n : n+FrameSamples])
	}
	d.pending = d.pending[:copy(d.pending, d.pending[n:])]
	return d.last, d.beeps > before
}

// InTone reports whether the last frame was part of a tone long enough to
// be a beep (one that has not ended yet).
func (d *BeepDetector) InTone() bool { return d.long() }

// long reports whether the tone in progress is long enough to be a beep.
func (d *BeepDetector) long() bool { return d.run > 0 && (d.run+1)*FrameMs >= d.cfg.MinMs }

// Beeps is how many beeps have ended so far.
func (d *BeepDetector) Beeps() int { return d.beeps }

func (d *BeepDetector) step(frame []int16) {
	d.elapsed += FrameMs
	hz, ok := d.toneOf(frame)
	if ok && d.run > 0 && math.Abs(hz-d.runHz) <= d.cfg.DriftHz {
		d.run++
		d.runSum += hz
		return
	}
	d.endRun()
	if ok {
		d.run, d.runHz, d.runSum = 1, hz, hz
	}
}

// endRun closes the tone in progress before the current frame; long
// enough, it was a beep.
func (d *BeepDetector) endRun() {
	if d.long() {
		end := d.elapsed - FrameMs
		d.last = HeardBeep{Hz: d.runSum / float64(d.run), StartMs: end - d.run*FrameMs, EndMs: end}
		d.beeps++
	}
	d.run, d.runHz, d.runSum = 0, 0, 0
}

// toneOf returns the frequency of the sine that holds the frame, ok false
// when the frame is quiet, not pure or out of the band.
func (d *BeepDetector) toneOf(frame []int16) (hz float64, ok bool) {
	if LevelDBFS(frame) <= d.cfg.ThresholdDBFS {
		return 0, false
	}
	hz = sineHz(frame)
	if hz < d.cfg.MinHz || hz > d.cfg.MaxHz {
		return hz, false
	}
	return hz, toneShare(frame, hz) >= d.cfg.Purity
}

// sineHz estimates the frequency of the sine in x from its
// autocorrelation at lags 1 and 2 (Pisarenko's estimator): a sine of power P
// and angular frequency w has r1 = P·cos(w) and r2 = P·cos(2w), so
// c = cos(w) solves 2·r1·c² - r2·c - r1 = 0; the root within [-1, 1] is
// (r2 + √(r2² + 8·r1²)) / 4·r1. White noise only adds to r0, so it does
// not bias the estimate.
func sineHz(x []int16) float64 {
	var r1, r2 float64
	for n := 1; n < len(x); n++ {
		r1 += float64(x[n]) * float64(x[n-1])
		if n >= 2 {
			r2 += float64(x[n]) * float64(x[n-2])
		}
	}
	if r1 == 0 {
		return Rate / 4
	}
	c := (r2 + math.Sqrt(r2*r2+8*r1*r1)) / (4 * r1)
	return math.Acos(max(-1, min(1, c))) * Rate / (2 * math.Pi)
}

// hann160 is the Hann window over one frame.
var hann160 = func() [FrameSamples]float64 {
	var w [FrameSamples]float64
	for i := range w {
		w[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/FrameSamples)
	}
	return w
}()

// toneShare is the share of the frame's energy in a sine at hz: the
// Hann-windowed Goertzel power, scaled so that a steady sine filling the
// frame gives 1 (|X|² = (A·N/4)², energy = A²·N/2).
func toneShare(frame []int16, hz float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*hz/Rate)
	var s1, s2, energy float64
	for i, v := range frame {
		x := float64(v)
		energy += x * x
		s := x*hann160[i] + coeff*s1 - s2
		s2, s1 = s1, s
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 8 * power / (float64(len(frame)) * energy)
}
