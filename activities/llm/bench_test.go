package llm

import (
	"context"
	"testing"

	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

// BenchmarkIntentRequest builds an intent request: prompt and schema.
func BenchmarkIntentRequest(b *testing.B) {
	c := &Client{cfg: Defaults()}
	in := bookingInput()
	b.ReportAllocs()
	for b.Loop() {
		_ = c.IntentRequest(in)
	}
}

// BenchmarkIntentLoopback is a whole Intent call against the fake
// endpoint on loopback: request, HTTP, answer check. It is the overhead
// voxflow adds to a model's latency.
func BenchmarkIntentLoopback(b *testing.B) {
	srv := llmtest.NewServer(b, llmtest.WithResponder(func(r llmtest.Request) llmtest.Reply {
		return llmtest.Structured(r, llmtest.IntentAnswer("pay", 0.9, map[string]any{"amount": "12.50", "method": "card"}, 0))
	}, 0))
	c, err := New(Config{BaseURL: srv.URL, Model: "m"}, testKey, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	in := bookingInput()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Intent(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
