package sipworker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/registrar"
	vrtp "github.com/voxflow/voxflow/media/rtp"
	"github.com/voxflow/voxflow/media/wav"
)

// Bridged transfer: the worker is a back-to-back user agent. It dials a
// second leg while the caller hears ringback, then relays audio between the
// two legs through decoded PCM (each leg encodes with its own codec, so a
// PCMU caller talks to a PCMA or Opus agent) and relays key presses as RFC 4733
// events. The bridge ends when either side hangs up: the other party's BYE
// returns the caller to the flow, the caller's BYE hangs up the other party.

const (
	// bridgeQueueMax bounds the audio waiting to be sent to one leg: the two
	// legs' clocks drift, and a late reader must not build up delay.
	bridgeQueueMax = 10 * frameSamples // 200 ms
	// relayDigit is the length of a key press relayed to the other leg.
	relayDigit = 100 * time.Millisecond
)

// errAgentLookup: the registrar could not be asked where an agent is (not
// the same as the agent not being registered).
var errAgentLookup = errors.New("agent lookup failed")

// bridgeTransfer connects the caller to in.To and holds the bridge until
// one side hangs up.
func (w *Worker) bridgeTransfer(ctx context.Context, s *session, in activities.TransferInput) (activities.TransferResult, error) {
	if name, phone, ok := w.agentPhone(in.To); ok {
		return w.bridgeWeb(ctx, s, in, name, phone)
	}
	target, viaTrunk, err := w.bridgeTarget(ctx, s, in.To)
	if errors.Is(err, registrar.ErrNotRegistered) {
		// As a proxy answers for an address with no binding.
		s.log.Info("bridge: agent not registered", "to", in.To)
		return activities.TransferResult{Outcome: activities.OriginateNoAnswer, SIPStatus: sip.StatusTemporarilyUnavailable}, nil
	}
	if errors.Is(err, errAgentLookup) {
		// The registry is out of reach: the destination was fine.
		return activities.TransferResult{}, activities.NewTransferFailed(err.Error(), err)
	}
	if err != nil {
		return activities.TransferResult{}, activities.NewBadInput(err)
	}
	from, err := w.fromHeader(bridgeCaller(s, viaTrunk), target, viaTrunk)
	if err != nil {
		return activities.TransferResult{}, activities.NewBadInput(err)
	}
	defer heartbeat(ctx)()
	actx := ctx
	ctx, cancel := s.bind(ctx)
	defer cancel()

	// A transfer takes the line: playback of another activity of the call
	// (a queue's hold flow the workflow left for this) stops now.
	s.takeLine()
	// The caller hears ringback while the other party's phone rings.
	stopRingback := s.playLoop(ringback())
	dialed := time.Now()
	leg, dres, err := w.dial(ctx, dialRequest{
		CallID: s.id + "/leg", Target: target, ViaTrunk: viaTrunk, From: from,
		Timeout: in.Timeout, Leg: true,
	})
	stopRingback()
	if err != nil {
		return activities.TransferResult{}, s.result(err)
	}
	if leg == nil {
		s.log.Info("bridge: not answered", "to", target.String(), "outcome", dres.Outcome, "code", dres.SIPStatus)
		return activities.TransferResult{Outcome: dres.Outcome, SIPStatus: dres.SIPStatus}, nil
	}
	return w.bridgeAnswered(ctx, actx, s, leg, in, target.String(), dialed)
}

// bridgeAnswered holds the bridge between the caller and the answered leg
// (to names it) until one side hangs up, then ends the leg. ctx is bound
// to the call, actx the activity's own.
func (w *Worker) bridgeAnswered(ctx, actx context.Context, s, leg *session, in activities.TransferInput, to string, dialed time.Time) (activities.TransferResult, error) {
	defer func() {
		leg.stop(endLocal)
		<-leg.done
	}()
	if s.gone() {
		return activities.TransferResult{}, activities.NewCallGone(s.id)
	}
	w.signalAnswered(s, activities.BridgeAnswered{To: in.To, Ring: time.Since(dialed).Round(time.Millisecond)})
	res, err := w.talk(ctx, s, leg, in, to)
	if err != nil {
		return activities.TransferResult{}, err
	}
	s.log.Info("bridge: ended", "to", to, "talk", res.Talk, "by_caller", s.gone())
	return w.bridgeEnded(actx, s, res)
}

// signalAnswered tells the call's workflow the bridge was answered,
// without holding up the audio: the signal goes out beside the bridge and
// gives up after answerSignalTimeout.
func (w *Worker) signalAnswered(s *session, ev activities.BridgeAnswered) {
	if w.cfg.SignalAnswered == nil {
		return
	}
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), answerSignalTimeout)
		defer cancel()
		if err := w.cfg.SignalAnswered(ctx, s.id, ev); err != nil {
			s.log.Warn("bridge: tell the workflow of the answer", "error", err)
		}
	}()
}

// answerSignalTimeout bounds telling a workflow its bridge was answered.
const answerSignalTimeout = 10 * time.Second

// bridgeCaller is the caller ID the other party sees: an agent's phone
// shows the caller; a trunk gets our own caller ID (""), which it accepts.
func bridgeCaller(s *session, viaTrunk bool) string {
	if s.d != nil && !viaTrunk {
		if n := callerNumber(s.d.InviteRequest); !strings.ContainsAny(n, ":;<>@ \t") {
			return n
		}
	}
	return ""
}

// talk connects the caller (s) to the answered leg until either hangs up
// or ctx ends, recording the conversation when in.Record; the result holds
// the talk time (of the last party the caller talked to, when the agent
// transferred the call on) and the recording.
func (w *Worker) talk(ctx context.Context, s, leg *session, in activities.TransferInput, target string) (activities.TransferResult, error) {
	var rec *stereoRecorder
	if in.Record {
		var err error
		if rec, err = w.newStereoRecorder(in); err != nil {
			return activities.TransferResult{}, err
		}
	}
	s.log.Info("bridge: connected", "to", target, "record", in.Record)
	end := s.connect(ctx, leg, rec, in.Timeout)
	res := activities.TransferResult{Outcome: activities.TransferBridged, Talk: end.talk.Round(time.Millisecond)}
	if end.outcome != "" {
		// The agent transferred the caller to a party that did not answer.
		res.Outcome, res.SIPStatus = end.outcome, end.sipStatus
	}
	if rec != nil {
		ref, err := rec.close()
		if err != nil {
			s.log.Warn("bridge: recording", "error", err)
		} else {
			res.Recording = ref
		}
	}
	return res, nil
}

// bridgeEnded is the transfer's result once the bridge ended: res when the
// other party hung up; when the caller did, res with the caller-hangup
// outcome; the activity's cancellation (actx) or the call ending otherwise
// is an error.
func (w *Worker) bridgeEnded(actx context.Context, s *session, res activities.TransferResult) (activities.TransferResult, error) {
	switch {
	case s.gone():
		c := s.cause.Load()
		if c != endCaller && c != endShutdown {
			return activities.TransferResult{}, activities.NewCallGone(s.id)
		}
		// Like a voicemail, the result (talk time, recording) is kept: it
		// is returned after the hangup signal, so the workflow learns of
		// the hangup first and runs on_hangup with the bridge's variables.
		w.awaitHangupSignal(s)
		res.Outcome = activities.TransferCallerHangup
		return res, nil
	case actx.Err() != nil:
		return activities.TransferResult{}, actx.Err()
	}
	return res, nil
}

// bridgeTarget resolves where the second leg goes: agent:NAME to that
// agent's registered phone; a SIP URI or user@host directly; a bare name or
// number to the registered agent of that name when there is one, else
// through the trunk, or, without a trunk, to the peer that sent us the call
// (a PBX routes its own extensions). An agent with no live registration is
// an error wrapping registrar.ErrNotRegistered.
func (w *Worker) bridgeTarget(ctx context.Context, s *session, to string) (sip.Uri, bool, error) {
	to = strings.TrimSpace(to)
	name, isAgent := strings.CutPrefix(to, "agent:")
	isNumber := to != "" && !strings.ContainsAny(to, ":@;<> \t")
	if isAgent || (isNumber && w.cfg.Registrar != nil) {
		if !isAgent {
			name = to
		}
		u, err := w.agentTarget(ctx, name)
		switch {
		case err == nil:
			return u, false, nil
		case isAgent || !errors.Is(err, registrar.ErrNotRegistered):
			return sip.Uri{}, false, err
		}
		// A number that is no agent's: dialled below.
	}
	if isNumber && w.cfg.Trunk == nil {
		u, err := s.referTarget(to)
		return u, false, err
	}
	u, viaTrunk, err := w.originateTarget(to)
	if err != nil {
		return sip.Uri{}, false, fmt.Errorf("bridge: %w", err)
	}
	return u, viaTrunk, nil
}

// agentTarget is where a registered agent's phone is called: its latest
// contact URI, sent to the address its REGISTER came from (a phone behind
// NAT is only reachable there) over the same transport.
func (w *Worker) agentTarget(ctx context.Context, name string) (sip.Uri, error) {
	if name == "" {
		return sip.Uri{}, errors.New("bridge: agent: needs a name (agent:NAME)")
	}
	if w.cfg.Registrar == nil {
		return sip.Uri{}, fmt.Errorf("bridge: agent:%s: this media worker has no registrar (voxflow media --registrar)", name)
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	contacts, err := w.cfg.Registrar.Lookup(lctx, name)
	if err != nil && !errors.Is(err, registrar.ErrNotRegistered) {
		return sip.Uri{}, fmt.Errorf("bridge: agent %q: %w: %w", name, errAgentLookup, err)
	}
	if err != nil {
		return sip.Uri{}, fmt.Errorf("bridge: agent %q: %w", name, err)
	}
	if len(contacts) == 0 {
		return sip.Uri{}, fmt.Errorf("bridge: agent %q: %w", name, registrar.ErrNotRegistered)
	}
	c := contacts[0] // the latest registration
	var u sip.Uri
	if err := sip.ParseUri(c.URI, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("bridge: agent %q: contact %q: %w", name, c.URI, err)
	}
	if host, port, err := net.SplitHostPort(c.Source); err == nil {
		if p, err := strconv.Atoi(port); err == nil {
			u.Host, u.Port = host, p
		}
	}
	if t := strings.ToLower(c.Transport); t != "" && t != "udp" {
		if u.UriParams == nil {
			u.UriParams = sip.NewParams()
		}
		u.UriParams.Add("transport", t)
	}
	return u, nil
}

// A bridge is the caller's conversation with the agent, run by connect:
// the parties' audio goes through a mixer (mixer.go), key presses go to
// whoever hears the party that pressed them, and while it runs the worker
// finds it by the caller's call ID, so that the agent's desktop can hold,
// transfer or consult and a supervisor can listen, whisper or barge in
// (control.go). One goroutine, the bridge's loop, owns who takes part:
// control requests reach it as ops and the rings it starts report back to
// it, so no two changes ever interleave.

// bridgeEnd is how a bridge ended.
type bridgeEnd struct {
	// talk is how long the caller talked to the last agent (the party a
	// transfer reached, if one did).
	talk time.Duration
	// outcome is set when the agent transferred the caller to a party
	// that did not answer (no_answer, busy, failed): nobody is left to
	// talk to, so the caller goes back to the flow.
	outcome   string
	sipStatus int
}

// bridge is a running bridge.
type bridge struct {
	w       *Worker
	caller  *session
	ctx     context.Context // ends with the bridge: rings in progress stop
	mix     *mixer
	quiet   *silenceWatch
	timeout time.Duration // ring timeout of the parties the bridge calls

	// Owned by the loop.
	parties  [numParties]*party
	pending  *pendingRing // the party being rung: one at a time
	legs     []*session   // sessions the bridge started, torn down at its end
	lastTalk time.Duration
	seq      int
	end      *bridgeEnd // set: the loop returns

	ops   chan bridgeOp
	rang  chan rang
	ended chan struct{} // closed once the loop returned
	rings sync.WaitGroup
}

// party is a session taking part in a bridge.
type party struct {
	s     *session
	untap func()
	since time.Time
	// left, when set (a supervisor's), is closed when the party leaves.
	left chan struct{}
}

// bridgeOp is a control request, run by the bridge's loop.
type bridgeOp struct {
	f     func() error
	reply chan error
}

// connect bridges the caller (s) and leg until the caller hangs up, ctx
// ends, or the agent hangs up with nobody to hand the caller to; prompts
// cannot play on the parties meanwhile. timeout is the ring timeout of
// the parties the agent transfers or consults to. Every party but the
// caller is hung up, and the legs the bridge called are gone, when it
// returns.
func (s *session) connect(ctx context.Context, leg *session, rec *stereoRecorder, timeout time.Duration) bridgeEnd {
	ctx, cancel := context.WithCancel(ctx)
	quiet := newSilenceWatch(s.w.bridgeSilence())
	b := &bridge{
		w: s.w, caller: s, ctx: ctx, mix: newMixer(rec, quiet), quiet: quiet, timeout: timeout,
		ops: make(chan bridgeOp), rang: make(chan rang), ended: make(chan struct{}),
	}
	b.join(roleCaller, s)
	b.join(roleAgent, leg)
	s.w.bridges.add(s.id, b)
	end := b.run(ctx)
	s.w.bridges.remove(s.id, b)
	close(b.ended) // requests now fail; a ring answered now hangs up itself
	cancel()
	for r := numParties - 1; r >= roleCaller; r-- {
		if p := b.leave(r); p != nil && r != roleCaller {
			p.s.stop(endLocal)
		}
	}
	b.rings.Wait()
	for _, l := range b.legs {
		<-l.done
	}
	return end
}

// run is the bridge's loop: it relays key presses, follows parties that
// hang up, runs control requests and the ends of rings, and watches for
// silence, until the bridge is to end.
func (b *bridge) run(ctx context.Context) bridgeEnd {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for b.end == nil {
		// Absent parties' channels stay nil: those cases never fire.
		var keys, gone [numParties]<-chan struct{}
		for r, p := range b.parties {
			if p != nil {
				keys[r], gone[r] = p.s.digitSig, p.s.ctx.Done()
			}
		}
		select {
		case <-keys[roleCaller]:
			b.relay(roleCaller)
		case <-keys[roleAgent]:
			b.relay(roleAgent)
		case <-keys[roleSupervisor]:
			b.relay(roleSupervisor)
		case <-keys[roleConsult]:
			b.relay(roleConsult)
		case <-gone[roleAgent]:
			b.agentGone()
		case <-gone[roleSupervisor]:
			b.leave(roleSupervisor)
		case <-gone[roleConsult]:
			b.consultGone()
		case op := <-b.ops:
			op.reply <- op.f()
		case r := <-b.rang:
			b.answered(r)
		case now := <-tick.C:
			if ev, ok := b.quiet.check(now); ok {
				b.w.signalSilence(b.caller, ev)
			}
		case <-gone[roleCaller]:
			b.finish(bridgeEnd{})
		case <-ctx.Done():
			b.finish(bridgeEnd{})
		}
	}
	return *b.end
}

// finish ends the bridge with e, timing the last agent's talk.
func (b *bridge) finish(e bridgeEnd) {
	e.talk = b.lastTalk
	if a := b.parties[roleAgent]; a != nil {
		e.talk = time.Since(a.since)
	}
	b.end = &e
}

// join makes s party r: its audio goes to the mixer and its pacer plays
// what it hears.
func (b *bridge) join(r role, s *session) *party {
	s.playMu.Lock()
	// Keys pressed before belonged to the flow (or to nobody).
	s.clearDigits()
	b.mix.add(r)
	p := &party{s: s, since: time.Now()}
	p.untap = s.tap(func(pcm []int16) { b.mix.push(r, pcm) })
	// Not under the mixer's lock: SetSource may pull a frame at once.
	s.pacer.SetSource(&partySource{m: b.mix, r: r, enc: s.enc})
	b.parties[r] = p
	return p
}

// leave takes party r out of the bridge (nil when there is none); its
// session goes on, unless it is a supervisor's, whose browser is let go.
func (b *bridge) leave(r role) *party {
	p := b.parties[r]
	if p == nil {
		return nil
	}
	b.parties[r] = nil
	p.s.pacer.SetSource(nil)
	p.untap()
	b.mix.remove(r)
	p.s.playMu.Unlock()
	if p.left != nil {
		p.s.stop(endLocal)
		close(p.left)
	}
	return p
}

// dropAgent hangs the agent up (a transfer, a completed consult).
func (b *bridge) dropAgent() {
	if p := b.leave(roleAgent); p != nil {
		b.lastTalk = time.Since(p.since)
		p.s.stop(endLocal)
	}
}

// relay sends from's key presses as RFC 4733 events to the parties that
// hear from (dropped for one that negotiated none: in-band tones are
// already in the audio).
func (b *bridge) relay(from role) {
	src := b.parties[from].s
	for {
		d, ok := src.popDigit()
		if !ok {
			return
		}
		for dst, p := range b.parties {
			if p == nil || p.s.dtmfSendPT < 0 || !b.mix.hearsNow(role(dst), from) {
				continue
			}
			if err := p.s.pacer.SendDigit(d, relayDigit); err != nil {
				p.s.log.Debug("bridge: relay digit", "key", keyClass(d), "from", from, "error", err)
			}
		}
	}
}

// legTarget is where the bridge calls a new party: an agent's desktop, or
// a SIP URI.
type legTarget struct {
	to       string
	name     string
	phone    AgentPhone // the desktop, if it is one
	uri      sip.Uri
	viaTrunk bool
	from     *sip.FromHeader
}

// resolveLeg finds where to is (anything a bridged transfer takes:
// agent:NAME, a SIP URI, a number), before anything is changed: an agent
// who is not registered is an error wrapping registrar.ErrNotRegistered.
func (w *Worker) resolveLeg(ctx context.Context, s *session, to string) (legTarget, error) {
	if name, phone, ok := w.agentPhone(to); ok {
		return legTarget{to: to, name: name, phone: phone}, nil
	}
	target, viaTrunk, err := w.bridgeTarget(ctx, s, to)
	if err != nil {
		return legTarget{}, err
	}
	from, err := w.fromHeader(bridgeCaller(s, viaTrunk), target, viaTrunk)
	if err != nil {
		return legTarget{}, fmt.Errorf("bridge: caller ID for %s: %w", to, err)
	}
	return legTarget{to: to, uri: target, viaTrunk: viaTrunk, from: from}, nil
}

// ringLeg calls t for at most timeout and returns its session once
// answered (nil, with the outcome, when not). id names a SIP leg's session.
func (w *Worker) ringLeg(ctx context.Context, s *session, t legTarget, id string, timeout time.Duration) (*session, activities.OriginateResult, error) {
	if t.phone == nil {
		return w.dial(ctx, dialRequest{CallID: id, Target: t.uri, ViaTrunk: t.viaTrunk, From: t.from, Timeout: timeout, Leg: true})
	}
	leg, err := w.ringWeb(ctx, s, activities.TransferInput{To: t.to, Timeout: timeout}, t.name, t.phone)
	switch {
	case err != nil:
		return nil, activities.OriginateResult{}, fmt.Errorf("ring agent %s's desktop: %w", t.name, err)
	case leg == nil:
		return nil, activities.OriginateResult{Outcome: activities.OriginateNoAnswer}, nil
	}
	return leg, activities.OriginateResult{Outcome: activities.OriginateAnswered}, nil
}

// playLoop plays pcm to the caller over and over until the returned stop is
// called (ringback while a second leg rings).
func (s *session) playLoop(pcm []int16) (stop func()) {
	src := &loopSource{pcm: pcm, enc: s.enc}
	s.playMu.Lock()
	s.pacer.SetSource(src)
	return func() {
		s.pacer.SetSource(nil)
		s.playMu.Unlock()
	}
}

// ringback is one cadence of the ringing tone: 440+480 Hz, 2 s on, 4 s
// off (the North American ringback of ITU-T E.180), made once.
var ringback = sync.OnceValue(func() []int16 {
	a, b := audio.Tone(440, 2000, -22), audio.Tone(480, 2000, -22)
	on := audio.Mix(a, b)
	return append(on, make([]int16, 4*sampleRate)...)
})

// loopSource feeds a Pacer the same audio in a loop.
type loopSource struct {
	pcm   []int16
	pos   int
	enc   vrtp.Encoder
	frame [frameSamples]int16
}

func (l *loopSource) NextFrame() ([]byte, bool) {
	if len(l.pcm) == 0 {
		return nil, false
	}
	for i := range l.frame {
		l.frame[i] = l.pcm[l.pos]
		l.pos = (l.pos + 1) % len(l.pcm)
	}
	return encodeFrame(l.enc, l.frame[:])
}

// encodeFrame encodes one frame for a pacer; a frame the codec fails on
// is not sent.
func encodeFrame(enc vrtp.Encoder, pcm []int16) ([]byte, bool) {
	payload, err := enc.Encode(pcm)
	return payload, err == nil
}

// stereoRecorder writes a bridged conversation to a stereo WAV: channel 0
// (left) the caller, channel 1 (right) the other party. The taps push from
// two legs' playouts (on the media clock); a writer goroutine pairs their frames, so file
// I/O never blocks the media.
type stereoRecorder struct {
	path string
	f    *os.File
	ww   *wav.Writer

	mu     sync.Mutex
	side   [2][]int16
	frames chan []int16 // interleaved, ready to write
	done   chan error
	closed bool
}

func (w *Worker) newStereoRecorder(in activities.TransferInput) (*stereoRecorder, error) {
	name := fmt.Sprintf("%s-%s-bridge-%d.wav", unsafeName.ReplaceAllString(in.CallID, "_"), unsafeName.ReplaceAllString(in.NodeID, "_"), time.Now().UnixMilli())
	path, err := w.recordingPath(name)
	if err != nil {
		return nil, fmt.Errorf("bridge: recording: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("bridge: recording: %w", err)
	}
	ww, err := wav.NewWriter(f, sampleRate, 2)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bridge: recording: %w", err)
	}
	r := &stereoRecorder{path: path, f: f, ww: ww, frames: make(chan []int16, 64), done: make(chan error, 1)}
	go func() {
		var werr error
		for fr := range r.frames {
			if werr == nil {
				werr = ww.WriteSamples(fr)
			}
		}
		r.done <- werr
	}()
	return r, nil
}

// push adds one side's audio; whole frames present on both sides are
// interleaved and queued for writing. A side more than a second ahead
// (the other leg's audio stalled) is paired with silence.
func (r *stereoRecorder) push(ch int, pcm []int16) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.side[ch] = append(r.side[ch], pcm...)
	other := 1 - ch
	if lag := len(r.side[ch]) - len(r.side[other]); lag > sampleRate {
		r.side[other] = append(r.side[other], make([]int16, lag)...)
	}
	n := min(len(r.side[0]), len(r.side[1]))
	n -= n % frameSamples
	if n == 0 {
		return
	}
	fr := audio.Interleave(r.side[0][:n], r.side[1][:n])
	r.side[0] = append(r.side[0][:0], r.side[0][n:]...)
	r.side[1] = append(r.side[1][:0], r.side[1][n:]...)
	select {
	case r.frames <- fr:
	default:
		// The disk is far behind: losing audio beats stalling the call.
	}
}

// close flushes what is left (the shorter side padded with silence) and
// finishes the file; it returns the recording's reference.
func (r *stereoRecorder) close() (string, error) {
	r.mu.Lock()
	r.closed = true
	n := max(len(r.side[0]), len(r.side[1]))
	var last []int16
	if n > 0 {
		for ch := range r.side {
			r.side[ch] = append(r.side[ch], make([]int16, n-len(r.side[ch]))...)
		}
		last = audio.Interleave(r.side[0], r.side[1])
	}
	r.mu.Unlock()
	if last != nil {
		r.frames <- last
	}
	close(r.frames)
	err := <-r.done
	err = errors.Join(err, r.ww.Close(), r.f.Close())
	if err != nil {
		return "", fmt.Errorf("bridge: recording %s: %w", r.path, err)
	}
	return "file://" + r.path, nil
}
