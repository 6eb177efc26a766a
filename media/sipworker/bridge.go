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
	defer func() {
		leg.stop(endLocal)
		<-leg.done
	}()
	if s.gone() {
		return activities.TransferResult{}, activities.NewCallGone(s.id)
	}
	w.signalAnswered(s, activities.BridgeAnswered{To: in.To, Ring: time.Since(dialed).Round(time.Millisecond)})
	res, err := w.talk(ctx, s, leg, in, target.String())
	if err != nil {
		return activities.TransferResult{}, err
	}
	s.log.Info("bridge: ended", "to", target.String(), "talk", res.Talk, "by_caller", s.gone())
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
// the talk time and the recording.
func (w *Worker) talk(ctx context.Context, s, leg *session, in activities.TransferInput, target string) (activities.TransferResult, error) {
	var rec *stereoRecorder
	if in.Record {
		var err error
		if rec, err = w.newStereoRecorder(in); err != nil {
			return activities.TransferResult{}, err
		}
	}
	s.log.Info("bridge: connected", "to", target, "record", in.Record)
	began := time.Now()
	s.connect(ctx, leg, rec)
	res := activities.TransferResult{Outcome: activities.TransferBridged, Talk: time.Since(began).Round(time.Millisecond)}
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

// connect relays audio and key presses between the caller (s) and leg until
// either hangs up or ctx ends. Prompts cannot play on either leg meanwhile.
func (s *session) connect(ctx context.Context, leg *session, rec *stereoRecorder) {
	s.playMu.Lock()
	defer s.playMu.Unlock()
	leg.playMu.Lock()
	defer leg.playMu.Unlock()

	toLeg, toCaller := newPCMQueue(leg.enc), newPCMQueue(s.enc)
	quiet := newSilenceWatch(s.w.bridgeSilence())
	untapCaller := s.tap(func(pcm []int16) {
		toLeg.push(pcm)
		rec.push(0, pcm)
		quiet.hear(pcm)
	})
	defer untapCaller()
	untapLeg := leg.tap(func(pcm []int16) {
		toCaller.push(pcm)
		rec.push(1, pcm)
		quiet.hear(pcm)
	})
	defer untapLeg()
	s.pacer.SetSource(toCaller)
	defer s.pacer.SetSource(nil)
	leg.pacer.SetSource(toLeg)
	defer leg.pacer.SetSource(nil)

	// Keys pressed before the bridge belonged to the flow.
	s.clearDigits()
	leg.clearDigits()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.digitSig:
			relayDigits(s, leg)
		case <-leg.digitSig:
			relayDigits(leg, s)
		case now := <-tick.C:
			if ev, ok := quiet.check(now); ok {
				s.w.signalSilence(s, ev)
			}
		case <-leg.ctx.Done():
			return
		case <-ctx.Done():
			return
		}
	}
}

// relayDigits sends from's queued key presses to to as RFC 4733 events
// (dropped when to negotiated none: in-band tones are already in the audio).
func relayDigits(from, to *session) {
	for {
		d, ok := from.popDigit()
		if !ok {
			return
		}
		if to.dtmfSendPT < 0 {
			continue
		}
		if err := to.pacer.SendDigit(d, relayDigit); err != nil {
			to.log.Debug("bridge: relay digit", "digit", string(d), "error", err)
		}
	}
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

// pcmQueue carries one leg's decoded audio to the other leg's pacer. The
// tap pushes on the source leg's playout clock, the pacer pulls on the
// destination's; the queue absorbs the difference and drops the oldest
// audio beyond bridgeQueueMax so delay cannot build up.
type pcmQueue struct {
	mu     sync.Mutex
	buf    []int16
	enc    vrtp.Encoder // the destination leg's codec
	primed bool
	frame  [frameSamples]int16
}

func newPCMQueue(enc vrtp.Encoder) *pcmQueue {
	return &pcmQueue{enc: enc, buf: make([]int16, 0, 2*bridgeQueueMax)}
}

func (q *pcmQueue) push(pcm []int16) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.buf = append(q.buf, pcm...)
	if over := len(q.buf) - bridgeQueueMax; over > 0 {
		q.buf = append(q.buf[:0], q.buf[over:]...)
	}
}

// NextFrame returns 20 ms of audio, or nothing (the pacer sends no packet,
// and marks the next talkspurt) until two frames are queued: starting
// with a little slack keeps the two clocks from underrunning every frame.
func (q *pcmQueue) NextFrame() ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.primed {
		if len(q.buf) < 2*frameSamples {
			return nil, false
		}
		q.primed = true
	}
	if len(q.buf) < frameSamples {
		q.primed = false
		return nil, false
	}
	copy(q.frame[:], q.buf[:frameSamples])
	q.buf = append(q.buf[:0], q.buf[frameSamples:]...)
	return encodeFrame(q.enc, q.frame[:])
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
