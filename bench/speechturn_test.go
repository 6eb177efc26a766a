package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/bench/echo"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
	vrtp "github.com/voxflow/voxflow/media/rtp"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// BenchmarkSpeechTurn measures a spoken turn on the SIP path: a probe
// caller (an in-process sipgo UA and RTP pacer on loopback, PCMU) says an
// utterance; the media worker's free-speech collect hears it out, a fake
// transcriber answers after VOXFLOW_SPEECH_RECOGNIZE_MS (default 200), and
// the worker plays the reply prompt. Per turn, from the caller's last
// loud frame leaving its socket to the reply's first RTP packet arriving
// (kernel receive time):
//
//   - endpoint: the silence the worker waited after the last speech frame
//     before it declared the end (CollectResult.Speech.Endpoint; the
//     adaptive rule's, see media/sipworker/speech.go);
//   - recognize: the transcriber's time (Speech.Recognize);
//   - rest: the turn minus both: the last frame's own 20 ms, RTP receive
//     and jitter buffer, the collect's return and the reply prompt's
//     start. Here no engine runs (each call is a Go script looping on the
//     collect); a workflow-driven server adds its hops to rest.
//
// Sub-benchmarks, VOXFLOW_SPEECH_TURNS turns each (default 20) on one call:
//
//   - sentence: a 2.1 s "sentence" (tone words at -18 dBFS) whose level
//     falls at its end, no hints: the falling rule (500 ms);
//   - digits: seven "digits" read in two groups with a 600 ms pause, the
//     collect expecting a digits slot: one utterance, the digits rule (1 s).
//
// It reports <part>-p50-ms and <part>-p99-ms for endpoint, recognize, rest
// and turn. With 20 turns p99 is the slowest but one. Run it with:
//
//	go test -run XXX -bench SpeechTurn -benchtime 1x ./bench/
func BenchmarkSpeechTurn(b *testing.B) {
	quiet(b)
	recognize := time.Duration(envInt("VOXFLOW_SPEECH_RECOGNIZE_MS", 200)) * time.Millisecond
	turns := envInt("VOXFLOW_SPEECH_TURNS", 20)
	probe := newProbeUA(b)
	for _, tc := range []struct {
		name      string
		utterance []int16
		slots     []string
	}{
		{"sentence", sentenceUtterance(), nil},
		{"digits", digitsUtterance(), []string{activities.SlotDigits}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			srv := startScriptedSpeechServer(b, fixedTranscriber{delay: recognize, text: tc.name},
				activities.CollectInput{FreeSpeech: true, HintSlots: tc.slots, MaxDigits: 1, Timeout: 10 * time.Second})
			splits := runSpokenTurns(b, probe, srv, tc.utterance, turns)
			reportTurnSplits(b, splits)
		})
	}
}

// speechTurnServer is a SIP server that answers spoken turns: a call to
// Number hears Reply (a prompt the caller recognises by its first frame)
// each time a turn was heard, the first time right after the answer, and
// every free-speech collect's result goes to Heard. A workflow-driven
// server (intent node and engine) fits the same shape.
type speechTurnServer struct {
	Addr   string
	Number string
	Reply  []int16
	Heard  chan activities.CollectResult
}

// replyPrompt is the reply: 300 ms of 700 Hz that fades in over its first
// frame, so that frame is unlike any later one.
var replyPrompt = func() []int16 {
	pcm := echo.Tone(700, 300*time.Millisecond)
	for i := range echo.FrameSamples {
		pcm[i] = int16(float64(pcm[i]) * float64(i) / echo.FrameSamples)
	}
	return pcm
}()

// startScriptedSpeechServer starts a SIP media worker with transcriber tr
// whose calls loop on collect (the reply as its prompt, no barge-in) until
// the call ends; no Temporal, no engine. It stops when b ends.
func startScriptedSpeechServer(b *testing.B, tr asr.Transcriber, collect activities.CollectInput) *speechTurnServer {
	srv := &speechTurnServer{Addr: "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b)), Number: "7000",
		Reply: replyPrompt, Heard: make(chan activities.CollectResult, 64)}
	var (
		w     *sipworker.Worker
		calls sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	script := func(callID string) {
		defer calls.Done()
		in := collect
		in.CallID, in.Prompts = callID, []activities.Prompt{{Text: "reply"}}
		for {
			res, err := w.Collect(ctx, in)
			if err != nil {
				return // the call ended
			}
			select {
			case srv.Heard <- res:
			case <-ctx.Done():
				return
			}
		}
	}
	var err error
	w, err = sipworker.Start(ctx, sipworker.Config{ID: "bench-speech", SIPAddr: srv.Addr, Routes: benchRoutes{},
		TTS: promptTTS{"reply": replyPrompt}, Transcriber: tr, RecordDir: b.TempDir(),
		StartCall: func(_ context.Context, call activities.CallStart) error {
			calls.Add(1)
			go script(call.CallID)
			return nil
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = w.Close()
		cancel()
		calls.Wait()
	})
	return srv
}

// fixedTranscriber answers every utterance with text after delay.
type fixedTranscriber struct {
	delay time.Duration
	text  string
}

func (f fixedTranscriber) Transcribe(ctx context.Context, _ []int16, _ asr.Hints, _ string) (asr.Transcript, error) {
	select {
	case <-time.After(f.delay):
		return asr.Transcript{Text: f.text, Confidence: 1}, nil
	case <-ctx.Done():
		return asr.Transcript{}, ctx.Err()
	}
}

func (fixedTranscriber) Name() string { return "fixed" }

// speechTone is speech as the endpointer hears it: a 250 Hz tone at
// levelDB, sliding to endDB over its length.
func speechTone(d time.Duration, levelDB, endDB float64) []int16 {
	n := int(d.Seconds() * 8000)
	out := make([]int16, n)
	for i := range out {
		db := levelDB + (endDB-levelDB)*float64(i)/float64(n)
		out[i] = int16(32767 * math.Pow(10, db/20) * math.Sin(2*math.Pi*250*float64(i)/8000))
	}
	return out
}

func pause(d time.Duration) []int16 { return make([]int16, int(d.Seconds()*8000)) }

func sentenceUtterance() []int16 {
	return slices.Concat(speechTone(500*time.Millisecond, -18, -18), pause(120*time.Millisecond),
		speechTone(700*time.Millisecond, -18, -18), pause(100*time.Millisecond),
		speechTone(400*time.Millisecond, -18, -18), speechTone(300*time.Millisecond, -18, -34))
}

func digitsUtterance() []int16 {
	var out []int16
	for i := range 7 {
		switch {
		case i == 4:
			out = append(out, pause(600*time.Millisecond)...) // between the groups
		case i > 0:
			out = append(out, pause(150*time.Millisecond)...)
		}
		out = append(out, speechTone(350*time.Millisecond, -18, -18)...)
	}
	return out
}

// speechCaller is a probe call whose RTP is digital silence until say
// queues an utterance.
type speechCaller struct {
	pc *probeCall

	mu         sync.Mutex
	queue      [][]byte
	sentFrames int
	lastLoud   int // frames into the utterance: its last loud frame's number
	lastLoudAt time.Time
	drained    chan struct{}
}

// silentULaw is 20 ms of PCMU digital silence.
var silentULaw = func() []byte {
	f := make([]byte, echo.FrameSamples)
	g711.EncodeULaw(f, make([]int16, echo.FrameSamples))
	return f
}()

func dialSpeechCaller(b *testing.B, probe *probeUA, srv *speechTurnServer) *speechCaller {
	pc, err := probe.dial(srv.Addr, srv.Number, map[string][]byte{"reply": echo.FirstFrameULaw(srv.Reply)})
	if err != nil {
		b.Fatalf("dial %s: %v", srv.Addr, err)
	}
	c := &speechCaller{pc: pc}
	pc.pacer.SetSource(vrtp.FrameSourceFunc(c.next))
	return c
}

// next is the pacer's source: the queued utterance, else silence.
func (c *speechCaller) next() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		return silentULaw, true
	}
	f := c.queue[0]
	c.queue = c.queue[1:]
	c.sentFrames++
	if c.sentFrames == c.lastLoud {
		c.lastLoudAt = time.Now()
	}
	if len(c.queue) == 0 {
		close(c.drained)
	}
	return f, true
}

// say sends pcm and returns when its last loud frame went out.
func (c *speechCaller) say(pcm []int16) time.Time {
	var frames [][]byte
	last := 0
	for i := 0; i+echo.FrameSamples <= len(pcm); i += echo.FrameSamples {
		f := make([]byte, echo.FrameSamples)
		g711.EncodeULaw(f, pcm[i:i+echo.FrameSamples])
		frames = append(frames, f)
		if audio.LevelDBFS(pcm[i:i+echo.FrameSamples]) > -40 {
			last = len(frames)
		}
	}
	drained := make(chan struct{})
	c.mu.Lock()
	c.queue, c.sentFrames, c.lastLoud, c.drained = frames, 0, last, drained
	c.mu.Unlock()
	<-drained
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastLoudAt
}

// awaitReply returns when the reply's first packet arrived after since.
func (c *speechCaller) awaitReply(since time.Time, d time.Duration) (time.Time, bool) {
	timeout := time.After(d)
	for {
		select {
		case s := <-c.pc.starts:
			if at := time.Unix(0, s.at); s.name == "reply" && at.After(since) {
				return at, true
			}
		case <-timeout:
			return time.Time{}, false
		}
	}
}

// turnSplit is one spoken turn, split into its parts.
type turnSplit struct {
	endpoint, recognize, rest, turn time.Duration
}

// runSpokenTurns makes one call to srv and has turns spoken turns on it.
func runSpokenTurns(b *testing.B, probe *probeUA, srv *speechTurnServer, utterance []int16, turns int) []turnSplit {
	c := dialSpeechCaller(b, probe, srv)
	defer c.pc.hangup()
	if _, ok := c.awaitReply(time.Time{}, 5*time.Second); !ok {
		b.Fatal("the first prompt never came")
	}
	replyLen := time.Duration(len(srv.Reply)) * time.Second / 8000
	var splits []turnSplit
	for i := range turns {
		time.Sleep(replyLen + 200*time.Millisecond) // the prompt ends: the collect listens
		spoke := c.say(utterance)
		heard, ok := c.awaitReply(spoke, 10*time.Second)
		if !ok {
			b.Fatalf("turn %d: no reply", i)
		}
		var res activities.CollectResult
		select {
		case res = <-srv.Heard:
		case <-time.After(5 * time.Second):
			b.Fatalf("turn %d: the server reported no result", i)
		}
		if res.Kind != activities.InputSpeech || res.Speech == nil {
			b.Fatalf("turn %d: collect result %+v, want speech with its timing", i, res)
		}
		turn := heard.Sub(spoke)
		splits = append(splits, turnSplit{endpoint: res.Speech.Endpoint, recognize: res.Speech.Recognize,
			rest: turn - res.Speech.Endpoint - res.Speech.Recognize, turn: turn})
	}
	return splits
}

// reportTurnSplits reports p50 and p99 of each part of the turns.
func reportTurnSplits(b *testing.B, splits []turnSplit) {
	parts := []struct {
		name string
		of   func(turnSplit) time.Duration
	}{
		{"endpoint", func(s turnSplit) time.Duration { return s.endpoint }},
		{"recognize", func(s turnSplit) time.Duration { return s.recognize }},
		{"rest", func(s turnSplit) time.Duration { return s.rest }},
		{"turn", func(s turnSplit) time.Duration { return s.turn }},
	}
	b.ReportMetric(float64(len(splits)), "turns")
	line := fmt.Sprintf("%d turns:", len(splits))
	for _, p := range parts {
		var ds []time.Duration
		for _, s := range splits {
			ds = append(ds, p.of(s))
		}
		b.ReportMetric(pctMS(ds, 0.5), p.name+"-p50-ms")
		b.ReportMetric(pctMS(ds, 0.99), p.name+"-p99-ms")
		line += fmt.Sprintf(" %s p50 %.1f p99 %.1f ms;", p.name, pctMS(ds, 0.5), pctMS(ds, 0.99))
	}
	b.Log(line)
}
