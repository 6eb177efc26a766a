package nlu

import (
	"fmt"
	"strings"

	"github.com/voxflow/voxflow/activities"
)

// outcomeDispositions map call outcomes (records.Outcome*, and the
// originate results of outbound calls) to dispositions.
var outcomeDispositions = map[string]string{
	"completed":     DispositionResolved,
	"transferred":   DispositionTransferred,
	"bridged":       DispositionTransferred,
	"caller_hangup": DispositionAbandoned,
	"no_answer":     DispositionNotAnswered,
	"busy":          DispositionNotAnswered,
	"failed":        DispositionFailed,
	"media_lost":    DispositionFailed,
	"max_steps":     DispositionFailed,
}

func outcomeDisposition(outcome string) string {
	if d, ok := outcomeDispositions[outcome]; ok {
		return d
	}
	return DispositionOther
}

// disposition picks among in.Dispositions the one whose words best match
// what happened (the intents, what the caller said, the outcome and the
// nodes taken), by the intent matcher itself; the first when none
// matches. Without a list it is derived from the outcome.
func disposition(in activities.SummarizeInput, lines, intents []string) string {
	derived := outcomeDisposition(in.Outcome)
	if len(in.Dispositions) == 0 {
		return derived
	}
	defs := make([]activities.IntentDef, len(in.Dispositions))
	for i, d := range in.Dispositions {
		defs[i] = activities.IntentDef{Name: d, Examples: []string{humanize(d)}}
	}
	var material []string
	for _, it := range intents {
		material = append(material, humanize(it))
	}
	material = append(material, lines...)
	material = append(material, humanize(in.Outcome), derived)
	for _, p := range in.Path {
		material = append(material, humanize(p))
	}
	ix := buildIndex(defs)
	ranked := ix.rank(ix.matchWords(contentWords(tokenize(strings.Join(material, ". ")))))
	if ranked[0].raw > 0 {
		return in.Dispositions[ranked[0].index]
	}
	return in.Dispositions[0]
}

// humanize turns a name into words: "pay_bill" is "pay bill".
func humanize(name string) string {
	return strings.Join(strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '-' || r == '.' }), " ")
}

// summaryText is two or three sentences: the intents recognised, what the
// caller said, and how the call ended.
func summaryText(in activities.SummarizeInput, lines, intents []string, facts map[string]string) string {
	var ss []string
	if len(intents) > 0 {
		hs := make([]string, len(intents))
		for i, it := range intents {
			hs[i] = humanize(it)
		}
		label := "Recognised intent"
		if len(hs) > 1 {
			label += "s"
		}
		ss = append(ss, fmt.Sprintf("%s: %s%s.", label, strings.Join(hs, ", then "), factNote(facts)))
	}
	switch said := telling(lines); {
	case said == "":
		ss = append(ss, "The caller said nothing that was transcribed.")
	case len(lines) > 1:
		ss = append(ss, fmt.Sprintf("The caller spoke %d times, saying among other things %q.", len(lines), said))
	default:
		ss = append(ss, fmt.Sprintf("The caller said %q.", said))
	}
	ss = append(ss, endSentence(in, lines))
	return strings.Join(ss, " ")
}

// factNote lists a few slot-like facts: " (account 4471, amount 12.50)".
func factNote(facts map[string]string) string {
	var parts []string
	for _, k := range []string{"account", "amount", "date", "time", "phone", "zip"} {
		if v, ok := facts[k]; ok {
			parts = append(parts, k+" "+v)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// telling is the caller line with the most content words (the first of
// equals), cut to 120 characters.
func telling(lines []string) string {
	best, most := "", -1
	for _, l := range lines {
		if n := len(contentWords(tokenize(l))); n > most {
			best, most = l, n
		}
	}
	if r := []rune(best); len(r) > 120 {
		best = strings.TrimSpace(string(r[:119])) + "…"
	}
	return best
}

// endSentence says how the call ended, where, and how the caller felt
// when that was not neutral.
func endSentence(in activities.SummarizeInput, lines []string) string {
	at := ""
	if n := len(in.Path); n > 0 {
		at = " at node " + in.Path[n-1]
	}
	var s string
	switch outcomeDisposition(in.Outcome) {
	case DispositionResolved:
		s = "The call ended in the flow" + at
	case DispositionTransferred:
		s = "The call was transferred to an agent" + strings.Replace(at, " at ", " from ", 1)
	case DispositionAbandoned:
		s = "The caller hung up" + at
	case DispositionNotAnswered:
		s = "The call was not answered (" + in.Outcome + ")"
	case DispositionFailed:
		s = "The call failed (" + in.Outcome + ")" + at
	default:
		s = "The call ended with outcome " + fmt.Sprintf("%q", in.Outcome) + at
	}
	if l := activities.SentimentLabel(callerSentiment(lines)); l != activities.SentimentNeutral {
		s += ", and the caller sounded " + l
	}
	return s + "."
}
