// Package webrtc is the browser's media transport (pion/webrtc): it answers
// a browser's SDP offer with one audio track each way, DTLS-SRTP, ICE host
// candidates (plus STUN/TURN when configured) and RFC 4733 key presses,
// and hands the worker the call's RTP through Peer. It knows nothing of
// calls or flows: the media worker (media/sipworker) runs a Peer as a
// session like a SIP call's, so prompts, key presses, recording and the
// bridge's PCM path serve browsers too.
package webrtc

import (
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	pion "github.com/pion/webrtc/v4"
)

// Codec is an audio codec the worker can encode and decode.
type Codec struct {
	Name      string // as in SDP: "opus", "PCMU", "PCMA"
	ClockRate uint32
	Channels  uint16
}

// Config configures the WebRTC transport.
type Config struct {
	// Codecs the worker can take, preferred first; the browser's offer
	// order decides among them (as a SIP answer keeps the caller's order).
	Codecs []Codec
	// ICEServers are STUN/TURN URLs ("stun:host:3478", "turn:host:3478")
	// for browsers outside the worker's network; empty: host candidates
	// only (loopback, LAN). TURN needs ICEUsername and ICECredential.
	ICEServers                 []string
	ICEUsername, ICECredential string
	// PublicIPs are the addresses put in our host candidates instead of the
	// interfaces' (a worker behind 1:1 NAT).
	PublicIPs []string
	// UDPPortMin and UDPPortMax bound the ICE ports (zero: ephemeral).
	UDPPortMin, UDPPortMax uint16
	// Loopback also offers 127.0.0.1 candidates (tests, one machine).
	Loopback bool
	// DisconnectedTimeout and FailedTimeout: how long ICE may go without
	// traffic before it counts as disconnected, then failed (the call
	// ends); a browser has until then to restart ICE after a network blip.
	// Defaults 5 s and 25 s.
	DisconnectedTimeout, FailedTimeout time.Duration
}

// Sentinel errors of an offer the transport cannot answer.
var (
	// ErrNoCommonCodec: the offer has no audio codec the worker takes.
	ErrNoCommonCodec = errors.New("no common audio codec")
	// ErrBadOffer: the offer is not an SDP offer with an audio section.
	ErrBadOffer = errors.New("bad SDP offer")
)

// telephoneEvent is RFC 4733 at 8 kHz, what browsers send for insertDTMF.
var telephoneEvent = pion.RTPCodecCapability{MimeType: "audio/telephone-event", ClockRate: 8000, SDPFmtpLine: "0-15"}

// Transport answers browsers' offers.
type Transport struct {
	cfg     Config
	setting pion.SettingEngine
	ice     []pion.ICEServer
}

// New checks cfg and builds a Transport.
func New(cfg Config) (*Transport, error) {
	if len(cfg.Codecs) == 0 {
		return nil, errors.New("webrtc: no codecs")
	}
	if cfg.DisconnectedTimeout <= 0 {
		cfg.DisconnectedTimeout = 5 * time.Second
	}
	if cfg.FailedTimeout <= 0 {
		cfg.FailedTimeout = 25 * time.Second
	}
	t := &Transport{cfg: cfg}
	t.setting.SetICETimeouts(cfg.DisconnectedTimeout, cfg.FailedTimeout, 2*time.Second)
	t.setting.SetIncludeLoopbackCandidate(cfg.Loopback)
	if len(cfg.PublicIPs) > 0 {
		t.setting.SetNAT1To1IPs(cfg.PublicIPs, pion.ICECandidateTypeHost)
	}
	if cfg.UDPPortMin != 0 || cfg.UDPPortMax != 0 {
		if err := t.setting.SetEphemeralUDPPortRange(cfg.UDPPortMin, cfg.UDPPortMax); err != nil {
			return nil, fmt.Errorf("webrtc: UDP port range %d-%d: %w", cfg.UDPPortMin, cfg.UDPPortMax, err)
		}
	}
	for _, u := range cfg.ICEServers {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			return nil, fmt.Errorf("webrtc: ICE server %q: want stun:, turn: or turns:", u)
		}
		s := pion.ICEServer{URLs: []string{u}}
		if !strings.HasPrefix(u, "stun:") {
			s.Username, s.Credential = cfg.ICEUsername, cfg.ICECredential
		}
		t.ice = append(t.ice, s)
	}
	return t, nil
}

// ICEServers is what a browser should use too (the signalling hands it on).
func (t *Transport) ICEServers() []pion.ICEServer { return t.ice }

// pick chooses the codec of an offer: the first audio format, in the
// offer's order, that the worker takes.
func (t *Transport) pick(offer string) (Codec, uint8, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return Codec{}, 0, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if !hasAudio(&sd) {
		return Codec{}, 0, fmt.Errorf("%w: no audio section", ErrBadOffer)
	}
	for pt, c := range audioFormats(&sd) {
		for _, ours := range t.cfg.Codecs {
			if strings.EqualFold(c.Name, ours.Name) && c.ClockRate == ours.ClockRate {
				return ours, pt, nil
			}
		}
	}
	return Codec{}, 0, fmt.Errorf("%w: the offer has none of %s", ErrNoCommonCodec, t.names())
}

func hasAudio(sd *sdp.SessionDescription) bool {
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" {
			return true
		}
	}
	return false
}

// audioFormats yields the payload types and codecs of the offer's first
// audio section, in the offer's order (its preference).
func audioFormats(sd *sdp.SessionDescription) iter.Seq2[uint8, sdp.Codec] {
	return func(yield func(uint8, sdp.Codec) bool) {
		for _, md := range sd.MediaDescriptions {
			if md.MediaName.Media != "audio" {
				continue
			}
			for _, f := range md.MediaName.Formats {
				pt, err := strconv.ParseUint(f, 10, 8)
				if err != nil {
					continue
				}
				if c, err := sd.GetCodecForPayloadType(uint8(pt)); err == nil && !yield(uint8(pt), c) {
					return
				}
			}
			return
		}
	}
}

func (t *Transport) names() string {
	var n []string
	for _, c := range t.cfg.Codecs {
		n = append(n, fmt.Sprintf("%s/%d", c.Name, c.ClockRate))
	}
	return strings.Join(n, ", ")
}

// api builds a pion API that knows only codec (and telephone-event), so
// its answer names exactly the codec the worker will use.
func (t *Transport) api(c Codec, pt uint8) (*pion.API, error) {
	m := &pion.MediaEngine{}
	capab := pion.RTPCodecCapability{MimeType: "audio/" + c.Name, ClockRate: c.ClockRate, Channels: c.Channels}
	if err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: capab, PayloadType: pion.PayloadType(pt)}, pion.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(pion.RTPCodecParameters{RTPCodecCapability: telephoneEvent, PayloadType: 101}, pion.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := pion.RegisterDefaultInterceptors(m, ir); err != nil {
		return nil, err
	}
	return pion.NewAPI(pion.WithMediaEngine(m), pion.WithInterceptorRegistry(ir), pion.WithSettingEngine(t.setting)), nil
}
