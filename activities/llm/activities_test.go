package llm

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

// fakeOffline stands in for the offline matcher: tests here check which
// path answered, not how well nlu matches.
type fakeOffline struct {
	classified, summarised int
	err                    error
}

func (f *fakeOffline) Classify(in activities.IntentInput) (activities.IntentResult, error) {
	f.classified++
	return activities.IntentResult{Intent: in.Intents[0].Name, Confidence: 0.5, Source: "whatever", Model: "m"}, f.err
}

func (f *fakeOffline) Summarize(in activities.SummarizeInput) activities.CallInsights {
	f.summarised++
	return activities.CallInsights{Summary: "offline summary", SentimentLabel: activities.SentimentNeutral}
}

func TestOfflineActivities(t *testing.T) {
	off := &fakeOffline{}
	a := &Activities{Offline: off}
	ctx := context.Background()

	got, err := a.Intent(ctx, bookingInput())
	if err != nil || got.Intent != "book_appointment" || got.Source != activities.SourceOffline || got.Model != "" {
		t.Errorf("Intent = %+v, %v; want the offline matcher's answer, source offline", got, err)
	}
	ins, err := a.Summarize(ctx, summarizeInput())
	if err != nil || ins.Summary != "offline summary" || ins.Source != activities.SourceOffline {
		t.Errorf("Summarize = %+v, %v", ins, err)
	}
	_, err = a.Chat(ctx, chatInput())
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if !strings.Contains(err.Error(), "no LLM endpoint configured (set --llm-url, ai.llm_url)") {
		t.Errorf("Chat error %q", err)
	}
	off.err = errors.New("unknown slot type")
	_, err = a.Intent(ctx, bookingInput())
	wantErrType(t, err, activities.ErrTypeBadInput)
	if _, err := (&Activities{}).Intent(ctx, bookingInput()); errType(err) != activities.ErrTypeAIUnavailable {
		t.Errorf("no client and no offline matcher: %v", err)
	}
}

func TestActivitiesFallBackOfflineWhenEndpointIsDown(t *testing.T) {
	srv := llmtest.NewServer(t)
	c, _ := newTestClient(t, srv, func(cfg *Config) {
		cfg.MaxRetries = -1
		cfg.Breaker.Failures = 1
	})
	var logs bytes.Buffer
	off := &fakeOffline{}
	a := &Activities{Client: c, Offline: off, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	ctx := ctxWithTimeout(t, 10*time.Second)

	srv.Enqueue(llmtest.ServerError()) // opens the breaker
	got, err := a.Intent(ctx, bookingInput())
	if err != nil || got.Source != activities.SourceOffline || off.classified != 1 {
		t.Fatalf("Intent = %+v, %v; want the offline answer", got, err)
	}
	ins, err := a.Summarize(ctx, summarizeInput()) // breaker open: no request
	if err != nil || ins.Source != activities.SourceOffline || off.summarised != 1 || srv.Count() != 1 {
		t.Fatalf("Summarize = %+v, %v (%d requests)", ins, err, srv.Count())
	}
	_, err = a.Chat(ctx, chatInput())
	wantErrType(t, err, activities.ErrTypeAIUnavailable)
	if !strings.Contains(logs.String(), "classifying offline") || !strings.Contains(logs.String(), "summarising offline") {
		t.Errorf("fallbacks not logged:\n%s", logs.String())
	}
}

func TestActivitiesUseTheModel(t *testing.T) {
	srv := llmtest.NewServer(t)
	c, _ := newTestClient(t, srv, nil)
	off := &fakeOffline{}
	a := &Activities{Client: c, Offline: off}
	ctx := context.Background()

	srv.Enqueue(llmtest.JSON(llmtest.IntentAnswer("pay", 0.9, nil, 0)), llmtest.Recorded("summary"), llmtest.Text("hello"))
	if got, err := a.Intent(ctx, bookingInput()); err != nil || got.Source != activities.SourceLLM || got.Intent != "pay" {
		t.Errorf("Intent = %+v, %v", got, err)
	}
	if got, err := a.Summarize(ctx, summarizeInput()); err != nil || got.Source != activities.SourceLLM {
		t.Errorf("Summarize = %+v, %v", got, err)
	}
	if got, err := a.Chat(ctx, chatInput()); err != nil || got.Content != "hello" {
		t.Errorf("Chat = %+v, %v", got, err)
	}
	// A refusal or a bad answer is no outage: no fallback.
	srv.Enqueue(llmtest.BadRequest("model not found"), llmtest.Text("not json"))
	_, err := a.Intent(ctx, bookingInput())
	wantErrType(t, err, activities.ErrTypeAIRejected)
	_, err = a.Summarize(ctx, summarizeInput())
	wantErrType(t, err, activities.ErrTypeAIBadOutput)
	if off.classified+off.summarised != 0 {
		t.Errorf("offline used %d times with the endpoint up", off.classified+off.summarised)
	}
}

type recordingRegistrar struct{ names []string }

func (r *recordingRegistrar) RegisterActivityWithOptions(_ interface{}, o activity.RegisterOptions) {
	r.names = append(r.names, o.Name)
}

func TestRegister(t *testing.T) {
	var r recordingRegistrar
	(&Activities{}).Register(&r)
	if want := []string{activities.ActIntent, activities.ActChat, activities.ActSummarize}; !slices.Equal(r.names, want) {
		t.Errorf("registered %q, want %q", r.names, want)
	}
}
