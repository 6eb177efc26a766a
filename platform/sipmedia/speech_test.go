package sipmedia

import (
	"context"
	"log/slog"
	"testing"

	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/platform/config"
)

type silentTTS struct{}

func (silentTTS) Synthesize(_ context.Context, _, _, _ string) ([]int16, error) { return nil, nil }

func TestSpeechProviders(t *testing.T) {
	t.Setenv("VOXFLOW_LLM_API_KEY", "k")
	log := slog.New(slog.DiscardHandler)

	var offline sipworker.Config
	if err := speechProviders(&offline, config.AI{LLMURL: "http://127.0.0.1:1/v1"}, log); err != nil {
		t.Fatal(err)
	}
	if offline.Transcriber != nil || offline.TTS != nil {
		t.Errorf("an endpoint alone moved speech off the worker: %+v", offline)
	}

	wc := sipworker.Config{TTS: silentTTS{}}
	ai := config.AI{LLMURL: "http://127.0.0.1:1/v1", TranscribeModel: "whisper-1", TTSModel: "tts-1", TTSVoice: "alloy"}
	if err := speechProviders(&wc, ai, log); err != nil {
		t.Fatal(err)
	}
	if _, ok := wc.Transcriber.(*asr.OpenAI); !ok {
		t.Errorf("transcriber = %T, want *asr.OpenAI", wc.Transcriber)
	}
	if _, ok := wc.TTS.(silentTTS); ok || wc.TTS == nil {
		t.Errorf("voice = %T, want the endpoint's with the local one behind it", wc.TTS)
	}
}
