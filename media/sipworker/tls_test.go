package sipworker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// selfSigned is sipptest.SelfSignedCert.
func selfSigned(t *testing.T, notBefore, notAfter time.Time) (certFile, keyFile string, pool *x509.CertPool) {
	return sipptest.SelfSignedCert(t, notBefore, notAfter)
}

// A call over SIP/TLS: answered, the prompt's RTP arrives, a key sent as
// SIP INFO over TLS drives the flow, and the flow's BYE comes back over
// the caller's own TLS connection.
func TestTLSCall(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	tlsAddr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	got := make(chan string, 2)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
			Prompts: []activities.Prompt{{Text: "For sales press 1. For support press 2."}}, BargeIn: true, MaxDigits: 1, Timeout: 8 * time.Second})
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- res.Kind + ":" + res.Digits
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Bye."}}})
	}, func(c *Config) {
		c.TLSCert, c.TLSKey, c.TLSAddr = certFile, keyFile, tlsAddr
	})
	if r.w.TLSAddr() != tlsAddr {
		t.Fatalf("TLSAddr = %q", r.w.TLSAddr())
	}
	u := sipptest.NewUAC(t, sipptest.UACConfig{Target: tlsAddr, TLS: &tls.Config{RootCAs: pool}, From: "+15550106"})
	u.Invite("1000")
	var res = u.Response("INVITE", 5*time.Second)
	for res.StatusCode < 200 {
		res = u.Response("INVITE", 5*time.Second)
	}
	if res.StatusCode != 200 || !strings.Contains(string(res.Body()), "m=audio") {
		t.Fatalf("INVITE over TLS answered %s", sipptest.Describe(res))
	}
	if c := res.Contact(); c == nil || c.Address.Scheme != "sips" {
		t.Errorf("Contact %v, want a sips: URI", res.Contact())
	}
	u.Ack(res)
	answered := time.Now()
	deadline := time.Now().Add(3 * time.Second)
	for u.RTPBetween(answered, time.Now()) < 25 {
		if time.Now().After(deadline) {
			t.Fatalf("prompt RTP: %d packets in 3 s", u.RTPBetween(answered, time.Now()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	u.Info('2')
	if info := u.Response("INFO", 3*time.Second); info.StatusCode != 200 {
		t.Fatalf("INFO answered %s", sipptest.Describe(info))
	}
	select {
	case g := <-got:
		if g != "dtmf:2" {
			t.Fatalf("collect = %s, want dtmf:2", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no collect result")
	}
	bye := u.Request("BYE", 5*time.Second)
	if !strings.Contains(bye.Via().Transport, "TLS") {
		t.Errorf("BYE came over %s", bye.Via().Transport)
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.started) != 1 || r.started[0].From != "+15550106" || r.started[0].To != "1000" {
		t.Fatalf("started %+v", r.started)
	}
	if len(r.hangups) != 0 {
		t.Errorf("hangup signalled: %v", r.hangups)
	}
}

// A bad or missing certificate stops the worker at start with an error
// that names the flag and the file.
func TestTLSConfigErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	otherCert, otherKey, _ := selfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	oldCert, oldKey, _ := selfSigned(t, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	for _, tc := range []struct {
		name, cert, key, addr string
		want                  []string
	}{
		{"missing cert", missing, keyFile, "", []string{"--sip-tls-cert", missing, "no such file"}},
		{"missing key", certFile, missing, "", []string{"--sip-tls-key", missing}},
		{"garbage cert", garbage, keyFile, "", []string{"--sip-tls-cert", garbage}},
		{"key of another cert", certFile, otherKey, "", []string{"--sip-tls-cert", "--sip-tls-key", certFile, otherKey}},
		{"expired", oldCert, oldKey, "", []string{"--sip-tls-cert", oldCert, "valid only"}},
		{"cert without key", otherCert, "", "", []string{"--sip-tls-key"}},
		{"address without cert", "", "", "127.0.0.1:5061", []string{"--sip-tls-cert"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Start(context.Background(), Config{ID: "tls", SIPAddr: "127.0.0.1:0", TLSCert: tc.cert, TLSKey: tc.key, TLSAddr: tc.addr,
				Routes: fakeRoutes{}, TTS: toneTTS{},
				StartCall: func(context.Context, activities.CallStart) error { return nil }})
			if err == nil {
				w.Close()
				t.Fatal("started")
			}
			if !errors.Is(err, ErrBadTLS) {
				t.Errorf("error %q is not ErrBadTLS", err)
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}

// The TLS port defaults to the SIP port + 1.
func TestTLSDefaultAddress(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for sip, want := range map[string]string{":5060": ":5061", "127.0.0.1:7000": "127.0.0.1:7001", "[::1]:5080": "[::1]:5081"} {
		c := Config{SIPAddr: sip, TLSCert: certFile, TLSKey: keyFile}
		if err := c.loadTLS(); err != nil {
			t.Fatal(err)
		}
		if c.TLSAddr != want || c.tls == nil {
			t.Errorf("SIP %s: TLS address %q, want %q", sip, c.TLSAddr, want)
		}
	}
}
