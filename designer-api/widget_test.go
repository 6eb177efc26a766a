package designerapi

import (
	"slices"
	"strings"
	"testing"
)

// TestWidgetServing: any site may load /widget.js (a classic script, CORS
// open); the demo page embeds it for the number asked, escaped, under the
// pages' CSP; its template is not served as a file.
func TestWidgetServing(t *testing.T) {
	h := WebHandler()
	resp, body := webGet(t, h, "/widget.js")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" ||
		resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Fatalf("/widget.js: %d %v", resp.StatusCode, resp.Header)
	}
	if !strings.Contains(body, "document.currentScript") || strings.Contains(body, "\nimport ") || strings.Contains(body, "\nexport ") {
		t.Errorf("/widget.js is not a classic script reading its own tag")
	}
	for _, c := range []struct{ url, number string }{
		{WidgetDemoPath, widgetDemoNumber},
		{WidgetDemoPath + "?number=6200", "6200"},
		{WidgetDemoPath + "?number=%22%3E%3Cscript%3E", widgetDemoNumber},
	} {
		resp, page := webGet(t, h, c.url)
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: %d, CSP %q", c.url, resp.StatusCode, csp)
		}
		if !strings.Contains(page, `<script src="/widget.js" data-number="`+c.number+`" async></script>`) ||
			!strings.Contains(page, `&lt;script src="http://example.com/widget.js" data-number="`+c.number+`"`) ||
			strings.Contains(page, "{{") || strings.Contains(page, "<script>") {
			t.Errorf("GET %s: the page does not embed the widget for %s:\n%s", c.url, c.number, page)
		}
	}
	if resp, _ := webGet(t, h, "/widget-demo.html"); resp.StatusCode != 404 {
		t.Errorf("/widget-demo.html: %d, want 404 (served as %s only)", resp.StatusCode, WidgetDemoPath)
	}
}

// TestAgentDeskPage: /agent is a lazy view whose page lists the desk's
// modules, each with its imports.
func TestAgentDeskPage(t *testing.T) {
	h := WebHandler()
	_, entry := webGet(t, h, "/app.js")
	dir := "/v/" + buildRE.FindStringSubmatch(entry)[1]
	resp, page := webGet(t, h, "/agent")
	if resp.StatusCode != 200 {
		t.Fatalf("/agent: %d", resp.StatusCode)
	}
	head, later := pageModules(page)
	for _, want := range []string{"/agent.js", "/softphone.js", "/agent-chat.js", "/screenpop.js"} {
		if !slices.Contains(later, dir+want) {
			t.Errorf("/agent: %s not in the template's %v", want, later)
		}
	}
	all := append(slices.Clone(head), later...)
	for _, mod := range all {
		checkImportsListed(t, h, "/agent", mod, all)
	}
	if resp, css := webGet(t, h, "/desk.css"); resp.StatusCode != 200 || !strings.Contains(css, ".desk-grid") {
		t.Errorf("/desk.css: %d", resp.StatusCode)
	}
}
