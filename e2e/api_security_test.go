package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

type httpsClient struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (h httpsClient) do(method, path, body string, headers ...string) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, hd := range headers {
		k, v, _ := strings.Cut(hd, ": ")
		req.Header.Set(k, v)
	}
	resp, err := h.c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestAPISecurityOnDev: voxflow dev over HTTPS with a self-signed
// certificate: a real sign-in (Secure cookie, HSTS), the CSRF check on a
// cookie-made key, the sign-in lockout, and the audit log of it all.
func TestAPISecurityOnDev(t *testing.T) {
	dataDir := t.TempDir()
	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	cfg := devConfig(dataDir, tport, httpAddr, config.SIPOff)
	certFile, keyFile, pool := sipptest.SelfSignedCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	cfg.API.TLSCert, cfg.API.TLSKey = certFile, keyFile
	cfg.API.SigninFailures, cfg.API.SigninLockout = 3, time.Minute
	var banner bytes.Buffer
	dev, err := devstack.StartDev(context.Background(), cfg, devstack.Options{Out: &banner,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Stop()
	m := regexp.MustCompile(`sign in as (\S+) / (\S+) `).FindStringSubmatch(banner.String())
	if m == nil || !strings.Contains(banner.String(), "https://"+httpAddr) {
		t.Fatalf("banner:\n%s", banner.String())
	}
	h := httpsClient{t: t, c: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		base: "https://" + httpAddr}
	api := designerapi.Prefix

	resp, _ := h.do(http.MethodPost, api+"/session", `{"username":"`+m[1]+`","password":"`+m[2]+`"}`)
	set := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusOK || !strings.Contains(set, "Secure") || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatalf("HTTPS sign-in: %d, Set-Cookie %q, HSTS %q", resp.StatusCode, set, resp.Header.Get("Strict-Transport-Security"))
	}
	cookie := "Cookie: " + strings.Split(set, ";")[0]

	// CSRF: a foreign page riding the admin's cookie makes no key; the
	// API's own origin does.
	body := `{"name":"csrf","role":"admin"}`
	if resp, b := h.do(http.MethodPost, api+"/keys", body, cookie, "Origin: https://evil.example.com"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %d %s", resp.StatusCode, b)
	}
	if resp, b := h.do(http.MethodPost, api+"/keys", body, cookie, "Origin: "+h.base); resp.StatusCode != http.StatusCreated {
		t.Fatalf("own origin: %d %s", resp.StatusCode, b)
	}
	_, b := h.do(http.MethodGet, api+"/keys", "", cookie)
	if n := strings.Count(b, `"name":"csrf"`); n != 1 {
		t.Fatalf("%d keys named csrf, want 1: %s", n, b)
	}

	// Lockout: three wrong passwords; then even the right one is refused.
	for i := 1; i <= 3; i++ {
		resp, _ := h.do(http.MethodPost, api+"/session", `{"username":"`+m[1]+`","password":"wrong-password"}`)
		if want := map[bool]int{true: 429, false: 401}[i == 3]; resp.StatusCode != want {
			t.Fatalf("wrong password %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	resp, _ = h.do(http.MethodPost, api+"/session", `{"username":"`+m[1]+`","password":"`+m[2]+`"}`)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("right password while locked: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// The audit log has it all (the session still works: a lockout stops
	// sign-ins, not sessions).
	_, b = h.do(http.MethodGet, api+"/audit?limit=100", "", cookie)
	var log struct {
		Entries []struct{ Actor, Action, Source, Target string }
	}
	if err := json.Unmarshal([]byte(b), &log); err != nil {
		t.Fatalf("audit: %v %s", err, b)
	}
	count := map[string]int{}
	for _, e := range log.Entries {
		count[e.Action]++
		if e.Source != "127.0.0.1" {
			t.Errorf("entry from %q: %+v", e.Source, e)
		}
	}
	for action, n := range map[string]int{"signin.success": 1, "key.create": 1, "signin.failure": 3, "signin.lockout": 1, "signin.locked": 1} {
		if count[action] != n {
			t.Errorf("%d %s entries, want %d: %s", count[action], action, n, b)
		}
	}
	_, metrics := h.do(http.MethodGet, "/metrics", "")
	for _, want := range []string{"voxflow_api_signin_failures_total", `voxflow_api_lockouts_total{scope="account"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
