package sipworker

import (
	"context"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/voxflow/voxflow/activities"
	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// measure: loss from the sequence numbers that never came, jitter from
// the arrival times, and the E-model's verdict on them.
func TestMeasureLossAndJitter(t *testing.T) {
	s := mediaSession(t)
	s.q.rx = vrtp.NewReceiverStats(s.codec.clock)
	t0 := time.Unix(5000, 0)
	pkt := prtp.Packet{Header: prtp.Header{Version: 2, SSRC: 9}, Payload: make([]byte, 160)}
	for i := range 200 {
		if i == 50 || i == 120 { // two lost of 200
			continue
		}
		pkt.SequenceNumber, pkt.Timestamp = uint16(1000+i), uint32(i*160)
		jitter := time.Duration(i%2) * 4 * time.Millisecond // every other packet 4 ms late
		s.q.countRTP(&pkt.Header, t0.Add(time.Duration(i)*frameDur+jitter))
	}
	cq, ok := s.measure(t0.Add(5 * time.Second))
	if !ok {
		t.Fatal("no quality measured")
	}
	r := cq.Received
	if r.Packets != 200 || r.Loss != 0.01 {
		t.Errorf("packets %d, loss %v; want 200, 0.01", r.Packets, r.Loss)
	}
	// 4 ms steps converge to a jitter of about 4 ms (RFC 3550's 1/16 filter).
	if r.Jitter < 3*time.Millisecond || r.Jitter > 5*time.Millisecond {
		t.Errorf("jitter %v, want ~4ms", r.Jitter)
	}
	// G.711 with PLC, 1 % loss, 80 ms mouth to ear: R 93.2 - 1.92 - 3.64.
	if r.R < 87.5 || r.R > 87.8 || r.MOS < 4.27 || r.MOS > 4.29 {
		t.Errorf("R %.2f MOS %.2f, want R ~87.6 MOS ~4.28", r.R, r.MOS)
	}
	if cq.Sent != nil || cq.Codec != "PCMU" {
		t.Errorf("sent %v codec %q: no RTCP from the caller, PCMU", cq.Sent, cq.Codec)
	}
	empty := mediaSession(t)
	if _, ok := empty.measure(t0); ok {
		t.Error("a call without RTP has a quality")
	}
}

// A SIPp call that talks (g711a.pcap) and is hung up by the flow, an
// INVITE to an unbound number, one without From and one cancelled while
// ringing: the worker counts the
// final responses and the ended call, observes the call's quality once
// and hands it on.
func TestCallQualityAndSIPMetrics(t *testing.T) {
	got := make(chan CallQuality, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		time.Sleep(2500 * time.Millisecond) // the caller talks from 0.5 s
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.OnCallQuality = func(callID string, q CallQuality) { got <- q }
	})
	mustPass(t, r.sipp("uac_record.xml", "1000"))
	mustPass(t, r.sipp("uac_unbound_number.xml", "4040"))
	mustPass(t, r.sipp("uac_cancel.xml", "5000"))
	if code := rawInvite(t, r.addr, "From"); code != 400 {
		t.Fatalf("INVITE without From = %d", code)
	}
	r.waitIdle()
	var q CallQuality
	select {
	case q = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no call quality")
	}
	// Loopback: nothing lost, little jitter, the best G.711 can score
	// with 80 ms mouth to ear.
	if q.Codec != "PCMA" || q.Received.Packets < 50 || q.Received.Loss != 0 || q.Received.MOS < 4.3 {
		t.Errorf("quality %+v", q)
	}
	m := r.w.metrics
	for _, c := range []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.invites.WithLabelValues("inbound", "200"), 1},
		{m.invites.WithLabelValues("inbound", "404"), 1},
		{m.invites.WithLabelValues("inbound", "400"), 1},
		{m.invites.WithLabelValues("inbound", "487"), 1},
		{m.ended.WithLabelValues("hangup"), 1},
	} {
		if v := testutil.ToFloat64(c.c); v != c.want {
			t.Errorf("%s = %v, want %v", describe(c.c), v, c.want)
		}
	}
	for _, h := range []*prometheus.HistogramVec{m.loss, m.jitter, m.mos} {
		if n := sampleCount(t, h.WithLabelValues("received", "PCMA")); n != 1 {
			t.Errorf("%s: %d observations, want 1", describe(h), n)
		}
	}
	if n := testutil.CollectAndCount(m.mos); n != 1 {
		t.Errorf("MOS series %d, want 1 (no sent stream without the caller's RTCP)", n)
	}
}

func sampleCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	var d dto.Metric
	if err := o.(prometheus.Metric).Write(&d); err != nil {
		t.Fatal(err)
	}
	return d.GetHistogram().GetSampleCount()
}

func describe(c prometheus.Collector) string {
	ch := make(chan *prometheus.Desc, 1)
	go func() { c.Describe(ch); close(ch) }()
	d := <-ch
	for range ch {
	}
	return d.String()
}
