package sipworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipguard"
)

// lookupTimeout bounds the store look-ups made while the caller waits.
const lookupTimeout = 5 * time.Second

// screen runs before diago sees a request: it rejects initial INVITEs that
// are malformed (400), arrive while draining or over the admission limits
// (503) or carry an SDP offer we cannot answer (488), before any dialog or
// media is set up for them.
func (w *Worker) screen(next sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if req.IsInvite() && hasToTag(req) {
			w.noteOffer(req) // a re-INVITE: hold or resume
		}
		if req.IsInvite() && !hasToTag(req) {
			tx = w.countFinal(tx) // counts the final answer, rejections included
			if missing := missingHeaders(req); missing != "" {
				w.log.Info("rejected INVITE", "code", 400, "reason", "missing "+missing, "source", req.Source())
				w.respond(req, tx, sip.StatusBadRequest, "Bad Request (missing "+missing+")")
				return
			}
			if w.refusing() {
				w.respond(req, tx, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", retryAfter))
				return
			}
			release, ok := w.admit(req, tx) // before parsing the SDP: a flood costs little
			if !ok {
				return
			}
			// diago runs the whole call (serveDialog) inside next: when it
			// returns the call has ended, however it ended.
			defer release()
			if ct := req.ContentType(); len(req.Body()) > 0 && (ct == nil || !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp")) {
				w.respond(req, tx, sip.StatusUnsupportedMediaType, "Unsupported Media Type", sip.NewHeader("Accept", "application/sdp"))
				return
			}
			if err := checkOffer(req.Body()); err != nil {
				w.log.Info("rejected INVITE", "code", 488, "reason", err.Error(), "source", req.Source())
				w.respond(req, tx, sip.StatusNotAcceptableHere, "Not Acceptable Here")
				return
			}
		}
		next(req, tx)
	}
}

// admit applies the admission limits to a new call: over them, the INVITE
// gets 503 with Retry-After at once, with no 100 Trying, look-up or
// workflow start. Re-INVITEs and other in-dialog requests never get here.
func (w *Worker) admit(req *sip.Request, tx sip.ServerTransaction) (release func(), ok bool) {
	if w.cfg.admit == nil { // a Worker not made by Start (tests)
		return func() {}, true
	}
	release, err := w.cfg.admit.Acquire()
	var rej *sipguard.Rejected
	if !errors.As(err, &rej) {
		return release, true
	}
	w.metrics.rejected.WithLabelValues(rej.Reason).Inc()
	w.log.Debug("rejected INVITE", "code", 503, "reason", rej.Reason, "source", req.Source())
	w.respond(req, tx, sip.StatusServiceUnavailable, "Service Unavailable",
		sip.NewHeader("Retry-After", strconv.Itoa(rej.RetryAfterSeconds())))
	return nil, false
}

// AdmittedCalls is how many admitted inbound calls have not ended yet
// (ringing or live): it returns to 0 when every call has ended.
func (w *Worker) AdmittedCalls() int {
	if w.cfg.admit == nil {
		return 0
	}
	return w.cfg.admit.Live()
}

func hasToTag(req *sip.Request) bool {
	to := req.To()
	if to == nil || to.Params == nil {
		return false
	}
	tag, ok := to.Params.Get("tag")
	return ok && tag != ""
}

// missingHeaders names the mandatory INVITE headers that are absent.
func missingHeaders(req *sip.Request) string {
	var miss []string
	if req.From() == nil {
		miss = append(miss, "From")
	}
	if req.To() == nil {
		miss = append(miss, "To")
	}
	if req.CallID() == nil || req.CallID().Value() == "" {
		miss = append(miss, "Call-ID")
	}
	if req.CSeq() == nil {
		miss = append(miss, "CSeq")
	}
	if req.Via() == nil {
		miss = append(miss, "Via")
	}
	if req.Contact() == nil {
		miss = append(miss, "Contact")
	}
	return strings.Join(miss, ", ")
}

// dialledNumber is the Request-URI user, else the To user.
func dialledNumber(req *sip.Request) string {
	if req.Recipient.User != "" {
		return req.Recipient.User
	}
	if to := req.To(); to != nil {
		return to.Address.User
	}
	return ""
}

// serveDialog handles one inbound call from INVITE to the end. It runs on
// the goroutine sipgo gave the INVITE; Temporal calls happen elsewhere.
func (w *Worker) serveDialog(d *diago.DialogServerSession) {
	w.inflight.Add(1)
	defer w.inflight.Add(-1)
	req := d.InviteRequest
	log := w.log.With("sip_call_id", req.CallID().Value())
	if err := d.Trying(); err != nil {
		log.Debug("send 100", "error", err)
		return
	}
	number := dialledNumber(req)
	route, ok := w.routeOrReject(d, number, log)
	if !ok {
		return
	}
	start := activities.CallStart{
		CallID: uuid.NewString(), From: callerNumber(req), To: number, Channel: "sip",
		StartedAt: time.Now().UTC(), Headers: callHeaders(req), CallbackTo: callbackURI(req),
		Flow: route.Flow, Vars: w.cfg.CallVars, MediaQueue: w.Queue(),
	}
	answered := w.pending.expect(start.CallID)
	defer answered()
	if !w.startBeforeAnswer(d, route.EarlyMedia, start, log) {
		return
	}
	s := w.answer(d, start.CallID, route.EarlyMedia, log)
	if s == nil {
		answered() // the workflow's activities find the call gone
		w.signalGone(start.CallID, log)
		return
	}
	close(s.launched) // started above
	w.addSession(s)
	answered()
	defer w.removeSession(s)

	state := "call answered"
	if route.EarlyMedia {
		state = "call in early media"
	}
	s.log.Info(state, "from", start.From, "to", number, "flow", route.Flow.Name, "version", route.Flow.Version)
	w.holdCall(s, d.Context(), s.hangupInbound)
}

// startBeforeAnswer rings the caller (unless the flow answers in early
// media) and starts the call's workflow; only a call that is durable is
// answered. When the start fails the caller gets 503 with Retry-After, not
// an answered call that is hung up at once.
func (w *Worker) startBeforeAnswer(d *diago.DialogServerSession, early bool, start activities.CallStart, log *slog.Logger) bool {
	if !early {
		if err := d.Ringing(); err != nil {
			log.Debug("send 180", "error", err) // cancelled while we looked up
			return false
		}
	}
	// Not the dialog's context: a caller who gives up now still gets a
	// workflow, which records the abandoned call.
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TemporalTimeout)
	defer cancel()
	if err := w.cfg.StartCall(ctx, start); err != nil {
		log.Error("start call workflow", "call_id", start.CallID, "error", err)
		if d.Context().Err() == nil {
			_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil, sip.NewHeader("Retry-After", retryAfter))
		}
		return false
	}
	return true
}

// signalGone tells a started workflow its caller left before the answer.
func (w *Worker) signalGone(callID string, log *slog.Logger) {
	if w.cfg.SignalHangup == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TemporalTimeout)
	defer cancel()
	if err := w.cfg.SignalHangup(ctx, callID); err != nil {
		log.Warn("signal hangup", "call_id", callID, "error", err)
	}
}

// routeOrReject finds the flow for the dialled number; when there is none,
// or the worker is draining, it answers the INVITE with the failure.
func (w *Worker) routeOrReject(d *diago.DialogServerSession, number string, log *slog.Logger) (activities.Route, bool) {
	route, code, err := w.route(d.Context(), number)
	if err != nil {
		log.Info("rejected INVITE", "number", number, "code", code, "error", err)
		reason, hdrs := "Not Found", []sip.Header(nil)
		if code != sip.StatusNotFound {
			reason, hdrs = "Service Unavailable", []sip.Header{sip.NewHeader("Retry-After", retryAfter)}
		}
		if err := d.Respond(code, reason, nil, hdrs...); err != nil {
			log.Debug("respond", "code", code, "error", err)
		}
		return route, false
	}
	if w.refusing() {
		_ = d.Respond(sip.StatusServiceUnavailable, "Service Unavailable", nil, sip.NewHeader("Retry-After", retryAfter))
		return route, false
	}
	return route, true
}

// answer starts the call's media: 200 OK, or with early media 183 with
// our SDP (the first activity that needs the caller answers). It returns
// the new session with media running, or nil when the caller left or the
// answer failed.
func (w *Worker) answer(d *diago.DialogServerSession, callID string, early bool, log *slog.Logger) *session {
	// A re-INVITE (hold, a new address) moves the accepted RTP source.
	var live atomic.Pointer[session]
	opts := diago.AnswerOptions{OnMediaUpdate: func(m *diago.DialogMedia) {
		if s := live.Load(); s != nil {
			s.mediaUpdated(m)
		}
	}}
	if behindNAT(d.InviteRequest) {
		opts.RTPNAT = media.RTPNATSymetric // reply to where the caller's RTP comes from
	}
	var med *diago.DialogMedia
	var err error
	if early {
		med, err = d.ProgressMedia(diago.ProgressMediaOptions{RTPNAT: opts.RTPNAT})
		if err != nil && med != nil {
			_ = med.Close()
		}
	} else {
		med, err = d.Answer(opts)
	}
	if err != nil {
		if d.Context().Err() == nil {
			log.Warn("answer failed", "early_media", early, "error", err)
		}
		return nil
	}
	s := newSession(w, callID, d, med)
	if early {
		s.early = &earlyState{opts: opts, since: time.Now()}
	}
	live.Store(s)
	if err := s.startMedia(); err != nil {
		s.log.Error("start media", "error", err)
		_ = med.Close()
		return nil // diago hangs up when the handler returns
	}
	return s
}

func causeName(c int32) string {
	switch c {
	case endCaller:
		return "caller hangup"
	case endLocal:
		return "hangup"
	case endTransfer:
		return "transferred"
	case endShutdown:
		return "worker shutdown"
	case endFailed:
		return "workflow start failed"
	}
	return "unknown"
}

// route resolves the dialled number to its flow; the code is the SIP
// response for a failure.
func (w *Worker) route(ctx context.Context, number string) (_ activities.Route, code int, _ error) {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	r, err := w.cfg.Routes.Route(ctx, number)
	switch {
	case errors.Is(err, activities.ErrNoRoute):
		return r, sip.StatusNotFound, fmt.Errorf("number %q: %w", number, err)
	case err != nil:
		return r, sip.StatusServiceUnavailable, fmt.Errorf("route number %q: %w", number, err)
	}
	return r, 0, nil
}

// launch starts the call's workflow. If that fails the caller is hung up.
func (w *Worker) launch(s *session, start activities.CallStart) {
	defer close(s.launched)
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TemporalTimeout)
	defer cancel()
	if err := w.cfg.StartCall(ctx, start); err != nil {
		s.startErr = err
		s.log.Error("start call workflow", "error", err)
		s.stop(endFailed)
	}
}

// signalHangup tells the workflow the caller is gone, once it has started.
func (w *Worker) signalHangup(s *session) {
	defer close(s.signalled)
	<-s.launched
	if s.startErr != nil || w.cfg.SignalHangup == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TemporalTimeout)
	defer cancel()
	if err := w.cfg.SignalHangup(ctx, s.id); err != nil {
		s.log.Warn("signal hangup", "error", err)
	}
}

// callbackURI is the caller's address (the From URI without its header
// parameters), where a callback reaches the phone that called if this
// worker dies mid-call.
func callbackURI(req *sip.Request) string {
	from := req.From()
	if from == nil {
		return ""
	}
	return from.Address.String()
}

// callerNumber is the From user (the caller's number), else the From URI.
func callerNumber(req *sip.Request) string {
	from := req.From()
	if from == nil {
		return ""
	}
	if from.Address.User != "" {
		return from.Address.User
	}
	return from.Address.String()
}

// callHeaders are the INVITE headers a flow may look at: X- headers and a
// few identity ones.
func callHeaders(req *sip.Request) map[string]string {
	out := map[string]string{"Call-ID": req.CallID().Value()}
	for _, h := range req.Headers() {
		name := h.Name()
		switch {
		case len(name) > 2 && strings.EqualFold(name[:2], "x-"),
			strings.EqualFold(name, "User-Agent"),
			strings.EqualFold(name, "P-Asserted-Identity"),
			strings.EqualFold(name, "Diversion"):
			if _, dup := out[name]; !dup {
				out[name] = h.Value()
			}
		}
	}
	if from := req.From(); from != nil {
		out["From"] = from.Value()
	}
	if to := req.To(); to != nil {
		out["To"] = to.Value()
	}
	return out
}

// onInfo takes DTMF sent as SIP INFO.
func (w *Worker) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	s := w.sessionBySIP(req.CallID().Value())
	if s == nil || s.gone() {
		w.respond(req, tx, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if len(req.Body()) == 0 {
		w.respond(req, tx, sip.StatusOK, "OK") // keep-alive INFO
		return
	}
	d, ok := parseDTMFInfo(ct, req.Body())
	if !ok {
		w.respond(req, tx, sip.StatusUnsupportedMediaType, "Unsupported Media Type",
			sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	w.respond(req, tx, sip.StatusOK, "OK")
	s.pushDigit(d)
}

// retryAfter is the Retry-After (seconds) of a 503: a drain or an outage
// of Temporal or the store lasts a while; other workers take the calls.
const retryAfter = "30"

// onOptions answers probes: 200 while serving, 503 once draining or while
// Temporal or the store do not answer, so a load balancer stops sending
// calls.
func (w *Worker) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	if w.refusing() {
		w.respond(req, tx, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", retryAfter))
		return
	}
	allow := "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY"
	if w.cfg.Registrar != nil {
		allow += ", REGISTER"
	}
	w.respond(req, tx, sip.StatusOK, "OK",
		sip.NewHeader("Allow", allow),
		sip.NewHeader("Accept", "application/sdp"))
}
