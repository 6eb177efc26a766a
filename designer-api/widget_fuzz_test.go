package designerapi

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzWidgetDemo renders the widget demo page for any ?number= and Host a
// browser may send: it always answers 200 and neither value can add markup
// (the page has as many '<' and '"' as the default one).
func FuzzWidgetDemo(f *testing.F) {
	for _, s := range [][2]string{{"6200", "example.com"}, {`"><script>alert(1)</script>`, "a.example:8080"},
		{"+1555", `h"><img src=x>`}, {"", ""}, {strings.Repeat("9", 65), "[::1]:80"}, {"a@b.c", "ex&amp;"}} {
		f.Add(s[0], s[1])
	}
	h := WebHandler()
	get := func(number, host string) (int, string) {
		r := httptest.NewRequest(http.MethodGet, WidgetDemoPath+"?number="+url.QueryEscape(number), nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		b, _ := io.ReadAll(w.Result().Body)
		return w.Code, string(b)
	}
	_, base := get("1000", "example.com")
	f.Fuzz(func(t *testing.T, number, host string) {
		code, page := get(number, host)
		if code != http.StatusOK {
			t.Fatalf("number %q host %q: %d", number, host, code)
		}
		for _, c := range []string{"<", `"`} {
			if strings.Count(page, c) != strings.Count(base, c) {
				t.Fatalf("number %q host %q changed the page's markup (%q count)", number, host, c)
			}
		}
	})
}
