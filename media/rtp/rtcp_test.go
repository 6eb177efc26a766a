package rtp

import (
	"math"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// feed pushes packets with the given sequence numbers, each stamped and
// arriving exactly on its 20 ms slot counted from first (so timing is perfect).
func feed(s *ReceiverStats, first uint16, seqs ...uint16) {
	for _, q := range seqs {
		slot := int64(uint16(q - first))
		s.Update(42, q, 1000+uint32(slot)*160, 160, t0.Add(time.Duration(slot)*20*time.Millisecond))
	}
}

func seqRange(from uint16, n int, skip ...uint16) []uint16 {
	drop := map[uint16]bool{}
	for _, q := range skip {
		drop[q] = true
	}
	var out []uint16
	for i := 0; i < n; i++ {
		if q := from + uint16(i); !drop[q] {
			out = append(out, q)
		}
	}
	return out
}

func TestReceiverStatsLoss(t *testing.T) {
	tests := []struct {
		name         string
		first        uint16
		seqs         []uint16
		wantFraction uint8
		wantLost     uint32
		wantExtMax   uint32
	}{
		{"no loss", 1, seqRange(1, 100), 0, 0, 100},
		// 10 of 100 lost: 10*256/100 = 25.6, truncated.
		{"10% loss", 1, seqRange(1, 100, 5, 15, 25, 35, 45, 55, 65, 75, 85, 95), 25, 10, 100},
		{"loss at the wrap", 65500, seqRange(65500, 100, 65535, 0, 1), 7, 3, 1<<16 + 63},
		// Duplicates make expected-received negative: reported as 0.
		{"duplicates", 1, append(seqRange(1, 10), 3, 4, 5), 0, 0, 10},
		{"reordered, none lost", 1, []uint16{1, 3, 2, 5, 4, 6}, 0, 0, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewReceiverStats(8000)
			feed(s, tt.first, tt.seqs...)
			r := s.Report(t0.Add(time.Minute))
			if r.FractionLost != tt.wantFraction || r.TotalLost != tt.wantLost || r.LastSequenceNumber != tt.wantExtMax || r.SSRC != 42 {
				t.Fatalf("report %+v; want fraction %d lost %d ext max %d", r, tt.wantFraction, tt.wantLost, tt.wantExtMax)
			}
		})
	}
}

func TestReceiverStatsIntervals(t *testing.T) {
	s := NewReceiverStats(8000)
	feed(s, 1, seqRange(1, 50, 10)...) // 1 of 50 lost: 256/50 = 5
	if r := s.Report(t0); r.FractionLost != 5 || r.TotalLost != 1 {
		t.Fatalf("first interval %+v", r)
	}
	feed(s, 1, seqRange(51, 50, 60, 61, 62, 63, 64)...) // 5 of 50: 25
	if r := s.Report(t0); r.FractionLost != 25 || r.TotalLost != 6 {
		t.Fatalf("second interval %+v", r)
	}
	if r := s.Report(t0); r.FractionLost != 0 || r.TotalLost != 6 {
		t.Fatalf("empty interval %+v", r)
	}
	if r := NewReceiverStats(8000).Report(t0); r != (rtcp.ReceptionReport{}) {
		t.Fatalf("report before any packet %+v", r)
	}
}

func TestReceiverStatsRestart(t *testing.T) {
	s := NewReceiverStats(8000)
	feed(s, 1, seqRange(1, 10)...)
	// One packet far ahead is ignored (could be a stray); two in a row restart.
	feed(s, 1, 20000)
	if r := s.Report(t0); r.LastSequenceNumber != 10 {
		t.Fatalf("stray jump accepted: %+v", r)
	}
	feed(s, 1, 20000, 20001, 20002)
	if r := s.Report(t0); r.LastSequenceNumber != 20002 || r.TotalLost != 0 {
		t.Fatalf("restart not followed: %+v", r)
	}
}

func TestReceiverStatsJitter(t *testing.T) {
	type arrival struct {
		seq   uint16
		ts    uint32
		delay time.Duration // extra delay on top of the ideal 20 ms slot
	}
	run := func(as []arrival) float64 {
		s := NewReceiverStats(8000)
		for i, a := range as {
			s.Update(7, a.seq, a.ts, 160, t0.Add(time.Duration(i)*20*time.Millisecond+a.delay))
		}
		return s.Jitter()
	}
	perfect := []arrival{}
	for i := range 50 {
		perfect = append(perfect, arrival{uint16(i), uint32(i) * 160, 0})
	}
	if j := run(perfect); j != 0 {
		t.Errorf("perfect timing: jitter %v", j)
	}

	// One packet 10 ms (80 samples) late: D = +80 then -80.
	// J1 = 80/16 = 5; J2 = 5 + (80-5)/16 = 9.6875.
	spike := []arrival{{0, 0, 0}, {1, 160, 10 * time.Millisecond}, {2, 320, 0}}
	if j := run(spike); math.Abs(j-9.6875) > 1e-9 {
		t.Errorf("single 10 ms spike: jitter %v, want 9.6875", j)
	}

	// Alternating 0/5 ms delay: |D| = 40 on every packet after the first,
	// so J_n = 40 (1 - (15/16)^n).
	var alt []arrival
	for i := range 100 {
		d := time.Duration(0)
		if i%2 == 1 {
			d = 5 * time.Millisecond
		}
		// Timestamps cross the 32-bit wrap to show it does not matter.
		alt = append(alt, arrival{uint16(65500 + i), 0xffffff00 + uint32(i)*160, d})
	}
	want := 40 * (1 - math.Pow(15.0/16, 99))
	if j := run(alt); math.Abs(j-want) > 1e-6 {
		t.Errorf("alternating 5 ms: jitter %v, want %v", j, want)
	}

	// The same stream timed by a clock running at 16 kHz doubles in units.
	s := NewReceiverStats(16000)
	s.Update(1, 0, 0, 0, t0)
	s.Update(1, 1, 320, 0, t0.Add(30*time.Millisecond)) // 10 ms late = 160 units
	if j := s.Jitter(); j != 10 {
		t.Errorf("16 kHz: jitter %v, want 10", j)
	}
}

func TestRTCPBuild(t *testing.T) {
	if got := NTPTime(time.Unix(0, 0)); got != ntpEpochOffset<<32 {
		t.Fatalf("NTPTime(unix 0) = %#x", got)
	}
	if got := NTPTime(time.Unix(1, int64(500*time.Millisecond))); got != (ntpEpochOffset+1)<<32|1<<31 {
		t.Fatalf("NTPTime(1.5 s) = %#x", got)
	}

	rs := NewReceiverStats(8000)
	feed(rs, 1, seqRange(1, 100, 50)...)
	srIn := &rtcp.SenderReport{NTPTime: 0x1234567890abcdef}
	rs.OnSenderReport(srIn, t0)
	block := rs.Report(t0.Add(500 * time.Millisecond))
	if block.LastSenderReport != 0x567890ab || block.Delay != 32768 {
		t.Fatalf("LSR %#x DLSR %d, want 0x567890ab and 32768 (0.5 s)", block.LastSenderReport, block.Delay)
	}

	b, err := BuildSenderReport(SenderStats{SSRC: 9, Packets: 250, Octets: 40000}, 123456, t0, "voxflow@media-1", block)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := rtcp.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) != 2 {
		t.Fatalf("compound of %d packets, want SR + SDES", len(pkts))
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok || sr.SSRC != 9 || sr.PacketCount != 250 || sr.OctetCount != 40000 || sr.RTPTime != 123456 || sr.NTPTime != NTPTime(t0) || len(sr.Reports) != 1 || sr.Reports[0] != block {
		t.Fatalf("SR %+v", pkts[0])
	}
	if sd, ok := pkts[1].(*rtcp.SourceDescription); !ok || string(sd.Chunks[0].Items[0].Text) != "voxflow@media-1" {
		t.Fatalf("SDES %+v", pkts[1])
	}

	b, err = BuildReceiverReport(10, "", block)
	if err != nil {
		t.Fatal(err)
	}
	pkts, err = rtcp.Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if rr, ok := pkts[0].(*rtcp.ReceiverReport); !ok || len(pkts) != 1 || rr.SSRC != 10 || rr.Reports[0].TotalLost != 1 {
		t.Fatalf("RR %+v", pkts)
	}
}
