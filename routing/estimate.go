package routing

import (
	"math"
	"time"
)

// EstimateWait is the expected wait of the caller at 1-based position in
// the queue with staffed agents signed in (not offline) for it and average
// handle time aht (talk + wrap-up): position * aht / staffed. Every agent
// frees up once per aht on average, so staffed agents take a caller every
// aht/staffed. It returns -1 when staffed is 0 (unknown: nobody to wait
// for) and 0 for a position below 1.
func EstimateWait(position, staffed int, aht time.Duration) time.Duration {
	if staffed <= 0 {
		return -1
	}
	if position < 1 || aht <= 0 {
		return 0
	}
	w := float64(position) * float64(aht) / float64(staffed)
	if w >= math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(w)
}
