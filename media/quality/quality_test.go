package quality_test

import (
	"math"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/quality"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// ITU-T G.109 Table 1: the lower R of each speech transmission quality
// category and the MOS G.107 Annex B gives it; and G.107's default rating.
func TestMOSPublishedValues(t *testing.T) {
	for _, c := range []struct{ r, mos float64 }{
		{quality.DefaultR, 4.41}, // G.107: every parameter at its default
		{90, 4.34}, {80, 4.03}, {70, 3.60}, {60, 3.10}, {50, 2.58},
		{0, 1}, {-5, 1}, {100, 4.5}, {120, 4.5},
	} {
		if got := quality.MOS(c.r); !near(got, c.mos, 0.01) {
			t.Errorf("MOS(R=%v) = %.3f, want %.2f", c.r, got, c.mos)
		}
	}
	// Below R ~6.5 eq. B-4 dips under 1: the score stays at 1.
	if got := quality.MOS(3); got != 1 {
		t.Errorf("MOS(3) = %v, want 1", got)
	}
}

// Ie,eff by G.107 eq. 7-29 with G.113 Appendix I's Bpl: G.711 with PLC
// (Bpl 25.1) and without (Bpl 4.3), random loss.
func TestEffectiveIe(t *testing.T) {
	for _, c := range []struct {
		codec  quality.Codec
		loss   float64
		burstR float64
		want   float64
	}{
		{quality.G711PLC, 0, 0, 0},
		{quality.G711PLC, 0.01, 1, 3.64},
		{quality.G711PLC, 0.02, 1, 7.01},
		{quality.G711PLC, 0.05, 1, 15.78},
		{quality.G711PLC, 0.10, 1, 27.07},
		{quality.G711, 0.01, 1, 17.92},
		{quality.G711, 0.02, 0, 30.16},
		{quality.G711PLC, 0.02, 2, 7.28}, // bursts hurt more than random loss
		{quality.G711PLC, 2, 1, 75.94},   // clamped at 100 %
	} {
		if got := quality.EffectiveIe(c.codec, c.loss, c.burstR); !near(got, c.want, 0.01) {
			t.Errorf("EffectiveIe(%s, loss %v, BurstR %v) = %.3f, want %.2f", c.codec.Name, c.loss, c.burstR, got, c.want)
		}
	}
}

// Id by Cole and Rosenbluth's fit: 0.024 per ms, plus 0.11 per ms past
// 177.3 ms.
func TestDelayImpairment(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want float64
	}{
		{0, 0}, {-time.Second, 0}, {50 * time.Millisecond, 1.2}, {150 * time.Millisecond, 3.6},
		{177300 * time.Microsecond, 4.255}, {200 * time.Millisecond, 7.297}, {400 * time.Millisecond, 34.097},
	} {
		if got := quality.DelayImpairment(c.d); !near(got, c.want, 0.001) {
			t.Errorf("DelayImpairment(%v) = %.4f, want %.3f", c.d, got, c.want)
		}
	}
}

func TestAssess(t *testing.T) {
	for _, c := range []struct {
		name   string
		m      quality.Measure
		r, mos float64
	}{
		// A clean LAN call: 80 ms mouth to ear (60 ms jitter buffer, 20 ms frame).
		{name: "clean", m: quality.Measure{Codec: quality.G711PLC, Delay: 80 * time.Millisecond}, r: 91.28, mos: 4.37},
		// 1 % random loss, 150 ms: still "satisfied" (R > 80).
		{name: "1% loss", m: quality.Measure{Codec: quality.G711PLC, Loss: 0.01, Delay: 150 * time.Millisecond}, r: 85.96, mos: 4.23},
		// 5 % loss without PLC: "many users dissatisfied" (R < 60).
		{name: "5% no PLC", m: quality.Measure{Codec: quality.G711, Loss: 0.05, Delay: 100 * time.Millisecond}, r: 39.72, mos: 2.05},
		// Everything lost: R is 0, MOS 1.
		{name: "all lost", m: quality.Measure{Codec: quality.G711, Loss: 1, Delay: time.Second}, r: 0, mos: 1},
	} {
		got := quality.Assess(c.m)
		if !near(got.R, c.r, 0.05) || !near(got.MOS, c.mos, 0.01) {
			t.Errorf("%s: Assess = R %.2f MOS %.2f, want R %.2f MOS %.2f", c.name, got.R, got.MOS, c.r, c.mos)
		}
	}
}
