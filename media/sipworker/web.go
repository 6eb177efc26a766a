package sipworker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/activities"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// Browser calls. A browser's WebRTC audio (media/webrtc.Peer) runs as a
// session of this worker like a SIP call's: the same pacer, jitter buffer,
// codecs, key presses, prompts, recording and bridge, so a flow cannot
// tell a browser from a phone except by call.channel ("webrtc"). Only the
// signalling differs: it arrives over a WebSocket (media/browser) instead
// of SIP, and a browser agent is rung through its desktop page.

// ChannelWebRTC is call.channel of a browser's call.
const ChannelWebRTC = "webrtc"

// WebPeer is a browser's media: RTP in and out of one audio track, the
// negotiated codec, and its end. media/webrtc.Peer implements it.
type WebPeer interface {
	Codec() (name string, payloadType uint8, clockRate int)
	// EventPayloadType is the browser's telephone-event type, -1 if none.
	EventPayloadType() int
	// ReadRTP returns the next packet; an error once the peer is closed.
	ReadRTP() (*prtp.Packet, error)
	WriteRTP(*prtp.Packet) error
	// Done is closed when the connection failed or was closed.
	Done() <-chan struct{}
	Close() error
}

// WebCodec is an audio codec a browser's call can use.
type WebCodec struct {
	Name      string
	ClockRate uint32
	Channels  uint16
}

// WebCodecs are the codecs this build takes from browsers, preferred
// first (Opus only in a build with the opus tag).
func WebCodecs() []WebCodec {
	out := make([]WebCodec, 0, len(audioCodecs))
	for _, c := range audioCodecs {
		out = append(out, WebCodec{Name: c.name, ClockRate: c.sdp.SampleRate, Channels: uint16(c.sdp.NumChannels)})
	}
	return out
}

// WebCall is a call a browser places to a number.
type WebCall struct {
	Peer WebPeer
	// From names the caller as the page knows them; To is the number.
	From, To string
	Headers  map[string]string
	// Started, when set, is told the call's ID once its workflow is asked for.
	Started func(callID string)
}

// ErrDraining: the worker takes no new calls.
var ErrDraining = errors.New("media worker is draining")

// ServeWebCall runs a browser's call until it ends: the flow for call.To
// runs as for a phone call. It returns nil when the flow hung up or the
// caller did (ctx ended: the browser said bye or left), an error wrapping
// activities.ErrNoRoute or ErrDraining when the call was not taken. The
// peer is closed when it returns.
func (w *Worker) ServeWebCall(ctx context.Context, call WebCall) error {
	w.inflight.Add(1)
	defer w.inflight.Add(-1)
	defer func() { _ = call.Peer.Close() }()
	if w.refusing() {
		return ErrDraining
	}
	route, _, err := w.route(ctx, call.To)
	if err != nil {
		return err
	}
	s, err := w.newWebSession(uuid.NewString(), call.Peer)
	if err != nil {
		return err
	}
	s.fromName = call.From
	w.addSession(s)
	defer w.removeSession(s)
	start := activities.CallStart{
		CallID: s.id, From: call.From, To: call.To, Channel: ChannelWebRTC,
		StartedAt: time.Now().UTC(), Headers: call.Headers,
		Flow: route.Flow, Vars: w.cfg.CallVars, MediaQueue: w.Queue(),
	}
	s.log.Info("browser call", "from", call.From, "to", call.To, "codec", s.codec.name, "flow", route.Flow.Name, "version", route.Flow.Version)
	if call.Started != nil {
		call.Started(s.id)
	}
	w.launching.Add(1)
	w.goBackground(func() {
		defer w.launching.Add(-1)
		w.launch(s, start)
	})
	w.holdWeb(ctx, s)
	if s.startErr != nil {
		return fmt.Errorf("start the call's flow: %w", s.startErr)
	}
	return nil
}

// newWebSession builds and starts the session of a browser's media.
func (w *Worker) newWebSession(id string, peer WebPeer) (*session, error) {
	name, pt, clock := peer.Codec()
	wc, ok := webCodec(name, clock)
	if !ok {
		return nil, fmt.Errorf("browser codec %s/%d is not built in", name, clock)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		id: id, sipCallID: "web-" + id, w: w, web: peer,
		ctx: ctx, cancel: cancel, done: make(chan struct{}), launched: make(chan struct{}), signalled: make(chan struct{}),
		digitSig: make(chan struct{}, 1), taps: map[int]func([]int16){},
		audioPT: pt, audioSendPT: pt, codec: wc, alaw: wc.name == codecPCMA.name,
		// Key presses go both ways as telephone-events (a SIP caller's
		// keys reach a browser agent) when the browser offered them.
		dtmfPT: peer.EventPayloadType(), dtmfSendPT: peer.EventPayloadType(),
	}
	s.idleSince.Store(time.Now().UnixNano())
	s.log = w.log.With("call_id", id, "workflow_id", activities.WorkflowID(id), "channel", ChannelWebRTC)
	if err := s.startMedia(); err != nil {
		cancel()
		return nil, fmt.Errorf("start browser media: %w", err)
	}
	return s, nil
}

func webCodec(name string, clock int) (wireCodec, bool) {
	for _, c := range audioCodecs {
		if strings.EqualFold(c.name, name) && c.clock == clock {
			return c, true
		}
	}
	return wireCodec{}, false
}

// holdWeb waits for a browser's call to end: ctx (the caller left), the
// peer failing, or the session (the flow hung up); then it tears the
// media down and closes s.done.
func (w *Worker) holdWeb(ctx context.Context, s *session) {
	select {
	case <-ctx.Done():
		s.stop(endCaller)
	case <-s.web.Done():
		s.stop(endCaller)
	case <-s.ctx.Done():
	}
	cause := s.cause.Load()
	if !s.leg && (cause == endCaller || cause == endShutdown) {
		w.goBackground(func() { w.signalHangup(s) })
	}
	s.closeMedia()
	s.media.Wait()
	w.callEnded(s, cause)
	close(s.done)
}

// closeMedia closes the call's media, SIP or browser.
func (s *session) closeMedia() {
	if s.web != nil {
		_ = s.web.Close()
		return
	}
	_ = s.med.Close()
}

// webReadLoop reads a browser's RTP until its peer closes.
func (s *session) webReadLoop() {
	var events *vrtp.EventReceiver
	if s.dtmfPT >= 0 {
		events = vrtp.NewEventReceiver(uint8(s.dtmfPT))
	}
	for {
		pkt, err := s.web.ReadRTP()
		if err != nil {
			if !errors.Is(err, io.EOF) && !s.gone() {
				s.log.Debug("browser rtp read", "error", err)
			}
			return
		}
		s.receive(pkt, events)
	}
}

// AgentOffer is a call offered to an agent's browser.
type AgentOffer struct {
	// CallID is the caller's call (its workflow is call-<CallID>).
	CallID   string
	From, To string
	Channel  string
}

// AgentPhone is an agent's browser desktop, attached while it is open.
type AgentPhone interface {
	// Ring offers the call; it returns the agent's media once answered, or
	// (nil, nil) when the agent declined or ctx ended first.
	Ring(ctx context.Context, offer AgentOffer) (WebPeer, error)
}

// webAgents are the agents' desktops attached to the worker, by name.
type webAgents struct {
	mu     sync.Mutex
	phones map[string]AgentPhone
}

// AttachAgentPhone makes agent name reachable at p: a bridged transfer to
// agent:NAME (a queue's offer) rings the desktop instead of a SIP phone.
// detach removes it again (a later attachment of the name wins).
func (w *Worker) AttachAgentPhone(name string, p AgentPhone) (detach func()) {
	w.agents.mu.Lock()
	if w.agents.phones == nil {
		w.agents.phones = map[string]AgentPhone{}
	}
	w.agents.phones[name] = p
	w.agents.mu.Unlock()
	return func() {
		w.agents.mu.Lock()
		if w.agents.phones[name] == p {
			delete(w.agents.phones, name)
		}
		w.agents.mu.Unlock()
	}
}

// agentPhone is the desktop a transfer target names (agent:NAME, or a bare
// NAME), if one is attached.
func (w *Worker) agentPhone(to string) (string, AgentPhone, bool) {
	to = strings.TrimSpace(to)
	name, isAgent := strings.CutPrefix(to, "agent:")
	if !isAgent && strings.ContainsAny(to, ":@;<> \t") {
		return "", nil, false
	}
	w.agents.mu.Lock()
	defer w.agents.mu.Unlock()
	p, ok := w.agents.phones[name]
	return name, p, ok
}

// bridgeWeb is a bridged transfer to an agent's desktop: the caller hears
// ringback while the desktop rings, then talks to the agent through the
// same PCM bridge as a SIP agent's.
func (w *Worker) bridgeWeb(ctx context.Context, s *session, in activities.TransferInput, name string, phone AgentPhone) (activities.TransferResult, error) {
	defer heartbeat(ctx)()
	actx := ctx
	ctx, cancel := s.bind(ctx)
	defer cancel()
	s.takeLine()
	stopRingback := s.playLoop(ringback())
	dialed := time.Now()
	leg, err := w.ringWeb(ctx, s, in, name, phone)
	stopRingback()
	if err != nil {
		return activities.TransferResult{}, activities.NewTransferFailed(fmt.Sprintf("ring agent %s's desktop: %v", name, err), err)
	}
	if leg == nil {
		if s.gone() {
			return activities.TransferResult{}, activities.NewCallGone(s.id)
		}
		s.log.Info("bridge: desktop not answered", "agent", name)
		return activities.TransferResult{Outcome: activities.OriginateNoAnswer}, nil
	}
	return w.bridgeAnswered(ctx, actx, s, leg, in, "desktop:"+name, dialed)
}

// ringWeb rings the desktop for at most in.Timeout and, once answered,
// runs the agent's media as the bridge's second leg (nil: not answered).
func (w *Worker) ringWeb(ctx context.Context, s *session, in activities.TransferInput, name string, phone AgentPhone) (*session, error) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = defaultRingTimeout
	}
	rctx, rcancel := context.WithTimeout(ctx, timeout)
	defer rcancel()
	channel := ChannelWebRTC
	if s.web == nil {
		channel = "sip"
	}
	peer, err := phone.Ring(rctx, AgentOffer{CallID: s.id, From: s.from(), To: in.To, Channel: channel})
	if err != nil || peer == nil {
		return nil, err
	}
	leg, err := w.newWebSession(s.id+"/leg", peer)
	if err != nil {
		_ = peer.Close()
		return nil, err
	}
	leg.leg = true
	leg.log = leg.log.With("agent", name)
	leg.log.Info("desk answered", "codec", leg.codec.name)
	w.goBackground(func() { w.holdWeb(context.Background(), leg) })
	return leg, nil
}

// from is the caller as the other party should see them.
func (s *session) from() string {
	if s.d != nil {
		return callerNumber(s.d.InviteRequest)
	}
	return s.fromName
}
