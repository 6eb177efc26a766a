package rtp

import (
	"fmt"
	"sync"
	"time"

	prtp "github.com/pion/rtp"
)

// jitterSlots bounds how far ahead of the playout point a packet may be
// (2.56 s of 20 ms frames); anything further is a stream jump, not jitter.
const jitterSlots = 128

// Conceal says what the jitter buffer plays for a missing frame.
type Conceal uint8

const (
	// ConcealRepeat repeats the last frame (up to MaxRepeat times in a row,
	// then silence): for G.711 one repeated 20 ms frame is far less audible
	// than a hole, but a repeated frame held for long is a buzz.
	ConcealRepeat Conceal = iota
	// ConcealSilence plays silence.
	ConcealSilence
)

// JitterConfig configures a JitterBuffer.
type JitterConfig struct {
	FrameDuration time.Duration // 20 ms if zero
	Depth         time.Duration // playout delay; 60 ms if zero
	Conceal       Conceal
	MaxRepeat     int // consecutive repeats before silence; 2 if zero
}

// FrameKind says where a frame from Pop came from.
type FrameKind uint8

const (
	FrameSilence  FrameKind = iota // nothing to play: before the first packet, prefill, or concealment
	FramePlayed                    // a received packet
	FrameRepeated                  // concealment: the last played payload again
)

// Frame is one playout interval's worth of media.
type Frame struct {
	Kind FrameKind
	// Payload is nil for FrameSilence: the caller knows the codec and its
	// silence (0xFF for PCMU, 0xD5 for PCMA). It is the buffer's copy,
	// valid until the next Pop; do not modify it, it may be handed out
	// again as a repeat.
	Payload        []byte
	SequenceNumber uint16 // of the played packet; of the missing one when concealed
	Timestamp      uint32 // of the played packet
	Marker         bool
}

// JitterStats counts what the buffer did.
type JitterStats struct {
	Received   uint64 // packets accepted
	Duplicates uint64 // packets dropped because that sequence number was buffered
	Late       uint64 // packets dropped because their frame was already played or concealed
	Lost       uint64 // sequence numbers never received in time
	Played     uint64 // frames played from packets
	Repeated   uint64 // frames concealed by repetition
	Silent     uint64 // silence frames (prefill, concealment, no stream)
	Underflows uint64 // times the buffer ran dry while playing
	Resyncs    uint64 // restarts on an SSRC change or a sequence jump
}

// JitterBuffer reorders one RTP stream by sequence number and releases one
// frame per Pop; the caller calls Pop on its own playout clock (a 20 ms
// ticker, or a mixer's). It has a fixed depth: playout of a talkspurt starts
// Depth after its first packet, and a frame whose packet has not arrived by
// the time it is due is concealed and its packet, if it arrives later,
// dropped as late. When the buffer runs dry (the sender stopped: silence
// suppression, hold, a DTMF event on another payload type) it waits for the
// next packet and prefills again, rather than conceal its way past sequence
// numbers that are merely not sent yet. Sequence numbers are compared with
// serial arithmetic, so the 16-bit wrap is transparent.
//
// Push and Pop may be called from different goroutines. Push copies the
// payload into a buffer of its own (recycled once played), so the caller may
// reuse pkt and its buffer, and a steady stream allocates nothing.
type JitterBuffer struct {
	mu       sync.Mutex
	cfg      JitterConfig
	depth    int
	slots    [jitterSlots]*jbEntry
	free     []*jbEntry // played or dropped entries, for reuse
	count    int
	hi       int // offset of the furthest buffered packet from next
	state    jbState
	next     uint16
	floor    uint16 // first sequence number not yet played or given up
	hasFloor bool   // false on a fresh stream: nothing played yet
	lateRun  int    // consecutive late packets
	waited   int
	last     *jbEntry // the last played frame, kept for repeats
	repeats  int
	ssrc     uint32
	haveSSRC bool
	stats    JitterStats
}

// jbEntry is one buffered packet: what Pop needs of it, and a copy of its
// payload.
type jbEntry struct {
	seq     uint16
	ts      uint32
	marker  bool
	payload []byte
}

type jbState uint8

const (
	jbIdle     jbState = iota // no packet yet
	jbPrefill                 // first packet in, waiting Depth before playing
	jbPlaying                 // releasing frames
	jbRebuffer                // ran dry; waiting for the next packet
)

// NewJitterBuffer returns an empty buffer.
func NewJitterBuffer(cfg JitterConfig) (*JitterBuffer, error) {
	if cfg.FrameDuration == 0 {
		cfg.FrameDuration = 20 * time.Millisecond
	}
	if cfg.Depth == 0 {
		cfg.Depth = 60 * time.Millisecond
	}
	if cfg.MaxRepeat == 0 {
		cfg.MaxRepeat = 2
	}
	depth := int((cfg.Depth + cfg.FrameDuration - 1) / cfg.FrameDuration)
	if cfg.FrameDuration < 0 || depth < 1 || depth > jitterSlots/2 {
		return nil, fmt.Errorf("jitter buffer: depth %v in %v frames is outside 1..%d frames", cfg.Depth, cfg.FrameDuration, jitterSlots/2)
	}
	return &JitterBuffer{cfg: cfg, depth: depth, hi: -1}, nil
}

// Push adds a received packet. It reports whether the packet was kept.
func (j *JitterBuffer) Push(pkt *prtp.Packet) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.haveSSRC && pkt.SSRC != j.ssrc {
		j.resync(pkt, true)
		return true
	}
	j.ssrc, j.haveSSRC = pkt.SSRC, true
	diff := int(int16(pkt.SequenceNumber - j.next))
	switch j.state {
	case jbIdle:
		j.resync(pkt, false)
		return true
	case jbRebuffer:
		if diff >= jitterSlots || diff <= -jitterSlots {
			j.resync(pkt, true)
			return true
		}
		if diff < 0 {
			return j.late(pkt)
		}
		// Frames between the last played and this one were not sent or were
		// lost; prefill counts which when it ends.
		j.state, j.waited, j.next, j.hi = jbPrefill, 0, pkt.SequenceNumber, -1
		return j.store(pkt, 0)
	}
	if diff >= jitterSlots || diff <= -jitterSlots {
		j.resync(pkt, true)
		return true
	}
	if diff < 0 {
		// Before the playout point. During prefill nothing has been played,
		// so an earlier packet that arrived out of order moves the start back,
		// unless it is before what was already played or given up.
		back := -diff
		if j.state == jbPrefill && j.hi+back < jitterSlots && (!j.hasFloor || int16(pkt.SequenceNumber-j.floor) >= 0) {
			j.next -= uint16(back)
			j.hi += back
			return j.store(pkt, 0)
		}
		return j.late(pkt)
	}
	return j.store(pkt, diff)
}

// maxLateRun late packets in a row mean the sender restarted its sequence a
// little behind where it was (same SSRC); follow it rather than drop it all.
const maxLateRun = 8

func (j *JitterBuffer) late(pkt *prtp.Packet) bool {
	j.lateRun++
	if j.lateRun >= maxLateRun {
		j.resync(pkt, true)
		return true
	}
	j.stats.Late++
	return false
}

func (j *JitterBuffer) store(pkt *prtp.Packet, off int) bool {
	i := pkt.SequenceNumber % jitterSlots
	if j.slots[i] != nil {
		j.stats.Duplicates++
		return false
	}
	e := j.entry()
	e.seq, e.ts, e.marker = pkt.SequenceNumber, pkt.Timestamp, pkt.Marker
	e.payload = append(e.payload[:0], pkt.Payload...)
	j.slots[i] = e
	j.lateRun = 0
	j.count++
	j.hi = max(j.hi, off)
	j.stats.Received++
	return true
}

// entry is a free entry, recycled if there is one.
func (j *JitterBuffer) entry() *jbEntry {
	if n := len(j.free); n > 0 {
		e := j.free[n-1]
		j.free = j.free[:n-1]
		return e
	}
	return &jbEntry{}
}

// recycle keeps e for reuse, up to a few more than the buffer's depth: a
// burst of packets (a stalled sender catching up) needs more entries for a
// moment, and they are left to the GC rather than held for the call.
func (j *JitterBuffer) recycle(e *jbEntry) {
	if e != nil && len(j.free) < j.depth+2 {
		j.free = append(j.free, e)
	}
}

// resync drops everything and starts a new stream at pkt.
func (j *JitterBuffer) resync(pkt *prtp.Packet, counted bool) {
	for i, e := range j.slots {
		if e != nil {
			j.recycle(e)
			j.slots[i] = nil
		}
	}
	j.count, j.hi, j.lateRun = 0, -1, 0
	j.state, j.waited = jbPrefill, 0
	j.next, j.hasFloor = pkt.SequenceNumber, false
	j.ssrc, j.haveSSRC = pkt.SSRC, true
	j.recycle(j.last)
	j.last = nil
	if counted {
		j.stats.Resyncs++
	}
	j.store(pkt, 0)
}

// Pop returns the frame for this playout interval.
func (j *JitterBuffer) Pop() Frame {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch j.state {
	case jbIdle:
		j.stats.Silent++
		return Frame{Kind: FrameSilence}
	case jbRebuffer:
		return j.conceal()
	case jbPrefill:
		j.waited++
		if j.waited < j.depth {
			return j.conceal() // silence on a fresh stream: nothing to repeat
		}
		// Sequence numbers skipped while the stream was dry never arrived.
		if gap := int16(j.next - j.floor); j.hasFloor && gap > 0 {
			j.stats.Lost += uint64(gap)
		}
		j.state, j.hasFloor = jbPlaying, true
	}
	i := j.next % jitterSlots
	if e := j.slots[i]; e != nil {
		j.slots[i] = nil
		j.count--
		j.advance()
		j.recycle(j.last) // its payload was valid until this Pop
		j.last, j.repeats = e, 0
		j.stats.Played++
		return Frame{Kind: FramePlayed, Payload: e.payload, SequenceNumber: e.seq, Timestamp: e.ts, Marker: e.marker}
	}
	if j.count == 0 {
		// Dry: the sender may just have paused. Wait for its next packet
		// instead of declaring the sequence numbers it has not sent lost.
		j.stats.Underflows++
		j.state = jbRebuffer
		return j.conceal()
	}
	// A later packet is here and this one is due: it is lost.
	j.stats.Lost++
	f := j.conceal()
	f.SequenceNumber = j.next
	j.advance()
	return f
}

func (j *JitterBuffer) advance() {
	j.next++
	j.floor = j.next
	j.hi--
	if j.count == 0 {
		j.hi = -1
	}
}

func (j *JitterBuffer) conceal() Frame {
	if j.cfg.Conceal == ConcealRepeat && j.last != nil && j.repeats < j.cfg.MaxRepeat {
		j.repeats++
		j.stats.Repeated++
		return Frame{Kind: FrameRepeated, Payload: j.last.payload}
	}
	j.stats.Silent++
	return Frame{Kind: FrameSilence}
}

// Stats returns the counters so far.
func (j *JitterBuffer) Stats() JitterStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.stats
}

// Buffered is the number of packets waiting to be played.
func (j *JitterBuffer) Buffered() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.count
}
