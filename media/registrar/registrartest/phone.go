// Package registrartest drives a registrar by hand in tests: a phone that
// builds REGISTER requests, answers digest challenges and keeps the nonce
// count, without a network.
package registrartest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/media/registrar"
)

// Handler answers a REGISTER (*registrar.Registrar fits).
type Handler interface {
	Handle(ctx context.Context, req *sip.Request) *sip.Response
}

// Phone is a registering user agent: it keeps the last challenge and
// counts its uses (nc).
type Phone struct {
	T              testing.TB
	R              Handler
	User, Password string // credentials
	AOR            string // To user
	CallID         string
	CSeq           uint32
	Source         string // where the REGISTER seems to come from
	chal           map[string]string
	nc             int
}

// NewPhone is a phone for user registering from 203.0.113.5:40000.
func NewPhone(t testing.TB, r Handler, user, password string) *Phone {
	return &Phone{T: t, R: r, User: user, Password: password, AOR: user, CallID: "call-" + user, Source: "203.0.113.5:40000"}
}

// Register sends one REGISTER with the given extra header lines; with auth
// it answers the last challenge.
func (p *Phone) Register(auth bool, lines ...string) *sip.Response {
	p.T.Helper()
	p.CSeq++
	msg := []string{
		"REGISTER sip:voxflow.test SIP/2.0",
		fmt.Sprintf("Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK-%d;rport", p.CSeq),
		"From: <sip:" + p.AOR + "@voxflow.test>;tag=ft",
		"To: <sip:" + p.AOR + "@voxflow.test>",
		"Call-ID: " + p.CallID,
		fmt.Sprintf("CSeq: %d REGISTER", p.CSeq),
		"Max-Forwards: 70",
		"User-Agent: test-phone",
	}
	if auth {
		msg = append(msg, "Authorization: "+p.authorization())
	}
	msg = append(msg, lines...)
	msg = append(msg, "Content-Length: 0", "", "")
	m, err := sip.ParseMessage([]byte(strings.Join(msg, "\r\n")))
	if err != nil {
		p.T.Fatalf("parse test REGISTER: %v", err)
	}
	req := m.(*sip.Request)
	req.SetSource(p.Source)
	req.SetTransport("UDP")
	res := p.R.Handle(context.Background(), req)
	if res.StatusCode == 401 {
		h := res.GetHeader("WWW-Authenticate")
		if h == nil {
			p.T.Fatal("401 without WWW-Authenticate")
		}
		p.chal, p.nc = challengeParams(p.T, h.Value()), 0
	}
	return res
}

func (p *Phone) authorization() string {
	p.T.Helper()
	if p.chal == nil {
		p.T.Fatal("no challenge yet")
	}
	p.nc++
	nc := fmt.Sprintf("%08x", p.nc)
	uri := "sip:voxflow.test"
	ha2 := md5hex("REGISTER:" + uri)
	resp := md5hex(strings.Join([]string{registrar.HA1(p.User, p.chal["realm"], p.Password), p.chal["nonce"], nc, "c0ffee", "auth", ha2}, ":"))
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, cnonce="c0ffee", qop=auth, nc=%s`,
		p.User, p.chal["realm"], p.chal["nonce"], uri, resp, nc)
}

// challengeParams reads the parameters of a Digest challenge (quoted or
// not; the registrar's own challenges hold no commas inside quotes).
func challengeParams(t testing.TB, v string) map[string]string {
	t.Helper()
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "Digest ")
	if !ok {
		t.Fatalf("challenge %q is not Digest", v)
	}
	out := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			t.Fatalf("challenge %q: parameter %q", v, part)
		}
		out[k] = strings.Trim(val, `"`)
	}
	return out
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// WantCode fails the test unless res has code.
func WantCode(t testing.TB, res *sip.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("got %d %s, want %d\n%s", res.StatusCode, res.Reason, code, res.String())
	}
}

// Clock is a settable clock for registrar.Config.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
