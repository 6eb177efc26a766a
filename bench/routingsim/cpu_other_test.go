//go:build !unix

package routingsim

import "time"

var processStart = time.Now()

// cpuTime falls back to wall time where getrusage is missing; the
// simulation runs on one goroutine, so on an idle machine they agree.
func cpuTime() time.Duration { return time.Since(processStart) }
