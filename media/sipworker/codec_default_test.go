//go:build !opus

package sipworker

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
)

// opusOnlyOffer is an INVITE whose SDP offers Opus and telephone-event
// only, as a WebRTC gateway or an Opus-only softphone would.
func opusOnlyOffer(addr string) string {
	sdp := strings.Join([]string{
		"v=0",
		"o=- 1 1 IN IP4 127.0.0.1",
		"s=-",
		"c=IN IP4 127.0.0.1",
		"t=0 0",
		"m=audio 40000 RTP/AVP 111 101",
		"a=rtpmap:111 opus/48000/2",
		"a=fmtp:111 useinbandfec=1",
		"a=rtpmap:101 telephone-event/8000",
		"a=sendrecv",
	}, "\r\n") + "\r\n"
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	return strings.Join([]string{
		"INVITE sip:1000@" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:%PORT%;branch=z9hG4bK-opus" + id,
		"From: <sip:opus@127.0.0.1>;tag=opus1",
		"To: <sip:1000@" + addr + ">",
		"Call-ID: opus-" + id,
		"CSeq: 1 INVITE",
		"Contact: <sip:opus@127.0.0.1:%PORT%>",
		"Max-Forwards: 70",
		"Content-Type: application/sdp",
		"Content-Length: " + strconv.Itoa(len(sdp)),
	}, "\r\n") + "\r\n\r\n" + sdp
}

// Without the opus build tag Opus is an unknown codec: an Opus-only offer
// gets 488 and starts no call.
func TestOpusOnlyOfferWithoutOpusBuild(t *testing.T) {
	if len(audioCodecs) != 2 {
		t.Fatalf("audio codecs %v, want PCMU and PCMA only", codecNames())
	}
	body := opusOnlyOffer("127.0.0.1:5060")
	err := checkOffer([]byte(body[strings.Index(body, "\r\n\r\n")+4:]))
	if !errors.Is(err, errNotAcceptable) || !strings.Contains(err.Error(), "want PCMU or PCMA") {
		t.Fatalf("checkOffer = %v, want not acceptable (want PCMU or PCMA)", err)
	}
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	if code := rawRequest(t, r.addr, opusOnlyOffer(r.addr)); code != 488 {
		t.Fatalf("Opus-only INVITE answered %d, want 488", code)
	}
	r.waitIdle()
	if len(r.started) != 0 {
		t.Fatalf("the rejected INVITE started a call: %v", r.started)
	}
}
