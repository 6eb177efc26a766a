package browser

import (
	"context"
)

// callControl serves the desk's messages about one of its connected calls.
func (d *agentDesk) callControl(c *conn, m message) {
	p := d.peer(c, m.CallID)
	if p == nil {
		return
	}
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
	default:
		c.fail(CodeBadMessage, "unknown message %q on a desk", m.Type)
	}
}
