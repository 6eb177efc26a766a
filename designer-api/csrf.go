package designerapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// errForeignOrigin: a cookie-authenticated change came from a page of
// another origin (or named none).
const errForeignOrigin = "cross-origin request refused: a change made with a session cookie must come from this site's own pages " +
	"(Origin or Referer %q is not %s or one of --origins); scripts should use an API key (Authorization: Bearer vfk_...)"

type sourceKey struct{}

// SourceFrom returns the caller's IP address: the connection's remote
// address. X-Forwarded-For is not trusted (there is no trusted-proxy
// setting), so behind a proxy every caller shares the proxy's address.
func SourceFrom(ctx context.Context) string {
	s, _ := ctx.Value(sourceKey{}).(string)
	return s
}

// sourceIP is the host part of RemoteAddr.
func sourceIP(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// unsafeMethod: methods that change things, which CSRF protection covers.
func unsafeMethod(m string) bool {
	return m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions
}

// ownOrigin is scheme://host of the request: https when served over TLS
// or behind a TLS-terminating proxy (SecureCookie).
func (s *server) ownOrigin(ctx huma.Context) string {
	scheme := "http"
	if ctx.TLS() != nil || s.cfg.SecureCookie {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(ctx.Host())
}

// checkOrigin refuses a cookie-authenticated change whose Origin (or,
// without one, Referer) is not the API's own origin or one of
// Config.Origins. SameSite=Strict already keeps other sites' requests from
// carrying the cookie; this also stops sibling subdomains (same site,
// other origin). Requests with an Authorization header are not
// cookie-bound and are not checked.
func (s *server) checkOrigin(ctx huma.Context) error {
	if !unsafeMethod(ctx.Method()) || ctx.Header("Authorization") != "" {
		return nil
	}
	if c, err := huma.ReadCookie(ctx, SessionCookie); err != nil || c.Value == "" {
		return nil
	}
	origin := ctx.Header("Origin")
	if origin == "" {
		if u, err := url.Parse(ctx.Header("Referer")); err == nil && u.Host != "" {
			origin = u.Scheme + "://" + u.Host
		}
	}
	origin = strings.ToLower(strings.TrimSuffix(origin, "/"))
	own := s.ownOrigin(ctx)
	if origin != "" && (origin == own || slices.Contains(s.origins, origin)) {
		return nil
	}
	if origin == "" {
		origin = "(none)"
	}
	return huma.Error403Forbidden(fmt.Sprintf(errForeignOrigin, origin, own))
}

// normOrigins lowercases the allowed origins and drops trailing slashes.
func normOrigins(os []string) []string {
	out := make([]string, 0, len(os))
	for _, o := range os {
		if o = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o), "/")); o != "" {
			out = append(out, o)
		}
	}
	return out
}
