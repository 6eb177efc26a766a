package llm

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
)

func summarizeInput() activities.SummarizeInput {
	return activities.SummarizeInput{
		CallID: "c-3", Flow: "billing", Outcome: "completed",
		Path: []string{"greet", "ask_reason", "explain_invoice", "goodbye"},
		Transcript: []activities.Turn{
			{From: activities.TurnFlow, Text: "Welcome to Acme Energy billing."},
			{From: activities.TurnCaller, Text: "My last invoice INV-20931 is higher than usual."},
			{From: activities.TurnFlow, Text: "It includes a one-off installation fee of 49 pounds."},
			{From: activities.TurnCaller, Text: "Ah, fine then, thanks."},
		},
		Vars:         map[string]any{"account": "[redacted]", "invoice": "INV-20931"},
		Dispositions: []string{"resolved", "escalated", "callback"},
	}
}

func TestSummarize(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.Recorded("summary"))
	c, _ := newTestClient(t, srv, func(cfg *Config) { cfg.SummaryModel = "summary-model" })

	got, err := c.Summarize(context.Background(), summarizeInput())
	if err != nil {
		t.Fatalf("Summarize: %v", err)
	}
	want := activities.CallInsights{
		Summary: "The caller asked why their last invoice was higher than usual. The flow explained the one-off installation fee " +
			"and the caller accepted it. No follow-up is needed.",
		Disposition: "resolved", Sentiment: 0.35, SentimentLabel: activities.SentimentPositive,
		KeyFacts: map[string]string{"invoice_number": "INV-20931", "disputed_amount": "49.00"},
		Source:   activities.SourceLLM, Model: "summary-model",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("result\n got %+v\nwant %+v", got, want)
	}
	req := srv.Last()
	if req.Model != "summary-model" || !slices.Equal(req.Enum("disposition"), []string{"resolved", "escalated", "callback"}) {
		t.Errorf("model %q, disposition enum %q", req.Model, req.Enum("disposition"))
	}
	if !strings.Contains(req.LastUser(), "Caller: My last invoice INV-20931 is higher than usual.\nFlow: It includes") {
		t.Errorf("transcript not sent:\n%s", req.LastUser())
	}
	for _, s := range []string{"Flow: billing", "Outcome: completed", "greet > ask_reason > explain_invoice > goodbye", `"invoice":"INV-20931"`, "one of: resolved, escalated, callback"} {
		if !strings.Contains(req.System(), s) {
			t.Errorf("system message lacks %q:\n%s", s, req.System())
		}
	}
}

func TestSummarizeAnswers(t *testing.T) {
	cases := []struct {
		name   string
		answer string
		want   activities.CallInsights // zero: bad output
	}{
		{"object key facts (json_object servers)", `{"summary":"S.","disposition":"Escalated","sentiment":-0.8,"key_facts":{"ref":"A1","count":2}}`,
			activities.CallInsights{Summary: "S.", Disposition: "escalated", Sentiment: -0.8, SentimentLabel: "negative", KeyFacts: map[string]string{"ref": "A1", "count": "2"}}},
		{"no key facts", `{"summary":"S.","disposition":"callback","sentiment":0.1,"key_facts":[]}`,
			activities.CallInsights{Summary: "S.", Disposition: "callback", Sentiment: 0.1, SentimentLabel: "neutral"}},
		{"sentiment clamped", `{"summary":"S.","disposition":"resolved","sentiment":7}`,
			activities.CallInsights{Summary: "S.", Disposition: "resolved", Sentiment: 1, SentimentLabel: "positive"}},
		{"disposition not offered", `{"summary":"S.","disposition":"sold","sentiment":0}`, activities.CallInsights{}},
		{"no summary", `{"summary":" ","disposition":"resolved","sentiment":0}`, activities.CallInsights{}},
		{"key facts not pairs", `{"summary":"S.","disposition":"resolved","sentiment":0,"key_facts":"x"}`, activities.CallInsights{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readInsights([]byte(tc.answer), summarizeInput().Dispositions)
			if tc.want.Summary == "" {
				wantErrType(t, err, activities.ErrTypeAIBadOutput)
				return
			}
			tc.want.Source = activities.SourceLLM
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestSummarizeFreeDisposition(t *testing.T) {
	srv := llmtest.NewServer(t)
	srv.Enqueue(llmtest.JSON(map[string]any{"summary": "S.", "disposition": "asked about opening hours", "sentiment": 0, "key_facts": nil}))
	c, _ := newTestClient(t, srv, nil)
	in := summarizeInput()
	in.Dispositions = nil
	got, err := c.Summarize(context.Background(), in)
	if err != nil || got.Disposition != "asked about opening hours" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if enum := srv.Last().Enum("disposition"); enum != nil {
		t.Errorf("disposition enum %q without dispositions", enum)
	}
}

func TestSentimentLabel(t *testing.T) {
	for s, want := range map[float64]string{-1: "negative", -0.3: "negative", -0.29: "neutral", 0: "neutral", 0.29: "neutral", 0.3: "positive", 1: "positive"} {
		if got := activities.SentimentLabel(s); got != want {
			t.Errorf("SentimentLabel(%v) = %q, want %q", s, got, want)
		}
	}
}

func FuzzReadInsights(f *testing.F) {
	f.Add(`{"summary":"S.","disposition":"resolved","sentiment":0.2,"key_facts":[{"name":"a","value":"b"}]}`)
	f.Add(`{"summary":"S.","disposition":"x","sentiment":-9,"key_facts":{"a":1,"b":null}}`)
	f.Add(`{"summary":1}`)
	dispositions := summarizeInput().Dispositions
	f.Fuzz(func(t *testing.T, answer string) {
		got, err := readInsights([]byte(answer), dispositions)
		if err != nil {
			if errType(err) != activities.ErrTypeAIBadOutput {
				t.Fatalf("error of type %q: %v", errType(err), err)
			}
			return
		}
		if got.Summary == "" || !slices.Contains(dispositions, got.Disposition) || got.Sentiment < -1 || got.Sentiment > 1 ||
			got.SentimentLabel != activities.SentimentLabel(got.Sentiment) {
			t.Fatalf("bad insights accepted: %+v", got)
		}
	})
}
