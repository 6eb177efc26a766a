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

// feed gives the detector pcm in 20 ms chunks until it is done and returns
// how much audio that took.
func feed(d *audio.MachineDetector, pcm []int16) (doneMs int) {
	for i := 0; i < len(pcm); i += 160 {
		d.Process(pcm[i:min(i+160, len(pcm))])
		if d.Done() {
			return (i + 160) / 8
		}
	}
	return -1
}

// TestMachineDetectorGreetingEnd: where the greeting ended, for a person
// and, awaiting the beep, for a machine. Words are 300 Hz tones (no beep);
// beeps 1 kHz.
func TestMachineDetectorGreetingEnd(t *testing.T) {
	word := func(ms int) []int16 { return audio.Tone(300, ms, -20) }
	beep := audio.Tone(1000, 400, -15)
	cases := []struct {
		name        string
		cfg         audio.MachineConfig
		pcm         []int16
		by, reason  string
		endMs       int // -1: unknown
		beep        bool
		doneAfterMs int // at least
	}{
		{"person: end of the last word", audio.MachineConfig{},
			cat(silence(200), word(300), silence(100), word(200), silence(2000)),
			audio.AnsweredHuman, "short greeting, then silence", 800, false, 1600},
		{"machine, not awaiting: decided mid-greeting, end unknown", audio.MachineConfig{},
			cat(silence(200), word(2500), silence(300), beep, silence(3000)),
			audio.AnsweredMachine, "long greeting", -1, false, 1700},
		{"machine: the beep's end", audio.MachineConfig{AwaitBeep: true},
			cat(silence(200), word(2500), silence(300), beep, silence(3000)),
			audio.AnsweredMachine, "long greeting", 3400, true, 3420},
		{"machine, no beep: the start of the quiet", audio.MachineConfig{AwaitBeep: true},
			cat(silence(200), word(2500), silence(1000), word(500), silence(5000)),
			audio.AnsweredMachine, "long greeting", 4200, false, 6200},
		{"machine, no beep, shorter quiet", audio.MachineConfig{AwaitBeep: true, BeepSilenceMs: 1000},
			cat(silence(200), word(2500), silence(5000)),
			audio.AnsweredMachine, "long greeting", 2700, false, 3700},
		{"machine talking past the cap: end unknown", audio.MachineConfig{AwaitBeep: true, GreetingCapMs: 8000},
			cat(silence(200), word(2000), silence(500), word(2000), silence(500), word(2000), silence(500), word(2000), silence(500), word(2000)),
			audio.AnsweredMachine, "long greeting", -1, false, 8000},
		{"a short greeting and a beep: a machine", audio.MachineConfig{},
			cat(silence(300), word(400), silence(300), beep, silence(2000)),
			audio.AnsweredMachine, "beep", -1, false, 1140},
		{"a short greeting and a beep, awaited", audio.MachineConfig{AwaitBeep: true},
			cat(silence(300), word(400), silence(300), beep, silence(2000)),
			audio.AnsweredMachine, "beep", 1400, true, 1420},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := audio.NewMachineDetector(c.cfg)
			done := feed(d, c.pcm)
			by, reason := d.Decision()
			end, beep, ok := d.GreetingEnd()
			t.Logf("%s (%s), done after %d ms; greeting end %d ms (beep %v, known %v)", by, reason, done, end, beep, ok)
			if by != c.by || reason != c.reason {
				t.Errorf("decision %s (%s), want %s (%s)", by, reason, c.by, c.reason)
			}
			if done < c.doneAfterMs {
				t.Errorf("done after %d ms of audio, want at least %d", done, c.doneAfterMs)
			}
			switch {
			case c.endMs < 0 && ok:
				t.Errorf("greeting end %d ms, want unknown", end)
			case c.endMs >= 0 && (!ok || end < c.endMs-20 || end > c.endMs+20):
				t.Errorf("greeting end %d ms (known %v), want %d", end, ok, c.endMs)
			case beep != c.beep:
				t.Errorf("beep %v, want %v", beep, c.beep)
			}
			if ok && end > done {
				t.Errorf("greeting ended at %d ms, after the detector was done (%d ms)", end, done)
			}
		})
	}
}

// TestMachineDetectorVoicemailBeep: spoken voicemail greetings followed by
// a beep end with the beep; a spoken "Hello?" ends with its last word.
func TestMachineDetectorVoicemailBeep(t *testing.T) {
	const text = "Hi, you have reached the voicemail of Sam. Please leave a message after the tone."
	for _, v := range []string{"en-us", "en-gb", "en-us+f3"} {
		t.Run(v, func(t *testing.T) {
			speech := speak(t, v, text)
			for _, hz := range []float64{440, 1000, 2000} {
				pcm := cat(silence(300), speech, silence(400), line(audio.Tone(hz, 400, -15)), silence(3000))
				want := (len(speech)/8 + 300 + 400 + 400)
				d := audio.NewMachineDetector(audio.MachineConfig{AwaitBeep: true})
				done := feed(d, pcm)
				by, reason := d.Decision()
				end, beep, ok := d.GreetingEnd()
				if by != audio.AnsweredMachine || !ok || !beep || end < want-20 || end > want+20 || done < end {
					t.Errorf("%v Hz beep: %s (%s), greeting end %d ms (beep %v, known %v), done after %d ms; want a machine whose beep ends at %d ms",
						hz, by, reason, end, beep, ok, done, want)
				}
			}
		})
	}
	hello := speak(t, "en-us", "Hello?")
	d := audio.NewMachineDetector(audio.MachineConfig{AwaitBeep: true})
	done := feed(d, cat(silence(300), hello, silence(2000)))
	levels := audio.FrameLevels(hello)
	last := len(levels)
	for last > 0 && levels[last-1] <= -40 {
		last--
	}
	want := 300 + last*20 // the end of the last voiced frame
	by, _ := d.Decision()
	end, beep, ok := d.GreetingEnd()
	if by != audio.AnsweredHuman || !ok || beep || end < want-20 || end > want+20 || done-end < 800 {
		t.Errorf("Hello?: %s, greeting end %d ms (beep %v, known %v), done after %d ms; want a person ending at %d ms, decided 800 ms later", by, end, beep, ok, done, want)
	}
}

// BenchmarkMachineDetector: the cost of one second of a greeting (50
// frames), awaiting the beep.
func BenchmarkMachineDetector(b *testing.B) {
	pcm := line(whiteNoise(1000, 3000, 4))
	b.SetBytes(int64(2 * len(pcm)))
	for b.Loop() {
		d := audio.NewMachineDetector(audio.MachineConfig{AwaitBeep: true, GreetingMs: 1e9, MaxWords: 1e9, TotalMs: 1e9})
		for i := 0; i < len(pcm); i += 160 {
			d.Process(pcm[i : i+160])
		}
	}
}
