package text

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voxflow/voxflow/activities"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeChat is an agent's side of an accepted chat.
type fakeChat struct {
	from      chan string
	ended     chan struct{}
	toAgent   chan string
	closed    chan struct{}
	closeOnce sync.Once
}

func newFakeChat() *fakeChat {
	return &fakeChat{from: make(chan string, 8), ended: make(chan struct{}), toAgent: make(chan string, 64), closed: make(chan struct{})}
}

func (f *fakeChat) FromAgent() <-chan string { return f.from }
func (f *fakeChat) Ended() <-chan struct{}   { return f.ended }
func (f *fakeChat) ToAgent(text string)      { f.toAgent <- text }
func (f *fakeChat) Close()                   { f.closeOnce.Do(func() { close(f.closed) }) }

// fakeDesks answers each offer with answer (nil: waits for ctx, as an
// agent who never answers).
type fakeDesks struct {
	mu     sync.Mutex
	offers []ChatOffer
	agents []string
	answer func(ctx context.Context) DeskChat
}

func (d *fakeDesks) Offer(ctx context.Context, agent string, o ChatOffer) (DeskChat, error) {
	d.mu.Lock()
	d.offers = append(d.offers, o)
	d.agents = append(d.agents, agent)
	d.mu.Unlock()
	if d.answer == nil {
		<-ctx.Done()
		return nil, nil
	}
	return d.answer(ctx), nil
}

// signals records the hangup and answer signals a channel sends.
type signals struct {
	mu       sync.Mutex
	hangups  []string
	answers  []activities.BridgeAnswered
	sessions *Channel // set: a hangup checks the session is still open
	openAt   []bool
}

func (g *signals) hangup(_ context.Context, callID string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hangups = append(g.hangups, callID)
	if g.sessions != nil {
		_, err := g.sessions.session(callID)
		g.openAt = append(g.openAt, err == nil)
	}
	return nil
}

func (g *signals) answered(_ context.Context, _ string, ev activities.BridgeAnswered) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.answers = append(g.answers, ev)
	return nil
}

func newChatRig(desks ChatDesks) (*Channel, *Session, *signals) {
	g := &signals{}
	c := NewChannel("chat-test", g.hangup, WithAnswered(g.answered))
	g.sessions = c
	return c, c.OpenChat("c1", ChatOptions{From: "visitor", Desks: desks}), g
}

// transfer runs the transfer activity in the background.
func transfer(c *Channel, in activities.TransferInput) <-chan transferDone {
	out := make(chan transferDone, 1)
	go func() {
		res, err := c.Transfer(context.Background(), in)
		out <- transferDone{res, err}
	}()
	return out
}

type transferDone struct {
	res activities.TransferResult
	err error
}

func nextEvent(t *testing.T, s *Session, kind string) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-s.Events():
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event", kind)
		}
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

func TestChatTransferRelaysUntilTheAgentEnds(t *testing.T) {
	chat := newFakeChat()
	accept := make(chan struct{})
	desks := &fakeDesks{answer: func(context.Context) DeskChat { <-accept; return chat }}
	c, s, g := newChatRig(desks)
	defer c.Close("c1")
	done := transfer(c, activities.TransferInput{CallID: "c1", NodeID: "q", To: "agent:alice", Mode: "bridge", Timeout: 5 * time.Second})

	// Typed while the desk rings: held for the agent, not the flow.
	waitFor(t, func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.agent.ringing })
	if err := s.Chat("anyone there?"); err != nil {
		t.Fatal(err)
	}
	close(accept)
	if e := nextEvent(t, s, EventAgent); e.Text != "alice" || e.Node != "q" {
		t.Fatalf("agent event %+v", e)
	}
	if got := recv(t, chat.toAgent, "held line"); got != "anyone there?" {
		t.Fatalf("agent got %q first, want the line typed while ringing", got)
	}
	if err := s.Chat("I need help"); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, chat.toAgent, "customer line"); got != "I need help" {
		t.Fatalf("agent got %q", got)
	}
	chat.from <- "Hello, Alice here"
	if e := nextEvent(t, s, EventAgentMessage); e.Text != "Hello, Alice here" {
		t.Fatalf("agent message %+v", e)
	}
	chat.from <- "bye now"
	close(chat.ended)
	d := recv(t, done, "transfer result")
	if d.err != nil || d.res.Outcome != activities.TransferBridged || d.res.Left {
		t.Fatalf("transfer = %+v, %v; want bridged, still ours", d.res, d.err)
	}
	if e := nextEvent(t, s, EventAgentMessage); e.Text != "bye now" {
		t.Fatalf("last agent message %+v", e)
	}
	nextEvent(t, s, EventAgentLeft)

	g.mu.Lock()
	answers := g.answers
	g.mu.Unlock()
	if len(answers) != 1 || answers[0].To != "agent:alice" {
		t.Fatalf("answer signals %+v, want one to agent:alice", answers)
	}
	if o := desks.offers[0]; o.CallID != "c1" || o.From != "visitor" || o.To != "agent:alice" || desks.agents[0] != "alice" {
		t.Fatalf("offer %+v to %q", o, desks.agents[0])
	}
	// Back in the flow: the next line answers a menu.
	if err := s.Chat("2"); err != nil {
		t.Fatal(err)
	}
	res, err := c.Collect(context.Background(), activities.CollectInput{CallID: "c1", NodeID: "menu"})
	if err != nil || res.Kind != activities.InputDTMF || res.Digits != "2" {
		t.Fatalf("collect after the chat = %+v, %v", res, err)
	}
}

func TestChatTransferNoAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(context.Context) DeskChat
	}{
		{"declined", func(context.Context) DeskChat { return nil }},
		{"unanswered", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, s, g := newChatRig(&fakeDesks{answer: tc.answer})
			defer c.Close("c1")
			start := time.Now()
			d := recv(t, transfer(c, activities.TransferInput{CallID: "c1", To: "agent:bob", Mode: "bridge", Timeout: 100 * time.Millisecond}), "result")
			if d.err != nil || d.res.Outcome != activities.OriginateNoAnswer {
				t.Fatalf("transfer = %+v, %v; want no_answer", d.res, d.err)
			}
			if time.Since(start) > 3*time.Second {
				t.Fatalf("the offer outlived its timeout: %v", time.Since(start))
			}
			if len(g.answers) != 0 {
				t.Fatalf("answer signalled for an unanswered chat: %+v", g.answers)
			}
			// The customer's next line is the flow's again.
			if err := s.Chat("sales"); err != nil {
				t.Fatal(err)
			}
			res, err := c.Collect(context.Background(), activities.CollectInput{CallID: "c1"})
			if err != nil || res.Kind != activities.InputSpeech || res.Utterance != "sales" {
				t.Fatalf("collect = %+v, %v", res, err)
			}
		})
	}
}

func TestChatTransferCustomerLeaves(t *testing.T) {
	chat := newFakeChat()
	c, s, g := newChatRig(&fakeDesks{answer: func(context.Context) DeskChat { return chat }})
	done := transfer(c, activities.TransferInput{CallID: "c1", To: "agent:alice", Mode: "bridge"})
	nextEvent(t, s, EventAgent)
	if err := c.Leave(context.Background(), "c1"); err != nil {
		t.Fatal(err)
	}
	d := recv(t, done, "result")
	if d.err != nil || d.res.Outcome != activities.TransferCallerHangup {
		t.Fatalf("transfer = %+v, %v; want caller_hangup", d.res, d.err)
	}
	recv(t, chat.closed, "the desk told")
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.hangups) != 1 || !g.openAt[0] {
		t.Fatalf("hangups %v (session open when signalled: %v): want one, before the session closed", g.hangups, g.openAt)
	}
	if err := s.Chat("hello?"); !errors.Is(err, ErrEnded) {
		t.Fatalf("chat after leaving = %v, want ErrEnded", err)
	}
}

func TestChatTransferCustomerLeavesWhileRinging(t *testing.T) {
	offered := make(chan struct{})
	c, _, _ := newChatRig(&fakeDesks{answer: func(ctx context.Context) DeskChat {
		close(offered)
		<-ctx.Done() // the offer is withdrawn when the customer goes
		return nil
	}})
	done := transfer(c, activities.TransferInput{CallID: "c1", To: "agent:alice", Mode: "bridge", Timeout: time.Minute})
	recv(t, offered, "offer")
	_ = c.Leave(context.Background(), "c1")
	d := recv(t, done, "result")
	if !activities.IsCallGone(d.err) {
		t.Fatalf("transfer = %+v, %v; want CallGone", d.res, d.err)
	}
}

func TestTransferWithoutDesksEndsAtOnce(t *testing.T) {
	c := NewChannel("sim", nil)
	s := c.Open("c1", nil)
	defer c.Close("c1")
	res, err := c.Transfer(context.Background(), activities.TransferInput{CallID: "c1", To: "agent:alice", Mode: "bridge"})
	if err != nil || res.Outcome != activities.TransferBridged {
		t.Fatalf("simulator transfer = %+v, %v; want bridged at once", res, err)
	}
	if e := nextEvent(t, s, EventTransfer); e.Text != "agent:alice" {
		t.Fatalf("event %+v", e)
	}
}

func TestParseChat(t *testing.T) {
	for line, want := range map[string]Input{
		"1":            {Kind: InputDTMF, Value: "1"},
		" 1234# ":      {Kind: InputDTMF, Value: "1234#"},
		"billing":      {Kind: InputSpeech, Value: "billing"},
		"hangup":       {Kind: InputSpeech, Value: "hangup"}, // words, not a command: the page has its own hangup
		"press 1 pls":  {Kind: InputSpeech, Value: "press 1 pls"},
		"timeout":      {Kind: InputSpeech, Value: "timeout"},
		"talk to Anna": {Kind: InputSpeech, Value: "talk to Anna"},
	} {
		if got := ParseChat(line); got != want {
			t.Errorf("ParseChat(%q) = %+v, want %+v", line, got, want)
		}
	}
}

func TestChatTypeAheadIsBounded(t *testing.T) {
	c, s, _ := newChatRig(nil)
	defer c.Close("c1")
	var err error
	n := 0
	for ; n < 100 && err == nil; n++ {
		err = s.Chat("hello")
	}
	if !errors.Is(err, ErrBusy) || n < 2 {
		t.Fatalf("after %d lines: %v, want ErrBusy once the flow is far behind", n, err)
	}
	if err := s.Chat("   "); err == nil {
		t.Fatal("an empty line was taken")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestChatShowsNoAudio(t *testing.T) {
	c, s, _ := newChatRig(nil)
	defer c.Close("c1")
	err := c.Play(context.Background(), activities.PlayInput{CallID: "c1", Prompts: []activities.Prompt{
		{Audio: "builtin:hold-music"}, {Text: "You are next in line."},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if e := nextEvent(t, s, EventPrompt); e.Text != "You are next in line." {
		t.Fatalf("first prompt shown: %+v, want the text one (hold music is not shown in a chat)", e)
	}
	// The simulator still shows where audio plays.
	sim := NewChannel("sim", nil)
	ss := sim.Open("c2", nil)
	defer sim.Close("c2")
	_ = sim.Play(context.Background(), activities.PlayInput{CallID: "c2", Prompts: []activities.Prompt{{Audio: "builtin:hold-music"}}})
	if e := nextEvent(t, ss, EventPrompt); e.Text != "[audio builtin:hold-music]" {
		t.Fatalf("simulator prompt %+v", e)
	}
}
