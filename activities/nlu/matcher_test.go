package nlu

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/voxflow/voxflow/activities"
)

func classify(t *testing.T, m *Matcher, intents []activities.IntentDef, utterance string) activities.IntentResult {
	t.Helper()
	res, err := m.Classify(activities.IntentInput{Utterance: utterance, Intents: intents, Now: testNow, TimeZone: "UTC"})
	if err != nil {
		t.Fatalf("Classify(%q): %v", utterance, err)
	}
	return res
}

func TestClassifyErrors(t *testing.T) {
	m := NewMatcher()
	for _, c := range []struct {
		name string
		in   activities.IntentInput
		want error
	}{
		{"no intents", activities.IntentInput{Utterance: "pay my bill"}, ErrNoIntents},
		{"unknown slot type", activities.IntentInput{Utterance: "pay", Intents: []activities.IntentDef{
			{Name: "pay", Examples: []string{"pay"}, Slots: []activities.SlotDef{{Name: "x", Type: "colour"}}},
		}}, ErrUnknownSlotType},
		{"follow-up of an undeclared intent", activities.IntentInput{Utterance: "4471", Intent: "billing", Intents: []activities.IntentDef{
			{Name: "pay", Examples: []string{"pay"}},
		}}, ErrUnknownIntent},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := m.Classify(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("Classify error = %v, want %v", err, c.want)
			}
		})
	}
}

func TestClassifyClearAndUnrelated(t *testing.T) {
	m, intents := NewMatcher(), loadIntents(t)
	for _, u := range []string{
		"I want to pay my bill", "what's my balance", "cancel my service", "my internet is not working",
		"I want to sign up for internet", "let me talk to a representative", "change my address",
		"what are your opening hours", "is there an outage in my area", "agent", "representative",
	} {
		if res := classify(t, m, intents, u); res.Confidence <= 0.7 {
			t.Errorf("clear %q: %s at %.3f, want above 0.7", u, res.Intent, res.Confidence)
		}
	}
	for _, u := range []string{"hello", "what's the weather like", "blah", "um", "", "thank you", "my cat is sick"} {
		res := classify(t, m, intents, u)
		if res.Confidence >= 0.5 {
			t.Errorf("unrelated %q: %s at %.3f, want below 0.5", u, res.Intent, res.Confidence)
		}
		if res.Intent != "" && res.Confidence == 0 {
			t.Errorf("unrelated %q: intent %s with confidence 0", u, res.Intent)
		}
	}
	if res := classify(t, m, intents, "blah"); res.Intent != "" || res.Slots != nil {
		t.Errorf("nothing overlaps: got %+v, want no intent", res)
	}
}

func TestClassifyTieLowersConfidence(t *testing.T) {
	m := NewMatcher()
	pay := activities.IntentDef{Name: "pay", Examples: []string{"pay my bill"}}
	alone := classify(t, m, []activities.IntentDef{pay}, "pay my bill")
	tied := classify(t, m, []activities.IntentDef{pay, {Name: "pay_again", Examples: []string{"pay my bill"}}}, "pay my bill")
	if alone.Intent != "pay" || tied.Intent != "pay" {
		t.Fatalf("intents %q and %q, want pay (the first of equals)", alone.Intent, tied.Intent)
	}
	if tied.Confidence >= alone.Confidence || tied.Confidence >= 0.7 {
		t.Errorf("a tie kept confidence %.3f (alone %.3f)", tied.Confidence, alone.Confidence)
	}
}

func TestClassifyFuzzyAndSynonyms(t *testing.T) {
	m, intents := NewMatcher(), loadIntents(t)
	for u, want := range map[string]string{
		"I need to pay my biling":        "pay_bill",
		"check my acount balance":        "check_balance",
		"I want to speak to a human":     "speak_to_agent",
		"terminate my contract":          "cancel_service",
		"my broadband keeps cutting out": "tech_support",
		"what time does the shop open":   "opening_hours",
		"the outedge in my area":         "report_outage",
		"I'm relocating to a new house":  "change_address",
		"payment":                        "pay_bill",
		"operater":                       "speak_to_agent",
	} {
		if res := classify(t, m, intents, u); res.Intent != want || res.Confidence < 0.5 {
			t.Errorf("%q: %q at %.3f, want %s", u, res.Intent, res.Confidence, want)
		}
	}
}

func TestClassifySlotsOfChosenIntentOnly(t *testing.T) {
	m, intents := NewMatcher(), loadIntents(t)
	res := classify(t, m, intents, "I want to pay my bill, it's account 4471")
	if res.Intent != "pay_bill" || !reflect.DeepEqual(res.Slots, map[string]any{"account": "4471"}) {
		t.Errorf("got %s %v, want pay_bill with account 4471", res.Intent, res.Slots)
	}
	// "zip" belongs to report_outage: a billing utterance does not fill it.
	res = classify(t, m, intents, "pay my bill, zip code 90210")
	if _, ok := res.Slots["zip"]; ok || res.Intent != "pay_bill" {
		t.Errorf("got %s %v, want pay_bill without zip", res.Intent, res.Slots)
	}
	if res.Source != activities.SourceOffline {
		t.Errorf("source %q", res.Source)
	}
}

func TestClassifyTextSlot(t *testing.T) {
	m := NewMatcher()
	intents := []activities.IntentDef{
		{Name: "cancel", Examples: []string{"cancel my service"}, Slots: []activities.SlotDef{{Name: "reason", Type: activities.SlotText}}},
		{Name: "agent", Examples: []string{"talk to an agent"}},
	}
	res := classify(t, m, intents, "cancel my service because it is too expensive")
	if res.Slots["reason"] != "because it is too expensive" {
		t.Errorf("reason = %q", res.Slots["reason"])
	}
	if res := classify(t, m, intents, "cancel my service"); res.Slots != nil {
		t.Errorf("nothing after the trigger words, got %v", res.Slots)
	}
}

func TestClassifyFollowUp(t *testing.T) {
	m, intents := NewMatcher(), loadIntents(t)
	for _, c := range []struct {
		intent, utterance string
		want              []string
		slots             map[string]any
	}{
		{"pay_bill", "4471", []string{"account"}, map[string]any{"account": "4471"}},
		{"pay_bill", "it's four four seven one", []string{"account"}, map[string]any{"account": "4471"}},
		{"pay_bill", "forty five", []string{"amount"}, map[string]any{"amount": "45.00"}},
		// The wanted slot takes the bare number; the other one needs a currency.
		{"pay_bill", "4471 and I'll pay $20", []string{"account"}, map[string]any{"account": "4471", "amount": "20.00"}},
		{"change_address", "the fifteenth", []string{"move_date"}, map[string]any{"move_date": "2026-05-15"}},
		{"cancel_service", "the telly, er, tv", []string{"service"}, map[string]any{"service": "tv"}},
		{"pay_bill", "I don't know it", []string{"account"}, nil},
	} {
		res, err := m.Classify(activities.IntentInput{Utterance: c.utterance, Intents: intents, Intent: c.intent, Want: c.want, Now: testNow})
		if err != nil {
			t.Fatal(err)
		}
		if res.Intent != c.intent || res.Confidence != 1 || !reflect.DeepEqual(res.Slots, c.slots) {
			t.Errorf("follow-up %q for %v: got %s %.2f %#v, want %#v", c.utterance, c.want, res.Intent, res.Confidence, res.Slots, c.slots)
		}
	}
	text := []activities.IntentDef{{Name: "report", Examples: []string{"report a problem"}, Slots: []activities.SlotDef{{Name: "details", Type: activities.SlotText}}}}
	res, err := m.Classify(activities.IntentInput{Utterance: " the box shows error 42 ", Intents: text, Intent: "report", Want: []string{"details"}})
	if err != nil || res.Slots["details"] != "the box shows error 42" {
		t.Errorf("wanted text slot: %v %v", res.Slots, err)
	}
}

func TestClassifyDescriptionOnly(t *testing.T) {
	m := NewMatcher()
	intents := []activities.IntentDef{
		{Name: "billing", Description: "Paying a bill or a question about an invoice"},
		{Name: "agent", Description: "Talk to a live person"},
	}
	for u, want := range map[string]string{"I have a question about my invoice": "billing", "a person please": "agent"} {
		if res := classify(t, m, intents, u); res.Intent != want || res.Confidence < 0.5 {
			t.Errorf("%q: %s at %.3f, want %s", u, res.Intent, res.Confidence, want)
		}
	}
}

func TestClassifyDeterministicAndConcurrent(t *testing.T) {
	m, intents := NewMatcher(), loadIntents(t)
	utterances := []string{"pay my bill for account 4471", "cancel my tv", "is there an outage", "agent please", "blah"}
	want := make([]activities.IntentResult, len(utterances))
	for i, u := range utterances {
		want[i] = classify(t, NewMatcher(), intents, u)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(utterances))
	for range 8 {
		wg.Go(func() {
			for i, u := range utterances {
				res, err := m.Classify(activities.IntentInput{Utterance: u, Intents: intents, Now: testNow, TimeZone: "UTC"})
				if err != nil || !reflect.DeepEqual(res, want[i]) {
					errs <- u
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for u := range errs {
		t.Errorf("%q: result differs between runs", u)
	}
}

func TestMatcherKeysSetsByContent(t *testing.T) {
	m := NewMatcher()
	a := []activities.IntentDef{{Name: "x", Examples: []string{"pay my bill"}}, {Name: "y", Examples: []string{"talk to an agent"}}}
	b := []activities.IntentDef{{Name: "x", Examples: []string{"talk to an agent"}}, {Name: "y", Examples: []string{"pay my bill"}}}
	if got := classify(t, m, a, "pay my bill").Intent; got != "x" {
		t.Errorf("set a: %q, want x", got)
	}
	if got := classify(t, m, b, "pay my bill").Intent; got != "y" {
		t.Errorf("set b (same names, other examples): %q, want y", got)
	}
	split := []activities.IntentDef{{Name: "x", Examples: []string{"pay my", "bill"}}}
	joined := []activities.IntentDef{{Name: "x", Examples: []string{"pay my bill"}}}
	if setKey(split) == setKey(joined) {
		t.Error("sets with differently split examples share a key")
	}
	if setKey(a) != setKey([]activities.IntentDef{a[0], a[1]}) {
		t.Error("equal sets have different keys")
	}
}

// Confirmation intents live on the words other intents ignore: "yes",
// "no", "sure", "not".
func TestClassifyYesNo(t *testing.T) {
	m := NewMatcher()
	defs := []activities.IntentDef{
		{Name: "yes", Examples: []string{"yes", "yes please", "sure", "that's right", "ok"}},
		{Name: "no", Examples: []string{"no", "no thanks", "not now", "nope"}},
	}
	for said, want := range map[string]string{"yes": "yes", "sure thing": "yes", "no": "no", "nope, not today": "no", "ok": "yes"} {
		r, err := m.Classify(activities.IntentInput{Utterance: said, Intents: defs})
		if err != nil || r.Intent != want || r.Confidence < 0.5 {
			t.Errorf("%q: %s at %.2f (%v), want %s", said, r.Intent, r.Confidence, err, want)
		}
	}
}
