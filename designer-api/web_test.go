package designerapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func webGet(t *testing.T, h http.Handler, p string) (*http.Response, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
	b, _ := io.ReadAll(w.Result().Body)
	return w.Result(), string(b)
}

var (
	preloadRE  = regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)">`)
	templateRE = regexp.MustCompile(`(?s)<template id="vf-modules">(.*?)</template>`)
	buildRE    = regexp.MustCompile(`import '\./v/([0-9a-f]+)/app\.js';`)
)

// pageModules splits a page's module preloads into those in the head and
// those inside <template id="vf-modules"> (added by app.js).
func pageModules(page string) (head, later []string) {
	tpl := ""
	if m := templateRE.FindStringSubmatch(page); m != nil {
		tpl = m[1]
	}
	for _, m := range preloadRE.FindAllStringSubmatch(strings.Replace(page, tpl, "", 1), -1) {
		head = append(head, m[1])
	}
	for _, m := range preloadRE.FindAllStringSubmatch(tpl, -1) {
		later = append(later, m[1])
	}
	return head, later
}

// TestWebVersionedAssets: the page runs /app.js, which imports the
// versioned app.js; versioned paths may be cached for good, plain ones are
// revalidated, another build's folder is served as today's file without
// caching.
func TestWebVersionedAssets(t *testing.T) {
	h := WebHandler()
	resp, entry := webGet(t, h, "/app.js")
	m := buildRE.FindStringSubmatch(entry)
	if m == nil || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("/app.js: %q, Cache-Control %q", entry, resp.Header.Get("Cache-Control"))
	}
	dir := "/v/" + m[1]
	real, _ := webFiles.ReadFile("web/app.js")
	for _, c := range []struct {
		path, cache string
		status      int
		body        string
	}{
		{dir + "/app.js", "public, max-age=31536000, immutable", 200, string(real)},
		{dir + "/vendor/yaml.js", "public, max-age=31536000, immutable", 200, "export"},
		{dir + "/flow.schema.json", "public, max-age=31536000, immutable", 200, `"menuNode"`},
		{"/v/0123456789abcdef/app.js", "no-cache", 200, string(real)},
		{"/vendor/yaml.js", "public, max-age=86400", 200, "export"},
		{"/style.css", "no-cache", 200, ":root"},
		{dir + "/missing.js", "", 404, ""},
		{dir + "/index.html", "", 404, ""},
		{dir + "/", "", 404, ""},
	} {
		resp, body := webGet(t, h, c.path)
		if resp.StatusCode != c.status || resp.Header.Get("Cache-Control") != c.cache || !strings.Contains(body, c.body) {
			t.Errorf("GET %s: %d, Cache-Control %q, body has %q: %v; want %d, %q",
				c.path, resp.StatusCode, resp.Header.Get("Cache-Control"), c.body, strings.Contains(body, c.body), c.status, c.cache)
		}
	}
}

// TestWebPageModules: every page links its stylesheet at the versioned
// path and preloads app.js with all it imports; a page for a screen that
// app.js loads lazily lists that screen's other modules in the template.
// The lists are complete: each module's static imports are listed too.
func TestWebPageModules(t *testing.T) {
	h := WebHandler()
	_, entry := webGet(t, h, "/app.js")
	dir := "/v/" + buildRE.FindStringSubmatch(entry)[1]
	for _, c := range []struct {
		path  string
		later []string // some of the template's modules, none when nil
	}{
		{"/flows", nil},
		{"/signin", nil},
		{"/flows/support-line", []string{"/designer.js", "/graph.js", "/flowdoc.js", "/vendor/yaml.js"}},
		{"/console", []string{"/console.js", "/graph.js"}},
		{"/cdrs", []string{"/console.js"}},
	} {
		resp, page := webGet(t, h, c.path)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET %s: %d %q", c.path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if !strings.Contains(page, `<script type="module" src="/app.js">`) || !strings.Contains(page, `<link rel="stylesheet" href="`+dir+`/style.css">`) {
			t.Errorf("GET %s: no /app.js script or versioned stylesheet:\n%s", c.path, page)
		}
		head, later := pageModules(page)
		for _, want := range []string{"/app.js", "/api.js", "/ui.js"} {
			if !slices.Contains(head, dir+want) {
				t.Errorf("GET %s: %s not preloaded in %v", c.path, want, head)
			}
		}
		if c.later == nil && later != nil {
			t.Errorf("GET %s: template of modules %v", c.path, later)
		}
		for _, want := range c.later {
			if !slices.Contains(later, dir+want) {
				t.Errorf("GET %s: %s not in the template's %v", c.path, want, later)
			}
		}
		all := append(slices.Clone(head), later...)
		for _, mod := range all {
			checkImportsListed(t, h, c.path, mod, all)
		}
	}
}

// checkImportsListed fails when a static import of module mod (served
// by h) is not in list.
func checkImportsListed(t *testing.T, h http.Handler, page, mod string, list []string) {
	t.Helper()
	resp, src := webGet(t, h, mod)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("page %s preloads %s: %d %q", page, mod, resp.StatusCode, resp.Header.Get("Content-Type"))
		return
	}
	for _, m := range regexp.MustCompile(`(?m)^(?:import|export)[^'";]*?from '(\.[^']+)'|^import '(\.[^']+)'`).FindAllStringSubmatch(src, -1) {
		spec := m[1] + m[2]
		if dep := path.Join(path.Dir(mod), spec); !slices.Contains(list, dep) {
			t.Errorf("page %s: %s imports %s, which it does not preload", page, mod, dep)
		}
	}
}
