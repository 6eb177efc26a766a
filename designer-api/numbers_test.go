package designerapi

import (
	"context"
	"net/http"
	"testing"

	"github.com/voxflow/voxflow/store"
)

func TestNumbers(t *testing.T) {
	e := newEnv(t)
	e.publishFlow("live")
	if _, err := e.store.SaveDraft(context.Background(), "wip", flowSrc("wip"), ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{"bind", http.MethodPut, "/numbers/+15551234567", map[string]any{"flow": "live"}, http.StatusOK},
		{"bind catch-all", http.MethodPut, "/numbers/*", map[string]any{"flow": "live"}, http.StatusOK},
		{"rebind", http.MethodPut, "/numbers/+15551234567", map[string]any{"flow": "live"}, http.StatusOK},
		{"unpublished flow", http.MethodPut, "/numbers/1000", map[string]any{"flow": "wip"}, http.StatusUnprocessableEntity},
		{"unknown flow", http.MethodPut, "/numbers/1000", map[string]any{"flow": "nope"}, http.StatusUnprocessableEntity},
		{"bad number", http.MethodPut, "/numbers/a%20b", map[string]any{"flow": "live"}, http.StatusUnprocessableEntity},
		{"no body", http.MethodPut, "/numbers/1000", nil, http.StatusBadRequest},
		{"unbind", http.MethodDelete, "/numbers/*", nil, http.StatusNoContent},
		{"unbind again", http.MethodDelete, "/numbers/*", nil, http.StatusNotFound},
	}
	for _, tc := range tests {
		var args []any
		if tc.body != nil {
			args = append(args, tc.body)
		}
		w := e.do(RolePublisher, tc.method, Prefix+tc.path, args...)
		if w.Code != tc.want {
			t.Fatalf("%s: %d, want %d: %s", tc.name, w.Code, tc.want, w.Body.String())
		}
	}
	w := e.do(RoleViewer, http.MethodGet, Prefix+"/numbers")
	e.expect(w, http.StatusOK)
	ns := decode[struct{ Numbers []store.NumberBinding }](t, w)
	if len(ns.Numbers) != 1 || ns.Numbers[0].Number != "+15551234567" || ns.Numbers[0].Flow != "live" {
		t.Fatalf("numbers %+v", ns)
	}
	// Designers may not bind.
	e.expect(e.do(RoleDesigner, http.MethodPut, Prefix+"/numbers/1000", map[string]any{"flow": "live"}), http.StatusForbidden)
}
