package apiserver

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/store"
)

// TestHTTPSSignIn serves the API with a self-signed certificate and signs
// in over a real TLS connection: the cookie is Secure and HSTS is sent.
func TestHTTPSSignIn(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	certFile, keyFile, pool := sipptest.SelfSignedCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	srv, err := New(ctx, Deps{Store: st, TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Scheme() != "https" || srv.FirstAdmin == "" {
		t.Fatalf("scheme %s, first admin %q", srv.Scheme(), srv.FirstAdmin)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	defer hs.Close()

	user, password, _ := strings.Cut(srv.FirstAdmin, " / ")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://" + ln.Addr().String()
	resp, err := client.Post(base+designerapi.Prefix+"/session", "application/json",
		strings.NewReader(`{"username":"`+user+`","password":"`+password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("sign in over HTTPS: %d (TLS %v)", resp.StatusCode, resp.TLS != nil)
	}
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("Set-Cookie %q, want Secure", c)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); h == "" {
		t.Error("no HSTS over HTTPS")
	}
	// Plain HTTP to the TLS port does not get the API.
	if resp, err := http.Get("http://" + ln.Addr().String() + designerapi.Prefix + "/session"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("plain HTTP answered %d", resp.StatusCode)
		}
	}
	if _, err := New(ctx, Deps{Store: st, TLSCert: certFile, TLSKey: certFile}); err == nil {
		t.Error("a bad key was accepted")
	}
}
