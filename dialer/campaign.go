package dialer

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/suggest"
)

// FieldError is one problem with one field of a campaign ("window.start",
// "retry[2].outcome"): the value at fault, if it helps, and what is wrong.
type FieldError struct {
	Field   string `json:"field"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// Error reads `window.start "25:00": not a time of day (HH:MM)`, or
// `name: empty` without a value.
func (e FieldError) Error() string {
	if e.Value != "" {
		return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Message)
	}
	return e.Field + ": " + e.Message
}

// FieldErrors are every problem found, in the order of the fields.
type FieldErrors []FieldError

// Error lists the problems one per line.
func (es FieldErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Campaign defaults: see WithDefaults.
const (
	DefaultMaxAttempts = 3
	DefaultMinSpacing  = 10 * time.Minute
	DefaultRingTimeout = 25 * time.Second
	DefaultAbandonCap  = 0.03 // the US cap, 47 CFR 64.1200(a)(7)
	DefaultMaxRatio    = 3.0
	DefaultConcurrency = 5
)

// WithDefaults fills a campaign's unset (zero) settings: window 08:00 to
// 21:00 every day, 3 attempts at least 10 minutes apart, DefaultRetry, a
// 25 s ring timeout, hang up on machines, a 3% abandon cap, at most 3
// lines per agent, 5 lines for agentless campaigns, and state draft.
// Region is left empty on purpose: guessing a country would misread every
// national number of the others (020 7946 0958 is not a US number);
// without one, numbers must carry their country code. Settings that are
// set, even wrongly, are kept for Validate to report. An empty Retry is
// DefaultRetry: a campaign that never retries says MaxAttempts 1.
func WithDefaults(c records.Campaign) records.Campaign {
	if c.Window.Start == "" {
		c.Window.Start = DefaultWindow.Start
	}
	if c.Window.End == "" {
		c.Window.End = DefaultWindow.End
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.MinSpacing == 0 {
		c.MinSpacing = DefaultMinSpacing
	}
	if len(c.Retry) == 0 {
		c.Retry = slices.Clone(DefaultRetry)
	}
	if c.RingTimeout == 0 {
		c.RingTimeout = DefaultRingTimeout
	}
	if c.Machine == "" {
		c.Machine = records.MachineHangUp
	}
	if c.AbandonCap == 0 {
		c.AbandonCap = DefaultAbandonCap
	}
	if c.MaxRatio == 0 {
		c.MaxRatio = DefaultMaxRatio
	}
	if c.Mode == records.PaceAgentless && c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.State == "" {
		c.State = records.CampaignDraft
	}
	return c
}

var (
	modes          = []string{records.PacePreview, records.PaceProgressive, records.PacePredictive, records.PaceAgentless}
	machineActions = []string{records.MachineHangUp, records.MachineMessage, records.MachineFlow}
	// retryOutcomes may be retried; the others end a contact.
	retryOutcomes = []string{records.AttemptBusy, records.AttemptNoAnswer, records.AttemptMachine,
		records.AttemptFailed, records.AttemptAbandoned}
	finalOutcomes = []string{records.AttemptHuman, records.AttemptInvalid, records.AttemptDNC}
)

// campaignID is the store's rule for campaign ids (they go into workflow
// and call IDs): 1-64 letters, digits, '.', '_' or '-'.
var campaignID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks a campaign's settings as given (call it on
// WithDefaults(c) to accept unset ones) and returns every problem as
// FieldErrors, or nil.
func Validate(c records.Campaign) error {
	var errs FieldErrors
	add := func(field, value, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Value: value, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case c.ID == "":
		add("id", "", "empty")
	case !campaignID.MatchString(c.ID):
		add("id", c.ID, "not a slug: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if strings.TrimSpace(c.Name) == "" {
		add("name", "", "empty")
	}
	if strings.TrimSpace(c.Flow) == "" {
		add("flow", "", "empty: name the published flow each answered call runs")
	}
	errs = append(errs, checkMode(c)...)
	var windowErrs FieldErrors
	if _, err := ParseWindow(c.Window); errors.As(err, &windowErrs) {
		errs = append(errs, windowErrs...)
	}
	if c.CallerID != "" {
		if msg := checkCallerID(c.CallerID); msg != "" {
			add("caller_id", c.CallerID, "%s", msg)
		}
	}
	errs = append(errs, checkMachine(c)...)
	if !(c.AbandonCap > 0 && c.AbandonCap <= 1) {
		add("abandon_cap", fmt.Sprint(c.AbandonCap), "must be above 0 and at most 1 (0.03 is 3%%)")
	}
	errs = append(errs, checkLimits(c)...)
	errs = append(errs, checkRetry(c.Retry)...)
	if c.Region != "" && !KnownRegion(c.Region) {
		add("region", c.Region, "%s", ErrUnknownRegion)
	}
	for i, col := range c.Required {
		if strings.TrimSpace(col) == "" {
			add(fmt.Sprintf("required[%d]", i), "", "empty column name")
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

func checkMode(c records.Campaign) FieldErrors {
	switch {
	case c.Mode == "":
		return FieldErrors{{Field: "mode", Message: "empty: one of " + strings.Join(modes, ", ")}}
	case !slices.Contains(modes, c.Mode):
		return FieldErrors{{Field: "mode", Value: c.Mode, Message: unknownMessage("mode", c.Mode, modes)}}
	case c.Mode == records.PaceAgentless && c.Concurrency < 1:
		return FieldErrors{{Field: "concurrency", Value: fmt.Sprint(c.Concurrency),
			Message: "an agentless campaign needs at least 1 line at once"}}
	case c.Mode != records.PaceAgentless && strings.TrimSpace(c.Queue) == "":
		return FieldErrors{{Field: "queue", Message: fmt.Sprintf("empty: a %s campaign needs a queue of agents", c.Mode)}}
	}
	return nil
}

// unknownMessage says a value is none of the known ones, with the nearest
// as a suggestion.
func unknownMessage(what, value string, known []string) string {
	msg := fmt.Sprintf("unknown %s: one of %s", what, strings.Join(known, ", "))
	if s := suggest.Nearest(strings.ToLower(value), known, 4); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return msg
}

// checkCallerID accepts an E.164 number or a sip:/sips: URI.
func checkCallerID(id string) string {
	if rest, ok := cutScheme(id); ok {
		user, host, hasUser := strings.Cut(rest, "@")
		if !hasUser {
			host = user
		}
		if host == "" || (hasUser && user == "") || strings.ContainsAny(rest, " \t<>\"") {
			return "not a SIP URI (sip:user@host)"
		}
		return ""
	}
	n, err := NormalizeNumber(id, "")
	switch {
	case err != nil:
		return fmt.Sprintf("not an E.164 number (+14155550100) or SIP URI: %v", err)
	case n != id:
		return fmt.Sprintf("write it in E.164: %s", n)
	}
	return ""
}

func cutScheme(uri string) (string, bool) {
	for _, scheme := range []string{"sip:", "sips:"} {
		if len(uri) >= len(scheme) && strings.EqualFold(uri[:len(scheme)], scheme) {
			return uri[len(scheme):], true
		}
	}
	return "", false
}

func checkMachine(c records.Campaign) FieldErrors {
	switch {
	case !slices.Contains(machineActions, c.Machine):
		if c.Machine == "" {
			return FieldErrors{{Field: "machine", Message: "empty: one of " + strings.Join(machineActions, ", ")}}
		}
		return FieldErrors{{Field: "machine", Value: c.Machine, Message: unknownMessage("action", c.Machine, machineActions)}}
	case c.Machine == records.MachineMessage && strings.TrimSpace(c.MachineText) == "":
		return FieldErrors{{Field: "machine_text", Message: "empty: a campaign that leaves messages needs their text"}}
	}
	return nil
}

// checkLimits checks the counts and durations.
func checkLimits(c records.Campaign) FieldErrors {
	var errs FieldErrors
	if c.MaxAttempts < 1 {
		errs = append(errs, FieldError{Field: "max_attempts", Value: fmt.Sprint(c.MaxAttempts),
			Message: "must be at least 1"})
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"min_spacing", c.MinSpacing}, {"ring_timeout", c.RingTimeout}} {
		if d.v < 0 {
			errs = append(errs, FieldError{Field: d.field, Value: d.v.String(), Message: "negative"})
		}
	}
	for _, n := range []struct {
		field string
		v     int
	}{{"concurrency", c.Concurrency}, {"rate_per_minute", c.RatePerMinute}} {
		if n.v < 0 {
			errs = append(errs, FieldError{Field: n.field, Value: fmt.Sprint(n.v), Message: "negative"})
		}
	}
	if c.Mode == records.PacePredictive && (c.MaxRatio < 1 || math.IsInf(c.MaxRatio, 0) || math.IsNaN(c.MaxRatio)) {
		errs = append(errs, FieldError{Field: "max_ratio", Value: fmt.Sprint(c.MaxRatio),
			Message: "a predictive campaign dials at least 1 line per available agent"})
	}
	return errs
}

// checkRetry checks the retry rules: known outcomes that may be retried,
// one rule each, no negative delay or count.
func checkRetry(rules []records.RetryRule) FieldErrors {
	var errs FieldErrors
	seen := map[string]int{}
	for i, r := range rules {
		field := fmt.Sprintf("retry[%d]", i)
		switch {
		case slices.Contains(finalOutcomes, r.Outcome):
			errs = append(errs, FieldError{Field: field + ".outcome", Value: r.Outcome,
				Message: "this outcome ends the contact; it is never retried"})
		case !slices.Contains(retryOutcomes, r.Outcome):
			errs = append(errs, FieldError{Field: field + ".outcome", Value: r.Outcome,
				Message: unknownMessage("outcome", r.Outcome, retryOutcomes)})
		default:
			if first, dup := seen[r.Outcome]; dup {
				errs = append(errs, FieldError{Field: field + ".outcome", Value: r.Outcome,
					Message: fmt.Sprintf("a second rule for it (retry[%d] applies)", first)})
			} else {
				seen[r.Outcome] = i
			}
		}
		if r.Delay < 0 {
			errs = append(errs, FieldError{Field: field + ".delay", Value: r.Delay.String(), Message: "negative"})
		}
		if r.Max < 0 {
			errs = append(errs, FieldError{Field: field + ".max", Value: fmt.Sprint(r.Max), Message: "negative"})
		}
	}
	return errs
}
