package sipworker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// regRig is a media worker answering REGISTER through a store-backed
// registrar, with agent alice (password alicePassword).
type regRig struct {
	*rig
	reg  *registrar.Registrar
	locs *registrar.MemoryLocations
}

// accounts is the registrar's account list of the tests: alice only.
type accounts map[string]registrar.Account

func (a accounts) Account(ctx context.Context, user string) (registrar.Account, error) {
	acc, ok := a[user]
	if !ok {
		return registrar.Account{}, fmt.Errorf("%w: %q", registrar.ErrUnknownAccount, user)
	}
	return acc, nil
}

const alicePassword = "w0nderl4nd"

func newRegRig(t *testing.T, cfg registrar.Config) *regRig {
	t.Helper()
	return newRegRigScript(t, cfg, func(ctx context.Context, w *Worker, call activities.CallStart) {})
}

// newRegRigScript is newRegRig whose inbound calls run script.
func newRegRigScript(t *testing.T, cfg registrar.Config, script func(ctx context.Context, w *Worker, call activities.CallStart)) *regRig {
	t.Helper()
	locs := &registrar.MemoryLocations{}
	cfg.Accounts = accounts{"alice": {Username: "alice", Realm: registrar.DefaultRealm,
		HA1: registrar.HA1("alice", registrar.DefaultRealm, alicePassword), Enabled: true}}
	cfg.Locations, cfg.WorkerID = locs, "test"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	reg, err := registrar.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, script, func(c *Config) { c.Registrar = reg })
	return &regRig{rig: r, reg: reg, locs: locs}
}

// waitContact polls Lookup until alice has a contact containing want.
func (r *regRig) waitContact(want string, d time.Duration) (registrar.Contact, bool) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		cs, err := r.reg.Lookup(context.Background(), "alice")
		if err == nil {
			for _, c := range cs {
				if strings.Contains(c.URI, want) {
					return c, true
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return registrar.Contact{}, false
}

func (r *regRig) wantUnregistered(t *testing.T) {
	t.Helper()
	if cs, err := r.reg.Lookup(context.Background(), "alice"); !errors.Is(err, registrar.ErrNotRegistered) {
		t.Fatalf("Lookup(alice) = %+v, %v; want ErrNotRegistered", cs, err)
	}
}

// SIPp registers with [authentication] (401 then 200), refreshes and
// unregisters; Lookup sees the contact in between and nothing after.
func TestRegisterSIPp(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		name := "udp"
		if tcp {
			name = "tcp"
		}
		t.Run(name, func(t *testing.T) {
			r := newRegRig(t, registrar.Config{})
			port := sipptest.FreePort(t)
			wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_register.xml"), Target: r.addr,
				Port: port, Service: "alice", TCP: tcp, Args: []string{"-au", "alice", "-ap", alicePassword}, Timeout: 20 * time.Second})
			c, ok := r.waitContact(":"+strconv.Itoa(port), 10*time.Second)
			if !ok {
				res := wait()
				t.Fatalf("alice never registered: %v\n%s", res.Err, res.Output)
			}
			wantTransport := "UDP"
			if tcp {
				wantTransport = "TCP"
			}
			if c.Transport != wantTransport || !strings.HasPrefix(c.Source, "127.0.0.1:") || c.WorkerID != "test" ||
				c.UserAgent != "SIPp" || time.Until(c.Expires) < 59*time.Minute {
				t.Fatalf("contact = %+v", c)
			}
			if !tcp && c.Source != "127.0.0.1:"+strconv.Itoa(port) {
				t.Fatalf("source %s, want SIPp's port %d", c.Source, port)
			}
			mustPass(t, wait())
			r.wantUnregistered(t)
			if left, _ := r.locs.Contacts(context.Background(), "alice", time.Time{}); len(left) != 0 {
				t.Fatalf("bindings left after unregister: %+v", left)
			}
		})
	}
}

// A wrong password keeps getting 401 and registers nothing.
func TestRegisterSIPpWrongPassword(t *testing.T) {
	r := newRegRig(t, registrar.Config{})
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_register_wrong_password.xml"), Target: r.addr,
		Service: "alice", Args: []string{"-au", "alice", "-ap", "not-" + alicePassword}, Timeout: 15 * time.Second})
	mustPass(t, res)
	r.wantUnregistered(t)
}

// sipgo's own client (a digest implementation independent of ours)
// registers for 2 s: Lookup finds it, then not once it expired.
func TestRegisterExpiresSipgoClient(t *testing.T) {
	r := newRegRig(t, registrar.Config{MinExpires: time.Second})
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("sipgo-phone"))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	cl, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	host, port, _ := strings.Cut(r.addr, ":")
	p, _ := strconv.Atoi(port)
	register := func(expires string) *sip.Response {
		t.Helper()
		req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: host, Port: p})
		aor := sip.Uri{Scheme: "sip", User: "alice", Host: host, Port: p}
		req.AppendHeader(&sip.ToHeader{Address: aor})
		from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
		from.Params.Add("tag", sip.GenerateTagN(8))
		req.AppendHeader(from)
		req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: "127.0.0.1", Port: 5999}})
		req.AppendHeader(sip.NewHeader("Expires", expires))
		req.SetTransport("UDP")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		res, err := cl.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 401 {
			t.Fatalf("first REGISTER: %d, want 401", res.StatusCode)
		}
		res, err = cl.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: "alice", Password: alicePassword})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := register("0"); res.StatusCode != 200 { // unregistering nothing is fine
		t.Fatalf("Expires 0 with nothing bound: %d", res.StatusCode)
	}
	if res := register("2"); res.StatusCode != 200 {
		t.Fatalf("REGISTER: %d %s", res.StatusCode, res.Reason)
	}
	if _, ok := r.waitContact("127.0.0.1:5999", time.Second); !ok {
		t.Fatal("no contact after 200")
	}
	time.Sleep(2100 * time.Millisecond)
	r.wantUnregistered(t)
}

// baresip registers with its account's auth_pass; on exit it unregisters.
func TestRegisterBaresip(t *testing.T) {
	r := newRegRig(t, registrar.Config{})
	b := sipptest.StartBaresip(t, "<sip:alice@"+r.addr+">;auth_pass="+alicePassword+";regint=600")
	c, ok := r.waitContact("@127.0.0.1:", 10*time.Second) // baresip's contact user is its own
	if !ok {
		t.Fatalf("baresip did not register:\n%s", b.Output())
	}
	if c.Transport != "UDP" || !strings.HasPrefix(c.Source, "127.0.0.1:") || !strings.Contains(strings.ToLower(c.UserAgent), "baresip") {
		t.Fatalf("contact = %+v", c)
	}
	b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := r.reg.Lookup(context.Background(), "alice"); errors.Is(err, registrar.ErrNotRegistered) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip's contact still bound after it exited:\n%s", b.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Without a registrar REGISTER is not answered by one: 405, as before.
func TestRegisterWithoutRegistrar(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {})
	msg := strings.Join([]string{
		"REGISTER sip:" + r.addr + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:%PORT%;branch=z9hG4bK-reg" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"From: <sip:alice@" + r.addr + ">;tag=reg",
		"To: <sip:alice@" + r.addr + ">",
		"Call-ID: reg-" + strconv.FormatInt(time.Now().UnixNano(), 36),
		"CSeq: 1 REGISTER",
		"Contact: <sip:alice@127.0.0.1:%PORT%>",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}, "\r\n") + "\r\n\r\n"
	if code := rawRequest(t, r.addr, msg); code != 405 {
		t.Fatalf("REGISTER without a registrar: %d, want 405", code)
	}
}
