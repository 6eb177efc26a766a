package audio_test

import (
	"context"
	"os/exec"
	"testing"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/tts"
)

func silence(ms int) []int16 { return make([]int16, ms*8) }

// speak renders text with espeak-ng at 8 kHz through a µ-law round trip,
// as a phone line delivers it.
func speak(t *testing.T, voice, text string) []int16 {
	t.Helper()
	if _, err := exec.LookPath("espeak-ng"); err != nil {
		t.Fatal("espeak-ng is not installed: the answering-machine tests speak their greetings with it; run scripts/test (which installs it), or apt-get install espeak-ng")
	}
	pcm, err := tts.NewEspeak("").Synthesize(context.Background(), text, voice, "")
	if err != nil {
		t.Fatal(err)
	}
	enc := make([]byte, len(pcm))
	g711.EncodeULaw(enc, pcm)
	g711.DecodeULaw(pcm, enc)
	return pcm
}

// run feeds audio in 20 ms chunks, like the media tap, and returns the
// decision and how much audio it took.
func run(pcm []int16) (by, reason string, ms int) {
	d := audio.NewMachineDetector(audio.MachineConfig{})
	for i := 0; i < len(pcm); i += 160 {
		if by = d.Process(pcm[i:min(i+160, len(pcm))]); by != "" {
			_, reason = d.Decision()
			return by, reason, (i + 160) / 8
		}
	}
	_, reason = d.Decision()
	return "", reason, len(pcm) / 8
}

func TestMachineDetectorGreetings(t *testing.T) {
	cases := []struct {
		name   string
		voices []string
		text   string
		lead   int // ms of silence before the greeting (line noise, pick-up)
		want   string
	}{
		{"hello", []string{"en-us", "en-gb", "en-us+f3"}, "Hello?", 300, audio.AnsweredHuman},
		{"name", []string{"en-us", "en-us+f3"}, "Hi, Anna here.", 200, audio.AnsweredHuman},
		{"voicemail", []string{"en-us", "en-gb", "en-us+f3"}, "Hi, you have reached the Smith family. We cannot come to the phone right now, please leave a message after the tone.", 300, audio.AnsweredMachine},
		{"carrier voicemail", []string{"en-us", "en-us+m3"}, "The person you are calling is not available. Please leave your message after the tone.", 100, audio.AnsweredMachine},
	}
	for _, c := range cases {
		for _, v := range c.voices {
			t.Run(c.name+"/"+v, func(t *testing.T) {
				pcm := append(silence(c.lead), speak(t, v, c.text)...)
				pcm = append(pcm, silence(3000)...)
				by, reason, ms := run(pcm)
				t.Logf("%s after %d ms (%s)", by, ms, reason)
				if by != c.want {
					t.Errorf("%q by %s: %s (%s), want %s", c.text, v, by, reason, c.want)
				}
			})
		}
	}
}

func TestMachineDetectorRules(t *testing.T) {
	tone := func(ms int) []int16 { return audio.Tone(300, ms, -20) }
	cat := func(parts ...[]int16) []int16 {
		var out []int16
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	cases := []struct {
		name, want, reason string
		pcm                []int16
	}{
		{"nobody speaks", audio.AnsweredUnknown, "initial silence", silence(4000)},
		{"clicks are not words", audio.AnsweredUnknown, "initial silence", cat(tone(40), silence(500), tone(40), silence(3000))},
		{"one word then silence", audio.AnsweredHuman, "short greeting, then silence", cat(silence(200), tone(400), silence(1500))},
		{"long greeting", audio.AnsweredMachine, "long greeting", cat(silence(200), tone(2000))},
		{"many words", audio.AnsweredMachine, "too many words", cat(tone(200), silence(150), tone(200), silence(150), tone(200), silence(150), tone(200), silence(150))},
		{"talking on and off", audio.AnsweredUnknown, "analysis time over", cat(tone(300), silence(600), tone(300), silence(600), tone(300), silence(700), tone(100), silence(700), tone(100), silence(700), tone(100), silence(700))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := audio.NewMachineDetector(audio.MachineConfig{MaxWords: 10, GreetingMs: 1500, TotalMs: 5000})
			if c.name == "many words" {
				d = audio.NewMachineDetector(audio.MachineConfig{})
			}
			var by string
			for i := 0; i < len(c.pcm) && by == ""; i += 240 { // 30 ms chunks: not frame aligned
				by = d.Process(c.pcm[i:min(i+240, len(c.pcm))])
			}
			_, reason := d.Decision()
			if by != c.want || reason != c.reason {
				t.Errorf("got %q (%s), want %q (%s)", by, reason, c.want, c.reason)
			}
			if again := d.Process(tone(1000)); again != by {
				t.Errorf("decision changed after it was made: %q then %q", by, again)
			}
		})
	}
}
