package nlu

import (
	"math"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

var fuzzSeeds = []string{
	"I want to pay my bill, it's account 4471", "four four seventy one", "double oh seven",
	"$12.50 tomorrow at half past two", "the 31st of February", "quarter to five pm",
	"twenty twenty six", "a hundred bucks and fifty cents", "12/25/99", "2026-13-45",
	"oh", "and and and", "point point five", "next next friday", "at 99", "€", "’s",
	"can't won't I'd", "wi-fi twenty-five", "ＡＢＣ ١٢٣", "\x00\xff", "", "1,2,3.4.5",
	"nine hundred thousand million billion", "triple double four", "the 0th",
}

func FuzzClassify(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, false)
	}
	intents := loadIntents(f)
	f.Add("pay my bill", true)
	m := NewMatcher()
	f.Fuzz(func(t *testing.T, utterance string, followUp bool) {
		in := activities.IntentInput{Utterance: utterance, Intents: intents, Now: testNow, TimeZone: "Europe/Paris"}
		if followUp {
			in.Intent, in.Want = "pay_bill", []string{"amount"}
		}
		res, err := m.Classify(in)
		if err != nil {
			t.Fatal(err)
		}
		if res.Confidence < 0 || res.Confidence > 1 || math.IsNaN(res.Confidence) {
			t.Fatalf("confidence %v", res.Confidence)
		}
		if res.Sentiment < -1 || res.Sentiment > 1 || math.IsNaN(res.Sentiment) {
			t.Fatalf("sentiment %v", res.Sentiment)
		}
		if res.Intent == "" {
			if len(res.Slots) > 0 {
				t.Fatalf("slots without an intent: %v", res.Slots)
			}
			return
		}
		k := slices.IndexFunc(intents, func(d activities.IntentDef) bool { return d.Name == res.Intent })
		if k < 0 {
			t.Fatalf("undeclared intent %q", res.Intent)
		}
		for name, v := range res.Slots {
			j := slices.IndexFunc(intents[k].Slots, func(d activities.SlotDef) bool { return d.Name == name })
			if j < 0 {
				t.Fatalf("slot %q is not %s's", name, res.Intent)
			}
			checkSlotValue(t, intents[k].Slots[j], v)
		}
	})
}

var allTypes = []activities.SlotDef{
	{Name: "n", Type: activities.SlotNumber}, {Name: "account", Type: activities.SlotDigits},
	{Name: "zip", Type: activities.SlotDigits}, {Name: "d", Type: activities.SlotDate},
	{Name: "at", Type: activities.SlotTime}, {Name: "amount", Type: activities.SlotMoney},
	{Name: "note", Type: activities.SlotText},
	{Name: "service", Type: activities.SlotEnum, Values: []string{"internet", "tv", "mobile phone", "2"}},
}

func FuzzExtractSlots(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for name, v := range ExtractSlots(text, allTypes, testNow, time.UTC) {
			k := slices.IndexFunc(allTypes, func(d activities.SlotDef) bool { return d.Name == name })
			if k < 0 {
				t.Fatalf("undeclared slot %q", name)
			}
			checkSlotValue(t, allTypes[k], v)
		}
		for _, d := range allTypes {
			if v, ok := ParseSlot(d.Type, text, d.Values, testNow, time.UTC); ok {
				checkSlotValue(t, d, v)
			}
		}
	})
}

var (
	digitsRE = regexp.MustCompile(`^[0-9]+$`)
	moneyRE  = regexp.MustCompile(`^[0-9]+\.[0-9]{2}$`)
	timeRE   = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
)

// checkSlotValue fails on a value that is not of its slot's type.
func checkSlotValue(t *testing.T, d activities.SlotDef, v any) {
	t.Helper()
	ok := false
	switch d.Type {
	case activities.SlotNumber:
		switch n := v.(type) {
		case int:
			ok = true
		case float64:
			ok = !math.IsNaN(n) && !math.IsInf(n, 0) && (n != math.Trunc(n) || math.Abs(n) >= 1<<53)
		}
	case activities.SlotDigits:
		s, isStr := v.(string)
		ok = isStr && digitsRE.MatchString(s)
	case activities.SlotMoney:
		s, isStr := v.(string)
		ok = isStr && moneyRE.MatchString(s)
	case activities.SlotTime:
		s, isStr := v.(string)
		ok = isStr && timeRE.MatchString(s)
	case activities.SlotDate:
		s, isStr := v.(string)
		_, err := time.Parse(dateLayout, s)
		ok = isStr && err == nil
	case activities.SlotEnum:
		s, isStr := v.(string)
		ok = isStr && slices.Contains(d.Values, s)
	case activities.SlotText:
		s, isStr := v.(string)
		ok = isStr && s != ""
	}
	if !ok {
		t.Fatalf("slot %s (%s) has value %#v", d.Name, d.Type, v)
	}
}

func FuzzSentiment(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Add("not not not very really so useless but great")
	f.Fuzz(func(t *testing.T, text string) {
		if s := Sentiment(text); s < -1 || s > 1 || math.IsNaN(s) {
			t.Fatalf("Sentiment(%q) = %v", text, s)
		}
	})
}

func FuzzSummarize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, "completed")
	}
	f.Fuzz(func(t *testing.T, text, outcome string) {
		got := Summarize(activities.SummarizeInput{
			Outcome:      outcome,
			Transcript:   []activities.Turn{{From: activities.TurnCaller, Text: text}},
			Vars:         map[string]any{"v": text},
			Dispositions: []string{"Sales", text},
		})
		if got.Summary == "" || got.Sentiment < -1 || got.Sentiment > 1 || got.Disposition == "" {
			t.Fatalf("Summarize(%q, %q) = %+v", text, outcome, got)
		}
	})
}
