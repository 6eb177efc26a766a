package sipmedia

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/store"
)

// ActionMediaQuality is the call event that keeps a call's media quality,
// measured by its media worker at hang-up (GET /api/v1/calls/{id} shows
// it with the call's other events).
const ActionMediaQuality = "media_quality"

// qualityEventTimeout bounds the store write of one call's quality.
const qualityEventTimeout = 5 * time.Second

// qualityEvents keeps each call's quality as a call event in s.
func qualityEvents(s *store.Store, log *slog.Logger) func(string, sipworker.CallQuality) {
	if s == nil {
		return nil
	}
	return func(callID string, q sipworker.CallQuality) {
		ctx, cancel := context.WithTimeout(context.Background(), qualityEventTimeout)
		defer cancel()
		ev := records.CallEvent{CallID: callID, At: time.Now().UTC(), Actor: "media", Action: ActionMediaQuality, Detail: QualityDetail(q)}
		if err := s.AddCallEvent(ctx, ev); err != nil {
			log.Warn("keep the call's media quality", "call_id", callID, "error", err)
		}
	}
}

// QualityDetail says a call's quality in one line, e.g. "PCMU received:
// MOS 4.37 (R 91.3), loss 0.00%, jitter 1.2 ms; RTT 24 ms".
func QualityDetail(q sipworker.CallQuality) string {
	one := func(s sipworker.StreamQuality) string {
		return fmt.Sprintf("MOS %.2f (R %.1f), loss %.2f%%, jitter %.1f ms", s.MOS, s.R, s.Loss*100, float64(s.Jitter)/float64(time.Millisecond))
	}
	d := fmt.Sprintf("%s received: %s", q.Codec, one(q.Received))
	if q.Sent != nil {
		d += "; sent (caller's RTCP): " + one(*q.Sent)
	}
	if q.RTT > 0 {
		d += fmt.Sprintf("; RTT %d ms", q.RTT.Milliseconds())
	} else {
		d += "; RTT unknown (no RTCP round trip)"
	}
	return d
}
