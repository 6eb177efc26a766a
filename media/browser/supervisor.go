package browser

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/webrtc"
)

// A supervisor's socket: {"type":"monitor","call_id","mode","sdp"} joins
// the call's bridge (a caller talking to an agent) in mode listen, whisper
// or barge and is answered {"type":"monitoring","call_id","mode","sdp"};
// {"type":"mode","call_id","mode"} changes the mode, {"type":"leave"}
// leaves, {"type":"restart"} restarts ICE. {"type":"ended","call_id"}
// says the call's bridge is over. Every join, change and leave goes into
// the call's timeline (Config.Journal). Closing the socket leaves every
// call it monitors.

// supervision is one supervisor's monitoring of one call.
type supervision struct {
	m    *sipworker.Monitoring
	peer *webrtc.Peer
	left bool // the supervisor left (not the call ending)
}

// supervisorDesk is one supervisor socket's calls.
type supervisorDesk struct {
	s    *Server
	c    *conn
	user string

	mu    sync.Mutex
	calls map[string]*supervision
}

// ServeSupervisor serves a supervisor's socket (the API checked the right
// to hear calls).
func (s *Server) ServeSupervisor(w http.ResponseWriter, r *http.Request, user string) {
	c, ok := s.accept(w, r, false)
	if !ok {
		return
	}
	defer c.close("supervisor left")
	d := &supervisorDesk{s: s, c: c, user: user, calls: map[string]*supervision{}}
	var ice any = []any{}
	if s.cfg.Transport != nil {
		ice = s.cfg.Transport.ICEServers()
	}
	c.send(helloMessage{Type: "hello", Agent: user, ICEServers: ice, Calls: []string{}, Chats: []string{}})
	for {
		m, err := c.read(r.Context())
		if err != nil {
			break
		}
		d.handle(m)
	}
	d.leaveAll()
}

func (d *supervisorDesk) handle(m message) {
	switch m.Type {
	case "monitor":
		d.monitor(m)
	case "mode", "leave", "restart":
		d.mu.Lock()
		sv := d.calls[m.CallID]
		d.mu.Unlock()
		if sv == nil {
			d.c.fail(CodeNotYours, "you are not monitoring call %q", m.CallID)
			return
		}
		d.change(sv, m)
	case "":
	default:
		d.c.fail(CodeBadMessage, "unknown message %q on a supervisor's socket", m.Type)
	}
}

// monitor joins a call.
func (d *supervisorDesk) monitor(m message) {
	d.mu.Lock()
	_, already := d.calls[m.CallID]
	d.mu.Unlock()
	if already {
		d.c.fail(CodeBadMessage, "already monitoring call %q: change the mode instead", m.CallID)
		return
	}
	peer, ans, ok := d.s.answer(d.c, m.SDP)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(d.s.ctx, answerTimeout)
	defer cancel()
	mon, err := d.s.cfg.Worker.Monitor(ctx, m.CallID, sipworker.MonitorMode(m.Mode), peer)
	if err != nil {
		d.c.fail(monitorCode(err), "%v", err)
		return
	}
	sv := &supervision{m: mon, peer: peer}
	d.mu.Lock()
	d.calls[m.CallID] = sv
	d.mu.Unlock()
	d.c.send(message{Type: "monitoring", CallID: m.CallID, Mode: m.Mode, SDP: ans})
	d.s.journal(m.CallID, d.user, m.Mode, "")
	d.s.wg.Add(1)
	go func() {
		defer d.s.wg.Done()
		<-mon.Done()
		d.mu.Lock()
		delete(d.calls, m.CallID)
		left := sv.left
		d.mu.Unlock()
		if !left {
			d.s.journal(m.CallID, d.user, "leave", "the call's bridge ended")
			d.c.send(message{Type: "ended", CallID: m.CallID})
		}
	}()
}

// change serves mode, leave and restart on a monitored call.
func (d *supervisorDesk) change(sv *supervision, m message) {
	switch m.Type {
	case "mode":
		if err := sv.m.SetMode(sipworker.MonitorMode(m.Mode)); err != nil {
			d.c.fail(monitorCode(err), "%v", err)
			return
		}
		d.c.send(message{Type: "mode", CallID: m.CallID, Mode: m.Mode})
		d.s.journal(m.CallID, d.user, m.Mode, "")
	case "leave":
		d.leave(m.CallID, sv)
		d.c.send(message{Type: "ended", CallID: m.CallID})
	case "restart":
		ctx, cancel := context.WithTimeout(d.s.ctx, answerTimeout)
		defer cancel()
		ans, err := sv.peer.Renegotiate(ctx, m.SDP)
		if err != nil {
			d.c.fail(CodeBadMessage, "ICE restart: %v", err)
			return
		}
		d.c.send(message{Type: "answer", CallID: m.CallID, SDP: ans})
	}
}

func (d *supervisorDesk) leave(callID string, sv *supervision) {
	d.mu.Lock()
	sv.left = true
	d.mu.Unlock()
	sv.m.Close()
	d.s.journal(callID, d.user, "leave", "")
}

func (d *supervisorDesk) leaveAll() {
	d.mu.Lock()
	calls := make(map[string]*supervision, len(d.calls))
	for id, sv := range d.calls {
		calls[id] = sv
	}
	d.mu.Unlock()
	for id, sv := range calls {
		d.leave(id, sv)
	}
}

// monitorCode is the error code of a refused monitor request.
func monitorCode(err error) string {
	switch {
	case errors.Is(err, sipworker.ErrNoBridge):
		return CodeNotFound
	case errors.Is(err, sipworker.ErrBadMode):
		return CodeBadMessage
	case errors.Is(err, sipworker.ErrSupervised):
		return CodeUnavailable
	}
	return CodeFailed
}

// journal records a supervisor's action in the call's timeline.
func (s *Server) journal(callID, actor, action, detail string) {
	if s.cfg.Journal == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e := JournalEntry{CallID: callID, At: time.Now().UTC(), Actor: actor, Action: action, Detail: detail}
	if err := s.cfg.Journal(ctx, e); err != nil {
		s.log.Warn("record a supervisor's action", "call", callID, "action", action, "error", err)
	}
}
