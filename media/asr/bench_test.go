package asr

import (
	"context"
	"testing"
)

// benchUtterance is about 1.5 s of espeak-ng speech at 8 kHz.
func benchUtterance(b *testing.B, text string) []int16 {
	b.Helper()
	return say(b, text, "en-us")
}

func benchRecognizer(b *testing.B) *Pocketsphinx {
	b.Helper()
	p := NewPocketsphinx("")
	if err := p.Check(); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkRecognize is one menu decision: the grammar and the rejection
// decode side by side (closed: the grammar alone).
func BenchmarkRecognize(b *testing.B) {
	phrases := []string{"billing", "sales", "technical support", "operator"}
	for _, closed := range []bool{false, true} {
		name := "rejecting"
		if closed {
			name = "closed"
		}
		b.Run(name, func(b *testing.B) {
			p := benchRecognizer(b)
			p.ClosedGrammar = closed
			pcm := benchUtterance(b, "technical support please")
			ctx := context.Background()
			if _, err := p.Recognize(ctx, pcm, phrases, "en-US"); err != nil { // warm the dictionary and model
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Recognize(ctx, pcm, phrases, "en-US"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(pcm))/Rate, "audio_s")
		})
	}
}

// BenchmarkTranscribe is one free-speech turn with the intent hints.
func BenchmarkTranscribe(b *testing.B) {
	p := benchRecognizer(b)
	pcm := benchUtterance(b, "i want to pay my bill")
	ctx := context.Background()
	if _, err := p.Transcribe(ctx, pcm, intentHints, "en-US"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := p.Transcribe(ctx, pcm, intentHints, "en-US"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pcm))/Rate, "audio_s")
}

// BenchmarkHintModel is building a transcription model (done once per
// hint set, then cached).
func BenchmarkHintModel(b *testing.B) {
	p := benchRecognizer(b)
	dict, err := p.loadDict()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		hintCorpus(dict, intentHints).model()
	}
}
