package sipworker

import (
	"math"
	"sync"

	vrtp "github.com/voxflow/voxflow/media/rtp"
)

// The bridge's mixer. Every party of a bridge (the caller, the agent, a
// supervisor, a consulted party) hands the mixer its decoded audio from its
// playout, and its pacer is sent the sum of the parties it may hear, never
// its own audio (no echo), encoded with its own codec. Each listener keeps
// one queue per talker, all filled whether heard or not and drained at the
// listener's pace: who hears whom can change between two frames without
// old audio coming out of a queue that was not being heard.

// role is a party's place in a bridge.
type role int

const (
	roleNone role = iota - 1 // a ring that was cancelled
	roleCaller
	roleAgent
	roleSupervisor
	roleConsult // the party an agent consults while the caller holds
	numParties
	// roleRecording is no party: the recording's other-party channel
	// hears what the caller hears, taken on the caller's playout.
	roleRecording = numParties
	numOutputs    = numParties + 1
)

var roleNames = [...]string{"caller", "agent", "supervisor", "consult", "recording"}

func (r role) String() string {
	if r < 0 || int(r) >= len(roleNames) {
		return "none"
	}
	return roleNames[r]
}

// mixState decides who hears whom.
type mixState struct {
	present [numParties]bool
	// mode is the supervisor's (listen when empty).
	mode MonitorMode
	// held: the caller is on hold. They hear the hold music only and
	// nobody hears them; the others still hear each other (a consult).
	held bool
}

// hears reports whether party dst is sent src's audio. Nobody hears
// themselves; a held caller is cut off both ways; a supervisor is heard by
// nobody (listen), by the agent (whisper) or by everyone (barge), and
// hears everyone.
func (st *mixState) hears(dst, src role) bool {
	if dst == src || dst < 0 || src < 0 || dst >= numParties || src >= numParties {
		return false
	}
	if !st.present[dst] || !st.present[src] {
		return false
	}
	if st.held && (dst == roleCaller || src == roleCaller) {
		return false
	}
	if src != roleSupervisor {
		return true
	}
	switch st.mode {
	case MonitorBarge:
		return true
	case MonitorWhisper:
		return dst == roleAgent
	}
	return false
}

// accumulate adds pcm into acc (as wide integers: the sum of a few parties
// cannot overflow before it is clipped).
func accumulate(acc []int32, pcm []int16) {
	for i, v := range pcm[:min(len(pcm), len(acc))] {
		acc[i] += int32(v)
	}
}

// clip writes acc to out saturated to 16 bits: two loud parties at once
// flatten at full scale instead of wrapping round into a loud crack.
func clip(out []int16, acc []int32) {
	for i := range out {
		out[i] = int16(max(math.MinInt16, min(math.MaxInt16, acc[i])))
	}
}

// lane queues one talker's audio for one listener, capped at
// bridgeQueueMax so that clock drift cannot build up delay.
type lane struct {
	buf    []int16
	primed bool
}

func (l *lane) push(pcm []int16) {
	if l.buf == nil {
		l.buf = make([]int16, 0, 2*bridgeQueueMax)
	}
	l.buf = append(l.buf, pcm...)
	if over := len(l.buf) - bridgeQueueMax; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
}

// ready returns the next n samples, or nil until two frames are queued
// (and again after an underrun): starting with a little slack keeps the
// talker's and the listener's clocks from underrunning every frame.
func (l *lane) ready(n int) []int16 {
	if !l.primed {
		if len(l.buf) < 2*frameSamples {
			return nil
		}
		l.primed = true
	}
	if len(l.buf) < n {
		l.primed = false
		return nil
	}
	return l.buf[:n]
}

// drop removes the first n samples (after ready returned them).
func (l *lane) drop(n int) { l.buf = append(l.buf[:0], l.buf[n:]...) }

func (l *lane) reset() { l.buf, l.primed = l.buf[:0], false }

// pcmLoop plays the same audio over and over (hold music, ringback).
type pcmLoop struct {
	pcm []int16
	pos int
}

func (p *pcmLoop) fill(out []int16) {
	for i := range out {
		out[i] = p.pcm[p.pos]
		p.pos = (p.pos + 1) % len(p.pcm)
	}
}

// mixer holds a bridge's audio. Taps push on each party's playout and
// pacers pull on each party's send tick, both on the media clock, so one
// short lock guards it all; it never calls out to a session.
type mixer struct {
	mu    sync.Mutex
	st    mixState
	lanes [numOutputs][numParties]lane // [listener][talker]
	// gen replaces what a party hears (hold music, ringback) while set.
	gen [numParties]*pcmLoop
	// rec (nil: none) records the caller (left) and what the caller
	// hears of the others (right); quiet watches for a silent bridge.
	rec   *stereoRecorder
	quiet *silenceWatch

	acc          [frameSamples]int32
	right, zeros [frameSamples]int16
}

func newMixer(rec *stereoRecorder, quiet *silenceWatch) *mixer {
	return &mixer{rec: rec, quiet: quiet}
}

// add makes r a party, with empty queues both ways.
func (m *mixer) add(r role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.present[r] = true
	m.resetLanes(r)
}

// remove takes r out: nobody hears it nor is it sent anything.
func (m *mixer) remove(r role) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.present[r], m.gen[r] = false, nil
	m.resetLanes(r)
}

func (m *mixer) resetLanes(r role) {
	for i := range numOutputs {
		m.lanes[i][r].reset()
	}
	if r < numParties {
		for i := range numParties {
			m.lanes[r][i].reset()
		}
	}
}

func (m *mixer) setMode(mode MonitorMode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.mode = mode
}

func (m *mixer) setHeld(held bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.st.held = held
}

func (m *mixer) held() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.held
}

// setGen makes r hear pcm in a loop instead of the others; nil ends it.
func (m *mixer) setGen(r role, pcm []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen[r] = nil
	if len(pcm) > 0 {
		m.gen[r] = &pcmLoop{pcm: pcm}
	}
}

// hearsNow reports whether dst hears src at the moment (key presses are
// relayed to whoever hears the party that pressed them).
func (m *mixer) hearsNow(dst, src role) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.st.hears(dst, src)
}

// listening reports whether output o is being sent anything.
func (m *mixer) listening(o role) bool {
	if o == roleRecording {
		return m.rec != nil && m.st.present[roleCaller]
	}
	return m.st.present[o]
}

// earsOf is the party whose ears output o has.
func earsOf(o role) role {
	if o == roleRecording {
		return roleCaller
	}
	return o
}

// push takes 20 ms (or a packet's worth) of src's audio.
func (m *mixer) push(src role, pcm []int16) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.st.present[src] {
		return
	}
	for o := range numOutputs {
		if earsOf(o) != src && m.listening(o) {
			m.lanes[o][src].push(pcm)
		}
	}
	if src != roleSupervisor {
		m.quiet.hear(pcm)
	}
	if src == roleCaller && m.rec != nil {
		m.record(pcm)
	}
}

// record writes the caller's audio and, frame for frame, what the caller
// hears of the other parties: both channels are taken on the caller's
// playout, so they stay aligned whatever the other legs' clocks do. A
// held caller is recorded as silence (nobody hears them); the hold music
// is not recorded.
func (m *mixer) record(pcm []int16) {
	for len(pcm) > 0 {
		n := min(len(pcm), frameSamples)
		right := m.right[:n]
		m.mixInto(roleRecording, right)
		left := pcm[:n]
		if m.st.held {
			left = m.zeros[:n]
		}
		m.rec.push(0, left)
		m.rec.push(1, right)
		pcm = pcm[n:]
	}
}

// fill writes the next frame party dst hears into out (at most a frame);
// false when dst is not a party.
func (m *mixer) fill(dst role, out []int16) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.st.present[dst] {
		return false
	}
	m.mixInto(dst, out)
	if g := m.gen[dst]; g != nil {
		g.fill(out)
		m.quiet.hear(out) // music on hold is no dead line
	}
	return true
}

// mixInto sums into out (at most a frame) the talkers output o hears,
// draining the queues of those it does not hear. Talkers with nothing
// queued add silence.
func (m *mixer) mixInto(o role, out []int16) {
	acc := m.acc[:len(out)]
	clear(acc)
	ears := earsOf(o)
	for src := range numParties {
		l := &m.lanes[o][src]
		pcm := l.ready(len(out))
		if pcm == nil {
			continue
		}
		if m.st.hears(ears, src) {
			accumulate(acc, pcm)
		}
		l.drop(len(out))
	}
	clip(out, acc)
}

// partySource is a party's pacer source: the mix it hears, encoded with
// the party's own codec.
type partySource struct {
	m     *mixer
	r     role
	enc   vrtp.Encoder
	frame [frameSamples]int16
}

func (p *partySource) NextFrame() ([]byte, bool) {
	if !p.m.fill(p.r, p.frame[:]) {
		return nil, false
	}
	return encodeFrame(p.enc, p.frame[:])
}
