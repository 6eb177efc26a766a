package sipworker

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo/sip"
	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/dtmf"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// Why a call ended.
const (
	endCaller   int32 = iota + 1 // BYE or CANCEL from the caller
	endLocal                     // the flow hung up
	endTransfer                  // blind transfer accepted
	endShutdown                  // the worker closed
	endFailed                    // the call's workflow could not be started
)

// session is one answered call: its dialog, its media and the caller's
// key presses. Media activities find it by call ID.
type session struct {
	id        string // voxflow call ID (workflow call-<id>)
	sipCallID string
	w         *Worker
	// d is the dialog of an inbound call, dc of an originated one (the
	// other is nil).
	d   *diago.DialogServerSession
	dc  *diago.DialogClientSession
	med *diago.DialogMedia
	// web is the media of a browser's call (web.go) instead of d, dc and med.
	web WebPeer
	// fromName is the caller of a browser's call, as its page named them.
	fromName string
	// peer is the host:port the call's INVITE came from or went to: a bare
	// number given to a blind transfer is sent there.
	peer string
	// leg marks the second leg of a bridged transfer (no workflow of its own).
	leg bool
	// activities counts media activities running on the call; idleSince
	// (unix ns) is when the last one ended, or when the call was set up.
	activities atomic.Int32
	idleSince  atomic.Int64
	log        *slog.Logger
	// bound cancels the media activities running on the call for the
	// workflow run boundRun; an activity of another run supersedes them (an
	// operator reset the call: the old run's activities are never
	// cancelled through the server, as media activities do not heartbeat).
	bmu      sync.Mutex
	bound    map[uint64]context.CancelFunc
	boundRun string
	boundSeq uint64
	// spec is the playback started ahead of the next activity (speculate.go).
	spec *speculation

	// ctx is cancelled when the call ends, whoever ends it; every media
	// activity of the call runs under it.
	ctx    context.Context
	cancel context.CancelFunc
	cause  atomic.Int32
	// done is closed once the call is fully torn down (BYE exchanged,
	// media closed).
	done chan struct{}
	// launched is closed when the workflow start returned; startErr tells how.
	launched chan struct{}
	startErr error
	// signalled is closed once the hangup signal went out (or will not).
	signalled chan struct{}

	// Negotiated media: payload types we receive and send, and the audio
	// codec (alaw: it is PCMA).
	audioPT, audioSendPT uint8
	codec                wireCodec
	alaw                 bool
	dtmfPT, dtmfSendPT   int // -1 when telephone-event was not negotiated
	// source accepts RTP only from the caller (see newSourceFilter).
	source *vrtp.SourceFilter
	// early is set while an inbound call may still be in early media
	// (earlymedia.go); nil when it was answered at once.
	early *earlyState
	// held: the caller put the call on hold, no RTP is sent (hold.go);
	// offeredDir is the direction its last re-INVITE offered.
	held       atomic.Bool
	offeredDir atomic.Value

	// Caller key presses not yet consumed (type-ahead is kept).
	dmu      sync.Mutex
	digits   []rune
	digitSig chan struct{}

	// Taps receive the caller's decoded audio, 20 ms at a time.
	tmu    sync.Mutex
	taps   map[int]func([]int16)
	nextTp int

	// media counts the reader goroutine and the call's membership of the
	// media clock (pacer and playout), both ended when the call ends.
	media sync.WaitGroup
	jb    *vrtp.JitterBuffer
	pacer *vrtp.Pacer
	// playDue is when the next caller frame is due out of jitter buffer,
	// silence what plays when none is (both owned by the media clock).
	playDue time.Time
	silence [frameSamples]int16
	// enc encodes what the pacer sends (every source of the session shares
	// it: Opus keeps state across frames); dec decodes on playout.
	enc    vrtp.Encoder
	dec    frameDecoder
	inband *dtmf.Detector // nil when telephone-event was negotiated
	// q measures the call's RTP for its quality at hang-up (quality.go).
	q rtpQuality
	// Outbound audio: one prompt at a time.
	playMu sync.Mutex
}

// newSession builds the session of an answered inbound call.
func newSession(w *Worker, id string, d *diago.DialogServerSession, med *diago.DialogMedia) *session {
	s := newMediaSession(w, id, d.InviteRequest.CallID().Value(), med, behindNAT(d.InviteRequest))
	s.d, s.peer = d, d.InviteRequest.Source()
	return s
}

// newMediaSession builds a session around negotiated media; nat latches
// RTP onto the first source (see vrtp.NewSourceFilter).
func newMediaSession(w *Worker, id, sipCallID string, med *diago.DialogMedia, nat bool) *session {
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		id: id, sipCallID: sipCallID, w: w, med: med,
		ctx: ctx, cancel: cancel, done: make(chan struct{}), launched: make(chan struct{}), signalled: make(chan struct{}),
		digitSig: make(chan struct{}, 1), taps: map[int]func([]int16){}, dtmfPT: -1, dtmfSendPT: -1,
	}
	s.idleSince.Store(time.Now().UnixNano())
	s.log = w.log.With("call_id", id, "workflow_id", activities.WorkflowID(id), "sip_call_id", s.sipCallID)
	ms := med.MediaSession()
	codec := media.CodecAudioFromSession(ms)
	s.audioPT, s.audioSendPT = codec.PayloadTypeRecv(), codec.PayloadType
	wc, ok := codecFor(codec)
	if !ok {
		// diago negotiated from our own list, so this is not expected.
		s.log.Warn("negotiated codec not supported, sending PCMU", "codec", codec.Name, "rate", codec.SampleRate)
		wc = codecPCMU
	}
	s.codec, s.alaw = wc, wc.name == codecPCMA.name
	for _, c := range ms.CommonCodecs() {
		if c.Matches(media.CodecTelephoneEvent8000) {
			s.dtmfPT, s.dtmfSendPT = int(c.PayloadTypeRecv()), int(c.PayloadType)
		}
	}
	remote, _ := netip.ParseAddrPort(ms.Raddr.String())
	s.source = vrtp.NewSourceFilter(remote, nat)
	return s
}

// behindNAT guesses whether the caller's media comes from another address
// than its SDP says: the SDP address differs from the host that sent the
// INVITE. Then RTP latches onto the first source and replies go there.
func behindNAT(req *sip.Request) bool { return sdpElsewhere(req.Body(), req.Source()) }

// sdpElsewhere reports whether the SDP's connection address differs from
// the host that sent the message carrying it.
func sdpElsewhere(body []byte, source string) bool {
	sdpAddr, err := offerAddress(body)
	if err != nil {
		return false
	}
	src, err := netip.ParseAddrPort(source)
	if err != nil {
		return false
	}
	return sdpAddr.Addr() != src.Addr().Unmap()
}

// stop ends the call for the given cause (the first cause wins).
func (s *session) stop(cause int32) {
	s.cause.CompareAndSwap(0, cause)
	s.cancel()
}

// shutdown ends the call because the worker is closing.
func (s *session) shutdown() { s.stop(endShutdown) }

// bind returns a context that ends with ctx or with the call. Media
// activities run under it, so it also tracks whether one is running (the
// orphan check leaves those calls alone).
func (s *session) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	s.activities.Add(1)
	seq := s.supersede(runOf(ctx), cancel)
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			s.idleSince.Store(time.Now().UnixNano())
			s.activities.Add(-1)
			s.bmu.Lock()
			delete(s.bound, seq)
			s.bmu.Unlock()
		})
		stop()
		cancel()
	}
}

// supersede records a binding of workflow run run; bindings of another
// run are cancelled (superseded). It returns the binding's key.
func (s *session) supersede(run string, cancel context.CancelFunc) uint64 {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if run != s.boundRun {
		for _, c := range s.bound {
			c()
		}
		clear(s.bound)
		s.boundRun = run
	}
	if s.bound == nil {
		s.bound = map[uint64]context.CancelFunc{}
	}
	s.boundSeq++
	s.bound[s.boundSeq] = cancel
	return s.boundSeq
}

// takeLine cancels the call's other media activities of the same run,
// keeping the newest binding (the caller's, made just before): a
// transfer stops a hold flow's playback the workflow no longer waits for.
func (s *session) takeLine() {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	for seq, cancel := range s.bound {
		if seq != s.boundSeq {
			cancel()
			delete(s.bound, seq)
		}
	}
}

// runKey carries a workflow run ID outside an activity (tests).
type runKey struct{}

// runOf is the workflow run an activity belongs to.
func runOf(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		return activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	run, _ := ctx.Value(runKey{}).(string)
	return run
}

// gone reports whether the call has ended.
func (s *session) gone() bool { return s.ctx.Err() != nil }

// pushDigit queues a caller key press.
func (s *session) pushDigit(d rune) {
	s.dmu.Lock()
	if len(s.digits) < 64 {
		s.digits = append(s.digits, d)
	}
	s.dmu.Unlock()
	select {
	case s.digitSig <- struct{}{}:
	default:
	}
	// Which key is no log's business: keys may be a card number or a PIN
	// gathered into a sensitive variable (the call's timeline has them, masked).
	s.log.Debug("dtmf", "key", keyClass(d))
}

// popDigit takes the oldest queued key press.
func (s *session) popDigit() (rune, bool) {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	if len(s.digits) == 0 {
		return 0, false
	}
	d := s.digits[0]
	s.digits = s.digits[1:]
	return d, true
}

// hasDigit reports whether a key press is queued (barge-in peeks, the next
// collect takes it).
func (s *session) hasDigit() bool {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	return len(s.digits) > 0
}

// clearDigits drops queued key presses.
func (s *session) clearDigits() {
	s.dmu.Lock()
	s.digits = nil
	s.dmu.Unlock()
}

// tap calls f with each 20 ms of the caller's audio until the returned
// function is called. f runs on the media clock, one call after another
// (never two at once for a session), between other calls' frames: it must
// not block.
func (s *session) tap(f func([]int16)) (untap func()) {
	s.tmu.Lock()
	id := s.nextTp
	s.nextTp++
	s.taps[id] = f
	s.tmu.Unlock()
	return func() {
		s.tmu.Lock()
		delete(s.taps, id)
		s.tmu.Unlock()
	}
}

func (s *session) deliver(pcm []int16) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	for _, f := range s.taps {
		f(pcm)
	}
}

// keyClass is a key press as logs may show it: "digit" for 0-9 (which
// one is the caller's secret, perhaps), the key itself for * # A-D.
func keyClass(d rune) string {
	if d >= '0' && d <= '9' {
		return "digit"
	}
	return string(d)
}
