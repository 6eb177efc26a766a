package sipworker

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/pion/rtcp"
	prtp "github.com/pion/rtp"

	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// rtpDatagrams splits fuzz input into datagrams: each is a 2-byte length
// and that many bytes (the last one takes what is left).
func rtpDatagrams(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 2 && len(out) < 256 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if n > len(b) {
			n = len(b)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func rtpSeed(pkts ...prtp.Packet) []byte {
	var out []byte
	for _, p := range pkts {
		raw, _ := p.Marshal()
		out = binary.BigEndian.AppendUint16(out, uint16(len(raw)))
		out = append(out, raw...)
	}
	return out
}

// FuzzRTPReceive drives a call's receive path with arbitrary datagrams from
// the caller, as readLoop hands them on: pion's RTP parse, then quality
// counting, telephone-events, the jitter buffer and playout on the media
// clock. Keys read are DTMF keys and the call's quality figures are finite.
func FuzzRTPReceive(f *testing.F) {
	audio := func(seq uint16, ts uint32) prtp.Packet {
		return prtp.Packet{Header: prtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts, SSRC: 7}, Payload: make([]byte, 160)}
	}
	ev := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 101, Marker: true, SequenceNumber: 3, Timestamp: 480, SSRC: 7},
		Payload: vrtp.Event{Code: 11, End: true, Duration: 800}.Marshal()}
	f.Add(rtpSeed(audio(1, 0), audio(2, 160), ev, audio(4, 640), audio(4, 640), audio(60000, 1<<31)))
	f.Add(rtpSeed(prtp.Packet{Header: prtp.Header{Version: 2, Padding: true, Extension: true, ExtensionProfile: 0xBEDE,
		CSRC: []uint32{1, 2}, SequenceNumber: 65535, Timestamp: math.MaxUint32, SSRC: 9}, Payload: []byte{1, 2, 3, 3}}))
	f.Add([]byte{0, 4, 0x80, 0, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			receiveAll(t, in)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("receiving %d bytes of datagrams did not finish in 10s", len(in))
		}
	})
}

// receiveAll is FuzzRTPReceive's body: datagrams in, then the checks.
func receiveAll(t *testing.T, in []byte) {
	{
		s := mediaSession(t)
		s.q.rx = vrtp.NewReceiverStats(8000)
		events := vrtp.NewEventReceiver(101)
		now := time.Unix(7000, 0)
		var pkt prtp.Packet
		for _, d := range rtpDatagrams(in) {
			if err := pkt.Unmarshal(d); err != nil {
				continue
			}
			s.receive(&pkt, events)
			now = now.Add(frameDur)
			s.playoutTick(now)
		}
		for s.hasDigit() {
			if d, ok := s.popDigit(); ok {
				if _, code := vrtp.CodeForKey(d); !code {
					t.Errorf("key %q is not a DTMF key", d)
				}
			}
		}
		cq, ok := s.measure(now.Add(time.Second))
		if !ok {
			return
		}
		q := cq.Received
		for _, v := range []float64{q.MOS, q.R, q.Loss} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("quality %+v is not finite", q)
			}
		}
		if q.Loss < 0 || q.Loss > 1 {
			t.Errorf("loss %v out of 0..1 (%+v)", q.Loss, q)
		}
	}
}

// FuzzRTCP reads a caller's RTCP as diago hands it to watchPeerReports
// (pion's compound parse), keeps the first reception report on our stream
// and assesses the quality it reports: loss stays within 0..1 and the
// scores finite whatever the peer claims. A report we rebuild from it
// (BuildReceiverReport) parses back to the same block.
func FuzzRTCP(f *testing.F) {
	rr := rtcp.ReceptionReport{SSRC: 7, FractionLost: 12, TotalLost: 40, LastSequenceNumber: 1000, Jitter: 80}
	for _, p := range []rtcp.Packet{
		&rtcp.SenderReport{SSRC: 1, NTPTime: 0xe000000000000000, RTPTime: 160, PacketCount: 10, OctetCount: 1600, Reports: []rtcp.ReceptionReport{rr}},
		&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 9, TotalLost: 0xffffff, Jitter: math.MaxUint32}}},
	} {
		raw, _ := p.Marshal()
		f.Add(raw, uint16(50))
	}
	if raw, err := vrtp.BuildReceiverReport(3, "fuzz@voxflow", rr); err == nil {
		f.Add(raw, uint16(0))
	}
	f.Add([]byte{0x81, 0xc9, 0, 1, 0, 0, 0, 1}, uint16(1))
	f.Fuzz(func(t *testing.T, raw []byte, sent uint16) {
		pkts, err := rtcp.Unmarshal(raw)
		if err != nil {
			return
		}
		rx := vrtp.NewReceiverStats(8000)
		rx.Update(7, 1, 160, 160, time.Unix(100, 0))
		var peer *rtcp.ReceptionReport
		for _, p := range pkts {
			var reports []rtcp.ReceptionReport
			switch p := p.(type) {
			case *rtcp.SenderReport:
				reports = p.Reports
				rx.OnSenderReport(p, time.Unix(100, 0))
			case *rtcp.ReceiverReport:
				reports = p.Reports
			}
			if len(reports) > 0 && peer == nil {
				peer = &reports[0]
			}
		}
		_ = rx.Report(time.Unix(101, 0))
		if peer == nil {
			return
		}
		q := assess(codecPCMU.model(), uint64(sent), float64(peer.TotalLost), float64(peer.Jitter)/8000, 60*time.Millisecond)
		if q.Loss < 0 || q.Loss > 1 || math.IsNaN(q.MOS) || math.IsNaN(q.R) || math.IsInf(q.R, 0) {
			t.Fatalf("peer report %+v assessed as %+v", *peer, q)
		}
		back, err := vrtp.BuildReceiverReport(3, "fuzz@voxflow", *peer)
		if err != nil {
			return // a block pion will not encode (24-bit loss overflow)
		}
		again, err := rtcp.Unmarshal(back)
		if err != nil {
			t.Fatalf("our receiver report %x does not parse: %v", back, err)
		}
		got, ok := again[0].(*rtcp.ReceiverReport)
		if !ok || len(got.Reports) != 1 || got.Reports[0] != *peer {
			t.Fatalf("report %+v came back as %+v", *peer, again[0])
		}
	})
}
