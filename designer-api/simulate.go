package designerapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/voxflow/voxflow/activities"
)

// Simulated-call event kinds.
const (
	SimPrompt   = "prompt"   // the flow said something (Text) at Node
	SimListen   = "listen"   // the flow waits for caller input at Node
	SimInput    = "input"    // what the caller did (Text)
	SimNode     = "node"     // the call moved to Node (Text: the previous node)
	SimTransfer = "transfer" // the caller was transferred (Text: where)
	SimRecord   = "record"   // a recording was taken (Text: its reference)
	SimHangup   = "hangup"   // the flow hung up (Text: reason)
	SimAI       = "ai"       // an intent or llm node's turn at Node (Text: records.AITurn as JSON); it does not move the call
	SimEnd      = "end"      // the call is over: Outcome, Path, Error; always last
)

// SimEvent is one thing that happened on a simulated call.
type SimEvent struct {
	ID      int      `json:"id" doc:"1-based position in the call's event stream (the SSE id)"`
	Kind    string   `json:"kind" enum:"prompt,listen,input,node,transfer,record,hangup,ai,end"`
	Node    string   `json:"node,omitempty"`
	Text    string   `json:"text,omitempty" doc:"What was said, typed or done; ai: the node's turn as JSON (utterance, intent, confidence, slots, reply, tool, source, model, error)"`
	Outcome string   `json:"outcome,omitempty"`
	Path    []string `json:"path,omitempty" doc:"Every node the call went through (end only)"`
	Error   string   `json:"error,omitempty"`
}

// SimRequest is a simulated call to place.
type SimRequest struct {
	// CallID is chosen by the API; the simulator must use it.
	CallID   string
	Flow     activities.FlowSource
	From, To string
	Vars     map[string]any
}

// Simulator places simulated calls on a text channel. temporalops.NewSimulator
// implements it on a Temporal client; tests use fakes.
type Simulator interface {
	// Start places the call. ctx bounds only the start: the call runs on
	// after Start returns. emit receives every event in order, from any
	// goroutine, and must end with exactly one SimEnd (also when the call
	// fails); IDs are assigned by the API.
	Start(ctx context.Context, req SimRequest, emit func(SimEvent)) error
	// Send delivers caller input (see text.ParseInput: digits, words,
	// "hangup", "" for silence).
	Send(ctx context.Context, callID, input string) error
}

var reflectSimEvent = reflect.TypeFor[SimEvent]()

var (
	errSimNotFound = errors.New("simulated call not found (finished calls are kept for 10 minutes)")
	errSimEnded    = errors.New("the simulated call has ended")
	errSimLimit    = errors.New("too many simulated calls running; try again when one ends")
)

// Simulation limits.
const (
	maxLiveSims  = 64
	simKeep      = 10 * time.Minute
	sseKeepAlive = 15 * time.Second
)

type simCall struct {
	id, flow string
	mu       sync.Mutex
	events   []SimEvent
	node     string
	done     bool
	endedAt  time.Time
	changed  chan struct{} // closed and replaced on every append
}

// append adds e (and a node change before it when e is at a new node).
func (c *simCall) append(e SimEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return
	}
	if e.Kind != SimNode && e.Kind != SimEnd && e.Kind != SimAI && e.Node != "" && e.Node != c.node {
		c.add(SimEvent{Kind: SimNode, Node: e.Node, Text: c.node})
	}
	if e.Kind == SimNode {
		if e.Node == c.node {
			return
		}
		e.Text = c.node
	}
	c.add(e)
	if e.Kind == SimEnd {
		c.done = true
		c.endedAt = time.Now()
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *simCall) add(e SimEvent) {
	e.ID = len(c.events) + 1
	if e.Kind == SimNode {
		c.node = e.Node
	}
	c.events = append(c.events, e)
}

// since returns events after ID after, whether the call is over, and a
// channel closed on the next change.
func (c *simCall) since(after int) ([]SimEvent, bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	after = max(0, min(after, len(c.events)))
	return append([]SimEvent(nil), c.events[after:]...), c.done, c.changed
}

type simHub struct {
	sim   Simulator
	mu    sync.Mutex
	calls map[string]*simCall
}

func newSimHub(sim Simulator) *simHub {
	return &simHub{sim: sim, calls: map[string]*simCall{}}
}

func newCallID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("call id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // UUID v4 layout
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

func (h *simHub) start(ctx context.Context, req SimRequest) (*simCall, error) {
	id, err := newCallID()
	if err != nil {
		return nil, err
	}
	req.CallID = id
	c := &simCall{id: id, flow: req.Flow.Name, changed: make(chan struct{})}
	h.mu.Lock()
	live := 0
	for k, old := range h.calls {
		old.mu.Lock()
		done, ended := old.done, old.endedAt
		old.mu.Unlock()
		if done && time.Since(ended) > simKeep {
			delete(h.calls, k)
		} else if !done {
			live++
		}
	}
	if live >= maxLiveSims {
		h.mu.Unlock()
		return nil, errSimLimit
	}
	h.calls[id] = c
	h.mu.Unlock()
	if err := h.sim.Start(ctx, req, c.append); err != nil {
		h.mu.Lock()
		delete(h.calls, id)
		h.mu.Unlock()
		return nil, fmt.Errorf("start simulated call of %s: %w", req.Flow.Name, err)
	}
	return c, nil
}

func (h *simHub) get(id string) (*simCall, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.calls[id]
	if !ok {
		return nil, fmt.Errorf("simulated call %s: %w", id, errSimNotFound)
	}
	return c, nil
}

type simulateInput struct {
	Body struct {
		Flow    string         `json:"flow,omitempty" doc:"Flow name (required unless source is given)"`
		Version string         `json:"version,omitempty" doc:"draft, latest or a version number; default: the draft if any, else latest"`
		Source  string         `json:"source,omitempty" maxLength:"1048576" doc:"Simulate this unsaved source instead of a stored one"`
		From    string         `json:"from,omitempty" maxLength:"64" default:"+15550100"`
		To      string         `json:"to,omitempty" maxLength:"64" default:"simulator"`
		Vars    map[string]any `json:"vars,omitempty" doc:"Override the flow's initial variables"`
	}
}

// SimStarted is a started simulated call.
type SimStarted struct {
	CallID    string `json:"call_id"`
	Flow      string `json:"flow"`
	Source    string `json:"source" doc:"Which source runs: draft, vN or body"`
	EventsURL string `json:"events_url"`
}

type simStartedOutput struct {
	Body SimStarted
}

// SimIDParam is the path parameter naming a simulated call.
type SimIDParam struct {
	CallID string `path:"id" pattern:"^[A-Za-z0-9_.:-]{1,128}$"`
}

type simSendInput struct {
	SimIDParam
	Body struct {
		Input string `json:"input" maxLength:"256" doc:"Digits (1, 1234#), words (or say:words), hangup, or empty for silence"`
	}
}

type simEventsInput struct {
	SimIDParam
	LastEventID string `header:"Last-Event-ID" doc:"Resume after this event ID (browsers send it on reconnect)"`
	After       int    `query:"after" minimum:"0" doc:"Resume after this event ID"`
}

// SimStatus is a simulated call's events so far.
type SimStatus struct {
	CallID string     `json:"call_id"`
	Flow   string     `json:"flow"`
	Done   bool       `json:"done"`
	Events []SimEvent `json:"events"`
}

type simStatusOutput struct {
	Body SimStatus
}

func (s *server) needSim() error {
	if s.cfg.Sim == nil {
		return huma.Error503ServiceUnavailable("the simulator is not available: no Temporal connection configured")
	}
	return nil
}

func simOp(id, method, path, summary string) huma.Operation {
	return op(id, method, path, RoleDesigner, "Simulator", summary)
}

func (s *server) registerSimulate(api huma.API) {
	o := s.withFlowProblem(simOp("start-simulation", http.MethodPost, "/simulate",
		"Start a simulated call of a flow (stored draft or version, or an unsaved source) on a text channel"))
	o.DefaultStatus = http.StatusCreated
	o.MaxBodyBytes = maxFlowBody
	huma.Register(api, o, requires(s.needSim, s.startSimulation))

	o = simOp("send-simulation-input", http.MethodPost, "/simulate/{id}/input", "Send caller input to a simulated call")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, requires(s.needSim, s.sendSimulationInput))

	huma.Register(api, simOp("get-simulation", http.MethodGet, "/simulate/{id}", "A simulated call's events so far (for polling clients)"),
		requires(s.needSim, s.getSimulation))

	o = simOp("stream-simulation-events", http.MethodGet, "/simulate/{id}/events",
		"Server-Sent Events of a simulated call: prompt, listen, input, node, transfer, record, hangup, ai (an intent or llm node's turn), and a final end. "+
			"Each event's id resumes the stream (Last-Event-ID or ?after=).")
	o.Responses = map[string]*huma.Response{"200": {
		Description: "text/event-stream; each data line is a SimEvent as JSON, the event name is its kind",
		Content: map[string]*huma.MediaType{"text/event-stream": {
			Schema: s.api.OpenAPI().Components.Schemas.Schema(reflectSimEvent, true, ""),
		}},
	}}
	huma.Register(api, o, requires(s.needSim, s.streamSimulationEvents))
}

func (s *server) startSimulation(ctx context.Context, in *simulateInput) (*simStartedOutput, error) {
	b := in.Body
	fs, label, err := s.simSource(ctx, b.Flow, b.Version, b.Source)
	if err != nil {
		return nil, err
	}
	f, ds := checkSource(b.Flow, fs.Source, label)
	if f == nil || hasErrors(ds) {
		return nil, invalidFlow("cannot simulate "+label, ds)
	}
	fs.Name = f.Name
	if b.Flow != "" {
		fs.Name = b.Flow
	}
	c, err := s.sims.start(ctx, SimRequest{Flow: fs, From: b.From, To: b.To, Vars: b.Vars})
	if err != nil {
		return nil, s.fail("start simulation", err)
	}
	return &simStartedOutput{Body: SimStarted{CallID: c.id, Flow: fs.Name, Source: label,
		EventsURL: Prefix + "/simulate/" + c.id + "/events"}}, nil
}

// simSource picks the source to simulate: the unsaved src when given, else
// the stored flow's version ref (default: the draft if any, else latest).
// It returns the source and its label: body, draft or vN. Only a stored
// flow needs the store.
func (s *server) simSource(ctx context.Context, flow, ref, src string) (activities.FlowSource, string, error) {
	fs := activities.FlowSource{Name: flow}
	switch {
	case src != "":
		fs.Source = src
		return fs, "body", nil
	case flow == "":
		return fs, "", huma.Error422UnprocessableEntity("set flow (a stored flow) or source",
			&huma.ErrorDetail{Message: "required", Location: "body.flow"})
	}
	if err := s.needStore(); err != nil {
		return fs, "", err
	}
	if ref == "" {
		ref = "current"
	}
	label, stored, err := s.sourceOf(ctx, flow, ref)
	if err != nil {
		return fs, "", err
	}
	fs.Source = stored
	if strings.HasPrefix(label, "v") {
		fs.Version, _ = strconv.Atoi(label[1:])
	}
	return fs, label, nil
}

func (s *server) sendSimulationInput(ctx context.Context, in *simSendInput) (*struct{}, error) {
	c, err := s.sims.get(in.CallID)
	if err != nil {
		return nil, s.fail("send input", err)
	}
	if _, done, _ := c.since(1 << 30); done {
		return nil, s.fail("send input", errSimEnded)
	}
	if err := s.cfg.Sim.Send(ctx, in.CallID, in.Body.Input); err != nil {
		return nil, s.fail("send input", err)
	}
	return nil, nil
}

func (s *server) getSimulation(ctx context.Context, in *SimIDParam) (*simStatusOutput, error) {
	c, err := s.sims.get(in.CallID)
	if err != nil {
		return nil, s.fail("get simulation", err)
	}
	evs, done, _ := c.since(0)
	if evs == nil {
		evs = []SimEvent{}
	}
	return &simStatusOutput{Body: SimStatus{CallID: c.id, Flow: c.flow, Done: done, Events: evs}}, nil
}

func (s *server) streamSimulationEvents(ctx context.Context, in *simEventsInput) (*huma.StreamResponse, error) {
	c, err := s.sims.get(in.CallID)
	if err != nil {
		return nil, s.fail("stream simulation", err)
	}
	after := in.After
	if n, err := strconv.Atoi(strings.TrimSpace(in.LastEventID)); err == nil && n > after {
		after = n
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) { streamSim(hctx, c, after) }}, nil
}

// streamSim writes a call's events as SSE until its end event or until the
// client goes away.
func streamSim(hctx huma.Context, c *simCall, after int) {
	_, w := humago.Unwrap(hctx)
	rc := http.NewResponseController(w)
	hctx.SetHeader("Content-Type", "text/event-stream")
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("X-Accel-Buffering", "no")
	hctx.SetStatus(http.StatusOK)
	ctx := hctx.Context()
	keepAlive := time.NewTicker(sseKeepAlive)
	defer keepAlive.Stop()
	write := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	for {
		evs, done, changed := c.since(after)
		for _, e := range evs {
			data, _ := json.Marshal(e)
			if !write(fmt.Appendf(nil, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Kind, data)) {
				return
			}
			after = e.ID
		}
		if done {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-keepAlive.C:
			if !write([]byte(": keep-alive\n\n")) {
				return
			}
		}
	}
}
