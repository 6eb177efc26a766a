package routing

import (
	"errors"
	"testing"
	"time"
)

func TestCallbackTime(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		at, zone string
		want     time.Time
		err      error
	}{
		{"", "", time.Time{}, nil},
		{"2026-12-07T11:30", "Europe/Paris", time.Date(2026, 12, 7, 10, 30, 0, 0, time.UTC), nil},
		{"2026-12-07T05:00", "America/New_York", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), nil},
		{"2026-12-07T12:00:00+02:00", "", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), nil},
		{"2026-12-07T09:30", "Europe/Paris", time.Time{}, ErrCallbackPast}, // 08:30 UTC
		{"2026-12-07T10:00", "Mars/Olympus", time.Time{}, ErrCallbackZone},
		{"tomorrow", "", time.Time{}, ErrCallbackAt},
	}
	for _, c := range cases {
		got, err := CallbackTime(c.at, c.zone, now)
		if !errors.Is(err, c.err) || !got.Equal(c.want) {
			t.Errorf("CallbackTime(%q, %q) = %v, %v; want %v, %v", c.at, c.zone, got, err, c.want, c.err)
		}
	}
}
