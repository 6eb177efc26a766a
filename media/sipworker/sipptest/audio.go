package sipptest

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"time"

	prtp "github.com/pion/rtp"

	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
)

const (
	rate        = 8000
	frameLen    = 160
	frameLength = 20 * time.Millisecond
)

// TonePcap is PCMA RTP carrying a steady tone of freq Hz for d, as a pcap
// SIPp's play_pcap_audio replays.
func TonePcap(freq float64, d time.Duration) []byte {
	pcm := audio.Tone(freq, int(d/time.Millisecond), -12)
	var pkts [][]byte
	for i := 0; i+frameLen <= len(pcm); i += frameLen {
		payload := make([]byte, frameLen)
		g711.EncodeALaw(payload, pcm[i:i+frameLen])
		pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 8, SequenceNumber: uint16(7 + i/frameLen),
			Timestamp: uint32(16000 + i), SSRC: 0xbeef, Marker: i == 0}, Payload: payload}
		b, _ := pkt.Marshal()
		pkts = append(pkts, b)
	}
	return RTPPcap(pkts, frameLength)
}

// ToneShare is the share of pcm's energy at freq (Goertzel power over
// total power, 0..1): near 1 for a clean tone, near 0 when freq is absent.
func ToneShare(pcm []int16, freq float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/rate)
	var s1, s2, total float64
	for _, v := range pcm {
		x := float64(v)
		s := x + coeff*s1 - s2
		s2, s1 = s1, s
		total += x * x
	}
	if total == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return 2 * power / (float64(len(pcm)) * total)
}

// Loudest keeps the 20 ms frames above -40 dBFS (a tone, not the silence
// around it).
func Loudest(pcm []int16) []int16 {
	var out []int16
	for i := 0; i+frameLen <= len(pcm); i += frameLen {
		if audio.LevelDBFS(pcm[i:i+frameLen]) > -40 {
			out = append(out, pcm[i:i+frameLen]...)
		}
	}
	return out
}

// ReadStereo splits a 2-channel 8 kHz WAV written by wav.NewWriter (a
// canonical 44-byte header) into its channels.
func ReadStereo(path string) (left, right []int16, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" || string(b[36:40]) != "data" {
		return nil, nil, fmt.Errorf("%s: not a canonical WAV file", path)
	}
	if ch, r := binary.LittleEndian.Uint16(b[22:]), binary.LittleEndian.Uint32(b[24:]); ch != 2 || r != rate {
		return nil, nil, fmt.Errorf("%s: %d channels at %d Hz, want 2 at %d", path, ch, r, rate)
	}
	data := b[44:]
	for i := 0; i+3 < len(data); i += 4 {
		left = append(left, int16(binary.LittleEndian.Uint16(data[i:])))
		right = append(right, int16(binary.LittleEndian.Uint16(data[i+2:])))
	}
	return left, right, nil
}
