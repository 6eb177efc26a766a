package designerapi

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/voxflow/voxflow/store"
)

type auditPage struct {
	Entries    []AuditEntry `json:"entries"`
	NextCursor string       `json:"next_cursor"`
}

func (e *testEnv) auditLog(query string) auditPage {
	e.t.Helper()
	w := e.do(RoleAdmin, http.MethodGet, Prefix+"/audit?"+query)
	e.expect(w, http.StatusOK)
	return decode[auditPage](e.t, w)
}

// TestAuditActions: each operator's and admin's action leaves one entry
// saying who, from where, when, what and to what.
func TestAuditActions(t *testing.T) {
	e := newEnv(t)
	start := time.Now().Add(-time.Second)
	e.expect(e.do(RoleDesigner, http.MethodPut, Prefix+"/flows/pay/draft", map[string]any{"source": flowSrc("pay")}), http.StatusOK)
	e.expect(e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/publish"), http.StatusOK)
	e.expect(e.do(RolePublisher, http.MethodPost, Prefix+"/flows/pay/rollback", map[string]any{"version": 1}), http.StatusOK)
	e.expect(e.do(RolePublisher, http.MethodPut, Prefix+"/numbers/5550100", map[string]any{"flow": "pay"}), http.StatusOK)
	e.expect(e.do(RolePublisher, http.MethodDelete, Prefix+"/numbers/5550100"), http.StatusNoContent)
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/reset", map[string]any{"node": "hello"}), http.StatusOK)
	e.expect(e.do(RoleOperator, http.MethodPost, Prefix+"/calls/c1/terminate", map[string]any{"reason": "stuck"}), http.StatusNoContent)
	e.expect(e.do(RoleAdmin, http.MethodPost, Prefix+"/users", map[string]any{"username": "lee", "password": "lee-password-1", "role": "viewer"}), http.StatusCreated)
	e.expect(e.do(RoleAdmin, http.MethodPatch, Prefix+"/users/lee", map[string]any{"role": "designer"}), http.StatusOK)
	e.expect(signIn(e, "lee", "wrong-password"), http.StatusUnauthorized)
	e.expect(signIn(e, "lee", "lee-password-1"), http.StatusOK)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/users/lee"), http.StatusNoContent)
	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/keys", map[string]any{"name": "ci", "role": "viewer"})
	e.expect(w, http.StatusCreated)
	key := decode[CreatedKey](t, w)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/keys/"+key.ID), http.StatusNoContent)
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	e.publishFlow("outbound") // straight to the store: no entry
	e.createCampaign("spring", nil)
	e.expect(e.do(RoleAdmin, http.MethodPost, Prefix+"/campaigns/spring/start"), http.StatusOK)

	want := []struct{ action, actor, target string }{
		{AuditFlowPublish, "key:test-publisher", "pay"},
		{AuditFlowRollback, "key:test-publisher", "pay"},
		{AuditNumberBind, "key:test-publisher", "5550100"},
		{AuditNumberUnbind, "key:test-publisher", "5550100"},
		{AuditCallReset, "key:test-operator", "c1"},
		{AuditCallTerminate, "key:test-operator", "c1"},
		{AuditUserCreate, "key:test-admin", "lee"},
		{AuditUserUpdate, "key:test-admin", "lee"},
		{AuditSigninFailure, "lee", "lee"},
		{AuditSigninSuccess, "lee", "lee"},
		{AuditUserDelete, "key:test-admin", "lee"},
		{AuditKeyCreate, "key:test-admin", key.ID},
		{AuditKeyDelete, "key:test-admin", key.ID},
		{"campaign.start", "key:test-admin", "spring"},
	}
	all := e.auditLog("limit=500").Entries
	if len(all) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(all), len(want), all)
	}
	for i, w := range want {
		got := all[len(all)-1-i] // newest first
		if got.Action != w.action || got.Actor != w.actor || got.Target != w.target || got.At.Before(start) {
			t.Errorf("entry %d: %+v, want %+v", i, got, w)
		}
		if got.Via == "key" && (got.Role == "" || len(got.Details) == 0) {
			t.Errorf("entry %d lacks role or details: %+v", i, got)
		}
	}
	if got := all[len(all)-1]; got.Role != "publisher" || got.Via != "key" || string(got.Details) == "{}" {
		t.Errorf("publish entry %+v", got)
	}

	// Filters.
	if got := e.auditLog("actor=key:test-operator").Entries; len(got) != 2 {
		t.Errorf("actor filter: %+v", got)
	}
	if got := e.auditLog("action=" + AuditNumberBind + "&target=5550100").Entries; len(got) != 1 {
		t.Errorf("action+target filter: %+v", got)
	}
	if got := e.auditLog("until=" + url.QueryEscape(start.Format(time.RFC3339Nano))).Entries; len(got) != 0 {
		t.Errorf("until before everything: %+v", got)
	}
	if got := e.auditLog("since=" + url.QueryEscape(start.Format(time.RFC3339Nano))).Entries; len(got) != len(want) {
		t.Errorf("since: %d entries", len(got))
	}
	// Pages of five, following the cursor, give each entry once.
	seen := map[string]bool{}
	for q, pages := "limit=5", 0; ; pages++ {
		p := e.auditLog(q)
		for _, en := range p.Entries {
			if seen[en.ID] {
				t.Fatalf("entry %s twice", en.ID)
			}
			seen[en.ID] = true
		}
		if p.NextCursor == "" || pages > 5 {
			break
		}
		q = "limit=5&cursor=" + p.NextCursor
	}
	if len(seen) != len(want) {
		t.Errorf("paged through %d entries, want %d", len(seen), len(want))
	}
	e.expect(e.do(RoleOperator, http.MethodGet, Prefix+"/audit"), http.StatusForbidden)
}
