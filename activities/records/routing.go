package records

import "time"

// QueueStay is one stay of a call in a queue, as kept in its CDR.
type QueueStay struct {
	Queue      string        `json:"queue"`
	EnqueuedAt time.Time     `json:"enqueued_at"`
	Wait       time.Duration `json:"wait"`            // enqueue to answer, or to leaving
	Outcome    string        `json:"outcome"`         // one of the QueueX constants
	Agent      string        `json:"agent,omitempty"` // who answered
	// Ring is the ringing of the agent who answered.
	Ring   time.Duration `json:"ring,omitempty"`
	Talk   time.Duration `json:"talk,omitempty"`
	WrapUp time.Duration `json:"wrap_up,omitempty"` // set later, when the agent ends wrap-up
	// Disposition is set later by the agent, with WrapUp.
	Disposition string `json:"disposition,omitempty"`
	// Notes are the agent's wrap-up notes, set with Disposition.
	Notes            string `json:"notes,omitempty"`
	Offers           int    `json:"offers,omitempty"` // agents rung, answered or not
	CallbackAttempts int    `json:"callback_attempts,omitempty"`
}

// Queue stay outcomes (QueueStay.Outcome).
const (
	QueueAnswered  = "answered"
	QueueAbandoned = "abandoned" // the caller hung up while waiting
	QueueTimeout   = "timeout"   // the queue's maximum wait passed
	QueueFull      = "full"      // the queue had MaxWaiting callers already
	// QueueLeft: the caller chose to leave (voicemail, callback).
	QueueLeft     = "left"
	QueueCallback = "callback"
)
