package designerapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/store"
)

func sessionCookieOf(t *testing.T, header string) string {
	t.Helper()
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), SessionCookie+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s in Set-Cookie %q", SessionCookie, header)
	return ""
}

func TestSessionSignInOut(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, "dana", "dana-password-1", RoleDesigner); err != nil {
		t.Fatal(err)
	}
	// Wrong password, unknown user: 401, no cookie.
	for _, body := range []map[string]any{
		{"username": "dana", "password": "wrong-password"},
		{"username": "nobody", "password": "dana-password-1"},
	} {
		w := e.do("", http.MethodPost, Prefix+"/session", body)
		e.expect(w, http.StatusUnauthorized)
		if w.Header().Get("Set-Cookie") != "" {
			t.Fatal("cookie set on a failed sign-in")
		}
	}
	e.expect(e.do("", http.MethodPost, Prefix+"/session", map[string]any{"username": "dana"}), http.StatusUnprocessableEntity)

	w := e.do("", http.MethodPost, Prefix+"/session", map[string]any{"username": "dana", "password": "dana-password-1"})
	e.expect(w, http.StatusOK)
	set := w.Header().Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("Set-Cookie %q lacks %s", set, want)
		}
	}
	if info := decode[SessionInfo](t, w); info.Name != "dana" || info.Role != RoleDesigner || info.ExpiresAt.IsZero() {
		t.Errorf("session %+v", info)
	}
	cookie := "Cookie: " + SessionCookie + "=" + sessionCookieOf(t, set)
	origin := originHeader

	w = e.api.Get(Prefix+"/session", cookie)
	e.expect(w, http.StatusOK)
	if info := decode[SessionInfo](t, w); info.Name != "dana" || info.Via != "session" {
		t.Errorf("whoami %+v", info)
	}
	// The session has designer rights, not publisher ones.
	e.expect(e.api.Put(Prefix+"/flows/s1/draft", cookie, origin, map[string]any{"source": flowSrc("s1")}), http.StatusOK)
	e.expect(e.api.Post(Prefix+"/flows/s1/publish", cookie, origin), http.StatusForbidden)

	// Sign out: cookie cleared, session gone.
	w = e.api.Delete(Prefix+"/session", cookie, origin)
	e.expect(w, http.StatusNoContent)
	if set := w.Header().Get("Set-Cookie"); !strings.Contains(set, "Max-Age=0") {
		t.Errorf("sign-out Set-Cookie %q does not clear", set)
	}
	e.expect(e.api.Get(Prefix+"/session", cookie), http.StatusUnauthorized)
	e.expect(e.api.Get(Prefix+"/session", "Cookie: "+SessionCookie+"=forged"), http.StatusUnauthorized)
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now()
	e.auth.opts.Now = func() time.Time { return now }
	e.auth.opts.SessionTTL = time.Hour
	if _, err := e.auth.CreateUser(ctx, "erin", "erin-password-1", RoleViewer); err != nil {
		t.Fatal(err)
	}
	token, _, _, err := e.auth.Login(ctx, "erin", "erin-password-1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Session(ctx, token); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := e.auth.Session(ctx, token); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("expired session: %v", err)
	}
}

func TestBearerKeys(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"none", "", http.StatusUnauthorized},
		{"valid", "Authorization: Bearer " + e.keys[RoleViewer], http.StatusOK},
		{"lower-case scheme", "Authorization: bearer " + e.keys[RoleViewer], http.StatusOK},
		{"unknown key", "Authorization: Bearer vfk_nope", http.StatusUnauthorized},
		{"not a vfk key", "Authorization: Bearer abc", http.StatusUnauthorized},
		{"basic", "Authorization: Basic YTpi", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var args []any
			if tc.header != "" {
				args = append(args, tc.header)
			}
			w := e.api.Get(Prefix+"/flows", args...)
			e.expect(w, tc.want)
			if tc.want == http.StatusUnauthorized && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: %v", w.Header())
			}
		})
	}
}

func TestUsersAndKeysAdmin(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// EnsureAdmin: created once, then reported.
	name, pw, created, err := e.auth.EnsureAdmin(ctx)
	if err != nil || !created || name != "admin" || len(pw) < 20 {
		t.Fatalf("EnsureAdmin = %q %q %v %v", name, pw, created, err)
	}
	name2, pw2, created2, err := e.auth.EnsureAdmin(ctx)
	if err != nil || created2 || name2 != "admin" || pw2 != "" {
		t.Fatalf("second EnsureAdmin = %q %q %v %v", name2, pw2, created2, err)
	}
	// The printed password signs in.
	e.expect(e.do("", http.MethodPost, Prefix+"/session", map[string]any{"username": name, "password": pw}), http.StatusOK)

	// Users: create, duplicate, bad input, update, delete.
	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/users", map[string]any{"username": "fay", "password": "fay-password-1", "role": "publisher"})
	e.expect(w, http.StatusCreated)
	if u := decode[User](t, w); u.Username != "fay" || u.Role != RolePublisher {
		t.Fatalf("user %+v", u)
	}
	bad := []map[string]any{
		{"username": "fay", "password": "fay-password-1", "role": "viewer"},    // exists: 409
		{"username": "gus", "password": "short", "role": "viewer"},             // weak
		{"username": "gus", "password": "gus-password-1", "role": "superuser"}, // role
		{"username": "bad name", "password": "gus-password-1", "role": "viewer"},
	}
	wants := []int{http.StatusConflict, http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, http.StatusUnprocessableEntity}
	for i, b := range bad {
		e.expect(e.do(RoleAdmin, http.MethodPost, Prefix+"/users", b), wants[i])
	}
	w = e.do(RoleAdmin, http.MethodPatch, Prefix+"/users/fay", map[string]any{"role": "operator"})
	e.expect(w, http.StatusOK)
	if u := decode[User](t, w); u.Role != RoleOperator {
		t.Fatalf("updated %+v", u)
	}
	e.expect(e.do(RoleAdmin, http.MethodPatch, Prefix+"/users/nobody", map[string]any{"role": "viewer"}), http.StatusNotFound)
	// The last admin cannot be demoted or deleted.
	e.expect(e.do(RoleAdmin, http.MethodPatch, Prefix+"/users/admin", map[string]any{"role": "viewer"}), http.StatusConflict)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/users/admin"), http.StatusConflict)
	w = e.do(RoleAdmin, http.MethodGet, Prefix+"/users")
	e.expect(w, http.StatusOK)
	if us := decode[struct{ Users []User }](t, w); len(us.Users) != 2 {
		t.Fatalf("users %+v", us)
	}
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/users/fay"), http.StatusNoContent)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/users/fay"), http.StatusNotFound)

	// Keys: create, use, list (no secret), revoke.
	w = e.do(RoleAdmin, http.MethodPost, Prefix+"/keys", map[string]any{"name": "ci", "role": "publisher"})
	e.expect(w, http.StatusCreated)
	k := decode[CreatedKey](t, w)
	if !strings.HasPrefix(k.Key, KeyPrefix) || len(k.Key) != len(KeyPrefix)+43 || !strings.HasPrefix(k.Key, k.Prefix) {
		t.Fatalf("key %+v", k)
	}
	e.expect(e.api.Get(Prefix+"/session", "Authorization: Bearer "+k.Key), http.StatusOK)
	w = e.do(RoleAdmin, http.MethodGet, Prefix+"/keys")
	e.expect(w, http.StatusOK)
	if strings.Contains(w.Body.String(), k.Key) {
		t.Fatal("key list leaks the secret")
	}
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/keys/"+k.ID), http.StatusNoContent)
	e.expect(e.api.Get(Prefix+"/session", "Authorization: Bearer "+k.Key), http.StatusUnauthorized)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/keys/"+k.ID), http.StatusNotFound)
	e.expect(e.do(RoleAdmin, http.MethodPost, Prefix+"/keys", map[string]any{"name": "x", "role": "root"}), http.StatusUnprocessableEntity)
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, "hal", "hal-password-1", RoleViewer); err != nil {
		t.Fatal(err)
	}
	w := e.do("", http.MethodPost, Prefix+"/session", map[string]any{"username": "hal", "password": "hal-password-1"})
	e.expect(w, http.StatusOK)
	cookie := "Cookie: " + SessionCookie + "=" + sessionCookieOf(t, w.Header().Get("Set-Cookie"))
	e.expect(e.api.Put(Prefix+"/session/password", cookie, originHeader, map[string]any{"current": "wrong", "new": "hal-password-2"}), http.StatusUnprocessableEntity)
	e.expect(e.api.Put(Prefix+"/session/password", cookie, originHeader, map[string]any{"current": "hal-password-1", "new": "short"}), http.StatusUnprocessableEntity)
	w = e.api.Put(Prefix+"/session/password", cookie, originHeader, map[string]any{"current": "hal-password-1", "new": "hal-password-2"})
	e.expect(w, http.StatusNoContent)
	// Every other session ended and this one has a new token: the old
	// token is dead, the new one works; the new password works, the old
	// one does not.
	e.expect(e.api.Get(Prefix+"/session", cookie), http.StatusUnauthorized)
	e.expect(e.api.Get(Prefix+"/session", "Cookie: "+SessionCookie+"="+sessionCookieOf(t, w.Header().Get("Set-Cookie"))), http.StatusOK)
	e.expect(e.do("", http.MethodPost, Prefix+"/session", map[string]any{"username": "hal", "password": "hal-password-1"}), http.StatusUnauthorized)
	e.expect(e.do("", http.MethodPost, Prefix+"/session", map[string]any{"username": "hal", "password": "hal-password-2"}), http.StatusOK)
	// API keys have no password.
	e.expect(e.do(RoleAdmin, http.MethodPut, Prefix+"/session/password", map[string]any{"current": "x", "new": "0123456789ab"}), http.StatusUnprocessableEntity)
}

// TestAuthPersists: users and keys live in the store's database, hashed.
func TestAuthPersists(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.auth.CreateUser(ctx, "ivy", "ivy-password-1", RoleViewer); err != nil {
		t.Fatal(err)
	}
	u, err := e.store.APIUser(ctx, "ivy")
	if err != nil {
		t.Fatal(err)
	}
	if hash := u.PasswordHash; strings.Contains(hash, "ivy-password-1") || !strings.HasPrefix(hash, "$2") {
		t.Fatalf("password stored as %q", hash)
	}
	key := e.keys[RoleViewer]
	if _, err := e.store.APIKeyByHash(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a key is stored in clear (%v)", err)
	}
	keys, err := e.store.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k.Hash, key) || strings.Contains(k.Prefix, key) {
			t.Fatalf("key %s is stored in clear", k.ID)
		}
	}
	// A second Auth over the same store sees them.
	a2, err := NewAuth(e.store, AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := a2.Key(ctx, key); err != nil || p.Role != RoleViewer {
		t.Fatalf("key via second Auth: %+v %v", p, err)
	}
}
