package text

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/voxflow/voxflow/activities"
)

// Web chat: a chat session is an interactive session whose customer types
// lines (Session.Chat) and whose transfers to agent:NAME reach agents'
// desks (ChatDesks) instead of ending at once. While an agent chats with
// the customer the transfer activity runs, relaying lines both ways, as a
// bridged phone call would; the agent ending the chat returns the customer
// to the flow.

// Event kinds of a chat session's conversation with an agent.
const (
	EventAgent        = "agent"         // an agent accepted the chat (Text: their name)
	EventAgentMessage = "agent_message" // the agent wrote Text
	EventAgentLeft    = "agent_left"    // the agent ended the chat (Text: their name)
)

// DefaultRingTimeout bounds offering a chat to an agent when the transfer
// names no timeout.
const DefaultRingTimeout = 30 * time.Second

// maxPending bounds the lines a customer types while an agent's desk is
// offered the chat, kept for the agent who accepts.
const maxPending = 50

// Errors of Session.Chat.
var (
	ErrEnded = errors.New("the chat has ended")
	// ErrBusy: the flow has not taken the customer's earlier lines yet.
	ErrBusy = errors.New("too many messages ahead of the flow: wait for it to answer")
)

// AnswerSignaler tells a call's workflow that the other party of its
// bridged transfer answered: an agent accepted the chat, so routing shows
// them busy (platform.AnswerSignaler fits).
type AnswerSignaler func(ctx context.Context, callID string, ev activities.BridgeAnswered) error

// WithAnswered makes the channel tell a call's workflow when an agent
// accepts its chat.
func WithAnswered(f AnswerSignaler) Option { return func(c *Channel) { c.answered = f } }

// ChatOffer is a chat offered to an agent.
type ChatOffer struct {
	CallID string
	// From is the customer; To the transfer's target (agent:NAME).
	From, To string
}

// DeskChat is an agent's side of a chat they accepted.
type DeskChat interface {
	// FromAgent delivers what the agent writes.
	FromAgent() <-chan string
	// Ended is closed when the agent ended the chat (or their desk went).
	Ended() <-chan struct{}
	// ToAgent shows the agent a line the customer typed; it may block
	// only briefly (a write to the desk).
	ToAgent(text string)
	// Close ends the chat on the agent's desk (the customer left, or the
	// call moved on); calling it again, or after Ended, does nothing.
	Close()
}

// ChatDesks reaches agents' desks (media/browser serves them).
type ChatDesks interface {
	// Offer offers the chat to agent's desk and waits for their answer:
	// the agent's side once they accept; nil, nil when they declined, ctx
	// ended first or no desk of theirs is open.
	Offer(ctx context.Context, agent string, offer ChatOffer) (DeskChat, error)
}

// ChatOptions open a chat session.
type ChatOptions struct {
	From  string    // the customer, as offered to agents
	Desks ChatDesks // where transfers to agent:NAME go; nil: nowhere
}

// agentState is a chat session's conversation with an agent, guarded by
// the session's mu.
type agentState struct {
	chat    DeskChat // the agent chatting now; nil: none
	ringing bool     // a desk is being offered the chat
	pending []string // typed while it rang: for the agent who accepts
}

// OpenChat starts an interactive chat session: input comes from
// Session.Chat, transfers to agent:NAME are offered to o.Desks, and
// prompts with no text (audio only) are not shown.
func (c *Channel) OpenChat(callID string, o ChatOptions) *Session {
	s := c.Open(callID, nil)
	s.chat, s.desks, s.from = true, o.Desks, o.From
	return s
}

// ParseChat reads a customer's chat line as flow input: digits (and * #)
// are key presses, anything else is words, as if spoken.
func ParseChat(line string) Input {
	s := strings.TrimSpace(line)
	if isDTMF(s) {
		return Input{Kind: InputDTMF, Value: s}
	}
	return Input{Kind: InputSpeech, Value: s}
}

// Chat delivers a line the customer typed: to the agent while one chats
// with them (held back while an agent's desk is offered the chat, and
// given to the agent who accepts), else as input to the flow's current
// turn or, typed ahead, its next one.
func (s *Session) Chat(line string) error {
	if strings.TrimSpace(line) == "" {
		return errors.New("an empty line is not a message")
	}
	select {
	case <-s.done:
		return ErrEnded
	default:
	}
	s.mu.Lock()
	agent := s.agent.chat
	switch {
	case agent != nil:
		// Outside mu: writing to the desk may take a moment.
		s.mu.Unlock()
		agent.ToAgent(line)
		return nil
	case s.agent.ringing:
		defer s.mu.Unlock()
		if len(s.agent.pending) >= maxPending {
			return ErrBusy
		}
		s.agent.pending = append(s.agent.pending, line)
		return nil
	}
	// Under mu: newTurn cannot swap the turn between the look and the send.
	defer s.mu.Unlock()
	select {
	case s.turn <- ParseChat(line):
		return nil
	default:
		return ErrBusy
	}
}

// Leave ends the session of a customer who left (a chat page closed for
// good): the workflow is told first, as the SIP worker does, so it learns
// of the hangup before the activity in progress ends; then the session
// closes. A session already gone is not an error.
func (c *Channel) Leave(ctx context.Context, callID string) error {
	if _, err := c.session(callID); err != nil {
		return nil
	}
	var err error
	if c.hangup != nil {
		if err = c.hangup(ctx, callID); err != nil {
			err = fmt.Errorf("tell call %s the customer left: %w", callID, err)
		}
	}
	c.Close(callID)
	return err
}

// chatTransfer offers the chat to agent's desk and, once they accept,
// relays it until the agent ends it (the customer is back in the flow:
// bridged) or the customer leaves (caller_hangup). A declined or
// unanswered offer is no_answer, as for a phone.
func (c *Channel) chatTransfer(ctx context.Context, s *Session, in activities.TransferInput, agent string) (activities.TransferResult, error) {
	// A collect the workflow abandoned for this transfer (a queue's hold
	// flow) gives up the turn; a newer activity (a reset) ends this one.
	_, over := s.newTurn()
	offered := time.Now()
	chat, err := c.offer(ctx, s, in, agent)
	if err != nil || chat == nil {
		s.setAgent(nil)
		switch {
		case err != nil:
			return activities.TransferResult{}, err
		case s.ended():
			return activities.TransferResult{}, activities.NewCallGone(s.CallID)
		}
		return activities.TransferResult{Outcome: activities.OriginateNoAnswer}, nil
	}
	defer chat.Close()
	if s.ended() {
		return activities.TransferResult{}, activities.NewCallGone(s.CallID)
	}
	began := time.Now()
	s.setAgent(chat)
	defer s.setAgent(nil)
	s.emit(Event{Kind: EventAgent, Node: in.NodeID, Text: agent})
	c.signalAnswered(ctx, s.CallID, activities.BridgeAnswered{To: in.To, Ring: began.Sub(offered).Round(time.Millisecond)})
	res, err := c.relay(ctx, s, chat, in.NodeID, agent, over)
	res.Talk = time.Since(began)
	return res, err
}

// offer offers the chat for at most the transfer's timeout, giving up
// when the customer leaves; what they type meanwhile is kept for the agent.
func (c *Channel) offer(ctx context.Context, s *Session, in activities.TransferInput, agent string) (DeskChat, error) {
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = DefaultRingTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-rctx.Done():
		}
	}()
	s.mu.Lock()
	s.agent.ringing = true
	s.mu.Unlock()
	chat, err := s.desks.Offer(rctx, agent, ChatOffer{CallID: s.CallID, From: s.from, To: in.To})
	if err != nil {
		return nil, activities.NewTransferFailed(fmt.Sprintf("offer the chat to agent %s: %v", agent, err), err)
	}
	return chat, nil
}

// setAgent makes chat the agent the customer's lines go to, handing it
// what they typed while its desk was offered the chat; nil ends the
// conversation (or the offer), dropping what was held back.
func (s *Session) setAgent(chat DeskChat) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pending := s.agent.pending
	s.agent = agentState{chat: chat}
	if chat != nil {
		// Under mu, so a line typed now cannot overtake them.
		for _, line := range pending {
			chat.ToAgent(line)
		}
	}
}

// relay shows the customer what the agent writes until either ends the chat.
func (c *Channel) relay(ctx context.Context, s *Session, chat DeskChat, node, agent string, over <-chan struct{}) (activities.TransferResult, error) {
	beat, stop := heartbeats(ctx)
	defer stop()
	for {
		select {
		case text := <-chat.FromAgent():
			s.emit(Event{Kind: EventAgentMessage, Node: node, Text: text})
		case <-chat.Ended():
			for drained := false; !drained; {
				select {
				case text := <-chat.FromAgent():
					s.emit(Event{Kind: EventAgentMessage, Node: node, Text: text})
				default:
					drained = true
				}
			}
			s.emit(Event{Kind: EventAgentLeft, Node: node, Text: agent})
			return activities.TransferResult{Outcome: activities.TransferBridged}, nil
		case <-s.done:
			// Leave told the workflow before it closed the session.
			return activities.TransferResult{Outcome: activities.TransferCallerHangup}, nil
		case <-over:
			return activities.TransferResult{}, errors.New("a newer activity took over the chat")
		case <-ctx.Done():
			return activities.TransferResult{}, ctx.Err()
		case <-beat:
			activity.RecordHeartbeat(ctx)
		}
	}
}

// answerSignalTimeout bounds telling a workflow its chat was accepted.
const answerSignalTimeout = 5 * time.Second

// signalAnswered tells the workflow an agent accepted, so routing shows
// them busy while they chat; a failure is logged, the chat goes on.
func (c *Channel) signalAnswered(ctx context.Context, callID string, ev activities.BridgeAnswered) {
	if c.answered == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerSignalTimeout)
	defer cancel()
	if err := c.answered(sctx, callID, ev); err != nil {
		logger(ctx).Warn("tell the workflow the agent accepted the chat", "call", callID, "error", err)
	}
}

func (s *Session) ended() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// warner is the part of a logger the channel uses.
type warner interface {
	Warn(msg string, keyvals ...any)
}

// logger is the activity's logger, or the default one outside an
// activity (tests call the channel directly).
func logger(ctx context.Context) warner {
	if activity.IsActivity(ctx) {
		return activity.GetLogger(ctx)
	}
	return slog.Default()
}
