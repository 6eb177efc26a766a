package llm

import (
	"context"
	"reflect"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

var _ Offline = NLU{}

// TestModelSlotsGoThroughNLU: slot values a model writes loosely are
// normalised by nlu.ParseSlot, with the examples the contract documents.
func TestModelSlotsGoThroughNLU(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.JSON(llmtest.IntentAnswer("book_appointment", 0.9,
		map[string]any{"date": "tomorrow", "time": "half past two pm", "party_size": "twelve", "reason": "a cleaning"}, 0)))
	c, _ := newTestClient(t, srv, nil) // parseSlot nil: nlu.ParseSlot
	got, err := c.Intent(context.Background(), bookingInput())
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	want := map[string]any{"date": "2026-01-02", "time": "14:30", "party_size": 12, "reason": "a cleaning"}
	if !reflect.DeepEqual(got.Slots, want) {
		t.Errorf("slots = %#v, want %#v", got.Slots, want)
	}
}

func TestNLUIsTheOfflineMatcher(t *testing.T) {
	a := &Activities{Offline: NewNLU()}
	in := bookingInput()
	in.Utterance = "can I book a cleaning"
	got, err := a.Intent(context.Background(), in)
	if err != nil || got.Source != activities.SourceOffline || got.Intent != "book_appointment" {
		t.Errorf("Intent = %+v, %v", got, err)
	}
	ins, err := a.Summarize(context.Background(), summarizeInput())
	if err != nil || ins.Source != activities.SourceOffline || ins.Summary == "" || ins.SentimentLabel == "" {
		t.Errorf("Summarize = %+v, %v", ins, err)
	}
}
