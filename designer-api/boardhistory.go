package designerapi

import (
	"context"
	"sync"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// The board's history: per queue and per 15-minute interval, the calls
// answered, abandoned, timed out or gone otherwise, their average wait and
// the service level, for the board's charts.
//
// It is counted from the call records (the queue stays of CDRs), not from
// the board's counters. The board's answered and abandoned figures cover
// a sliding window: they fall as calls age out of it, so their deltas
// count calls only approximately, miss the timeouts the board does not
// count, and miss whatever happened while nobody watched (the stream's
// reader runs only while someone does). The records are exact, survive a
// restart and give the last 24 hours at once. The price: a call counts
// once its record is written, when the call ends, so an answered call
// shows in the interval its wait ended in (not the one its conversation
// ended in) only after it hangs up; and a stay is found only if its call
// started at most historyLookback before the first interval.

// HistoryInterval is the width of one interval of the board's history.
const HistoryInterval = 15 * time.Minute

const (
	// historySpan is how far back the history goes.
	historySpan = 24 * time.Hour
	// historyLookback is how long before the first interval a call may
	// have started and still be counted (its wait ending in the span).
	historyLookback = 2 * time.Hour
	// historyMaxCDRs bounds the records read for one history, all queues
	// together; past it the oldest intervals are short (Truncated).
	historyMaxCDRs = 20_000
)

// HistoryPoint is one queue's calls whose wait ended in one interval.
type HistoryPoint struct {
	Start               time.Time `json:"start" doc:"The interval's start; it lasts the history's interval"`
	Answered            int       `json:"answered"`
	Abandoned           int       `json:"abandoned" doc:"The caller hung up while waiting"`
	TimedOut            int       `json:"timed_out" doc:"The queue's maximum wait passed"`
	Other               int       `json:"other" doc:"Left otherwise: the queue was full, the caller chose voicemail or a callback"`
	AnsweredInThreshold int       `json:"answered_in_threshold" doc:"Answered within the queue's service-level threshold"`
	AvgWait             string    `json:"avg_wait" doc:"Average wait of the calls answered (Go duration)"`
	AvgWaitMS           int64     `json:"avg_wait_ms" doc:"The same in milliseconds"`
	ServiceLevel        *float64  `json:"service_level" doc:"answered_in_threshold / (answered + abandoned), as on the board; null when neither"`
}

// QueueHistory is one queue's history, oldest interval first.
type QueueHistory struct {
	Name        string         `json:"name"`
	SLThreshold string         `json:"sl_threshold" doc:"The queue's service-level threshold now (Go duration)"`
	Intervals   []HistoryPoint `json:"intervals"`
}

// BoardHistory is every defined queue's history, from the first interval
// with a call (or the process's start) up to 24 hours back, to the
// current, unfinished interval.
type BoardHistory struct {
	Interval  string         `json:"interval" doc:"The width of an interval (Go duration)"`
	From      time.Time      `json:"from" doc:"The first interval's start"`
	At        time.Time      `json:"at" doc:"When the history was counted; the last interval is unfinished"`
	Basis     string         `json:"basis" doc:"What it is counted from: call records, so a call counts once it has ended"`
	Truncated bool           `json:"truncated" doc:"Too many records: the oldest intervals are short"`
	Queues    []QueueHistory `json:"queues"`
}

// historyBasis is BoardHistory.Basis.
const historyBasis = "call records: each queue stay counts in the interval its wait ended, once its call has ended"

// historyKeeper counts the history and keeps the latest for a while.
type historyKeeper struct {
	store   *store.Store
	started time.Time // the process's start: the earliest first interval
	now     func() time.Time

	mu     sync.Mutex
	cached BoardHistory
	at     time.Time
}

func newHistoryKeeper(st *store.Store) *historyKeeper {
	return &historyKeeper{store: st, started: time.Now().UTC(), now: time.Now}
}

// get returns the history counted at most maxAge ago and in the current
// interval, counting it again otherwise.
func (k *historyKeeper) get(ctx context.Context, maxAge time.Duration) (BoardHistory, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now().UTC()
	if !k.at.IsZero() && now.Sub(k.at) < maxAge && now.Truncate(HistoryInterval).Equal(k.at.Truncate(HistoryInterval)) {
		return k.cached, nil
	}
	h, err := k.count(ctx, now)
	if err != nil {
		return h, err
	}
	k.cached, k.at = h, now
	return h, nil
}

// tally is one queue's interval being counted.
type tally struct {
	answered, inThreshold, abandoned, timedOut, other int
	wait                                              time.Duration
}

// count counts the history at now from the records.
func (k *historyKeeper) count(ctx context.Context, now time.Time) (BoardHistory, error) {
	h := BoardHistory{Interval: dur(HistoryInterval), At: now, Basis: historyBasis, Queues: []QueueHistory{}}
	qs, err := k.store.Queues(ctx)
	if err != nil {
		return h, err
	}
	cur := now.Truncate(HistoryInterval)
	oldest := cur.Add(HistoryInterval - historySpan)
	first := laterOf(oldest, k.started.Truncate(HistoryInterval))
	tallies := make([]map[time.Time]*tally, len(qs))
	budget := historyMaxCDRs
	for i, q := range qs {
		t, read, truncated, err := k.tallyQueue(ctx, q.WithDefaults(), oldest, cur, budget)
		if err != nil {
			return h, err
		}
		tallies[i], budget = t, budget-read
		h.Truncated = h.Truncated || truncated
		for start := range t {
			if start.Before(first) {
				first = start
			}
		}
	}
	h.From = first
	for i, q := range qs {
		qh := QueueHistory{Name: q.Name, SLThreshold: dur(q.WithDefaults().SLThreshold), Intervals: []HistoryPoint{}}
		for start := first; !start.After(cur); start = start.Add(HistoryInterval) {
			qh.Intervals = append(qh.Intervals, pointOf(start, tallies[i][start]))
		}
		h.Queues = append(h.Queues, qh)
	}
	return h, nil
}

// tallyQueue counts a queue's stays whose wait ended from oldest on, by
// interval, reading at most budget records (truncated when it stopped
// there); it returns how many it read.
func (k *historyKeeper) tallyQueue(ctx context.Context, q store.Queue, oldest, cur time.Time, budget int) (map[time.Time]*tally, int, bool, error) {
	out := map[time.Time]*tally{}
	query := store.CDRQuery{Queue: q.Name, StartedAfter: oldest.Add(-historyLookback), Limit: 1000}
	for read := 0; ; {
		if read >= budget {
			return out, read, true, nil
		}
		query.Limit = min(1000, budget-read)
		recs, next, err := k.store.SearchCDRs(ctx, query)
		if err != nil {
			return out, read, false, err
		}
		for _, r := range recs {
			for _, st := range r.Queues {
				if st.Queue == q.Name {
					countStay(out, st, q.SLThreshold, oldest, cur)
				}
			}
		}
		read += len(recs)
		if next == "" {
			return out, read, false, nil
		}
		query.PageToken = next
	}
}

// countStay adds a stay to the interval its wait ended in (the current
// one at the latest), unless that was before oldest.
func countStay(out map[time.Time]*tally, st records.QueueStay, threshold time.Duration, oldest, cur time.Time) {
	start := st.EnqueuedAt.Add(st.Wait).UTC().Truncate(HistoryInterval)
	if start.After(cur) {
		start = cur
	}
	if start.Before(oldest) {
		return
	}
	t := out[start]
	if t == nil {
		t = &tally{}
		out[start] = t
	}
	switch st.Outcome {
	case records.QueueAnswered:
		t.answered++
		t.wait += st.Wait
		if st.Wait <= threshold {
			t.inThreshold++
		}
	case records.QueueAbandoned:
		t.abandoned++
	case records.QueueTimeout:
		t.timedOut++
	default:
		t.other++
	}
}

// pointOf is an interval's figures (t nil: no call).
func pointOf(start time.Time, t *tally) HistoryPoint {
	p := HistoryPoint{Start: start, AvgWait: dur(0)}
	if t == nil {
		return p
	}
	p.Answered, p.Abandoned, p.TimedOut, p.Other, p.AnsweredInThreshold = t.answered, t.abandoned, t.timedOut, t.other, t.inThreshold
	if t.answered > 0 {
		avg := t.wait / time.Duration(t.answered)
		p.AvgWait, p.AvgWaitMS = dur(avg), avg.Milliseconds()
	}
	if t.answered+t.abandoned > 0 {
		sl := routing.ServiceLevel(t.inThreshold, t.answered, t.abandoned)
		p.ServiceLevel = &sl
	}
	return p
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
