package designerapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2/humatest"
	"golang.org/x/crypto/bcrypt"

	"github.com/voxflow/voxflow/store"
)

// fuzzTB is the quiet humatest.TB of a fuzz target (no *testing.T yet).
type fuzzTB struct{}

func (fuzzTB) Helper()             {}
func (fuzzTB) Log(...any)          {}
func (fuzzTB) Logf(string, ...any) {}

// fuzzAPI is the API over a SQLite store with the fakes of newEnv, a
// published flow "outbound" and a campaign "spring" on it; it answers
// with an admin key (every operation is allowed, so bodies get parsed).
func fuzzAPI(f *testing.F) (humatest.TestAPI, string) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(f.TempDir(), "voxflow.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	auth, err := NewAuth(st, AuthOptions{BcryptCost: bcrypt.MinCost})
	if err != nil {
		f.Fatal(err)
	}
	_, api := New(Config{Store: st, Calls: newFakeCalls(), Sim: newFakeSim(), Routing: &fakeRouting{}, Auth: auth,
		Campaigns: newFakeCampaigns(st), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	key, _, err := auth.CreateKey(ctx, "fuzz-admin", RoleAdmin, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := st.PublishSource(ctx, "outbound", flowSrc("outbound"), "fuzz", ""); err != nil {
		f.Fatal(err)
	}
	ta := humatest.Wrap(fuzzTB{}, api)
	w := ta.Do(http.MethodPost, Prefix+"/campaigns", "Authorization: Bearer "+key,
		map[string]any{"id": "spring", "flow": "outbound", "mode": "agentless"})
	if w.Code != http.StatusCreated {
		f.Fatalf("create campaign: %d %s", w.Code, w.Body.String())
	}
	return ta, key
}

// apiFuzzOps are the operations that read an outside body: op(text, raw)
// gives method, path, content type and body. With raw the fuzz bytes are
// the whole body; without, they are the YAML, CSV or value inside it.
var apiFuzzOps = []func(text string, raw bool) (method, path, ctype string, body io.Reader){
	func(s string, raw bool) (string, string, string, io.Reader) { // flow push: create
		return http.MethodPost, "/flows", "application/json", jsonBody(raw, s, map[string]any{"source": s})
	},
	func(s string, raw bool) (string, string, string, io.Reader) { // flow push: draft
		return http.MethodPut, "/flows/fuzzed/draft", "application/json", jsonBody(raw, s, map[string]any{"source": s})
	},
	func(s string, raw bool) (string, string, string, io.Reader) {
		return http.MethodPost, "/flows/validate", "application/json", jsonBody(raw, s, map[string]any{"source": s})
	},
	func(s string, raw bool) (string, string, string, io.Reader) {
		return http.MethodPost, "/simulate", "application/json", jsonBody(raw, s, map[string]any{"source": s, "vars": map[string]any{"k": s}})
	},
	func(s string, raw bool) (string, string, string, io.Reader) {
		if raw {
			return http.MethodPut, "/numbers/15551230000", "application/json", strings.NewReader(s)
		}
		return http.MethodPut, "/numbers/" + url.PathEscape(s), "application/json", jsonBody(false, s, map[string]any{"flow": "outbound"})
	},
	func(s string, raw bool) (string, string, string, io.Reader) {
		return http.MethodPost, "/campaigns", "application/json", jsonBody(raw, s, map[string]any{"id": "c1", "flow": "outbound", "mode": "agentless", "min_spacing": s})
	},
	func(s string, raw bool) (string, string, string, io.Reader) { // campaign import
		ct := "text/csv"
		if raw {
			ct = "application/octet-stream"
		}
		return http.MethodPost, "/campaigns/spring/contacts", ct, strings.NewReader(s)
	},
}

func jsonBody(raw bool, s string, v map[string]any) io.Reader {
	if raw {
		return strings.NewReader(s)
	}
	b, _ := json.Marshal(v)
	return strings.NewReader(string(b))
}

// apiDeadline is how long one request may take before the fuzz target
// calls it a hang.
const apiDeadline = 10 * time.Second

// FuzzAPIBodies sends arbitrary bodies to the operations that parse them:
// flow push (YAML in JSON), validate, simulate, number binding, campaign
// create and CSV contact import. None may answer 5xx or panic; a flow
// validation's diagnostics each carry a line and column.
func FuzzAPIBodies(f *testing.F) {
	seeds := []string{flowSrc("fuzzed"), badFlowSrc("fuzzed"), "name: [", "{\"source\":\"a: b\"}", "{", "null", `"x"`,
		"phone,name\n+15551230000,Ann\n", "number;tz\n\"unterminated\n", "15m", "+1 (555) 123", ""}
	for i := range apiFuzzOps {
		for _, s := range seeds {
			f.Add(uint8(i), false, s)
		}
		f.Add(uint8(i), true, seeds[3])
	}
	api, key := fuzzAPI(f)
	f.Fuzz(func(t *testing.T, op uint8, raw bool, text string) {
		method, path, ctype, body := apiFuzzOps[int(op)%len(apiFuzzOps)](text, raw)
		answered := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			answered <- api.Do(method, Prefix+path, "Authorization: Bearer "+key, "Content-Type: "+ctype, body)
		}()
		var w *httptest.ResponseRecorder
		select {
		case w = <-answered:
		case <-time.After(apiDeadline):
			t.Fatalf("%s %s did not answer in %v", method, path, apiDeadline)
		}
		if w.Code >= 500 || w.Code < 200 {
			t.Fatalf("%s %s answered %d: %s", method, path, w.Code, w.Body.String())
		}
		if path != "/flows/validate" || w.Code != http.StatusOK {
			return
		}
		var res ValidateResult
		if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
			t.Fatalf("validate answered %q: %v", w.Body.String(), err)
		}
		for _, d := range res.Diagnostics {
			if d.Line < 1 || d.Column < 1 {
				t.Fatalf("diagnostic without position: %+v for %q", d, text)
			}
		}
	})
}
