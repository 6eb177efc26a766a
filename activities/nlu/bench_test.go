package nlu

import (
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

var benchUtterances = []string{
	"I want to pay my bill, it's account four four seven one",
	"my internet keeps cutting out since yesterday",
	"what's the weather like",
	"can I talk to a real person please",
	"we're moving on the 15th",
}

// BenchmarkClassify is one first-turn classification against the
// 9-intent set of testdata/intents.json, compiled once (as in a call).
func BenchmarkClassify(b *testing.B) {
	m, intents := NewMatcher(), loadIntents(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, err := m.Classify(activities.IntentInput{Utterance: benchUtterances[i%len(benchUtterances)], Intents: intents, Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileIntents is the one-off cost of a new intent set.
func BenchmarkCompileIntents(b *testing.B) {
	intents := loadIntents(b)
	b.ReportAllocs()
	for b.Loop() {
		buildIndex(intents)
	}
}

func BenchmarkExtractSlots(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ExtractSlots("pay $45.50 on account 4471 next friday at half past two", allTypes, testNow, time.UTC)
	}
}

func BenchmarkSentiment(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Sentiment("this is ridiculous, the third time I'm calling and your service is useless")
	}
}
