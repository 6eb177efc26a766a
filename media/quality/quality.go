// Package quality estimates a call's listening quality from what RTP and
// RTCP measure, with the ITU-T G.107 E-model: a transmission rating R from
// the one-way delay and the packet loss, and the mean opinion score (MOS)
// that R predicts. It is pure arithmetic: no clock, no I/O.
//
// The model is the simplified E-model most monitoring tools use: every
// G.107 parameter at its default value (R = 93.2 with no impairment) except
//   - Id, the delay impairment, from the one-way mouth-to-ear delay d (ms)
//     by the fit of Cole and Rosenbluth ("Voice over IP performance
//     monitoring", ACM CCR 31(2), 2001) to G.107 with default settings:
//     Id = 0.024 d + 0.11 (d - 177.3) H(d - 177.3);
//   - Ie,eff, the equipment impairment under loss (G.107 eq. 7-29):
//     Ie,eff = Ie + (95 - Ie) Ppl / (Ppl/BurstR + Bpl), Ppl in percent,
//     with the codec's Ie and Bpl from ITU-T G.113 Appendix I.
//
// R maps to MOS by G.107 Annex B (eq. B-4).
package quality

import (
	"math"
	"time"
)

// DefaultR is G.107's rating with every parameter at its default: the best
// a narrowband call can score.
const DefaultR = 93.2

// Codec is what the E-model needs of a codec: its equipment impairment Ie
// and its packet-loss robustness Bpl.
type Codec struct {
	Name string
	Ie   float64
	Bpl  float64
}

// Codec values. G.711's are from ITU-T G.113 Appendix I (Table I.1 and
// I.3, random loss). Opus has no G.113 entry: its values are an
// approximation (at the bitrates voxflow uses, narrowband Opus is as clean
// as G.711, and its concealment copes with loss at least as well as
// G.711's Appendix I PLC), good for trends, not for contracts.
var (
	// G711PLC is G.711 with packet-loss concealment, as voxflow plays it.
	G711PLC = Codec{Name: "G.711 with PLC", Ie: 0, Bpl: 25.1}
	// G711 is G.711 without concealment (the loss is silence).
	G711 = Codec{Name: "G.711", Ie: 0, Bpl: 4.3}
	// Opus is an approximation; see above.
	Opus = Codec{Name: "Opus", Ie: 0, Bpl: 20}
)

// Measure is what was measured of one direction of a call.
type Measure struct {
	Codec Codec
	// Loss is the share (0 to 1) of the packets sent that were not played:
	// lost on the way or discarded late by the jitter buffer.
	Loss float64
	// Delay is the one-way mouth-to-ear delay: network, jitter buffer,
	// packetisation.
	Delay time.Duration
	// BurstR is G.107's burst ratio: 1 (or 0, taken as 1) for random loss,
	// above 1 for bursty loss.
	BurstR float64
}

// Estimate is the E-model's verdict on a Measure.
type Estimate struct {
	R   float64 // transmission rating, 0 to 100
	MOS float64 // mean opinion score, 1 to 4.5
	Id  float64 // delay impairment
	Ie  float64 // effective equipment impairment (Ie,eff)
}

// Assess rates m.
func Assess(m Measure) Estimate {
	id := DelayImpairment(m.Delay)
	ie := EffectiveIe(m.Codec, m.Loss, m.BurstR)
	r := min(max(DefaultR-id-ie, 0), 100)
	return Estimate{R: r, MOS: MOS(r), Id: id, Ie: ie}
}

// DelayImpairment is Id for a one-way delay (Cole and Rosenbluth's fit to
// G.107 with default parameters): negligible under ~100 ms, steep past
// 177.3 ms, where the conversation starts to stumble.
func DelayImpairment(d time.Duration) float64 {
	ms := max(float64(d)/float64(time.Millisecond), 0)
	id := 0.024 * ms
	if ms > 177.3 {
		id += 0.11 * (ms - 177.3)
	}
	return id
}

// EffectiveIe is G.107's Ie,eff for a loss share (0 to 1) and burst ratio
// (0 is taken as 1: random loss).
func EffectiveIe(c Codec, loss, burstR float64) float64 {
	if burstR <= 0 {
		burstR = 1
	}
	ppl := min(max(loss, 0), 1) * 100
	if ppl == 0 {
		return c.Ie
	}
	return c.Ie + (95-c.Ie)*ppl/(ppl/burstR+c.Bpl)
}

// MOS maps a rating R to the mean opinion score (G.107 Annex B, eq.
// B-4), clamped to 1..4.5.
func MOS(r float64) float64 {
	switch {
	case r <= 0:
		return 1
	case r >= 100:
		return 4.5
	}
	mos := 1 + 0.035*r + r*(r-60)*(100-r)*7e-6
	return math.Max(1, math.Min(mos, 4.5))
}
