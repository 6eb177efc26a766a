package sipworker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/voxflow/voxflow/activities"
)

// Control of a running bridge (bridge.go): the agent's desktop holds the
// caller, transfers them on (blind) or consults another party first; a
// supervisor's browser joins to listen, whisper to the agent or barge in.
// Each request runs on the bridge's loop, so it never races a party
// hanging up or another request. Only the worker holding the call can
// act on it: the caller's media is here.
//
// Semantics worth knowing:
//   - Hold: the caller hears the built-in hold music, nobody hears the
//     caller, the agent hears silence (or a whispering supervisor).
//   - Transfer: the agent is hung up at once and the caller hears ringback
//     until the new party answers and becomes the agent. If it does not,
//     the bridge ends and the Transfer activity returns the ring's outcome
//     (no_answer, busy, failed): the caller is back in the flow.
//   - Consult: the caller holds while the agent hears ringback, then talks
//     to the consulted party alone. Complete hands the caller to that party
//     (the agent is hung up); before it answered, Complete turns the consult
//     into a blind transfer. Cancel (or the consulted party hanging up)
//     brings the agent back to the caller. The agent hanging up mid-consult
//     completes it, as a PBX transfers on hang-up.
//   - The Transfer activity's talk time is the last agent's.
//   - A supervisor is recorded only while barging (the recording is the
//     conversation as the caller has it: what they say, unless held, and
//     what they hear from the others, never the hold music).

// MonitorMode is how a supervisor takes part in a bridge.
type MonitorMode string

const (
	// MonitorListen: the supervisor hears the caller and the agent; nobody
	// hears the supervisor.
	MonitorListen MonitorMode = "listen"
	// MonitorWhisper: the agent hears the supervisor too, the caller does
	// not.
	MonitorWhisper MonitorMode = "whisper"
	// MonitorBarge: everyone hears everyone (a three-way call).
	MonitorBarge MonitorMode = "barge"
)

func (m MonitorMode) valid() bool {
	return m == MonitorListen || m == MonitorWhisper || m == MonitorBarge
}

var (
	// ErrNoBridge: the call has no running bridge on this worker (it is
	// not talking to an agent, has ended, or is held by another worker).
	ErrNoBridge = errors.New("the call is not talking to an agent")
	// ErrSupervised: a supervisor already takes part in the bridge.
	ErrSupervised = errors.New("the call already has a supervisor")
	// ErrBadMode: not a MonitorMode.
	ErrBadMode = errors.New("unknown monitor mode")
	// ErrBridgeBusy: a transfer or consult is under way; it must end first.
	ErrBridgeBusy = errors.New("a transfer or consult is under way")
	// ErrNoConsult: there is no consult to complete or cancel.
	ErrNoConsult = errors.New("no consult is under way")
	// ErrNotAnswered: the consulted party did not answer.
	ErrNotAnswered = errors.New("not answered")
	// ErrConsultCancelled: the consult was cancelled while it rang.
	ErrConsultCancelled = errors.New("consult cancelled")
)

// bridges are the running bridges of a worker, by the caller's call ID.
type bridges struct {
	mu     sync.Mutex
	byCall map[string]*bridge
}

func (r *bridges) add(callID string, b *bridge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byCall == nil {
		r.byCall = map[string]*bridge{}
	}
	r.byCall[callID] = b
}

func (r *bridges) remove(callID string, b *bridge) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byCall[callID] == b {
		delete(r.byCall, callID)
	}
}

func (r *bridges) get(callID string) (*bridge, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.byCall[callID]; ok {
		return b, nil
	}
	return nil, fmt.Errorf("call %s: %w", callID, ErrNoBridge)
}

// do runs f on the bridge's loop and returns its error; ErrNoBridge once
// the bridge has ended.
func (b *bridge) do(ctx context.Context, f func() error) error {
	op := bridgeOp{f: f, reply: make(chan error, 1)}
	select {
	case b.ops <- op:
	case <-b.ended:
		return ErrNoBridge
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-op.reply // the loop runs it at once
}

// control runs f on the bridge of callID.
func (w *Worker) control(ctx context.Context, callID, what string, f func(*bridge) error) error {
	b, err := w.bridges.get(callID)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := b.do(ctx, func() error { return f(b) }); err != nil {
		return fmt.Errorf("%s: call %s: %w", what, callID, err)
	}
	return nil
}

// HoldBridge puts the caller of callID on hold (on) or back with the agent.
func (w *Worker) HoldBridge(callID string, on bool) error {
	return w.control(context.Background(), callID, "hold", func(b *bridge) error { return b.hold(on) })
}

func (b *bridge) hold(on bool) error {
	if b.pending != nil || b.parties[roleConsult] != nil {
		return ErrBridgeBusy
	}
	if b.mix.held() == on {
		return nil
	}
	var music []int16
	if on {
		music = b.w.prompts.holdMusic()
	}
	b.mix.setHeld(on)
	b.mix.setGen(roleCaller, music)
	b.caller.log.Info("bridge: hold", "on", on)
	return nil
}

// resume brings the caller back to the conversation.
func (b *bridge) resume() {
	b.mix.setHeld(false)
	b.mix.setGen(roleCaller, nil)
	b.mix.setGen(roleAgent, nil)
}

// TransferBridge hangs up the agent of callID and calls to (agent:NAME, a
// SIP URI or a number) for the caller, who hears ringback meanwhile. It
// returns once the agent is gone and to rings; a to that cannot be called
// (an unregistered agent, a bad address) is an error and changes nothing.
func (w *Worker) TransferBridge(ctx context.Context, callID, to string) error {
	b, err := w.bridges.get(callID)
	if err != nil {
		return fmt.Errorf("transfer: %w", err)
	}
	t, err := w.resolveLeg(ctx, b.caller, to)
	if err != nil {
		return fmt.Errorf("transfer call %s to %s: %w", callID, to, err)
	}
	return w.control(ctx, callID, "transfer to "+to, func(b *bridge) error { return b.transfer(t) })
}

func (b *bridge) transfer(t legTarget) error {
	if b.pending != nil || b.parties[roleConsult] != nil {
		return ErrBridgeBusy
	}
	b.dropAgent()
	b.mix.setHeld(false)
	b.mix.setGen(roleCaller, ringback())
	b.caller.log.Info("bridge: transfer", "to", t.to)
	b.startRing(roleAgent, t, nil)
	return nil
}

// ConsultBridge holds the caller of callID (hold music) and calls to for
// the agent, who hears ringback, then talks to them alone. It returns once
// to answered (nil) or did not (ErrNotAnswered, and the agent is back with
// the caller); ctx's end before the answer abandons the consult.
func (w *Worker) ConsultBridge(ctx context.Context, callID, to string) error {
	b, err := w.bridges.get(callID)
	if err != nil {
		return fmt.Errorf("consult: %w", err)
	}
	t, err := w.resolveLeg(ctx, b.caller, to)
	if err != nil {
		return fmt.Errorf("consult %s on call %s: %w", to, callID, err)
	}
	var answered <-chan error
	err = w.control(ctx, callID, "consult "+to, func(b *bridge) (err error) {
		answered, err = b.consult(ctx, t)
		return err
	})
	if err != nil {
		return err
	}
	select {
	case err = <-answered:
	case <-b.ended:
		err = ErrNoBridge
	}
	if err != nil {
		return fmt.Errorf("consult %s on call %s: %w", to, callID, err)
	}
	return nil
}

func (b *bridge) consult(ctx context.Context, t legTarget) (<-chan error, error) {
	if b.pending != nil || b.parties[roleConsult] != nil {
		return nil, ErrBridgeBusy
	}
	b.mix.setHeld(true)
	b.mix.setGen(roleCaller, b.w.prompts.holdMusic())
	b.mix.setGen(roleAgent, ringback())
	b.caller.log.Info("bridge: consult", "to", t.to)
	return b.startRing(roleConsult, t, ctx).reply, nil
}

// CompleteConsult hands the caller of callID to the consulted party and
// hangs up the agent.
func (w *Worker) CompleteConsult(callID string) error {
	return w.control(context.Background(), callID, "complete consult", (*bridge).completeConsult)
}

func (b *bridge) completeConsult() error {
	switch {
	case b.parties[roleConsult] != nil:
		b.dropAgent()
		x := b.leave(roleConsult)
		b.join(roleAgent, x.s)
		b.resume()
	case b.pending != nil && b.pending.kind == roleConsult:
		// Still ringing: a blind transfer from here on, which the end of
		// the consult's request no longer stops.
		b.dropAgent()
		b.pending.kind = roleAgent
		b.pending.detach()
		b.mix.setHeld(false)
		b.mix.setGen(roleCaller, ringback())
	default:
		return ErrNoConsult
	}
	b.caller.log.Info("bridge: consult completed")
	return nil
}

// CancelConsult hangs up (or stops ringing) the consulted party and brings
// the agent of callID back to the caller.
func (w *Worker) CancelConsult(callID string) error {
	return w.control(context.Background(), callID, "cancel consult", (*bridge).cancelConsult)
}

func (b *bridge) cancelConsult() error {
	switch {
	case b.parties[roleConsult] != nil:
		b.leave(roleConsult).s.stop(endLocal)
	case b.pending != nil && b.pending.kind == roleConsult:
		b.pending.kind = roleNone
		b.pending.cancel()
	default:
		return ErrNoConsult
	}
	b.resume()
	b.caller.log.Info("bridge: consult cancelled")
	return nil
}

// agentGone: the agent hung up. Mid-consult the caller goes to the
// consulted party; otherwise the bridge ends and the caller is back in
// the flow.
func (b *bridge) agentGone() {
	if b.completeConsult() != nil {
		b.finish(bridgeEnd{})
	}
}

// consultGone: the consulted party hung up; the agent is back with the caller.
func (b *bridge) consultGone() { _ = b.cancelConsult() }

// pendingRing is a party the bridge calls: as the agent (a transfer), as
// a consulted party, or for nobody (roleNone: cancelled while ringing).
type pendingRing struct {
	kind   role
	to     string
	cancel context.CancelFunc
	// detach stops the ring's request (a consult's) from cancelling it.
	detach func() bool
	reply  chan error // nil once answered, or why not
}

// rang is how a ring ended: leg is nil when it was not answered.
type rang struct {
	ring *pendingRing
	leg  *session
	res  activities.OriginateResult
	err  error
}

// startRing calls t beside the loop, which learns the end on b.rang; it
// stops with the bridge, or with parent (a consult's request) when set.
func (b *bridge) startRing(kind role, t legTarget, parent context.Context) *pendingRing {
	ctx, cancel := context.WithCancel(b.ctx)
	pr := &pendingRing{kind: kind, to: t.to, cancel: cancel, detach: func() bool { return false }, reply: make(chan error, 1)}
	if parent != nil {
		pr.detach = context.AfterFunc(parent, cancel)
	}
	b.pending = pr
	b.seq++
	// Unique: the worker registers SIP legs by ID.
	id := fmt.Sprintf("%s/leg%d", b.caller.id, b.seq+1)
	b.rings.Add(1)
	go func() {
		defer b.rings.Done()
		defer cancel()
		defer pr.detach()
		leg, res, err := b.w.ringLeg(ctx, b.caller, t, id, b.timeout)
		select {
		case b.rang <- rang{ring: pr, leg: leg, res: res, err: err}:
		case <-b.ended:
			if leg != nil {
				leg.stop(endLocal)
				<-leg.done
			}
		}
	}()
	return pr
}

// answered takes the end of a ring: the party joins as what it was called
// for, or the bridge goes on without it.
func (b *bridge) answered(r rang) {
	pr := r.ring
	b.pending = nil
	if r.leg != nil {
		b.legs = append(b.legs, r.leg)
	}
	switch {
	case pr.kind == roleNone:
		if r.leg != nil {
			r.leg.stop(endLocal)
		}
		pr.reply <- ErrConsultCancelled
	case r.leg == nil:
		b.notAnswered(pr, r)
	default:
		b.join(pr.kind, r.leg)
		if pr.kind == roleAgent {
			b.resume()
		}
		b.mix.setGen(roleAgent, nil) // the agent's ringback
		b.caller.log.Info("bridge: answered", "to", pr.to, "as", pr.kind)
		pr.reply <- nil
	}
}

// notAnswered: a transfer that found nobody ends the bridge with the
// ring's outcome; an unanswered consult brings the agent back.
func (b *bridge) notAnswered(pr *pendingRing, r rang) {
	out := r.res.Outcome
	if r.err != nil || out == "" {
		out = activities.OriginateFailed
	}
	err := fmt.Errorf("%s: %w (%s)", pr.to, ErrNotAnswered, out)
	if r.err != nil {
		err = fmt.Errorf("%s: %w", pr.to, r.err)
	}
	b.caller.log.Info("bridge: not answered", "to", pr.to, "as", pr.kind, "outcome", out, "code", r.res.SIPStatus, "error", r.err)
	if pr.kind == roleAgent {
		b.finish(bridgeEnd{outcome: out, sipStatus: r.res.SIPStatus})
	} else {
		b.resume()
	}
	pr.reply <- err
}

// Monitoring is a supervisor taking part in a bridge.
type Monitoring struct {
	b    *bridge
	s    *session
	done chan struct{}
}

// Monitor joins peer (a supervisor's browser) to the bridge of callID in
// mode. The peer is the worker's from then on: it is closed when the
// monitoring ends (Close, the bridge's end, the browser leaving) and when
// Monitor fails. One supervisor per bridge: a second gets ErrSupervised.
func (w *Worker) Monitor(ctx context.Context, callID string, mode MonitorMode, peer WebPeer) (*Monitoring, error) {
	fail := func(err error) (*Monitoring, error) {
		_ = peer.Close()
		return nil, fmt.Errorf("monitor call %s: %w", callID, err)
	}
	if !mode.valid() {
		return fail(fmt.Errorf("%w %q", ErrBadMode, mode))
	}
	b, err := w.bridges.get(callID)
	if err != nil {
		return fail(ErrNoBridge)
	}
	// Refused before the browser's media is started for nothing.
	err = b.do(ctx, func() error {
		if b.parties[roleSupervisor] != nil {
			return ErrSupervised
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	s, err := w.newWebSession(callID+"/supervisor", peer)
	if err != nil {
		return fail(err)
	}
	s.leg = true // its end is no hangup of any workflow
	s.log = s.log.With("supervisor", true)
	w.goBackground(func() { w.holdWeb(context.Background(), s) })
	m := &Monitoring{b: b, s: s, done: make(chan struct{})}
	if err := b.do(ctx, func() error { return b.monitor(m, mode) }); err != nil {
		s.stop(endLocal)
		<-s.done
		return nil, fmt.Errorf("monitor call %s: %w", callID, err)
	}
	return m, nil
}

func (b *bridge) monitor(m *Monitoring, mode MonitorMode) error {
	if b.parties[roleSupervisor] != nil {
		return ErrSupervised
	}
	b.mix.setMode(mode) // before joining: never a frame in the wrong mode
	b.join(roleSupervisor, m.s).left = m.done
	b.legs = append(b.legs, m.s)
	b.caller.log.Info("bridge: supervisor joined", "mode", mode)
	return nil
}

// SetMode changes how the supervisor takes part.
func (m *Monitoring) SetMode(mode MonitorMode) error {
	if !mode.valid() {
		return fmt.Errorf("monitor call %s: %w %q", m.b.caller.id, ErrBadMode, mode)
	}
	err := m.b.do(context.Background(), func() error {
		if p := m.b.parties[roleSupervisor]; p == nil || p.s != m.s {
			return ErrNoBridge
		}
		m.b.mix.setMode(mode)
		m.b.caller.log.Info("bridge: supervisor mode", "mode", mode)
		return nil
	})
	if err != nil {
		return fmt.Errorf("monitor call %s: %w", m.b.caller.id, err)
	}
	return nil
}

// Done is closed when the monitoring ended: the bridge ended, the
// supervisor's browser left, or Close.
func (m *Monitoring) Done() <-chan struct{} { return m.done }

// Close takes the supervisor out of the bridge and closes their browser's
// peer; it returns once both are done.
func (m *Monitoring) Close() {
	m.s.stop(endLocal)
	<-m.s.done
	<-m.done
}
