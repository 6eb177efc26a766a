package rtp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
)

func jbPkt(seq uint16) *prtp.Packet {
	return &prtp.Packet{
		Header:  prtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 1},
		Payload: []byte{byte(seq), byte(seq >> 8)},
	}
}

// TestJitterBuffer drives a 60 ms buffer one 20 ms tick at a time: each
// tick's arrivals are pushed, then one frame is popped. Output is written as
// the played sequence number, R (repeat of the last frame) or S (silence).
func TestJitterBuffer(t *testing.T) {
	seqs := func(from, to int) []uint16 {
		var s []uint16
		for i := from; i <= to; i++ {
			s = append(s, uint16(i))
		}
		return s
	}
	each := func(s []uint16) [][]uint16 {
		var ticks [][]uint16
		for _, q := range s {
			ticks = append(ticks, []uint16{q})
		}
		return ticks
	}
	quiet := func(n int) [][]uint16 { return make([][]uint16, n) }
	cat := func(parts ...[][]uint16) [][]uint16 {
		var out [][]uint16
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name    string
		cfg     JitterConfig
		ticks   [][]uint16
		want    string
		stats   JitterStats // only the non-zero loss counters are compared
		pushRej int         // pushes refused
	}{
		{
			name:  "in order, 60 ms prefill",
			ticks: cat(each(seqs(1, 5)), quiet(2)),
			want:  "S S 1 2 3 4 5",
		},
		{
			name:  "reordered within the depth",
			ticks: cat(each([]uint16{1, 3, 2, 5, 4, 6}), quiet(3)),
			want:  "S S 1 2 3 4 5 6",
		},
		{
			name:  "reordered before playout starts moves the start back",
			ticks: cat([][]uint16{{2}, {1}, {3}, {4}}, quiet(2)),
			want:  "S S 1 2 3 4",
		},
		{
			name:    "duplicates dropped",
			ticks:   cat([][]uint16{{1}, {1, 2}, {2, 3, 3}, {4}}, quiet(2)),
			want:    "S S 1 2 3 4",
			stats:   JitterStats{Duplicates: 3},
			pushRej: 3,
		},
		{
			name:  "a lost packet is concealed by repeating the last frame",
			ticks: cat(each([]uint16{1, 2, 4, 5, 6}), quiet(3)),
			want:  "S S 1 2 R 4 5 6",
			stats: JitterStats{Lost: 1},
		},
		{
			name:  "a lost packet concealed with silence",
			cfg:   JitterConfig{Conceal: ConcealSilence},
			ticks: cat(each([]uint16{1, 2, 4, 5, 6}), quiet(3)),
			want:  "S S 1 2 S 4 5 6",
			stats: JitterStats{Lost: 1},
		},
		{
			name:  "burst loss: two repeats then silence",
			ticks: cat(each([]uint16{1, 2, 7, 8, 9}), quiet(6)),
			want:  "S S 1 2 R R S S 7 8 9",
			stats: JitterStats{Lost: 4},
		},
		{
			name:    "a packet later than the depth is dropped",
			ticks:   cat(each([]uint16{1, 2, 4, 5, 6, 3}), quiet(2)),
			want:    "S S 1 2 R 4 5 6",
			stats:   JitterStats{Lost: 1, Late: 1},
			pushRej: 1,
		},
		{
			name:  "sequence wrap",
			ticks: cat(each([]uint16{65533, 65534, 65535, 0, 2, 1}), quiet(3)),
			want:  "S S 65533 65534 65535 0 1 2",
		},
		{
			name: "sender pause (silence suppression): rebuffer, no loss",
			// 1-3, 3 ticks of nothing, then 4-6 with contiguous numbers: the
			// talkspurt is prefilled again (R S while 4 and 5 arrive).
			ticks: cat(each(seqs(1, 3)), quiet(3), each(seqs(4, 6)), quiet(3)),
			want:  "S S 1 2 3 R R S 4 5 6",
			stats: JitterStats{Underflows: 2},
		},
		{
			name:  "packets lost at the end of a talkspurt are counted when it resumes",
			ticks: cat(each(seqs(1, 3)), quiet(3), each(seqs(6, 8)), quiet(3)),
			want:  "S S 1 2 3 R R S 6 7 8",
			stats: JitterStats{Lost: 2, Underflows: 2},
		},
		{
			name:  "sequence jump resyncs",
			ticks: cat(each(seqs(1, 3)), each(seqs(5000, 5003)), quiet(2)),
			want:  "S S 1 S S 5000 5001 5002 5003",
			stats: JitterStats{Resyncs: 1},
		},
		{
			name:  "depth 20 ms plays on the first tick",
			cfg:   JitterConfig{Depth: 20 * time.Millisecond},
			ticks: each(seqs(10, 12)),
			want:  "10 11 12",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jb, err := NewJitterBuffer(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			rejected := 0
			for _, arrivals := range tt.ticks {
				for _, s := range arrivals {
					if !jb.Push(jbPkt(s)) {
						rejected++
					}
				}
				f := jb.Pop()
				switch f.Kind {
				case FramePlayed:
					if f.Payload[0] != byte(f.SequenceNumber) || f.Timestamp != uint32(f.SequenceNumber)*160 {
						t.Fatalf("frame %d carries payload %v ts %d", f.SequenceNumber, f.Payload, f.Timestamp)
					}
					out = append(out, fmt.Sprint(f.SequenceNumber))
				case FrameRepeated:
					out = append(out, "R")
				case FrameSilence:
					if f.Payload != nil {
						t.Fatal("silence frame with payload")
					}
					out = append(out, "S")
				}
			}
			// Trailing silence/repeats after the stream ends are not interesting.
			got := strings.TrimRight(strings.Join(out, " "), " RS")
			if got != tt.want {
				t.Fatalf("played %q\nwant   %q", got, tt.want)
			}
			st := jb.Stats()
			if st.Duplicates != tt.stats.Duplicates || st.Late != tt.stats.Late || st.Lost != tt.stats.Lost || st.Resyncs != tt.stats.Resyncs {
				t.Errorf("stats %+v, want dup/late/lost/resync %d/%d/%d/%d", st, tt.stats.Duplicates, tt.stats.Late, tt.stats.Lost, tt.stats.Resyncs)
			}
			if tt.stats.Underflows != 0 && st.Underflows != tt.stats.Underflows {
				t.Errorf("underflows %d, want %d", st.Underflows, tt.stats.Underflows)
			}
			if rejected != tt.pushRej {
				t.Errorf("%d pushes refused, want %d", rejected, tt.pushRej)
			}
			if st.Played+st.Repeated+st.Silent != uint64(len(tt.ticks)) {
				t.Errorf("%d frames accounted for over %d ticks: %+v", st.Played+st.Repeated+st.Silent, len(tt.ticks), st)
			}
		})
	}
}

func TestJitterBufferSSRCChangeAndRestart(t *testing.T) {
	jb, _ := NewJitterBuffer(JitterConfig{Depth: 20 * time.Millisecond})
	for s := uint16(100); s < 103; s++ {
		jb.Push(jbPkt(s))
		jb.Pop()
	}
	// New SSRC (re-INVITE to another media server): follows it at once.
	p := jbPkt(7)
	p.SSRC = 2
	jb.Push(p)
	if f := jb.Pop(); f.Kind != FramePlayed || f.SequenceNumber != 7 {
		t.Fatalf("after SSRC change got %+v", f)
	}
	for s := uint16(8); s < 1000; s++ {
		p := jbPkt(s)
		p.SSRC = 2
		jb.Push(p)
		jb.Pop()
	}
	// Same SSRC restarting 100 behind: followed after a run of late packets.
	var played []uint16
	for s := uint16(900); s < 916; s++ {
		p := jbPkt(s)
		p.SSRC = 2
		jb.Push(p)
		if f := jb.Pop(); f.Kind == FramePlayed {
			played = append(played, f.SequenceNumber)
		}
	}
	want := 900 + maxLateRun - 1
	if len(played) == 0 || played[0] != uint16(want) || played[len(played)-1] != 915 {
		t.Fatalf("did not follow the restarted sequence from %d: played %v", want, played)
	}
	if st := jb.Stats(); st.Resyncs != 2 {
		t.Errorf("resyncs %d, want 2", st.Resyncs)
	}
}

func TestJitterBufferConfig(t *testing.T) {
	for _, c := range []JitterConfig{{Depth: 10 * time.Second}, {FrameDuration: -1}} {
		if _, err := NewJitterBuffer(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	jb, _ := NewJitterBuffer(JitterConfig{})
	if f := jb.Pop(); f.Kind != FrameSilence {
		t.Errorf("empty buffer popped %+v", f)
	}
	jb.Push(jbPkt(1))
	if jb.Buffered() != 1 {
		t.Errorf("buffered %d", jb.Buffered())
	}
}

// FuzzJitterBuffer feeds arbitrary push/pop scripts: no panic, played frames
// strictly increasing (serially) within one stream, every pop accounted for.
func FuzzJitterBuffer(f *testing.F) {
	f.Add([]byte{1, 0, 0, 3, 0, 2, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xff, 0xfe, 0xff, 0xff, 0, 0, 0xff, 0x80, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, script []byte) {
		jb, _ := NewJitterBuffer(JitterConfig{})
		pops := 0
		var last uint16
		have := false
		for i := 0; i+1 < len(script); i += 2 {
			if script[i] == 0xff && script[i+1] == 0xff {
				fr := jb.Pop()
				pops++
				if fr.Kind == FramePlayed {
					if have && int16(fr.SequenceNumber-last) <= 0 && jb.Stats().Resyncs == 0 {
						t.Fatalf("played %d after %d", fr.SequenceNumber, last)
					}
					last, have = fr.SequenceNumber, true
				}
				continue
			}
			jb.Push(jbPkt(uint16(script[i])<<8 | uint16(script[i+1])))
		}
		st := jb.Stats()
		if st.Played+st.Repeated+st.Silent != uint64(pops) {
			t.Fatalf("%d pops, stats %+v", pops, st)
		}
	})
}
