package routing

import (
	"fmt"
	"sort"
	"time"
)

// Overflow is one step of a queue's overflow: once a caller has waited
// After, the step changes whom the caller may be given to.
type Overflow struct {
	After      time.Duration `json:"after"`                 // time waited (now - EnqueuedAt) after which the step applies
	Needs      []Requirement `json:"needs,omitempty"`       // replaces the waiter's needs (widening)
	ClearNeeds bool          `json:"clear_needs,omitempty"` // any agent of the queue will do
	Queue      string        `json:"queue,omitempty"`       // move to (be served by agents of) another queue
}

// Rules are a queue's routing rules. Overflow steps apply cumulatively in
// order of After, whatever their order in the slice.
type Rules struct {
	Overflow []Overflow `json:"overflow,omitempty"`
}

// Validate rejects steps that cannot mean what their author wanted: a
// negative After, a step that changes nothing, or one that both sets and
// clears the needs.
func (r Rules) Validate() error {
	for i, o := range r.Overflow {
		switch {
		case o.After < 0:
			return fmt.Errorf("overflow step %d: after %v is negative", i+1, o.After)
		case o.ClearNeeds && len(o.Needs) > 0:
			return fmt.Errorf("overflow step %d: sets needs and clear_needs; use one", i+1)
		case !o.ClearNeeds && len(o.Needs) == 0 && o.Queue == "":
			return fmt.Errorf("overflow step %d: changes nothing; set needs, clear_needs or queue", i+1)
		}
	}
	return nil
}

// Effective is the queue whose agents may take the waiter now and the needs
// they must meet, after the overflow steps of r (the rules of the waiter's
// own queue) that apply at now. The needs returned may share memory with
// the waiter or the rules: do not modify them.
func Effective(w Waiter, r Rules, now time.Time) (queue string, needs []Requirement) {
	queue, needs = w.Queue, w.Needs
	steps := r.Overflow
	if len(steps) == 0 {
		return queue, needs
	}
	if !sortedByAfter(steps) {
		steps = sortSteps(steps)
	}
	waited := now.Sub(w.EnqueuedAt)
	for i := range steps {
		if steps[i].After > waited {
			break
		}
		queue, needs = applyStep(steps[i], queue, needs)
	}
	return queue, needs
}

// sortSteps returns a copy of steps in order of After; equal After keeps
// the slice order.
func sortSteps(steps []Overflow) []Overflow {
	out := append([]Overflow(nil), steps...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].After < out[j].After })
	return out
}

func applyStep(o Overflow, queue string, needs []Requirement) (string, []Requirement) {
	switch {
	case o.ClearNeeds:
		needs = nil
	case len(o.Needs) > 0:
		needs = o.Needs
	}
	if o.Queue != "" {
		queue = o.Queue
	}
	return queue, needs
}

func sortedByAfter(steps []Overflow) bool {
	for i := 1; i < len(steps); i++ {
		if steps[i].After < steps[i-1].After {
			return false
		}
	}
	return true
}
