package registrar

import (
	"errors"
	"maps"
	"sort"
	"strings"
	"testing"
	"time"
)

// RFC 2617 §3.5's worked example (qop=auth, MD5).
func TestDigestResponseRFC2617(t *testing.T) {
	ha1 := HA1("Mufasa", "testrealm@host.com", "Circle Of Life")
	got := digestResponse(ha1, "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth")
	if got != "6629fae49393a05397450978507c4ef1" {
		t.Fatalf("response = %s", got)
	}
	// HA1 in upper case (hand-made accounts) gives the same response.
	if digestResponse(strings.ToUpper(ha1), "GET", "/dir/index.html", "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth") != got {
		t.Fatal("HA1 case matters")
	}
}

func TestParseAuthorization(t *testing.T) {
	good := []struct {
		in     string
		scheme string
		want   map[string]string
	}{
		{`Digest username="alice", realm="voxflow", nonce="abc", uri="sip:127.0.0.1", response="0123", algorithm=MD5, cnonce="x y", qop=auth, nc=00000001`,
			"Digest", map[string]string{"username": "alice", "realm": "voxflow", "nonce": "abc", "uri": "sip:127.0.0.1", "response": "0123",
				"algorithm": "MD5", "cnonce": "x y", "qop": "auth", "nc": "00000001"}},
		// SIPp's form: no spaces after commas, unquoted nc and qop.
		{`Digest username="bob",realm="voxflow",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="n",response="r",algorithm=MD5`,
			"Digest", map[string]string{"username": "bob", "realm": "voxflow", "cnonce": "6b8b4567", "nc": "00000001", "qop": "auth",
				"uri": "sip:127.0.0.1:5060", "nonce": "n", "response": "r", "algorithm": "MD5"}},
		// Case-insensitive names, tabs and line folds, empty list elements, escapes.
		{"digest\tUserName = \"a\\\"b\\\\c\" ,, REALM=\"voxflow\"\r\n , nonce=\"\"", "digest",
			map[string]string{"username": `a"b\c`, "realm": "voxflow", "nonce": ""}},
		{`Basic realm="x"`, "Basic", map[string]string{"realm": "x"}},
		{`Digest a=b,`, "Digest", map[string]string{"a": "b"}},
	}
	for _, c := range good {
		scheme, cred, err := parseAuthorization(c.in)
		if err != nil {
			t.Errorf("parseAuthorization(%q): %v", c.in, err)
			continue
		}
		if scheme != c.scheme || !maps.Equal(cred.params, c.want) {
			t.Errorf("parseAuthorization(%q) = %q %v, want %q %v", c.in, scheme, cred.params, c.scheme, c.want)
		}
	}
	bad := []string{
		"",
		"   ",
		"Digest",
		"Digest ",
		`Digest username`,
		`Digest username=`,
		`Digest username="alice`,
		`Digest username="alice\`,
		`Digest =alice`,
		`Digest username="a" realm="b"`,
		`Digest username="a", username="b"`,
		`Digest Username="a", username="b"`,
		`Digest username=a b`,
		`Digest uri=sip:127.0.0.1`,
		`"Digest" username="a"`,
		`Digest username="a";realm="b"`,
		"Digest username=\"" + strings.Repeat("a", maxAuthorizationLen) + "\"",
	}
	for _, in := range bad {
		if _, _, err := parseAuthorization(in); !errors.Is(err, ErrBadAuthorization) {
			t.Errorf("parseAuthorization(%q) err = %v, want ErrBadAuthorization", clip(in), err)
		}
	}
}

// formatAuthorization writes params back as a header value.
func formatAuthorization(scheme string, params map[string]string) string {
	names := make([]string, 0, len(params))
	for n := range params {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+quote(params[n]))
	}
	return scheme + " " + strings.Join(parts, ", ")
}

// The parser reads outside input: it must never panic, and what it accepts
// must survive a round trip through the formatter.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		`Digest username="alice", realm="voxflow", nonce="abc", uri="sip:127.0.0.1", response="0123", algorithm=MD5, cnonce="x", qop=auth, nc=00000001`,
		`Digest username="bob",realm="voxflow",cnonce="6b8b4567",nc=00000001,qop=auth,uri="sip:127.0.0.1:5060",nonce="n",response="r",algorithm=MD5`,
		"digest\tUserName = \"a\\\"b\\\\c\" ,, REALM=\"voxflow\"\r\n , nonce=\"\"",
		`Digest username="a\`,
		`Digest a=b,c="d",,`,
		"Digest x=\"\xff\xfe\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		scheme, cred, err := parseAuthorization(in)
		if err != nil {
			if !errors.Is(err, ErrBadAuthorization) {
				t.Fatalf("error %v does not wrap ErrBadAuthorization", err)
			}
			return
		}
		if scheme == "" || tokenLen(scheme) != len(scheme) || len(cred.params) == 0 {
			t.Fatalf("accepted %q as scheme %q params %v", in, scheme, cred.params)
		}
		for n := range cred.params {
			if n == "" || tokenLen(n) != len(n) || n != strings.ToLower(n) {
				t.Fatalf("bad parameter name %q from %q", n, in)
			}
		}
		out := formatAuthorization(scheme, cred.params)
		if len(out) > maxAuthorizationLen {
			return // quoting may grow it past the limit
		}
		scheme2, cred2, err := parseAuthorization(out)
		if err != nil {
			t.Fatalf("re-parse of %q (from %q): %v", out, in, err)
		}
		if scheme2 != scheme || !maps.Equal(cred2.params, cred.params) {
			t.Fatalf("round trip of %q: %q %v, want %q %v", in, scheme2, cred2.params, scheme, cred.params)
		}
	})
}

func TestNonces(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	n, err := newNonces(nil, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	a := n.issue(now)
	if a == n.issue(now) {
		t.Fatal("two nonces alike")
	}
	if st, issued := n.check(a, now.Add(4*time.Minute)); st != nonceValid || !issued.Equal(now) {
		t.Fatalf("fresh nonce: %v %v", st, issued)
	}
	if st, _ := n.check(a, now.Add(5*time.Minute+time.Second)); st != nonceStale {
		t.Fatal("expired nonce not stale")
	}
	other, _ := newNonces(nil, 5*time.Minute)
	for _, bad := range []string{other.issue(now), "", "abc", strings.Repeat("A", 43), a[:len(a)-2] + "AA"} {
		if st, _ := n.check(bad, now); st != nonceStale {
			t.Errorf("check(%q) = valid", bad)
		}
	}
	// Nonce counts: the first use may be anything, then strictly rising.
	if !n.use(a, 0, now, now) || n.use(a, 0, now, now) || !n.use(a, 1, now, now) || n.use(a, 1, now, now) ||
		!n.use(a, 7, now, now) || n.use(a, 3, now, now) {
		t.Fatal("nonce count sequence 0 0 1 1 7 3 not accepted as yes no yes no yes no")
	}
	// Entries older than the TTL are swept.
	n.use(n.issue(now), 1, now, now.Add(6*time.Minute))
	n.mu.Lock()
	left := len(n.used)
	n.mu.Unlock()
	if left != 1 {
		t.Fatalf("%d nonce entries after sweep, want 1", left)
	}
}
