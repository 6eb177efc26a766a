package rtp

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	prtp "github.com/pion/rtp"
)

// FrameSource supplies the payload of one frame per tick. ok=false means
// silence: nothing is sent for that frame, the timestamp still advances (so
// the receiver sees the real gap), and the next frame carries the marker bit.
// The returned slice is copied before NextFrame is called again.
type FrameSource interface {
	NextFrame() (payload []byte, ok bool)
}

// FrameSourceFunc adapts a function to FrameSource.
type FrameSourceFunc func() ([]byte, bool)

// NextFrame calls f.
func (f FrameSourceFunc) NextFrame() ([]byte, bool) { return f() }

// PacerConfig describes the outgoing stream.
type PacerConfig struct {
	PayloadType   uint8         // audio payload type, e.g. 0 PCMU, 8 PCMA
	ClockRate     int           // RTP clock of the audio codec; 8000 if zero
	FrameDuration time.Duration // ptime; 20 ms if zero
	// EventPayloadType is the negotiated telephone-event payload type; zero
	// disables SendDigit (zero is PCMU, never a dynamic type).
	EventPayloadType uint8
	// EventClockRate is the telephone-event clock (its rtpmap rate), in
	// which event durations are counted; ClockRate if zero. Event packets
	// still carry the stream's timestamp: Opus (48 kHz RTP clock) with
	// telephone-event/8000 stamps events at 48 kHz and counts their
	// durations at 8 kHz.
	EventClockRate int
	// WritePacket, when set, receives each packet unmarshalled instead of
	// the write func given to NewPacer (which may then be nil): for an RTP
	// stack that marshals itself, saving a marshal and a parse per packet.
	// It must not keep the packet or its payload.
	WritePacket func(pkt *prtp.Packet) error
}

// SenderStats are the counters an RTCP sender report needs.
type SenderStats struct {
	SSRC        uint32
	Packets     uint32 // RTP packets sent (wraps, as in RTCP)
	Octets      uint32 // payload octets sent, headers excluded (RFC 3550 6.4.1)
	Skipped     uint64 // frame slots not sent because the loop stalled
	WriteErrors uint64
	LastError   error
}

// Pacer sends one frame per FrameDuration: on a time.Ticker of its own
// (Run), or on the ticks of a Clock shared with other streams (Tick).
//
// The timestamp of every packet is derived from its frame slot since Run
// started (initial timestamp + slot*samples per frame), not from a counter of
// packets sent, so silence and stalls leave the gap a receiver needs to play
// out in real time. After a stall (GC, CPU starvation) the loop does not burst
// the missed frames: the ticker keeps at most one pending tick, so at most one
// late frame goes out, stamped with the slot it is sent in; the missed slots
// are skipped (counted in Stats) and the next packet carries the marker bit
// like the start of a talkspurt. The source is not pulled for skipped slots,
// so a prompt is delayed by a stall, never cut.
//
// Sequence number, timestamp and SSRC start random (RFC 3550 5.1). Write
// errors are counted, not fatal: on a connected UDP socket an ICMP
// port-unreachable surfaces as ECONNREFUSED while the peer is not yet
// listening, and the stream must survive that.
type Pacer struct {
	cfg   PacerConfig
	write func(pkt []byte) error
	spf   uint32 // samples per frame
	ts0   uint32

	mu       sync.Mutex
	src      FrameSource
	digits   []queuedDigit
	event    []*prtp.Packet // packets of the event being sent
	seq      uint16
	start    time.Time
	lastSlot int64
	// lastSent is the last slot a packet went out in; early says the frame
	// of lastSlot was sent ahead of its tick (startNow).
	lastSent int64
	early    bool
	marker   bool
	stats    SenderStats
	buf      []byte      // marshalled packet, for the write func
	pkt      prtp.Packet // the audio packet being sent, reused
	running  bool
}

type queuedDigit struct {
	code uint8
	d    time.Duration
}

// NewPacer returns a pacer that hands each marshalled packet to write. write
// must not keep the slice (net.Conn.Write does not).
func NewPacer(cfg PacerConfig, write func(pkt []byte) error) (*Pacer, error) {
	if cfg.ClockRate == 0 {
		cfg.ClockRate = 8000
	}
	if cfg.EventClockRate == 0 {
		cfg.EventClockRate = cfg.ClockRate
	}
	if cfg.FrameDuration == 0 {
		cfg.FrameDuration = 20 * time.Millisecond
	}
	if write == nil && cfg.WritePacket == nil {
		return nil, errors.New("pacer: nil write func")
	}
	spf := samples(cfg.FrameDuration, cfg.ClockRate)
	if spf <= 0 || cfg.FrameDuration < time.Millisecond {
		return nil, fmt.Errorf("pacer: frame duration %v at %d Hz", cfg.FrameDuration, cfg.ClockRate)
	}
	return &Pacer{
		cfg:      cfg,
		write:    write,
		spf:      uint32(spf),
		ts0:      rand.Uint32(),
		seq:      uint16(rand.Uint32()),
		stats:    SenderStats{SSRC: rand.Uint32()},
		lastSlot: -1,
		lastSent: -1,
		marker:   true,
	}, nil
}

// SSRC of the stream.
func (p *Pacer) SSRC() uint32 { return p.stats.SSRC }

// SetSource replaces what is played; nil is silence. A source that ends
// silence starts at once: its first frame goes out now, in the slot now
// falls in, rather than at the next tick up to a frame later (a prompt
// answering a key press starts without waiting for the frame grid).
func (p *Pacer) SetSource(src FrameSource) {
	p.setSourceAt(src, time.Now())
}

func (p *Pacer) setSourceAt(src FrameSource, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	wasSilent := p.src == nil
	p.src = src
	if src != nil && wasSilent {
		p.startNow(now)
	}
}

// startNow sends the first frame of a new source at once: in the slot now
// falls in, or in the next one when a packet already went out in this one
// (a prompt cut by a key press: the new one follows on the grid, at most a
// frame ahead of time). The tick of a slot sent ahead is skipped (early),
// so the frame grid does not move. Nothing is sent before the stream
// starts or while an event is being sent.
func (p *Pacer) startNow(now time.Time) {
	if p.start.IsZero() || len(p.event) > 0 || len(p.digits) > 0 {
		return
	}
	current := int64(now.Sub(p.start) / p.cfg.FrameDuration)
	slot := max(current, p.lastSent+1)
	if slot < p.lastSlot || slot > current+1 {
		return
	}
	if slot > p.lastSlot {
		if gap := slot - p.lastSlot - 1; gap > 0 && p.lastSlot >= 0 {
			p.stats.Skipped += uint64(gap)
		}
		p.lastSlot, p.early = slot, true
	}
	p.sendAudio(slot)
}

// SendDigit queues an RFC 4733 key press of duration d (typically 100 ms).
// While it is sent (one packet per frame: updates, then the end packet three
// times) the audio source is paused; audio resumes with the marker bit.
func (p *Pacer) SendDigit(key rune, d time.Duration) error {
	code, ok := CodeForKey(key)
	if !ok {
		return fmt.Errorf("pacer: %q is not a DTMF key", key)
	}
	if p.cfg.EventPayloadType == 0 {
		return errors.New("pacer: no telephone-event payload type negotiated")
	}
	if n := samples(d, p.cfg.EventClockRate); n <= 0 || n > 0xffff {
		return fmt.Errorf("pacer: digit duration %v out of range", d)
	}
	p.mu.Lock()
	p.digits = append(p.digits, queuedDigit{code, d})
	p.mu.Unlock()
	return nil
}

// Stats returns the counters so far.
func (p *Pacer) Stats() SenderStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// RTPTimeAt is the stream's RTP timestamp for wall-clock time t, for the
// RTPTime field of a sender report. Zero before Run.
func (p *Pacer) RTPTimeAt(t time.Time) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		return 0
	}
	return p.ts0 + uint32(samples(t.Sub(p.start), p.cfg.ClockRate))
}

// Run sends until ctx is done and returns ctx.Err(). It may be called once.
func (p *Pacer) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("pacer: Run called twice")
	}
	p.running = true
	p.mu.Unlock()

	t := time.NewTicker(p.cfg.FrameDuration)
	defer t.Stop()
	p.tick(time.Now()) // slot 0 goes out now, not one frame late
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			// time.Now, not the tick's time: a tick buffered during a stall
			// carries the stale time and would stamp the frame in the past.
			p.tick(time.Now())
		}
	}
}

// Tick sends the frame due at now, for a pacer driven by a Clock (or any
// caller ticking every FrameDuration) instead of Run; use one or the other.
// The first call starts the stream. Its slots are laid out so that ticks
// fall in their middle: a tick late or early by up to half a frame against
// the first still sends its own slot.
func (p *Pacer) Tick(now time.Time) {
	p.mu.Lock()
	if p.start.IsZero() {
		p.start = now.Add(-p.cfg.FrameDuration / 2)
	}
	p.mu.Unlock()
	p.tick(now)
}

// tick sends the frame for the slot that now falls in.
func (p *Pacer) tick(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = now
	}
	slot := int64(now.Sub(p.start) / p.cfg.FrameDuration)
	if slot == p.lastSlot && p.early {
		p.early = false // this slot's frame went out early (startNow)
		return
	}
	p.early = false
	if slot <= p.lastSlot {
		slot = p.lastSlot + 1 // an early tick never reuses a timestamp
	}
	if gap := slot - p.lastSlot - 1; gap > 0 && p.lastSlot >= 0 {
		p.stats.Skipped += uint64(gap)
		p.marker = true
	}
	p.lastSlot = slot
	ts := p.ts0 + uint32(slot)*p.spf

	if len(p.event) == 0 && len(p.digits) > 0 {
		d := p.digits[0]
		p.digits = p.digits[1:]
		s := EventSender{PayloadType: p.cfg.EventPayloadType, ClockRate: p.cfg.EventClockRate, Interval: p.cfg.FrameDuration}
		// Validated in SendDigit, so this cannot fail.
		p.event, _ = s.Packets(d.code, d.d, prtp.Header{SSRC: p.stats.SSRC, Timestamp: ts})
	}
	if len(p.event) > 0 {
		pkt := p.event[0]
		p.event = p.event[1:]
		pkt.SequenceNumber = p.seq
		p.send(pkt)
		p.lastSent = slot
		p.marker = true // audio after an event starts a new talkspurt
		return
	}
	p.sendAudio(slot)
}

// sendAudio sends the source's next frame in slot, or notes silence.
func (p *Pacer) sendAudio(slot int64) {
	ts := p.ts0 + uint32(slot)*p.spf
	if p.src == nil {
		p.marker = true
		return
	}
	payload, ok := p.src.NextFrame()
	if !ok {
		p.marker = true
		return
	}
	p.lastSent = slot
	// One packet reused for every frame: writers must not keep it.
	p.pkt = prtp.Packet{
		Header: prtp.Header{
			Version:        2,
			Marker:         p.marker,
			PayloadType:    p.cfg.PayloadType,
			SequenceNumber: p.seq,
			Timestamp:      ts,
			SSRC:           p.stats.SSRC,
		},
		Payload: payload,
	}
	p.marker = false
	p.send(&p.pkt)
	p.pkt.Payload = nil // the source's buffer is not ours to hold
}

func (p *Pacer) send(pkt *prtp.Packet) {
	p.seq++
	var err error
	if p.cfg.WritePacket != nil {
		err = p.cfg.WritePacket(pkt)
	} else {
		if n := pkt.MarshalSize(); n > len(p.buf) {
			p.buf = make([]byte, max(n, 1500))
		}
		var n int
		if n, err = pkt.MarshalTo(p.buf); err == nil {
			err = p.write(p.buf[:n])
		}
	}
	if err != nil {
		p.stats.WriteErrors++
		p.stats.LastError = fmt.Errorf("pacer: send seq %d: %w", pkt.SequenceNumber, err)
		return
	}
	p.stats.Packets++
	p.stats.Octets += uint32(len(pkt.Payload))
}
