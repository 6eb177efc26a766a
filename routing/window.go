package routing

import (
	"slices"
	"time"
)

// Defaults of a Window and of the statistics read from it.
const (
	DefaultSpan      = 30 * time.Minute
	DefaultThreshold = 20 * time.Second
	// DefaultAHT is the average handle time assumed while no call handled
	// in the window says otherwise.
	DefaultAHT = 180 * time.Second
	// BucketWidth is the granularity of a Window.
	BucketWidth = time.Minute
)

// Window is a sliding window of per-minute buckets holding a queue's
// outcomes over the last Span. A call counts in the minute its outcome
// happened (answered, abandoned, handled), not the minute it arrived.
// The zero Window uses DefaultSpan and DefaultThreshold.
type Window struct {
	Span      time.Duration `json:"span"`
	Threshold time.Duration `json:"threshold"` // answered within it (inclusive) counts for the service level
	Buckets   []Bucket      `json:"buckets,omitempty"`
}

// Bucket holds the outcomes of one minute.
type Bucket struct {
	Start       time.Time     `json:"start"` // the minute, truncated
	Answered    int           `json:"answered,omitempty"`
	InThreshold int           `json:"in_threshold,omitempty"` // answered within the window's Threshold at the time
	Abandoned   int           `json:"abandoned,omitempty"`
	AnswerWait  time.Duration `json:"answer_wait,omitempty"` // sum of the answered calls' waits
	Handled     int           `json:"handled,omitempty"`
	HandleTime  time.Duration `json:"handle_time,omitempty"` // sum of talk + wrap-up
}

// WindowStats are a queue's figures over a Window.
type WindowStats struct {
	Offered             int           `json:"offered"` // answered + abandoned: calls whose wait ended in the window
	Answered            int           `json:"answered"`
	AnsweredInThreshold int           `json:"answered_in_threshold"`
	Abandoned           int           `json:"abandoned"`
	ServiceLevel        float64       `json:"service_level"` // see ServiceLevel
	AbandonRate         float64       `json:"abandon_rate"`  // abandoned / offered; 0 when nothing was offered
	AHT                 time.Duration `json:"aht"`           // mean talk + wrap-up of handled calls; DefaultAHT when none
	AvgWait             time.Duration `json:"avg_wait"`      // average speed of answer: mean wait of answered calls
	Handled             int           `json:"handled"`
}

// ServiceLevel is the share of calls answered within the threshold:
// inThreshold / (answered + abandoned). Abandoned calls count against it
// however short their wait; 1 when nothing was offered.
func ServiceLevel(inThreshold, answered, abandoned int) float64 {
	if answered+abandoned <= 0 {
		return 1
	}
	return float64(inThreshold) / float64(answered+abandoned)
}

// NewWindow returns an empty window; a span or threshold <= 0 takes the default.
func NewWindow(span, threshold time.Duration) Window {
	w := Window{Span: span, Threshold: threshold}
	w.Span, w.Threshold = w.span(), w.threshold()
	return w
}

func (w *Window) span() time.Duration {
	if w.Span <= 0 {
		return DefaultSpan
	}
	return w.Span
}

func (w *Window) threshold() time.Duration {
	if w.Threshold <= 0 {
		return DefaultThreshold
	}
	return w.Threshold
}

// Answered records a call answered at at after waiting wait.
func (w *Window) Answered(at time.Time, wait time.Duration) {
	if b := w.bucket(at); b != nil {
		b.Answered++
		b.AnswerWait += wait
		if wait <= w.threshold() {
			b.InThreshold++
		}
	}
}

// Abandoned records a caller who hung up at at after waiting wait.
func (w *Window) Abandoned(at time.Time, wait time.Duration) {
	if b := w.bucket(at); b != nil {
		b.Abandoned++
	}
}

// Handled records the talk + wrap-up time of a call finished at at.
func (w *Window) Handled(at time.Time, handle time.Duration) {
	if b := w.bucket(at); b != nil {
		b.Handled++
		b.HandleTime += handle
	}
}

// in reports whether the bucket starting at start is inside the window
// read at now: the minute holding now and the minutes before it, up to Span.
func (w *Window) in(start, now time.Time) bool {
	return !start.After(now) && now.Sub(start) < w.span()
}

// bucket returns the bucket for at, creating it, and drops the buckets
// the newest one pushes out of the window. An event older than the window
// is dropped (nil). Events come mostly in order, so search from the end.
func (w *Window) bucket(at time.Time) *Bucket {
	start := at.Truncate(BucketWidth)
	i := len(w.Buckets)
	for i > 0 && w.Buckets[i-1].Start.After(start) {
		i--
	}
	if i > 0 && w.Buckets[i-1].Start.Equal(start) {
		return &w.Buckets[i-1]
	}
	newest := start
	if n := len(w.Buckets); n > 0 && w.Buckets[n-1].Start.After(newest) {
		newest = w.Buckets[n-1].Start
	}
	if !w.in(start, newest) {
		return nil
	}
	w.Buckets = slices.Insert(w.Buckets, i, Bucket{Start: start})
	drop := 0
	for drop < len(w.Buckets) && !w.in(w.Buckets[drop].Start, newest) {
		drop++
	}
	if drop > 0 {
		w.Buckets = append(w.Buckets[:0], w.Buckets[drop:]...)
		i -= drop
	}
	return &w.Buckets[i]
}

// Stats sums the buckets inside the window at now (see in).
func (w *Window) Stats(now time.Time) WindowStats {
	var s WindowStats
	var wait, handle time.Duration
	for i := range w.Buckets {
		b := &w.Buckets[i]
		if !w.in(b.Start, now) {
			continue
		}
		s.Answered += b.Answered
		s.AnsweredInThreshold += b.InThreshold
		s.Abandoned += b.Abandoned
		s.Handled += b.Handled
		wait += b.AnswerWait
		handle += b.HandleTime
	}
	s.Offered = s.Answered + s.Abandoned
	s.ServiceLevel = ServiceLevel(s.AnsweredInThreshold, s.Answered, s.Abandoned)
	if s.Offered > 0 {
		s.AbandonRate = float64(s.Abandoned) / float64(s.Offered)
	}
	s.AHT = DefaultAHT
	if s.Handled > 0 {
		s.AHT = handle / time.Duration(s.Handled)
	}
	if s.Answered > 0 {
		s.AvgWait = wait / time.Duration(s.Answered)
	}
	return s
}
