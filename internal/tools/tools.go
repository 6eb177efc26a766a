//go:build tools

// Package tools pins, in go.mod, modules the coming features build on at
// the versions that build together here (../shared/ARCHITECTURE.md):
// go-openai for LLM nodes. The build tag
// keeps it out of every build and test; it only stops `go mod tidy` from
// dropping them, since adding them back later could move pion or Temporal
// to versions that break diago or the server. Remove a line once real code
// imports the module.
package tools

import (
	_ "github.com/sashabaranov/go-openai"
)
