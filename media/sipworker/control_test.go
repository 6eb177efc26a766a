package sipworker

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
	"go.uber.org/goleak"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/webrtc"
	"github.com/voxflow/voxflow/media/webrtc/webrtctest"
)

// settle is how long audio takes to reflect a change in the last second
// a browser heard.
const settle = 1300 * time.Millisecond

// checkLeaks fails the test if goroutines it started outlive it (checked
// after every cleanup registered later, the worker's Close included).
func checkLeaks(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// hears checks whether browser b hears a tone of hz in its last second.
func hears(t *testing.T, b *webrtctest.Browser, who string, hz float64, want bool) {
	t.Helper()
	lvl := b.Level(hz, time.Second)
	t.Logf("%s: %.0f Hz at %.1f dBFS", who, hz, lvl)
	switch {
	case want && lvl < -30:
		t.Errorf("%s does not hear %.0f Hz: %.1f dBFS (%s)", who, hz, lvl, b)
	case !want && lvl > -45:
		t.Errorf("%s hears %.0f Hz: %.1f dBFS", who, hz, lvl)
	}
}

// deaf checks that browser b is sent no more audio (its leg was hung up).
func deaf(t *testing.T, b *webrtctest.Browser, who string) {
	t.Helper()
	n := b.Received()
	time.Sleep(500 * time.Millisecond)
	if got := b.Received() - n; got > 2 {
		t.Errorf("%s still receives audio: %d packets in 500 ms", who, got)
	}
}

// transferred is the Transfer activity's end.
type transferred struct {
	res activities.TransferResult
	err error
}

// bridgeCall is a browser caller (1000 Hz) bridged by a Transfer activity
// to agent alice's desktop (400 Hz), with more desktops at hand.
type bridgeCall struct {
	t             *testing.T
	r             *rig
	tr            *webrtc.Transport
	caller, alice *webrtctest.Browser
	callID        string
	result        chan transferred
	hangup        context.CancelFunc
	served        chan error
	ctx           context.Context
	// started is before the call began: no talk in it is longer than
	// time.Since(started).
	started time.Time
}

// newDesk attaches agent name's desktop, talking hz.
func (bc *bridgeCall) newDesk(name string, hz float64) *desktop {
	d := &desktop{t: bc.t, tr: bc.tr, hz: hz, browser: make(chan *webrtctest.Browser, 4), offers: make(chan AgentOffer, 4)}
	bc.t.Cleanup(bc.r.w.AttachAgentPhone(name, d))
	bc.t.Cleanup(func() {
		for {
			select {
			case b := <-d.browser:
				b.Close()
			default:
				return
			}
		}
	})
	return d
}

// answered waits for desktop d to answer a ring and returns its browser.
func (bc *bridgeCall) answered(d *desktop) *webrtctest.Browser {
	bc.t.Helper()
	select {
	case <-d.offers:
	case <-bc.ctx.Done():
		bc.t.Fatal("the desktop never rang")
	}
	select {
	case b := <-d.browser:
		bc.t.Cleanup(func() { b.Close() })
		return b
	case <-bc.ctx.Done():
		bc.t.Fatal("the desktop never answered")
	}
	return nil
}

func startBridgeCall(t *testing.T) *bridgeCall {
	checkLeaks(t)
	bc := &bridgeCall{t: t, tr: webTransport(t), result: make(chan transferred, 1), served: make(chan error, 1)}
	bc.r = newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, NodeID: "agent", To: "agent:alice",
			Mode: "bridge", Timeout: 5 * time.Second})
		bc.result <- transferred{res, err}
	})
	var cancel context.CancelFunc
	bc.ctx, cancel = context.WithTimeout(context.Background(), 25*time.Second)
	t.Cleanup(cancel)
	alice := bc.newDesk("alice", 400)
	caller, err := webrtctest.New(true)
	if err != nil {
		t.Fatal(err)
	}
	bc.caller = caller
	t.Cleanup(func() { caller.Close() })
	caller.Tone(1000)
	peer, err := answer(bc.ctx, bc.tr, caller)
	if err != nil {
		t.Fatal(err)
	}
	callCtx, hangup := context.WithCancel(bc.ctx)
	bc.hangup = hangup
	bc.started = time.Now()
	go func() { bc.served <- bc.r.w.ServeWebCall(callCtx, WebCall{Peer: peer, From: "visitor", To: "1000"}) }()
	select {
	case offer := <-alice.offers:
		bc.callID = offer.CallID
	case <-bc.ctx.Done():
		t.Fatal("alice's desktop never rang")
	}
	bc.alice = <-alice.browser
	t.Cleanup(func() { bc.alice.Close() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := bc.r.w.bridges.get(bc.callID); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no bridge for the call")
		}
	}
	time.Sleep(2 * time.Second) // ICE, DTLS, and a second of audio
	hears(t, bc.alice, "alice", 1000, true)
	hears(t, bc.caller, "caller", 400, true)
	return bc
}

// end waits for the Transfer activity (an agent hung up), then the caller
// hangs up and the worker is idle.
func (bc *bridgeCall) end() activities.TransferResult {
	bc.t.Helper()
	var tr transferred
	select {
	case tr = <-bc.result:
	case <-bc.ctx.Done():
		bc.t.Fatal("the bridge did not end")
	}
	if tr.err != nil {
		bc.t.Fatalf("transfer: %v", tr.err)
	}
	bc.hangup()
	if err := <-bc.served; err != nil {
		bc.t.Fatal(err)
	}
	bc.r.waitIdle()
	if _, err := bc.r.w.bridges.get(bc.callID); !errors.Is(err, ErrNoBridge) {
		bc.t.Errorf("the bridge is still registered after its end: %v", err)
	}
	return tr.res
}

// fakePeer is a browser's media that never sends: enough for a monitor
// that is refused, or a silent supervisor.
type fakePeer struct {
	once   sync.Once
	closed chan struct{}
}

func newFakePeer() *fakePeer { return &fakePeer{closed: make(chan struct{})} }

func (p *fakePeer) Codec() (string, uint8, int) { return "PCMU", 0, 8000 }
func (p *fakePeer) EventPayloadType() int       { return -1 }
func (p *fakePeer) ReadRTP() (*prtp.Packet, error) {
	<-p.closed
	return nil, io.EOF
}
func (p *fakePeer) WriteRTP(*prtp.Packet) error { return nil }
func (p *fakePeer) Done() <-chan struct{}       { return p.closed }
func (p *fakePeer) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

func (p *fakePeer) isClosed() bool {
	select {
	case <-p.closed:
		return true
	default:
		return false
	}
}

// TestMonitorListenWhisperBarge: a supervisor's browser (1600 Hz) joins a
// browser caller (1000 Hz) talking to a browser agent (400 Hz). Listening,
// it hears both and nobody hears it; whispering, the agent hears it and
// the caller does not; barging, the caller does too. After it leaves the
// agent no longer hears it.
func TestMonitorListenWhisperBarge(t *testing.T) {
	bc := startBridgeCall(t)
	w := bc.r.w
	if _, err := w.Monitor(bc.ctx, "no-such-call", MonitorListen, newFakePeer()); !errors.Is(err, ErrNoBridge) {
		t.Errorf("monitor of no bridge: %v, want ErrNoBridge", err)
	}
	if _, err := w.Monitor(bc.ctx, bc.callID, "shout", newFakePeer()); !errors.Is(err, ErrBadMode) {
		t.Errorf("monitor in mode shout: %v, want ErrBadMode", err)
	}
	sup, err := webrtctest.New(true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sup.Close() })
	sup.Tone(1600)
	peer, err := answer(bc.ctx, bc.tr, sup)
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.Monitor(bc.ctx, bc.callID, MonitorListen, peer)
	if err != nil {
		t.Fatal(err)
	}
	second := newFakePeer()
	if _, err := w.Monitor(bc.ctx, bc.callID, MonitorBarge, second); !errors.Is(err, ErrSupervised) || !second.isClosed() {
		t.Errorf("second supervisor: %v (peer closed %v), want ErrSupervised and its peer closed", err, second.isClosed())
	}
	time.Sleep(2 * time.Second) // the supervisor's ICE and DTLS
	hears(t, sup, "supervisor (listen)", 1000, true)
	hears(t, sup, "supervisor (listen)", 400, true)
	hears(t, bc.caller, "caller (listen)", 1600, false)
	hears(t, bc.alice, "agent (listen)", 1600, false)

	if err := m.SetMode(MonitorWhisper); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settle)
	hears(t, bc.alice, "agent (whisper)", 1600, true)
	hears(t, bc.alice, "agent (whisper)", 1000, true)
	hears(t, bc.caller, "caller (whisper)", 1600, false)
	hears(t, bc.caller, "caller (whisper)", 400, true)

	if err := m.SetMode(MonitorBarge); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settle)
	hears(t, bc.caller, "caller (barge)", 1600, true)
	hears(t, bc.alice, "agent (barge)", 1600, true)
	hears(t, sup, "supervisor (barge)", 1000, true)
	hears(t, sup, "supervisor (barge)", 1600, false) // no echo of its own voice

	m.Close()
	select {
	case <-m.Done():
	default:
		t.Error("Done not closed after Close")
	}
	if err := m.SetMode(MonitorListen); !errors.Is(err, ErrNoBridge) {
		t.Errorf("SetMode after Close: %v, want ErrNoBridge", err)
	}
	time.Sleep(settle)
	hears(t, bc.alice, "agent (supervisor gone)", 1600, false)
	hears(t, bc.caller, "caller (supervisor gone)", 400, true)
	bc.alice.Close()
	if res := bc.end(); res.Outcome != activities.TransferBridged {
		t.Errorf("transfer = %+v, want bridged", res)
	}
}

// holdTune are the notes of the built-in hold music (and their octaves
// below): any second of it has some of them.
var holdTune = []float64{261.63, 329.63, 392.00, 220.00, 174.61, 196.00, 246.94, 293.66, 130.81, 164.81, 110.00, 87.31, 98.00, 123.47, 146.83}

// TestHoldBridge: held, the caller hears the hold music and not the
// agent, the agent hears nothing; resumed, they talk again.
func TestHoldBridge(t *testing.T) {
	bc := startBridgeCall(t)
	w := bc.r.w
	if err := w.HoldBridge("no-such-call", true); !errors.Is(err, ErrNoBridge) {
		t.Errorf("hold of no bridge: %v, want ErrNoBridge", err)
	}
	if err := w.HoldBridge(bc.callID, true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settle)
	hears(t, bc.caller, "held caller", 400, false)
	hears(t, bc.alice, "agent of a held caller", 1000, false)
	music := -120.0
	for _, hz := range holdTune {
		music = max(music, bc.caller.Level(hz, time.Second))
	}
	if music < -40 {
		t.Errorf("the held caller does not hear the hold music: %.1f dBFS at its notes", music)
	}
	if err := w.HoldBridge(bc.callID, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(settle)
	hears(t, bc.caller, "resumed caller", 400, true)
	hears(t, bc.alice, "agent of a resumed caller", 1000, true)
	bc.alice.Close()
	if res := bc.end(); res.Outcome != activities.TransferBridged {
		t.Errorf("transfer = %+v, want bridged", res)
	}
}

// slowDesk answers after a while (the caller hears ringback meanwhile).
type slowDesk struct {
	*desktop
	delay time.Duration
}

func (d slowDesk) Ring(ctx context.Context, offer AgentOffer) (WebPeer, error) {
	select {
	case <-time.After(d.delay):
	case <-ctx.Done():
		return nil, nil
	}
	return d.desktop.Ring(ctx, offer)
}

// TestTransferBridge: agent alice transfers the caller to agent bob's
// desktop (700 Hz). Alice is hung up at once, the caller hears ringback,
// then talks to bob; a listening supervisor stays through the transfer;
// the Transfer activity reports bob's talk time once he hangs up. A
// destination that cannot be called changes nothing.
func TestTransferBridge(t *testing.T) {
	bc := startBridgeCall(t)
	w := bc.r.w
	bob := bc.newDesk("bob", 700)
	bc.t.Cleanup(w.AttachAgentPhone("bob", slowDesk{bob, 1500 * time.Millisecond}))
	sup := newFakePeer()
	m, err := w.Monitor(bc.ctx, bc.callID, MonitorListen, sup)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.TransferBridge(bc.ctx, "no-such-call", "agent:bob"); !errors.Is(err, ErrNoBridge) {
		t.Errorf("transfer of no bridge: %v, want ErrNoBridge", err)
	}
	if err := w.TransferBridge(bc.ctx, bc.callID, "agent:nobody"); err == nil {
		t.Error("transfer to an agent nobody can reach succeeded")
	}
	began := time.Now()
	if err := w.TransferBridge(bc.ctx, bc.callID, "agent:bob"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(900 * time.Millisecond)
	if lvl := bc.caller.Level(440, 500*time.Millisecond); lvl < -35 {
		t.Errorf("the caller does not hear ringback: 440 Hz at %.1f dBFS", lvl)
	}
	deaf(t, bc.alice, "alice after the transfer")
	b := bc.answered(bob)
	time.Sleep(settle + 500*time.Millisecond)
	hears(t, bc.caller, "caller", 700, true)
	hears(t, bc.caller, "caller", 400, false)
	hears(t, b, "bob", 1000, true)
	select {
	case <-m.Done():
		t.Error("the supervisor was let go by the transfer")
	default:
	}
	b.Close()
	res := bc.end()
	if res.Outcome != activities.TransferBridged || res.Talk < settle || res.Talk > time.Since(began) {
		t.Errorf("transfer = %+v, want bridged with bob's talk (under %v)", res, time.Since(began))
	}
	select {
	case <-m.Done():
	default:
		t.Error("monitoring not done after the bridge ended")
	}
	if !sup.isClosed() {
		t.Error("the supervisor's peer was not closed at the bridge's end")
	}
}

// declineDesk never answers.
type declineDesk struct{}

func (declineDesk) Ring(ctx context.Context, offer AgentOffer) (WebPeer, error) {
	time.Sleep(300 * time.Millisecond)
	return nil, nil
}

// TestTransferBridgeNotAnswered: a transfer to a desktop that declines
// ends the bridge with no_answer (the caller is back in the flow) and
// alice's talk time.
func TestTransferBridgeNotAnswered(t *testing.T) {
	bc := startBridgeCall(t)
	bc.t.Cleanup(bc.r.w.AttachAgentPhone("carol", declineDesk{}))
	if err := bc.r.w.TransferBridge(bc.ctx, bc.callID, "agent:carol"); err != nil {
		t.Fatal(err)
	}
	// Alice talked from the answer to the transfer: at least the two
	// seconds startBridgeCall waited, and less than the whole call.
	res := bc.end()
	if res.Outcome != activities.OriginateNoAnswer || res.Talk < 2*time.Second || res.Talk > time.Since(bc.started) {
		t.Errorf("transfer = %+v, want no_answer with alice's talk time", res)
	}
}

// TestConsultBridge: alice consults bob (700 Hz) while the caller holds;
// cancelled, alice is back with the caller; consulted again and
// completed, the caller talks to bob and alice is hung up.
func TestConsultBridge(t *testing.T) {
	bc := startBridgeCall(t)
	w := bc.r.w
	bob := bc.newDesk("bob", 700)
	if err := w.CompleteConsult(bc.callID); !errors.Is(err, ErrNoConsult) {
		t.Errorf("complete with no consult: %v, want ErrNoConsult", err)
	}
	if err := w.ConsultBridge(bc.ctx, bc.callID, "agent:bob"); err != nil {
		t.Fatal(err)
	}
	b1 := bc.answered(bob)
	time.Sleep(settle + 500*time.Millisecond)
	hears(t, bc.caller, "held caller", 400, false)
	hears(t, bc.caller, "held caller", 700, false)
	hears(t, b1, "bob consulted", 400, true)
	hears(t, b1, "bob consulted", 1000, false)
	hears(t, bc.alice, "alice consulting", 700, true)
	hears(t, bc.alice, "alice consulting", 1000, false)
	if err := w.HoldBridge(bc.callID, false); !errors.Is(err, ErrBridgeBusy) {
		t.Errorf("resume mid-consult: %v, want ErrBridgeBusy", err)
	}
	if err := w.CancelConsult(bc.callID); err != nil {
		t.Fatal(err)
	}
	deaf(t, b1, "bob after the cancel")
	time.Sleep(settle)
	hears(t, bc.caller, "caller after the cancel", 400, true)
	hears(t, bc.alice, "alice after the cancel", 1000, true)

	if err := w.ConsultBridge(bc.ctx, bc.callID, "agent:bob"); err != nil {
		t.Fatal(err)
	}
	b2 := bc.answered(bob)
	time.Sleep(time.Second)
	completed := time.Now()
	if err := w.CompleteConsult(bc.callID); err != nil {
		t.Fatal(err)
	}
	deaf(t, bc.alice, "alice after the completion")
	time.Sleep(settle)
	hears(t, bc.caller, "caller after the completion", 700, true)
	hears(t, bc.caller, "caller after the completion", 400, false)
	hears(t, b2, "bob after the completion", 1000, true)
	b2.Close()
	res := bc.end()
	if res.Outcome != activities.TransferBridged || res.Talk < settle || res.Talk > time.Since(completed) {
		t.Errorf("transfer = %+v, want bridged with bob's talk (under %v)", res, time.Since(completed))
	}
}

// TestTransferBridgeToSIP: alice transfers the browser caller to a SIP
// agent (a second worker that answers, talks 400 Hz for 3 s and hangs up):
// the bridge calls the SIP leg itself, the caller hears it, and its hang-up
// ends the bridge with its talk time.
func TestTransferBridgeToSIP(t *testing.T) {
	bc := startBridgeCall(t)
	agent := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_ = w.Play(ctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: strings.Repeat("a", 50)}}})
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.ID = "agent"
		c.Routes = fakeRoutes{flows: map[string]string{"agent": "agent"}}
	})
	began := time.Now()
	if err := bc.r.w.TransferBridge(bc.ctx, bc.callID, "sip:agent@"+agent.addr); err != nil {
		t.Fatal(err)
	}
	deaf(t, bc.alice, "alice after the transfer")
	time.Sleep(settle)
	hears(t, bc.caller, "caller talking to the SIP agent", 400, true)
	res := bc.end()
	agent.waitIdle()
	if res.Outcome != activities.TransferBridged || res.Talk < settle || res.Talk > time.Since(began) {
		t.Errorf("transfer = %+v, want bridged with the SIP agent's talk time only", res)
	}
}
