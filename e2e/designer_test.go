package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

// chromiumPath is Debian's chromium package; the browser tests never
// download a browser.
const chromiumPath = "/usr/bin/chromium"

// TestDesignerInBrowser starts `voxflow dev` in-process and runs the
// designer's end-to-end tests (designer-api/web/e2e, node:test driving
// headless Chromium with playwright-core): sign in, create a flow from the
// palette, connect two nodes, fix a validation error, simulate pressing 2
// with the path highlighted, publish, roll back. Screenshots land in
// $VOXFLOW_ARTIFACTS (default designer-api/web/e2e/artifacts).
func TestDesignerInBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the designer's browser tests need Node.js 20+ (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: the designer's browser tests need Debian's chromium (apt-get install -y chromium): %v", chromiumPath, err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	e2eDir := filepath.Join(root, "designer-api", "web", "e2e")
	if !nodeModulesInstalled(e2eDir) {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Fatal("npm is not installed and designer-api/web/e2e/node_modules is missing: run npm ci --prefix designer-api/web/e2e")
		}
		out, err := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--prefix", e2eDir).CombinedOutput()
		if err != nil {
			t.Fatalf("npm ci --prefix designer-api/web/e2e: %v\n%s", err, out)
		}
	}

	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	ctx := context.Background()
	dev, err := devstack.StartDev(ctx, devConfig(t.TempDir(), tport, httpAddr, config.SIPOff), devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Stop()

	// An admin with a known password (voxflow dev prints a random one).
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	const user, password = "e2e-admin", "e2e-password-123"
	if _, err := auth.CreateUser(ctx, user, password, designerapi.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	base := "http://" + httpAddr
	if !servesDesigner(base) {
		// The dev server does not mount the UI (yet): serve it in front of
		// the dev server, which keeps answering the API.
		base = frontDesigner(t, base)
	}

	artifacts := os.Getenv("VOXFLOW_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(e2eDir, "artifacts")
	}
	tctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(tctx, node, "--test", "--test-reporter=spec", "designer-api/web/e2e/")
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"VOXFLOW_URL="+base, "VOXFLOW_USER="+user, "VOXFLOW_PASSWORD="+password, "VOXFLOW_ARTIFACTS="+artifacts,
		"VOXFLOW_CHROMIUM="+chromiumPath)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test designer-api/web/e2e/ (screenshots in %s):\n%s", artifacts, out)
	if err != nil {
		t.Fatalf("designer browser tests failed: %v", err)
	}
}

// servesDesigner says whether base answers / with the designer's page.
func servesDesigner(base string) bool {
	resp, err := http.Get(base + "/flows")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.Contains(string(b), `src="/app.js"`)
}

// frontDesigner serves designerapi.WebHandler and proxies the API to the
// dev server; it returns its base URL.
func frontDesigner(t *testing.T, devBase string) string {
	t.Helper()
	target, err := url.Parse(devBase)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	mux := http.NewServeMux()
	for _, p := range []string{"/api/", "/openapi.json", "/openapi.yaml", "/schemas/", "/healthz", "/metrics"} {
		mux.Handle(p, proxy)
	}
	mux.Handle("/", designerapi.WebHandler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return fmt.Sprintf("http://%s", ln.Addr())
}

// TestWebHandler checks how the embedded UI is served: content types,
// client routes answered with the page, 404 for missing assets and API
// paths, ETag revalidation and the flow schema the forms are built from.
func TestWebHandler(t *testing.T) {
	srv := httptestServer(t, designerapi.WebHandler())
	get := func(path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, c := range []struct{ path, ctype, body string }{
		{"/", "text/html; charset=utf-8", `<script type="module" src="/app.js">`},
		{"/flows/support-line", "text/html; charset=utf-8", `<script type="module" src="/app.js">`},
		{"/console/calls/abc", "text/html; charset=utf-8", `<main id="main"`},
		{"/app.js", "text/javascript; charset=utf-8", "import"},
		{"/style.css", "text/css; charset=utf-8", ":root"},
		{"/vendor/yaml.js", "text/javascript; charset=utf-8", "export"},
		{designerapi.FlowSchemaPath, "application/json", `"menuNode"`},
	} {
		resp, body := get(c.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.ctype || !strings.Contains(body, c.body) {
			t.Errorf("GET %s: %d %q, body has %q: %v", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.body, strings.Contains(body, c.body))
		}
		if resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") == "" {
			t.Errorf("GET %s: no ETag or Cache-Control", c.path)
		}
	}
	if resp, _ := get("/"); !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Errorf("page without CSP: %q", resp.Header.Get("Content-Security-Policy"))
	}
	for _, p := range []string{"/api/v1/nope", "/api", "/missing.js", "/e2e/designer.test.mjs", "/e2e/package.json"} {
		if resp, _ := get(p); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, _ := get("/app.js")
	if r2, _ := get("/app.js", "If-None-Match", resp.Header.Get("ETag")); r2.StatusCode != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", r2.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, srv+"/", nil)
	if r, err := http.DefaultClient.Do(req); err != nil || r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %v %v", r, err)
	}
}

// nodeModulesInstalled says whether dir/node_modules has every package the
// browser tests use (a checkout installed before esbuild was added lacks it).
func nodeModulesInstalled(dir string) bool {
	for _, pkg := range []string{"playwright-core", "yaml", "esbuild"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return false
		}
	}
	return true
}

func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}
