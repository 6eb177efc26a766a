package sipworker

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/wav"
)

// TestBridgeTransfer bridges a SIPp caller (PCMA only, a 1 kHz tone, then
// key 1) to a second worker acting as the agent (PCMU, it "talks" a 400 Hz
// tone while it records, then collects a key and hangs up). It checks each
// side heard the other through the bridge with transcoding, the key press
// was relayed, the stereo recording has the caller left and the agent
// right, and that the agent's hangup returns the caller to the flow.
func TestBridgeTransfer(t *testing.T) {
	type agentSaw struct {
		alaw  bool
		rec   activities.RecordResult
		digit activities.CollectResult
		err   error
	}
	saw := make(chan agentSaw, 1)
	agent := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		var a agentSaw
		defer func() { saw <- a }()
		s, err := w.sessionFor(ctx, call.CallID)
		if err != nil {
			a.err = err
			return
		}
		a.alaw = s.alaw
		// toneTTS speaks 400 Hz, 60 ms a character: 4.2 s.
		talk := strings.Repeat("a", 70)
		played := make(chan error, 1)
		go func() {
			played <- w.Play(ctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: talk}}})
		}()
		a.rec, a.err = w.Record(ctx, activities.RecordInput{CallID: call.CallID, NodeID: "agent", MaxDuration: 3 * time.Second})
		if perr := <-played; a.err == nil {
			a.err = perr
		}
		if a.err == nil {
			a.digit, a.err = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 8 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.ID = "agent"
		c.Routes = fakeRoutes{flows: map[string]string{"agent": "agent"}}
	})

	bridged := make(chan activities.TransferResult, 1)
	caller := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, NodeID: "to agent",
			To: "sip:agent@" + agent.addr, Mode: "bridge", Timeout: 10 * time.Second, Record: true})
		if err != nil {
			t.Errorf("bridge transfer: %v", err)
		}
		bridged <- res
		// Back in the flow after the agent hung up: the flow says goodbye.
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "bye"}}})
	})

	mustPass(t, sipptest.Run(t, sipptest.Call{
		Scenario: sipptest.Scenario(t, "uac_bridge.xml"), Target: caller.addr, Service: "1000",
		Timeout: 30 * time.Second, Files: map[string][]byte{"tone.pcap": sipptest.TonePcap(1000, 5*time.Second)},
	}))
	res := <-bridged
	a := <-saw
	caller.waitIdle()
	agent.waitIdle()

	if a.err != nil {
		t.Fatalf("agent: %v", a.err)
	}
	if res.Outcome != activities.TransferBridged || res.Left {
		t.Errorf("result = %+v, want outcome bridged with the caller still here", res)
	}
	if res.Talk < 3*time.Second || res.Talk > 15*time.Second {
		t.Errorf("talk = %v, want the agent's ~4-6 s", res.Talk)
	}
	if a.alaw {
		t.Errorf("the agent leg negotiated PCMA: the test no longer covers transcoding (caller PCMA, agent PCMU)")
	}
	// Caller -> agent: the agent recorded the caller's tone.
	pcm, err := wav.ReadFile(strings.TrimPrefix(a.rec.Ref, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("agent heard %d loud samples, 1 kHz share %.3f; talk %v", len(sipptest.Loudest(pcm)), sipptest.ToneShare(sipptest.Loudest(pcm), 1000), res.Talk)
	if heard := sipptest.Loudest(pcm); len(heard) < sampleRate || sipptest.ToneShare(heard, 1000) < 0.8 {
		t.Errorf("agent heard %d loud samples, 1 kHz share %.2f: the caller's tone did not cross the bridge", len(heard), sipptest.ToneShare(heard, 1000))
	}
	// Caller's key press relayed to the agent as RFC 4733.
	if a.digit.Kind != activities.InputDTMF || a.digit.Digits != "1" {
		t.Errorf("agent collected %+v, want the caller's 1", a.digit)
	}
	// The stereo recording: caller left (1 kHz), agent right (400 Hz).
	if !strings.HasPrefix(res.Recording, "file://") {
		t.Fatalf("recording = %q", res.Recording)
	}
	left, right, err := sipptest.ReadStereo(strings.TrimPrefix(res.Recording, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		pcm  []int16
		freq float64
	}{{"left (caller)", left, 1000}, {"right (agent)", right, 400}} {
		loud := sipptest.Loudest(c.pcm)
		t.Logf("recording %s: %d loud samples, %.0f Hz share %.3f", c.name, len(loud), c.freq, sipptest.ToneShare(loud, c.freq))
		if share := sipptest.ToneShare(loud, c.freq); len(loud) < sampleRate || share < 0.8 {
			t.Errorf("recording %s: %d loud samples, %.0f Hz share %.2f", c.name, len(loud), c.freq, share)
		}
	}
	caller.mu.Lock()
	defer caller.mu.Unlock()
	if len(caller.hangups) != 0 {
		t.Errorf("the agent's hangup was signalled as the caller's: %v", caller.hangups)
	}
}

// TestBridgeNotAnswered: a busy second leg returns its outcome and status;
// the caller stays in the flow.
func TestBridgeNotAnswered(t *testing.T) {
	uasPort := sipptest.FreePort(t)
	uas := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_busy.xml"), Port: uasPort, Timeout: 20 * time.Second})
	bridged := make(chan activities.TransferResult, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: fmt.Sprintf("sip:agent@127.0.0.1:%d", uasPort), Mode: "bridge", Timeout: 5 * time.Second})
		if err != nil {
			t.Errorf("bridge transfer: %v", err)
		}
		bridged <- res
		// Still ours: the flow goes on (two key presses, then goodbye).
		for range 2 {
			_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	mustPass(t, uas())
	res := <-bridged
	r.waitIdle()
	if res.Outcome != activities.OriginateBusy || res.SIPStatus != 486 || res.Left {
		t.Errorf("result = %+v, want busy 486", res)
	}
}

// TestBridgeCallerHangsUp: the caller's BYE mid-bridge hangs up the other
// party, signals the caller's workflow and still returns the bridge's
// result (after the signal) for on_hangup.
func TestBridgeCallerHangsUp(t *testing.T) {
	agentErr := make(chan error, 2)
	agent := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 20 * time.Second})
		agentErr <- err
	}, func(c *Config) {
		c.ID = "agent"
		c.Routes = fakeRoutes{flows: map[string]string{"agent": "agent"}}
	})
	bridged := make(chan activities.TransferResult, 2)
	caller := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "sip:agent@" + agent.addr, Mode: "bridge", Timeout: 10 * time.Second})
		if err != nil {
			t.Errorf("bridge transfer: %v", err)
		}
		bridged <- res
	})
	// The first call warms up lazily started goroutines; the second is
	// checked for leaks once both legs are gone.
	var before int
	var res activities.TransferResult
	for i := range 2 {
		if i == 1 {
			time.Sleep(200 * time.Millisecond)
			before = runtime.NumGoroutine()
		}
		mustPass(t, caller.sipp("uac_hangup_midprompt.xml", "1000"))
		res = <-bridged
		if err := <-agentErr; !activities.IsCallGone(err) {
			t.Errorf("agent's collect = %v, want CallGone (the bridge hung the agent up)", err)
		}
		caller.waitIdle()
		agent.waitIdle()
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d after a bridge, %d before\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res.Outcome != activities.TransferCallerHangup || res.Talk <= 0 || res.Talk > 5*time.Second {
		t.Errorf("result = %+v, want caller_hangup after ~1 s of talk", res)
	}
	caller.mu.Lock()
	defer caller.mu.Unlock()
	if len(caller.hangups) != 2 {
		t.Errorf("caller hangups signalled = %v, want one per call", caller.hangups)
	}
}

// TestBridgeToRegisteredAgent: agent alice's softphone (baresip, auto
// answer) registers with digest auth; a caller's transfer to agent:alice
// rings that phone at the address it registered from, the caller's RTP
// reaches it, and alice hanging up returns the caller to the flow. An
// agent who is not registered is "no answer" with 480, as from a proxy.
func TestBridgeToRegisteredAgent(t *testing.T) {
	results := make(chan activities.TransferResult, 2)
	var r *regRig
	r = newRegRigScript(t, registrar.Config{}, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for _, to := range []string{"agent:bob", "agent:alice"} {
			res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: to, Mode: "bridge", Timeout: 10 * time.Second})
			if err != nil {
				t.Errorf("bridge to %s: %v", to, err)
			}
			results <- res
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	b := sipptest.StartBaresip(t, "<sip:alice@"+r.addr+">;auth_pass="+alicePassword+";regint=600;answermode=auto")
	if _, ok := r.waitContact("@127.0.0.1:", 10*time.Second); !ok {
		t.Fatalf("baresip did not register:\n%s", b.Output())
	}
	// alice hangs up 3 s into the call.
	go func() {
		if b.WaitOutput("Call established", 15*time.Second) {
			time.Sleep(3 * time.Second)
			b.Command("/hangup")
		}
	}()
	mustPass(t, r.sipp("uac_record.xml", "1000"))
	if res := <-results; res.Outcome != activities.OriginateNoAnswer || res.SIPStatus != 480 {
		t.Errorf("bridge to unregistered bob = %+v, want no_answer 480", res)
	}
	res := <-results
	r.waitIdle()
	if res.Outcome != activities.TransferBridged || res.Talk < 2*time.Second {
		t.Fatalf("bridge to alice = %+v, want bridged for ~3 s\n%s", res, b.Output())
	}
	// Debian's baresip 1.0 cannot record what it plays; its log says
	// whether our RTP reached it.
	if !strings.Contains(b.Output(), "incoming rtp for 'audio' established") {
		t.Errorf("alice's phone never received the caller's RTP:\n%s", b.Output())
	}
	// Her phone showed who was calling (uac_record.xml calls as +15550100).
	if !strings.Contains(b.Output(), "sip:+15550100@") {
		t.Errorf("alice's phone did not see the caller's number:\n%s", b.Output())
	}
}

// brokenRegistrar cannot reach its bindings.
type brokenRegistrar struct{}

func (brokenRegistrar) ServeRegister(req *sip.Request, tx sip.ServerTransaction) {}
func (brokenRegistrar) Lookup(ctx context.Context, user string) ([]registrar.Contact, error) {
	return nil, errors.New("store: database is locked")
}

// A registry that cannot be asked fails the transfer (TransferFailed), it
// is neither "no answer" nor the flow's bad input.
func TestBridgeAgentLookupFails(t *testing.T) {
	result := make(chan error, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "agent:alice", Mode: "bridge"})
		result <- err
		for range 2 {
			_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 6 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) { c.Registrar = brokenRegistrar{} })
	mustPass(t, r.sipp("uac_dtmf_2833.xml", "1000"))
	if err := <-result; !activities.IsTransferFailed(err) || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("transfer = %v, want TransferFailed naming the cause", err)
	}
	r.waitIdle()
}
