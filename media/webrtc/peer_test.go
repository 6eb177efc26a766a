package webrtc

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"
	"go.uber.org/goleak"
)

var pcmu = Codec{Name: "PCMU", ClockRate: 8000, Channels: 1}

// browser is a pion peer standing in for a browser: it offers the given
// codecs and sends and counts audio.
type browser struct {
	pc       *pion.PeerConnection
	track    *pion.TrackLocalStaticRTP
	received atomic.Int64
}

func newBrowser(t *testing.T, codecs ...pion.RTPCodecCapability) *browser {
	t.Helper()
	m := &pion.MediaEngine{}
	for i, c := range codecs {
		if err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: c, PayloadType: pion.PayloadType(96 + i)}, pion.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	ir := &interceptor.Registry{}
	if err := pion.RegisterDefaultInterceptors(m, ir); err != nil {
		t.Fatal(err)
	}
	var se pion.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	api := pion.NewAPI(pion.WithMediaEngine(m), pion.WithInterceptorRegistry(ir), pion.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{pc: pc}
	b.track, err = pion.NewTrackLocalStaticRTP(codecs[0], "mic", "browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(b.track); err != nil {
		t.Fatal(err)
	}
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			b.received.Add(1)
		}
	})
	return b
}

// offer returns the browser's complete offer (candidates gathered).
func (b *browser) offer(t *testing.T, restart bool) string {
	t.Helper()
	o, err := b.pc.CreateOffer(&pion.OfferOptions{ICERestart: restart})
	if err != nil {
		t.Fatal(err)
	}
	g := pion.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-g
	return b.pc.LocalDescription().SDP
}

func (b *browser) accept(t *testing.T, answer string) {
	t.Helper()
	if err := b.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
}

// countServer counts the audio packets the server's peer reads, until it closes.
func countServer(p *Peer) (got *atomic.Int64, done <-chan struct{}) {
	got = new(atomic.Int64)
	d := make(chan struct{})
	go func() {
		defer close(d)
		for {
			pkt, err := p.ReadRTP()
			if err != nil {
				return
			}
			if pkt.PayloadType == p.pt {
				got.Add(1)
			}
		}
	}()
	return got, d
}

// exchange sends n packets each way, 20 ms apart.
func exchange(t *testing.T, b *browser, p *Peer, n int) {
	t.Helper()
	payload := make([]byte, 160)
	for i := range n {
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 160)}, Payload: payload}
		if err := b.track.WriteRTP(pkt); err != nil {
			t.Fatal(err)
		}
		if err := p.WriteRTP(&rtp.Packet{Header: pkt.Header, Payload: payload}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
}

func TestPeerAudioBothWaysAndICERestart(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr, err := New(Config{Codecs: []Codec{pcmu}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}, telephoneEvent)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, answer, err := tr.Answer(ctx, b.offer(t, false))
	if err != nil {
		t.Fatal(err)
	}
	if name, _, clock := p.Codec(); name != "PCMU" || clock != 8000 {
		t.Fatalf("codec %s/%d, want PCMU/8000", name, clock)
	}
	if p.EventPayloadType() != 97 {
		t.Errorf("telephone-event payload type %d, want the offer's 97", p.EventPayloadType())
	}
	if !strings.Contains(answer, "a=fingerprint:") || !strings.Contains(answer, "UDP/TLS/RTP/SAVPF") {
		t.Errorf("answer is not DTLS-SRTP:\n%s", answer)
	}
	b.accept(t, answer)
	got, readerDone := countServer(p)
	exchange(t, b, p, 50)
	if n := got.Load(); n < 40 {
		t.Errorf("server read %d of 50 packets", n)
	}
	if n := b.received.Load(); n < 40 {
		t.Errorf("browser read %d of 50 packets", n)
	}

	// A network change: the browser restarts ICE on the same call.
	answer, err = p.Renegotiate(ctx, b.offer(t, true))
	if err != nil {
		t.Fatal(err)
	}
	b.accept(t, answer)
	before, serverBefore := b.received.Load(), got.Load()
	exchange(t, b, p, 150)
	// The restart takes some connectivity checks; then audio flows again.
	if n := got.Load() - serverBefore; n < 50 {
		t.Errorf("after ICE restart the server read %d of 150 packets", n)
	}
	if n := b.received.Load() - before; n < 50 {
		t.Errorf("after ICE restart the browser read %d of 150 packets", n)
	}
	t.Logf("after ICE restart: server read %d, browser %d of 150", got.Load()-serverBefore, b.received.Load()-before)

	if err := b.pc.Close(); err != nil {
		t.Error(err)
	}
	if err := p.Close(); err != nil {
		t.Error(err)
	}
	select {
	case <-p.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done not closed after Close")
	}
	<-readerDone
}

func TestAnswerRefusesOffersItCannotServe(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	tr, err := New(Config{Codecs: []Codec{pcmu}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, pion.RTPCodecCapability{MimeType: "audio/G722", ClockRate: 8000})
	defer b.pc.Close()
	ctx := context.Background()
	if _, _, err := tr.Answer(ctx, b.offer(t, false)); !errors.Is(err, ErrNoCommonCodec) || !strings.Contains(err.Error(), "PCMU/8000") {
		t.Errorf("G.722-only offer: %v, want ErrNoCommonCodec naming PCMU/8000", err)
	}
	if _, _, err := tr.Answer(ctx, "v=0\r\nnot sdp"); !errors.Is(err, ErrBadOffer) {
		t.Errorf("garbage offer: %v, want ErrBadOffer", err)
	}
}

func TestNewChecksICEServers(t *testing.T) {
	if _, err := New(Config{Codecs: []Codec{pcmu}, ICEServers: []string{"http://stun.example"}}); err == nil || !strings.Contains(err.Error(), "http://stun.example") {
		t.Errorf("bad ICE server URL: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("no codecs accepted")
	}
}

// TestCodecFollowsTheOffer: with Opus built in, a browser listing Opus
// first (as browsers do) gets Opus, one listing PCMU first PCMU.
func TestCodecFollowsTheOffer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	opus := Codec{Name: "opus", ClockRate: 48000, Channels: 2}
	tr, err := New(Config{Codecs: []Codec{pcmu, opus}, Loopback: true})
	if err != nil {
		t.Fatal(err)
	}
	opusCap := pion.RTPCodecCapability{MimeType: pion.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	pcmuCap := pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: 8000}
	for _, c := range []struct {
		offer []pion.RTPCodecCapability
		want  string
	}{{[]pion.RTPCodecCapability{opusCap, pcmuCap}, "opus"}, {[]pion.RTPCodecCapability{pcmuCap, opusCap}, "PCMU"}} {
		b := newBrowser(t, c.offer...)
		p, answer, err := tr.Answer(context.Background(), b.offer(t, false))
		if err != nil {
			t.Fatal(err)
		}
		if name, _, _ := p.Codec(); name != c.want {
			t.Errorf("offer %v: codec %s, want %s", c.offer[0].MimeType, name, c.want)
		}
		if !strings.Contains(strings.ToLower(answer), "rtpmap:") || strings.Contains(answer, "PCMU") == (c.want == "opus") {
			t.Errorf("the answer should name only %s:\n%s", c.want, answer)
		}
		_ = p.Close()
		_ = b.pc.Close()
	}
}
