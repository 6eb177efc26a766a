package designerapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/voxflow/voxflow/store"
)

// fakeEraser records erases and answers a fixed report.
type fakeEraser struct {
	calls []string
}

func (f *fakeEraser) Erase(_ context.Context, number string, dry bool) (ErasureReport, error) {
	f.calls = append(f.calls, number)
	return ErasureReport{Number: number, DryRun: dry, CallIDs: []string{"c1", "c2"},
		Counts: map[string]int{store.KindCDRs: 2, store.KindDNCKept: 1}, Running: []string{"call-c3"}}, nil
}

// newEraseEnv is newEnv's store, auth and keys with an API that erases
// through f.
func newEraseEnv(t *testing.T, f *fakeEraser) *testEnv {
	e := newEnv(t)
	_, api := New(Config{Store: e.store, Auth: e.auth, Eraser: f, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e.api = wrapQuiet(t, api)
	return e
}

func TestPrivacyErase(t *testing.T) {
	f := &fakeEraser{}
	e := newEraseEnv(t, f)

	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/privacy/erase", map[string]any{"number": "+15551234567"}), http.StatusForbidden)
	e.expect(e.do("", http.MethodPost, Prefix+"/privacy/erase", map[string]any{"number": "+15551234567"}), http.StatusUnauthorized)
	for _, bad := range []string{"", "  ", "bob", "+1555abc", "12"} {
		w := e.do(RoleAdmin, http.MethodPost, Prefix+"/privacy/erase", map[string]any{"number": bad})
		e.expect(w, http.StatusUnprocessableEntity)
		if !strings.Contains(w.Body.String(), "phone number") {
			t.Errorf("%q: %s", bad, w.Body.String())
		}
	}
	if len(f.calls) != 0 {
		t.Fatalf("erased on refused requests: %v", f.calls)
	}

	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/privacy/erase", map[string]any{"number": "+15551234567"})
	e.expect(w, http.StatusOK)
	r := decode[ErasureReport](t, w)
	if r.DryRun || r.Counts[store.KindCDRs] != 2 || len(r.CallIDs) != 2 || len(r.Running) != 1 ||
		!strings.Contains(r.Note, "kept: 1 do-not-call") {
		t.Errorf("report %+v", r)
	}
	es := e.auditLog("action=" + AuditPrivacyErase).Entries
	if len(es) != 1 || es[0].Target != "+1555***4567" || es[0].Actor != "key:test-admin" {
		t.Fatalf("audit %+v", es)
	}
	var d struct {
		Counts map[string]int `json:"counts"`
		Calls  int            `json:"calls"`
	}
	if err := json.Unmarshal(es[0].Details, &d); err != nil || d.Counts[store.KindCDRs] != 2 || d.Calls != 2 {
		t.Errorf("details %s: %v", es[0].Details, err)
	}
	if strings.Contains(string(es[0].Details), "5551234567") {
		t.Errorf("audit details keep the number: %s", es[0].Details)
	}
}

func TestPrivacyEraseDryRun(t *testing.T) {
	e := newEraseEnv(t, &fakeEraser{})
	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/privacy/erase", map[string]any{"number": "tel:+15551234567", "dry_run": true})
	e.expect(w, http.StatusOK)
	if r := decode[ErasureReport](t, w); !r.DryRun {
		t.Errorf("report %+v", r)
	}
	if es := e.auditLog("action=" + AuditPrivacyErase).Entries; len(es) != 0 {
		t.Errorf("dry run audited as an erase: %+v", es)
	}
	if es := e.auditLog("action=" + AuditPrivacyEraseDryRun).Entries; len(es) != 1 || es[0].Target != "+1555***4567" {
		t.Errorf("dry-run audit %+v", es)
	}
}

func TestPrivacyEraseWithoutEraser(t *testing.T) {
	e := newEnv(t)
	e.expect(e.do(RoleAdmin, http.MethodPost, Prefix+"/privacy/erase", map[string]any{"number": "+15551234567"}), http.StatusServiceUnavailable)
}

func TestMaskNumber(t *testing.T) {
	for in, want := range map[string]string{
		"+15551234567":     "+1555***4567",
		"tel:+15551234567": "+1555***4567",
		"5551234567":       "555***4567",
		"1234567":          "12***67",
		"1234":             "1***",
		"":                 "***",
	} {
		if got := MaskNumber(in); got != want {
			t.Errorf("MaskNumber(%q) = %q, want %q", in, got, want)
		}
	}
}
