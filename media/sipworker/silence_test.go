package sipworker

import (
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/audio"
)

// The watch alerts once when both parties have been quiet for its limit,
// and clears once when one speaks again; a disabled watch never alerts.
func TestSilenceWatch(t *testing.T) {
	loud, quiet := audio.Tone(440, 20, -20), make([]int16, 160)
	start := time.Now()
	w := newSilenceWatch(10 * time.Second)
	steps := []struct {
		at     time.Duration
		pcm    []int16
		want   bool // a change is reported
		silent bool
	}{
		{1 * time.Second, quiet, false, false},
		{9 * time.Second, quiet, false, false},
		{11 * time.Second, quiet, true, true},
		{12 * time.Second, quiet, false, false}, // once only
		{13 * time.Second, loud, true, false},   // a party spoke
		{14 * time.Second, quiet, false, false},
	}
	for _, s := range steps {
		w.hear(s.pcm)
		if s.pcm[10] != 0 {
			w.lastVoice.Store(start.Add(s.at).UnixNano()) // as heard at s.at
		}
		ev, ok := w.check(start.Add(s.at))
		if ok != s.want || (ok && ev.Silent != s.silent) {
			t.Errorf("at %v: change %v %+v, want %v silent=%v", s.at, ok, ev, s.want, s.silent)
		}
	}
	off := newSilenceWatch(-1)
	if _, ok := off.check(start.Add(time.Hour)); ok {
		t.Error("a disabled watch alerted")
	}
}
