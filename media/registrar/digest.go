package registrar

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HA1 is hex(md5(username:realm:password)), what an account stores instead
// of its password (RFC 2617 §3.2.2.2, RFC 7616 §3.4.2 with MD5).
func HA1(username, realm, password string) string {
	return md5hex(username + ":" + realm + ":" + password)
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// digestResponse is the request-digest of RFC 2617 §3.2.2.1 for qop=auth.
func digestResponse(ha1, method, uri, nonce, nc, cnonce, qop string) string {
	ha2 := md5hex(method + ":" + uri)
	return md5hex(strings.ToLower(ha1) + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2)
}

// credentials are the parameters of a Digest Authorization header.
type credentials struct {
	params map[string]string // names lower-cased, values unquoted
}

func (c credentials) get(name string) string { return c.params[name] }

// maxAuthorizationLen bounds the header we are willing to parse.
const maxAuthorizationLen = 4096

// parseAuthorization parses an Authorization header value
//
//	Digest name=value, name="quoted value", ...
//
// (RFC 3261 §25.1 credentials, RFC 7616 §3.4). It accepts any scheme
// token; the caller checks it is Digest. Names are case-insensitive and may
// appear once; values are tokens or quoted strings (with \-escapes). Empty
// list elements (",,") are allowed, as in every SIP #rule list.
func parseAuthorization(v string) (scheme string, c credentials, err error) {
	if len(v) > maxAuthorizationLen {
		return "", c, fmt.Errorf("%w: longer than %d bytes", ErrBadAuthorization, maxAuthorizationLen)
	}
	s := trimLWS(v)
	n := tokenLen(s)
	if n == 0 {
		return "", c, fmt.Errorf("%w: no scheme", ErrBadAuthorization)
	}
	scheme, s = s[:n], s[n:]
	if s == "" || !isLWS(s[0]) {
		return "", c, fmt.Errorf("%w: no parameters after %q", ErrBadAuthorization, scheme)
	}
	c.params = map[string]string{}
	for {
		s = trimLWS(s)
		if s == "" {
			break
		}
		if s[0] == ',' {
			s = s[1:]
			continue
		}
		n := tokenLen(s)
		if n == 0 {
			return "", c, fmt.Errorf("%w: expected a parameter name at %q", ErrBadAuthorization, clip(s))
		}
		name := strings.ToLower(s[:n])
		s = trimLWS(s[n:])
		if s == "" || s[0] != '=' {
			return "", c, fmt.Errorf("%w: parameter %q has no value", ErrBadAuthorization, name)
		}
		s = trimLWS(s[1:])
		var val string
		if s != "" && s[0] == '"' {
			val, s, err = unquote(s)
			if err != nil {
				return "", c, fmt.Errorf("%w: parameter %q: %v", ErrBadAuthorization, name, err)
			}
		} else {
			n := tokenLen(s)
			if n == 0 {
				return "", c, fmt.Errorf("%w: parameter %q has no value", ErrBadAuthorization, name)
			}
			val, s = s[:n], s[n:]
		}
		if _, dup := c.params[name]; dup {
			return "", c, fmt.Errorf("%w: parameter %q given twice", ErrBadAuthorization, name)
		}
		c.params[name] = val
		s = trimLWS(s)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return "", c, fmt.Errorf("%w: expected ',' at %q", ErrBadAuthorization, clip(s))
		}
		s = s[1:]
	}
	if len(c.params) == 0 {
		return "", c, fmt.Errorf("%w: no parameters", ErrBadAuthorization)
	}
	return scheme, c, nil
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "..."
	}
	return s
}

func isLWS(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func trimLWS(s string) string {
	for s != "" && isLWS(s[0]) {
		s = s[1:]
	}
	return s
}

// tokenLen is the length of the RFC 3261 token at the start of s.
func tokenLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return i
		}
	}
	return len(s)
}

// unquote reads the quoted-string at the start of s.
func unquote(s string) (val, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", fmt.Errorf("unterminated quoted string")
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("unterminated quoted string")
}

// quote makes a quoted-string of v.
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// nonceState is what the registrar knows of a nonce a client answered.
type nonceState int

const (
	nonceValid nonceState = iota
	// nonceStale: not usable (expired, or not issued by this registrar's
	// key: another worker's, or made up). A correct digest over it is
	// answered with a fresh challenge carrying stale=true, so the client
	// retries without asking its user for the password again.
	nonceStale
)

// nonceLen is 8 bytes of issue time, 8 random bytes, 16 bytes of MAC.
const nonceLen = 8 + 8 + 16

// nonces issues self-checking server nonces (an HMAC of their issue time)
// that expire after ttl, and remembers the highest nonce-count accepted for
// each nonce still valid, so a replayed request is refused.
type nonces struct {
	key []byte
	ttl time.Duration

	mu        sync.Mutex
	used      map[string]nonceUse
	lastSweep time.Time
}

type nonceUse struct {
	nc     uint64
	issued time.Time
}

func newNonces(key []byte, ttl time.Duration) (*nonces, error) {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("registrar: nonce key: %w", err)
		}
	}
	return &nonces{key: key, ttl: ttl, used: map[string]nonceUse{}}, nil
}

func (n *nonces) mac(b []byte) []byte {
	m := hmac.New(sha256.New, n.key)
	m.Write(b)
	return m.Sum(nil)[:16]
}

// issue makes a new nonce.
func (n *nonces) issue(now time.Time) string {
	b := make([]byte, nonceLen)
	binary.BigEndian.PutUint64(b, uint64(now.UnixNano()))
	_, _ = rand.Read(b[8:16])
	copy(b[16:], n.mac(b[:16]))
	return base64.RawURLEncoding.EncodeToString(b)
}

// check tells whether nonce is ours and still fresh.
func (n *nonces) check(nonce string, now time.Time) (nonceState, time.Time) {
	b, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(b) != nonceLen || !hmac.Equal(b[16:], n.mac(b[:16])) {
		return nonceStale, time.Time{}
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b)))
	if age := now.Sub(issued); age < -time.Minute || age > n.ttl {
		return nonceStale, issued
	}
	return nonceValid, issued
}

// use records nonce-count nc for a valid nonce. The first use of a nonce
// may carry any count (RFC 7616 says 1; some clients send 0); every later
// use must carry a higher one, else it is a replay and use returns false.
func (n *nonces) use(nonce string, nc uint64, issued, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Sub(n.lastSweep) > n.ttl {
		for k, u := range n.used {
			if now.Sub(u.issued) > n.ttl {
				delete(n.used, k)
			}
		}
		n.lastSweep = now
	}
	if u, seen := n.used[nonce]; seen && nc <= u.nc {
		return false
	}
	n.used[nonce] = nonceUse{nc: nc, issued: issued}
	return true
}

// challenge is the WWW-Authenticate value for a new nonce.
func challenge(realm, nonce string, stale bool) string {
	v := "Digest realm=" + quote(realm) + ", nonce=" + quote(nonce) + `, algorithm=MD5, qop="auth"`
	if stale {
		v += ", stale=true"
	}
	return v
}

// digestFields checks the parameters a qop=auth MD5 response must have and
// returns the nonce-count.
func digestFields(c credentials) (uint64, error) {
	for _, p := range []string{"username", "realm", "nonce", "uri", "response", "cnonce", "nc", "qop"} {
		if c.get(p) == "" {
			return 0, fmt.Errorf("%w: no %s", ErrBadAuthorization, p)
		}
	}
	if alg := c.get("algorithm"); alg != "" && !strings.EqualFold(alg, "MD5") {
		return 0, fmt.Errorf("%w: algorithm %q (only MD5)", ErrBadAuthorization, alg)
	}
	if !strings.EqualFold(c.get("qop"), "auth") {
		return 0, fmt.Errorf("%w: qop %q (only auth)", ErrBadAuthorization, c.get("qop"))
	}
	nc := c.get("nc")
	if len(nc) != 8 {
		return 0, fmt.Errorf("%w: nc %q is not 8 hex digits", ErrBadAuthorization, nc)
	}
	v, err := strconv.ParseUint(nc, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: nc %q is not 8 hex digits", ErrBadAuthorization, nc)
	}
	return v, nil
}

// responseMatches compares the client's response with the expected one in
// constant time.
func responseMatches(c credentials, ha1, method string) bool {
	want := digestResponse(ha1, method, c.get("uri"), c.get("nonce"), c.get("nc"), c.get("cnonce"), c.get("qop"))
	got := strings.ToLower(c.get("response"))
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
