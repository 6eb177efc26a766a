package sipworker

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/media/sipguard"
)

// registerVia is a REGISTER with the given Via lines (top first) whose
// packet came from src.
func registerVia(t *testing.T, src string, vias ...string) *sip.Request {
	t.Helper()
	var b strings.Builder
	b.WriteString("REGISTER sip:voxflow.test SIP/2.0\r\n")
	for _, v := range vias {
		b.WriteString("Via: " + v + "\r\n")
	}
	b.WriteString("From: <sip:1001@voxflow.test>;tag=a\r\nTo: <sip:1001@voxflow.test>\r\n" +
		"Call-ID: c1\r\nCSeq: 1 REGISTER\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
	msg, err := sip.ParseMessage([]byte(b.String()))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	req := msg.(*sip.Request)
	req.SetSource(src)
	return req
}

func TestClientSource(t *testing.T) {
	proxies := sipguard.Proxies{netip.MustParsePrefix("10.0.0.5/32"), netip.MustParsePrefix("10.1.0.0/16")}
	const kam = "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKk"
	for _, tc := range []struct {
		name, src   string
		vias        []string
		noProxies   bool
		want        string
		wantProxied bool
	}{
		{name: "no proxies configured", src: "10.0.0.5:5060", noProxies: true,
			vias: []string{kam, "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKc"}, want: "10.0.0.5:5060"},
		{name: "untrusted source: its Vias are not read", src: "198.51.100.9:5070",
			vias: []string{"SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKc;received=203.0.113.1"}, want: "198.51.100.9:5070"},
		{name: "untrusted source claiming a proxy's Via", src: "198.51.100.9:5070",
			vias: []string{kam, "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKc"}, want: "198.51.100.9:5070"},
		{name: "sent-by below the proxy's Via", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 192.0.2.7:5062;branch=z9hG4bKc"}, want: "192.0.2.7:5062", wantProxied: true},
		{name: "received and rport win over sent-by", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 192.168.1.20:5060;rport=40123;branch=z9hG4bKc;received=203.0.113.8"},
			want: "203.0.113.8:40123", wantProxied: true},
		{name: "no port: 5060", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKc"}, want: "192.0.2.7:5060", wantProxied: true},
		{name: "client spoofs a proxy's sent-by, received tells", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKc;received=203.0.113.8"},
			want: "203.0.113.8:5060", wantProxied: true},
		{name: "several proxies", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 10.1.2.3:5060;branch=z9hG4bKe", "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKc;received=203.0.113.8"},
			want: "203.0.113.8:5060", wantProxied: true},
		{name: "several proxies on one line", src: "10.1.9.9:5060",
			vias: []string{"SIP/2.0/UDP 10.1.9.9;branch=z9hG4bKe, SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk", "SIP/2.0/UDP 192.0.2.7:5080;branch=z9hG4bKc"},
			want: "192.0.2.7:5080", wantProxied: true},
		{name: "spoofed Vias below the client's are ignored", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKc;received=203.0.113.8", "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKx"},
			want: "203.0.113.8:5060", wantProxied: true},
		{name: "client on a proxy's address: the proxy", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP 10.0.0.5:5070;branch=z9hG4bKc"}, want: "10.0.0.5:5060", wantProxied: true},
		{name: "host name without received: the proxy", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP phone.example.com:5060;branch=z9hG4bKc"}, want: "10.0.0.5:5060", wantProxied: true},
		{name: "IPv6 client", src: "10.0.0.5:5060",
			vias: []string{kam, "SIP/2.0/UDP [2001:db8::7]:5060;branch=z9hG4bKc"}, want: "[2001:db8::7]:5060", wantProxied: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := proxies
			if tc.noProxies {
				p = nil
			}
			got, proxied := ClientSource(registerVia(t, tc.src, tc.vias...), p)
			if got != tc.want || proxied != tc.wantProxied {
				t.Errorf("ClientSource = %q, %v; want %q, %v", got, proxied, tc.want, tc.wantProxied)
			}
		})
	}
}
