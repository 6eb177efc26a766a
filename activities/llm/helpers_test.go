package llm

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // time zones without the system's database

	"go.temporal.io/sdk/temporal"
	"go.uber.org/goleak"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "sk-test-9f8e7d6c5b4a39281706f5e4d3c2b1a0"

// syncBuffer is a log sink the client's goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fakeClock is a settable clock for the breaker.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTestClient returns a client of srv with the test key, no backoff
// jitter, a debug log captured in the returned buffer, and its own
// transport closed at the end (no leaked connections).
func newTestClient(t *testing.T, srv *llmtest.Server, mutate func(*Config)) (*Client, *syncBuffer) {
	t.Helper()
	cfg := Config{BaseURL: srv.URL, Model: "test-model", Timeout: 2 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(cfg, testKey, &http.Client{Transport: tr}, logger)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	c.jitter = func() float64 { return 0 }
	return c, logs
}

// errType is the application error type of err, "" when it has none.
func errType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func wantErrType(t *testing.T, err error, want string) {
	t.Helper()
	if got := errType(err); got != want {
		t.Fatalf("error type = %q, want %q (error: %v)", got, want, err)
	}
}

// bookingIntents are a dentist's intents: booking has four slots,
// cancelling one more.
func bookingIntents() []activities.IntentDef {
	return []activities.IntentDef{
		{
			Name: "book_appointment", Description: "Book a visit", Examples: []string{"I'd like to come in", "can I book a cleaning"},
			Slots: []activities.SlotDef{
				{Name: "date", Type: activities.SlotDate, Required: true},
				{Name: "time", Type: activities.SlotTime},
				{Name: "party_size", Type: activities.SlotNumber},
				{Name: "reason", Type: activities.SlotText, Description: "why they come"},
			},
		},
		{
			Name: "cancel_appointment", Description: "Cancel a booked visit",
			Slots: []activities.SlotDef{{Name: "booking_ref", Type: activities.SlotDigits}},
		},
		{
			Name: "pay", Slots: []activities.SlotDef{
				{Name: "amount", Type: activities.SlotMoney},
				{Name: "method", Type: activities.SlotEnum, Values: []string{"card", "bank transfer"}},
			},
		},
	}
}

func bookingInput() activities.IntentInput {
	return activities.IntentInput{
		CallID: "c-1", NodeID: "ask_reason",
		Utterance: "I'd like a cleaning tomorrow at three",
		Intents:   bookingIntents(),
		Transcript: []activities.Turn{
			{From: activities.TurnFlow, Text: "Thanks for calling Bright Smiles. How can I help?"},
			{From: activities.TurnCaller, Text: "Hi, it's about my teeth"},
			{From: activities.TurnFlow, Text: "Sure, what would you like to do?"},
		},
		Now:      time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC),
		TimeZone: "Europe/London",
		Language: "en-GB",
	}
}

func ctxWithTimeout(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
