package sipworker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
)

const (
	defaultTransferTimeout = 30 * time.Second
	// referSettle is how long the call is kept after the REFER was accepted,
	// waiting for the final NOTIFY (or the transferee's BYE) before our BYE.
	referSettle = 5 * time.Second
)

// Transfer moves the caller: REFER (blind) or a second leg bridged to
// the caller (activities.Channel).
func (w *Worker) Transfer(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
	s, err := w.answeredSession(ctx, in.CallID) // early media: answer first
	if err != nil {
		return activities.TransferResult{}, err
	}
	switch in.Mode {
	case "", "blind":
		if s.web != nil {
			// A browser cannot be sent elsewhere (no REFER): the worker
			// stays in the middle, as in a bridge.
			return w.bridgeTransfer(ctx, s, in)
		}
	case "bridge":
		return w.bridgeTransfer(ctx, s, in)
	default:
		return activities.TransferResult{}, activities.NewBadInput(fmt.Errorf("transfer: unknown mode %q", in.Mode))
	}
	target, err := s.referTarget(in.To)
	if err != nil {
		return activities.TransferResult{}, activities.NewBadInput(err)
	}
	defer heartbeat(ctx)()
	ctx, cancel := s.bind(ctx)
	defer cancel()
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = defaultTransferTimeout
	}
	rctx, rcancel := context.WithTimeout(ctx, timeout)
	defer rcancel()
	final := make(chan int, 1)
	onNotify := func(code int) {
		if code >= 200 {
			select {
			case final <- code:
			default:
			}
		}
	}
	if s.dc != nil {
		err = s.dc.ReferOptions(rctx, target, diago.ReferClientOptions{OnNotify: onNotify})
	} else {
		err = s.d.ReferOptions(rctx, target, diago.ReferServerOptions{OnNotify: onNotify})
	}
	if err != nil {
		if s.gone() {
			return activities.TransferResult{}, activities.NewCallGone(s.id)
		}
		var rerr sipgo.ErrDialogResponse
		if errors.As(err, &rerr) {
			return activities.TransferResult{}, activities.NewTransferFailed(
				fmt.Sprintf("transfer to %s refused: %d %s", target.String(), rerr.Res.StatusCode, rerr.Res.Reason), nil)
		}
		return activities.TransferResult{}, activities.NewTransferFailed(
			fmt.Sprintf("transfer to %s: %v", target.String(), err), err)
	}
	// Accepted: the call leaves us. The caller's BYE is no hangup of the flow.
	s.cause.CompareAndSwap(0, endTransfer)
	s.log.Info("transfer accepted", "to", target.String())
	w.goBackground(func() {
		t := time.NewTimer(referSettle)
		defer t.Stop()
		select {
		case code := <-final:
			s.log.Info("transfer finished", "to", target.String(), "code", code)
		case <-t.C:
		case <-s.ctx.Done():
		}
		s.stop(endTransfer)
	})
	return activities.TransferResult{Left: true, Outcome: activities.TransferLeft}, nil
}

// referTarget turns a transfer destination into a URI: a sip:/sips: URI is
// used as is; a bare number or user goes to the peer that sent us the call
// (the trunk or proxy routes it).
func (s *session) referTarget(to string) (sip.Uri, error) {
	to = strings.TrimSpace(to)
	if to == "" {
		return sip.Uri{}, errors.New("transfer: empty destination")
	}
	raw, lower := to, strings.ToLower(to)
	user, _, hasHost := strings.Cut(to, "@")
	switch {
	case strings.HasPrefix(lower, "sip:"), strings.HasPrefix(lower, "sips:"):
	case hasHost && !strings.Contains(user, ":"):
		// user@host names its host; appending the peer's would make
		// "@" part of the host (sip:a@b@peer).
		raw = "sip:" + to
	case !hasHost && sipUser(to):
		host := s.peer
		if h, p, err := net.SplitHostPort(host); err == nil {
			host = net.JoinHostPort(h, p)
		}
		raw = "sip:" + to + "@" + host
	}
	lower = strings.ToLower(raw)
	if !strings.HasPrefix(lower, "sip:") && !strings.HasPrefix(lower, "sips:") {
		return sip.Uri{}, fmt.Errorf("transfer: destination %q is not a SIP URI or number", to)
	}
	var u sip.Uri
	if err := sip.ParseUri(raw, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("transfer: destination %q: %w", to, err)
	}
	if !sendable(u) {
		return sip.Uri{}, fmt.Errorf("transfer: destination %q has no valid host", to)
	}
	return u, nil
}
