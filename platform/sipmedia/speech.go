package sipmedia

import (
	"fmt"
	"log/slog"

	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/tts"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
)

// speechProviders sets the worker's transcriber and voice from the model
// endpoint when ai.transcribe_model or ai.tts_model ask for it; otherwise
// the worker keeps its offline defaults (pocketsphinx, espeak-ng).
func speechProviders(wc *sipworker.Config, ai config.AI, log *slog.Logger) error {
	if ai.TranscribeModel == "" && ai.TTSModel == "" {
		return nil
	}
	key, err := platform.LLMKey(ai)
	if err != nil {
		return err
	}
	if ai.TranscribeModel != "" {
		tr, err := asr.NewOpenAI(asr.OpenAIConfig{BaseURL: ai.LLMURL, APIKey: key, Model: ai.TranscribeModel,
			APIType: ai.API, APIVersion: ai.APIVersion})
		if err != nil {
			return fmt.Errorf("ai.transcribe_model: %w", err)
		}
		wc.Transcriber = tr
		log.Info("asr: callers' free speech is transcribed by the model endpoint", "url", ai.LLMURL, "model", ai.TranscribeModel)
	}
	if ai.TTSModel != "" {
		local := wc.TTS
		if local == nil {
			local = tts.NewDefault(log)
		}
		voice, err := tts.NewOpenAIWithFallback(tts.OpenAIConfig{BaseURL: ai.LLMURL, APIKey: key, Model: ai.TTSModel,
			Voice: ai.TTSVoice, APIType: ai.API, APIVersion: ai.APIVersion}, tts.DefaultCacheBytes, "", local, log)
		if err != nil {
			return fmt.Errorf("ai.tts_model: %w", err)
		}
		wc.TTS = voice
		log.Info("tts: prompts are voiced by the model endpoint, espeak-ng when it fails", "url", ai.LLMURL, "model", ai.TTSModel)
	}
	return nil
}
