package llm

import (
	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/nlu"
)

// Offline answers intents and summaries without a model: the activities
// use it when no endpoint is configured or the endpoint is down.
type Offline interface {
	Classify(in activities.IntentInput) (activities.IntentResult, error)
	Summarize(in activities.SummarizeInput) activities.CallInsights
}

// NLU is package nlu's offline matcher and summariser as an Offline.
type NLU struct{ Matcher *nlu.Matcher }

// NewNLU returns the offline matcher.
func NewNLU() NLU { return NLU{Matcher: nlu.NewMatcher()} }

// Classify runs the offline intent matcher.
func (n NLU) Classify(in activities.IntentInput) (activities.IntentResult, error) {
	return n.Matcher.Classify(in)
}

// Summarize runs the offline summariser.
func (n NLU) Summarize(in activities.SummarizeInput) activities.CallInsights {
	return nlu.Summarize(in)
}
