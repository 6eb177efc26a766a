package sipworker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
)

// defaultRingTimeout is how long an originated call rings when the request
// gives no timeout.
const defaultRingTimeout = 30 * time.Second

// uri parses the trunk's URI.
func (t *Trunk) uri() (sip.Uri, error) {
	raw := strings.TrimSpace(t.URI)
	if !strings.HasPrefix(strings.ToLower(raw), "sip:") && !strings.HasPrefix(strings.ToLower(raw), "sips:") {
		raw = "sip:" + raw
	}
	var u sip.Uri
	if err := sip.ParseUri(raw, &u); err != nil || u.Host == "" {
		return sip.Uri{}, fmt.Errorf("sipworker: trunk URI %q is not a SIP URI with a host", t.URI)
	}
	return u, nil
}

// originateTarget resolves the destination of an outbound call: a SIP URI
// (or user@host) is called directly; a bare number or user goes to the
// trunk's URI with that user part.
func (w *Worker) originateTarget(to string) (u sip.Uri, viaTrunk bool, err error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return sip.Uri{}, false, errors.New("originate: empty destination")
	}
	lower := strings.ToLower(to)
	raw := to
	switch {
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
	case strings.Contains(to, "@"):
		raw = "sip:" + to
	case !sipUser(to):
		return sip.Uri{}, false, fmt.Errorf("originate: destination %q is not a SIP URI or number", to)
	default:
		if w.cfg.Trunk == nil {
			return sip.Uri{}, false, fmt.Errorf("originate: %q is a number and no trunk is configured (give a sip: URI or configure a trunk)", to)
		}
		u, err := w.cfg.Trunk.uri()
		if err != nil {
			return sip.Uri{}, false, err
		}
		u.User = to
		return u, true, nil
	}
	if err := sip.ParseUri(raw, &u); err != nil {
		return sip.Uri{}, false, fmt.Errorf("originate: destination %q: %w", to, err)
	}
	if !sendable(u) {
		return sip.Uri{}, false, fmt.Errorf("originate: destination %q has no valid host", to)
	}
	// A URI on the trunk's host is authenticated like a trunk call.
	if w.cfg.Trunk != nil {
		if tu, err := w.cfg.Trunk.uri(); err == nil && strings.EqualFold(tu.Host, u.Host) {
			viaTrunk = true
		}
	}
	return u, viaTrunk, nil
}

// fromHeader is the From of an outbound call: the request's caller ID, else
// Config.OriginateFrom; nil leaves sipgo's default.
func (w *Worker) fromHeader(from string, target sip.Uri, viaTrunk bool) (*sip.FromHeader, error) {
	from = strings.TrimSpace(from)
	if from == "" {
		from = strings.TrimSpace(w.cfg.OriginateFrom)
	}
	if from == "" {
		return nil, nil
	}
	h := &sip.FromHeader{Params: sip.NewParams()}
	lower := strings.ToLower(from)
	if strings.HasPrefix(lower, "sip:") || strings.HasPrefix(lower, "sips:") {
		if err := sip.ParseUri(from, &h.Address); err != nil || !sendable(h.Address) {
			return nil, fmt.Errorf("originate: caller %q is not a SIP URI with a host", from)
		}
		return h, nil
	}
	if !sipUser(from) {
		return nil, fmt.Errorf("originate: caller %q is not a SIP URI or number", from)
	}
	host := target.Host
	if !viaTrunk {
		if w.cfg.ExternalHost != "" {
			host = w.cfg.ExternalHost
		} else if h, _, err := splitHostPort(w.cfg.SIPAddr); err == nil && h != "0.0.0.0" && h != "::" {
			host = h
		}
	}
	h.Address = sip.Uri{User: from, Host: host}
	return h, nil
}

// sendable reports whether u has a host and reads back the same once
// printed: sipgo's parser takes URIs such as sip:@@0 or sip:@0;@ whose
// printed form has another host, or none.
func sendable(u sip.Uri) bool {
	if u.Host == "" || strings.Contains(u.Host, "@") {
		return false
	}
	var again sip.Uri
	return sip.ParseUri(u.String(), &again) == nil && strings.EqualFold(again.Host, u.Host)
}

// sipUser reports whether s may be a SIP URI's user part as it is:
// RFC 3261's unreserved and user-unreserved characters, less ; and ?
// (sipgo prints the user unescaped, so anything else, such as "[",
// makes a Request-URI nobody can parse).
func sipUser(s string) bool {
	for _, r := range s {
		ok := r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			strings.ContainsRune("-_.!~*'()&=+$,/", r))
		if !ok {
			return false
		}
	}
	return s != ""
}

// reservedHeaders are set by the SIP stack; an originate request may not
// override them.
var reservedHeaders = map[string]bool{
	"via": true, "from": true, "to": true, "call-id": true, "cseq": true, "contact": true,
	"content-type": true, "content-length": true, "max-forwards": true, "route": true,
	"record-route": true, "authorization": true, "proxy-authorization": true,
}

// outcomeOf maps a final SIP response to an originate outcome.
func outcomeOf(code int) string {
	switch code {
	case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere:
		return activities.OriginateBusy
	case sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout, sip.StatusRequestTerminated:
		return activities.OriginateNoAnswer
	}
	return activities.OriginateFailed
}

// dialogResponse finds the final response in an INVITE error.
func dialogResponse(err error) *sip.Response {
	var v sipgo.ErrDialogResponse
	if errors.As(err, &v) {
		return v.Res
	}
	var p *sipgo.ErrDialogResponse
	if errors.As(err, &p) && p != nil {
		return p.Res
	}
	return nil
}

// Originate places an outbound call and, once answered, holds it as a
// session under in.CallID like an inbound call: the other media activities
// work on it and the callee's BYE signals hangup to the call's workflow.
func (w *Worker) Originate(ctx context.Context, in activities.OriginateInput) (activities.OriginateResult, error) {
	if in.CallID == "" {
		return activities.OriginateResult{}, activities.NewBadInput(errors.New("originate: call_id is required"))
	}
	if _, err := w.session(in.CallID); err == nil {
		// Already answered (a repeated request): the call is there.
		return activities.OriginateResult{Outcome: activities.OriginateAnswered}, nil
	}
	target, viaTrunk, err := w.originateTarget(in.To)
	if err != nil {
		return activities.OriginateResult{}, activities.NewBadInput(err)
	}
	from, err := w.fromHeader(in.From, target, viaTrunk)
	if err != nil {
		return activities.OriginateResult{}, activities.NewBadInput(err)
	}
	defer heartbeat(ctx)()
	s, res, err := w.dial(ctx, dialRequest{
		CallID: in.CallID, Target: target, ViaTrunk: viaTrunk, From: from,
		Headers: in.Headers, Timeout: in.Timeout,
	})
	if s == nil || err != nil {
		return res, err
	}
	close(s.launched) // the call's workflow is the one originating it
	s.log.Info("originated call answered", "to", target.String())
	if in.DetectMachine {
		amd := s.detectMachine(ctx, res.AnsweredAt, in.AwaitBeep)
		res.AnsweredBy, res.GreetingEndedAt, res.Beep = amd.by, amd.greetingEnd, amd.beep
		s.log.Info("answered by", "who", amd.by, "why", amd.why, "beep", amd.beep,
			"greeting_ended_after", greetingLength(res.AnsweredAt, amd.greetingEnd))
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// greetingLength is how long after the answer the greeting ended, for the
// log; 0 when that is unknown.
func greetingLength(answered, ended time.Time) time.Duration {
	if answered.IsZero() || ended.IsZero() {
		return 0
	}
	return ended.Sub(answered).Round(time.Millisecond)
}

// dialRequest is one outbound leg: an originated call or the second leg of
// a bridged transfer.
type dialRequest struct {
	CallID   string // the session's ID
	Target   sip.Uri
	ViaTrunk bool
	From     *sip.FromHeader // nil: sipgo's default
	Headers  map[string]string
	Timeout  time.Duration // ring timeout (default defaultRingTimeout)
	// Leg marks the second leg of a bridge: its BYE ends the bridge and is
	// not signalled to any workflow.
	Leg bool
}

// dial sends an INVITE and, once answered, holds the call as a live session
// (media running, registered by ID, torn down by holdCall when either side
// ends it). Without an answer the result says why (no answer, busy,
// failed) and the session is nil; ctx's cancellation CANCELs the INVITE.
func (w *Worker) dial(ctx context.Context, in dialRequest) (*session, activities.OriginateResult, error) {
	log := w.log.With("call_id", in.CallID, "to", in.Target.String())
	if w.draining.Load() {
		log.Info("dial refused: draining")
		return nil, activities.OriginateResult{Outcome: activities.OriginateFailed, SIPStatus: sip.StatusServiceUnavailable}, nil
	}
	if in.Timeout <= 0 {
		in.Timeout = defaultRingTimeout
	}

	w.inflight.Add(1)
	handedOff := false
	defer func() {
		if !handedOff {
			w.inflight.Add(-1)
		}
	}()

	d, err := w.dg.NewDialog(in.Target, diago.NewDialogOptions{})
	if err != nil {
		return nil, activities.OriginateResult{}, fmt.Errorf("dial %s: %w", in.Target.String(), err)
	}
	c := &outboundCall{w: w, in: in, log: log, d: d}
	opts := c.inviteOptions()
	ringCtx, release := c.startRinging(ctx)
	defer release()

	log.Info("dial", "timeout", in.Timeout, "via_trunk", in.ViaTrunk, "leg", in.Leg)
	med, err := d.Invite(ringCtx, opts)
	c.ringTimer.Stop()
	if err != nil {
		res, err := c.notAnswered(ctx, err)
		w.metrics.invite("outbound", res.SIPStatus)
		return nil, res, err
	}
	w.metrics.invite("outbound", sip.StatusOK)
	s, err := c.startSession(ctx, med)
	if err != nil {
		return nil, activities.OriginateResult{}, err
	}
	handedOff = true
	w.goBackground(func() {
		defer w.inflight.Add(-1)
		defer w.removeSession(s)
		w.holdCall(s, d.Context(), d.Hangup)
		_ = d.Close()
	})
	if err := ctx.Err(); err != nil {
		return nil, activities.OriginateResult{}, err
	}
	res := activities.OriginateResult{Outcome: activities.OriginateAnswered}
	if at := c.answeredAt.Load(); at != nil {
		res.AnsweredAt = *at
	}
	return s, res, nil
}

// dialogRequestTimeout bounds an ACK or BYE the worker sends on its own
// (not on behalf of an activity that could be cancelled).
const dialogRequestTimeout = 5 * time.Second

// outboundCall is the state of one dial: its request, its dialog and how
// its ringing ended.
type outboundCall struct {
	w   *Worker
	in  dialRequest // Timeout is set
	log *slog.Logger
	d   *diago.DialogClientSession

	// responded: the callee sent a response, so ringing ends by CANCEL.
	// timedOut: the ring timeout ended it.
	responded, timedOut atomic.Bool
	ringTimer           *time.Timer
	// live is the answered call's session, once there is one.
	live atomic.Pointer[session]
	// answeredAt is when the 2xx answer arrived.
	answeredAt atomic.Pointer[time.Time]
}

// inviteOptions are the INVITE's extra headers (From, the request's own
// headers but those the SIP stack sets) and the trunk's credentials.
func (c *outboundCall) inviteOptions() diago.InviteClientOptions {
	opts := diago.InviteClientOptions{Headers: []sip.Header{}, OnResponse: c.onResponse, OnMediaUpdate: c.onMediaUpdate}
	if c.in.From != nil {
		opts.Headers = append(opts.Headers, c.in.From)
	}
	for k, v := range c.in.Headers {
		if reservedHeaders[strings.ToLower(strings.TrimSpace(k))] {
			c.log.Warn("dial: header not sent (set by the SIP stack)", "header", k)
			continue
		}
		opts.Headers = append(opts.Headers, sip.NewHeader(strings.TrimSpace(k), v))
	}
	if c.in.ViaTrunk && c.w.cfg.Trunk.Password != "" {
		opts.Username, opts.Password = c.w.cfg.Trunk.Username, c.w.cfg.Trunk.Password
	}
	return opts
}

func (c *outboundCall) onResponse(res *sip.Response) error {
	c.responded.Store(true)
	if res.IsSuccess() {
		now := time.Now()
		c.answeredAt.CompareAndSwap(nil, &now)
	}
	if res.IsProvisional() && res.StatusCode != sip.StatusTrying {
		c.log.Debug("dial: progress", "code", res.StatusCode)
	}
	return nil
}

// onMediaUpdate follows the answered call's media to a new address
// (a re-INVITE).
func (c *outboundCall) onMediaUpdate(m *diago.DialogMedia) {
	if s := c.live.Load(); s != nil {
		if ms := m.MediaSession(); ms != nil {
			remote, _ := netip.ParseAddrPort(ms.Raddr.String())
			s.source.SetRemote(remote)
			s.log.Info("media updated", "remote", remote)
		}
	}
}

// startRinging returns the context the INVITE waits for an answer on.
// Ringing ends by answer, a final response, the ring timeout or ctx's
// cancellation. Both of the latter send CANCEL once the callee answered
// anything (RFC 3261 9.1); before any response there is nothing to cancel
// and the transaction is dropped. release stops the timer and the watch on
// ctx.
func (c *outboundCall) startRinging(ctx context.Context) (ringCtx context.Context, release func()) {
	ringCtx, ringCancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stopRinging := func(cause error) {
		if !c.responded.Load() {
			cause = sipgo.WaitAnswerForceCancelErr
		}
		ringCancel(cause)
	}
	c.ringTimer = time.AfterFunc(c.in.Timeout, func() {
		c.timedOut.Store(true)
		stopRinging(errors.New("ring timeout"))
	})
	stopOnCancel := context.AfterFunc(ctx, func() { stopRinging(context.Cause(ctx)) })
	return ringCtx, func() {
		stopOnCancel()
		c.ringTimer.Stop()
		ringCancel(nil)
	}
}

// notAnswered closes the dialog of an INVITE that failed with err and says
// why: no answer (the ring timeout), ctx's cancellation (an error), or the
// callee's final response.
func (c *outboundCall) notAnswered(ctx context.Context, err error) (activities.OriginateResult, error) {
	d, log := c.d, c.log
	res := d.InviteResponse
	if res != nil && res.IsSuccess() {
		// Answered while we cancelled: acknowledge and hang up.
		c.w.goBackground(func() {
			bctx, cancel := context.WithTimeout(context.Background(), dialogRequestTimeout)
			defer cancel()
			_ = d.Ack(bctx)
			_ = d.Hangup(bctx)
			_ = d.Close()
		})
	} else {
		_ = d.Close()
	}
	code := 0
	if res != nil && !res.IsProvisional() {
		code = res.StatusCode
	}
	switch {
	case c.timedOut.Load():
		log.Info("dial: no answer", "after", c.in.Timeout, "cancelled", c.responded.Load(), "code", code)
		return activities.OriginateResult{Outcome: activities.OriginateNoAnswer, SIPStatus: code}, nil
	case ctx.Err() != nil:
		log.Info("dial: cancelled", "code", code)
		return activities.OriginateResult{}, ctx.Err()
	}
	if fr := dialogResponse(err); fr != nil {
		out := outcomeOf(fr.StatusCode)
		log.Info("dial: not answered", "outcome", out, "code", fr.StatusCode, "reason", fr.Reason)
		return activities.OriginateResult{Outcome: out, SIPStatus: fr.StatusCode}, nil
	}
	log.Warn("dial failed", "error", err)
	return activities.OriginateResult{Outcome: activities.OriginateFailed, SIPStatus: code}, nil
}

// startSession ACKs the answer and holds the call like an inbound one: a
// session with its media running, registered under in.CallID. Cancelled as
// the callee answered, the session is stopped at once (nobody wants the
// call any more; holdCall hangs it up).
func (c *outboundCall) startSession(ctx context.Context, med *diago.DialogMedia) (*session, error) {
	d, target := c.d, c.in.Target
	actx, acancel := context.WithTimeout(context.Background(), dialogRequestTimeout)
	err := d.Ack(actx)
	acancel()
	hangup := func() {
		bctx, cancel := context.WithTimeout(context.Background(), dialogRequestTimeout)
		defer cancel()
		_ = d.Hangup(bctx)
		_ = med.Close()
		_ = d.Close()
	}
	if err != nil {
		hangup()
		return nil, fmt.Errorf("dial %s: ACK: %w", target.String(), err)
	}
	res := d.InviteResponse
	s := newMediaSession(c.w, c.in.CallID, d.InviteRequest.CallID().Value(), med, sdpElsewhere(res.Body(), res.Source()))
	s.dc, s.peer, s.leg = d, res.Source(), c.in.Leg
	c.live.Store(s)
	if err := s.startMedia(); err != nil {
		hangup()
		return nil, fmt.Errorf("dial %s: start media: %w", target.String(), err)
	}
	c.w.addSession(s)
	if ctx.Err() != nil {
		s.stop(endLocal)
	}
	return s, nil
}

// holdCall waits for the call to end, by the remote party's BYE (dctx
// ends: the workflow is signalled) or by the session (flow hangup,
// transfer, shutdown: BYE sent), then tears its media down and closes s.done.
func (w *Worker) holdCall(s *session, dctx context.Context, hangup func(context.Context) error) {
	select {
	case <-dctx.Done():
		s.stop(endCaller)
	case <-s.ctx.Done():
	}
	cause := s.cause.Load()
	// A bridge's second leg (s.leg) ends the bridge, not a workflow: no signal.
	if cause == endCaller {
		if !s.leg {
			w.goBackground(func() { w.signalHangup(s) })
		}
	} else {
		if cause == endShutdown && !s.leg {
			w.goBackground(func() { w.signalHangup(s) })
		}
		byeCtx, cancel := context.WithTimeout(context.Background(), dialogRequestTimeout)
		if err := hangup(byeCtx); err != nil && dctx.Err() == nil {
			s.log.Debug("bye", "error", err)
		}
		cancel()
	}
	s.closeMedia()
	s.media.Wait()
	w.callEnded(s, cause)
	close(s.done)
}
