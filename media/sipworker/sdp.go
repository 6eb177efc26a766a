package sipworker

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
)

// errNotAcceptable marks an SDP offer the worker cannot answer (488).
var errNotAcceptable = errors.New("not acceptable")

// checkOffer validates an INVITE's SDP offer before anything is allocated
// for the call: it must parse, carry an RTP/AVP audio stream with a
// connection address, and offer an audio codec of this build (PCMU or PCMA;
// Opus with the opus build tag, see codec.go). The error wraps
// errNotAcceptable and says why.
func checkOffer(body []byte) error {
	if len(body) == 0 {
		// Late offer (SDP in the ACK) is not supported yet.
		return fmt.Errorf("%w: no SDP offer", errNotAcceptable)
	}
	sd := sdp.SessionDescription{}
	if err := sdp.Unmarshal(body, &sd); err != nil {
		return fmt.Errorf("%w: malformed SDP: %v", errNotAcceptable, err)
	}
	if sd.Value("v") != "0" {
		return fmt.Errorf("%w: SDP has no v=0 line", errNotAcceptable)
	}
	if _, err := sd.SessionInformation(); err != nil {
		return fmt.Errorf("%w: bad origin line: %v", errNotAcceptable, err)
	}
	md, err := sd.MediaDescription("audio")
	if err != nil {
		return fmt.Errorf("%w: no audio stream: %v", errNotAcceptable, err)
	}
	if md.Proto != "RTP/AVP" {
		return fmt.Errorf("%w: unsupported media profile %q", errNotAcceptable, md.Proto)
	}
	if md.Port <= 0 || md.Port > 65535 {
		return fmt.Errorf("%w: bad media port %d", errNotAcceptable, md.Port)
	}
	if c, bad := malformedConnection(sd); bad {
		return fmt.Errorf("%w: malformed connection line %q", errNotAcceptable, c)
	}
	ci, err := sd.ConnectionInformation()
	if err != nil || ci.IP == nil {
		return fmt.Errorf("%w: no usable connection address", errNotAcceptable)
	}
	codecs := make([]media.Codec, len(md.Formats))
	n, _ := media.CodecsFromSDPRead(md.Formats, sd.Values("a"), codecs)
	for _, c := range codecs[:n] {
		if _, ok := codecFor(c); ok {
			return nil
		}
	}
	return fmt.Errorf("%w: no common audio codec in %s (want %s)", errNotAcceptable, strings.Join(md.Formats, " "), codecNames())
}

// offerAddress is the audio address of an offer checkOffer accepted.
func offerAddress(body []byte) (netip.AddrPort, error) {
	sd := sdp.SessionDescription{}
	if err := sdp.Unmarshal(body, &sd); err != nil {
		return netip.AddrPort{}, err
	}
	md, err := sd.MediaDescription("audio")
	if err != nil {
		return netip.AddrPort{}, err
	}
	if c, bad := malformedConnection(sd); bad {
		return netip.AddrPort{}, fmt.Errorf("malformed connection line %q", c)
	}
	ci, err := sd.ConnectionInformation()
	if err != nil {
		return netip.AddrPort{}, err
	}
	ip, ok := netip.AddrFromSlice(ci.IP)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad connection address %v", ci.IP)
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(md.Port)), nil
}

// malformedConnection finds a c= line with fewer than three fields:
// diago's ConnectionInformation indexes them without checking their number
// and panics. Answers (sdpElsewhere on a 200 OK) reach it unchecked too.
func malformedConnection(sd sdp.SessionDescription) (string, bool) {
	for _, c := range sd.Values("c") {
		if len(strings.Fields(c)) < 3 {
			return c, true
		}
	}
	return "", false
}
