// Package text is a media channel that talks to the caller in text instead
// of audio: prompts are written out, input is digits or phrases typed in.
// It implements every media activity, so the flow engine cannot tell it
// from a phone call. The simulator uses it, and web chat (chat.go: a
// customer typing on a web page, routed to agents' desks).
package text

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
)

// Event kinds a session emits.
const (
	EventPrompt   = "prompt"   // something said to the caller
	EventListen   = "listen"   // the flow waits for caller input
	EventInput    = "input"    // what the caller did
	EventRecord   = "record"   // a recording was taken
	EventTransfer = "transfer" // the caller was transferred
	EventHangup   = "hangup"   // the call ended
	EventAnswered = "answered" // an outbound call (or callback) was answered
)

// Event is one thing that happened on the channel.
type Event struct {
	Kind string `json:"kind"`
	Node string `json:"node,omitempty"`
	Text string `json:"text,omitempty"`
}

// Input kinds a caller sends.
const (
	InputDTMF    = "dtmf"
	InputSpeech  = "speech"
	InputHangup  = "hangup"
	InputTimeout = "timeout"
)

// Input is one caller action.
type Input struct {
	Kind  string `json:"kind"`
	Value string `json:"value,omitempty"`
}

// ParseInput reads a typed line: "1", "123#" are DTMF; "say:billing" or any
// other words are speech; "hangup" hangs up; "" or "timeout" is silence.
func ParseInput(line string) Input {
	s := strings.TrimSpace(line)
	switch {
	case s == "" || s == "timeout":
		return Input{Kind: InputTimeout}
	case s == "hangup":
		return Input{Kind: InputHangup}
	case strings.HasPrefix(s, "dtmf:"):
		return Input{Kind: InputDTMF, Value: strings.TrimPrefix(s, "dtmf:")}
	case strings.HasPrefix(s, "say:"):
		return Input{Kind: InputSpeech, Value: strings.TrimSpace(strings.TrimPrefix(s, "say:"))}
	case isDTMF(s):
		return Input{Kind: InputDTMF, Value: s}
	}
	return Input{Kind: InputSpeech, Value: s}
}

func isDTMF(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789*#ABCD", r) {
			return false
		}
	}
	return s != ""
}

// HangupSignaler tells a call's workflow that the caller hung up.
type HangupSignaler func(ctx context.Context, callID string) error

// Channel holds text sessions by call ID and serves their media activities.
type Channel struct {
	id       string
	hangup   HangupSignaler
	answered AnswerSignaler

	mu       sync.Mutex
	sessions map[string]*Session
}

// Option configures a Channel.
type Option func(*Channel)

// NewChannel returns a channel whose activities run on activities.MediaQueue(id).
func NewChannel(id string, hangup HangupSignaler, opts ...Option) *Channel {
	c := &Channel{id: id, hangup: hangup, sessions: map[string]*Session{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Queue is the channel's media task queue.
func (c *Channel) Queue() string { return activities.MediaQueue(c.id) }

var _ activities.Channel = (*Channel)(nil)

// Session is one text conversation.
type Session struct {
	CallID string
	// Script, when set, supplies inputs in order; when it runs out every
	// further turn is silence. Without a script inputs come from Send.
	script   []Input
	scripted bool
	// turn receives caller input for the collect in progress. Each collect
	// gets a fresh one, so after a reset an abandoned collect of the old
	// run can never steal the caller's next key press.
	mu   sync.Mutex
	turn chan Input
	// turnOver is closed when a newer collect takes over the session (an
	// operator reset the call): the older one gives up.
	turnOver  chan struct{}
	events    chan Event
	closeOnce sync.Once
	done      chan struct{}
	// Chat sessions (OpenChat) only: where a transfer to agent:NAME is
	// offered, and the conversation with the agent (chat.go).
	chat  bool
	desks ChatDesks
	from  string
	agent agentState
}

// Open starts a session. With script != nil inputs are taken from it.
func (c *Channel) Open(callID string, script []Input) *Session {
	s := &Session{CallID: callID, script: script, scripted: script != nil,
		turn: make(chan Input, 16), events: make(chan Event, 256), done: make(chan struct{})}
	c.mu.Lock()
	c.sessions[callID] = s
	c.mu.Unlock()
	return s
}

// Close forgets a session.
func (c *Channel) Close(callID string) {
	c.mu.Lock()
	s := c.sessions[callID]
	delete(c.sessions, callID)
	c.mu.Unlock()
	if s != nil {
		s.end()
	}
}

// Live returns the number of open sessions.
func (c *Channel) Live() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// Events streams what happens on the session. It is never closed: read it
// until Done is closed, then drain what is left without blocking.
func (s *Session) Events() <-chan Event { return s.events }

// Done is closed when the call has ended on the channel.
func (s *Session) Done() <-chan struct{} { return s.done }

// Send delivers a caller action to an interactive session's current turn.
func (s *Session) Send(in Input) error {
	s.mu.Lock()
	turn := s.turn
	s.mu.Unlock()
	select {
	case turn <- in:
		return nil
	case <-s.done:
		return errors.New("call has ended")
	}
}

// newTurn starts a caller turn, ending any older one still waiting; input
// sent before it (type-ahead) carries over.
func (s *Session) newTurn() (chan Input, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.turnOver != nil {
		close(s.turnOver)
	}
	s.turnOver = make(chan struct{})
	next := make(chan Input, 16)
	for {
		select {
		case in := <-s.turn:
			next <- in
			continue
		default:
		}
		break
	}
	s.turn = next
	return next, s.turnOver
}

func (s *Session) emit(e Event) {
	select {
	case <-s.done:
	case s.events <- e:
	}
}

func (s *Session) end() {
	s.closeOnce.Do(func() {
		close(s.done)
	})
}

func (c *Channel) session(callID string) (*Session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.sessions[callID]
	if !ok {
		return nil, activities.NewCallGone(callID)
	}
	return s, nil
}

func (s *Session) say(node string, ps []activities.Prompt) {
	for _, p := range ps {
		text := p.Text
		if text == "" {
			if s.chat {
				continue // a chat shows no audio (hold music, beeps)
			}
			text = "[audio " + p.Audio + "]"
		}
		from := p.Node
		if from == "" {
			from = node
		}
		s.emit(Event{Kind: EventPrompt, Node: from, Text: text})
	}
}

// Play shows prompts as messages (activities.Channel).
func (c *Channel) Play(ctx context.Context, in activities.PlayInput) error {
	s, err := c.session(in.CallID)
	if err != nil {
		return err
	}
	s.say(in.NodeID, in.Prompts)
	return nil
}

// next returns the caller's next action: from the script, or typed in.
func (c *Channel) next(ctx context.Context, s *Session, turn chan Input, over <-chan struct{}) (Input, error) {
	if s.scripted {
		if len(s.script) == 0 {
			return Input{Kind: InputTimeout}, nil
		}
		in := s.script[0]
		s.script = s.script[1:]
		return in, nil
	}
	beat, stop := heartbeats(ctx)
	defer stop()
	for {
		select {
		case in := <-turn:
			return in, nil
		case <-beat:
			activity.RecordHeartbeat(ctx)
		case <-s.done:
			return Input{}, activities.NewCallGone(s.CallID)
		case <-over:
			return Input{}, errors.New("a newer collect took over the call")
		case <-ctx.Done():
			return Input{}, ctx.Err()
		}
	}
}

// heartbeats ticks while an activity that must heartbeat waits: only calls
// from before the engine's fast path have a heartbeat timeout. Outside an
// activity (tests) it never ticks.
func heartbeats(ctx context.Context) (<-chan time.Time, func()) {
	if !activity.IsActivity(ctx) || activity.GetInfo(ctx).HeartbeatTimeout <= 0 {
		return nil, func() {}
	}
	t := time.NewTicker(2 * time.Second)
	return t.C, t.Stop
}

// Collect shows the prompts and waits for the caller's reply: digits, words,
// silence or hangup (activities.Channel).
func (c *Channel) Collect(ctx context.Context, in activities.CollectInput) (activities.CollectResult, error) {
	s, err := c.session(in.CallID)
	if err != nil {
		return activities.CollectResult{}, err
	}
	s.say(in.NodeID, in.Prompts)
	turn, over := s.newTurn()
	s.emit(Event{Kind: EventListen, Node: in.NodeID})
	inp, err := c.next(ctx, s, turn, over)
	if err != nil {
		return activities.CollectResult{}, err
	}
	s.emit(Event{Kind: EventInput, Node: in.NodeID, Text: describe(inp, in.Sensitive)})
	switch inp.Kind {
	case InputHangup:
		return activities.CollectResult{}, c.callerHungUp(ctx, s)
	case InputDTMF:
		digits := inp.Value
		if in.Terminator != "" {
			if i := strings.Index(digits, in.Terminator); i >= 0 {
				digits = digits[:i]
			}
		}
		if in.MaxDigits > 0 && len(digits) > in.MaxDigits {
			digits = digits[:in.MaxDigits]
		}
		return activities.CollectResult{Kind: activities.InputDTMF, Digits: digits}, nil
	case InputSpeech:
		return activities.CollectResult{Kind: activities.InputSpeech, Utterance: inp.Value}, nil
	}
	return activities.CollectResult{Kind: activities.InputTimeout}, nil
}

func describe(in Input, sensitive bool) string {
	if in.Value == "" {
		return in.Kind
	}
	if sensitive && in.Kind != InputHangup { // a secret is not echoed to transcripts
		return in.Kind + ":" + strings.Repeat("*", len(in.Value))
	}
	return in.Kind + ":" + in.Value
}

// callerHungUp ends the session and tells the workflow, as a phone would.
func (c *Channel) callerHungUp(ctx context.Context, s *Session) error {
	c.Close(s.CallID)
	if c.hangup != nil {
		if err := c.hangup(ctx, s.CallID); err != nil {
			activity.GetLogger(ctx).Warn("signal hangup", "call", s.CallID, "error", err)
		}
	}
	return activities.NewCallGone(s.CallID)
}

// Record takes the caller's next message as the recording (activities.Channel).
func (c *Channel) Record(ctx context.Context, in activities.RecordInput) (activities.RecordResult, error) {
	s, err := c.session(in.CallID)
	if err != nil {
		return activities.RecordResult{}, err
	}
	s.say(in.NodeID, in.Prompts)
	ref := fmt.Sprintf("text://%s/%s", in.CallID, in.NodeID)
	s.emit(Event{Kind: EventRecord, Node: in.NodeID, Text: ref})
	return activities.RecordResult{Ref: ref}, nil
}

// Transfer reports the transfer to the caller; a bridge ends at once as if
// the other party hung up (activities.Channel). In a chat session a
// transfer to agent:NAME, bridged or blind, offers the chat to that
// agent's desk instead (chatTransfer).
func (c *Channel) Transfer(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
	s, err := c.session(in.CallID)
	if err != nil {
		return activities.TransferResult{}, err
	}
	if agent, ok := strings.CutPrefix(strings.TrimSpace(in.To), "agent:"); ok && s.desks != nil {
		return c.chatTransfer(ctx, s, in, agent)
	}
	s.emit(Event{Kind: EventTransfer, Node: in.NodeID, Text: in.To})
	if in.Mode == "bridge" {
		return activities.TransferResult{Outcome: activities.TransferBridged}, nil
	}
	c.Close(in.CallID)
	return activities.TransferResult{Left: true, Outcome: "transferred"}, nil
}

// Hangup shows the last prompts and ends the session (activities.Channel).
func (c *Channel) Hangup(ctx context.Context, in activities.HangupInput) error {
	s, err := c.session(in.CallID)
	if err != nil {
		return nil // already gone: hanging up twice is fine
	}
	s.say("", in.Prompts)
	s.emit(Event{Kind: EventHangup, Text: in.Reason})
	c.Close(in.CallID)
	return nil
}

// Originate "rings" a text participant (activities.Channel): the call is
// answered when a session for the call ID was opened (the simulator opens
// it before starting an outbound call), and goes unanswered otherwise.
func (c *Channel) Originate(ctx context.Context, in activities.OriginateInput) (activities.OriginateResult, error) {
	s, err := c.session(in.CallID)
	if err != nil {
		return activities.OriginateResult{Outcome: activities.OriginateNoAnswer}, nil
	}
	s.emit(Event{Kind: EventAnswered, Text: in.To})
	return activities.OriginateResult{Outcome: activities.OriginateAnswered}, nil
}
