// Package pinned keeps the modules the next issues build on in go.mod at
// the versions found to build together here (see ARCHITECTURE.md): pion
// WebRTC for the browser softphone, go-openai for LLM nodes. Without it
// `go mod tidy` would drop them, and adding them back later could move
// pion or Temporal to versions that break diago or the server.
package pinned

import (
	_ "github.com/pion/webrtc/v4"
	_ "github.com/sashabaranov/go-openai"
)
