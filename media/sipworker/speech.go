package sipworker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/audio"
)

// Speech input: while a collect that expects speech runs, an energy-based
// endpointer listens to the caller's decoded audio next to the DTMF
// detectors. The start of speech barges in on the prompt (when barge-in is
// on) and holds off the no-input timeout; the end of speech hands the
// utterance to the worker's recogniser: Config.ASR for a menu's phrases,
// Config.Transcriber for free speech (intent and llm nodes).
const (
	speechThresholdDBFS = -40
	speechMinMs         = 100 // sound this long starts speech (clicks do not)
	// speechPreroll of audio before the detected start and speechTail
	// of the closing silence go to the recogniser with the speech.
	speechPreroll = 300 * time.Millisecond
	speechTail    = 200 * time.Millisecond
)

// endpointPolicy says when the caller has finished speaking: when a pause
// starts, the first rule that holds for the speech so far sets how much
// silence ends the utterance; sound before that much silence passed makes
// the pause part of the utterance. maxSpeech ends it regardless.
type endpointPolicy struct {
	rules     []endpointRule
	maxSpeech time.Duration
}

type endpointRule struct {
	name    string
	holds   func(speechSoFar) bool
	silence time.Duration
}

// speechSoFar is what the rules look at when a pause starts.
type speechSoFar struct {
	length  time.Duration // from the start of speech to the end of its last loud frame
	falling bool          // the level fell towards the end (see fallWindow)
	digits  bool          // the collect expects digits or a number
}

func always(speechSoFar) bool { return true }

// menuEndpoint: menu phrases are short and whole ("billing"); one fixed
// silence ends them.
var menuEndpoint = endpointPolicy{
	maxSpeech: 8 * time.Second,
	rules:     []endpointRule{{"menu", always, 700 * time.Millisecond}},
}

// freeSpeechEndpoint: callers say things in their own words and pause
// mid-sentence ("my account is ... four four seven one"), so one fixed
// silence either cuts them off or keeps those who are done waiting.
var freeSpeechEndpoint = endpointPolicy{
	// A whole request fits; an open line or a monologue ends somewhere.
	maxSpeech: 15 * time.Second,
	rules: []endpointRule{
		// Digit strings are read in groups with pauses between them
		// ("four four seven ... one two"): outwait a group pause.
		{"digits", func(s speechSoFar) bool { return s.digits }, 1000 * time.Millisecond},
		// Under 0.8 s is as often a lead-in ("yes, so", "my account is")
		// as a whole answer; what matters tends to follow a pause.
		{"short", func(s speechSoFar) bool { return s.length < 800*time.Millisecond }, 900 * time.Millisecond},
		// A long utterance whose level fell at its end sounds finished
		// (sentence-final declination): answer quickly.
		{"falling", func(s speechSoFar) bool { return s.length >= 1500*time.Millisecond && s.falling }, 500 * time.Millisecond},
		// Otherwise the menu's silence.
		{"default", always, 700 * time.Millisecond},
	},
}

// The level fell when the loud frames of the last fallWindow are on
// average fallDB below the loud frames before them.
const (
	fallWindow = 300 * time.Millisecond
	fallDB     = 6
)

// decide returns the rule that sets the silence ending this pause (a
// policy's last rule always holds).
func (p endpointPolicy) decide(s speechSoFar) endpointRule {
	for _, r := range p.rules[:len(p.rules)-1] {
		if r.holds(s) {
			return r
		}
	}
	return p.rules[len(p.rules)-1]
}

// expectsDigits reports whether a free-speech collect's slots are read
// as digit strings or numbers.
func expectsDigits(in activities.CollectInput) bool {
	return slices.Contains(in.HintSlots, activities.SlotDigits) || slices.Contains(in.HintSlots, activities.SlotNumber)
}

// endpointEvent is a start or end of speech; at is a stream offset in
// samples from the first sample processed.
type endpointEvent struct {
	start bool
	at    int64 // start: where the sound began; end: the end of the last loud frame
	// end only: the silence waited after the last loud frame, and the
	// rule that set it ("max" when maxSpeech ended the utterance).
	waited time.Duration
	rule   string
}

// endpointer finds the start and end of one utterance in 20 ms frames of
// 8 kHz PCM. It is not safe for concurrent use.
type endpointer struct {
	policy endpointPolicy
	digits bool

	pending  []int16
	frame    int64 // index of the next frame
	loudRun  int   // consecutive loud frames (before speech starts)
	loudFrom int64 // first frame of that run
	speaking bool
	done     bool
	startAt  int64 // first frame of speech
	lastLoud int64 // last loud frame of speech
	quiet    int   // consecutive quiet frames since lastLoud
	need     int   // quiet frames that end the current pause
	rule     string

	// Levels of the loud frames: all of them, and the last fallWindow's.
	loudN   int
	loudSum float64
	tail    []float64
}

func newEndpointer(p endpointPolicy, digits bool) *endpointer {
	return &endpointer{policy: p, digits: digits}
}

func frames(d time.Duration) int { return max(1, int((d+frameDur-1)/frameDur)) }

// process consumes pcm and returns the events it completes: a start, then
// one end, then nothing more.
func (e *endpointer) process(pcm []int16) []endpointEvent {
	var out []endpointEvent
	e.pending = append(e.pending, pcm...)
	off := 0
	for ; off+audio.FrameSamples <= len(e.pending) && !e.done; off += audio.FrameSamples {
		if ev, ok := e.step(audio.LevelDBFS(e.pending[off : off+audio.FrameSamples])); ok {
			out = append(out, ev)
		}
	}
	e.pending = append(e.pending[:0], e.pending[off:]...)
	return out
}

func (e *endpointer) step(level float64) (endpointEvent, bool) {
	f := e.frame
	e.frame++
	loud := level > speechThresholdDBFS
	if !e.speaking {
		if !loud {
			e.loudRun = 0
			return endpointEvent{}, false
		}
		if e.loudRun == 0 {
			e.loudFrom, e.loudN, e.loudSum, e.tail = f, 0, 0, e.tail[:0]
		}
		e.loudRun++
		e.addLoud(level)
		if e.loudRun < frames(speechMinMs*time.Millisecond) {
			return endpointEvent{}, false
		}
		e.speaking, e.startAt, e.lastLoud = true, e.loudFrom, f
		return endpointEvent{start: true, at: e.loudFrom * audio.FrameSamples}, true
	}
	if loud {
		e.lastLoud, e.quiet = f, 0
		e.addLoud(level)
	} else {
		if e.quiet == 0 {
			r := e.policy.decide(e.soFar())
			e.need, e.rule = frames(r.silence), r.name
		}
		e.quiet++
		if e.quiet >= e.need {
			return e.end(e.rule), true
		}
	}
	if time.Duration(f+1-e.startAt)*frameDur >= e.policy.maxSpeech {
		return e.end("max"), true
	}
	return endpointEvent{}, false
}

func (e *endpointer) end(rule string) endpointEvent {
	e.done = true
	return endpointEvent{at: (e.lastLoud + 1) * audio.FrameSamples, waited: time.Duration(e.quiet) * frameDur, rule: rule}
}

func (e *endpointer) addLoud(level float64) {
	e.loudN++
	e.loudSum += level
	if n := frames(fallWindow); len(e.tail) == n {
		e.tail = append(e.tail[:0], e.tail[1:]...)
	}
	e.tail = append(e.tail, level)
}

// soFar describes the speech up to its last loud frame.
func (e *endpointer) soFar() speechSoFar {
	s := speechSoFar{length: time.Duration(e.lastLoud+1-e.startAt) * frameDur, digits: e.digits}
	if before := e.loudN - len(e.tail); before > 0 && len(e.tail) == frames(fallWindow) {
		var tailSum float64
		for _, l := range e.tail {
			tailSum += l
		}
		s.falling = tailSum/float64(len(e.tail)) <= (e.loudSum-tailSum)/float64(before)-fallDB
	}
	return s
}

// listener collects one utterance of the caller. Its methods work on a
// nil listener (no speech expected): the channels are nil and never ready.
type listener struct {
	s     *session
	ep    *endpointer
	free  bool // transcribe (free speech) rather than match phrases
	untap func()

	mu       sync.Mutex
	pcm      []int16 // audio from stream offset base on
	base     int64
	startAt  int64 // stream offset of the speech start; -1 before it
	finished bool

	started chan struct{} // closed when speech starts
	ended   chan utterance
}

type utterance struct {
	pcm      []int16
	at       time.Time     // when the end of speech was detected
	free     bool          // free speech: transcribe it
	endpoint time.Duration // silence waited after the last speech frame
	rule     string        // the endpoint rule that ended it
}

// listen starts listening for speech when the collect expects it and the
// worker can recognise it: free speech with a Transcriber, phrases with a
// recogniser; nil otherwise (keys only).
func (w *Worker) listen(s *session, in activities.CollectInput) *listener {
	var p endpointPolicy
	switch {
	case in.FreeSpeech && w.cfg.Transcriber != nil:
		p = freeSpeechEndpoint
	case in.FreeSpeech:
		if w.cfg.freeSpeechOff.first(s) {
			s.log.Warn("free speech asked but no transcriber is configured: this call takes keys only", "node", in.NodeID)
		}
		return nil
	case len(in.Phrases) > 0 && w.cfg.ASR != nil:
		p = menuEndpoint
	default:
		return nil
	}
	l := &listener{
		s:       s,
		ep:      newEndpointer(p, in.FreeSpeech && expectsDigits(in)),
		free:    in.FreeSpeech,
		startAt: -1,
		started: make(chan struct{}),
		ended:   make(chan utterance, 1),
	}
	l.untap = s.tap(l.feed)
	return l
}

// stop stops listening.
func (l *listener) stop() {
	if l != nil {
		l.untap()
	}
}

// startedC is closed when the caller starts speaking.
func (l *listener) startedC() <-chan struct{} {
	if l == nil {
		return nil
	}
	return l.started
}

// endedC delivers the utterance once the caller stops speaking.
func (l *listener) endedC() <-chan utterance {
	if l == nil {
		return nil
	}
	return l.ended
}

// inSpeech reports whether the caller has started speaking (barge-in).
func (l *listener) inSpeech() bool {
	if l == nil {
		return false
	}
	select {
	case <-l.started:
		return true
	default:
		return false
	}
}

// feed runs on the media clock with each 20 ms of audio.
func (l *listener) feed(pcm []int16) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.finished {
		return
	}
	l.pcm = append(l.pcm, pcm...)
	for _, ev := range l.ep.process(pcm) {
		if !ev.start {
			l.finish(ev)
			return
		}
		l.startAt = ev.at
		close(l.started)
		// Wake a prompt playing with barge-in (playPCM rechecks its stop
		// function on this signal).
		select {
		case l.s.digitSig <- struct{}{}:
		default:
		}
	}
	if l.startAt < 0 {
		// Keep only the pre-roll while waiting for speech (the start is
		// confirmed speechMinMs after the sound began).
		if drop := len(l.pcm) - int(samples(speechPreroll+speechMinMs*time.Millisecond)); drop > 0 {
			l.pcm = append(l.pcm[:0], l.pcm[drop:]...)
			l.base += int64(drop)
		}
	}
}

// finish hands the utterance, with speechTail of the silence after it, to
// the collect.
func (l *listener) finish(ev endpointEvent) {
	l.finished = true
	from := max(l.startAt-samples(speechPreroll), l.base) - l.base
	to := min(ev.at+samples(speechTail)-l.base, int64(len(l.pcm)))
	l.ended <- utterance{pcm: append([]int16(nil), l.pcm[from:to]...), at: time.Now(),
		free: l.free, endpoint: ev.waited, rule: ev.rule}
	l.pcm = nil
}

func samples(d time.Duration) int64 { return int64(d) * sampleRate / int64(time.Second) }

// recognise turns an utterance into a speech result: the phrase heard, or
// an empty utterance when nothing matched, which the flow treats as an
// invalid choice (its menu plays the invalid prompt and asks again, where
// keys still work). A recogniser failure is logged and treated the same.
func (s *session) recognise(ctx context.Context, in activities.CollectInput, u utterance) (activities.CollectResult, error) {
	if u.free {
		return s.transcribe(ctx, in, u)
	}
	began := time.Now()
	res, err := s.w.cfg.ASR.Recognize(ctx, u.pcm, in.Phrases, promptLanguage(in.Prompts))
	took := time.Since(began)
	if err != nil {
		if ctx.Err() != nil {
			return activities.CollectResult{}, ctx.Err()
		}
		s.log.Warn("speech recognition failed; taking it as no match", "node", in.NodeID, "error", err)
	}
	// The recognised words stay out of the log (the caller may have said a
	// secret); the matched phrase is the flow's own text.
	s.log.Info("speech", "node", in.NodeID, "phrase", res.Phrase, "text_chars", len(res.Text), "confidence", res.Confidence,
		"speech_ms", len(u.pcm)*1000/sampleRate, "latency_ms", time.Since(u.at).Milliseconds())
	return activities.CollectResult{Kind: activities.InputSpeech, Utterance: res.Phrase, Speech: &activities.SpeechTiming{
		Endpoint: u.endpoint, Recognize: took, Confidence: res.Confidence, Recognizer: recognizerName(s.w.cfg.ASR)}}, nil
}

// transcribe turns free speech into its transcript; an empty one (nothing
// intelligible, or a failed transcriber, logged) is a speech result with
// an empty utterance, which the flow treats as no match.
func (s *session) transcribe(ctx context.Context, in activities.CollectInput, u utterance) (activities.CollectResult, error) {
	began := time.Now()
	tr, err := s.w.cfg.Transcriber.Transcribe(ctx, u.pcm, asr.Hints{Phrases: in.Hints, Slots: in.HintSlots}, promptLanguage(in.Prompts))
	took := time.Since(began)
	if err != nil {
		if ctx.Err() != nil {
			return activities.CollectResult{}, ctx.Err()
		}
		s.log.Warn("transcription failed; taking it as no match", "node", in.NodeID, "error", err)
		tr = asr.Transcript{}
	}
	s.log.Info("free speech", "node", in.NodeID, "text_chars", len(tr.Text), "confidence", tr.Confidence,
		"speech_ms", len(u.pcm)*1000/sampleRate, "endpoint_ms", u.endpoint.Milliseconds(), "rule", u.rule,
		"recognize_ms", took.Milliseconds())
	return activities.CollectResult{Kind: activities.InputSpeech, Utterance: tr.Text, Speech: &activities.SpeechTiming{
		Endpoint: u.endpoint, Recognize: took, Confidence: min(max(tr.Confidence, 0), 1),
		Recognizer: recognizerName(s.w.cfg.Transcriber)}}, nil
}

// promptLanguage is the language of a collect's first prompt that has one.
func promptLanguage(prompts []activities.Prompt) string {
	for _, p := range prompts {
		if p.Language != "" {
			return p.Language
		}
	}
	return ""
}

// recognizerName names a recogniser for SpeechTiming: its Name() when it
// has one, else its type's name in lower case ("pocketsphinx").
func recognizerName(r any) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return n.Name()
	}
	t := strings.TrimPrefix(fmt.Sprintf("%T", r), "*")
	return strings.ToLower(t[strings.LastIndex(t, ".")+1:])
}

// promptAndListen plays a collect's prompts and returns the listener
// (nil when no speech is expected). With barge-in it listens from the
// start and the caller's speech stops the prompts like a key does;
// without, it listens once the prompts end.
func (w *Worker) promptAndListen(ctx context.Context, s *session, in activities.CollectInput) (*listener, error) {
	if !in.BargeIn {
		if _, err := w.say(ctx, s, in.Prompts, false); err != nil {
			return nil, err
		}
		return w.listen(s, in), nil
	}
	l := w.listen(s, in)
	began := time.Now()
	cut, err := w.sayUntil(ctx, s, in.Prompts, func() bool { return s.hasDigit() || l.inSpeech() })
	if cut {
		by := "speech"
		if s.hasDigit() { // an in-band key's tone may start speech too
			by = "key"
		}
		s.log.Info("barge-in", "node", in.NodeID, "by", by, "after_ms", time.Since(began).Milliseconds())
	}
	return l, err
}

// oncePerCall remembers the calls already told something, and forgets
// each call when it ends.
type oncePerCall struct{ seen sync.Map }

// first reports whether this is the first time for s's call (always true
// on a nil oncePerCall).
func (o *oncePerCall) first(s *session) bool {
	if o == nil {
		return true
	}
	if _, told := o.seen.LoadOrStore(s, struct{}{}); told {
		return false
	}
	context.AfterFunc(s.ctx, func() { o.seen.Delete(s) })
	return true
}
