package designerapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/voxflow/voxflow/flows"
)

// The designer and operations console: plain HTML, CSS and native ES
// modules with no build step (web/vendor holds the YAML library as shipped
// by its authors). web/e2e (the browser tests) is not embedded.
//
//go:embed web/index.html web/docs.html web/*.js web/*.css web/favicon.svg web/vendor
var webFiles embed.FS

// FlowSchemaPath is where WebHandler serves the flow language's JSON Schema
// (flows.Schema), which the designer's node forms are generated from.
const FlowSchemaPath = "/flow.schema.json"

type webAsset struct {
	body  []byte
	ctype string
	etag  string
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
	"":      "text/plain; charset=utf-8", // vendor/yaml/LICENSE
}

func newWebAsset(name string, b []byte) webAsset {
	sum := sha256.Sum256(b)
	ct, ok := webContentTypes[path.Ext(name)]
	if !ok {
		ct = "application/octet-stream"
	}
	return webAsset{body: b, ctype: ct, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// WebHandler serves the browser UI: the embedded assets, the flow JSON
// Schema at FlowSchemaPath, the API reference at /docs (rendered in the
// page from /openapi.json, with no CDN: voxflow dev works offline), and index.html for every other GET path that is
// not an asset (client-side routes such as /flows/support-line), so a
// reload or a shared link opens the right screen. Paths under /api/ are
// never answered with the page (404), so a mistyped API call fails loudly.
//
// Assets are revalidated on each load (Cache-Control: no-cache with a
// content ETag: a 304 costs one round trip, and a new binary is picked up
// at once); files under /vendor/ never change for a given name and version
// and are cached for a day.
func WebHandler() http.Handler {
	assets := map[string]webAsset{}
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic("designer-api: web assets: " + err.Error()) // embedded: cannot fail
	}
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		assets["/"+p] = newWebAsset(p, b)
		return nil
	})
	if err != nil {
		panic("designer-api: web assets: " + err.Error())
	}
	assets[FlowSchemaPath] = newWebAsset(FlowSchemaPath, flows.Schema())
	index := assets["/index.html"]
	modTime := time.Time{}

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		if p == "/docs" {
			p = "/docs.html" // the API reference, rendered from /openapi.json
		}
		a, ok := assets[p]
		switch {
		case ok && p != "/index.html":
		case path.Ext(p) != "" && p != "/index.html":
			// A missing asset (a typo, an old bookmark to a file) is a 404,
			// not the page: the browser would try to run HTML as a script.
			http.NotFound(w, r)
			return
		default:
			a = index
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", a.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(p, "/vendor/") {
			h.Set("Cache-Control", "public, max-age=86400")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if a.ctype == index.ctype {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "+
				"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
		}
		http.ServeContent(w, r, "", modTime, bytes.NewReader(a.body))
	})
}
