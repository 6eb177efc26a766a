package designerapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/voxflow/voxflow/store"
)

// fakeBrowser answers each socket with who it was handed.
type fakeBrowser struct{}

func (fakeBrowser) ServeAgent(w http.ResponseWriter, _ *http.Request, agent string) {
	_, _ = io.WriteString(w, "desk of "+agent)
}
func (fakeBrowser) ServeSupervisor(w http.ResponseWriter, _ *http.Request, user string) {
	_, _ = io.WriteString(w, "supervisor "+user)
}
func (fakeBrowser) ServeCall(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "call to "+r.URL.Query().Get("number"))
}

// TestSocketAuth: the desk and supervisor sockets take the API's
// credentials and roles (listening needs supervisor or admin, not a higher
// role), the widget's call socket none, chat is 503 where not served.
func TestSocketAuth(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	auth, err := NewAuth(st, AuthOptions{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[Role]string{}
	for _, r := range Roles {
		if keys[r], _, err = auth.CreateKey(ctx, "u-"+string(r), r, "test"); err != nil {
			t.Fatal(err)
		}
	}
	h, _ := New(Config{Store: st, Auth: auth, Browser: fakeBrowser{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	cases := []struct {
		path string
		role Role // "" anonymous
		code int
		body string
	}{
		{Prefix + SocketAgent, "", 401, "sign in"},
		{Prefix + SocketAgent, RoleAgent, 200, "desk of u-agent"},
		{Prefix + SocketAgent, RoleOperator, 200, "desk of u-operator"},
		{Prefix + SocketSupervisor, "", 401, "sign in"},
		{Prefix + SocketSupervisor, RoleAgent, 403, "needs supervisor"},
		{Prefix + SocketSupervisor, RoleViewer, 403, "needs supervisor"},
		{Prefix + SocketSupervisor, RoleOperator, 403, "needs supervisor"},
		{Prefix + SocketSupervisor, RoleSupervisor, 200, "supervisor key:u-supervisor"},
		{Prefix + SocketSupervisor, RoleAdmin, 200, "supervisor key:u-admin"},
		{Prefix + SocketCall + "?number=8000", "", 200, "call to 8000"},
		{Prefix + SocketChat + "?number=8000", "", 503, "web chat is not served"},
	}
	for _, c := range cases {
		req := httptest.NewRequest(http.MethodGet, c.path, nil)
		if c.role != "" {
			req.Header.Set("Authorization", "Bearer "+keys[c.role])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != c.code || !strings.Contains(w.Body.String(), c.body) {
			t.Errorf("GET %s as %q: %d %q, want %d containing %q", c.path, c.role, w.Code, w.Body.String(), c.code, c.body)
		}
	}
	// A bad key is refused like none.
	req := httptest.NewRequest(http.MethodGet, Prefix+SocketAgent, nil)
	req.Header.Set("Authorization", "Bearer vfk_nope")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 401 {
		t.Errorf("bad key: %d %s", w.Code, w.Body.String())
	}
}
