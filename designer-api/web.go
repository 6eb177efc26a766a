package designerapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html"
	"io/fs"
	"maps"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/voxflow/voxflow/flows"
)

// The designer and operations console: plain HTML, CSS and native ES
// modules with no build step (web/vendor holds the YAML library, bundled
// into one module once by scripts/vendor-yaml.mjs and committed). web/e2e
// (the browser tests) is not embedded.
//
//go:embed web/index.html web/docs.html web/widget-demo.html web/*.js web/*.css web/favicon.svg web/vendor
var webFiles embed.FS

// FlowSchemaPath is where WebHandler serves the flow language's JSON Schema
// (flows.Schema), which the designer's node forms are generated from.
const FlowSchemaPath = "/flow.schema.json"

// versionedDir is the folder under which WebHandler serves every asset at
// a path named after the content of all of them (/v/<build>/app.js): a new
// build has new paths, so those answers may be cached for good.
const versionedDir = "/v/"

// lazyViews are the modules app.js imports when a client route first
// needs them (its routes table): the page served for such a path lists
// them, with everything they import, as module preloads (see renderPage),
// so the browser fetches the whole module graph at once instead of one
// import level per round trip.
var lazyViews = []struct{ prefix, module string }{
	{"/flows/", "/designer.js"},
	{"/console", "/console.js"},
	{"/cdrs", "/console.js"},
	{"/board", "/board.js"},
	{"/agent", "/agent.js"},
	{"/campaigns", "/campaigns.js"},
}

type webAsset struct {
	body  []byte
	ctype string
	etag  string
	// csp is a page's Content-Security-Policy (empty for other files).
	csp string
}

var webContentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/markdown; charset=utf-8",
}

func newWebAsset(name string, b []byte) webAsset {
	sum := sha256.Sum256(b)
	ct, ok := webContentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	a := webAsset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
	if ct == webContentTypes[".html"] {
		a.csp = pageCSP(b)
	}
	return a
}

// styleBlock finds a page's <style> elements.
var styleBlock = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// pageCSP is the pages' policy: everything from this origin only, no
// inline scripts, and no inline styles but the page's own <style> blocks,
// allowed by hash (the scripts style through the CSSOM and constructable
// stylesheets, which style-src does not govern).
func pageCSP(page []byte) string {
	style := "style-src 'self'"
	for _, m := range styleBlock.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[1])
		style += " 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	}
	return "default-src 'self'; img-src 'self' data:; " + style + "; " +
		"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
}

// webSite is what WebHandler serves.
type webSite struct {
	files   map[string]webAsset // the embedded files and the schema, by path
	build   string              // hash of every file: the versioned folder's name
	entry   webAsset            // /app.js: imports the versioned app.js
	pages   map[string]webAsset // index.html per lazy view module ("" for none)
	modTime time.Time           // zero: ServeContent sends no Last-Modified
}

// WebHandler serves the browser UI: the embedded assets, the flow JSON
// Schema at FlowSchemaPath, the API reference at /docs (rendered in the
// page from /openapi.json, with no CDN: voxflow dev works offline), and index.html for every other GET path that is
// not an asset (client-side routes such as /flows/support-line), so a
// reload or a shared link opens the right screen. Paths under /api/ are
// never answered with the page (404), so a mistyped API call fails loudly.
//
// Caching: the page links its stylesheet and modules under
// /v/<build>/ (a hash of every asset), answered with Cache-Control:
// immutable, and lists the module graph of its route as modulepreload
// links; a reopened designer then loads no script over the network (it
// made ~20 revalidations, one import level after another, before). The
// page itself and the assets at their plain paths are revalidated on each
// load (no-cache with a content ETag: a 304 costs one round trip, and a
// new binary is picked up at once). /app.js, which the page runs, only
// imports /v/<build>/app.js, so modules that import ./app.js share that one
// instance. Files under /vendor/ never change for a given name and
// version and are cached for a day at their plain paths.
func WebHandler() http.Handler {
	site, err := newWebSite()
	if err != nil {
		panic("designer-api: web assets: " + err.Error()) // embedded: cannot fail
	}
	return SecurityHeaders(http.HandlerFunc(site.serve))
}

func newWebSite() (*webSite, error) {
	files, err := loadWebFiles()
	if err != nil {
		return nil, err
	}
	s := &webSite{files: files, build: buildHash(files), pages: map[string]webAsset{}}
	dir := versionedDir + s.build
	s.entry = newWebAsset("app.js", []byte("// The designer's modules live under "+dir+"/ (cached for good: a new build has a new folder).\nimport '."+dir+"/app.js';\n"))
	index := string(files["/index.html"].body)
	graph := moduleGraph(files)
	app := moduleClosure(graph, "/app.js")
	s.pages[""] = newWebAsset("index.html", []byte(renderPage(index, dir, files, app, nil)))
	for _, v := range lazyViews {
		if _, ok := s.pages[v.module]; !ok {
			view := slices.DeleteFunc(moduleClosure(graph, v.module), func(m string) bool { return slices.Contains(app, m) })
			s.pages[v.module] = newWebAsset("index.html", []byte(renderPage(index, dir, files, app, view)))
		}
	}
	return s, nil
}

// loadWebFiles reads the embedded files (by path: /app.js) and adds the
// flow schema.
func loadWebFiles() (map[string]webAsset, error) {
	files := map[string]webAsset{}
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		return nil, err
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		files["/"+p] = newWebAsset(p, b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	files[FlowSchemaPath] = newWebAsset(FlowSchemaPath, flows.Schema())
	return files, nil
}

// buildHash names the versioned folder after every file's path and content.
func buildHash(files map[string]webAsset) string {
	h := sha256.New()
	for _, p := range slices.Sorted(maps.Keys(files)) {
		h.Write([]byte(p + " " + files[p].etag + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// staticImport matches the module specifier of a static import or
// re-export (import x from './a.js', import './a.js', export { x } from
// './a.js'); dynamic import() is not matched: those are lazyViews.
var staticImport = regexp.MustCompile(`(?m)^\s*(?:(?:import|export)\s[\w\s{},*$]*?\bfrom|import)\s*['"]([^'"]+)['"]`)

// moduleGraph maps each JavaScript file to the files it imports statically.
func moduleGraph(files map[string]webAsset) map[string][]string {
	g := map[string][]string{}
	for p, a := range files {
		if path.Ext(p) != ".js" {
			continue
		}
		for _, m := range staticImport.FindAllSubmatch(a.body, -1) {
			spec := string(m[1])
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				continue
			}
			dep := path.Join(path.Dir(p), spec)
			if _, ok := files[dep]; ok {
				g[p] = append(g[p], dep)
			}
		}
	}
	return g
}

// moduleClosure lists the roots and every module they import, breadth first.
func moduleClosure(g map[string][]string, roots ...string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range roots {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for i := 0; i < len(out); i++ {
		for _, dep := range g[out[i]] {
			if !seen[dep] {
				seen[dep] = true
				out = append(out, dep)
			}
		}
	}
	return out
}

// linkHref matches the target of a <link href="/..."> in the page.
var linkHref = regexp.MustCompile(`(<link\b[^>]*\bhref=")(/[^"]+)(")`)

// renderPage points the page's <link>s to assets at their versioned paths
// and replaces its modulepreload of app.js with one per module in app (at
// the end of the head: after the page's script, whose request, /app.js,
// then does not queue behind theirs) and, inside <template
// id="vf-modules">, one per module in view: app.js adds those to the page
// once it has sent the screen's API requests, so that handling the view's
// module responses (a dozen for the designer; eighty before its YAML library
// was bundled) does not hold back the first script and the requests it sends.
func renderPage(index, dir string, files map[string]webAsset, app, view []string) string {
	links := func(mods []string) string {
		var b strings.Builder
		for _, m := range mods {
			b.WriteString(`<link rel="modulepreload" href="` + dir + m + `">` + "\n")
		}
		return b.String()
	}
	head := links(app)
	if len(view) > 0 {
		head += `<template id="vf-modules">` + "\n" + links(view) + "</template>\n"
	}
	index = strings.Replace(index, `<link rel="modulepreload" href="/app.js">`+"\n", "", 1)
	index = strings.Replace(index, "</head>", head+"</head>", 1)
	return linkHref.ReplaceAllStringFunc(index, func(tag string) string {
		m := linkHref.FindStringSubmatch(tag)
		if _, ok := files[m[2]]; !ok || strings.HasPrefix(m[2], versionedDir) {
			return tag
		}
		return m[1] + dir + m[2] + m[3]
	})
}

// lookup finds what answers path p (cleaned) and whether it may be cached
// for good; ok is false for a path that is neither an asset nor a client
// route (404).
func (s *webSite) lookup(p string) (a webAsset, immutable, ok bool) {
	if rest, found := strings.CutPrefix(p, versionedDir); found {
		build, file, _ := strings.Cut(rest, "/")
		a, ok := s.files["/"+file]
		if !ok || file == "index.html" || file == "widget-demo.html" {
			return webAsset{}, false, false
		}
		// Another build's folder (a page loaded before an upgrade): today's
		// file, revalidated as at its plain path.
		return a, build == s.build, true
	}
	if p == "/docs" {
		p = "/docs.html" // the API reference, rendered from /openapi.json
	}
	switch a, ok := s.files[p]; {
	case p == "/app.js":
		return s.entry, false, true
	case ok && p != "/index.html" && p != "/widget-demo.html":
		return a, false, true
	case path.Ext(p) != "" && p != "/index.html":
		// A missing asset (a typo, an old bookmark to a file) is a 404,
		// not the page: the browser would try to run HTML as a script.
		return webAsset{}, false, false
	}
	if p == WidgetDemoPath {
		return webAsset{}, false, true // rendered per request (widgetDemo)
	}
	for _, v := range lazyViews {
		if strings.HasPrefix(p, v.prefix) {
			return s.pages[v.module], false, true
		}
	}
	return s.pages[""], false, true
}

func (s *webSite) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p == "/api" || strings.HasPrefix(p, "/api/") {
		http.NotFound(w, r)
		return
	}
	a, immutable, ok := s.lookup(p)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if p == WidgetDemoPath {
		a = s.widgetDemo(r)
	}
	h := w.Header()
	if path.Base(p) == "widget.js" {
		widgetHeaders(h)
	}
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case immutable:
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	case strings.HasPrefix(p, "/vendor/"):
		h.Set("Cache-Control", "public, max-age=86400")
	default:
		h.Set("Cache-Control", "no-cache")
	}
	if a.csp != "" {
		h.Set("Content-Security-Policy", a.csp)
	}
	http.ServeContent(w, r, "", s.modTime, bytes.NewReader(a.body))
}

// The web widget: /widget.js is one classic script with no imports that a
// company's site embeds (<script src="https://HOST/widget.js"
// data-number="1000" async></script>); it adds a "Call us" / "Chat"
// button and talks to the public call and chat sockets of the origin it
// was loaded from. WidgetDemoPath is a page that embeds it.
const (
	WidgetDemoPath = "/widget/demo"
	// widgetDemoNumber is the number the demo page's widget calls unless
	// ?number= names another: support-line in voxflow dev (its menu, then
	// the support queue).
	widgetDemoNumber = "1000"
)

// widgetNumber is a number a page may ask the demo to call.
var widgetNumber = regexp.MustCompile(`^\+?[A-Za-z0-9_.@-]{1,64}$`)

// widgetHeaders lets any site load the widget's script: it runs in the
// embedding page, so CORS (for a crossorigin script tag, or a page with
// Cross-Origin-Embedder-Policy) must not stop it.
func widgetHeaders(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("Timing-Allow-Origin", "*")
}

// widgetDemo renders the demo page for the number in ?number= (the
// default when absent or malformed) and the host the browser used, shown
// in the snippet to copy. It passes the pages' CSP: its only script is
// /widget.js, whose styles and sockets are same-origin here.
func (s *webSite) widgetDemo(r *http.Request) webAsset {
	number := r.URL.Query().Get("number")
	if !widgetNumber.MatchString(number) {
		number = widgetDemoNumber
	}
	host := r.Host
	if host == "" {
		host = "localhost:8080"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	page := strings.NewReplacer(
		`data-number="`+widgetDemoNumber+`"`, `data-number="`+html.EscapeString(number)+`"`,
		"{{number}}", html.EscapeString(number),
		"{{origin}}", html.EscapeString(scheme+"://"+host),
	).Replace(string(s.files["/widget-demo.html"].body))
	return newWebAsset("widget-demo.html", []byte(page))
}
