package browser

import (
	"context"
	"errors"

	"github.com/voxflow/voxflow/media/sipworker"
)

// callControl serves the desk's messages about one of its connected calls.
func (d *agentDesk) callControl(c *conn, m message) {
	p := d.peer(c, m.CallID)
	if p == nil {
		return
	}
	w := d.s.cfg.Worker
	switch m.Type {
	case "hangup":
		_ = p.Close() // the bridge ends: the caller goes on in the flow
	case "restart":
		ctx, cancel := context.WithTimeout(d.s.ctx, answerTimeout)
		defer cancel()
		ans, err := p.Renegotiate(ctx, m.SDP)
		if err != nil {
			c.fail(CodeBadMessage, "ICE restart: %v", err)
			return
		}
		c.send(message{Type: "answer", CallID: m.CallID, SDP: ans})
	case "hold":
		d.reply(c, m, "held", w.HoldBridge(m.CallID, m.On))
	case "transfer":
		// Returns once the agent is off the call; the caller hears
		// ringback until the new party answers.
		d.reply(c, m, "transferred", w.TransferBridge(d.s.ctx, m.CallID, m.To))
	case "consult":
		// Blocks until the consulted party answers: off the read loop.
		d.s.wg.Add(1)
		go func() {
			defer d.s.wg.Done()
			d.reply(c, m, "consulting", w.ConsultBridge(d.s.ctx, m.CallID, m.To))
		}()
	case "complete":
		d.reply(c, m, "transferred", w.CompleteConsult(m.CallID))
	case "cancel_consult":
		d.reply(c, m, "consult_cancelled", w.CancelConsult(m.CallID))
	default:
		c.fail(CodeBadMessage, "unknown message %q on a desk", m.Type)
	}
}

// reply tells the page a control's outcome: done as kind, or why not.
func (d *agentDesk) reply(c *conn, m message, kind string, err error) {
	if err == nil {
		c.send(message{Type: kind, CallID: m.CallID, On: m.On, To: m.To})
		return
	}
	code := CodeFailed
	switch {
	case errors.Is(err, sipworker.ErrNoBridge), errors.Is(err, sipworker.ErrNoConsult):
		code = CodeNotFound
	case errors.Is(err, sipworker.ErrBridgeBusy):
		code = CodeUnavailable
	case errors.Is(err, sipworker.ErrNotAnswered), errors.Is(err, sipworker.ErrConsultCancelled):
		code = "not_answered"
	}
	c.fail(code, "%s: %v", m.Type, err)
}
