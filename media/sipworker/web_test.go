package sipworker

import (
	"context"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/webrtc"
	"github.com/voxflow/voxflow/media/webrtc/webrtctest"
)

// desktop is an agent's desktop for tests: it answers every ring with a
// simulated browser talking a tone.
type desktop struct {
	t       *testing.T
	tr      *webrtc.Transport
	hz      float64
	browser chan *webrtctest.Browser
	offers  chan AgentOffer
}

func (d *desktop) Ring(ctx context.Context, offer AgentOffer) (WebPeer, error) {
	d.offers <- offer
	b, err := webrtctest.New(true)
	if err != nil {
		return nil, err
	}
	b.Tone(d.hz)
	peer, err := answer(ctx, d.tr, b)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	d.browser <- b
	return peer, nil
}

func webTransport(t *testing.T) *webrtc.Transport {
	t.Helper()
	var codecs []webrtc.Codec
	for _, c := range WebCodecs() {
		codecs = append(codecs, webrtc.Codec(c))
	}
	tr, err := webrtc.New(webrtc.Config{Codecs: codecs, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// answer connects browser b to the transport and returns the server's peer.
func answer(ctx context.Context, tr *webrtc.Transport, b *webrtctest.Browser) (*webrtc.Peer, error) {
	offer, err := b.Offer(false)
	if err != nil {
		return nil, err
	}
	peer, ans, err := tr.Answer(ctx, offer)
	if err != nil {
		return nil, err
	}
	if err := b.Accept(ans); err != nil {
		peer.Close()
		return nil, err
	}
	return peer, nil
}

// TestBrowserCallerToBrowserAgent: a browser calls a number, presses 1 at
// the menu (RFC 4733), and is bridged to an agent's desktop (another
// browser). Each hears the other's tone; the agent's hang-up returns the
// caller to the flow; the caller's bye signals the hangup.
func TestBrowserCallerToBrowserAgent(t *testing.T) {
	tr := webTransport(t)
	type result struct {
		digit    activities.CollectResult
		transfer activities.TransferResult
		err      error
	}
	results := make(chan result, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		var res result
		defer func() { results <- res }()
		if call.Channel != ChannelWebRTC || call.From != "visitor-7" {
			t.Errorf("call start: channel %q from %q", call.Channel, call.From)
		}
		res.digit, res.err = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 8 * time.Second,
			Prompts: []activities.Prompt{{Text: "press one"}}})
		if res.err != nil {
			return
		}
		res.transfer, res.err = w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, To: "agent:alice", Mode: "bridge", Timeout: 5 * time.Second})
	})
	d := &desktop{t: t, tr: tr, hz: 400, browser: make(chan *webrtctest.Browser, 1), offers: make(chan AgentOffer, 1)}
	detach := r.w.AttachAgentPhone("alice", d)
	defer detach()

	caller, err := webrtctest.New(true)
	if err != nil {
		t.Fatal(err)
	}
	defer caller.Close()
	caller.Tone(1000)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	peer, err := answer(ctx, tr, caller)
	if err != nil {
		t.Fatal(err)
	}
	callCtx, hangup := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- r.w.ServeWebCall(callCtx, WebCall{Peer: peer, From: "visitor-7", To: "1000"}) }()

	time.Sleep(1500 * time.Millisecond) // the prompt plays
	if lvl := caller.Level(400, 500*time.Millisecond); lvl < -30 {
		t.Errorf("caller did not hear the prompt: 400 Hz at %.1f dBFS (%s)", lvl, caller)
	}
	caller.Press('1')
	var agent *webrtctest.Browser
	select {
	case offer := <-d.offers:
		if offer.From != "visitor-7" || offer.Channel != ChannelWebRTC {
			t.Errorf("offer %+v", offer)
		}
		agent = <-d.browser
	case res := <-results:
		t.Fatalf("no ring: %+v", res)
	case <-ctx.Done():
		t.Fatal("the desktop never rang")
	}
	defer agent.Close()
	time.Sleep(2 * time.Second)
	if lvl := agent.Level(1000, time.Second); lvl < -30 {
		t.Errorf("agent does not hear the caller's 1 kHz: %.1f dBFS (%s)", lvl, agent)
	}
	if lvl := caller.Level(400, time.Second); lvl < -30 {
		t.Errorf("caller does not hear the agent's 400 Hz: %.1f dBFS (%s)", lvl, caller)
	}
	if lvl := caller.Level(1000, time.Second); lvl > -45 {
		t.Errorf("caller hears its own 1 kHz back: %.1f dBFS", lvl)
	}
	agent.Close() // the agent hangs up: the caller is back in the flow
	res := <-results
	if res.err != nil || res.digit.Digits != "1" || res.transfer.Outcome != activities.TransferBridged {
		t.Fatalf("digit %+v transfer %+v err %v", res.digit, res.transfer, res.err)
	}
	hangup()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	r.waitIdle()
}
