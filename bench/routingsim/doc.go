// Package routingsim simulates a contact centre's day in virtual time to
// check the routing policy and formulas of package routing against each
// other: Poisson arrivals (a rate per interval), exponential handle times
// and exponential patience, agents with skills, and the real
// routing.Assign, routing.Window and routing.EstimateWait deciding and
// measuring. Nothing sleeps; a seeded math/rand/v2 makes a run repeatable.
//
// With one queue, a constant rate and no skills the model is M/M/N+M, so
// a long run must agree with routing.ErlangA (and with routing.ErlangC
// when callers never hang up): routingsim_test.go checks that, and
// BenchmarkSimulatedDay reports the figures (README.md).
package routingsim
