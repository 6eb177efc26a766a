package designerapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/flows"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		context int
		want    string
	}{
		{"equal", "a\nb\n", "a\nb\n", 3, ""},
		{"change middle", "a\nb\nc\n", "a\nB\nc\n", 1, "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"add to empty", "", "a\nb\n", 3, "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"delete all", "a\n", "", 3, "--- x\n+++ y\n@@ -1,1 +0,0 @@\n-a\n"},
		{"no newline at end", "a\nb", "a\nb\n", 0, "--- x\n+++ y\n@@ -2,1 +2,1 @@\n-b\n\\ No newline at end of file\n+b\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "0\n2\n3\n4\n5\n6\n7\n8\nX\n", 1,
			"--- x\n+++ y\n@@ -1,2 +1,2 @@\n-1\n+0\n 2\n@@ -8,2 +8,2 @@\n 8\n-9\n+X\n"},
		{"close changes merge", "1\n2\n3\n4\n", "A\n2\n3\nB\n", 1,
			"--- x\n+++ y\n@@ -1,4 +1,4 @@\n-1\n+A\n 2\n 3\n-4\n+B\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := unifiedDiff("x", "y", tc.a, tc.b, tc.context); got != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestDiffLinesRoundTrip: applying the edit script to a gives b.
func TestDiffLinesRoundTrip(t *testing.T) {
	pairs := [][2]string{
		{"a b c a b b a", "c b a b a c"},
		{"x y z", ""},
		{"", "p q"},
		{"same same", "same same"},
	}
	for _, p := range pairs {
		a, b := strings.Fields(p[0]), strings.Fields(p[1])
		var gotA, gotB []string
		for _, e := range diffLines(a, b) {
			if e.kind != '+' {
				gotA = append(gotA, e.line)
			}
			if e.kind != '-' {
				gotB = append(gotB, e.line)
			}
		}
		if strings.Join(gotA, " ") != p[0] || strings.Join(gotB, " ") != p[1] {
			t.Errorf("%q -> %q: script gives %q -> %q", p[0], p[1], gotA, gotB)
		}
	}
}

func TestAutoLayout(t *testing.T) {
	src := `name: l
entry: a
on_hangup: h
nodes:
  a: {type: menu, prompt: x, options: {"1": b, "2": c}, on_failure: d}
  b: {type: play, say: x, next: d}
  c: {type: play, say: x, next: d}
  d: {type: hangup}
  h: {type: set, assign: {x: "1"}}
  orphan: {type: hangup}
`
	f, ds := flows.Parse("l.yaml", []byte(src))
	if f == nil {
		t.Fatal(ds)
	}
	pos := autoLayout(f)
	want := map[string][2]float64{
		"a": {0, 0}, "b": {0, layoutRowHeight}, "c": {layoutColumnWidth, layoutRowHeight}, "d": {2 * layoutColumnWidth, layoutRowHeight},
		"h": {layoutColumnWidth, 0}, "orphan": {2 * layoutColumnWidth, 0},
	}
	for id, p := range want {
		if pos[id] != p {
			t.Errorf("%s at %v, want %v", id, pos[id], p)
		}
	}
}

func TestOpenAPIDocument(t *testing.T) {
	b, err := OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || len(doc.Paths) < 25 {
		t.Fatalf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
	}
	for p := range doc.Paths {
		if !strings.HasPrefix(p, Prefix+"/") {
			t.Errorf("path %s outside %s", p, Prefix)
		}
	}
	// The handler serves the document without credentials; the docs page
	// (WebHandler) renders it in the browser with no CDN.
	h, _ := New(Config{})
	for _, path := range []string{"/openapi.json", "/openapi.yaml"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, w.Code)
		}
	}
	w0 := httptest.NewRecorder()
	WebHandler().ServeHTTP(w0, httptest.NewRequest(http.MethodGet, "/docs", nil))
	if w0.Code != http.StatusOK || !strings.Contains(w0.Body.String(), "API reference") || !strings.Contains(w0.Body.String(), "/docs.js") {
		t.Errorf("GET /docs: %d %.200s", w0.Code, w0.Body.String())
	}
	// Without auth configured, protected operations answer 503, not 200.
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, Prefix+"/flows", nil))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET flows without auth: %d %v", w.Code, w.Header())
	}
}
