// Package browser is the signalling of browser channels: JSON messages
// over a WebSocket for a customer's call from a web page (click to call),
// an agent's desktop (rung by queues, answered in the page), a supervisor
// listening, whispering or barging in, and web chat. The media itself is
// WebRTC (media/webrtc) run by the media worker (media/sipworker) like a
// SIP call; chat runs on the text channel (media/text). The API server
// authenticates each socket before it hands it here (designer-api), so
// this package trusts the names it is given. docs/channels.md has the
// messages.
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/text"
	"github.com/voxflow/voxflow/media/webrtc"
)

// Defaults.
const (
	// DefaultMaxMessage bounds one signalling message (an SDP offer with
	// many candidates is a few KiB; a chat message is smaller).
	DefaultMaxMessage = 64 << 10
	// DefaultGrace is how long a call outlives its socket: a page that
	// reconnects within it (a network blip, a reload) resumes the call.
	DefaultGrace = 30 * time.Second
	// answerTimeout bounds answering an offer (gathering candidates).
	answerTimeout = 10 * time.Second
	// writeTimeout bounds sending one message to a page.
	writeTimeout = 5 * time.Second
)

// Config wires the signalling to the media worker.
type Config struct {
	// Transport answers WebRTC offers (required for voice).
	Transport *webrtc.Transport
	// Worker runs the calls' media (required for voice).
	Worker *sipworker.Worker
	// ScreenPop returns what the flow knows of a call (its variables,
	// path, current node) for an agent's desktop; nil: none.
	ScreenPop func(ctx context.Context, callID string) (json.RawMessage, error)
	// Journal records a supervisor's action in the call's timeline; nil:
	// not recorded.
	Journal func(ctx context.Context, e JournalEntry) error
	// Origins are the host patterns (path.Match) of the web sites whose
	// pages may open the public call and chat sockets; the API's own host
	// is always allowed.
	Origins []string
	// MaxMessage bounds one message (default DefaultMaxMessage); Grace is
	// how long a call waits for its page to reconnect (default DefaultGrace).
	MaxMessage int64
	Grace      time.Duration
	Logger     *slog.Logger

	// Web chat (ServeChat; all three required for it): Chat is the text
	// channel its sessions run on (a worker serves its media queue),
	// Routes finds the flow serving the number a page chats with and
	// StartCall starts the call's workflow (platform.CallStarter fits).
	Chat      *text.Channel
	Routes    activities.Routes
	StartCall func(ctx context.Context, call activities.CallStart) error
	// SaveTranscript keeps a chat's conversation when it ends, for its
	// CDR (store.SaveChatTranscript fits); nil: not kept.
	SaveTranscript func(ctx context.Context, callID string, lines []records.ChatLine) error
}

// JournalEntry is a supervisor's action on a call.
type JournalEntry struct {
	CallID string    `json:"call_id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // listen, whisper, barge, leave
	Detail string    `json:"detail,omitempty"`
}

// Server serves the signalling sockets.
type Server struct {
	cfg Config
	log *slog.Logger

	mu     sync.Mutex
	conns  map[*conn]struct{}  // open sockets, closed by Close
	calls  map[string]*webCall // by resume token
	agents map[string]*agentDesk
	chats  chatRegistry // web chats and their agents (chat.go)
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// New returns a Server.
func New(cfg Config) *Server {
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, log: cfg.Logger.With("part", "browser"), calls: map[string]*webCall{}, conns: map[*conn]struct{}{},
		agents: map[string]*agentDesk{}, ctx: ctx, cancel: cancel}
}

// Close closes every socket, ends every call and waits for them.
func (s *Server) Close() {
	s.cancel()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.ws.CloseNow() // no close handshake: the server is going
	}
	s.wg.Wait()
}

// message is every message a page sends, and most the server sends.
type message struct {
	Type    string `json:"type"`
	CallID  string `json:"call_id,omitempty"`
	SDP     string `json:"sdp,omitempty"`
	Token   string `json:"token,omitempty"`
	Mode    string `json:"mode,omitempty"`
	To      string `json:"to,omitempty"`
	Text    string `json:"text,omitempty"`
	On      bool   `json:"on,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// Error codes sent in {"type":"error"} messages.
const (
	CodeBadMessage  = "bad_message"
	CodeNoCodec     = "no_common_codec"
	CodeNotFound    = "not_found"
	CodeUnavailable = "unavailable"
	CodeNotYours    = "not_yours"
	CodeTooLarge    = "too_large"
	CodeFailed      = "failed"
)

// conn is one page's socket: JSON messages, one writer at a time.
type conn struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	log    *slog.Logger
	forget func()
}

// accept upgrades the request; public sockets may come from cfg.Origins.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, public bool) (*conn, bool) {
	opts := &websocket.AcceptOptions{}
	if public {
		opts.OriginPatterns = s.cfg.Origins
	}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		s.log.Info("websocket refused", "path", r.URL.Path, "error", err)
		return nil, false
	}
	ws.SetReadLimit(s.cfg.MaxMessage)
	c := &conn{ws: ws, log: s.log}
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	c.forget = func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}
	return c, true
}

// send writes one message; a page that is gone is not an error worth more
// than a debug line (its call goes on until the grace runs out).
func (c *conn) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.log.Error("encode message", "error", err)
		return
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.log.Debug("send to page", "error", err)
	}
}

func (c *conn) fail(code, format string, args ...any) {
	c.send(message{Type: "error", Code: code, Message: fmt.Sprintf(format, args...)})
}

// read returns the next message. A message over the limit closes the
// socket with 1009 (message too big), which is the page's error; a call
// outlives its socket by the grace period.
func (c *conn) read(ctx context.Context) (message, error) {
	_, b, err := c.ws.Read(ctx)
	if err != nil {
		return message{}, err
	}
	var m message
	if err := json.Unmarshal(b, &m); err != nil || m.Type == "" {
		c.fail(CodeBadMessage, "not a signalling message: want JSON with a \"type\"")
		return message{Type: ""}, nil
	}
	return m, nil
}

func (c *conn) close(reason string) {
	_ = c.ws.Close(websocket.StatusNormalClosure, reason)
	if c.forget != nil {
		c.forget()
	}
}

// answer answers an offer, telling the page what went wrong when it cannot.
func (s *Server) answer(c *conn, offer string) (*webrtc.Peer, string, bool) {
	if s.cfg.Transport == nil || s.cfg.Worker == nil {
		c.fail(CodeUnavailable, "voice is not served here")
		return nil, "", false
	}
	ctx, cancel := context.WithTimeout(s.ctx, answerTimeout)
	defer cancel()
	peer, ans, err := s.cfg.Transport.Answer(ctx, offer)
	switch {
	case errors.Is(err, webrtc.ErrNoCommonCodec):
		c.fail(CodeNoCodec, "%v", err)
	case errors.Is(err, webrtc.ErrBadOffer):
		c.fail(CodeBadMessage, "%v", err)
	case err != nil:
		c.fail(CodeFailed, "answer the offer: %v", err)
	}
	return peer, ans, err == nil
}
