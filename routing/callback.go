package routing

import (
	"errors"
	"fmt"
	"time"
)

// CallbackLayout is how a callback's local time is written.
const CallbackLayout = "2006-01-02T15:04"

// Errors of CallbackTime, by the part of the request at fault.
var (
	ErrCallbackZone = errors.New("not an IANA time zone (like Europe/Paris)")
	ErrCallbackAt   = errors.New("want 2006-01-02T15:04 (in the time zone) or RFC 3339")
	ErrCallbackPast = errors.New("callback time is in the past")
)

// CallbackTime reads when to call a caller back: at in zone (the caller's,
// default UTC), as 2006-01-02T15:04 or RFC 3339 with an offset. Empty at
// is zero (as soon as an agent is free). A time before now is refused:
// nobody can be called back yesterday.
func CallbackTime(at, zone string, now time.Time) (time.Time, error) {
	loc := time.UTC
	if zone != "" {
		l, err := time.LoadLocation(zone)
		if err != nil {
			return time.Time{}, fmt.Errorf("time zone %q: %w", zone, ErrCallbackZone)
		}
		loc = l
	}
	if at == "" {
		return time.Time{}, nil
	}
	due, err := time.ParseInLocation(CallbackLayout, at, loc)
	if err != nil {
		if due, err = time.Parse(time.RFC3339, at); err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", at, ErrCallbackAt)
		}
	}
	if due.Before(now) {
		return time.Time{}, fmt.Errorf("%w: %s is before now (%s)", ErrCallbackPast,
			due.In(loc).Format(time.RFC3339), now.In(loc).Format(time.RFC3339))
	}
	return due, nil
}
