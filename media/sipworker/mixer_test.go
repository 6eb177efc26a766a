package sipworker

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// parties builds a mixState's presence.
func parties(rs ...role) (p [numParties]bool) {
	for _, r := range rs {
		p[r] = true
	}
	return p
}

// Short names for the table tests.
const (
	rC, rA, rS, rX = roleCaller, roleAgent, roleSupervisor, roleConsult
)

var allRoles = []role{rC, rA, rS, rX}

// TestMixHears checks who hears whom in every arrangement a bridge can
// be in: nobody ever hears themselves, a held caller is cut off both ways,
// and the supervisor is heard by nobody, the agent, or everyone.
func TestMixHears(t *testing.T) {
	for _, tc := range []struct {
		name string
		st   mixState
		want map[role][]role // listener: the talkers it hears
	}{
		{"caller and agent", mixState{present: parties(rC, rA)},
			map[role][]role{rC: {rA}, rA: {rC}}},
		{"listen", mixState{present: parties(rC, rA, rS), mode: MonitorListen},
			map[role][]role{rC: {rA}, rA: {rC}, rS: {rC, rA}}},
		{"no mode is listen", mixState{present: parties(rC, rA, rS)},
			map[role][]role{rC: {rA}, rA: {rC}, rS: {rC, rA}}},
		{"whisper", mixState{present: parties(rC, rA, rS), mode: MonitorWhisper},
			map[role][]role{rC: {rA}, rA: {rC, rS}, rS: {rC, rA}}},
		{"barge", mixState{present: parties(rC, rA, rS), mode: MonitorBarge},
			map[role][]role{rC: {rA, rS}, rA: {rC, rS}, rS: {rC, rA}}},
		{"held", mixState{present: parties(rC, rA), held: true},
			map[role][]role{}},
		{"held, supervisor whispering", mixState{present: parties(rC, rA, rS), mode: MonitorWhisper, held: true},
			map[role][]role{rA: {rS}, rS: {rA}}},
		{"consult", mixState{present: parties(rC, rA, rX), held: true},
			map[role][]role{rA: {rX}, rX: {rA}}},
		{"consult, supervisor barging", mixState{present: parties(rC, rA, rS, rX), mode: MonitorBarge, held: true},
			map[role][]role{rA: {rS, rX}, rS: {rA, rX}, rX: {rA, rS}}},
		{"transfer ringing, supervisor barging", mixState{present: parties(rC, rS), mode: MonitorBarge},
			map[role][]role{rC: {rS}, rS: {rC}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, dst := range allRoles {
				for _, src := range allRoles {
					want := slices.Contains(tc.want[dst], src)
					if got := tc.st.hears(dst, src); got != want {
						t.Errorf("%s hears %s = %v, want %v", dst, src, got, want)
					}
				}
			}
			if tc.st.hears(roleNone, rC) || tc.st.hears(rC, roleRecording) {
				t.Error("a role that is no party hears or is heard")
			}
		})
	}
}

// TestClip: the sum is taken wide, then saturated once.
func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   []int16
		want int16
	}{
		{[]int16{100, -50}, 50},
		{[]int16{30000, 30000}, 32767},
		{[]int16{-30000, -30000}, -32768},
		{[]int16{32767, 1, -1}, 32767},
		{[]int16{20000, 20000, -30000}, 10000}, // no clipping midway
		{[]int16{-32768, -32768, -32768}, -32768},
	} {
		acc := make([]int32, 3)
		for _, v := range tc.in {
			accumulate(acc, []int16{v, v, v})
		}
		out := make([]int16, 3)
		clip(out, acc)
		if !slices.Equal(out, []int16{tc.want, tc.want, tc.want}) {
			t.Errorf("mix of %v = %v, want %d", tc.in, out, tc.want)
		}
	}
}

// level is each party's test signal: a constant whose digit tells who is
// in a sum.
var level = map[role]int16{rC: 1, rA: 10, rS: 100, rX: 1000}

func constFrame(v int16) []int16 {
	f := make([]int16, frameSamples)
	for i := range f {
		f[i] = v
	}
	return f
}

// heard pulls a frame for dst and checks it is one constant.
func heard(t *testing.T, m *mixer, dst role) int16 {
	t.Helper()
	out := make([]int16, frameSamples)
	if !m.fill(dst, out) {
		t.Fatalf("%s is no party", dst)
	}
	for _, v := range out {
		if v != out[0] {
			t.Fatalf("%s heard a frame that is not constant: %v", dst, out[:8])
		}
	}
	return out[0]
}

// TestMixerMixes runs the mixer itself: each party pushes its constant
// (two frames: queues start with that much slack) and gets the sum of
// those it hears, never its own.
func TestMixerMixes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		present []role
		mode    MonitorMode
		held    bool
		want    map[role]int16
	}{
		{"caller and agent", []role{rC, rA}, "", false, map[role]int16{rC: 10, rA: 1}},
		{"listen", []role{rC, rA, rS}, MonitorListen, false, map[role]int16{rC: 10, rA: 1, rS: 11}},
		{"whisper", []role{rC, rA, rS}, MonitorWhisper, false, map[role]int16{rC: 10, rA: 101, rS: 11}},
		{"barge", []role{rC, rA, rS}, MonitorBarge, false, map[role]int16{rC: 110, rA: 101, rS: 11}},
		{"consult", []role{rC, rA, rS, rX}, MonitorListen, true, map[role]int16{rC: 0, rA: 1000, rS: 1010, rX: 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMixer(nil, newSilenceWatch(-1))
			for _, r := range tc.present {
				m.add(r)
			}
			m.setMode(tc.mode)
			m.setHeld(tc.held)
			for range 2 {
				for _, r := range tc.present {
					m.push(r, constFrame(level[r]))
				}
			}
			for _, r := range tc.present {
				if got := heard(t, m, r); got != tc.want[r] {
					t.Errorf("%s hears %d, want %d", r, got, tc.want[r])
				}
			}
		})
	}
}

// TestMixerHoldAndQueues: the hold music replaces what the caller hears
// and the agent hears nothing while audio is still drained; a talker's
// queue keeps only the latest 200 ms; a party that left is sent nothing.
func TestMixerHoldAndQueues(t *testing.T) {
	m := newMixer(nil, newSilenceWatch(-1))
	m.add(rC)
	m.add(rA)
	for i := range 20 {
		m.push(rA, constFrame(int16(i)))
		m.push(rC, constFrame(1))
	}
	// 20 frames pushed, 10 kept: the oldest left is the 11th.
	if got := heard(t, m, rC); got != 10 {
		t.Errorf("after 400 ms unread the caller hears frame %d, want 10 (the queue keeps 200 ms)", got)
	}
	m.setHeld(true)
	m.setGen(rC, constFrame(7))
	m.push(rA, constFrame(20))
	if got := heard(t, m, rC); got != 7 {
		t.Errorf("held caller hears %d, want the music (7)", got)
	}
	if got := heard(t, m, rA); got != 0 {
		t.Errorf("agent hears %d while the caller holds, want silence", got)
	}
	m.setHeld(false)
	m.setGen(rC, nil)
	if got := heard(t, m, rC); got != 12 {
		t.Errorf("resumed caller hears %d, want frame 12 (queues went on draining)", got)
	}
	m.remove(rA)
	if m.fill(rA, make([]int16, frameSamples)) || m.hearsNow(rC, rA) {
		t.Error("a party that left still takes part")
	}
}

// TestMixerRecording: the recording has the caller left and what the
// caller hears right: a whispering supervisor is not in it, a barging one
// is; a held caller is recorded as silence on both sides.
func TestMixerRecording(t *testing.T) {
	w := &Worker{cfg: Config{RecordDir: t.TempDir()}}
	rec, err := w.newStereoRecorder(activities.TransferInput{CallID: "c1", NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	m := newMixer(rec, newSilenceWatch(-1))
	for _, r := range []role{rC, rA, rS} {
		m.add(r)
	}
	phases := []struct {
		mode        MonitorMode
		held        bool
		left, right int16
	}{
		{MonitorWhisper, false, 1, 10},
		{MonitorBarge, false, 1, 110},
		{MonitorBarge, true, 0, 0},
		{MonitorListen, false, 1, 10},
	}
	const perPhase = 5
	for _, ph := range phases {
		m.setMode(ph.mode)
		m.setHeld(ph.held)
		for range perPhase {
			m.push(rA, constFrame(level[rA]))
			m.push(rS, constFrame(level[rS]))
			m.push(rC, constFrame(level[rC])) // the caller's playout drives the recording
		}
	}
	ref, err := rec.close()
	if err != nil {
		t.Fatal(err)
	}
	left, right, err := sipptest.ReadStereo(strings.TrimPrefix(ref, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != len(phases)*perPhase*frameSamples {
		t.Fatalf("recorded %d samples, want %d", len(left), len(phases)*perPhase*frameSamples)
	}
	for i, ph := range phases {
		// The first frame of the recording is before the queues had slack.
		for f := range perPhase {
			if i == 0 && f == 0 {
				continue
			}
			at := (i*perPhase + f) * frameSamples
			got := fmt.Sprint(left[at], "/", right[at])
			if want := fmt.Sprint(ph.left, "/", ph.right); got != want {
				t.Errorf("%s held=%v frame %d: recorded %s, want %s", ph.mode, ph.held, f, got, want)
			}
		}
	}
}
