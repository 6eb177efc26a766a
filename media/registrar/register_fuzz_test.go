package registrar

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// FuzzHandle feeds whole REGISTER messages (as a UDP datagram would carry
// them) through sipgo's parser and the registrar: every message sipgo
// accepts must get a response, never a 5xx (the in-memory location
// service does not fail), and a 200 only with the Contacts it was sent.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		"REGISTER sip:voxflow.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK-1;rport\r\nFrom: <sip:alice@voxflow.test>;tag=ft\r\nTo: <sip:alice@voxflow.test>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContact: <sip:alice@192.168.1.20:5062>;expires=3600\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:voxflow.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-2\r\nFrom: <sip:bob@voxflow.test>;tag=a\r\nTo: <sip:bob@voxflow.test>\r\nCall-ID: c2\r\nCSeq: 2 REGISTER\r\nContact: *\r\nExpires: 0\r\nAuthorization: Digest username=\"bob\", realm=\"voxflow\", nonce=\"x\", uri=\"sip:voxflow.test\", response=\"00\", qop=auth, nc=00000001, cnonce=\"c\"\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:voxflow.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-3\r\nFrom: <sip:alice@voxflow.test>;tag=a\r\nTo: <sip:alice@voxflow.test>\r\nCall-ID: c3\r\nCSeq: 3 REGISTER\r\nRequire: path\r\nContact: <sip:a@h>, <sip:a@h>;expires=99999999999999999999\r\nExpires: -1\r\nContent-Length: 0\r\n\r\n",
		"REGISTER sip:voxflow.test SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nTo: sip:carol@voxflow.test\r\nCall-ID: \r\nCSeq: x REGISTER\r\nContact: <sip:@>\r\n\r\n",
		"INVITE sip:alice@voxflow.test SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK-4\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:alice@voxflow.test>\r\nCall-ID: c4\r\nCSeq: 1 INVITE\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	r, err := New(Config{
		Accounts: testAccounts(), Locations: &MemoryLocations{}, WorkerID: "w1",
		Logger: slog.New(slog.DiscardHandler), Now: clk.Now,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, err := sip.ParseMessage(raw)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("203.0.113.5:40000")
		req.SetTransport("UDP")
		res := r.Handle(context.Background(), req)
		if res == nil {
			t.Fatal("no response")
		}
		if res.StatusCode < 200 || res.StatusCode >= 500 {
			t.Fatalf("response %d %s to\n%s", res.StatusCode, res.Reason, raw)
		}
		_ = res.String() // the response must render
	})
}
