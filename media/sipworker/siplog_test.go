package sipworker

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestTransportLogThrottlesUnparsable(t *testing.T) {
	var out bytes.Buffer
	counted := 0
	h := newTransportLog(slog.NewTextHandler(&out, nil), func() { counted++ })
	now := time.Unix(1_000_000, 0)
	h.now = func() time.Time { return now }
	log := slog.New(h).With("caller", "Transport<UDP>")
	garbage := strings.Repeat("X", 60_000)
	for i := range 5 {
		log.Error("failed to parse", "data", garbage, "error", "bad start line")
		if i == 2 {
			now = now.Add(unparsableEvery)
		}
	}
	log.Info("begin listening", "network", "udp")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if counted != 5 {
		t.Errorf("counted %d unparsable messages, want 5", counted)
	}
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 2 throttled + 1 other:\n%s", len(lines), out.String())
	}
	for i, want := range []string{"skipped_before=0", "skipped_before=2"} {
		l := lines[i]
		if strings.Contains(l, "XXXX") || !strings.Contains(l, "data_bytes=60000") || !strings.Contains(l, want) ||
			!strings.Contains(l, "level=WARN") || !strings.Contains(l, "caller=Transport<UDP>") {
			t.Errorf("line %d = %q: want WARN, no data, data_bytes=60000, %s, caller kept", i, l, want)
		}
	}
	if !strings.Contains(lines[2], `msg="begin listening"`) {
		t.Errorf("other lines must pass unchanged, got %q", lines[2])
	}
}
