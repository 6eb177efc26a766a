package browser

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/text"
)

// Web chat: the flow a phone caller reaches, as text, on the text channel
// (Config.Chat). The page opens the socket with ?number=N (and optionally
// from=NAME) and sends {"type":"start"}; it gets {"type":"chat","call_id",
// "token"}, then {"type":"message","from":"flow"|"agent"|"you","text","at"}
// for every line of the conversation, {"type":"listen"} when the flow
// waits for an answer, {"type":"agent","name"} and {"type":"agent_left",
// "name"} when an agent joins or leaves, and {"type":"ended"} at the end.
// It sends {"type":"message","text"} (digits or words answer a menu) and
// {"type":"hangup"}. A page that lost its socket sends {"type":"resume",
// "token"} within the grace period and gets the transcript so far
// ({"type":"transcript","messages"}); after the grace the customer counts
// as gone.
//
// A transfer to agent:NAME offers the chat to that agent's desk:
// {"type":"chat_offer","call_id","from","to","screen_pop","transcript"};
// the desk answers chat_accept or chat_decline, then exchanges
// {"type":"chat_message","call_id","text"} (the customer's come with
// "from":"customer") until it sends chat_end, or gets {"type":"chat_ended"}
// when the customer left or the offer was withdrawn.

// Web chat limits and names.
const (
	// ChannelChat is call.channel of a web chat.
	ChannelChat = "chat"
	// MaxChatText bounds one chat message in characters (the customer's or
	// an agent's); the socket's read limit stays Config.MaxMessage.
	MaxChatText = 2000
	// chatTimeout bounds starting a chat's flow, telling it the customer
	// left and saving its transcript.
	chatTimeout = 10 * time.Second
	// deskBacklog bounds an agent's messages not yet shown to the customer.
	deskBacklog = 64
)

// chatRegistry is the server's web chats, by resume token and by call, and
// the chats offered to or held by agents' desks. Its zero value is ready.
type chatRegistry struct {
	mu      sync.Mutex
	byToken map[string]*webChat
	byCall  map[string]*webChat
	legs    map[legKey]*deskLeg
}

type legKey struct{ agent, callID string }

func (r *chatRegistry) add(wc *webChat) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byToken == nil {
		r.byToken, r.byCall = map[string]*webChat{}, map[string]*webChat{}
	}
	r.byToken[wc.token], r.byCall[wc.callID] = wc, wc
}

func (r *chatRegistry) remove(wc *webChat) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.byToken, wc.token)
	delete(r.byCall, wc.callID)
}

func (r *chatRegistry) resumable(token string) *webChat {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byToken[token]
}

func (r *chatRegistry) chat(callID string) *webChat {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.byCall[callID]
}

// putLeg registers an offer, returning the one it replaces.
func (r *chatRegistry) putLeg(l *deskLeg) *deskLeg {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.legs == nil {
		r.legs = map[legKey]*deskLeg{}
	}
	k := legKey{l.agent, l.callID}
	old := r.legs[k]
	r.legs[k] = l
	return old
}

func (r *chatRegistry) leg(agent, callID string) *deskLeg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.legs[legKey{agent, callID}]
}

func (r *chatRegistry) dropLeg(l *deskLeg) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k := (legKey{l.agent, l.callID}); r.legs[k] == l {
		delete(r.legs, k)
	}
}

func (r *chatRegistry) agentLegs(agent string) []*deskLeg {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*deskLeg
	for k, l := range r.legs {
		if k.agent == agent {
			out = append(out, l)
		}
	}
	return out
}

// webChat is a live web chat, reachable by its resume token.
type webChat struct {
	s      *Server
	token  string
	callID string
	sess   *text.Session
	// gone ends when the customer left (hangup, or no page for the
	// grace period); leave ends it.
	gone  context.Context
	leave context.CancelFunc

	mu        sync.Mutex
	page      *conn // the socket now attached; nil while the page is away
	away      *time.Timer
	lines     []records.ChatLine
	listening bool   // the flow waits for the customer
	agent     string // the agent chatting now
	over      bool
}

// chatOut is a message to a chat page (besides lines and transcripts).
type chatOut struct {
	Type   string `json:"type"`
	CallID string `json:"call_id,omitempty"`
	Token  string `json:"token,omitempty"`
	Name   string `json:"name,omitempty"`
}

// pageLine is a line of the conversation as a page sees it.
type pageLine struct {
	Type string    `json:"type,omitempty"` // "message"; none inside a transcript
	From string    `json:"from"`           // flow, agent, you
	Name string    `json:"name,omitempty"` // the agent's
	Text string    `json:"text"`
	At   time.Time `json:"at"`
}

type transcriptOut struct {
	Type     string     `json:"type"`
	Messages []pageLine `json:"messages"`
}

func toPage(l records.ChatLine) pageLine {
	from := l.From
	if from == records.ChatCustomer {
		from = "you"
	}
	return pageLine{From: from, Name: l.Name, Text: l.Text, At: l.At}
}

// ServeChat serves a customer's chat socket (public, like ServeCall).
func (s *Server) ServeChat(w http.ResponseWriter, r *http.Request) {
	c, ok := s.accept(w, r, true)
	if !ok {
		return
	}
	defer c.close("chat ended")
	ctx := r.Context()
	first, err := c.read(ctx)
	if err != nil {
		return
	}
	var wc *webChat
	switch first.Type {
	case "start":
		q := r.URL.Query()
		wc = s.startChat(ctx, c, q.Get("number"), q.Get("from"))
	case "resume":
		wc = s.resumeChat(c, first.Token)
	case "": // not JSON: the page was told
	default:
		c.fail(CodeBadMessage, "first message must be start or resume, not %q", first.Type)
	}
	if wc != nil {
		s.attendChat(ctx, c, wc)
	}
}

// startChat finds the number's flow, opens the chat's session and starts
// its workflow, telling the page what went wrong when it cannot.
func (s *Server) startChat(ctx context.Context, c *conn, number, from string) *webChat {
	if s.cfg.Chat == nil || s.cfg.Routes == nil || s.cfg.StartCall == nil || s.ctx.Err() != nil {
		c.fail(CodeUnavailable, "chat is not served here")
		return nil
	}
	if number = strings.TrimSpace(number); number == "" {
		c.fail(CodeBadMessage, "no number to chat with: add ?number=... to the socket's URL")
		return nil
	}
	if from = strings.TrimSpace(from); from == "" {
		from = "web"
	}
	ctx, cancel := context.WithTimeout(ctx, chatTimeout)
	defer cancel()
	route, err := s.cfg.Routes.Route(ctx, number)
	switch {
	case errors.Is(err, activities.ErrNoRoute):
		c.fail(CodeNotFound, "number %q: %v", number, err)
		return nil
	case err != nil:
		c.fail(CodeFailed, "route number %q: %v", number, err)
		return nil
	}
	wc := s.openChat(c, from)
	err = s.cfg.StartCall(ctx, activities.CallStart{CallID: wc.callID, From: from, To: number, Channel: ChannelChat,
		StartedAt: time.Now().UTC(), Flow: route.Flow, MediaQueue: s.cfg.Chat.Queue()})
	if err != nil {
		s.chats.remove(wc)
		wc.leave()
		s.cfg.Chat.Close(wc.callID)
		c.fail(CodeFailed, "start the chat's flow: %v", err)
		return nil
	}
	s.log.Info("web chat", "call", wc.callID, "from", from, "to", number, "flow", route.Flow.Name, "version", route.Flow.Version)
	c.send(chatOut{Type: "chat", CallID: wc.callID, Token: wc.token})
	s.wg.Add(1)
	go s.runChat(wc)
	return wc
}

// openChat opens the session of a new chat with page c attached; its
// transfers to agent:NAME reach the desks on this server.
func (s *Server) openChat(c *conn, from string) *webChat {
	gone, leave := context.WithCancel(s.ctx)
	wc := &webChat{s: s, token: newToken(), callID: uuid.NewString(), gone: gone, leave: leave, page: c}
	wc.sess = s.cfg.Chat.OpenChat(wc.callID, text.ChatOptions{From: from, Desks: deskReach{s}})
	s.chats.add(wc)
	return wc
}

// runChat turns the session's events into the transcript and the page's
// messages until the session ends: the flow hung up, or the customer left.
func (s *Server) runChat(wc *webChat) {
	defer s.wg.Done()
	gone := wc.gone.Done()
	for {
		select {
		case e := <-wc.sess.Events():
			wc.event(e)
		case <-gone:
			gone = nil
			s.customerLeft(wc)
		case <-wc.sess.Done():
			for drained := false; !drained; {
				select {
				case e := <-wc.sess.Events():
					wc.event(e)
				default:
					drained = true
				}
			}
			s.endChat(wc)
			return
		}
	}
}

// customerLeft tells the workflow and closes the session (text.Leave).
func (s *Server) customerLeft(wc *webChat) {
	ctx, cancel := context.WithTimeout(context.Background(), chatTimeout)
	defer cancel()
	if err := s.cfg.Chat.Leave(ctx, wc.callID); err != nil {
		s.log.Warn("web chat: customer left", "call", wc.callID, "error", err)
	}
}

// endChat keeps the transcript and tells the page, once the session ended.
func (s *Server) endChat(wc *webChat) {
	s.chats.remove(wc)
	wc.leave()
	wc.mu.Lock()
	wc.over = true
	if wc.away != nil {
		wc.away.Stop()
	}
	lines := slices.Clone(wc.lines)
	page := wc.page
	wc.page = nil
	wc.mu.Unlock()
	// Saved before the page hears of the end, so a page (or test) that
	// asks for the record next finds it.
	s.saveTranscript(wc.callID, lines)
	if page != nil {
		page.send(chatOut{Type: "ended"})
		page.close("chat ended")
	}
}

func (s *Server) saveTranscript(callID string, lines []records.ChatLine) {
	if s.cfg.SaveTranscript == nil || len(lines) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), chatTimeout)
	defer cancel()
	if err := s.cfg.SaveTranscript(ctx, callID, lines); err != nil {
		s.log.Warn("web chat: save the transcript", "call", callID, "error", err)
	}
}

// event turns one of the session's events into the page's message.
func (wc *webChat) event(e text.Event) {
	switch e.Kind {
	case text.EventPrompt:
		wc.say(records.ChatFlow, e.Text)
	case text.EventAgentMessage:
		wc.say(records.ChatAgent, e.Text)
	case text.EventListen:
		wc.update(func() { wc.listening = true }, chatOut{Type: "listen"})
	case text.EventAgent:
		wc.update(func() { wc.agent = e.Text }, chatOut{Type: "agent", Name: e.Text})
	case text.EventAgentLeft:
		wc.update(func() { wc.agent = "" }, chatOut{Type: "agent_left", Name: e.Text})
	}
}

// update changes the chat's state and tells the page attached now; both
// under mu, so a page resuming meanwhile gets either the state or the
// message, never neither and never both.
func (wc *webChat) update(change func(), m any) {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if wc.over {
		return
	}
	change()
	if wc.page != nil {
		wc.page.send(m)
	}
}

// say adds a line to the transcript and shows it on the page; an agent's
// line carries the name of the agent chatting now.
func (wc *webChat) say(from, text string) {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if wc.over {
		return
	}
	l := records.ChatLine{At: time.Now().UTC(), From: from, Text: text}
	switch from {
	case records.ChatAgent:
		l.Name = wc.agent
	case records.ChatCustomer:
		wc.listening = false
	}
	wc.lines = append(wc.lines, l)
	if wc.page != nil {
		out := toPage(l)
		out.Type = "message"
		wc.page.send(out)
	}
}

func (wc *webChat) transcript() []records.ChatLine {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	return slices.Clone(wc.lines)
}

// attendChat reads the page's messages until it leaves or the chat ends;
// a page that leaves has the grace period to come back.
func (s *Server) attendChat(ctx context.Context, c *conn, wc *webChat) {
	for {
		m, err := c.read(ctx)
		if err != nil {
			wc.detach(c)
			return
		}
		switch m.Type {
		case "message":
			wc.customerSays(c, m.Text)
		case "hangup":
			wc.leave() // runChat ends the chat and tells the page
		case "": // not JSON: the page was told
		default:
			c.fail(CodeBadMessage, "unknown message %q in a chat", m.Type)
		}
	}
}

// customerSays passes on what the customer typed: to the flow, or to the
// agent chatting with them (text.Session.Chat).
func (wc *webChat) customerSays(c *conn, line string) {
	line, ok := chatText(c, line)
	if !ok {
		return
	}
	wc.say(records.ChatCustomer, line)
	switch err := wc.sess.Chat(line); {
	case errors.Is(err, text.ErrEnded): // the page hears of the end
	case errors.Is(err, text.ErrBusy):
		c.fail(CodeUnavailable, "%v", err)
	case err != nil:
		c.fail(CodeFailed, "%v", err)
	}
}

// detach lets page c go: the chat waits the grace period for a page to
// resume it, then counts the customer as gone.
func (wc *webChat) detach(c *conn) {
	wc.mu.Lock()
	defer wc.mu.Unlock()
	if wc.page != c || wc.over {
		return
	}
	wc.page = nil
	wc.away = time.AfterFunc(wc.s.cfg.Grace, wc.leave)
}

// resumeChat attaches a new page to a chat by its token.
func (s *Server) resumeChat(c *conn, token string) *webChat {
	wc := s.chats.resumable(token)
	if wc == nil || !wc.attach(c) {
		c.fail(CodeNotFound, "no chat to resume with that token (it ended, or the token is wrong)")
		return nil
	}
	return wc
}

// attach makes c the chat's page and catches it up: the transcript, the
// agent chatting and whether the flow waits for an answer. A page still
// attached (another tab) is replaced.
func (wc *webChat) attach(c *conn) bool {
	wc.mu.Lock()
	if wc.over || wc.gone.Err() != nil { // ended, or the customer left for good
		wc.mu.Unlock()
		return false
	}
	if wc.away != nil {
		wc.away.Stop()
		wc.away = nil
	}
	old := wc.page
	wc.page = c
	lines := make([]pageLine, len(wc.lines))
	for i, l := range wc.lines {
		lines[i] = toPage(l)
	}
	c.send(chatOut{Type: "chat", CallID: wc.callID, Token: wc.token})
	c.send(transcriptOut{Type: "transcript", Messages: lines})
	if wc.agent != "" {
		c.send(chatOut{Type: "agent", Name: wc.agent})
	}
	if wc.listening {
		c.send(chatOut{Type: "listen"})
	}
	wc.mu.Unlock()
	if old != nil {
		old.send(message{Type: "replaced", Message: "the chat was opened elsewhere"})
		old.close("replaced")
	}
	return true
}

// deskReach offers chats to the agents' desks on this server
// (text.ChatDesks).
type deskReach struct{ s *Server }

// chatOfferMessage offers a chat to a desk: what the flow knows of the
// customer and the conversation so far.
type chatOfferMessage struct {
	Type       string             `json:"type"`
	CallID     string             `json:"call_id"`
	From       string             `json:"from"`
	To         string             `json:"to"`
	ScreenPop  json.RawMessage    `json:"screen_pop,omitempty"`
	Transcript []records.ChatLine `json:"transcript"`
}

// deskLine is a customer's line shown on a desk.
type deskLine struct {
	Type   string `json:"type"`
	CallID string `json:"call_id"`
	From   string `json:"from"`
	Text   string `json:"text"`
}

// Offer offers the chat to agent's desk (text.ChatDesks): nil, nil when
// no page of theirs is open, they declined, or ctx ended first.
func (d deskReach) Offer(ctx context.Context, agent string, o text.ChatOffer) (text.DeskChat, error) {
	s := d.s
	page := s.deskPage(agent)
	if page == nil {
		return nil, nil
	}
	l := &deskLeg{s: s, agent: agent, callID: o.CallID,
		answer: make(chan bool, 1), from: make(chan string, deskBacklog), ended: make(chan struct{})}
	if old := s.chats.putLeg(l); old != nil {
		old.end(false)
	}
	lines := []records.ChatLine{}
	if wc := s.chats.chat(o.CallID); wc != nil {
		lines = wc.transcript()
	}
	page.send(chatOfferMessage{Type: "chat_offer", CallID: o.CallID, From: o.From, To: o.To,
		ScreenPop: s.screenPop(ctx, o.CallID), Transcript: lines})
	select {
	case ok := <-l.answer:
		if ok {
			return l, nil
		}
	case <-l.ended: // the desk went away
		return nil, nil
	case <-ctx.Done():
	case <-s.ctx.Done():
	}
	l.end(true) // declined or withdrawn: the desk drops the offer
	return nil, nil
}

// deskLeg is a chat offered to or held by an agent's desk (text.DeskChat).
type deskLeg struct {
	s      *Server
	agent  string
	callID string
	answer chan bool   // the desk accepted (true) or declined
	from   chan string // the agent's messages
	ended  chan struct{}
	once   sync.Once

	mu       sync.Mutex
	accepted bool
}

func (l *deskLeg) FromAgent() <-chan string { return l.from }
func (l *deskLeg) Ended() <-chan struct{}   { return l.ended }

// ToAgent shows the agent the customer's line.
func (l *deskLeg) ToAgent(text string) {
	l.s.toDesk(l.agent, deskLine{Type: "chat_message", CallID: l.callID, From: records.ChatCustomer, Text: text})
}

// Close ends the chat from the customer's side: the desk is told.
func (l *deskLeg) Close() { l.end(true) }

// end ends the leg once; tellDesk when the desk did not end it itself.
func (l *deskLeg) end(tellDesk bool) {
	l.once.Do(func() {
		close(l.ended)
		l.s.chats.dropLeg(l)
		if tellDesk {
			l.s.toDesk(l.agent, message{Type: "chat_ended", CallID: l.callID})
		}
	})
}

func (l *deskLeg) isAccepted() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.accepted
}

// deskPage is agent's desk's page now, if one is open.
func (s *Server) deskPage(agent string) *conn {
	s.mu.Lock()
	d := s.agents[agent]
	s.mu.Unlock()
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.page
}

// toDesk sends to agent's desk page; while the desk is away (a reload)
// the message is lost, as the page's own would be.
func (s *Server) toDesk(agent string, v any) {
	if p := s.deskPage(agent); p != nil {
		p.send(v)
		return
	}
	s.log.Debug("web chat: desk away", "agent", agent)
}

// endDeskChats ends every chat of agent's desk when the desk closes for
// good: their customers go back to their flows. agentDesk.close calls it.
func (s *Server) endDeskChats(agent string) {
	for _, l := range s.chats.agentLegs(agent) {
		l.end(false)
	}
}

// chatMessage serves the desk's chat messages: chat_accept, chat_decline,
// chat_message and chat_end.
func (d *agentDesk) chatMessage(c *conn, m message) {
	l := d.s.chats.leg(d.name, m.CallID)
	if l == nil {
		c.fail(CodeNotYours, "chat %q is not offered to or held by your desk", m.CallID)
		return
	}
	switch {
	case m.Type == "chat_accept" || m.Type == "chat_decline" || (m.Type == "chat_end" && !l.isAccepted()):
		accept := m.Type == "chat_accept"
		select {
		case l.answer <- accept:
			l.mu.Lock()
			l.accepted = accept
			l.mu.Unlock()
		default: // answered twice: the first answer counts
		}
	case m.Type == "chat_end":
		l.end(false)
	case !l.isAccepted():
		c.fail(CodeNotYours, "accept chat %q before writing in it", m.CallID)
	default:
		d.agentSays(c, l, m.Text)
	}
}

// agentSays passes the agent's line on to the customer.
func (d *agentDesk) agentSays(c *conn, l *deskLeg, line string) {
	line, ok := chatText(c, line)
	if !ok {
		return
	}
	select {
	case l.from <- line:
	default:
		c.fail(CodeUnavailable, "too many messages not yet shown to the customer: wait a moment")
	}
}

// chatText trims a chat line and checks it is neither empty nor over
// MaxChatText characters, telling the page when it is (the chat goes on).
func chatText(c *conn, line string) (string, bool) {
	line = strings.TrimSpace(line)
	switch n := utf8.RuneCountInString(line); {
	case n == 0:
		c.fail(CodeBadMessage, "a message needs text")
		return "", false
	case n > MaxChatText:
		c.fail(CodeTooLarge, "a chat message holds at most %d characters; this one has %d", MaxChatText, n)
		return "", false
	}
	return line, true
}
