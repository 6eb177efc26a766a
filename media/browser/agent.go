package browser

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/webrtc"
)

// An agent's desktop. While its socket is open the agent is reachable
// through the media worker: a queue's offer (a bridged transfer to
// agent:NAME) sends {"type":"ring"} with the caller and the screen-pop;
// the page answers with {"type":"answer","call_id","sdp":offer} and gets
// {"type":"connected","sdp":answer}, or declines. During the call it may
// send hangup, restart (ICE), hold, transfer, consult, complete and
// cancel_consult; it gets {"type":"ended"} when the call leaves it. The
// desk outlives its socket by the grace period, so a reload or a network
// blip keeps the call: the new socket's hello lists the calls still up,
// which the page restarts ICE on.

// agentDesk is one agent's desktop, across its sockets.
type agentDesk struct {
	s    *Server
	name string

	mu     sync.Mutex
	page   *conn
	rings  map[string]*ring
	peers  map[string]*webrtc.Peer
	detach func()
	away   *time.Timer
}

// ring is a call offered to the desk, waiting for the page.
type ring struct {
	answer  chan string // the page's SDP offer
	decline chan struct{}
}

// ringMessage is what the page is sent for an offered call.
type ringMessage struct {
	Type      string          `json:"type"`
	CallID    string          `json:"call_id"`
	From      string          `json:"from"`
	To        string          `json:"to"`
	Channel   string          `json:"channel"`
	ScreenPop json.RawMessage `json:"screen_pop,omitempty"`
}

// helloMessage greets a desk's socket.
type helloMessage struct {
	Type       string   `json:"type"`
	Agent      string   `json:"agent"`
	ICEServers any      `json:"ice_servers"`
	Calls      []string `json:"calls"`
	// Chats are the desk's accepted chats still open (a reloaded page
	// takes them up again).
	Chats []string `json:"chats"`
}

// ServeAgent serves agent's desktop socket (the API authenticated it).
func (s *Server) ServeAgent(w http.ResponseWriter, r *http.Request, agent string) {
	c, ok := s.accept(w, r, false)
	if !ok {
		return
	}
	defer c.close("desk closed")
	d := s.desk(agent, c)
	var ice any = []any{}
	if s.cfg.Transport != nil {
		ice = s.cfg.Transport.ICEServers()
	}
	c.send(helloMessage{Type: "hello", Agent: agent, ICEServers: ice, Calls: d.calls(), Chats: s.deskChats(agent)})
	for {
		m, err := c.read(r.Context())
		if err != nil {
			break
		}
		d.handle(c, m)
	}
	d.left(c)
}

// deskChats are the accepted chats of agent's desk.
func (s *Server) deskChats(agent string) []string {
	out := []string{}
	for _, l := range s.chats.agentLegs(agent) {
		if l.isAccepted() {
			out = append(out, l.callID)
		}
	}
	return out
}

// desk returns agent's desk with c as its page (a second tab takes over).
func (s *Server) desk(agent string, c *conn) *agentDesk {
	s.mu.Lock()
	d := s.agents[agent]
	if d == nil {
		d = &agentDesk{s: s, name: agent, rings: map[string]*ring{}, peers: map[string]*webrtc.Peer{}}
		s.agents[agent] = d
	}
	s.mu.Unlock()
	d.mu.Lock()
	old := d.page
	d.page = c
	if d.away != nil {
		d.away.Stop()
		d.away = nil
	}
	if d.detach == nil && s.cfg.Worker != nil {
		d.detach = s.cfg.Worker.AttachAgentPhone(agent, d)
	}
	d.mu.Unlock()
	if old != nil {
		old.send(message{Type: "replaced", Message: "the desk was opened elsewhere"})
		old.close("replaced")
	}
	return d
}

// left detaches page c; after the grace period without a page the desk
// stops taking calls and its calls end.
func (d *agentDesk) left(c *conn) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.page != c {
		return
	}
	d.page = nil
	d.away = time.AfterFunc(d.s.cfg.Grace, d.close)
}

// close ends the desk: no more rings, its calls hang up.
func (d *agentDesk) close() {
	d.mu.Lock()
	if d.page != nil {
		d.mu.Unlock()
		return // a page came back meanwhile
	}
	if d.detach != nil {
		d.detach()
		d.detach = nil
	}
	peers := d.peers
	d.peers = map[string]*webrtc.Peer{}
	d.mu.Unlock()
	for _, p := range peers {
		_ = p.Close()
	}
	d.s.endDeskChats(d.name)
	d.s.mu.Lock()
	if d.s.agents[d.name] == d {
		delete(d.s.agents, d.name)
	}
	d.s.mu.Unlock()
}

func (d *agentDesk) calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, 0, len(d.peers))
	for id := range d.peers {
		out = append(out, id)
	}
	return out
}

// Ring offers a call to the desk (sipworker.AgentPhone): nil, nil when no
// page is open, the agent declined, or ctx ended first.
func (d *agentDesk) Ring(ctx context.Context, offer sipworker.AgentOffer) (sipworker.WebPeer, error) {
	rg := &ring{answer: make(chan string, 1), decline: make(chan struct{}, 1)}
	d.mu.Lock()
	page := d.page
	if page != nil {
		d.rings[offer.CallID] = rg
	}
	d.mu.Unlock()
	if page == nil {
		return nil, nil
	}
	defer func() {
		d.mu.Lock()
		delete(d.rings, offer.CallID)
		d.mu.Unlock()
	}()
	page.send(ringMessage{Type: "ring", CallID: offer.CallID, From: offer.From, To: offer.To,
		Channel: offer.Channel, ScreenPop: d.s.screenPop(ctx, offer.CallID)})
	select {
	case sdp := <-rg.answer:
		return d.connect(page, offer.CallID, sdp)
	case <-rg.decline:
		return nil, nil
	case <-ctx.Done():
		page.send(message{Type: "ring_cancelled", CallID: offer.CallID})
		return nil, nil
	}
}

// connect answers the page's offer for an answered ring.
func (d *agentDesk) connect(page *conn, callID, offer string) (sipworker.WebPeer, error) {
	peer, ans, ok := d.s.answer(page, offer)
	if !ok {
		return nil, nil // the page was told why
	}
	d.mu.Lock()
	d.peers[callID] = peer
	d.mu.Unlock()
	page.send(message{Type: "connected", CallID: callID, SDP: ans})
	d.s.wg.Add(1)
	go func() {
		defer d.s.wg.Done()
		select {
		case <-peer.Done():
		case <-d.s.ctx.Done():
			_ = peer.Close()
		}
		d.mu.Lock()
		delete(d.peers, callID)
		p := d.page
		d.mu.Unlock()
		if p != nil {
			p.send(message{Type: "ended", CallID: callID})
		}
	}()
	return peer, nil
}

// screenPop asks what the flow knows of the call, briefly: a ring is not
// held up for it.
func (s *Server) screenPop(ctx context.Context, callID string) json.RawMessage {
	if s.cfg.ScreenPop == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	pop, err := s.cfg.ScreenPop(ctx, callID)
	if err != nil {
		s.log.Info("screen-pop", "call", callID, "error", err)
		return nil
	}
	return pop
}

// handle serves one message of the desk's page.
func (d *agentDesk) handle(c *conn, m message) {
	switch m.Type {
	case "answer", "decline":
		d.mu.Lock()
		rg := d.rings[m.CallID]
		d.mu.Unlock()
		if rg == nil {
			c.fail(CodeNotYours, "call %q is not ringing on your desk", m.CallID)
			return
		}
		ch := rg.answer
		if m.Type == "decline" {
			select {
			case rg.decline <- struct{}{}:
			default:
			}
			return
		}
		select {
		case ch <- m.SDP:
		default: // answered twice: the first answer counts
		}
	case "chat_accept", "chat_decline", "chat_message", "chat_end":
		d.chatMessage(c, m)
	case "":
	default:
		d.callControl(c, m)
	}
}

// peer is the desk's connected call callID, or an error to the page.
func (d *agentDesk) peer(c *conn, callID string) *webrtc.Peer {
	d.mu.Lock()
	p := d.peers[callID]
	d.mu.Unlock()
	if p == nil {
		c.fail(CodeNotYours, "call %q is not connected to your desk", callID)
	}
	return p
}
