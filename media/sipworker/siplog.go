package sipworker

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// unparsableEvery is how often a "failed to parse" line from the SIP
// transport is let through; the others are only counted.
const unparsableEvery = 10 * time.Second

// transportLog wraps the SIP transport layer's logger. sipgo logs every
// datagram it cannot parse at ERROR with the whole message (up to 64 KiB):
// a flood of garbage would become a flood of log. Such lines lose their
// data (its length stays), come at most once per unparsableEvery with the
// count skipped since, and every one counts in
// voxflow_sip_unparsable_total.
type transportLog struct {
	next    slog.Handler
	counted func()
	mu      *sync.Mutex
	last    *time.Time
	skipped *int
	now     func() time.Time
}

func newTransportLog(next slog.Handler, counted func()) *transportLog {
	return &transportLog{next: next, counted: counted, mu: &sync.Mutex{}, last: new(time.Time), skipped: new(int), now: time.Now}
}

func (h *transportLog) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *transportLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message != "failed to parse" {
		return h.next.Handle(ctx, r)
	}
	if h.counted != nil {
		h.counted()
	}
	h.mu.Lock()
	now := h.now()
	if now.Sub(*h.last) < unparsableEvery {
		*h.skipped++
		h.mu.Unlock()
		return nil
	}
	skipped := *h.skipped
	*h.last, *h.skipped = now, 0
	h.mu.Unlock()
	out := slog.NewRecord(r.Time, slog.LevelWarn, "unparsable SIP message dropped", r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "data" {
			out.AddAttrs(slog.Int("data_bytes", len(a.Value.String())))
		} else {
			out.AddAttrs(a)
		}
		return true
	})
	out.AddAttrs(slog.Int("skipped_before", skipped))
	return h.next.Handle(ctx, out)
}

func (h *transportLog) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	return &c
}

func (h *transportLog) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}
