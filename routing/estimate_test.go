package routing

import (
	"testing"
	"time"
)

func TestEstimateWait(t *testing.T) {
	s := time.Second
	tests := []struct {
		position, staffed int
		aht               time.Duration
		want              time.Duration
	}{
		{1, 1, 180 * s, 180 * s},
		{3, 2, 180 * s, 270 * s},
		{1, 10, 180 * s, 18 * s},
		{10, 10, 180 * s, 180 * s},
		{1, 3, 100 * s, 33333333333}, // truncated to the nanosecond
		{5, 0, 180 * s, -1},          // nobody signed in: unknown
		{0, 4, 180 * s, 0},
		{2, 4, 0, 0},
		{1 << 40, 1, 1 << 40, time.Duration(1<<63 - 1)}, // saturates instead of overflowing
	}
	for _, tt := range tests {
		if got := EstimateWait(tt.position, tt.staffed, tt.aht); got != tt.want {
			t.Errorf("EstimateWait(%d, %d, %v) = %v, want %v", tt.position, tt.staffed, tt.aht, got, tt.want)
		}
	}
}
