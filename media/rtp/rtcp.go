package rtp

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/pion/rtcp"
)

// RFC 3550 A.1 limits: a jump of more than maxDropout ahead or maxMisorder
// behind is a restart, confirmed by the next packet following it.
const (
	maxDropout  = 3000
	maxMisorder = 100
)

// ReceiverStats keeps the per-source reception statistics behind an RTCP
// reception report block (RFC 3550 6.4.1, appendix A.1, A.3, A.8).
// Safe for concurrent use: the receive loop updates, the RTCP timer reports.
type ReceiverStats struct {
	mu        sync.Mutex
	clockRate int
	ssrc      uint32
	started   bool
	baseSeq   uint16
	maxSeq    uint16
	cycles    uint32
	badSeq    uint32 // RFC 3550 bad_seq: 1<<16+1 means none pending
	received  uint32
	expPrior  uint32
	recPrior  uint32
	epoch     time.Time // arrival times are measured from here
	transit   int32
	hasTrans  bool
	jitter    float64
	lsr       uint32 // middle 32 bits of the last SR's NTP time
	lsrAt     time.Time
	octets    uint64
}

// NewReceiverStats returns statistics for one remote source at the given RTP
// clock rate (8000 for G.711).
func NewReceiverStats(clockRate int) *ReceiverStats {
	return &ReceiverStats{clockRate: clockRate, badSeq: 1<<16 + 1}
}

// Update records one received packet. arrival is the local receive time.
func (s *ReceiverStats) Update(ssrc uint32, seq uint16, ts uint32, payloadLen int, arrival time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || ssrc != s.ssrc {
		s.started, s.ssrc, s.epoch = true, ssrc, arrival
		s.initSeq(seq)
		s.hasTrans, s.jitter = false, 0
	} else if !s.updateSeq(seq) {
		return
	}
	s.received++
	s.octets += uint64(payloadLen)

	// A.8: transit time in timestamp units; its offset is irrelevant, only
	// its variation counts. Serial arithmetic keeps it right across wraps.
	now := uint32(arrival.Sub(s.epoch).Nanoseconds() * int64(s.clockRate) / int64(time.Second))
	transit := int32(now - ts)
	if s.hasTrans {
		d := math.Abs(float64(transit - s.transit))
		s.jitter += (d - s.jitter) / 16
	}
	s.transit, s.hasTrans = transit, true
}

func (s *ReceiverStats) initSeq(seq uint16) {
	s.baseSeq, s.maxSeq = seq, seq
	s.badSeq = 1<<16 + 1
	s.cycles, s.received, s.expPrior, s.recPrior = 0, 0, 0, 0
}

// updateSeq is RFC 3550 A.1 update_seq without the probation period (the
// SSRC comes from signalling we trust more than the first two packets).
func (s *ReceiverStats) updateSeq(seq uint16) bool {
	udelta := seq - s.maxSeq
	switch {
	case udelta < maxDropout:
		if seq < s.maxSeq {
			s.cycles += 1 << 16 // wrapped
		}
		s.maxSeq = seq
	case udelta <= 1<<16-maxMisorder:
		// A big jump: believe it only if the next packet follows it.
		if uint32(seq) == s.badSeq {
			s.initSeq(seq)
		} else {
			s.badSeq = uint32(seq+1) & 0xffff
			return false
		}
	default:
		// Duplicate or reordered: counted as received (RFC 3550 does too,
		// which is why cumulative loss can go negative).
	}
	return true
}

// Jitter is the current interarrival jitter estimate in timestamp units.
func (s *ReceiverStats) Jitter() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jitter
}

// OnSenderReport records an SR from the source so the next report carries
// LSR/DLSR and the sender can compute the round-trip time.
func (s *ReceiverStats) OnSenderReport(sr *rtcp.SenderReport, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lsr, s.lsrAt = uint32(sr.NTPTime>>16), at
}

// Report returns the reception report block for now and starts a new
// interval for the fraction-lost calculation (A.3).
func (s *ReceiverStats) Report(now time.Time) rtcp.ReceptionReport {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return rtcp.ReceptionReport{}
	}
	extMax := s.cycles + uint32(s.maxSeq)
	expected := extMax - uint32(s.baseSeq) + 1
	lost := int64(expected) - int64(s.received)
	// 24-bit signed on the wire; negative (duplicates) is reported as 0
	// because pion encodes the field unsigned.
	lost = min(max(lost, 0), 0x7fffff)

	expInterval := expected - s.expPrior
	recInterval := s.received - s.recPrior
	s.expPrior, s.recPrior = expected, s.received
	var fraction uint8
	if lostInterval := int64(expInterval) - int64(recInterval); expInterval != 0 && lostInterval > 0 {
		fraction = uint8(lostInterval << 8 / int64(expInterval))
	}
	var dlsr uint32
	if !s.lsrAt.IsZero() {
		dlsr = uint32(now.Sub(s.lsrAt).Seconds() * 65536)
	}
	return rtcp.ReceptionReport{
		SSRC:               s.ssrc,
		FractionLost:       fraction,
		TotalLost:          uint32(lost),
		LastSequenceNumber: extMax,
		Jitter:             uint32(s.jitter),
		LastSenderReport:   s.lsr,
		Delay:              dlsr,
	}
}

// ntpEpochOffset is the seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// NTPTime converts t to the 64-bit NTP format of sender reports.
func NTPTime(t time.Time) uint64 {
	sec := uint64(t.Unix() + ntpEpochOffset)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}

// BuildSenderReport marshals an SR for a stream we send. rtpTime is the
// stream's RTP timestamp at now (Pacer.RTPTimeAt); reports describe the
// streams we receive. A non-empty cname appends the SDES CNAME that RFC 3550
// 6.1 requires in every compound packet.
func BuildSenderReport(st SenderStats, rtpTime uint32, now time.Time, cname string, reports ...rtcp.ReceptionReport) ([]byte, error) {
	sr := &rtcp.SenderReport{
		SSRC:        st.SSRC,
		NTPTime:     NTPTime(now),
		RTPTime:     rtpTime,
		PacketCount: st.Packets,
		OctetCount:  st.Octets,
		Reports:     reports,
	}
	b, err := compound(sr, st.SSRC, cname)
	if err != nil {
		return nil, fmt.Errorf("rtcp: marshal sender report: %w", err)
	}
	return b, nil
}

// BuildReceiverReport marshals an RR, for when we receive but do not send;
// cname as for BuildSenderReport.
func BuildReceiverReport(ssrc uint32, cname string, reports ...rtcp.ReceptionReport) ([]byte, error) {
	rr := &rtcp.ReceiverReport{SSRC: ssrc, Reports: reports}
	b, err := compound(rr, ssrc, cname)
	if err != nil {
		return nil, fmt.Errorf("rtcp: marshal receiver report: %w", err)
	}
	return b, nil
}

func compound(report rtcp.Packet, ssrc uint32, cname string) ([]byte, error) {
	if cname == "" {
		return report.Marshal()
	}
	return rtcp.Marshal([]rtcp.Packet{report, rtcp.NewCNAMESourceDescription(ssrc, cname)})
}
