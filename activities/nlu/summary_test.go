package nlu

import (
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
)

var update = flag.Bool("update", false, "rewrite golden files")

func billingCall() activities.SummarizeInput {
	return activities.SummarizeInput{
		CallID: "c1", Flow: "support", Outcome: "transferred",
		Path: []string{"welcome", "understand", "billing", "to_agent"},
		Transcript: []activities.Turn{
			{From: activities.TurnFlow, Text: "In a few words, what are you calling about?"},
			{From: activities.TurnCaller, Text: "I want to pay my bill, it's account 4471"},
			{From: activities.TurnFlow, Text: "How much would you like to pay?"},
			{From: activities.TurnCaller, Text: "forty five dollars, but the website keeps failing and this is the third time I'm calling"},
			{From: activities.TurnCaller, Text: "just let me speak to a manager"},
		},
		Vars: map[string]any{
			"choice":  map[string]any{"intent": "pay_bill", "confidence": 0.9, "slots": map[string]any{"account": "4471"}},
			"account": "4471", "lang": "en", "tries": 2.0, "empty": "", "list": []any{"a"},
		},
	}
}

func TestSummarizeGolden(t *testing.T) {
	got, err := json.MarshalIndent(Summarize(billingCall()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	const path = "testdata/summary.golden.json"
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(want)) != string(got) {
		t.Errorf("summary changed (go test -run TestSummarizeGolden -update to accept):\n%s", got)
	}
}

func TestSummarize(t *testing.T) {
	in := billingCall()
	got := Summarize(in)
	if got.Source != activities.SourceOffline || got.Disposition != DispositionTransferred {
		t.Errorf("source %q disposition %q", got.Source, got.Disposition)
	}
	for _, want := range []string{"pay bill", "account 4471", "amount 45.00", "transferred to an agent", "negative"} {
		if !strings.Contains(got.Summary, want) {
			t.Errorf("summary %q lacks %q", got.Summary, want)
		}
	}
	if n := strings.Count(got.Summary, ". ") + 1; n < 2 || n > 3 {
		t.Errorf("summary has %d sentences: %q", n, got.Summary)
	}
	wantFacts := map[string]string{"account": "4471", "amount": "45.00", "choice.intent": "pay_bill", "lang": "en", "tries": "2"}
	for k, v := range wantFacts {
		if got.KeyFacts[k] != v {
			t.Errorf("fact %s = %q, want %q", k, got.KeyFacts[k], v)
		}
	}
	for _, k := range []string{"empty", "list", "date"} {
		if _, ok := got.KeyFacts[k]; ok {
			t.Errorf("fact %s should not be there: %v", k, got.KeyFacts)
		}
	}
	if got.SentimentLabel != activities.SentimentNegative || got.Sentiment > -0.3 {
		t.Errorf("sentiment %.3f %s", got.Sentiment, got.SentimentLabel)
	}
}

func TestSummarizeSentimentWeighsTheEnd(t *testing.T) {
	lines := func(ts ...string) activities.SummarizeInput {
		in := activities.SummarizeInput{Outcome: "completed"}
		for _, t := range ts {
			in.Transcript = append(in.Transcript, activities.Turn{From: activities.TurnCaller, Text: t})
		}
		return in
	}
	angry, happy := "this is ridiculous and useless", "thank you so much, that is great"
	endsHappy := Summarize(lines(angry, happy))
	endsAngry := Summarize(lines(happy, angry))
	if endsHappy.Sentiment <= endsAngry.Sentiment || endsHappy.Sentiment <= 0 {
		t.Errorf("ends happy %.3f, ends angry %.3f", endsHappy.Sentiment, endsAngry.Sentiment)
	}
	if got := Summarize(lines(happy)).SentimentLabel; got != activities.SentimentPositive {
		t.Errorf("happy call labelled %s", got)
	}
	// Lines the flow said do not count.
	in := lines("what are your hours")
	in.Transcript = append(in.Transcript, activities.Turn{From: activities.TurnFlow, Text: "This is ridiculous, terrible, awful."})
	if got := Summarize(in); got.Sentiment != 0 || got.SentimentLabel != activities.SentimentNeutral {
		t.Errorf("flow lines counted: %.3f %s", got.Sentiment, got.SentimentLabel)
	}
}

func TestSummarizeDisposition(t *testing.T) {
	for _, c := range []struct {
		name string
		in   activities.SummarizeInput
		want string
	}{
		{"derived: completed", activities.SummarizeInput{Outcome: "completed"}, DispositionResolved},
		{"derived: bridged", activities.SummarizeInput{Outcome: "bridged"}, DispositionTransferred},
		{"derived: hangup", activities.SummarizeInput{Outcome: "caller_hangup"}, DispositionAbandoned},
		{"derived: busy", activities.SummarizeInput{Outcome: "busy"}, DispositionNotAnswered},
		{"derived: media lost", activities.SummarizeInput{Outcome: "media_lost"}, DispositionFailed},
		{"derived: unknown", activities.SummarizeInput{Outcome: "weird"}, DispositionOther},
		{"chosen by the caller's words", activities.SummarizeInput{
			Outcome:      "completed",
			Transcript:   []activities.Turn{{From: activities.TurnCaller, Text: "my internet keeps dropping"}},
			Dispositions: []string{"Sales", "Billing", "Technical issue - internet"},
		}, "Technical issue - internet"},
		{"chosen by the intent", activities.SummarizeInput{
			Outcome:      "completed",
			Vars:         map[string]any{"x": map[string]any{"intent": "billing_question"}},
			Dispositions: []string{"Sales", "Billing", "Technical"},
		}, "Billing"},
		{"chosen by the outcome", activities.SummarizeInput{
			Outcome:      "transferred",
			Dispositions: []string{"Self-service", "Transferred to agent"},
		}, "Transferred to agent"},
		{"nothing matches: the first", activities.SummarizeInput{
			Outcome:      "completed",
			Transcript:   []activities.Turn{{From: activities.TurnCaller, Text: "hello"}},
			Dispositions: []string{"Sales", "Billing"},
		}, "Sales"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Summarize(c.in).Disposition; got != c.want {
				t.Errorf("disposition %q, want %q", got, c.want)
			}
		})
	}
}

func TestSummarizeEmpty(t *testing.T) {
	got := Summarize(activities.SummarizeInput{})
	if got.Summary == "" || got.SentimentLabel != activities.SentimentNeutral || got.KeyFacts != nil || got.Source != activities.SourceOffline {
		t.Errorf("empty call: %+v", got)
	}
}

// Settings and redacted values are no key facts.
func TestSummaryKeyFactsSkipSettingsAndSecrets(t *testing.T) {
	got := Summarize(activities.SummarizeInput{Outcome: "completed",
		Vars: map[string]any{"crm_url": "http://crm.local/api", "card": "[redacted]", "account": "102"}})
	if _, ok := got.KeyFacts["crm_url"]; ok {
		t.Errorf("a URL setting is a key fact: %v", got.KeyFacts)
	}
	if _, ok := got.KeyFacts["card"]; ok {
		t.Errorf("a redacted value is a key fact: %v", got.KeyFacts)
	}
	if got.KeyFacts["account"] != "102" {
		t.Errorf("account fact = %q", got.KeyFacts["account"])
	}
}
