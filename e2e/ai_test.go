package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities/llm/llmtest"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/simulator"
)

// billingModel answers the billing line like a model would: intents by
// keyword, the assistant's replies, a tool call when the caller asks for
// a person, and a summary.
func billingModel(req llmtest.Request) llmtest.Reply {
	said := strings.ToLower(req.LastUser())
	switch {
	case len(req.Enum("intent")) > 0:
		if strings.Contains(said, "charge") {
			return llmtest.Structured(req, llmtest.IntentAnswer("question", 0.93, nil, -0.2))
		}
		return llmtest.Structured(req, llmtest.IntentAnswer("none", 0.1, nil, 0))
	case req.SchemaName() == "call_insights":
		return llmtest.Structured(req, map[string]any{"summary": "The caller asked about the annual fee and was put through to an agent.",
			"disposition": "transferred", "sentiment": -0.1, "key_facts": []any{map[string]any{"name": "topic", "value": "annual fee"}}})
	case strings.Contains(said, "person"):
		return llmtest.ToolCalls("to_agent", `{"reason":"wants a person"}`)
	}
	return llmtest.Text("That charge is the annual fee of 25 dollars.")
}

// A billing-line caller asks about a charge: the intent comes from the
// model, the assistant answers from it, the caller asks for a person and
// the model takes the to_agent exit; the call record holds every turn
// and the model's summary. The call's history replays (TestReplay...
// in flows/engine) without asking the model again.
func TestBillingLineOnAModel(t *testing.T) {
	srv := llmtest.NewServer(t, llmtest.WithResponder(billingModel, 0))
	t.Setenv("VOXFLOW_LLM_API_KEY", "test-key-not-secret")
	ai, err := platform.NewAI(config.AI{LLMURL: srv.URL, Model: "test-model"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newStackAI(t, ai)
	res := s.simulate(simulator.Request{Flow: example(t, "billing-line"), From: "+15550100",
		Inputs: []string{"what is this charge on my bill", "ok and who are you", "let me talk to a person"}})
	rec := res.Record
	if got, want := strings.Join(res.Path, ">"), "understand>assistant>to_agent"; !strings.HasPrefix(got, want) {
		t.Fatalf("path = %s, want %s...", got, want)
	}
	turns := rec.Path[0].AI
	if len(turns) != 1 || turns[0].Intent != "question" || turns[0].Source != "llm" || turns[0].Model != "test-model" {
		t.Errorf("intent turns = %+v", turns)
	}
	var replies []string
	for _, tr := range rec.Path[1].AI {
		replies = append(replies, tr.Reply+"|"+tr.Tool)
	}
	if got := strings.Join(replies, ","); got != "That charge is the annual fee of 25 dollars.|,That charge is the annual fee of 25 dollars.|,|to_agent" {
		t.Errorf("assistant turns = %s", got)
	}
	if rec.Vars["reason"] != "wants a person" {
		t.Errorf("tool parameter reason = %v", rec.Vars["reason"])
	}
	checkModelRequests(t, srv)
	ins := waitInsights(t, s, rec.CallID)
	if ins.Source != "llm" || ins.Disposition != "transferred" || ins.KeyFacts["topic"] != "annual fee" {
		t.Errorf("insights = %+v", ins)
	}
	if *record {
		h, err := ops.History(context.Background(), s.c, rec.CallID, "")
		if err != nil {
			t.Fatal(err)
		}
		writeHistory(t, filepath.Join("..", "flows", "engine", "testdata", "histories", "billing-line-llm.json"), h)
	}
}

// checkModelRequests checks what the model was sent: the key, the model,
// the assistant's instructions and the conversation.
func checkModelRequests(t *testing.T, srv *llmtest.Server) {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) != 5 { // intent, three replies, summary
		t.Fatalf("model got %d requests, want 5", len(reqs))
	}
	for _, r := range reqs {
		if r.Authorization() != "Bearer test-key-not-secret" || r.Model != "test-model" {
			t.Errorf("request %d: auth %q model %q", r.N, r.Authorization(), r.Model)
		}
	}
	chat := reqs[3]
	if !strings.Contains(chat.System(), "billing assistant of Acme") || len(chat.Tools) != 2 {
		t.Errorf("chat request: system %q, %d tools", chat.System(), len(chat.Tools))
	}
	if got := chat.LastUser(); got != "let me talk to a person" {
		t.Errorf("last caller line sent = %q", got)
	}
}

func waitInsights(t *testing.T, s *stack, callID string) *records.Insights {
	t.Helper()
	var ins *records.Insights
	waitFor(t, "the call's insights", func() bool {
		rec, err := s.store.CDR(context.Background(), callID)
		ins = rec.Insights
		return err == nil && ins != nil
	})
	return ins
}
