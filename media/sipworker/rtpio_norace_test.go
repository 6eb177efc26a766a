//go:build !race

package sipworker

import "testing"

// A call in the middle of a prompt allocates nothing per packet in the
// worker's own code (the race detector's instrumentation allocates, hence
// the build tag).
func TestSteadyCallAllocatesNothing(t *testing.T) {
	_, step := steadyCall(t)
	if n := testing.AllocsPerRun(200, step); n != 0 {
		t.Errorf("%v allocations per frame each way, want 0", n)
	}
}
