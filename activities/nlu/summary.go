package nlu

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// Dispositions Summarize derives from the outcome when the flow gives
// none to choose from.
const (
	DispositionResolved    = "resolved in IVR"
	DispositionTransferred = "transferred to agent"
	DispositionAbandoned   = "abandoned"
	DispositionNotAnswered = "not answered"
	DispositionFailed      = "failed"
	DispositionOther       = "other"
)

// maxKeyFacts bounds the key facts of a summary.
const maxKeyFacts = 24

// Summarize writes a call's insights without a model: a summary of two or
// three sentences (what the caller wanted, what they said, how the call
// ended), a disposition, the caller's sentiment weighted toward the end
// of the call, and key facts (scalar variables, intents and slots, and
// numbers, amounts, dates and times the caller said). The input is
// already redacted; nothing is redacted here.
func Summarize(in activities.SummarizeInput) activities.CallInsights {
	lines := callerLines(in.Transcript)
	intents, facts := varFacts(in.Vars)
	for k, v := range spokenFacts(lines) {
		if _, ok := facts[k]; !ok {
			facts[k] = v
		}
	}
	s := callerSentiment(lines)
	out := activities.CallInsights{
		Summary:        summaryText(in, lines, intents, facts),
		Disposition:    disposition(in, lines, intents),
		Sentiment:      s,
		SentimentLabel: activities.SentimentLabel(s),
		KeyFacts:       capFacts(facts),
		Source:         activities.SourceOffline,
	}
	return out
}

func callerLines(ts []activities.Turn) []string {
	var out []string
	for _, t := range ts {
		if t.From == activities.TurnCaller && strings.TrimSpace(t.Text) != "" {
			out = append(out, strings.TrimSpace(t.Text))
		}
	}
	return out
}

// callerSentiment is the mean sentiment of the caller's lines, line k
// (from 1) weighing k: how a call ends matters most.
func callerSentiment(lines []string) float64 {
	sum, weights := 0.0, 0.0
	for k, l := range lines {
		w := float64(k + 1)
		sum += w * Sentiment(l)
		weights += w
	}
	if weights == 0 {
		return 0
	}
	return roundTo(sum/weights, 3)
}

// varFacts reads the variables in name order: intent results (a map with
// an "intent", as an intent node's var holds) give the intents and their
// slots; other non-empty scalars are facts as they are.
func varFacts(vars map[string]any) ([]string, map[string]string) {
	facts := map[string]string{}
	var intents []string
	for _, k := range sortedKeys(vars) {
		switch v := vars[k].(type) {
		case map[string]any:
			name, _ := v["intent"].(string)
			if name == "" {
				continue
			}
			if !slices.Contains(intents, name) {
				intents = append(intents, name)
			}
			facts[k+".intent"] = name
			if slots, ok := v["slots"].(map[string]any); ok {
				for _, s := range sortedKeys(slots) {
					if text, ok := scalarText(slots[s]); ok {
						facts[s] = text
					}
				}
			}
		default:
			if text, ok := scalarText(v); ok && isFact(text) {
				facts[k] = text
			}
		}
	}
	return intents, facts
}

// isFact leaves out values that say nothing about the call: settings
// such as a CRM's URL, and values already redacted.
func isFact(text string) bool {
	if strings.HasPrefix(text, "http://") || strings.HasPrefix(text, "https://") {
		return false
	}
	return !(strings.HasPrefix(text, "[") && strings.HasSuffix(text, "]"))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// scalarText formats a non-empty scalar.
func scalarText(v any) (string, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case int:
		s = strconv.Itoa(x)
	case int64:
		s = strconv.FormatInt(x, 10)
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		s = x.String()
	default:
		return "", false
	}
	s = strings.TrimSpace(s)
	return s, s != ""
}

// factSlots are what spokenFacts looks for in the caller's lines: digit
// strings need a word naming them ("account 4471"); amounts a currency.
var factSlots = []activities.SlotDef{
	{Name: "amount", Type: activities.SlotMoney},
	{Name: "account", Type: activities.SlotDigits},
	{Name: "phone", Type: activities.SlotDigits},
	{Name: "zip", Type: activities.SlotDigits},
	{Name: "order", Type: activities.SlotDigits},
	{Name: "reference", Type: activities.SlotDigits},
}

// spokenFacts finds numbers, amounts, dates and times in what the caller
// said. Dates and times are kept as said ("next friday"): a summary has
// no clock to resolve them against.
func spokenFacts(lines []string) map[string]string {
	facts := map[string]string{}
	for _, l := range lines {
		st := newSlotText(l, time.Time{}, time.UTC)
		for _, d := range factSlots {
			hints := slotHints(d)
			for _, c := range st.find(d, false) {
				if _, done := facts[d.Name]; done || !st.free(c) {
					continue
				}
				if d.Type == activities.SlotDigits && !st.namedBefore(c.from, hints) {
					continue
				}
				st.claim(c)
				facts[d.Name] = fmt.Sprint(c.value)
			}
		}
		for _, kind := range []string{activities.SlotDate, activities.SlotTime} {
			for _, c := range st.find(activities.SlotDef{Type: kind}, false) {
				if _, done := facts[kind]; !done && st.free(c) {
					st.claim(c)
					facts[kind] = l[st.ts[c.from].start:st.ts[c.to-1].end]
				}
			}
		}
	}
	return facts
}

// capFacts keeps the first maxKeyFacts facts by name.
func capFacts(facts map[string]string) map[string]string {
	if len(facts) == 0 {
		return nil
	}
	keys := sortedKeys(facts)
	for _, k := range keys[min(len(keys), maxKeyFacts):] {
		delete(facts, k)
	}
	return facts
}

func roundTo(v float64, places int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', places, 64), 64)
	return p
}
