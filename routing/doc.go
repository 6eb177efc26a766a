// Package routing is the assignment policy of the contact centre: which
// waiting call goes to which free agent, when a waiting call overflows to
// wider skills or another queue, the estimated wait announced to a caller,
// a queue's sliding-window statistics and the Erlang C and Erlang A
// formulas used to staff a queue.
//
// Everything here is pure: no Temporal, no I/O, no clock and no randomness.
// The router workflow calls it with its own state and workflow time, so the
// same input must give the same output on replay; nothing decides an order
// by iterating a map. The types carry JSON tags because the router carries
// them across continue-as-new.
//
// docs/routing.md states the order of assignment and the formulas.
package routing
