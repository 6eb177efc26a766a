package sipworker

import (
	"net"
	"net/netip"
	"strconv"

	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/media/sipguard"
)

// ClientSource is the address ("ip:port") the scanner guard holds a request
// against. It is the packet's source unless that is a trusted proxy; then
// it is the client the proxies relayed it for: walking the Vias from the
// top, past those a trusted proxy added, the first whose received= (else
// sent-by host) is not a trusted proxy. A proxy puts received= on the Via
// below its own when the sent-by is not where the packet came from, so a
// client cannot name someone else. With no such Via (a client on a proxy's
// own address, a Via naming a host) the proxy's address is kept. proxied
// says the packet came from a trusted proxy. Vias from an untrusted source
// are never read: anyone can write them.
func ClientSource(req *sip.Request, proxies sipguard.Proxies) (src string, proxied bool) {
	src = req.Source()
	if len(proxies) == 0 || !proxies.Trusted(src) {
		return src, false
	}
	for _, h := range req.GetHeaders("Via") {
		via, ok := h.(*sip.ViaHeader)
		if !ok {
			break
		}
		a, ok := viaAddr(via)
		if !ok {
			break // a host name: nothing to hold against
		}
		if proxies.Contains(a) {
			continue
		}
		return net.JoinHostPort(a.String(), strconv.Itoa(viaPort(via))), true
	}
	return src, true
}

// viaAddr is where the hop's packet came from: received=, else the sent-by
// host when it is an IP.
func viaAddr(via *sip.ViaHeader) (netip.Addr, bool) {
	host := via.Host
	if via.Params != nil {
		if r, ok := via.Params.Get("received"); ok && r != "" {
			host = r
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// viaPort is the hop's source port: rport= when the proxy filled it in,
// else the sent-by port (5060 when absent).
func viaPort(via *sip.ViaHeader) int {
	if via.Params != nil {
		if r, ok := via.Params.Get("rport"); ok {
			if p, err := strconv.Atoi(r); err == nil && p > 0 && p < 65536 {
				return p
			}
		}
	}
	if via.Port > 0 {
		return via.Port
	}
	return 5060
}
