//go:build opus

package sipworker

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/diago/media"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/wav"
)

// A tone goes through the Opus encoder and decoder at 8 kHz and comes
// out at the same frequency and level; a lost frame is concealed.
func TestOpusCodecRoundTrip(t *testing.T) {
	enc, err := codecOpus.newEncoder()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := codecOpus.newDecoder()
	if err != nil {
		t.Fatal(err)
	}
	for _, freq := range []float64{400, 1000, 2500} {
		in := audio.Tone(freq, 1000, -12)
		var out []int16
		var bytes int
		for i := 0; i+frameSamples <= len(in); i += frameSamples {
			payload, err := enc.Encode(in[i : i+frameSamples])
			if err != nil {
				t.Fatal(err)
			}
			bytes += len(payload)
			pcm, err := dec.Decode(payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm) != frameSamples {
				t.Fatalf("decoded %d samples from a 20 ms packet, want %d", len(pcm), frameSamples)
			}
			out = append(out, pcm...)
		}
		steady := out[len(out)/4:] // past the codec's start-up
		share, level := sipptest.ToneShare(steady, freq), audio.LevelDBFS(steady)
		t.Logf("%v Hz: %d bytes a second (%.1f kb/s), share %.3f, level %.1f dBFS", freq, bytes, float64(bytes)*8/1000, share, level)
		if share < 0.9 || math.Abs(level-audio.LevelDBFS(in)) > 2 {
			t.Errorf("%v Hz: share %.2f, level %.1f dBFS (sent %.1f): the tone did not survive Opus", freq, share, level, audio.LevelDBFS(in))
		}
	}
	pcm, err := dec.Conceal(nil)
	if err != nil || len(pcm) != frameSamples {
		t.Fatalf("concealment: %d samples, %v", len(pcm), err)
	}
	if level := audio.LevelDBFS(pcm); level < -30 {
		t.Errorf("concealed frame at %.1f dBFS: libopus's PLC should continue the tone", level)
	}
}

// With the opus tag the worker offers opus/48000/2 after G.711 and accepts
// an Opus-only offer.
func TestOpusOffered(t *testing.T) {
	got := offeredCodecs()
	if len(got) != 4 || !got[0].Matches(media.CodecAudioUlaw) || !got[1].Matches(media.CodecAudioAlaw) ||
		!got[2].Matches(media.CodecAudioOpus) || !got[3].Matches(media.CodecTelephoneEvent8000) {
		t.Fatalf("offered %v, want PCMU, PCMA, opus/48000/2, telephone-event/8000", got)
	}
	sdp := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n" +
		"m=audio 40000 RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000\r\n"
	if err := checkOffer([]byte(sdp)); err != nil {
		t.Fatalf("Opus-only offer: %v", err)
	}
	if err := checkOffer([]byte(strings.ReplaceAll(sdp, "opus/48000/2", "G729/8000"))); err == nil || !strings.Contains(err.Error(), "want PCMU, PCMA or opus") {
		t.Fatalf("G.729-only offer: %v", err)
	}
}

// opusBaresip starts baresip with Opus as its only codec, a sine wave of
// freq as its microphone and sndfile dumping what it decodes (and what it
// sends) as WAV files into the returned directory.
func opusBaresip(t *testing.T, freq int) (*sipptest.Baresip, string) {
	dumps := t.TempDir()
	b := sipptest.StartBaresipWith(t, sipptest.BaresipOptions{
		Modules:     []string{"opus.so", "ausine.so", "sndfile.so"},
		AudioSource: "ausine," + strconv.Itoa(freq),
		Config:      []string{"snd_path " + dumps},
	})
	return b, dumps
}

// heardByBaresip reads the audio baresip decoded during the call (its
// sndfile "dec" dump), as 8 kHz mono.
func heardByBaresip(t *testing.T, dir string) []int16 {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*dec*.wav"))
	if len(files) != 1 {
		all, _ := os.ReadDir(dir)
		t.Fatalf("baresip's decoded-audio dump: found %v in %s (%v)", files, dir, all)
	}
	pcm, err := wav.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	return pcm
}

// tapTone collects the caller's decoded audio while a call runs.
type tapTone struct {
	mu  sync.Mutex
	pcm []int16
}

func (c *tapTone) add(p []int16) {
	c.mu.Lock()
	c.pcm = append(c.pcm, p...)
	c.mu.Unlock()
}

func (c *tapTone) samples() []int16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pcm
}

// TestOpusBaresipMenu: baresip with Opus only (no G.711) calls the worker,
// which negotiates Opus, hears baresip's 1 kHz sine through its Opus
// decoder, plays Opus prompts (toneTTS: 400 Hz) that baresip decodes, and
// takes two RFC 4733 key presses through a menu.
func TestOpusBaresipMenu(t *testing.T) {
	type callSaw struct {
		codec   string
		clock   int
		rfc4733 bool
		err     error
	}
	saw := make(chan callSaw, 1)
	listening := make(chan struct{}, 4)
	got := make(chan string, 4)
	heard := &tapTone{}
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		s, err := w.sessionFor(ctx, call.CallID)
		if err != nil {
			saw <- callSaw{err: err}
			return
		}
		saw <- callSaw{codec: s.codec.name, clock: s.codec.clock, rfc4733: s.dtmfPT >= 0}
		defer s.tap(heard.add)()
		for range 2 {
			listening <- struct{}{}
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
				Prompts: []activities.Prompt{{Text: strings.Repeat("a", 25)}}, BargeIn: false, MaxDigits: 1, Timeout: 8 * time.Second})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Bye."}}})
	})
	b, dumps := opusBaresip(t, 1000)
	b.Command("/dial sip:1000@" + r.addr)
	select {
	case c := <-saw:
		if c.err != nil || c.codec != "opus" || c.clock != 48000 || !c.rfc4733 {
			t.Fatalf("negotiated %+v, want opus at 48000 and telephone-event\n%s", c, b.Output())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("call not answered:\n%s", b.Output())
	}
	for _, key := range []string{"1", "2"} {
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			t.Fatalf("no collect:\n%s", b.Output())
		}
		time.Sleep(1500 * time.Millisecond) // let the prompt play: baresip must hear it
		b.Command("/sndcode " + key)
		select {
		case g := <-got:
			if g != "dtmf:"+key {
				t.Fatalf("collect = %s, want dtmf:%s\n%s", g, key, b.Output())
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no key %s:\n%s", key, b.Output())
		}
	}
	r.waitIdle()
	if !b.WaitOutput("session closed", 5*time.Second) {
		t.Errorf("baresip did not see the hangup:\n%s", b.Output())
	}
	// Caller -> worker: baresip's sine, decoded by our Opus decoder.
	loud := sipptest.Loudest(heard.samples())
	t.Logf("worker heard %d loud samples of baresip, 1 kHz share %.3f, %.1f dBFS", len(loud), sipptest.ToneShare(loud, 1000), audio.LevelDBFS(loud))
	if len(loud) < 2*sampleRate || sipptest.ToneShare(loud, 1000) < 0.8 || audio.LevelDBFS(loud) < -20 {
		t.Errorf("worker heard %d loud samples, 1 kHz share %.2f at %.1f dBFS: baresip's Opus audio did not decode\n%s",
			len(loud), sipptest.ToneShare(loud, 1000), audio.LevelDBFS(loud), b.Output())
	}
	// Worker -> caller: our 400 Hz prompts, decoded by baresip.
	b.Close() // flushes the dumps
	loud = sipptest.Loudest(heardByBaresip(t, dumps))
	t.Logf("baresip heard %d loud samples of our prompts, 400 Hz share %.3f, %.1f dBFS", len(loud), sipptest.ToneShare(loud, 400), audio.LevelDBFS(loud))
	if len(loud) < 2*sampleRate || sipptest.ToneShare(loud, 400) < 0.8 {
		t.Errorf("baresip heard %d loud samples, 400 Hz share %.2f: our Opus prompts did not reach it", len(loud), sipptest.ToneShare(loud, 400))
	}
}

// TestOpusBridgeToPCMU bridges an Opus caller (baresip, Opus only, a 1 kHz
// sine) to a second worker as the agent, which negotiates PCMU (the
// worker offers G.711 first) and talks a 400 Hz tone while it records,
// then collects a key. The relay between the legs is 8 kHz PCM, each leg
// encoding its own codec: the agent must hear the caller's sine, baresip
// the agent's tone, and the caller's RFC 4733 key must reach the agent.
func TestOpusBridgeToPCMU(t *testing.T) {
	type agentSaw struct {
		codec string
		rec   activities.RecordResult
		digit activities.CollectResult
		err   error
	}
	saw := make(chan agentSaw, 1)
	recorded := make(chan struct{})
	agent := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		var a agentSaw
		defer func() { saw <- a }()
		s, err := w.sessionFor(ctx, call.CallID)
		if err != nil {
			a.err = err
			return
		}
		a.codec = s.codec.name
		played := make(chan error, 1)
		go func() {
			played <- w.Play(ctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: strings.Repeat("a", 60)}}})
		}()
		a.rec, a.err = w.Record(ctx, activities.RecordInput{CallID: call.CallID, NodeID: "agent", MaxDuration: 3 * time.Second})
		if perr := <-played; a.err == nil {
			a.err = perr
		}
		close(recorded)
		if a.err == nil {
			a.digit, a.err = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 8 * time.Second})
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) {
		c.ID = "agent"
		c.Routes = fakeRoutes{flows: map[string]string{"agent": "agent"}}
	})

	callerCodec := make(chan string, 1)
	bridged := make(chan activities.TransferResult, 1)
	caller := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		if s, err := w.sessionFor(ctx, call.CallID); err == nil {
			callerCodec <- s.codec.name
		} else {
			callerCodec <- err.Error()
		}
		res, err := w.Transfer(ctx, activities.TransferInput{CallID: call.CallID, NodeID: "to agent",
			To: "sip:agent@" + agent.addr, Mode: "bridge", Timeout: 10 * time.Second})
		if err != nil {
			t.Errorf("bridge transfer: %v", err)
		}
		bridged <- res
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})

	b, dumps := opusBaresip(t, 1000)
	b.Command("/dial sip:1000@" + caller.addr)
	select {
	case c := <-callerCodec:
		if c != "opus" {
			t.Fatalf("caller leg negotiated %s, want opus\n%s", c, b.Output())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("call not answered:\n%s", b.Output())
	}
	select {
	case <-recorded:
	case <-time.After(15 * time.Second):
		t.Fatalf("the agent did not finish recording:\n%s", b.Output())
	}
	b.Command("/sndcode 1")
	var res activities.TransferResult
	select {
	case res = <-bridged:
	case <-time.After(15 * time.Second):
		t.Fatalf("the bridge did not end:\n%s", b.Output())
	}
	a := <-saw
	caller.waitIdle()
	agent.waitIdle()
	if a.err != nil {
		t.Fatalf("agent: %v", a.err)
	}
	if a.codec != "PCMU" {
		t.Errorf("agent leg negotiated %s, want PCMU (the test covers Opus <-> PCMU)", a.codec)
	}
	if res.Outcome != activities.TransferBridged {
		t.Errorf("result = %+v, want outcome bridged", res)
	}
	if a.digit.Kind != activities.InputDTMF || a.digit.Digits != "1" {
		t.Errorf("agent collected %+v, want the caller's 1", a.digit)
	}
	pcm, err := wav.ReadFile(strings.TrimPrefix(a.rec.Ref, "file://"))
	if err != nil {
		t.Fatal(err)
	}
	loud := sipptest.Loudest(pcm)
	t.Logf("agent (PCMU) heard %d loud samples of the Opus caller, 1 kHz share %.3f", len(loud), sipptest.ToneShare(loud, 1000))
	if len(loud) < sampleRate || sipptest.ToneShare(loud, 1000) < 0.8 {
		t.Errorf("agent heard %d loud samples, 1 kHz share %.2f: the Opus caller's audio did not cross the bridge", len(loud), sipptest.ToneShare(loud, 1000))
	}
	b.Close()
	loud = sipptest.Loudest(heardByBaresip(t, dumps))
	t.Logf("baresip (Opus) heard %d loud samples of the agent, 400 Hz share %.3f", len(loud), sipptest.ToneShare(loud, 400))
	if len(loud) < sampleRate || sipptest.ToneShare(loud, 400) < 0.8 {
		t.Errorf("baresip heard %d loud samples, 400 Hz share %.2f: the PCMU agent's audio did not reach the Opus caller", len(loud), sipptest.ToneShare(loud, 400))
	}
}
