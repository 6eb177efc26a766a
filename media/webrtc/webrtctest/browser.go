// Package webrtctest is a browser stand-in for Go tests and benchmarks: a
// pion peer that offers PCMU and telephone-event, talks a tone, presses
// keys (RFC 4733) and keeps what it hears, decoded, so a test can check
// which tones reached it.
package webrtctest

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	pion "github.com/pion/webrtc/v4"

	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/webrtc"
)

const (
	rate        = 8000
	frame       = 160 // 20 ms
	pcmuPT      = 0
	eventPT     = 101
	keepHeardMs = 2000
)

// Browser is one simulated browser.
type Browser struct {
	pc    *pion.PeerConnection
	track *webrtc.AudioTrack

	tone     atomic.Uint64 // math.Float64bits of the tone's Hz; 0: silence
	keys     chan rune
	sent     atomic.Int64
	received atomic.Int64

	mu    sync.Mutex
	heard []int16 // the last keepHeardMs of decoded audio
	// frames are the arrival times and levels (dBFS) of the last
	// keepHeardMs of packets, for onset timing.
	frames []arrival

	stop chan struct{}
	wg   sync.WaitGroup
}

// New returns a browser that offers PCMU/8000 and telephone-event/8000;
// loopback adds 127.0.0.1 candidates.
func New(loopback bool) (*Browser, error) {
	m := &pion.MediaEngine{}
	pcmu := pion.RTPCodecCapability{MimeType: pion.MimeTypePCMU, ClockRate: rate}
	if err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: pcmu, PayloadType: pcmuPT}, pion.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ev := pion.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: rate, SDPFmtpLine: "0-15"}
	if err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: ev, PayloadType: eventPT}, pion.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := pion.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	var se pion.SettingEngine
	se.SetIncludeLoopbackCandidate(loopback)
	api := pion.NewAPI(pion.WithMediaEngine(m), pion.WithInterceptorRegistry(ir), pion.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(pion.Configuration{})
	if err != nil {
		return nil, err
	}
	b := &Browser{pc: pc, track: webrtc.NewAudioTrack(pcmu, "mic"), keys: make(chan rune, 16), stop: make(chan struct{})}
	if _, err := pc.AddTrack(b.track); err != nil {
		_ = pc.Close()
		return nil, err
	}
	pc.OnTrack(func(tr *pion.TrackRemote, _ *pion.RTPReceiver) { b.listen(tr) })
	b.wg.Add(1)
	go b.talk()
	return b, nil
}

// Offer returns a complete offer (candidates gathered); restart asks for an
// ICE restart.
func (b *Browser) Offer(restart bool) (string, error) {
	o, err := b.pc.CreateOffer(&pion.OfferOptions{ICERestart: restart})
	if err != nil {
		return "", err
	}
	g := pion.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	<-g
	return b.pc.LocalDescription().SDP, nil
}

// Accept takes the server's answer.
func (b *Browser) Accept(answer string) error {
	return b.pc.SetRemoteDescription(pion.SessionDescription{Type: pion.SDPTypeAnswer, SDP: answer})
}

// Tone makes the browser talk a sine of hz (0: silence).
func (b *Browser) Tone(hz float64) { b.tone.Store(math.Float64bits(hz)) }

// Press sends key as an RFC 4733 event.
func (b *Browser) Press(key rune) { b.keys <- key }

// Sent and Received count RTP packets.
func (b *Browser) Sent() int64     { return b.sent.Load() }
func (b *Browser) Received() int64 { return b.received.Load() }

// Level is the power of hz in the last d of what the browser heard, in dB
// relative to full scale (below -90 when absent).
func (b *Browser) Level(hz float64, d time.Duration) float64 {
	b.mu.Lock()
	n := min(len(b.heard), int(d.Seconds()*rate))
	pcm := append([]int16(nil), b.heard[len(b.heard)-n:]...)
	b.mu.Unlock()
	return goertzelDB(pcm, hz)
}

// Close stops the browser.
func (b *Browser) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	err := b.pc.Close()
	b.wg.Wait()
	return err
}

// talk sends a 20 ms frame of the tone (or silence), and key presses, in real time.
func (b *Browser) talk() {
	defer b.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	var ts uint32
	var phase float64
	pcm := make([]int16, frame)
	payload := make([]byte, frame)
	for {
		select {
		case <-b.stop:
			return
		case k := <-b.keys:
			b.sendKey(k, &seq, ts)
			continue
		case <-tick.C:
		}
		hz := math.Float64frombits(b.tone.Load())
		for i := range pcm {
			pcm[i] = 0
			if hz > 0 {
				pcm[i] = int16(8000 * math.Sin(phase))
				phase += 2 * math.Pi * hz / rate
			}
		}
		g711.EncodeULaw(payload, pcm)
		seq++
		ts += frame
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pcmuPT, SequenceNumber: seq, Timestamp: ts}, Payload: payload}
		if b.track.WriteRTP(pkt) == nil {
			b.sent.Add(1)
		}
	}
}

// sendKey sends a 100 ms key press: three updates, the last three times with E set.
func (b *Browser) sendKey(k rune, seq *uint16, ts uint32) {
	code, ok := map[rune]byte{'0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9, '*': 10, '#': 11}[k]
	if !ok {
		return
	}
	for i, dur := range []uint16{320, 640, 800, 800, 800} {
		end := byte(0)
		if i >= 2 {
			end = 0x80
		}
		*seq++
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: eventPT, SequenceNumber: *seq, Timestamp: ts, Marker: i == 0},
			Payload: []byte{code, end | 10, byte(dur >> 8), byte(dur)}}
		_ = b.track.WriteRTP(pkt)
		time.Sleep(20 * time.Millisecond)
	}
}

// listen decodes what the server sends until the track ends.
func (b *Browser) listen(tr *pion.TrackRemote) {
	pcm := make([]int16, 0, 2*frame)
	for {
		pkt, _, err := tr.ReadRTP()
		if err != nil {
			return
		}
		b.received.Add(1)
		if pkt.PayloadType != pcmuPT {
			continue
		}
		pcm = pcm[:len(pkt.Payload)]
		g711.DecodeULaw(pcm, pkt.Payload)
		now := time.Now()
		b.mu.Lock()
		b.heard = append(b.heard, pcm...)
		if over := len(b.heard) - keepHeardMs*rate/1000; over > 0 {
			b.heard = append(b.heard[:0], b.heard[over:]...)
		}
		b.frames = append(b.frames, arrival{at: now, level: rmsDB(pcm)})
		if over := len(b.frames) - keepHeardMs/20; over > 0 {
			b.frames = append(b.frames[:0], b.frames[over:]...)
		}
		b.mu.Unlock()
	}
}

// arrival is when a packet came and how loud it was.
type arrival struct {
	at    time.Time
	level float64
}

// LoudAfter returns when the first packet louder than dbfs arrived after
// t (false if none has yet): the ear end of a mouth-to-ear measurement.
func (b *Browser) LoudAfter(t time.Time, dbfs float64) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.frames {
		if f.at.After(t) && f.level > dbfs {
			return f.at, true
		}
	}
	return time.Time{}, false
}

// rmsDB is the level of pcm in dBFS.
func rmsDB(pcm []int16) float64 {
	var sum float64
	for _, x := range pcm {
		v := float64(x) / 32768
		sum += v * v
	}
	return 10 * math.Log10(sum/float64(max(1, len(pcm)))+1e-12)
}

// goertzelDB is the power of hz in pcm in dBFS.
func goertzelDB(pcm []int16, hz float64) float64 {
	if len(pcm) == 0 {
		return -120
	}
	k := 2 * math.Cos(2*math.Pi*hz/rate)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x)/32768 + k*s1 - s2
		s2, s1 = s1, s0
	}
	p := (s1*s1 + s2*s2 - k*s1*s2) / float64(len(pcm)*len(pcm)) * 2
	return 10 * math.Log10(p+1e-12)
}

// String describes the browser's counters (for test failures).
func (b *Browser) String() string {
	return fmt.Sprintf("browser: sent %d, received %d packets", b.Sent(), b.Received())
}
