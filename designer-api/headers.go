package designerapi

import (
	"net/http"
	"path"
	"strings"
)

// hstsMaxAge is a year: browsers that once reached the site over HTTPS
// keep to it.
const hstsMaxAge = "max-age=31536000"

// SecurityHeaders sets the headers every response carries, API and pages:
// no MIME sniffing, no referrer to other origins, no framing (except
// /widget.js, which other sites embed), a browsing context of its own
// (Cross-Origin-Opener-Policy), HSTS when served over TLS, and no caching
// of API answers (they carry sessions' data). Pages add their CSP in
// WebHandler.
func SecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		if path.Base(r.URL.Path) != "widget.js" {
			hd.Set("X-Frame-Options", "DENY")
			hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		}
		if r.TLS != nil {
			hd.Set("Strict-Transport-Security", hstsMaxAge)
		}
		if strings.HasPrefix(r.URL.Path, Prefix+"/") {
			hd.Set("Cache-Control", "no-store")
		}
		h.ServeHTTP(w, r)
	})
}
