package wav

import (
	"math"
	"sync"
)

// Resampler parameters: the filter spans zeroCrossings zero crossings of the
// sinc on each side (scaled up when decimating), passes up to passband of the
// lower Nyquist frequency and uses a Kaiser window with beta kaiserBeta
// (about 80 dB stop-band attenuation; pass band flat to about 3.3 kHz at
// 8 kHz output, stop band from 4 kHz).
const (
	zeroCrossings = 32
	passband      = 0.92
	kaiserBeta    = 8.0
	maxPhases     = 256
)

// Resample converts mono PCM from one sample rate to another with a
// band-limited (Kaiser-windowed sinc) interpolator. When decimating, the
// filter cuts off at 92% of the output Nyquist frequency (3680 Hz for 8 kHz
// output), so content above it is removed instead of aliasing into the
// telephone band. Samples before the start and after the end count as
// silence. It returns a new slice; from == to returns a copy.
func Resample(pcm []int16, from, to int) []int16 {
	if from <= 0 || to <= 0 {
		panic("wav: Resample with a non-positive rate")
	}
	if from == to {
		return append([]int16(nil), pcm...)
	}
	k := kernelFor(from, to)
	n := int(int64(len(pcm)) * int64(to) / int64(from))
	out := make([]int16, n)
	half := k.half
	for i := range out {
		pos := int64(i) * int64(from) // input position × to
		base := int(pos / int64(to))
		rem := pos % int64(to) // fractional position × to
		// Phase of the fractional position in the table, with linear
		// interpolation between rows when the table is coarser than
		// the exact rational phase.
		fp := float64(rem) * float64(k.phases) / float64(to)
		p := int(fp)
		w := fp - float64(p)
		row0 := k.taps[p*k.width : (p+1)*k.width]
		row1 := k.taps[(p+1)*k.width : (p+2)*k.width]
		var acc float64
		start := base - half + 1
		for j := range k.width {
			idx := start + j
			if idx < 0 || idx >= len(pcm) {
				continue
			}
			c := row0[j]
			if w != 0 {
				c += w * (row1[j] - c)
			}
			acc += c * float64(pcm[idx])
		}
		out[i] = clamp16(acc)
	}
	return out
}

func clamp16(v float64) int16 {
	v = math.Round(v)
	if v > math.MaxInt16 {
		return math.MaxInt16
	}
	if v < math.MinInt16 {
		return math.MinInt16
	}
	return int16(v)
}

// kernel is a polyphase filter table: phases+1 rows of width taps; row p
// holds the filter for fractional offset p/phases, so that output = sum over
// j of x[base-half+1+j] * row[j].
type kernel struct {
	phases int
	half   int
	width  int
	taps   []float64
}

var (
	kernelMu    sync.Mutex
	kernelCache = map[[2]int]*kernel{}
)

func kernelFor(from, to int) *kernel {
	key := [2]int{from, to}
	kernelMu.Lock()
	defer kernelMu.Unlock()
	if k, ok := kernelCache[key]; ok {
		return k
	}
	k := newKernel(from, to)
	if len(kernelCache) >= 32 { // odd rates from odd files: keep it bounded
		clear(kernelCache)
	}
	kernelCache[key] = k
	return k
}

func newKernel(from, to int) *kernel {
	ratio := min(1, float64(to)/float64(from)) // < 1 when decimating
	fc := 0.5 * ratio * passband               // cut-off, cycles per input sample
	half := int(math.Ceil(zeroCrossings / ratio))
	g := gcd(from, to)
	phases := min(to/g, maxPhases)
	k := &kernel{phases: phases, half: half, width: 2 * half}
	k.taps = make([]float64, (phases+1)*k.width)
	i0beta := besselI0(kaiserBeta)
	for p := 0; p <= phases; p++ {
		frac := float64(p) / float64(phases)
		row := k.taps[p*k.width : (p+1)*k.width]
		var sum float64
		for j := range row {
			// Tap j multiplies x[base-half+1+j], at distance d from
			// the output position base+frac.
			d := float64(j-half+1) - frac
			x := d / float64(half)
			if x <= -1 || x >= 1 {
				continue
			}
			win := besselI0(kaiserBeta*math.Sqrt(1-x*x)) / i0beta
			row[j] = 2 * fc * sinc(2*fc*d) * win
			sum += row[j]
		}
		for j := range row { // unity gain at DC for every phase
			row[j] /= sum
		}
	}
	return k
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the zeroth-order modified Bessel function of the first kind.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
