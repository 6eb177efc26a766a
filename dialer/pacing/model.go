package pacing

import "math"

// exactMax bounds the trials of the binomials summed term by term; above
// it the normal approximation serves, so the sums fit fixed arrays.
const exactMax = 256

// agentPool is the agents for the live answers coming within the
// horizon: the free ones, and the busy ones (talking, wrapping up) that
// free within it, each with its chance.
type agentPool struct {
	free               int
	talking, wrapping  int
	talkFree, wrapFree float64
}

func (a agentPool) mean() float64 {
	return float64(a.free) + float64(a.talking)*a.talkFree + float64(a.wrapping)*a.wrapFree
}

func (a agentPool) variance() float64 {
	return float64(a.talking)*a.talkFree*(1-a.talkFree) + float64(a.wrapping)*a.wrapFree*(1-a.wrapFree)
}

// distribution fills pmf[y] with the chance that y busy agents free
// within the horizon: Binomial(talking, talkFree) + Binomial(wrapping,
// wrapFree). False when a term underflows.
func (a agentPool) distribution(pmf []float64) bool {
	var talk, wrap [exactMax + 1]float64
	if !binomial(talk[:a.talking+1], a.talkFree) || !binomial(wrap[:a.wrapping+1], a.wrapFree) {
		return false
	}
	clear(pmf)
	for i, pt := range talk[:a.talking+1] {
		for j, pw := range wrap[:a.wrapping+1] {
			pmf[i+j] += pt * pw
		}
	}
	return true
}

// freed fills pmf with the pool's distribution when it fits the arrays
// and returns it, or returns nil (the normal approximation then serves).
func (a agentPool) freed(pmf *[exactMax + 2]float64) []float64 {
	busy := a.talking + a.wrapping
	if busy > exactMax || !a.distribution(pmf[:busy+1]) {
		return nil
	}
	return pmf[:busy+1]
}

// overflow is the share of live answers expected to find no agent. X,
// the live answers coming within the horizon, is Binomial(lines, live)
// (live is the mean share of lines that turn live); Y is the agent pool,
// whose busy agents free as freed says (nil: approximate). It returns
// E[(X - Y)+] / E[X].
func overflow(lines int, live float64, pool agentPool, freed []float64) float64 {
	mean := float64(lines) * live
	if mean <= 0 {
		return 0
	}
	var pmf, x0, x1 [exactMax + 2]float64
	if freed == nil || lines > exactMax || !binomial(pmf[:lines+1], live) {
		v := mean*(1-live) + pool.variance()
		return normalExcess(mean-pool.mean(), math.Sqrt(v)) / mean
	}
	free := pool.free
	// Suffix sums of X's mass and of x times it: E[(X - c)+] = x1[c+1] -
	// c*x0[c+1].
	for x := lines; x >= 0; x-- {
		x0[x] = x0[x+1] + pmf[x]
		x1[x] = x1[x+1] + float64(x)*pmf[x]
	}
	var excess float64
	for y, w := range freed {
		c := free + y
		if c >= lines {
			break
		}
		excess += w * (x1[c+1] - float64(c)*x0[c+1])
	}
	return excess / mean
}

// binomial fills pmf with Binomial(len(pmf)-1, p)'s mass; false when
// the first term underflows (then the normal approximation serves).
func binomial(pmf []float64, p float64) bool {
	n := len(pmf) - 1
	switch {
	case p <= 0:
		clear(pmf)
		pmf[0] = 1
		return true
	case p >= 1:
		clear(pmf)
		pmf[n] = 1
		return true
	}
	pmf[0] = math.Pow(1-p, float64(n))
	if pmf[0] < 1e-280 {
		return false
	}
	odds := p / (1 - p)
	for k := range n {
		pmf[k+1] = pmf[k] * float64(n-k) / float64(k+1) * odds
	}
	return true
}

// normalExcess is E[Z+] for Z normal with mean m and deviation sd.
func normalExcess(m, sd float64) float64 {
	if sd <= 0 {
		return math.Max(0, m)
	}
	z := m / sd
	density := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
	return sd*density + m*0.5*math.Erfc(-z/math.Sqrt2)
}
