package sipworker

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/asr"
	"github.com/voxflow/voxflow/media/dtmf"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/tts"
)

// needSpeech fails (never skips) without espeak-ng (the caller's voice)
// or pocketsphinx (the recogniser).
func needSpeech(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath(tts.EspeakCommand); err != nil {
		t.Fatal("espeak-ng is not installed: run scripts/test (which installs it), or apt-get install espeak-ng")
	}
	if err := asr.NewPocketsphinx("").Check(); err != nil {
		t.Fatalf("%v: run scripts/test (which installs it), or apt-get install pocketsphinx pocketsphinx-en-us", err)
	}
}

// speechPcap is PCMU RTP of a caller: for each part, silence of its gap
// then espeak-ng saying its text, or the DTMF tone of its key, or noise.
type callerPart struct {
	gap   time.Duration
	say   string
	key   rune
	noise time.Duration
}

func speechPcap(t *testing.T, parts ...callerPart) []byte {
	t.Helper()
	var pcm []int16
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range parts {
		pcm = append(pcm, make([]int16, int(p.gap/time.Millisecond)*8)...)
		switch {
		case p.say != "":
			s, err := tts.NewEspeak("").Synthesize(context.Background(), p.say, "", "en-US")
			if err != nil {
				t.Fatal(err)
			}
			pcm = append(pcm, s...)
		case p.key != 0:
			pcm = append(pcm, dtmf.Generate(p.key, 120, -12, 0, 0)...)
		case p.noise > 0:
			for range int(p.noise/time.Millisecond) * 8 {
				pcm = append(pcm, int16(rng.NormFloat64()*2500))
			}
		}
	}
	pcm = append(pcm, make([]int16, 1500*8)...)
	var pkts [][]byte
	for i := 0; i+frameSamples <= len(pcm); i += frameSamples {
		payload := make([]byte, frameSamples)
		g711.EncodeULaw(payload, pcm[i:i+frameSamples])
		pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(100 + i/frameSamples),
			Timestamp: uint32(8000 + i), SSRC: 0x5678, Marker: i == 0}, Payload: payload}
		b, _ := pkt.Marshal()
		pkts = append(pkts, b)
	}
	return sipptest.RTPPcap(pkts, frameDur)
}

// logBuffer keeps the worker's log lines for the test to read.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) lines(msg string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		if strings.Contains(line, "msg="+msg+" ") {
			out = append(out, line)
		}
	}
	return out
}

// A caller says a menu phrase over a real SIP call (SIPp playing espeak-ng
// speech as PCMU RTP, no telephone-event): the collect returns it as
// speech, barging in on the prompt; then noise is no match; then a key
// still works while speech is listened for.
func TestInboundMenuSpeech(t *testing.T) {
	needSpeech(t)
	phrases := []string{"billing", "sales", "technical support"}
	got := make(chan string, 4)
	logs := &logBuffer{}
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 3 {
			start := time.Now()
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
				Prompts: []activities.Prompt{{Text: strings.Repeat("For billing say billing. ", 6), Language: "en-US"}},
				BargeIn: true, MaxDigits: 1, Timeout: 6 * time.Second, Phrases: phrases})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits + res.Utterance
			t.Logf("collect %s:%s%s after %v", res.Kind, res.Digits, res.Utterance, time.Since(start).Round(time.Millisecond))
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	// The prompt lasts ~9 s: "technical support" at 1 s must barge in.
	pcap := speechPcap(t,
		callerPart{gap: time.Second, say: "technical support"},
		callerPart{gap: 2 * time.Second, noise: 600 * time.Millisecond},
		callerPart{gap: 2 * time.Second, key: '2'})
	mustPass(t, sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_inband.xml"), Target: r.addr, Service: "1000",
		Timeout: 25 * time.Second, Files: map[string][]byte{"dtmf_inband.pcap": pcap}}))
	for _, want := range []string{"speech:technical support", "speech:", "dtmf:2"} {
		select {
		case g := <-got:
			if g != want {
				t.Errorf("collect = %q, want %q", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no collect result, want %q", want)
		}
	}
	r.waitIdle()
	for _, l := range logs.lines("speech") {
		t.Log(l)
	}
	if n := len(logs.lines("speech")); n != 2 {
		t.Errorf("%d recognitions logged, want 2", n)
	}
}
