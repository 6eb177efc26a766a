package routing

import (
	"math"
	"time"
)

// ErlangFigures are a queue's steady-state figures under a queueing model.
// ServiceLevel follows the definition of ServiceLevel: callers answered
// within the threshold over all callers (abandoned ones included).
type ErlangFigures struct {
	PWait        float64       `json:"p_wait"`        // probability a caller waits at all
	PAbandon     float64       `json:"p_abandon"`     // probability a caller hangs up before an answer
	ServiceLevel float64       `json:"service_level"` // probability of an answer within the threshold
	ASA          time.Duration `json:"asa"`           // mean wait of answered callers (0 waits included)
}

// ErlangB is the probability that a call finding all agents busy is lost in
// a system without a queue (M/M/N/N), by the recursion
// B(0)=1, B(k) = A·B(k-1) / (k + A·B(k-1)), which neither overflows nor
// loses precision for large N.
func ErlangB(agents int, traffic float64) float64 {
	if traffic <= 0 {
		return 0
	}
	b := 1.0
	for k := 1; k <= agents; k++ {
		b = traffic * b / (float64(k) + traffic*b)
	}
	return b
}

// ErlangC is the probability that a caller waits (M/M/N, no abandonment)
// with traffic in Erlangs (arrival rate x AHT): C = N·B / (N - A·(1-B)),
// B being ErlangB. It is 1 when traffic >= agents (the queue grows forever).
func ErlangC(agents int, traffic float64) float64 {
	if traffic <= 0 {
		return 0
	}
	n := float64(agents)
	if traffic >= n {
		return 1
	}
	b := ErlangB(agents, traffic)
	return n * b / (n - traffic*(1-b))
}

// ServiceLevelC is the probability, under Erlang C, that a caller is
// answered within threshold, with rate calls per second and average handle
// time aht: 1 - C·exp(-(N - A)·threshold/aht). It is 0 when the traffic
// A = rate·aht reaches the agents, 1 when nothing arrives.
func ServiceLevelC(agents int, rate float64, aht, threshold time.Duration) float64 {
	return ErlangCDetail(agents, rate, aht, threshold).ServiceLevel
}

// ErlangCDetail gives Erlang C's figures; ASA = C·aht / (N - A). Callers
// never abandon, so PAbandon is 0; when A >= N, ASA is the largest Duration.
func ErlangCDetail(agents int, rate float64, aht, threshold time.Duration) ErlangFigures {
	if rate <= 0 || aht <= 0 {
		return ErlangFigures{ServiceLevel: 1}
	}
	n, a, s := float64(agents), rate*aht.Seconds(), aht.Seconds()
	if a >= n {
		return ErlangFigures{PWait: 1, ASA: time.Duration(math.MaxInt64)}
	}
	c := ErlangC(agents, a)
	t := max(threshold.Seconds(), 0)
	return ErlangFigures{
		PWait:        c,
		ServiceLevel: 1 - c*math.Exp(-(n-a)*t/s),
		ASA:          time.Duration(c * s / (n - a) * float64(time.Second)),
	}
}

// ErlangA gives the probability that a caller waits, that a caller
// abandons, and the service level within threshold in the Erlang A model
// (M/M/N+M): Poisson arrivals at rate calls per second, exponential handle
// times with mean aht, exponential patience with mean patience. A patience
// <= 0 means callers never abandon: Erlang C. See ErlangADetail.
func ErlangA(agents int, rate float64, aht, patience, threshold time.Duration) (pWait, pAbandon, serviceLevel float64) {
	f := ErlangADetail(agents, rate, aht, patience, threshold)
	return f.PWait, f.PAbandon, f.ServiceLevel
}

// ErlangADetail computes Erlang A's figures numerically from the
// birth-death chain, in log space so that large N or heavy overload neither
// overflow nor underflow. With μ = 1/aht and θ = 1/patience, π(N+k) is the
// chance an arrival finds k callers waiting ahead of it (PASTA). Such a
// caller reaches an agent with probability p(k) = Nμ / (Nμ + (k+1)θ), and,
// given that it does, after a sum of exponentials with rates
// Nμ + θ, Nμ + 2θ, ..., Nμ + (k+1)θ, whose distribution has
// exp(-θ·wait) ~ Beta(Nμ/θ + 1, k+1); its CDF is a negative-binomial
// sum, one term more for each k. PAbandon = θ·E[queue] / λ.
func ErlangADetail(agents int, rate float64, aht, patience, threshold time.Duration) ErlangFigures {
	if patience <= 0 {
		return ErlangCDetail(agents, rate, aht, threshold)
	}
	if rate <= 0 || aht <= 0 {
		return ErlangFigures{ServiceLevel: 1}
	}
	if agents <= 0 {
		return ErlangFigures{PWait: 1, PAbandon: 1}
	}
	m := erlangAModel{
		lambda: rate,
		nmu:    float64(agents) / aht.Seconds(),
		theta:  1 / patience.Seconds(),
		t:      max(threshold.Seconds(), 0),
	}
	return m.solve(logNoWait(agents, rate*aht.Seconds()))
}

// logNoWait is log Σ_{n<N} π(n)/π(N) = log(1/B(N, A) - 1), by the
// recursion 1/B(k) = 1 + (k/A)/B(k-1) kept in log space (1/B can exceed
// the float range for N far above A).
func logNoWait(agents int, traffic float64) float64 {
	l := 0.0 // log(1/B(0))
	for k := 1; k <= agents; k++ {
		l = logAddExp(0, math.Log(float64(k)/traffic)+l)
	}
	return l + math.Log(-math.Expm1(-l))
}

// maxQueueTerms caps the states summed when patience is so long against
// the overload that the queue would hold millions; the figures are then
// those of a queue truncated there.
const maxQueueTerms = 1 << 22

type erlangAModel struct {
	lambda, nmu, theta, t float64
}

// erlangASums are sums over the states, each scaled by exp(-ref), ref the
// largest log-term seen, so that none overflows.
type erlangASums struct {
	ref         float64
	noWait      float64 // Σ_{n<N} π(n): answered at once
	wait        float64 // Σ π(N+k)
	queue       float64 // Σ k·π(N+k)
	inThreshold float64 // Σ π(N+k)·p(k)·P(wait <= t | k, answered)
	answerWait  float64 // Σ π(N+k)·p(k)·E[wait | k, answered]
}

func (s *erlangASums) rescale(ref float64) {
	f := math.Exp(s.ref - ref)
	s.noWait, s.wait, s.queue, s.inThreshold, s.answerWait =
		s.noWait*f, s.wait*f, s.queue*f, s.inThreshold*f, s.answerWait*f
	s.ref = ref
}

// solve sums over k, the callers waiting ahead of an arrival that waits,
// with π(N) = 1 as the unit (log 1 = 0).
func (m erlangAModel) solve(logNoWait float64) ErlangFigures {
	s := erlangASums{ref: max(logNoWait, 0)}
	s.noWait = math.Exp(logNoWait - s.ref)
	var (
		logU      = 0.0          // log π(N+k)/π(N)
		logG      = math.Inf(-1) // log P(stages not done by t), a partial negative-binomial sum
		logTerm   float64        // log of its k-th term
		meanStage float64        // E[wait | k, answered]: Σ 1/rate of each stage
		a         = m.nmu/m.theta + 1
		logX      = -m.theta * m.t              // log exp(-θt)
		log1mX    = math.Log(-math.Expm1(logX)) // log(1 - exp(-θt)); -Inf at t = 0
	)
	for k := 0; k < maxQueueTerms; k++ {
		if k == 0 {
			logTerm = a * logX
		} else {
			logU += math.Log(m.lambda / (m.nmu + float64(k)*m.theta))
			logTerm += math.Log((a+float64(k)-1)/float64(k)) + log1mX
		}
		if logU > s.ref {
			s.rescale(logU)
		}
		logG = logAddExp(logG, logTerm)
		stage := m.nmu + float64(k+1)*m.theta
		meanStage += 1 / stage
		u, pk := math.Exp(logU-s.ref), m.nmu/stage
		s.wait += u
		s.queue += float64(k) * u
		s.inThreshold += u * pk * max(1-math.Exp(logG), 0)
		s.answerWait += u * pk * meanStage
		// Past the peak the terms fall at least geometrically by r: stop
		// when what is left of Σ k·π cannot matter.
		if r := m.lambda / stage; r < 1 && logU-s.ref+math.Log(float64(k+2))-2*math.Log1p(-r) < -40 {
			break
		}
	}
	total := s.noWait + s.wait
	f := ErlangFigures{
		PWait:        s.wait / total,
		PAbandon:     m.theta * s.queue / total / m.lambda,
		ServiceLevel: (s.noWait + s.inThreshold) / total,
	}
	if answered := 1 - f.PAbandon; answered > 0 {
		f.ASA = time.Duration(s.answerWait / total / answered * float64(time.Second))
	}
	return f
}

// logAddExp is log(exp(a) + exp(b)) without overflow.
func logAddExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(b, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}
