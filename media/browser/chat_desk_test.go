package browser

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
)

// agentScript is a flow whose menu transfers the chat to agent alice,
// then asks once more and hangs up.
func agentScript(ctx context.Context, r *chatRig, id string) {
	if _, err := collect(ctx, r, id, "menu", "Type 2 for an agent"); err != nil {
		return
	}
	res, err := r.ch.Transfer(ctx, activities.TransferInput{CallID: id, NodeID: "to_agent", To: "agent:alice", Mode: "bridge", Timeout: 3 * time.Second})
	if err != nil {
		r.report(err)
		return
	}
	r.report(res)
	if res.Outcome == activities.TransferCallerHangup {
		return
	}
	if _, err := collect(ctx, r, id, "more", "Back with the bot. Anything else?"); err != nil {
		return
	}
	_ = r.ch.Hangup(ctx, activities.HangupInput{CallID: id, Prompts: say("Goodbye")})
}

// openDesk opens agent's desktop socket.
func (r *chatRig) openDesk(agent string) *wsClient {
	r.t.Helper()
	d := r.dial("/agent?name=" + agent)
	if m := d.expect("hello"); m.Message != "" {
		r.t.Fatalf("hello %+v", m)
	}
	return d
}

// toAgent starts a chat and answers its menu so the flow transfers it.
func (r *chatRig) toAgent(desk *wsClient) (*wsClient, wsMsg, wsMsg) {
	r.t.Helper()
	c, chat := r.startChat()
	c.expect("message", "flow", "Type 2 for an agent")
	c.expect("listen")
	c.send(map[string]string{"type": "message", "text": "2"})
	c.expect("message", "you", "2")
	r.result()
	offer := desk.expect("chat_offer")
	if offer.CallID != chat.CallID || offer.From != "Ann" || offer.To != "agent:alice" {
		r.t.Fatalf("offer %+v for chat %+v", offer, chat)
	}
	return c, chat, offer
}

func TestChatRoutedToAgentDesk(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newChatRig(t, time.Minute, agentScript)
	defer r.close()
	desk := r.openDesk("alice")
	c, chat, offer := r.toAgent(desk)

	// The offer carries the screen-pop and the conversation so far.
	var pop struct{ Vars map[string]string }
	if err := json.Unmarshal(offer.ScreenPop, &pop); err != nil || pop.Vars["call"] != chat.CallID {
		t.Fatalf("screen-pop %s (%v)", offer.ScreenPop, err)
	}
	if len(offer.Transcript) != 2 || offer.Transcript[1].From != records.ChatCustomer || offer.Transcript[1].Text != "2" {
		t.Fatalf("offer transcript %+v", offer.Transcript)
	}
	// Another agent cannot take it, nor write in it.
	bob := r.openDesk("bob")
	bob.send(map[string]string{"type": "chat_accept", "call_id": chat.CallID})
	if m := bob.expect("error"); m.Code != CodeNotYours {
		t.Fatalf("bob accepting: %+v", m)
	}
	desk.send(map[string]string{"type": "chat_message", "call_id": chat.CallID, "text": "too early"})
	if m := desk.expect("error"); m.Code != CodeNotYours {
		t.Fatalf("writing before accepting: %+v", m)
	}

	desk.send(map[string]string{"type": "chat_accept", "call_id": chat.CallID})
	if m := c.expect("agent"); m.Name != "alice" {
		t.Fatalf("agent joined: %+v", m)
	}
	c.send(map[string]string{"type": "message", "text": "Hi, my invoice is wrong"})
	c.expect("message", "you", "Hi, my invoice is wrong")
	if m := desk.expect("chat_message", "customer", "Hi, my invoice is wrong"); m.CallID != chat.CallID {
		t.Fatalf("desk got %+v", m)
	}
	desk.send(map[string]string{"type": "chat_message", "call_id": chat.CallID, "text": strings.Repeat("x", MaxChatText+1)})
	if m := desk.expect("error"); m.Code != CodeTooLarge {
		t.Fatalf("too large from the desk: %+v", m)
	}
	desk.send(map[string]string{"type": "chat_message", "call_id": chat.CallID, "text": "Let me fix that for you"})
	if m := c.expect("message", "agent", "Let me fix that for you"); m.Name != "alice" {
		t.Fatalf("agent line %+v: want alice's name", m)
	}

	// The agent ends the chat: the customer is back in the flow.
	desk.send(map[string]string{"type": "chat_end", "call_id": chat.CallID})
	if m := c.expect("agent_left"); m.Name != "alice" {
		t.Fatalf("agent left: %+v", m)
	}
	res := r.result().(activities.TransferResult)
	if res.Outcome != activities.TransferBridged || res.Left || res.Talk <= 0 {
		t.Fatalf("transfer = %+v, want bridged with talk time", res)
	}
	c.expect("message", "flow", "Back with the bot. Anything else?")
	c.expect("listen")
	c.send(map[string]string{"type": "message", "text": "no"})
	c.expect("message", "you", "no")
	r.result()
	c.expect("message", "flow", "Goodbye")
	c.expect("ended")

	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.answers) != 1 || r.answers[0].To != "agent:alice" {
		t.Fatalf("answer signals %+v", r.answers)
	}
	var froms []string
	for _, l := range r.saved[chat.CallID] {
		froms = append(froms, l.From)
		if (l.From == records.ChatAgent) != (l.Name == "alice") {
			t.Errorf("saved line %+v: only agent lines carry the agent's name", l)
		}
	}
	if got := strings.Join(froms, ","); got != "flow,customer,customer,agent,flow,customer,flow" {
		t.Fatalf("saved transcript by writer: %s", got)
	}
}

func TestChatAgentDeclinesOrCustomerLeaves(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newChatRig(t, time.Minute, agentScript)
	defer r.close()
	desk := r.openDesk("alice")

	t.Run("declined", func(t *testing.T) {
		r.use(t, desk)
		c, chat, _ := r.toAgent(desk)
		desk.send(map[string]string{"type": "chat_decline", "call_id": chat.CallID})
		desk.expect("chat_ended")
		if res := r.result().(activities.TransferResult); res.Outcome != activities.OriginateNoAnswer {
			t.Fatalf("transfer = %+v, want no_answer", res)
		}
		c.expect("message", "flow", "Back with the bot. Anything else?")
		c.send(map[string]string{"type": "hangup"})
		r.result()
	})
	t.Run("unanswered", func(t *testing.T) {
		r.use(t, desk)
		c, _, _ := r.toAgent(desk)
		start := time.Now()
		desk.expect("chat_ended") // withdrawn after the transfer's timeout
		if res := r.result().(activities.TransferResult); res.Outcome != activities.OriginateNoAnswer || time.Since(start) > 4*time.Second {
			t.Fatalf("transfer = %+v after %v", res, time.Since(start))
		}
		c.send(map[string]string{"type": "hangup"})
		r.result()
	})
	t.Run("customer leaves", func(t *testing.T) {
		r.use(t, desk)
		c, chat, _ := r.toAgent(desk)
		desk.send(map[string]string{"type": "chat_accept", "call_id": chat.CallID})
		c.expect("agent")
		c.send(map[string]string{"type": "hangup"})
		if m := desk.expect("chat_ended"); m.CallID != chat.CallID {
			t.Fatalf("desk got %+v", m)
		}
		if res := r.result().(activities.TransferResult); res.Outcome != activities.TransferCallerHangup {
			t.Fatalf("transfer = %+v, want caller_hangup", res)
		}
		c.expect("ended")
		r.mu.Lock()
		defer r.mu.Unlock()
		if last := r.hangups[len(r.hangups)-1]; last != chat.CallID {
			t.Fatalf("hangups %v", r.hangups)
		}
	})
}

func TestAgentHoldsSeveralChats(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	r := newChatRig(t, time.Minute, agentScript)
	defer r.close()
	desk := r.openDesk("alice")
	c1, chat1, _ := r.toAgent(desk)
	desk.send(map[string]string{"type": "chat_accept", "call_id": chat1.CallID})
	c1.expect("agent")
	c2, chat2, _ := r.toAgent(desk)
	desk.send(map[string]string{"type": "chat_accept", "call_id": chat2.CallID})
	c2.expect("agent")

	desk.send(map[string]string{"type": "chat_message", "call_id": chat2.CallID, "text": "for two"})
	desk.send(map[string]string{"type": "chat_message", "call_id": chat1.CallID, "text": "for one"})
	c2.expect("message", "agent", "for two")
	c1.expect("message", "agent", "for one")
	c1.send(map[string]string{"type": "message", "text": "from one"})
	c1.expect("message", "you", "from one")
	if m := desk.expect("chat_message", "customer", "from one"); m.CallID != chat1.CallID {
		t.Fatalf("desk got %+v", m)
	}
	for _, c := range []*wsClient{c1, c2} {
		c.send(map[string]string{"type": "hangup"})
		desk.expect("chat_ended")
		r.result()
		c.expect("ended")
	}
}
