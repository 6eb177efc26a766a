package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/llm/llmtest"
	"github.com/voxflow/voxflow/bench/echo"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/tts"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/store"
)

// BenchmarkSpokenTurnEngine is BenchmarkSpeechTurn with the call engine in
// the loop: the tuned in-process Temporal server, the engine and shared
// workers (AI activities included) and a SIP media worker, wired as
// `voxflow dev` wires them, serve a flow whose intent node ("Say yes or
// no.") leads, whatever it hears, to a play node ("Got it.") and back. A
// probe caller says the 2.1 s sentence of BenchmarkSpeechTurn; each turn
// is: speech -> end of speech -> transcript (fixedTranscriber, after
// VOXFLOW_SPEECH_RECOGNIZE_MS, default 200) -> CallWorkflow -> ai.Intent
// -> CallWorkflow -> the next media.Collect, whose prompts start with the
// reply -> the reply's first RTP packet at the caller. Prompts are
// espeak-ng's (cached) when it is installed, tones otherwise.
//
// Per turn, from the call's workflow history (server clock; the same
// machine as the caller's):
//
//   - turn: the caller's last loud frame leaving its socket -> the reply's
//     first packet arriving (kernel receive time);
//   - endpoint, recognize: the media.Collect result's Speech timing;
//   - model: ai.Intent started -> completed (dispatch to the shared worker,
//     the HTTP round trip to the fake model or the offline matcher, and the
//     completion back to the server);
//   - engine: media.Collect completed -> the next media.Collect started,
//     less model: the workflow tasks and the two activity dispatches;
//   - media: turn - endpoint - recognize - model - engine: the last frame's
//     20 ms, jitter buffer and framing, the collect's completion RPC, the
//     next collect's poll response and prompt start.
//
// engine is the sum of engine-hop1 (media.Collect completed -> ai.Intent
// started) and engine-hop2 (ai.Intent completed -> the next media.Collect
// started); it is also split into engine-wft-wait (workflow task scheduled ->
// started), engine-wft-run (started -> completed: the poll response, the
// workflow code, its local activities and the completion RPC),
// engine-dispatch (ai.Intent and media.Collect scheduled -> started) and
// engine-other (what is left: should be about 0).
//
// Sub-benchmarks, each on its own stack, VOXFLOW_SPEECH_TURNS measured
// turns (default 20) after one warm-up turn, on one call:
//
//   - model: ai.Intent asks a fake OpenAI-compatible endpoint (llmtest)
//     that answers "yes" after VOXFLOW_SPEECH_MODEL_MS (default 100);
//   - offline: no endpoint, the offline matcher classifies.
//
// It reports <part>-p50-ms and <part>-p99-ms, and load1 (the 1-minute
// load average when the sub-benchmark ended), and logs the turn whose
// engine part was slowest. VOXFLOW_SPEECH_HISTORY_DIR, when set, is where
// each sub-benchmark writes its call's history as a timeline (model.txt,
// offline.txt) to read the hops by hand. Run it with:
//
//	go test -run XXX -bench SpokenTurnEngine -benchtime 1x ./bench/
func BenchmarkSpokenTurnEngine(b *testing.B) {
	quiet(b)
	recognize := time.Duration(envInt("VOXFLOW_SPEECH_RECOGNIZE_MS", 200)) * time.Millisecond
	modelLatency := time.Duration(envInt("VOXFLOW_SPEECH_MODEL_MS", 100)) * time.Millisecond
	turns := envInt("VOXFLOW_SPEECH_TURNS", 20)
	voice := newSpokenVoice(b)
	b.Logf("prompts: %s", voice.name)
	probe := newProbeUA(b)
	for _, tc := range []struct {
		name   string
		ai     func(b *testing.B) platform.AIActivities
		source string // of every intent answer
	}{
		{"model", func(b *testing.B) platform.AIActivities { return fakeModelAI(b, modelLatency) }, activities.SourceLLM},
		{"offline", func(*testing.B) platform.AIActivities { return platform.OfflineAI(benchLogger()) }, activities.SourceOffline},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ai := &timedAI{inner: tc.ai(b)}
			s := startSpokenEngineStack(b, ai, voice, fixedTranscriber{delay: recognize, text: spokenAnswer})
			s.ai = ai
			got := s.runTurns(b, probe, sentenceUtterance(), turns)
			for i, t := range got {
				if t.answer.Intent != "yes" || t.answer.Source != tc.source {
					b.Fatalf("turn %d: ai.Intent answered %+v, want yes from %s", i, t.answer, tc.source)
				}
			}
			reportEngineTurns(b, got)
		})
	}
}

// spokenFlow loops on an intent node: every exit leads to the reply, at
// once (no retry). The examples carry content words: the offline matcher
// drops "yes" and "no" as stop words.
const spokenFlow = `name: bench-spoken
entry: reply
settings:
  max_steps: 100000
  input_timeout: 10s
nodes:
  reply:
    type: play
    say: "Got it."
    next: ask
  ask:
    type: intent
    prompt: "Say yes or no."
    intents:
      "yes":
        description: The caller agrees.
        examples: ["yes I agree", "that is correct", "confirmed"]
        next: reply
      "no":
        description: The caller disagrees.
        examples: ["no I disagree", "that is wrong", "cancel it"]
        next: reply
    retries: 0
    no_match: reply
    on_error: reply
`

// The prompts of spokenFlow, and what the caller says.
const (
	spokenAnswer = "yes I agree"
	spokenReply  = "Got it."
	spokenAsk    = "Say yes or no."
)

// spokenVoice is the media worker's TTS and the audio of spokenFlow's two
// prompts as it renders them.
type spokenVoice struct {
	tts        sipworker.Synthesizer
	name       string
	reply, ask []int16
}

// newSpokenVoice is espeak-ng behind the worker's cache when installed
// (both prompts rendered now, so the caller knows the reply's first
// frame), else two tones.
func newSpokenVoice(b *testing.B) *spokenVoice {
	if _, err := exec.LookPath(tts.EspeakCommand); err != nil {
		return &spokenVoice{name: "tones", reply: replyPrompt, ask: echo.Tone(500, 1200*time.Millisecond),
			tts: promptTTS{spokenReply: replyPrompt, spokenAsk: echo.Tone(500, 1200*time.Millisecond)}}
	}
	v := &spokenVoice{name: "espeak-ng", tts: tts.NewCached(tts.NewEspeak(""), tts.DefaultCacheBytes, "")}
	for text, pcm := range map[string]*[]int16{spokenReply: &v.reply, spokenAsk: &v.ask} {
		var err error
		if *pcm, err = v.tts.Synthesize(context.Background(), text, "", ""); err != nil {
			b.Fatalf("synthesize %q: %v", text, err)
		}
	}
	if echo.FrameSamples > len(v.reply) || slices.Equal(echo.FirstFrameULaw(v.reply), silentULaw) {
		b.Fatalf("the reply %q starts silent: the caller cannot tell when it starts", spokenReply)
	}
	return v
}

// fakeModelAI is the AI activities on a fake model endpoint that answers
// every intent request "yes" after latency.
func fakeModelAI(b *testing.B, latency time.Duration) platform.AIActivities {
	fake := llmtest.NewServer(b, llmtest.WithResponder(func(req llmtest.Request) llmtest.Reply {
		if slices.Contains(req.Enum("intent"), "yes") {
			return llmtest.Structured(req, llmtest.IntentAnswer("yes", 0.95, nil, 0))
		}
		return llmtest.Text("ok")
	}, latency))
	ai, err := platform.NewAI(config.AI{LLMURL: fake.URL, Model: "bench"}, benchLogger())
	if err != nil {
		b.Fatal(err)
	}
	return ai
}

func benchLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// spokenEngineStack is voxflow serving spokenFlow on a SIP number.
type spokenEngineStack struct {
	srv   *speechTurnServer // Heard is unused: results come from the history
	c     client.Client
	calls chan string // IDs of calls started
	voice *spokenVoice
	// ai times ai.Intent, which runs as a local activity (no span of its
	// own in the history).
	ai *timedAI
}

// timedAI records each ai.Intent's answer and time, in call order.
type timedAI struct {
	inner   platform.AIActivities
	mu      sync.Mutex
	took    []time.Duration
	answers []activities.IntentResult
}

type intentFunc = func(context.Context, activities.IntentInput) (activities.IntentResult, error)

func (t *timedAI) Register(r activities.Registrar) { t.inner.Register(timingRegistrar{r, t}) }

func (t *timedAI) calls() ([]time.Duration, []activities.IntentResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.took), slices.Clone(t.answers)
}

type timingRegistrar struct {
	r activities.Registrar
	t *timedAI
}

func (tr timingRegistrar) RegisterActivityWithOptions(a interface{}, o activity.RegisterOptions) {
	if f, ok := a.(intentFunc); ok && o.Name == activities.ActIntent {
		a = intentFunc(func(ctx context.Context, in activities.IntentInput) (activities.IntentResult, error) {
			start := time.Now()
			res, err := f(ctx, in)
			tr.t.mu.Lock()
			tr.t.took, tr.t.answers = append(tr.t.took, time.Since(start)), append(tr.t.answers, res)
			tr.t.mu.Unlock()
			return res, err
		})
	}
	tr.r.RegisterActivityWithOptions(a, o)
}

// startSpokenEngineStack starts the tuned server, a SQLite store with
// spokenFlow bound to a number, the engine and shared workers with ai (nil:
// offline), and a SIP media worker with tr on a free loopback port.
func startSpokenEngineStack(b *testing.B, ai platform.AIActivities, voice *spokenVoice, tr asr.Transcriber) *spokenEngineStack {
	ctx := context.Background()
	_, c := devtemporaltest.NewServer(b)
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "voxflow.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	s := &spokenEngineStack{c: c, calls: make(chan string, 4), voice: voice,
		srv: &speechTurnServer{Addr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b)), Number: "7100", Reply: voice.reply}}
	if _, err := st.PublishSource(ctx, "bench-spoken", spokenFlow, "bench", ""); err != nil {
		b.Fatalf("publish bench-spoken: %v", err)
	}
	if err := st.BindNumber(ctx, s.srv.Number, "bench-spoken"); err != nil {
		b.Fatal(err)
	}
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.SharedActivities(st), AI: ai, Watchdog: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ws.Stop)
	s.startMedia(b, st, tr)
	return s
}

// startMedia starts the SIP media worker as platform/sipmedia.Start builds
// it (its Deps take no transcriber, so it is built here the same way).
func (s *spokenEngineStack) startMedia(b *testing.B, st *store.Store, tr asr.Transcriber) {
	start := platform.CallStarter(s.c)
	w, err := sipworker.Start(context.Background(), sipworker.Config{
		ID: "bench-spoken", SIPAddr: s.srv.Addr, Routes: &platform.StoreRoutes{Store: st},
		StartCall: func(ctx context.Context, call activities.CallStart) error {
			select {
			case s.calls <- call.CallID:
			default: // only the first call is measured
			}
			return start(ctx, call)
		},
		SignalHangup: platform.HangupSignaler(s.c), SignalAnswered: platform.AnswerSignaler(s.c),
		SignalSilence: platform.SilenceSignaler(s.c), CallClosed: platform.CallClosedChecker(s.c),
		TTS: s.voice.tts, Transcriber: tr, RecordDir: b.TempDir(), Logger: benchLogger(), Registry: st,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close() })
	mws, err := platform.StartWorkers(s.c, platform.Parts{Channels: []activities.Channel{w}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(mws.Stop)
}

// engineTurn is one spoken turn through the engine, split into its parts.
type engineTurn struct {
	turn, endpoint, recognize, model, engine, media time.Duration
	hop1, hop2, wftWait, wftRun, dispatch           time.Duration
	wfts, markers                                   int
	answer                                          activities.IntentResult
}

// runTurns makes one call, has a warm-up turn and turns measured turns on
// it, hangs up and splits each measured turn with the call's history.
func (s *spokenEngineStack) runTurns(b *testing.B, probe *probeUA, utterance []int16, turns int) []engineTurn {
	c := dialSpeechCaller(b, probe, s.srv)
	hangup := sync.OnceFunc(c.pc.hangup)
	defer hangup()
	var callID string
	select {
	case callID = <-s.calls:
	case <-time.After(10 * time.Second):
		b.Fatal("no call started")
	}
	if _, ok := c.awaitReply(time.Time{}, 10*time.Second); !ok {
		b.Fatal("the first reply never came")
	}
	// The prompts end, then the collect listens to silence a moment.
	listen := time.Duration(len(s.voice.reply)+len(s.voice.ask))*time.Second/8000 + 300*time.Millisecond
	var heard []time.Duration
	for i := range turns + 1 {
		time.Sleep(listen)
		spoke := c.say(utterance)
		at, ok := c.awaitReply(spoke, 10*time.Second)
		if !ok {
			b.Fatalf("turn %d: no reply", i)
		}
		heard = append(heard, at.Sub(spoke))
	}
	hangup()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := platform.AwaitCall(ctx, s.c, callID, nil); err != nil {
		b.Fatalf("call %s: %v", callID, err)
	}
	h, err := readCallHistory(ctx, s.c, activities.WorkflowID(callID))
	if err != nil {
		b.Fatal(err)
	}
	if dir := os.Getenv("VOXFLOW_SPEECH_HISTORY_DIR"); dir != "" {
		path := filepath.Join(dir, b.Name()[strings.LastIndex(b.Name(), "/")+1:]+".txt")
		if err := os.WriteFile(path, h.timeline(), 0o644); err != nil {
			b.Fatal(err)
		}
		b.Logf("history timeline: %s", path)
	}
	took, answers := s.ai.calls()
	hops, err := h.speechHops(took, answers)
	if err != nil {
		b.Fatalf("call %s: %v", callID, err)
	}
	if len(hops) != len(heard) {
		b.Fatalf("call %s: %d spoken turns, but %d collects heard speech and led to ai.Intent and the next collect", callID, len(heard), len(hops))
	}
	out := make([]engineTurn, 0, turns)
	for i, hop := range hops[1:] { // the warm-up turn is left out
		hop.turn = heard[i+1]
		hop.media = hop.turn - hop.endpoint - hop.recognize - hop.model - hop.engine
		out = append(out, hop)
	}
	return out
}

// callHistory is what a call's history tells about its activities and
// workflow tasks, in the order they were scheduled.
type callHistory struct {
	events  []*historypb.HistoryEvent
	acts    []*historyActivity
	wfts    []*historyWFT
	markers []time.Time // local activities (MarkerRecorded)
}

type historyActivity struct {
	name                          string
	scheduled, started, completed time.Time
	result                        *commonpb.Payloads
}

type historyWFT struct{ scheduled, started, completed time.Time }

// readCallHistory reads the latest run of workflow id; a call that
// continued as new is an error (its turns would span runs).
func readCallHistory(ctx context.Context, c client.Client, id string) (*callHistory, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &callHistory{}
	acts, wfts := map[int64]*historyActivity{}, map[int64]*historyWFT{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		h.events = append(h.events, ev)
		at := ev.GetEventTime().AsTime()
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := &historyActivity{name: ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName(), scheduled: at}
			acts[ev.GetEventId()] = a
			h.acts = append(h.acts, a)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := acts[ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; a != nil {
				a.started = at
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			attrs := ev.GetActivityTaskCompletedEventAttributes()
			if a := acts[attrs.GetScheduledEventId()]; a != nil {
				a.completed, a.result = at, attrs.GetResult()
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			w := &historyWFT{scheduled: at}
			wfts[ev.GetEventId()] = w
			h.wfts = append(h.wfts, w)
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED:
			if w := wfts[ev.GetWorkflowTaskStartedEventAttributes().GetScheduledEventId()]; w != nil {
				w.started = at
			}
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			if w := wfts[ev.GetWorkflowTaskCompletedEventAttributes().GetScheduledEventId()]; w != nil {
				w.completed = at
			}
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			h.markers = append(h.markers, at)
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
			return nil, fmt.Errorf("history of %s: the call continued as new: raise max_steps", id)
		}
	}
	return h, nil
}

// timeline is the history as text, an event a line: milliseconds since
// the previous event and since the first, event ID, type and activity.
func (h *callHistory) timeline() []byte {
	var out []byte
	var first, prev time.Time
	names := map[int64]string{}
	for _, ev := range h.events {
		at := ev.GetEventTime().AsTime()
		if first.IsZero() {
			first, prev = at, at
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			names[ev.GetEventId()] = a.GetActivityType().GetName()
		}
		name := names[ev.GetEventId()]
		for _, id := range []int64{ev.GetActivityTaskStartedEventAttributes().GetScheduledEventId(),
			ev.GetActivityTaskCompletedEventAttributes().GetScheduledEventId(),
			ev.GetActivityTaskFailedEventAttributes().GetScheduledEventId()} {
			if id != 0 {
				name = names[id]
			}
		}
		out = fmt.Appendf(out, "%+9.1f %10.1f  #%-4d %s %s\n", ms(at.Sub(prev)), ms(at.Sub(first)), ev.GetEventId(),
			strings.TrimPrefix(ev.GetEventType().String(), "EVENT_TYPE_"), name)
		prev = at
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// speechHops splits every media.Collect that heard speech and was followed
// by ai.Intent and a next media activity (each turn but the hangup's).
func (h *callHistory) speechHops(took []time.Duration, answers []activities.IntentResult) ([]engineTurn, error) {
	var out []engineTurn
	for i, a := range h.acts {
		if len(took) > 0 && a.name == activities.ActCollect && a.result != nil {
			t, ok, err := h.localHop(i, took[min(len(out), len(took)-1)], answers[min(len(out), len(answers)-1)])
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, t)
			}
			continue
		}
		if a.name != activities.ActCollect || a.result == nil {
			continue
		}
		var res activities.CollectResult
		if err := converter.GetDefaultDataConverter().FromPayloads(a.result, &res); err != nil {
			return nil, fmt.Errorf("decode collect result: %w", err)
		}
		if res.Kind != activities.InputSpeech || res.Speech == nil {
			return nil, fmt.Errorf("collect %d returned %+v, want speech with its timing", i, res)
		}
		j := h.after(i, activities.ActIntent)
		k := h.after(j, activities.ActCollect, activities.ActPlay)
		if j < 0 || k < 0 || h.acts[j].completed.IsZero() || h.acts[k].started.IsZero() {
			continue // the call ended before the turn did
		}
		intent, next := h.acts[j], h.acts[k]
		var answer activities.IntentResult
		if err := converter.GetDefaultDataConverter().FromPayloads(intent.result, &answer); err != nil {
			return nil, fmt.Errorf("decode intent result: %w", err)
		}
		t := engineTurn{answer: answer, endpoint: res.Speech.Endpoint, recognize: res.Speech.Recognize,
			model: intent.completed.Sub(intent.started),
			hop1:  intent.started.Sub(a.completed), hop2: next.started.Sub(intent.completed),
			dispatch: intent.started.Sub(intent.scheduled) + next.started.Sub(next.scheduled)}
		t.engine = t.hop1 + t.hop2
		h.addWFTs(&t, a.completed, intent.scheduled)
		h.addWFTs(&t, intent.completed, next.scheduled)
		out = append(out, t)
	}
	return out, nil
}

// localHop splits the turn of the i-th activity, a media.Collect that
// heard speech, when ai.Intent ran as a local activity (changeLocalAI): in
// the workflow task after the collect, which took model of it.
func (h *callHistory) localHop(i int, model time.Duration, answer activities.IntentResult) (engineTurn, bool, error) {
	a := h.acts[i]
	var res activities.CollectResult
	if err := converter.GetDefaultDataConverter().FromPayloads(a.result, &res); err != nil {
		return engineTurn{}, false, fmt.Errorf("decode collect result: %w", err)
	}
	if res.Kind != activities.InputSpeech || res.Speech == nil {
		return engineTurn{}, false, fmt.Errorf("collect %d returned %+v, want speech with its timing", i, res)
	}
	k := h.after(i, activities.ActCollect, activities.ActPlay)
	if k < 0 || h.acts[k].started.IsZero() {
		return engineTurn{}, false, nil // the call ended before the turn did
	}
	next := h.acts[k]
	t := engineTurn{answer: answer, endpoint: res.Speech.Endpoint, recognize: res.Speech.Recognize, model: model,
		dispatch: next.started.Sub(next.scheduled)}
	t.engine = next.started.Sub(a.completed) - model
	t.hop1 = t.engine
	h.addWFTs(&t, a.completed, next.scheduled)
	t.wftRun -= model // the local activity ran inside the workflow task
	return t, true, nil
}

// after is the index of the first activity with one of names scheduled
// after the i-th, or -1 (also when i is).
func (h *callHistory) after(i int, names ...string) int {
	if i < 0 {
		return -1
	}
	for j := i + 1; j < len(h.acts); j++ {
		if slices.Contains(names, h.acts[j].name) {
			return j
		}
	}
	return -1
}

// addWFTs adds to t the workflow tasks scheduled, and the local
// activities recorded, within [from, to].
func (h *callHistory) addWFTs(t *engineTurn, from, to time.Time) {
	in := func(at time.Time) bool { return !at.Before(from) && !at.After(to) }
	for _, w := range h.wfts {
		if in(w.scheduled) && !w.completed.IsZero() {
			t.wfts++
			t.wftWait += w.started.Sub(w.scheduled)
			t.wftRun += w.completed.Sub(w.started)
		}
	}
	for _, m := range h.markers {
		if in(m) {
			t.markers++
		}
	}
}

// reportEngineTurns reports p50 and p99 of each part of the turns, and
// logs the turn whose engine part was slowest.
func reportEngineTurns(b *testing.B, turns []engineTurn) {
	parts := []struct {
		name string
		of   func(engineTurn) time.Duration
	}{
		{"turn", func(t engineTurn) time.Duration { return t.turn }},
		{"endpoint", func(t engineTurn) time.Duration { return t.endpoint }},
		{"recognize", func(t engineTurn) time.Duration { return t.recognize }},
		{"model", func(t engineTurn) time.Duration { return t.model }},
		{"engine", func(t engineTurn) time.Duration { return t.engine }},
		{"media", func(t engineTurn) time.Duration { return t.media }},
		{"engine+media", func(t engineTurn) time.Duration { return t.engine + t.media }},
		{"engine-hop1", func(t engineTurn) time.Duration { return t.hop1 }},
		{"engine-hop2", func(t engineTurn) time.Duration { return t.hop2 }},
		{"engine-wft-wait", func(t engineTurn) time.Duration { return t.wftWait }},
		{"engine-wft-run", func(t engineTurn) time.Duration { return t.wftRun }},
		{"engine-dispatch", func(t engineTurn) time.Duration { return t.dispatch }},
		{"engine-other", func(t engineTurn) time.Duration { return t.engine - t.wftWait - t.wftRun - t.dispatch }},
	}
	b.ReportMetric(float64(len(turns)), "turns")
	line := fmt.Sprintf("%d turns:", len(turns))
	for _, p := range parts {
		var ds []time.Duration
		for _, t := range turns {
			ds = append(ds, p.of(t))
		}
		b.ReportMetric(pctMS(ds, 0.5), p.name+"-p50-ms")
		b.ReportMetric(pctMS(ds, 0.99), p.name+"-p99-ms")
		line += fmt.Sprintf(" %s p50 %.1f p99 %.1f ms;", p.name, pctMS(ds, 0.5), pctMS(ds, 0.99))
	}
	b.ReportMetric(loadAvg(), "load1")
	b.Log(line)
	slowest := slices.MaxFunc(turns, func(x, y engineTurn) int { return int(x.engine - y.engine) })
	b.Logf("slowest engine part: %v (workflow tasks waited %v, ran %v; activities dispatched in %v; %d workflow tasks, %d local activities)",
		slowest.engine, slowest.wftWait, slowest.wftRun, slowest.dispatch, slowest.wfts, slowest.markers)
}
