package apiserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/store"
)

const codecTestOrigin = "http://temporal-ui.example:8233"

type codecFixture struct {
	base  string // the codec endpoint
	keys  []config.CodecKey
	st    *store.Store
	srv   *codecServer
	keyOf map[designerapi.Role]string // an API key of each role
}

func newCodecFixture(t *testing.T) *codecFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	keys := []config.CodecKey{{ID: "k1", Key: key}}
	pc, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(ctx, Deps{Store: st, PayloadCodec: pc, Origins: []string{codecTestOrigin + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler)
	t.Cleanup(hs.Close)
	auth, err := designerapi.NewAuth(st, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f := &codecFixture{base: hs.URL + CodecPath, keys: keys, st: st, keyOf: map[designerapi.Role]string{}}
	for _, r := range []designerapi.Role{designerapi.RoleAgent, designerapi.RoleViewer, designerapi.RoleOperator, designerapi.RoleAdmin} {
		secret, _, err := auth.CreateKey(ctx, "codec-"+string(r), r, "test")
		if err != nil {
			t.Fatal(err)
		}
		f.keyOf[r] = secret
	}
	return f
}

// remote is the SDK's remote codec client (what `temporal --codec-endpoint`
// uses), authenticated with key.
func (f *codecFixture) remote(key string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: f.base,
		ModifyRequest: func(r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+key)
			r.Header.Set("X-Namespace", "default")
			return nil
		},
	})
}

// TestCodecDecodesRealPayloads: a payload encrypted by the processes'
// data converter decodes over HTTP to the clear JSON, and encode→decode
// round-trips.
func TestCodecDecodesRealPayloads(t *testing.T) {
	f := newCodecFixture(t)
	dc, err := codec.DataConverter(f.keys)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := dc.ToPayload(map[string]string{"caller": "+4930123456"})
	if err != nil {
		t.Fatal(err)
	}
	if string(enc.Metadata[converter.MetadataEncoding]) != codec.EncodingEncrypted || bytes.Contains(enc.Data, []byte("4930123456")) {
		t.Fatalf("payload not encrypted: %v", enc)
	}
	remote := f.remote(f.keyOf[designerapi.RoleOperator])
	dec, err := remote.Decode([]*commonpb.Payload{enc})
	if err != nil {
		t.Fatal(err)
	}
	if len(dec) != 1 || string(dec[0].Metadata[converter.MetadataEncoding]) != converter.MetadataEncodingJSON ||
		string(dec[0].Data) != `{"caller":"+4930123456"}` {
		t.Fatalf("decoded %v", dec)
	}
	// Encode through the endpoint, decode through it again.
	clear := []*commonpb.Payload{dec[0], {Metadata: map[string][]byte{"encoding": []byte("binary/null")}}}
	sealed, err := remote.Encode(clear)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 2 || string(sealed[0].Metadata[codec.MetadataKeyID]) != "k1" {
		t.Fatalf("encoded %v", sealed)
	}
	back, err := f.remote(f.keyOf[designerapi.RoleAdmin]).Decode(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || string(back[0].Data) != `{"caller":"+4930123456"}` || string(back[1].Metadata["encoding"]) != "binary/null" {
		t.Fatalf("round trip gave %v", back)
	}
	if _, err := remote.Decode([]*commonpb.Payload{enc}); err != nil {
		t.Fatal(err)
	}
	// Two decodes by the same key within a minute: one audit entry.
	entries, err := f.st.AuditLog(context.Background(), store.AuditFilter{Action: AuditCodecDecode})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 { // the operator key's and the admin key's
		t.Fatalf("%d codec.decode entries, want 2: %+v", len(entries), entries)
	}
	var d map[string]any
	_ = json.Unmarshal([]byte(entries[1].Details), &d)
	if entries[1].Actor != "key:codec-operator" || d["count"] != float64(1) || d["namespace"] != "default" {
		t.Errorf("audit entry %+v", entries[1])
	}
}

// post sends body to the endpoint's path with the headers.
func (f *codecFixture) post(t *testing.T, method, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, f.base+path, strings.NewReader(`{"payloads":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestCodecRefuses: roles below operator, no credentials and other
// origins are refused; the UI's preflight from api.origins passes.
func TestCodecRefuses(t *testing.T) {
	f := newCodecFixture(t)
	bearer := func(r designerapi.Role) string { return "Bearer " + f.keyOf[r] }
	cases := []struct {
		name, method, path string
		hdr                map[string]string
		want               int
	}{
		{"operator", "POST", "/default/decode", map[string]string{"Authorization": bearer(designerapi.RoleOperator)}, 200},
		{"viewer", "POST", "/decode", map[string]string{"Authorization": bearer(designerapi.RoleViewer)}, 403},
		{"agent", "POST", "/encode", map[string]string{"Authorization": bearer(designerapi.RoleAgent)}, 403},
		{"no auth", "POST", "/decode", nil, 401},
		{"unknown key", "POST", "/decode", map[string]string{"Authorization": "Bearer vfk_nope"}, 401},
		{"basic auth", "POST", "/decode", map[string]string{"Authorization": "Basic YTpi"}, 401},
		{"unknown op", "POST", "/export", map[string]string{"Authorization": bearer(designerapi.RoleAdmin)}, 404},
		{"GET", "GET", "/decode", map[string]string{"Authorization": bearer(designerapi.RoleAdmin)}, 405},
		{"preflight allowed", "OPTIONS", "/decode", map[string]string{"Origin": codecTestOrigin,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,x-namespace"}, 204},
		{"preflight other origin", "OPTIONS", "/decode", map[string]string{"Origin": "http://evil.example",
			"Access-Control-Request-Method": "POST"}, 403},
		{"other origin with key", "POST", "/decode", map[string]string{"Origin": "http://evil.example",
			"Authorization": bearer(designerapi.RoleAdmin)}, 403},
		{"allowed origin with key", "POST", "/decode", map[string]string{"Origin": codecTestOrigin,
			"Authorization": bearer(designerapi.RoleOperator)}, 200},
	}
	for _, c := range cases {
		resp := f.post(t, c.method, c.path, c.hdr)
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
		if c.hdr["Origin"] == codecTestOrigin {
			h := resp.Header
			if h.Get("Access-Control-Allow-Origin") != codecTestOrigin {
				t.Errorf("%s: Allow-Origin %q", c.name, h.Get("Access-Control-Allow-Origin"))
			}
			if c.method == "OPTIONS" && !strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Namespace") {
				t.Errorf("%s: Allow-Headers %q", c.name, h.Get("Access-Control-Allow-Headers"))
			}
		} else if h := resp.Header.Get("Access-Control-Allow-Origin"); h != "" {
			t.Errorf("%s: Allow-Origin %q for another origin", c.name, h)
		}
	}
}

// TestCodecAuditOncePerMinute: an actor's decodes make one entry a minute.
func TestCodecAuditOncePerMinute(t *testing.T) {
	cs := &codecServer{now: time.Now, audited: map[string]time.Time{}}
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	cs.now = func() time.Time { return at }
	if !cs.dueAudit("a") || cs.dueAudit("a") || !cs.dueAudit("b") {
		t.Fatal("first decode of each actor not recorded, or a second one was")
	}
	at = at.Add(codecAuditEvery)
	if !cs.dueAudit("a") || len(cs.audited) != 1 {
		t.Fatalf("after the interval: due again, others forgotten (%v)", cs.audited)
	}
}

// TestCodecSessionCookie: a signed-in user's session cookie counts from a
// page of an allowed origin (the UI with credentials), never without one.
func TestCodecSessionCookie(t *testing.T) {
	f := newCodecFixture(t)
	ctx := context.Background()
	auth, err := designerapi.NewAuth(f.st, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []designerapi.Role{designerapi.RoleOperator, designerapi.RoleViewer} {
		if _, err := auth.CreateUser(ctx, "u-"+string(r), "a long enough password 1", r); err != nil {
			t.Fatal(err)
		}
	}
	cookie := func(r designerapi.Role) string {
		token, _, _, err := auth.Login(ctx, "u-"+string(r), "a long enough password 1")
		if err != nil {
			t.Fatal(err)
		}
		return designerapi.SessionCookie + "=" + token
	}
	op, viewer := cookie(designerapi.RoleOperator), cookie(designerapi.RoleViewer)
	for _, c := range []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"operator from the UI", map[string]string{"Origin": codecTestOrigin, "Cookie": op}, 200},
		{"viewer from the UI", map[string]string{"Origin": codecTestOrigin, "Cookie": viewer}, 403},
		{"no origin", map[string]string{"Cookie": op}, 401},
		{"another origin", map[string]string{"Origin": "http://evil.example", "Cookie": op}, 403},
	} {
		if resp := f.post(t, "POST", "/decode", c.hdr); resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
}
