package sipworker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// countingTTS is toneTTS that counts what it renders, by text.
type countingTTS struct {
	toneTTS
	mu    sync.Mutex
	count map[string]int
}

func (c *countingTTS) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	c.mu.Lock()
	c.count[text]++
	c.mu.Unlock()
	return c.toneTTS.Synthesize(ctx, text, voice, language)
}

func (c *countingTTS) rendered(text string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count[text]
}

// The key's next prompt starts as soon as the key arrives (Then), before
// the next activity asks for it; the next collect, saying the same,
// adopts the playback instead of starting it again, and a later activity
// saying something else stops a speculation it does not want.
func TestSpeculatedPromptIsAdopted(t *testing.T) {
	tts := &countingTTS{count: map[string]int{}}
	const menu, sub, other = "For sales press 1.", "Sales. Press 2 for new orders.", "Something else entirely."
	type step struct {
		res       activities.CollectResult
		specAfter bool // a speculation was playing when the collect returned
		err       error
	}
	got := make(chan step, 4)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		then := map[string][]activities.Prompt{"1": {{Node: "sub", Text: sub}}, "2": {{Node: "x", Text: other + " (not taken)"}}}
		for _, prompt := range []string{menu, sub} {
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, NodeID: "menu",
				Prompts: []activities.Prompt{{Node: map[string]string{menu: "menu", sub: "sub"}[prompt], Text: prompt}},
				BargeIn: true, MinDigits: 1, MaxDigits: 1, Timeout: 6 * time.Second, Then: then})
			s, _ := w.sessionFor(ctx, call.CallID)
			got <- step{res: res, err: err, specAfter: s != nil && s.spec != nil}
			// The workflow's round trip: the speculation plays meanwhile.
			time.Sleep(300 * time.Millisecond)
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: other}}})
	}, func(c *Config) { c.TTS = tts })
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	for i, wantDigits := range []string{"1", "2"} {
		select {
		case s := <-got:
			if s.err != nil || s.res.Digits != wantDigits || !s.specAfter {
				t.Fatalf("collect %d: %+v, want %s with a speculation playing", i, s, wantDigits)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("collect %d: no result", i)
		}
	}
	r.waitIdle()
	if n := tts.rendered(sub); n != 1 {
		t.Errorf("the speculated prompt was rendered %d times, want once (adopted, not restarted)", n)
	}
	if n := tts.rendered(other + " (not taken)"); n != 1 {
		t.Errorf("the second speculation was rendered %d times, want once", n)
	}
	if n := tts.rendered(other); n != 1 {
		t.Errorf("the hangup's own prompt was rendered %d times, want once after stopping the speculation", n)
	}
}
