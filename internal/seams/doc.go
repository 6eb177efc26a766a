// Package seams guards the arrows of docs/architecture.md: its test fails
// when a package imports something the design does not allow, naming the
// offending import. It has no code of its own.
package seams
