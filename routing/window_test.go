package routing

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func TestWindowSlides(t *testing.T) {
	w := NewWindow(30*time.Minute, 20*time.Second)
	at := func(m int, sec int) time.Time {
		return t0.Add(time.Duration(m)*time.Minute + time.Duration(sec)*time.Second)
	}
	steps := []struct {
		record time.Time // zero: record nothing
		now    time.Time
		want   int
	}{
		{time.Time{}, at(0, 0), 0},
		{at(0, 30), at(0, 40), 1}, // the minute holding now counts
		{at(10, 0), at(10, 0), 2},
		{at(29, 30), at(29, 59), 3},
		{time.Time{}, at(30, 0), 2}, // minute 0 is out: now's minute and the 29 before
		{at(31, 0), at(31, 0), 3},   // minutes 10, 29, 31
		{time.Time{}, at(40, 1), 2}, // minute 10 is out
		{time.Time{}, at(120, 0), 0},
	}
	for i, st := range steps {
		if !st.record.IsZero() {
			w.Answered(st.record, 5*time.Second)
		}
		if got := w.Stats(st.now).Answered; got != st.want {
			t.Errorf("step %d: Stats(%s).Answered = %d, want %d", i, st.now.Format("15:04:05"), got, st.want)
		}
	}
}

func TestWindowDropsOldBuckets(t *testing.T) {
	var w Window // the zero Window: DefaultSpan
	for m := range 200 {
		w.Answered(t0.Add(time.Duration(m)*time.Minute), time.Second)
	}
	if n := len(w.Buckets); n != int(DefaultSpan/BucketWidth) {
		t.Fatalf("%d buckets after 200 minutes, want %d", n, DefaultSpan/BucketWidth)
	}
	now := t0.Add(199 * time.Minute)
	w.Answered(now.Add(-time.Hour), time.Second) // older than the window: dropped
	w.Answered(now.Add(-5*time.Minute), time.Second)
	if s := w.Stats(now); s.Answered != 31 {
		t.Errorf("Answered = %d, want 31", s.Answered)
	}
	for i := 1; i < len(w.Buckets); i++ {
		if !w.Buckets[i-1].Start.Before(w.Buckets[i].Start) {
			t.Fatalf("buckets out of order at %d: %v", i, w.Buckets)
		}
	}
}

func TestWindowStats(t *testing.T) {
	s := time.Second
	w := NewWindow(0, 0)
	if w.Span != DefaultSpan || w.Threshold != DefaultThreshold {
		t.Fatalf("NewWindow(0, 0) = %v, %v", w.Span, w.Threshold)
	}
	empty := w.Stats(t0)
	if empty.ServiceLevel != 1 || empty.AbandonRate != 0 || empty.AHT != DefaultAHT || empty.AvgWait != 0 {
		t.Errorf("empty window: %+v", empty)
	}
	w.Answered(t0, 5*s)
	w.Answered(t0.Add(time.Minute), 20*s) // on the threshold: within
	w.Answered(t0.Add(2*time.Minute), 41*s)
	w.Abandoned(t0.Add(3*time.Minute), 3*s) // short abandons count against the service level too
	w.Handled(t0.Add(4*time.Minute), 100*s)
	w.Handled(t0.Add(5*time.Minute), 201*s)
	got := w.Stats(t0.Add(10 * time.Minute))
	want := WindowStats{
		Offered: 4, Answered: 3, AnsweredInThreshold: 2, Abandoned: 1,
		ServiceLevel: 0.5, AbandonRate: 0.25, AHT: 150500 * time.Millisecond, AvgWait: 22 * s, Handled: 2,
	}
	if got != want {
		t.Errorf("Stats =\n%+v, want\n%+v", got, want)
	}
	// The router carries the window across continue-as-new as JSON.
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var back Window
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Stats(t0.Add(10*time.Minute)), got) {
		t.Errorf("after a JSON round trip: %+v", back.Stats(t0.Add(10*time.Minute)))
	}
}

func TestServiceLevel(t *testing.T) {
	tests := []struct {
		in, answered, abandoned int
		want                    float64
	}{
		{0, 0, 0, 1},
		{8, 10, 0, 0.8},
		{8, 9, 1, 0.8},
		{0, 0, 5, 0},
	}
	for _, tt := range tests {
		if got := ServiceLevel(tt.in, tt.answered, tt.abandoned); got != tt.want {
			t.Errorf("ServiceLevel(%d, %d, %d) = %v, want %v", tt.in, tt.answered, tt.abandoned, got, tt.want)
		}
	}
}
