package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 127.0.0.1, 10.0.0.9/24,2001:db8::1 , ::ffff:192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/24"),
		netip.MustParsePrefix("2001:db8::1/128"), netip.MustParsePrefix("192.0.2.1/32")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"kamailio.local", "10.0.0.0/33", "10.0.0.1:5060"} {
		if _, err := ParseTrustedProxies(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseTrustedProxies(%q) = %v, want an error naming it", bad, err)
		}
	}
}

func TestValidateTrustedProxies(t *testing.T) {
	c := Defaults()
	c.Media.Guard.TrustedProxies = "127.0.0.1/32"
	if err := c.Validate(); err != nil {
		t.Fatalf("valid proxies: %v", err)
	}
	c.Media.Guard.TrustedProxies = "127.0.0.1,proxy"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "media.guard.trusted_proxies") {
		t.Fatalf("Validate = %v, want an error naming media.guard.trusted_proxies", err)
	}
}
