package sipguard

import "net/netip"

// Proxies are the addresses of the SIP proxies trusted to relay requests
// for clients (Kamailio in front of the workers). Every request through a
// proxy arrives from the proxy's address, so the guard bans the client the
// proxy names in the Via instead (media/sipworker finds it), and never the
// proxy: banning it would cut off every client behind it.
type Proxies []netip.Prefix

// Contains reports whether a is a trusted proxy's address.
func (p Proxies) Contains(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// Trusted reports whether src ("ip:port" or an IP) is a trusted proxy.
func (p Proxies) Trusted(src string) bool {
	a, ok := sourceAddr(src)
	return ok && p.Contains(a)
}

// Proxies are the trusted proxies of BanConfig.
func (b *Bans) Proxies() Proxies { return b.cfg.TrustedProxies }
