package browser

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/webrtc"
)

// A customer's call from a web page: the page sends {"type":"offer"} with
// its SDP, gets {"type":"answer"}, then {"type":"call"} with the call's ID
// and a resume token. Key presses go as RFC 4733 in the media. The page
// may send {"type":"restart"} (an ICE restart offer) and {"type":"hangup"};
// it gets {"type":"ended"} when the flow hangs up. A page that loses its
// socket reconnects and sends {"type":"resume","token":...} with an ICE
// restart offer within the grace period; the call never noticed.

// webCall is a live browser call, reachable by its resume token.
type webCall struct {
	token  string
	peer   *webrtc.Peer
	hangup context.CancelFunc

	mu     sync.Mutex
	page   *conn // the socket now attached; nil while the page is away
	callID string
	away   *time.Timer
}

// ServeCall serves a customer's call socket. The number to call is the
// query parameter "number"; from names the visitor ("web" if empty).
func (s *Server) ServeCall(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accept(w, r, true)
	if !ok {
		return
	}
	defer c.close("call ended")
	ctx := r.Context()
	first, err := c.read(ctx)
	if err != nil {
		return
	}
	switch first.Type {
	case "offer":
		s.placeCall(ctx, c, r.URL.Query().Get("number"), r.URL.Query().Get("from"), first.SDP)
	case "resume":
		s.resumeCall(ctx, c, first)
	default:
		c.fail(CodeBadMessage, "first message must be offer or resume, not %q", first.Type)
	}
}

// placeCall answers the offer and runs the call, reading the page's
// messages until it hangs up or leaves.
func (s *Server) placeCall(ctx context.Context, c *conn, number, from, offer string) {
	number = strings.TrimSpace(number)
	if number == "" {
		c.fail(CodeBadMessage, "no number to call: add ?number=... to the socket's URL")
		return
	}
	if from == "" {
		from = "web"
	}
	peer, ans, ok := s.answer(c, offer)
	if !ok {
		return
	}
	callCtx, hangup := context.WithCancel(s.ctx)
	wc := &webCall{token: newToken(), peer: peer, hangup: hangup, page: c}
	s.mu.Lock()
	s.calls[wc.token] = wc
	s.mu.Unlock()
	c.send(message{Type: "answer", SDP: ans})
	ended := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer hangup()
		ended <- s.cfg.Worker.ServeWebCall(callCtx, sipworker.WebCall{
			Peer: peer, From: from, To: number, Headers: map[string]string{"X-Channel": "webrtc"},
			Started: func(id string) {
				wc.mu.Lock()
				wc.callID = id
				wc.mu.Unlock()
				c.send(message{Type: "call", CallID: id, Token: wc.token})
			},
		})
	}()
	s.attend(ctx, c, wc, ended)
}

// attend reads the page's messages for the call until the call ends or
// the page leaves; a page that leaves has Grace to come back.
func (s *Server) attend(ctx context.Context, c *conn, wc *webCall, ended <-chan error) {
	msgs := make(chan message)
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			m, err := c.read(ctx)
			if err != nil {
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		select {
		case err := <-ended:
			s.forget(wc)
			wc.notify(callEnded(err))
			return
		case m := <-msgs:
			s.callMessage(c, wc, m)
		case <-gone:
			s.leave(wc, c, ended)
			return
		}
	}
}

// callEnded is the message a page gets when its call ended.
func callEnded(err error) message {
	switch {
	case err == nil:
		return message{Type: "ended"}
	case errors.Is(err, activities.ErrNoRoute):
		return message{Type: "error", Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, sipworker.ErrDraining):
		return message{Type: "error", Code: CodeUnavailable, Message: "try again shortly: " + err.Error()}
	}
	return message{Type: "error", Code: CodeFailed, Message: err.Error()}
}

func (s *Server) callMessage(c *conn, wc *webCall, m message) {
	switch m.Type {
	case "hangup":
		wc.hangup()
	case "restart":
		ctx, cancel := context.WithTimeout(s.ctx, answerTimeout)
		defer cancel()
		ans, err := wc.peer.Renegotiate(ctx, m.SDP)
		if err != nil {
			c.fail(CodeBadMessage, "ICE restart: %v", err)
			return
		}
		c.send(message{Type: "answer", SDP: ans})
	case "":
	default:
		c.fail(CodeBadMessage, "unknown message %q on a call", m.Type)
	}
}

// leave detaches the page: the call goes on for Grace, then hangs up
// unless a page resumed it. The call's end is still awaited here.
func (s *Server) leave(wc *webCall, c *conn, ended <-chan error) {
	wc.mu.Lock()
	if wc.page == c {
		wc.page = nil
		wc.away = time.AfterFunc(s.cfg.Grace, wc.hangup)
	}
	wc.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := <-ended
		s.forget(wc)
		wc.notify(callEnded(err))
	}()
}

// resumeCall attaches a new socket to a call whose page went away.
func (s *Server) resumeCall(ctx context.Context, c *conn, m message) {
	s.mu.Lock()
	wc := s.calls[m.Token]
	s.mu.Unlock()
	if wc == nil {
		c.fail(CodeNotFound, "no call to resume with that token (it ended, or the token is wrong)")
		return
	}
	actx, cancel := context.WithTimeout(ctx, answerTimeout)
	ans, err := wc.peer.Renegotiate(actx, m.SDP)
	cancel()
	if err != nil {
		c.fail(CodeBadMessage, "resume: %v", err)
		return
	}
	wc.mu.Lock()
	if wc.away != nil {
		wc.away.Stop()
		wc.away = nil
	}
	wc.page = c
	id := wc.callID
	wc.mu.Unlock()
	c.send(message{Type: "answer", SDP: ans})
	c.send(message{Type: "call", CallID: id, Token: wc.token})
	s.attendResumed(ctx, c, wc)
}

// attendResumed serves a resumed page until it leaves or the call ends.
func (s *Server) attendResumed(ctx context.Context, c *conn, wc *webCall) {
	for {
		m, err := c.read(ctx)
		if err != nil {
			wc.mu.Lock()
			if wc.page == c {
				wc.page = nil
				wc.away = time.AfterFunc(s.cfg.Grace, wc.hangup)
			}
			wc.mu.Unlock()
			return
		}
		s.callMessage(c, wc, m)
	}
}

func (s *Server) forget(wc *webCall) {
	s.mu.Lock()
	delete(s.calls, wc.token)
	s.mu.Unlock()
	wc.mu.Lock()
	if wc.away != nil {
		wc.away.Stop()
	}
	wc.mu.Unlock()
}

// notify tells the page attached now, if any.
func (wc *webCall) notify(m message) {
	wc.mu.Lock()
	p := wc.page
	wc.mu.Unlock()
	if p != nil {
		p.send(m)
		p.close("call ended")
	}
}

func newToken() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
