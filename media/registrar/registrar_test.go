package registrar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

type staticAccounts map[string]Account

func (s staticAccounts) Account(ctx context.Context, user string) (Account, error) {
	a, ok := s[user]
	if !ok {
		return Account{}, fmt.Errorf("%w: %q", ErrUnknownAccount, user)
	}
	return a, nil
}

// clock is a settable Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testAccounts() staticAccounts {
	return staticAccounts{
		"alice": {Username: "alice", Realm: "voxflow", HA1: HA1("alice", "voxflow", "wonderland"), Enabled: true},
		"bob":   {Username: "bob", Realm: "voxflow", HA1: HA1("bob", "voxflow", "builder"), Enabled: true},
		"carol": {Username: "carol", Realm: "voxflow", HA1: HA1("carol", "voxflow", "xmas"), Enabled: false},
		"dave":  {Username: "dave", Realm: "elsewhere", HA1: HA1("dave", "elsewhere", "pw"), Enabled: true},
	}
}

func newTestRegistrar(t *testing.T, clk *clock, locs Locations) *Registrar {
	t.Helper()
	r, err := New(Config{
		Accounts: testAccounts(), Locations: locs, WorkerID: "w1",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// phone is a registering UA driven by hand: it builds REGISTERs, keeps the
// last challenge and counts its uses (nc).
type phone struct {
	t              *testing.T
	r              *Registrar
	user, password string // credentials
	aor            string // To user
	callID         string
	cseq           uint32
	source         string
	chal           map[string]string
	nc             int
}

func newPhone(t *testing.T, r *Registrar, user, password string) *phone {
	return &phone{t: t, r: r, user: user, password: password, aor: user, callID: "call-" + user,
		source: "203.0.113.5:40000"}
}

// register sends one REGISTER with the given extra header lines; with
// auth it answers the last challenge.
func (p *phone) register(auth bool, lines ...string) *sip.Response {
	p.t.Helper()
	p.cseq++
	msg := []string{
		"REGISTER sip:voxflow.test SIP/2.0",
		fmt.Sprintf("Via: SIP/2.0/UDP 192.168.1.20:5062;branch=z9hG4bK-%d;rport", p.cseq),
		"From: <sip:" + p.aor + "@voxflow.test>;tag=ft",
		"To: <sip:" + p.aor + "@voxflow.test>",
		"Call-ID: " + p.callID,
		fmt.Sprintf("CSeq: %d REGISTER", p.cseq),
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
		p.t.Fatalf("parse test REGISTER: %v", err)
	}
	req := m.(*sip.Request)
	req.SetSource(p.source)
	req.SetTransport("UDP")
	res := p.r.Handle(context.Background(), req)
	if res.StatusCode == 401 {
		h := res.GetHeader("WWW-Authenticate")
		if h == nil {
			p.t.Fatal("401 without WWW-Authenticate")
		}
		scheme, c, err := parseAuthorization(h.Value())
		if err != nil || scheme != "Digest" {
			p.t.Fatalf("challenge %q: %v", h.Value(), err)
		}
		p.chal, p.nc = c.params, 0
	}
	return res
}

func (p *phone) authorization() string {
	p.t.Helper()
	if p.chal == nil {
		p.t.Fatal("no challenge yet")
	}
	p.nc++
	nc := fmt.Sprintf("%08x", p.nc)
	uri := "sip:voxflow.test"
	resp := digestResponse(HA1(p.user, p.chal["realm"], p.password), "REGISTER", uri, p.chal["nonce"], nc, "c0ffee", "auth")
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, cnonce="c0ffee", qop=auth, nc=%s`,
		p.user, p.chal["realm"], p.chal["nonce"], uri, resp, nc)
}

func wantCode(t *testing.T, res *sip.Response, code int) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("got %d %s, want %d\n%s", res.StatusCode, res.Reason, code, res.String())
	}
}

func contacts(res *sip.Response) []string {
	var out []string
	for _, h := range res.GetHeaders("Contact") {
		out = append(out, h.Value())
	}
	return out
}

func TestRegisterAuthRefreshUnregister(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := newTestRegistrar(t, clk, &MemoryLocations{})
	p := newPhone(t, r, "alice", "wonderland")
	ctx := context.Background()
	const contact = "Contact: <sip:alice@192.168.1.20:5062;transport=udp>"

	res := p.register(false, contact)
	wantCode(t, res, 401)
	if p.chal["realm"] != "voxflow" || p.chal["qop"] != "auth" || p.chal["algorithm"] != "MD5" || p.chal["nonce"] == "" || p.chal["stale"] != "" {
		t.Fatalf("challenge: %v", p.chal)
	}
	if _, err := r.Lookup(ctx, "alice"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Lookup before registering: %v", err)
	}

	res = p.register(true, contact)
	wantCode(t, res, 200)
	if got := contacts(res); len(got) != 1 || got[0] != "<sip:alice@192.168.1.20:5062;transport=udp>;expires=3600" {
		t.Fatalf("200 contacts: %q", got)
	}
	if via := res.Via(); via == nil || !strings.Contains(via.Value(), "received=203.0.113.5") || !strings.Contains(via.Value(), "rport=40000") {
		t.Fatalf("Via of the 200 has no received/rport: %v", via)
	}
	cs, err := r.Lookup(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := Contact{User: "alice", URI: "sip:alice@192.168.1.20:5062;transport=udp", Source: "203.0.113.5:40000", Transport: "UDP",
		Expires: clk.Now().Add(time.Hour), WorkerID: "w1", CallID: "call-alice", CSeq: 2, UserAgent: "test-phone"}
	if len(cs) != 1 || cs[0] != want {
		t.Fatalf("Lookup = %+v\nwant %+v", cs, want)
	}

	// Replaying the same nonce count is refused, with stale=true (the
	// password was right); the next count is accepted: a refresh.
	p.nc--
	res = p.register(true, contact, "Expires: 600")
	wantCode(t, res, 401)
	if p.chal["stale"] != "true" {
		t.Fatalf("replayed nc: challenge %v, want stale=true", p.chal)
	}
	clk.Add(10 * time.Second)
	res = p.register(true, contact, "Expires: 600")
	wantCode(t, res, 200)
	if got := contacts(res); len(got) != 1 || !strings.HasSuffix(got[0], ";expires=600") {
		t.Fatalf("refresh contacts: %q", got)
	}
	res = p.register(true, contact, "Expires: 900") // same nonce, nc 2
	wantCode(t, res, 200)

	// A second contact, then a query lists both.
	res = p.register(true, "Contact: <sip:alice@10.0.0.7:5080>;expires=120")
	wantCode(t, res, 200)
	res = p.register(true)
	wantCode(t, res, 200)
	if got := contacts(res); len(got) != 2 || !strings.HasSuffix(got[0], ";expires=900") || got[1] != "<sip:alice@10.0.0.7:5080>;expires=120" {
		t.Fatalf("query contacts: %q", got)
	}

	// The second one expires on its own.
	clk.Add(121 * time.Second)
	if cs, err := r.Lookup(ctx, "alice"); err != nil || len(cs) != 1 || cs[0].URI != want.URI {
		t.Fatalf("Lookup after the 120 s binding expired: %+v, %v", cs, err)
	}

	// Unregister: Expires: 0.
	res = p.register(true, contact, "Expires: 0")
	wantCode(t, res, 200)
	if got := contacts(res); len(got) != 0 {
		t.Fatalf("contacts after unregister: %q", got)
	}
	if _, err := r.Lookup(ctx, "alice"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Lookup after unregister: %v", err)
	}
}

func TestRegisterWildcard(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := newTestRegistrar(t, clk, &MemoryLocations{})
	p := newPhone(t, r, "alice", "wonderland")
	wantCode(t, p.register(false), 401)
	wantCode(t, p.register(true, "Contact: <sip:alice@192.0.2.1>, <sip:alice@192.0.2.2>;expires=60"), 200)
	if cs, _ := r.Lookup(context.Background(), "alice"); len(cs) != 2 {
		t.Fatalf("two contacts in one header: %+v", cs)
	}
	for _, bad := range [][]string{
		{"Contact: *"},                // no Expires
		{"Contact: *", "Expires: 60"}, // Expires not 0
		{"Contact: *, <sip:alice@192.0.2.1>", "Expires: 0"}, // not alone
	} {
		res := p.register(true, bad...)
		wantCode(t, res, 400)
	}
	res := p.register(true, "Contact: *", "Expires: 0")
	wantCode(t, res, 200)
	if got := contacts(res); len(got) != 0 {
		t.Fatalf("after Contact: *: %q", got)
	}
	if _, err := r.Lookup(context.Background(), "alice"); !errors.Is(err, ErrNotRegistered) {
		t.Fatalf("Lookup after Contact: *: %v", err)
	}
}

func TestRegisterRefusals(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	r := newTestRegistrar(t, clk, &MemoryLocations{})
	const contact = "Contact: <sip:x@192.0.2.1>"

	t.Run("wrong password keeps getting 401", func(t *testing.T) {
		p := newPhone(t, r, "alice", "rabbit")
		wantCode(t, p.register(false, contact), 401)
		for range 3 {
			wantCode(t, p.register(true, contact), 401)
			if p.chal["stale"] != "" {
				t.Fatalf("wrong password answered stale: %v", p.chal)
			}
		}
	})
	t.Run("unknown user: 401 like a wrong password", func(t *testing.T) {
		p := newPhone(t, r, "mallory", "x")
		wantCode(t, p.register(false, contact), 401)
		wantCode(t, p.register(true, contact), 401)
	})
	t.Run("authenticated as another agent: 403", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		p.aor = "alice"
		wantCode(t, p.register(false, contact), 401)
		wantCode(t, p.register(true, contact), 403)
	})
	t.Run("disabled account: 403", func(t *testing.T) {
		p := newPhone(t, r, "carol", "xmas")
		wantCode(t, p.register(false, contact), 401)
		wantCode(t, p.register(true, contact), 403)
	})
	t.Run("account of another realm: 401", func(t *testing.T) {
		p := newPhone(t, r, "dave", "pw")
		wantCode(t, p.register(false, contact), 401)
		p.chal["realm"] = "elsewhere" // a phone configured for the old realm
		wantCode(t, p.register(true, contact), 401)
	})
	t.Run("expired nonce: 401 stale, then 200", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		wantCode(t, p.register(false, contact), 401)
		clk.Add(6 * time.Minute)
		wantCode(t, p.register(true, contact), 401)
		if p.chal["stale"] != "true" {
			t.Fatalf("expired nonce: %v", p.chal)
		}
		wantCode(t, p.register(true, contact), 200)
	})
	t.Run("another registrar's nonce: stale", func(t *testing.T) {
		other := newTestRegistrar(t, clk, &MemoryLocations{})
		p := newPhone(t, other, "bob", "builder")
		wantCode(t, p.register(false, contact), 401)
		p.r = r
		wantCode(t, p.register(true, contact), 401)
		if p.chal["stale"] != "true" {
			t.Fatalf("foreign nonce: %v", p.chal)
		}
	})
	t.Run("interval too brief: 423 with Min-Expires", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		wantCode(t, p.register(false), 401)
		res := p.register(true, "Contact: <sip:bob@192.0.2.5>;expires=30")
		wantCode(t, res, 423)
		if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
			t.Fatalf("Min-Expires: %v", h)
		}
		res = p.register(true, "Contact: <sip:bob@192.0.2.5>", "Expires: 59")
		wantCode(t, res, 423)
	})
	t.Run("interval capped at the maximum", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		wantCode(t, p.register(false), 401)
		res := p.register(true, "Contact: <sip:bob@192.0.2.6>;expires=86400")
		wantCode(t, res, 200)
		found := false
		for _, c := range contacts(res) {
			found = found || c == "<sip:bob@192.0.2.6>;expires=3600"
		}
		if !found {
			t.Fatalf("contacts: %q", contacts(res))
		}
	})
	t.Run("out-of-order CSeq: 400", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		p.callID = "ooo"
		wantCode(t, p.register(false), 401)
		wantCode(t, p.register(true, "Contact: <sip:bob@192.0.2.7>"), 200)
		p.cseq -= 2
		wantCode(t, p.register(true, "Contact: <sip:bob@192.0.2.7>", "Expires: 0"), 400)
	})
	t.Run("malformed requests: 400, 420, 404", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		wantCode(t, p.register(false), 401)
		wantCode(t, p.register(false, `Authorization: Digest username="bob`), 400)
		wantCode(t, p.register(true, "Contact: <sip:bob@192.0.2.8>", "Expires: soon"), 400)
		wantCode(t, p.register(true, "Contact: <sip:bob@192.0.2.8>;expires=-1"), 400)
		wantCode(t, p.register(true, "Contact: <sip:bob@192.0.2.8>, <sip:bob@192.0.2.8>"), 400)
		wantCode(t, p.register(true, "Require: gruu"), 420)
		p.aor = ""
		wantCode(t, p.register(true), 404)
	})
	t.Run("credentials without qop or for MD5-sess: 401", func(t *testing.T) {
		p := newPhone(t, r, "bob", "builder")
		wantCode(t, p.register(false), 401)
		auth := strings.Replace(p.authorization(), ", qop=auth", "", 1)
		wantCode(t, p.register(false, "Authorization: "+auth), 401)
		auth = strings.Replace(p.authorization(), "algorithm=MD5", "algorithm=MD5-sess", 1)
		wantCode(t, p.register(false, "Authorization: "+auth), 401)
	})
}

func TestNewConfig(t *testing.T) {
	locs := &MemoryLocations{}
	for _, cfg := range []Config{
		{Locations: locs},
		{Accounts: testAccounts()},
		{Accounts: testAccounts(), Locations: locs, MinExpires: 10 * time.Minute, MaxExpires: time.Minute},
		{Accounts: testAccounts(), Locations: locs, MinExpires: time.Millisecond},
		{Accounts: testAccounts(), Locations: locs, Realm: `a"b`},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	r, err := New(Config{Accounts: testAccounts(), Locations: locs})
	if err != nil || r.Realm() != DefaultRealm {
		t.Fatalf("defaults: %v %v", r, err)
	}
}

func TestPurgeAfterRegister(t *testing.T) {
	clk := &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	locs := &MemoryLocations{}
	r := newTestRegistrar(t, clk, locs)
	_, _ = locs.Update(context.Background(), "bob", clk.Now(), func([]Contact) (Change, error) {
		return Change{Put: []Contact{{URI: "sip:bob@old", Expires: clk.Now().Add(time.Second)}}}, nil
	})
	clk.Add(2 * time.Minute)
	r.maybePurge(context.Background())
	locs.mu.Lock()
	left := len(locs.users)
	locs.mu.Unlock()
	if left != 0 {
		t.Fatalf("expired binding not purged: %d users", left)
	}
}
