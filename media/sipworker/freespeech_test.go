package sipworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/tts"
)

// Synthetic caller audio for the endpoint rules: tones stand for speech.
type pcmPart struct {
	ms       int
	dbfs     float64 // 0: silence
	fallToDB float64 // non-zero: the level slides from dbfs to this over the part
}

func tone(ms int, dbfs float64) pcmPart { return pcmPart{ms: ms, dbfs: dbfs} }
func quiet(ms int) pcmPart              { return pcmPart{ms: ms} }
func speechLike(ms int) pcmPart         { return tone(ms, -20) }

// fallingEnd is speech whose level slides from one level to another.
func fallingEnd(ms int, from, to float64) pcmPart { return pcmPart{ms: ms, dbfs: from, fallToDB: to} }

func synth(parts ...pcmPart) []int16 {
	var pcm []int16
	for _, p := range parts {
		n := p.ms * sampleRate / 1000
		start := len(pcm)
		for i := range n {
			if p.dbfs == 0 {
				pcm = append(pcm, 0)
				continue
			}
			db := p.dbfs
			if p.fallToDB != 0 {
				db += (p.fallToDB - p.dbfs) * float64(i) / float64(n)
			}
			amp := 32767 * math.Pow(10, db/20)
			pcm = append(pcm, int16(amp*math.Sin(2*math.Pi*300*float64(start+i)/sampleRate)))
		}
	}
	return pcm
}

// endpointRun feeds pcm to an endpointer in chunks of chunk samples and
// returns its events.
func endpointRun(p endpointPolicy, digits bool, pcm []int16, chunk int) []endpointEvent {
	e := newEndpointer(p, digits)
	var out []endpointEvent
	for i := 0; i < len(pcm); i += chunk {
		out = append(out, e.process(pcm[i:min(i+chunk, len(pcm))])...)
	}
	return out
}

func ms(samples int64) int { return int(samples * 1000 / sampleRate) }

// The end-of-speech rules, pinned on synthetic audio: a pause shorter
// than the rule's silence stays inside the utterance, a longer one ends
// it, and the rule is chosen by what was said before the pause.
func TestEndpointRules(t *testing.T) {
	cases := []struct {
		name   string
		policy endpointPolicy
		digits bool
		pcm    []int16
		// want: no events at all when startMs < 0
		startMs, endMs int
		rule           string
		waited         time.Duration
	}{
		{"menu: fixed 700 ms", menuEndpoint, false, synth(speechLike(1000), quiet(1000)), 0, 1000, "menu", 700 * time.Millisecond},
		{"menu: a 600 ms pause stays inside", menuEndpoint, false, synth(speechLike(400), quiet(600), speechLike(400), quiet(1000)), 0, 1400, "menu", 700 * time.Millisecond},
		{"long level end: default 700 ms", freeSpeechEndpoint, false, synth(speechLike(2000), quiet(1500)), 0, 2000, "default", 700 * time.Millisecond},
		{"long falling end: 500 ms", freeSpeechEndpoint, false, synth(speechLike(1700), fallingEnd(300, -20, -36), quiet(1500)), 0, 2000, "falling", 500 * time.Millisecond},
		{"falling end: a 600 ms pause ends it", freeSpeechEndpoint, false, synth(speechLike(1700), fallingEnd(300, -20, -36), quiet(600), speechLike(800), quiet(1500)), 0, 2000, "falling", 500 * time.Millisecond},
		{"falling but short: 900 ms", freeSpeechEndpoint, false, synth(speechLike(400), fallingEnd(300, -20, -36), quiet(1500)), 0, 700, "short", 900 * time.Millisecond},
		{"short lead-in: an 840 ms pause stays inside", freeSpeechEndpoint, false, synth(speechLike(500), quiet(840), speechLike(1000), quiet(1500)), 0, 2340, "default", 700 * time.Millisecond},
		{"short lead-in: a 950 ms pause ends it", freeSpeechEndpoint, false, synth(speechLike(500), quiet(950), speechLike(1000), quiet(1500)), 0, 500, "short", 900 * time.Millisecond},
		{"digits: a 900 ms group pause stays inside", freeSpeechEndpoint, true, synth(speechLike(1200), quiet(900), speechLike(1000), quiet(1500)), 0, 3100, "digits", time.Second},
		{"no digits: the same 900 ms pause ends it", freeSpeechEndpoint, false, synth(speechLike(1200), quiet(900), speechLike(1000), quiet(1500)), 0, 1200, "default", 700 * time.Millisecond},
		{"digits win over falling", freeSpeechEndpoint, true, synth(speechLike(1700), fallingEnd(300, -20, -36), quiet(1500)), 0, 2000, "digits", time.Second},
		{"free speech caps at 15 s", freeSpeechEndpoint, false, synth(speechLike(16000)), 0, 15000, "max", 0},
		{"menus cap at 8 s", menuEndpoint, false, synth(speechLike(9000)), 0, 8000, "max", 0},
		{"speech after a silence starts late", freeSpeechEndpoint, false, synth(quiet(1000), speechLike(2000), quiet(1500)), 1000, 3000, "default", 700 * time.Millisecond},
		{"clicks are not speech", freeSpeechEndpoint, false, synth(speechLike(60), quiet(200), speechLike(60), quiet(200), speechLike(80), quiet(1500)), -1, 0, "", 0},
		{"below -40 dBFS is not speech", freeSpeechEndpoint, false, synth(tone(2000, -45), quiet(1500)), -1, 0, "", 0},
		{"speech without its end yet", freeSpeechEndpoint, false, synth(speechLike(1000), quiet(600)), 0, -1, "", 0},
	}
	for _, tc := range cases {
		for _, chunk := range []int{frameSamples, 97} { // the tap's 20 ms, and odd sizes
			t.Run(fmt.Sprintf("%s/chunk=%d", tc.name, chunk), func(t *testing.T) {
				evs := endpointRun(tc.policy, tc.digits, tc.pcm, chunk)
				if tc.startMs < 0 {
					if len(evs) != 0 {
						t.Fatalf("events %+v, want none", evs)
					}
					return
				}
				if len(evs) == 0 || !evs[0].start || ms(evs[0].at) != tc.startMs {
					t.Fatalf("events %+v, want a start at %d ms first", evs, tc.startMs)
				}
				if tc.endMs < 0 {
					if len(evs) != 1 {
						t.Fatalf("events %+v, want only the start", evs)
					}
					return
				}
				if len(evs) != 2 {
					t.Fatalf("events %+v, want a start and an end", evs)
				}
				end := evs[1]
				if end.start || ms(end.at) != tc.endMs || end.rule != tc.rule || end.waited != tc.waited {
					t.Errorf("end = at %d ms rule %q waited %v, want at %d ms rule %q waited %v",
						ms(end.at), end.rule, end.waited, tc.endMs, tc.rule, tc.waited)
				}
			})
		}
	}
}

// The rules' order: the first that holds wins.
func TestEndpointDecide(t *testing.T) {
	s := func(ms int, falling, digits bool) speechSoFar {
		return speechSoFar{length: time.Duration(ms) * time.Millisecond, falling: falling, digits: digits}
	}
	cases := []struct {
		so   speechSoFar
		rule string
	}{
		{s(300, false, true), "digits"},
		{s(3000, true, true), "digits"},
		{s(300, false, false), "short"},
		{s(799, true, false), "short"},
		{s(800, true, false), "default"},
		{s(1499, true, false), "default"},
		{s(1500, true, false), "falling"},
		{s(1500, false, false), "default"},
	}
	for _, tc := range cases {
		if got := freeSpeechEndpoint.decide(tc.so).name; got != tc.rule {
			t.Errorf("decide(%+v) = %s, want %s", tc.so, got, tc.rule)
		}
	}
	if got := menuEndpoint.decide(s(300, false, true)).name; got != "menu" {
		t.Errorf("menu decide = %s", got)
	}
}

// Whatever audio arrives, in whatever chunks, the endpointer reports at
// most a start and then an end after it, within the audio it was given.
func FuzzEndpointer(f *testing.F) {
	f.Add([]byte{0, 0, 0x40, 0x1f}, uint8(160), true)
	f.Add(make([]byte, 4000), uint8(7), false)
	f.Fuzz(func(t *testing.T, raw []byte, chunk uint8, digits bool) {
		// Each byte pair is one sample, repeated 40 times, so short
		// inputs make seconds of audio.
		var pcm []int16
		for i := 0; i+1 < len(raw); i += 2 {
			v := int16(uint16(raw[i]) | uint16(raw[i+1])<<8)
			for j := range 40 {
				pcm = append(pcm, v*int16(1-2*(j%2)))
			}
		}
		evs := endpointRun(freeSpeechEndpoint, digits, pcm, int(chunk)+1)
		if len(evs) > 2 || (len(evs) > 0 && !evs[0].start) || (len(evs) == 2 && evs[1].start) {
			t.Fatalf("events %+v", evs)
		}
		if len(evs) == 2 && (evs[1].at <= evs[0].at || evs[1].at > int64(len(pcm)) ||
			evs[1].waited > time.Second || time.Duration(evs[1].at-evs[0].at)*time.Second/sampleRate > freeSpeechEndpoint.maxSpeech) {
			t.Fatalf("end %+v after start %+v in %d samples", evs[1], evs[0], len(pcm))
		}
	})
}

// The listener hands over one utterance from its pre-roll before the
// start to the tail after the end, pause included, and signals the start.
func TestListenerUtterance(t *testing.T) {
	s := &session{digitSig: make(chan struct{}, 1), taps: map[int]func([]int16){}}
	l := &listener{s: s, ep: newEndpointer(freeSpeechEndpoint, true), free: true, startAt: -1,
		started: make(chan struct{}), ended: make(chan utterance, 1)}
	l.untap = s.tap(l.feed)
	defer l.stop()
	pcm := synth(quiet(1000), speechLike(1200), quiet(800), speechLike(900), quiet(2000))
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		s.deliver(pcm[i : i+frameSamples])
	}
	if !l.inSpeech() {
		t.Fatal("speech start not signalled")
	}
	select {
	case <-s.digitSig:
	default:
		t.Error("speech start did not wake a barge-in prompt")
	}
	select {
	case u := <-l.endedC():
		want := int(samples(speechPreroll + 1200*time.Millisecond + 800*time.Millisecond + 900*time.Millisecond + speechTail))
		if len(u.pcm) != want || !u.free || u.endpoint != time.Second || u.rule != "digits" {
			t.Errorf("utterance %d samples free=%v endpoint %v rule %s, want %d samples, free, 1s, digits",
				len(u.pcm), u.free, u.endpoint, u.rule, want)
		}
	default:
		t.Fatal("no utterance")
	}
}

func TestDefaultTranscriber(t *testing.T) {
	both := &partsTranscriber{}
	own := &partsTranscriber{}
	cases := []struct {
		name string
		asr  asr.Recognizer
		set  asr.Transcriber
		want asr.Transcriber
	}{
		{"recogniser that transcribes", transcribingRecognizer{both}, nil, transcribingRecognizer{both}},
		{"recogniser only", menuOnly{}, nil, nil},
		{"explicit transcriber kept", transcribingRecognizer{both}, own, own},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			logs := &logBuffer{}
			c := Config{ID: "t", SIPAddr: "127.0.0.1:5060", Routes: fakeRoutes{}, TTS: toneTTS{}, ASR: tc.asr, Transcriber: tc.set,
				StartCall: func(context.Context, activities.CallStart) error { return nil },
				Logger:    slog.New(slog.NewTextHandler(logs, nil))}
			if err := c.defaults(); err != nil {
				t.Fatal(err)
			}
			if c.Transcriber != tc.want {
				t.Errorf("Transcriber = %v, want %v", c.Transcriber, tc.want)
			}
			off := len(logs.lines(`"sipworker: free speech is off, intent and llm nodes on phone calls accept keys only: no transcriber"`))
			if want := map[bool]int{true: 1, false: 0}[tc.want == nil]; off != want {
				t.Errorf("%d start-up notices that free speech is off, want %d", off, want)
			}
		})
	}
}

// partsTranscriber "transcribes" an utterance into how many parts it has
// (sound separated by partGap of quiet), and records what it was given.
type partsTranscriber struct {
	mu    sync.Mutex
	calls []transcribed
}

type transcribed struct {
	ms, parts int
	hints     asr.Hints
	language  string
}

const partGap = 400 * time.Millisecond

func (f *partsTranscriber) Transcribe(ctx context.Context, pcm []int16, hints asr.Hints, language string) (asr.Transcript, error) {
	n := countParts(pcm)
	f.mu.Lock()
	f.calls = append(f.calls, transcribed{ms: len(pcm) * 1000 / sampleRate, parts: n, hints: hints, language: language})
	f.mu.Unlock()
	if n == 0 {
		return asr.Transcript{}, nil
	}
	return asr.Transcript{Text: fmt.Sprintf("%d parts", n), Confidence: 0.75}, nil
}

func (f *partsTranscriber) Name() string { return "parts" }

func (f *partsTranscriber) got() []transcribed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]transcribed(nil), f.calls...)
}

func countParts(pcm []int16) int {
	parts, quietFrames := 0, int(partGap/frameDur)
	for _, l := range audio.FrameLevels(pcm) {
		if l > speechThresholdDBFS {
			if quietFrames >= int(partGap/frameDur) {
				parts++
			}
			quietFrames = 0
		} else {
			quietFrames++
		}
	}
	return parts
}

// menuOnly recognises menu phrases but cannot transcribe; it counts calls.
type menuOnly struct{ calls *int }

func (m menuOnly) Recognize(ctx context.Context, pcm []int16, phrases []string, language string) (asr.Result, error) {
	if m.calls != nil {
		*m.calls++
	}
	return asr.Result{}, errors.New("menuOnly: not expected")
}

// transcribingRecognizer does both, as pocketsphinx does.
type transcribingRecognizer struct{ *partsTranscriber }

func (transcribingRecognizer) Recognize(ctx context.Context, pcm []int16, phrases []string, language string) (asr.Result, error) {
	return asr.Result{}, nil
}

// espeakMs is how long espeak-ng takes to say text, trailing silence
// included (speechPcap lays the parts end to end).
func espeakMs(t *testing.T, text string) int {
	t.Helper()
	pcm, err := tts.NewEspeak("").Synthesize(context.Background(), text, "", "en-US")
	if err != nil {
		t.Fatal(err)
	}
	return len(pcm) * 1000 / sampleRate
}

// collectLog runs a call's collects in order and reports each result.
type collectLog struct {
	results chan activities.CollectResult
	errs    chan error
}

func newCollectLog() *collectLog {
	return &collectLog{results: make(chan activities.CollectResult, 8), errs: make(chan error, 8)}
}

func (c *collectLog) run(ctx context.Context, w *Worker, callID string, ins []activities.CollectInput) {
	for _, in := range ins {
		in.CallID = callID
		res, err := w.Collect(ctx, in)
		if err != nil {
			c.errs <- fmt.Errorf("collect %s: %w", in.NodeID, err)
			return
		}
		c.results <- res
	}
	_ = w.Hangup(ctx, activities.HangupInput{CallID: callID})
}

func (c *collectLog) next(t *testing.T, node string) activities.CollectResult {
	t.Helper()
	select {
	case res := <-c.results:
		return res
	case err := <-c.errs:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatalf("no result for collect %s", node)
	}
	return activities.CollectResult{}
}

// Free speech over a real SIP call (SIPp playing espeak-ng speech as PCMU
// RTP): a sentence with a pause in the middle comes back as one
// utterance, barging in on a long prompt; a short lead-in and the rest
// after a pause too; a key still works; silence times out.
func TestFreeSpeechCall(t *testing.T) {
	needSpeech(t)
	tr := &partsTranscriber{}
	logs := &logBuffer{}
	cl := newCollectLog()
	prompt := func(text string) []activities.Prompt {
		return []activities.Prompt{{Text: text, Language: "en-US"}}
	}
	hints := []string{"pay my bill", "my account number is"}
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		cl.run(ctx, w, call.CallID, []activities.CollectInput{
			// ~12 s of prompt (toneTTS): the caller's speech must cut it.
			{NodeID: "account", Prompts: prompt(strings.Repeat("Say your account number. ", 8)), BargeIn: true,
				FreeSpeech: true, Hints: hints, HintSlots: []string{activities.SlotDigits}, MaxDigits: 1, Timeout: 8 * time.Second},
			{NodeID: "reason", Prompts: prompt("Why are you calling?"), FreeSpeech: true, Hints: hints, MaxDigits: 1, Timeout: 8 * time.Second},
			{NodeID: "keys", Prompts: prompt(strings.Repeat("Or press a key. ", 4)), BargeIn: true, FreeSpeech: true, MaxDigits: 1, Timeout: 6 * time.Second},
			{NodeID: "quiet", Prompts: prompt("Still there?"), FreeSpeech: true, MaxDigits: 1, Timeout: 2 * time.Second},
		})
	}, func(c *Config) {
		c.Transcriber = tr
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	// Each pause, with espeak-ng's ~300 ms of trailing silence, is about
	// 550 ms: a mid-sentence pause, well inside the rule that applies
	// (digits expected: 1 s; a short lead-in: 900 ms) so that RTP late
	// on a loaded machine does not split it. TestEndpointRules pins the
	// rules' edges.
	const pause = 250 * time.Millisecond
	pcap := speechPcap(t,
		callerPart{gap: time.Second, say: "my account number is"},
		callerPart{gap: pause, say: "four four seven one"},
		callerPart{gap: 3500 * time.Millisecond, say: "hello"},
		callerPart{gap: pause, say: "I would like to pay my bill"},
		callerPart{gap: 1500 * time.Millisecond, key: '2'})
	mustPass(t, sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_inband.xml"), Target: r.addr, Service: "1000",
		Timeout: 30 * time.Second, Files: map[string][]byte{"dtmf_inband.pcap": pcap}}))

	for _, want := range []struct {
		node, kind, text string
		endpoint         time.Duration
	}{
		{"account", activities.InputSpeech, "2 parts", time.Second},
		{"reason", activities.InputSpeech, "2 parts", 0},
		{"keys", activities.InputDTMF, "2", 0},
		{"quiet", activities.InputTimeout, "", 0},
	} {
		res := cl.next(t, want.node)
		if got := res.Digits + res.Utterance; res.Kind != want.kind || got != want.text {
			t.Errorf("%s: collect = %s %q, want %s %q", want.node, res.Kind, got, want.kind, want.text)
		}
		if want.kind != activities.InputSpeech {
			if res.Speech != nil {
				t.Errorf("%s: speech timing %+v on a %s result", want.node, res.Speech, res.Kind)
			}
			continue
		}
		if res.Speech == nil || res.Speech.Recognizer != "parts" || res.Speech.Confidence != 0.75 ||
			(want.endpoint > 0 && res.Speech.Endpoint != want.endpoint) {
			t.Errorf("%s: speech timing %+v, want recogniser parts, confidence 0.75, endpoint %v", want.node, res.Speech, want.endpoint)
		}
	}
	r.waitIdle()

	got := tr.got()
	if len(got) != 2 {
		t.Fatalf("%d transcriptions, want 2: %+v", len(got), got)
	}
	// The first utterance holds both halves and the pause between them.
	both := espeakMs(t, "my account number is") + int(pause/time.Millisecond) + espeakMs(t, "four four seven one") - 300
	if got[0].ms < both {
		t.Errorf("account: transcriber got %d ms of audio, want at least %d (both halves)", got[0].ms, both)
	}
	if got[0].language != "en-US" || !slices.Equal(got[0].hints.Phrases, hints) || !slices.Equal(got[0].hints.Slots, []string{activities.SlotDigits}) {
		t.Errorf("account: transcriber got language %q hints %+v", got[0].language, got[0].hints)
	}
	cut := logs.lines("barge-in")
	if len(cut) != 2 || !strings.Contains(cut[0], "node=account by=speech") || !strings.Contains(cut[1], "node=keys by=") {
		t.Errorf("barge-in log lines %q, want the account prompt cut by speech, then the keys prompt", cut)
	}
	for _, l := range logs.lines(`"free speech"`) {
		t.Log(l)
	}
}

// Free speech asked of a worker with no transcriber: keys only, speech
// neither ends the collect nor holds off its timeout, and the call is
// told once.
func TestFreeSpeechOff(t *testing.T) {
	needSpeech(t)
	logs := &logBuffer{}
	cl := newCollectLog()
	recognitions := 0
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		free := activities.CollectInput{Prompts: []activities.Prompt{{Text: "Go on."}}, BargeIn: true,
			FreeSpeech: true, Phrases: []string{"billing"}, MaxDigits: 1}
		first, second := free, free
		first.NodeID, first.Timeout = "first", 6*time.Second
		second.NodeID, second.Timeout = "second", 2*time.Second
		cl.run(ctx, w, call.CallID, []activities.CollectInput{first, second})
	}, func(c *Config) {
		c.ASR = menuOnly{calls: &recognitions}
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	pcap := speechPcap(t,
		callerPart{gap: time.Second, say: "billing"},
		callerPart{gap: time.Second, key: '3'},
		callerPart{gap: 600 * time.Millisecond, say: "I would like to pay my bill"})
	mustPass(t, sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_inband.xml"), Target: r.addr, Service: "1000",
		Timeout: 25 * time.Second, Files: map[string][]byte{"dtmf_inband.pcap": pcap}}))
	for _, want := range []string{"dtmf:3", "timeout:"} {
		res := cl.next(t, want)
		if got := res.Kind + ":" + res.Digits + res.Utterance; got != want {
			t.Errorf("collect = %q, want %q", got, want)
		}
	}
	r.waitIdle()
	if recognitions != 0 {
		t.Errorf("the menu recogniser ran %d times on free speech", recognitions)
	}
	if n := len(logs.lines(`"free speech asked but no transcriber is configured: this call takes keys only"`)); n != 1 {
		t.Errorf("the call was told %d times that free speech is off, want once", n)
	}
	if n := len(logs.lines(`"sipworker: free speech is off, intent and llm nodes on phone calls accept keys only: no transcriber"`)); n != 1 {
		t.Errorf("the worker said %d times at start that free speech is off, want once", n)
	}
}
