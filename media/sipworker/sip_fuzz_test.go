package sipworker

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

// offerSDP is a PCMU offer with telephone-event, as a softphone sends it.
const offerSDP = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n" +
	"m=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=sendrecv\r\n"

func sipInvite(extra, body string) string {
	return "INVITE sip:+15551230000@voxflow.test SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1;rport\r\n" +
		"From: \"Ann\" <sip:+15550001111@192.0.2.10>;tag=f1\r\n" +
		"To: <sip:+15551230000@voxflow.test>\r\n" +
		"Call-ID: fuzz-1@192.0.2.10\r\nCSeq: 1 INVITE\r\n" +
		"Contact: <sip:ann@192.0.2.10:5060>\r\nMax-Forwards: 70\r\n" + extra +
		"Content-Type: application/sdp\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// FuzzSIPRequest parses whole SIP messages with sipgo and runs every
// reader of ours that an INVITE, re-INVITE or INFO reaches before a call
// exists: the screen's header checks, the dialled and caller numbers, the
// headers a flow sees, the SDP offer checks, NAT detection and INFO DTMF.
func FuzzSIPRequest(f *testing.F) {
	f.Add([]byte(sipInvite("", offerSDP)))
	f.Add([]byte(sipInvite("X-Account: 42\r\nP-Asserted-Identity: <sip:+15550001111@carrier>\r\n"+
		"Diversion: <sip:+15559998888@carrier>;reason=unconditional\r\nUser-Agent: fuzz\r\n"+
		"Session-Expires: 1800;refresher=uac\r\nReplaces: abc@h;to-tag=1;from-tag=2\r\n"+
		"Refer-To: <sip:bob@h?Replaces=x>\r\nReason: Q.850;cause=16\r\nRetry-After: 30\r\nExpires: 60\r\n", offerSDP)))
	f.Add([]byte(sipInvite("", "")))
	f.Add([]byte("INFO sip:w@voxflow.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-2\r\nFrom: <sip:a@h>;tag=1\r\n" +
		"To: <sip:w@voxflow.test>;tag=2\r\nCall-ID: c\r\nCSeq: 2 INFO\r\nContent-Type: application/dtmf-relay\r\n" +
		"Content-Length: 26\r\n\r\nSignal=5\r\nDuration=160\r\n"))
	f.Add([]byte("INVITE sip:@ SIP/2.0\r\nTo: <sip:x>;tag=\r\nFrom: sip:\r\nCall-ID:\r\nContent-Length: 0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, err := sip.ParseMessage(raw)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("198.51.100.7:5060")
		_ = hasToTag(req)
		_ = dialledNumber(req)
		_ = callerNumber(req)
		_ = callbackURI(req)
		_ = behindNAT(req)
		if missingHeaders(req) == "" {
			hs := callHeaders(req)
			if hs["Call-ID"] != req.CallID().Value() {
				t.Fatalf("Call-ID %q, want %q", hs["Call-ID"], req.CallID().Value())
			}
		}
		if err := checkOffer(req.Body()); err != nil && !errors.Is(err, errNotAcceptable) {
			t.Fatalf("checkOffer error %v does not wrap errNotAcceptable", err)
		}
		if ct := req.ContentType(); ct != nil {
			checkDTMF(t, ct.Value(), req.Body())
		}
	})
}

// FuzzCheckOffer checks SDP offers: an accepted one has an audio address
// with a port, and answering it must not fail to find that address.
func FuzzCheckOffer(f *testing.F) {
	f.Add([]byte(offerSDP))
	f.Add([]byte(strings.ReplaceAll(offerSDP, "IP4 192.0.2.10", "IP6 2001:db8::1")))
	f.Add([]byte(strings.ReplaceAll(offerSDP, "RTP/AVP 0 8 101", "RTP/AVP 111\r\na=rtpmap:111 opus/48000/2")))
	f.Add([]byte("v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"))
	f.Add([]byte("v=0\nm=audio 99999 RTP/AVP\nc=IN IP4 ::\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		err := checkOffer(body)
		if err != nil {
			if !errors.Is(err, errNotAcceptable) {
				t.Fatalf("error %v does not wrap errNotAcceptable", err)
			}
			_ = sdpElsewhere(body, "192.0.2.10:5060")
			return
		}
		ap, err := offerAddress(body)
		if err != nil {
			t.Fatalf("accepted offer has no address: %v\n%s", err, body)
		}
		if !ap.Addr().IsValid() || ap.Port() == 0 {
			t.Fatalf("accepted offer has address %v\n%s", ap, body)
		}
	})
}

// FuzzDTMFInfo checks SIP INFO DTMF bodies: a key read is one of 0-9 * # A-D.
func FuzzDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf-relay; charset=x", []byte("signal = 11\nDuration=100"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("Application/DTMF", []byte(" 10 "))
	f.Add("text/plain", []byte("Signal=1"))
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		checkDTMF(t, ct, body)
	})
}

func checkDTMF(t *testing.T, ct string, body []byte) {
	d, ok := parseDTMFInfo(ct, body)
	if ok && !strings.ContainsRune(eventDigits, d) {
		t.Fatalf("parseDTMFInfo(%q, %q) = %q, not a DTMF key", ct, body, d)
	}
	if !ok && d != 0 {
		t.Fatalf("parseDTMFInfo(%q, %q) = %q without ok", ct, body, d)
	}
}

// FuzzDestination checks the destinations a flow or a campaign row gives
// for originate, transfer and the caller ID: an accepted one is a URI with
// a host that survives printing and parsing again.
func FuzzDestination(f *testing.F) {
	for _, s := range []string{"+15551230000", "sip:bob@192.0.2.20:5070;transport=tcp", "alice@pbx.example",
		"sips:[2001:db8::1]", "sip:", "a b", "sip:x@y?Replaces=a%40b", "+1;x", "1001"} {
		f.Add(s)
	}
	w := &Worker{cfg: Config{SIPAddr: "127.0.0.1:5060", Trunk: &Trunk{URI: "sip:trunk.example:5060"}}}
	s := &session{peer: "192.0.2.10:5060"}
	f.Fuzz(func(t *testing.T, to string) {
		if u, viaTrunk, err := w.originateTarget(to); err == nil {
			checkURI(t, "originate", to, u)
			if h, err := w.fromHeader(to, u, viaTrunk); err == nil && h != nil {
				checkURI(t, "caller ID", to, h.Address)
			}
		}
		if u, err := s.referTarget(to); err == nil {
			checkURI(t, "refer", to, u)
		}
	})
}

func checkURI(t *testing.T, what, in string, u sip.Uri) {
	t.Helper()
	if u.Host == "" {
		t.Fatalf("%s %q: URI without host", what, in)
	}
	var again sip.Uri
	if err := sip.ParseUri(u.String(), &again); err != nil {
		t.Fatalf("%s %q: printed URI %q does not parse: %v", what, in, u.String(), err)
	}
	if !strings.EqualFold(again.Host, u.Host) {
		t.Fatalf("%s %q: host %q became %q after printing %q", what, in, u.Host, again.Host, u.String())
	}
}
