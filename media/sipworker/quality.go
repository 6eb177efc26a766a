package sipworker

import (
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/emiago/diago/media"
	"github.com/pion/rtcp"
	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/media/quality"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// CallQuality is a call's media quality, measured at hang-up.
type CallQuality struct {
	Codec string
	// Received is the caller's audio as the worker received and played it.
	Received StreamQuality
	// Sent is the worker's audio as the caller's RTCP receiver reports
	// described it; nil when the caller sent none (SIPp does not).
	Sent *StreamQuality
	// RTT is the round trip from RTCP (0: unknown; the delay then counts
	// the worker's own buffering only).
	RTT time.Duration
}

// StreamQuality is one direction of a call.
type StreamQuality struct {
	Packets uint64        // packets expected
	Loss    float64       // share lost on the way or discarded late (0 to 1)
	Jitter  time.Duration // RFC 3550 interarrival jitter
	R, MOS  float64       // ITU-T G.107 E-model
}

// rtpQuality keeps what a session measures of its RTP.
type rtpQuality struct {
	rx       *vrtp.ReceiverStats
	received uint64 // packets from the caller (the reader goroutine's)
	mu       sync.Mutex
	peer     *rtcp.ReceptionReport // the caller's latest report on our stream
}

// countRTP records a packet from the caller (all of them, events too:
// they share the stream's sequence numbers).
func (q *rtpQuality) countRTP(h *prtp.Header, at time.Time) {
	if q.rx == nil {
		return
	}
	q.received++
	q.rx.Update(h.SSRC, h.SequenceNumber, h.Timestamp, 0, at)
}

// watchPeerReports keeps the caller's RTCP reception reports on our
// stream (diago reads RTCP; forks of its session keep the hook).
func (s *session) watchPeerReports() {
	rs := s.med.RTPSession()
	if rs == nil {
		return
	}
	rs.OnReadRTCP(func(pkt rtcp.Packet, _ media.RTPReadStats) {
		var reports []rtcp.ReceptionReport
		switch p := pkt.(type) {
		case *rtcp.SenderReport:
			reports = p.Reports
		case *rtcp.ReceiverReport:
			reports = p.Reports
		}
		if len(reports) > 0 {
			s.q.mu.Lock()
			s.q.peer = &reports[0]
			s.q.mu.Unlock()
		}
	})
}

// measure works out the call's quality once its media has stopped; ok is
// false when no RTP came from the caller.
func (s *session) measure(now time.Time) (CallQuality, bool) {
	if s.q.rx == nil || s.q.received == 0 {
		return CallQuality{}, false
	}
	cq := CallQuality{Codec: s.codec.name}
	var sent uint64
	if s.med != nil {
		if rs := s.med.RTPSession(); rs != nil {
			cq.RTT = rs.ReadStats().RTT
			sent = rs.WriteStats().PacketsCount
		}
	}
	clock := float64(s.codec.clock)
	model := s.codec.model()
	// Mouth to ear: half the round trip, our jitter buffer, one frame.
	delay := cq.RTT/2 + jitterDepth + frameDur

	rep := s.q.rx.Report(now)
	late := s.jb.Stats().Late
	expected := s.q.received + uint64(rep.TotalLost)
	cq.Received = assess(model, expected, float64(uint64(rep.TotalLost)+late), float64(rep.Jitter)/clock, delay)

	s.q.mu.Lock()
	peer := s.q.peer
	s.q.mu.Unlock()
	if peer != nil && sent > 0 {
		st := assess(model, sent, float64(peer.TotalLost), float64(peer.Jitter)/clock, delay)
		cq.Sent = &st
	}
	return cq, true
}

func assess(model quality.Codec, expected uint64, lost, jitterSeconds float64, delay time.Duration) StreamQuality {
	loss := 0.0
	if expected > 0 {
		loss = min(lost/float64(expected), 1)
	}
	e := quality.Assess(quality.Measure{Codec: model, Loss: loss, Delay: delay})
	return StreamQuality{Packets: expected, Loss: loss, Jitter: time.Duration(jitterSeconds * float64(time.Second)), R: e.R, MOS: e.MOS}
}

// model is the codec's E-model parameters: G.711 is played with
// concealment (the jitter buffer repeats a lost frame).
func (c wireCodec) model() quality.Codec {
	if strings.EqualFold(c.name, "opus") {
		return quality.Opus
	}
	return quality.G711PLC
}

// recordQuality measures a call that ended, records it in the worker's
// histograms, and hands it to Config.OnCallQuality; it returns what the
// call's last log line says of it.
func (w *Worker) recordQuality(s *session) []any {
	cq, ok := s.measure(time.Now())
	if !ok {
		return nil
	}
	m := w.metrics
	observe := func(stream string, q StreamQuality) {
		m.loss.WithLabelValues(stream, cq.Codec).Observe(q.Loss)
		m.jitter.WithLabelValues(stream, cq.Codec).Observe(q.Jitter.Seconds())
		m.mos.WithLabelValues(stream, cq.Codec).Observe(q.MOS)
	}
	observe("received", cq.Received)
	attrs := []any{slog.Group("quality", "mos", round2(cq.Received.MOS), "loss", round2(cq.Received.Loss*100),
		"jitter_ms", round2(cq.Received.Jitter.Seconds()*1000), "rtt_ms", cq.RTT.Milliseconds())}
	if cq.Sent != nil {
		observe("sent", *cq.Sent)
		attrs = append(attrs, slog.Group("quality_sent", "mos", round2(cq.Sent.MOS), "loss", round2(cq.Sent.Loss*100),
			"jitter_ms", round2(cq.Sent.Jitter.Seconds()*1000)))
	}
	if hook := w.cfg.OnCallQuality; hook != nil && !s.leg {
		w.goBackground(func() { hook(s.id, cq) })
	}
	return attrs
}

func round2(v float64) float64 { return float64(int64(v*100+0.5)) / 100 }

// callEnded counts a call that ended and logs its end with its quality.
func (w *Worker) callEnded(s *session, cause int32) {
	w.metrics.ended.WithLabelValues(strings.ReplaceAll(causeName(cause), " ", "_")).Inc()
	s.log.Info("call ended", append([]any{"cause", causeName(cause)}, w.recordQuality(s)...)...)
}
