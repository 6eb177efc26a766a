package engine_test

import (
	"context"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// aiFakes are scripted AI activities: classify and chat answer from the
// test's functions and record what they were asked.
type aiFakes struct {
	intents  []activities.IntentInput
	chats    []activities.ChatInput
	alerts   []activities.CallAlertInput
	sums     []activities.SummarizeInput
	classify func(activities.IntentInput) (activities.IntentResult, error)
	chat     func(activities.ChatInput) (activities.ChatResult, error)
	tool     func(map[string]any) (any, error)
}

func (h *harness) registerAI(a *aiFakes) {
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.IntentInput) (activities.IntentResult, error) {
		a.intents = append(a.intents, in)
		return a.classify(in)
	}, activity.RegisterOptions{Name: activities.ActIntent})
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.ChatInput) (activities.ChatResult, error) {
		a.chats = append(a.chats, in)
		return a.chat(in)
	}, activity.RegisterOptions{Name: activities.ActChat})
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.CallAlertInput) error {
		a.alerts = append(a.alerts, in)
		return nil
	}, activity.RegisterOptions{Name: activities.ActCallAlert})
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in activities.SummarizeInput) (activities.CallInsights, error) {
		a.sums = append(a.sums, in)
		return activities.CallInsights{Summary: "Paid a bill.", Disposition: "resolved", Sentiment: 0.2,
			SentimentLabel: activities.SentimentNeutral, Source: activities.SourceOffline}, nil
	}, activity.RegisterOptions{Name: activities.ActSummarize})
	h.env.RegisterActivityWithOptions(func(ctx context.Context, in map[string]any) (any, error) {
		return a.tool(in)
	}, activity.RegisterOptions{Name: "crm.Balance"})
}

const intentFlow = `
name: intent-test
entry: understand
sensitive: [pin]
variables:
  pin: "9876"
settings:
  llm_model: small-model
  summary: true
nodes:
  understand:
    type: intent
    prompt: What are you calling about?
    intents:
      billing:
        examples: ["pay my bill"]
        slots:
          account: {type: digits, required: true, ask: "What is your account number?"}
        next: billing
      agent:
        description: speak to a person
        next: agent
    min_confidence: 0.6
    var: intent
    invalid_prompt: Sorry, I did not get that.
    no_match: menu
    on_error: menu
  billing:
    type: hangup
    say: "Account {{ vars.account }}."
  agent:
    type: hangup
    say: Agent.
  menu:
    type: hangup
    say: Menu.
`

// keyword classifies by keyword, like a model would, and reads a digit run.
func keyword(in activities.IntentInput) (activities.IntentResult, error) {
	u := strings.ToLower(in.Utterance)
	r := activities.IntentResult{Source: activities.SourceLLM, Model: in.Model, Slots: map[string]any{}}
	switch {
	case in.Intent != "":
		r.Intent, r.Confidence = in.Intent, 1
	case strings.Contains(u, "bill"):
		r.Intent, r.Confidence = "billing", 0.9
	case strings.Contains(u, "person"):
		r.Intent, r.Confidence = "agent", 0.9
	case strings.Contains(u, "maybe"):
		r.Intent, r.Confidence = "billing", 0.3
	}
	if strings.Contains(u, "furious") {
		r.Sentiment = -0.9
	}
	for _, w := range strings.Fields(u) {
		if strings.Trim(w, ".,") != "" && strings.Trim(w, "0123456789.,") == "" {
			r.Slots["account"] = strings.Trim(w, ".,")
		}
	}
	return r, nil
}

func TestIntentNode(t *testing.T) {
	tests := []struct {
		name, path, account string
		inputs              []string
		intents             int
		prompts             []string
	}{
		{"intent with slot", "understand>billing", "4471", []string{"I want to pay my bill, account 4471"}, 1,
			[]string{"What are you calling about?", "Account 4471."}},
		{"slot follow-up by voice", "understand>billing", "4471", []string{"pay my bill", "it is 4471"}, 2,
			[]string{"What are you calling about?", "What is your account number?", "Account 4471."}},
		{"slot follow-up by keys", "understand>billing", "5566", []string{"pay my bill", "5566#"}, 1, nil},
		{"slot never given", "understand>menu", "", []string{"pay my bill", "", ""}, 1, nil},
		{"low confidence asks again", "understand>agent", "", []string{"maybe", "a person please"}, 2,
			[]string{"What are you calling about?", "Sorry, I did not get that.", "What are you calling about?", "Agent."}},
		{"no match after retries", "understand>menu", "", []string{"hello", "weather"}, 2, nil},
		{"keys go to the menu", "understand>menu", "", []string{"1"}, 0, nil},
		{"silence", "understand>menu", "", []string{"", ""}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.inputs...)
			ai := &aiFakes{classify: keyword}
			h.registerAI(ai)
			rec := h.run(intentFlow)
			if got := path(rec); got != tt.path {
				t.Fatalf("path = %s, want %s", got, tt.path)
			}
			if got, _ := rec.Vars["account"].(string); got != tt.account {
				t.Errorf("account = %q, want %q", got, tt.account)
			}
			if len(ai.intents) != tt.intents {
				t.Errorf("classified %d times, want %d", len(ai.intents), tt.intents)
			}
			if tt.prompts != nil {
				if got := h.prompts(); strings.Join(got, "|") != strings.Join(tt.prompts, "|") {
					t.Errorf("prompts = %q, want %q", got, tt.prompts)
				}
			}
			for _, in := range ai.intents {
				if in.Model != "small-model" || len(in.Intents) != 2 || in.Intents[1].Name != "billing" {
					t.Errorf("intent request = %+v", in)
				}
			}
		})
	}
}

func TestIntentNodeRecordsTurnsRedactsAndSummarises(t *testing.T) {
	h := newHarness(t, "I'm furious, pay my bill with card 4111 1111 1111 1111 and pin 9876", "4471")
	ai := &aiFakes{classify: keyword}
	h.registerAI(ai)
	rec := h.run(intentFlow)
	if got := path(rec); got != "understand>billing" {
		t.Fatalf("path = %s", got)
	}
	u := ai.intents[0].Utterance
	if strings.Contains(u, "4111") || strings.Contains(u, "9876") || !strings.Contains(u, "furious") {
		t.Errorf("model saw %q: card or pin not redacted", u)
	}
	turns := rec.Path[0].AI
	// The account came as keys: no second classification.
	if len(turns) != 1 || turns[0].Intent != "billing" || turns[0].Confidence != 0.9 || turns[0].Source != activities.SourceLLM {
		t.Fatalf("AI turns = %+v", turns)
	}
	if rec.Vars["pin"] != "[redacted]" {
		t.Errorf("CDR pin = %v", rec.Vars["pin"])
	}
	iv, _ := rec.Vars["intent"].(map[string]any)
	if iv["intent"] != "billing" || iv["source"] != activities.SourceLLM {
		t.Errorf("var intent = %v", rec.Vars["intent"])
	}
	if len(ai.alerts) != 1 || ai.alerts[0].Action != activities.AlertNegativeSentiment {
		t.Errorf("alerts = %+v, want one negative_sentiment", ai.alerts)
	}
	var lines []string
	for _, l := range rec.Transcript {
		lines = append(lines, l.From+": "+l.Text)
		if strings.Contains(l.Text, "4111") || strings.Contains(l.Text, "9876") {
			t.Errorf("transcript line %q not redacted", l.Text)
		}
	}
	if len(lines) != 4 || !strings.HasPrefix(lines[0], records.ChatFlow+": What are you") {
		t.Errorf("transcript = %q", lines)
	}
	if rec.Insights == nil || rec.Insights.Summary != "Paid a bill." || len(h.cdrs) != 2 {
		t.Errorf("insights = %+v, saved %d records", rec.Insights, len(h.cdrs))
	}
	if s := ai.sums[0]; len(s.Transcript) != 4 || s.Vars["pin"] != "[redacted]" {
		t.Errorf("summary input = %+v", s)
	}
}

func TestIntentModelFailureTakesOnError(t *testing.T) {
	h := newHarness(t, "pay my bill")
	h.registerAI(&aiFakes{classify: func(activities.IntentInput) (activities.IntentResult, error) {
		return activities.IntentResult{}, activities.NewAIUnavailable("model endpoint unavailable (circuit open)", nil)
	}})
	rec := h.run(intentFlow)
	if got := path(rec); got != "understand>menu" || rec.Path[0].Outcome != "on_error" {
		t.Fatalf("path = %s (%s)", got, rec.Path[0].Outcome)
	}
	if e := rec.Path[0].AI[0].Error; !strings.Contains(e, "circuit open") {
		t.Errorf("AI turn error = %q", e)
	}
}

const llmFlow = `
name: llm-test
entry: assistant
variables:
  account: "4471"
nodes:
  assistant:
    type: llm
    system: "You help with account {{ vars.account }}."
    prompt: How can I help?
    max_turns: 3
    tools:
      to_agent:
        description: The caller wants a person
        params: {reason: string}
        next: agent
      balance:
        description: Look up the balance
        params: {account: string}
        activity: crm.Balance
    var: reply
    next: bye
    on_error: fallback
  agent:
    type: hangup
    say: "Agent, because {{ vars.reason }}."
  bye:
    type: hangup
    say: Bye.
  fallback:
    type: hangup
    say: Fallback.
`

func TestLLMNode(t *testing.T) {
	tests := []struct {
		name, path, reply string
		inputs            []string
		chats             int
		prompts           []string
	}{
		{"conversation until turns run out", "assistant>bye", "Third.", []string{"hi", "and?", "more"}, 3,
			[]string{"How can I help?", "First.", "Second.", "Third.", "Bye."}},
		{"silence ends it", "assistant>bye", "First.", []string{"hi", ""}, 1, nil},
		{"exit tool", "assistant>agent", "", []string{"I want a person"}, 1,
			[]string{"How can I help?", "Agent, because asked."}},
		{"activity tool then reply", "assistant>bye", "Your balance is 12.", []string{"what is my balance", ""}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.inputs...)
			n := 0
			ai := &aiFakes{tool: func(in map[string]any) (any, error) {
				return map[string]any{"balance": 12, "account": in["account"]}, nil
			}}
			ai.chat = func(in activities.ChatInput) (activities.ChatResult, error) {
				last := in.Messages[len(in.Messages)-1]
				switch {
				case last.Role == "tool":
					return activities.ChatResult{Content: "Your balance is 12."}, nil
				case strings.Contains(last.Content, "person"):
					return activities.ChatResult{ToolCalls: []activities.ToolCall{{ID: "c1", Name: "to_agent", Arguments: `{"reason":"asked","extra":1}`}}}, nil
				case strings.Contains(last.Content, "balance"):
					return activities.ChatResult{ToolCalls: []activities.ToolCall{{ID: "c2", Name: "balance", Arguments: `{"account":"4471"}`}}}, nil
				}
				n++
				return activities.ChatResult{Content: []string{"First.", "Second.", "Third."}[n-1]}, nil
			}
			h.registerAI(ai)
			rec := h.run(llmFlow)
			if got := path(rec); got != tt.path {
				t.Fatalf("path = %s, want %s", got, tt.path)
			}
			if got, _ := rec.Vars["reply"].(string); got != tt.reply {
				t.Errorf("reply = %q, want %q", got, tt.reply)
			}
			if len(ai.chats) != tt.chats {
				t.Errorf("chats = %d, want %d", len(ai.chats), tt.chats)
			}
			if tt.prompts != nil {
				if got := h.prompts(); strings.Join(got, "|") != strings.Join(tt.prompts, "|") {
					t.Errorf("prompts = %q, want %q", got, tt.prompts)
				}
			}
			first := ai.chats[0]
			if first.Messages[0].Role != "system" || first.Messages[0].Content != "You help with account 4471." ||
				!strings.Contains(first.Messages[1].Content, `"account":"4471"`) || len(first.Tools) != 2 || first.MaxTokens != 256 {
				t.Errorf("first request = %+v", first)
			}
			if _, ok := rec.Vars["extra"]; ok {
				t.Error("an undeclared tool argument became a variable")
			}
		})
	}
}

func TestLLMNodeUnavailableTakesOnError(t *testing.T) {
	h := newHarness(t, "hi")
	h.registerAI(&aiFakes{chat: func(activities.ChatInput) (activities.ChatResult, error) {
		return activities.ChatResult{}, activities.NewAIUnavailable("no LLM endpoint configured", nil)
	}})
	rec := h.run(llmFlow)
	if got := path(rec); got != "assistant>fallback" {
		t.Fatalf("path = %s", got)
	}
}

// A security code said in its own turn is redacted with the question.
func TestLLMNodeRedactsAnswerToItsQuestion(t *testing.T) {
	h := newHarness(t, "three two one")
	ai := &aiFakes{chat: func(activities.ChatInput) (activities.ChatResult, error) {
		return activities.ChatResult{Content: "Thanks."}, nil
	}}
	h.registerAI(ai)
	src := strings.Replace(llmFlow, "prompt: How can I help?", "prompt: What is the security code on the back of your card?", 1)
	h.run(src)
	last := ai.chats[0].Messages[len(ai.chats[0].Messages)-1]
	if last.Role != "user" || strings.Contains(last.Content, "three") || !strings.Contains(last.Content, "[code]") {
		t.Errorf("the model saw %q", last.Content)
	}
}
