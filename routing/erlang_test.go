package routing

import (
	"math"
	"testing"
	"time"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestErlangBC(t *testing.T) {
	// Exact values from the textbook formulas in rational arithmetic.
	tests := []struct {
		n       int
		a       float64
		b, c    float64
		comment string
	}{
		{1, 0.5, 1.0 / 3, 0.5, "M/M/1: C = ρ"},
		{2, 1, 0.2, 1.0 / 3, ""},
		{10, 8, 0.1216610642529515, 0.40918015079644354, "the textbook 10 agents, 8 Erlangs"},
		{30, 25, 0.052603172228140614, -1, "30 lines, 25 Erlangs: about 5% lost"},
		{200, 190, -1, 0.3652638565625464, ""},
		{200, 180, -1, 0.09447121817759081, ""},
		{1000, 950, -1, 0.06825341537714143, "large N: no overflow"},
	}
	for _, tt := range tests {
		if tt.b >= 0 && !near(ErlangB(tt.n, tt.a), tt.b, 1e-12) {
			t.Errorf("ErlangB(%d, %v) = %v, want %v %s", tt.n, tt.a, ErlangB(tt.n, tt.a), tt.b, tt.comment)
		}
		if tt.c >= 0 && !near(ErlangC(tt.n, tt.a), tt.c, 1e-12) {
			t.Errorf("ErlangC(%d, %v) = %v, want %v %s", tt.n, tt.a, ErlangC(tt.n, tt.a), tt.c, tt.comment)
		}
	}
	edges := []struct {
		n    int
		a    float64
		want float64
	}{{10, 0, 0}, {10, 10, 1}, {10, 12, 1}, {0, 1, 1}}
	for _, e := range edges {
		if got := ErlangC(e.n, e.a); got != e.want {
			t.Errorf("ErlangC(%d, %v) = %v, want %v", e.n, e.a, got, e.want)
		}
	}
}

func TestServiceLevelC(t *testing.T) {
	aht := 180 * time.Second
	tests := []struct {
		n         int
		rate      float64
		threshold time.Duration
		want      float64
	}{
		// 1 - C·exp(-(N-A)·t/AHT) with C(10, 8) = 0.40918015...
		{10, 8.0 / 180, 20 * time.Second, 1 - 0.40918015079644354*math.Exp(-2.0*20/180)},
		{10, 8.0 / 180, 0, 1 - 0.40918015079644354},
		{10, 10.0 / 180, 20 * time.Second, 0}, // A = N
		{10, 0, 20 * time.Second, 1},
	}
	for _, tt := range tests {
		if got := ServiceLevelC(tt.n, tt.rate, aht, tt.threshold); !near(got, tt.want, 1e-12) {
			t.Errorf("ServiceLevelC(%d, %v, %v) = %v, want %v", tt.n, tt.rate, tt.threshold, got, tt.want)
		}
	}
	f := ErlangCDetail(10, 8.0/180, aht, 20*time.Second)
	if want := 0.40918015079644354 * 180 / 2; !near(f.ASA.Seconds(), want, 1e-6) {
		t.Errorf("ASA = %v, want %vs", f.ASA, want)
	}
}

func TestErlangATendsToErlangC(t *testing.T) {
	aht, thr := 180*time.Second, 20*time.Second
	for _, c := range []struct {
		n    int
		rate float64
	}{{10, 8.0 / 180}, {200, 190.0 / 180}, {1, 0.5 / 180}} {
		wantC := ErlangCDetail(c.n, c.rate, aht, thr)
		prevGap := math.Inf(1)
		for _, p := range []time.Duration{time.Hour, 10 * time.Hour, 100 * time.Hour, 1e4 * time.Hour} {
			got := ErlangADetail(c.n, c.rate, aht, p, thr)
			gap := math.Abs(got.PWait-wantC.PWait) + math.Abs(got.ServiceLevel-wantC.ServiceLevel)
			if gap >= prevGap {
				t.Errorf("N=%d patience %v: gap to Erlang C %v did not shrink (%v before)", c.n, p, gap, prevGap)
			}
			prevGap = gap
		}
		got := ErlangADetail(c.n, c.rate, aht, 1e4*time.Hour, thr)
		if !near(got.PWait, wantC.PWait, 1e-4) || !near(got.ServiceLevel, wantC.ServiceLevel, 1e-4) ||
			got.PAbandon > 1e-4 || !near(got.ASA.Seconds(), wantC.ASA.Seconds(), 0.01) {
			t.Errorf("N=%d, patience 10^4 h: %+v, Erlang C %+v", c.n, got, wantC)
		}
	}
}

func TestErlangATendsToErlangB(t *testing.T) {
	// Callers who cannot wait at all: those who find every agent busy are lost.
	pWait, pAbandon, sl := ErlangA(10, 8.0/180, 180*time.Second, time.Microsecond, 20*time.Second)
	b := ErlangB(10, 8)
	if !near(pWait, b, 1e-6) || !near(pAbandon, b, 1e-6) || !near(sl, 1-b, 1e-6) {
		t.Errorf("ErlangA, patience 1µs = %v, %v, %v; want B = %v", pWait, pAbandon, sl, b)
	}
}

func TestErlangAAgainstReference(t *testing.T) {
	tests := []struct {
		n                   int
		erlangs             float64
		aht, patience, tsla time.Duration
	}{
		{1, 0.8, 180 * time.Second, 60 * time.Second, 20 * time.Second},
		{3, 2, 120 * time.Second, 10 * time.Second, 5 * time.Second},
		{5, 6, 180 * time.Second, 120 * time.Second, 20 * time.Second}, // overloaded
		{10, 8, 180 * time.Second, 300 * time.Second, 20 * time.Second},
		{10, 8, 180 * time.Second, 300 * time.Second, 0},
		{20, 30, 300 * time.Second, 60 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		rate := tt.erlangs / tt.aht.Seconds()
		got := ErlangADetail(tt.n, rate, tt.aht, tt.patience, tt.tsla)
		pw, pa, sl := refErlangA(tt.n, rate, tt.aht.Seconds(), tt.patience.Seconds(), tt.tsla.Seconds())
		if !near(got.PWait, pw, 1e-9) || !near(got.PAbandon, pa, 1e-9) || !near(got.ServiceLevel, sl, 1e-7) {
			t.Errorf("N=%d A=%v patience %v t=%v: got %v %v %v, reference %v %v %v",
				tt.n, tt.erlangs, tt.patience, tt.tsla, got.PWait, got.PAbandon, got.ServiceLevel, pw, pa, sl)
		}
	}
}

func TestErlangAHeavyLoad(t *testing.T) {
	// Large N and overload: finite figures, abandonment = the excess over capacity.
	f := ErlangADetail(200, 400.0/180, 180*time.Second, 120*time.Second, 20*time.Second)
	if f.PWait < 0.999 || !near(f.PAbandon, 0.5, 0.01) || f.ServiceLevel > 0.01 || f.ASA <= 0 {
		t.Errorf("N=200, A=400: %+v", f)
	}
	f = ErlangADetail(10, 20.0/180, 180*time.Second, 1e5*time.Second, 20*time.Second)
	if !near(f.PAbandon, 0.5, 0.01) {
		t.Errorf("N=10, A=20, long patience: PAbandon %v, want ~0.5", f.PAbandon)
	}
	f = ErlangADetail(2000, 10.0/180, 180*time.Second, 60*time.Second, 20*time.Second)
	if f.PWait != 0 || f.ServiceLevel != 1 {
		t.Errorf("N=2000, A=10: %+v", f)
	}
}

// refErlangA computes Erlang A the plain way: π from products with a
// normaliser (small N only), the abandonment of a caller with k ahead as 1
// minus a product of per-stage odds, and the service level by
// uniformisation of that caller's chain, without the closed forms ErlangA
// uses.
func refErlangA(n int, lambda, aht, patience, t float64) (pWait, pAbandon, sl float64) {
	mu, theta := 1/aht, 1/patience
	var pi []float64
	u, sum := 1.0, 0.0
	for s := 0; s < 20000; s++ {
		if s > 0 {
			if s <= n {
				u *= lambda / (float64(s) * mu)
			} else {
				u *= lambda / (float64(n)*mu + float64(s-n)*theta)
			}
		}
		pi = append(pi, u)
		sum += u
		if s > n && u < 1e-20*sum {
			break
		}
	}
	for i := range pi {
		pi[i] /= sum
	}
	kMax := len(pi) - n // callers ahead: 0..kMax-1
	served := 0.0       // P(answered within t), waiting callers
	abandonP := 0.0
	for k := 0; k < kMax; k++ {
		pWait += pi[n+k]
		p := 1.0
		for i := 0; i <= k; i++ {
			p *= (float64(n)*mu + float64(i)*theta) / (float64(n)*mu + float64(i+1)*theta)
		}
		abandonP += pi[n+k] * (1 - p)
	}
	// Uniformise the tagged caller: state i = callers ahead, plus "served".
	big := float64(n)*mu + float64(kMax+1)*theta
	v := make([]float64, kMax)
	for k := range v {
		v[k] = pi[n+k]
	}
	poisson := math.Exp(-big * t)
	servedMass := 0.0
	for step := 0; step < 100000; step++ {
		served += poisson * servedMass
		if float64(step) > big*t && poisson < 1e-18 {
			break
		}
		next := make([]float64, kMax)
		for i := range v {
			down := float64(n)*mu + float64(i)*theta
			stay := 1 - (down+theta)/big
			next[i] += v[i] * stay
			if i == 0 {
				servedMass += v[i] * down / big
			} else {
				next[i-1] += v[i] * down / big
			}
		}
		v = next
		poisson *= big * t / float64(step+1)
	}
	noWait := 1 - pWait
	return pWait, abandonP, noWait + served
}
