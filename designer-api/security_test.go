package designerapi

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/voxflow/voxflow/store"
)

// testOrigin is in the test API's Config.Origins: humatest's requests have
// no Host, so their own origin is "http://".
const (
	testOrigin   = "http://designer.test"
	originHeader = "Origin: " + testOrigin
)

func signIn(e *testEnv, user, password string, args ...any) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.api.Post(Prefix+"/session", append(args, map[string]any{"username": user, "password": password})...)
}

// fixClock stops the auth's (and the sign-in limit's) clock; the returned
// function moves it on.
func fixClock(e *testEnv) func(time.Duration) {
	now := time.Now().UTC()
	e.auth.opts.Now = func() time.Time { return now }
	return func(d time.Duration) { now = now.Add(d) }
}

func TestSigninLockout(t *testing.T) {
	e := newEnv(t)
	advance := fixClock(e)
	ctx := context.Background()
	for _, u := range []string{"ann", "bob"} {
		if _, err := e.auth.CreateUser(ctx, u, u+"-password-1", RoleViewer); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < DefaultSigninFailures; i++ {
		e.expect(signIn(e, "ann", "wrong-password"), http.StatusUnauthorized)
	}
	wrong := signIn(e, "ann", "wrong-password") // the fifth locks
	e.expect(wrong, http.StatusTooManyRequests)
	if ra := wrong.Header().Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After %q, want 60", ra)
	}
	// The right password is refused alike: same status, headers, body.
	right := signIn(e, "ann", "ann-password-1")
	e.expect(right, http.StatusTooManyRequests)
	if right.Body.String() != wrong.Body.String() || right.Header().Get("Retry-After") != "60" {
		t.Errorf("locked answers differ: %s / %s", right.Body, wrong.Body)
	}
	if right.Header().Get("Set-Cookie") != "" {
		t.Error("cookie set while locked")
	}
	e.expect(signIn(e, "bob", "bob-password-1"), http.StatusOK) // other accounts unaffected

	// After the lockout, five more wrong ones lock for twice as long.
	advance(61 * time.Second)
	for i := 1; i < DefaultSigninFailures; i++ {
		e.expect(signIn(e, "ann", "wrong-password"), http.StatusUnauthorized)
	}
	w := signIn(e, "ann", "wrong-password")
	e.expect(w, http.StatusTooManyRequests)
	if ra := w.Header().Get("Retry-After"); ra != "120" {
		t.Errorf("second lockout Retry-After %q, want 120", ra)
	}
	advance(121 * time.Second)
	e.expect(signIn(e, "ann", "ann-password-1"), http.StatusOK)
	// Success forgot the failures: four wrong ones do not lock.
	for i := 1; i < DefaultSigninFailures; i++ {
		e.expect(signIn(e, "ann", "wrong-password"), http.StatusUnauthorized)
	}
	e.expect(signIn(e, "ann", "ann-password-1"), http.StatusOK)
}

func TestSigninLockoutCap(t *testing.T) {
	l := newSigninLimiter(nil, SigninLimits{}, time.Now, slog.Default())
	for n, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute} {
		if got := l.lockout(n); got != want {
			t.Errorf("lockout after %d: %v, want %v", n, got, want)
		}
	}
	if got := l.lockout(30); got != MaxSigninLockout {
		t.Errorf("lockout after 30: %v, want %v", got, MaxSigninLockout)
	}
}

// Unknown usernames count and answer like known ones: no enumeration.
func TestSigninUnknownUser(t *testing.T) {
	e := newEnv(t)
	fixClock(e)
	if _, err := e.auth.CreateUser(context.Background(), "ann", "ann-password-1", RoleViewer); err != nil {
		t.Fatal(err)
	}
	var known, unknown []string
	for i := 0; i < DefaultSigninFailures; i++ {
		a, b := signIn(e, "ann", "wrong-password"), signIn(e, "ghost", "wrong-password")
		if a.Code != b.Code || a.Header().Get("Retry-After") != b.Header().Get("Retry-After") {
			t.Fatalf("attempt %d: known %d, unknown %d", i+1, a.Code, b.Code)
		}
		known, unknown = append(known, a.Body.String()), append(unknown, b.Body.String())
	}
	if strings.Join(known, "") != strings.Join(unknown, "") {
		t.Errorf("bodies differ:\n%v\n%v", known, unknown)
	}
	e.expect(signIn(e, "ghost", "whatever-pass"), http.StatusTooManyRequests)
}

// secServer is the API's whole handler (security headers included) over
// a SQLite store, for requests with their own RemoteAddr, Host and TLS.
type secServer struct {
	t     *testing.T
	h     http.Handler
	auth  *Auth
	store *store.Store
}

func newSecServer(t *testing.T, cfg Config) *secServer {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	auth, err := NewAuth(st, AuthOptions{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store, cfg.Auth, cfg.Logger = st, auth, slog.New(slog.NewTextHandler(io.Discard, nil))
	h, _ := New(cfg)
	return &secServer{t: t, h: h, auth: auth, store: st}
}

// do sends a request from source (host:port) with "Name: value" headers.
func (s *secServer) do(method, path, source, body string, headers ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	r := httptest.NewRequest(method, "http://api.example.com"+path, strings.NewReader(body))
	r.RemoteAddr = source
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func (s *secServer) signIn(user, password, source string, headers ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	return s.do(http.MethodPost, Prefix+"/session", source, `{"username":"`+user+`","password":"`+password+`"}`, headers...)
}

// One address spraying many usernames is locked out after 4N failures,
// for every account; other addresses are not.
func TestSigninPerAddress(t *testing.T) {
	s := newSecServer(t, Config{Signin: SigninLimits{Failures: 2, Lockout: time.Minute}})
	if _, err := s.auth.CreateUser(context.Background(), "ann", "ann-password-1", RoleViewer); err != nil {
		t.Fatal(err)
	}
	limit := 2 * SigninIPFactor
	for i := 1; i <= limit; i++ {
		w := s.signIn("user"+string(rune('a'+i)), "wrong-password", "127.0.0.2:4000")
		if want := http.StatusUnauthorized; i == limit {
			if w.Code != http.StatusTooManyRequests {
				t.Fatalf("failure %d from one address: %d, want 429", i, w.Code)
			}
		} else if w.Code != want {
			t.Fatalf("failure %d: %d, want %d", i, w.Code, want)
		}
	}
	if w := s.signIn("ann", "ann-password-1", "127.0.0.2:4001"); w.Code != http.StatusTooManyRequests {
		t.Errorf("right password from the locked address: %d", w.Code)
	}
	if w := s.signIn("ann", "ann-password-1", "127.0.0.3:4000"); w.Code != http.StatusOK {
		t.Errorf("right password from another address: %d %s", w.Code, w.Body)
	}
}

func adminSession(t *testing.T, s *secServer) string {
	t.Helper()
	if _, err := s.auth.CreateUser(context.Background(), "root", "root-password-1", RoleAdmin); err != nil {
		t.Fatal(err)
	}
	w := s.signIn("root", "root-password-1", "127.0.0.1:1")
	if w.Code != http.StatusOK {
		t.Fatalf("sign in: %d %s", w.Code, w.Body)
	}
	return "Cookie: " + SessionCookie + "=" + sessionCookieOf(t, w.Header().Get("Set-Cookie"))
}

func TestCSRF(t *testing.T) {
	s := newSecServer(t, Config{Origins: []string{"https://admin.example.com"}})
	cookie := adminSession(t, s)
	key, _, err := s.auth.CreateKey(context.Background(), "ops", RoleAdmin, "test")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"name":"k","role":"viewer"}`
	for _, h := range [][]string{
		{"Origin: https://evil.example.com"},
		{"Origin: http://sub.api.example.com"}, // a sibling: same site, other origin
		{"Origin: https://api.example.com"},    // the API is served over plain HTTP here
		{},                                     // neither Origin nor Referer
		{"Referer: https://evil.example.com/page"},
	} {
		w := s.do(http.MethodPost, Prefix+"/keys", "127.0.0.1:1", body, append(h, cookie)...)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "cross-origin request refused") {
			t.Errorf("%v: %d %s", h, w.Code, w.Body)
		}
	}
	if ks, _ := s.auth.Keys(context.Background()); len(ks) != 1 {
		t.Fatalf("refused requests created keys: %+v", ks)
	}
	for _, h := range [][]string{
		{"Origin: http://api.example.com"},
		{"Referer: http://api.example.com/keys"},
		{"Origin: https://admin.example.com"},
		{"Authorization: Bearer " + key}, // not cookie-bound: no Origin needed
	} {
		if w := s.do(http.MethodPost, Prefix+"/keys", "127.0.0.1:1", body, append(h, cookie)...); w.Code != http.StatusCreated {
			t.Errorf("%v: %d %s", h, w.Code, w.Body)
		}
	}
	// Reads need no Origin.
	if w := s.do(http.MethodGet, Prefix+"/keys", "127.0.0.1:1", "", cookie); w.Code != http.StatusOK {
		t.Errorf("GET with cookie: %d", w.Code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSecServer(t, Config{})
	api := s.do(http.MethodGet, Prefix+"/session", "127.0.0.1:1", "")
	web := httptest.NewRecorder()
	WebHandler().ServeHTTP(web, httptest.NewRequest(http.MethodGet, "/", nil))
	for name, w := range map[string]*httptest.ResponseRecorder{"api": api, "page": web} {
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
			"X-Frame-Options": "DENY", "Cross-Origin-Opener-Policy": "same-origin"} {
			if got := w.Header().Get(k); got != v {
				t.Errorf("%s: %s %q, want %q", name, k, got, v)
			}
		}
		if hsts := w.Header().Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s: HSTS over plain HTTP: %q", name, hsts)
		}
	}
	if cc := api.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("API Cache-Control %q", cc)
	}
	csp := web.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("page CSP %q", csp)
	}
	demo := httptest.NewRecorder()
	WebHandler().ServeHTTP(demo, httptest.NewRequest(http.MethodGet, WidgetDemoPath, nil))
	if csp := demo.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "'sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("widget demo CSP %q: want its <style> by hash", csp)
	}
	widget := httptest.NewRecorder()
	WebHandler().ServeHTTP(widget, httptest.NewRequest(http.MethodGet, "/widget.js", nil))
	if xfo := widget.Header().Get("X-Frame-Options"); widget.Code != http.StatusOK || xfo != "" {
		t.Errorf("widget.js: %d, X-Frame-Options %q", widget.Code, xfo)
	}
	// Over TLS: HSTS.
	r := httptest.NewRequest(http.MethodGet, Prefix+"/session", nil)
	r.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if hsts := w.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=") {
		t.Errorf("HSTS over TLS %q", hsts)
	}
}

func TestSessionRotation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, "kim", "kim-password-1", RoleViewer); err != nil {
		t.Fatal(err)
	}
	cookieOf := func(w *httptest.ResponseRecorder) string {
		return "Cookie: " + SessionCookie + "=" + sessionCookieOf(t, w.Header().Get("Set-Cookie"))
	}
	first := cookieOf(signIn(e, "kim", "kim-password-1"))
	// Signing in again with the old cookie: a new token, the old one ended.
	w := signIn(e, "kim", "kim-password-1", first, originHeader)
	e.expect(w, http.StatusOK)
	second := cookieOf(w)
	if second == first {
		t.Fatal("sign-in kept the token")
	}
	e.expect(e.api.Get(Prefix+"/session", first), http.StatusUnauthorized)
	e.expect(e.api.Get(Prefix+"/session", second), http.StatusOK)
	// An admin's role change ends the user's sessions; so does a reset
	// password.
	e.expect(e.do(RoleAdmin, http.MethodPatch, Prefix+"/users/kim", map[string]any{"role": "designer"}), http.StatusOK)
	e.expect(e.api.Get(Prefix+"/session", second), http.StatusUnauthorized)
	third := cookieOf(signIn(e, "kim", "kim-password-1"))
	e.expect(e.do(RoleAdmin, http.MethodPatch, Prefix+"/users/kim", map[string]any{"password": "kim-password-2"}), http.StatusOK)
	e.expect(e.api.Get(Prefix+"/session", third), http.StatusUnauthorized)
	// Deleting a user or a key takes effect at once.
	fourth := cookieOf(signIn(e, "kim", "kim-password-2"))
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/users/kim"), http.StatusNoContent)
	e.expect(e.api.Get(Prefix+"/session", fourth), http.StatusUnauthorized)
	key, k, err := e.auth.CreateKey(ctx, "temp", RoleViewer, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.expect(e.api.Get(Prefix+"/session", "Authorization: Bearer "+key), http.StatusOK)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/keys/"+k.ID), http.StatusNoContent)
	e.expect(e.api.Get(Prefix+"/session", "Authorization: Bearer "+key), http.StatusUnauthorized)
}
