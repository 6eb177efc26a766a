package sipguard

import (
	"net/netip"
	"testing"
	"time"
)

func TestTrustedProxyNeverBanned(t *testing.T) {
	c := newBanClock()
	b := NewBans(BanConfig{AuthFailures: 2, AuthWindow: time.Minute, BanTime: time.Minute, Now: c.now,
		TrustedProxies: Proxies{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("2001:db8::1/128")}})
	for _, src := range []string{"10.0.0.5:5060", "[2001:db8::1]:5060", "[::ffff:10.0.0.9]:5060", "192.0.2.7:5060"} {
		for range 3 {
			b.AuthResult(src, false)
		}
	}
	for src, want := range map[string]bool{"10.0.0.5:5060": false, "[2001:db8::1]:5060": false,
		"10.0.0.9": false, "192.0.2.7:5061": true} {
		if got := b.Drop(src); got != want {
			t.Errorf("Drop(%s) = %v, want %v", src, got, want)
		}
	}
	if n := b.BannedCount(); n != 1 {
		t.Errorf("BannedCount = %d, want 1 (the client, not the proxies)", n)
	}
}

func TestProxiesTrusted(t *testing.T) {
	p := Proxies{netip.MustParsePrefix("127.0.0.1/32")}
	for src, want := range map[string]bool{"127.0.0.1:5060": true, "127.0.0.1": true, "127.0.0.2:5060": false,
		"[::ffff:127.0.0.1]:5060": true, "not an address": false} {
		if got := p.Trusted(src); got != want {
			t.Errorf("Trusted(%q) = %v, want %v", src, got, want)
		}
	}
}
