package designerapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

// Audit actions the API writes (store.AuditEntry.Action).
const (
	AuditFlowPublish    = "flow.publish"
	AuditFlowRollback   = "flow.rollback"
	AuditNumberBind     = "number.bind"
	AuditNumberUnbind   = "number.unbind"
	AuditCallReset      = "call.reset"
	AuditCallTerminate  = "call.terminate"
	AuditUserCreate     = "user.create"
	AuditUserUpdate     = "user.update"
	AuditUserDelete     = "user.delete"
	AuditPasswordChange = "user.password"
	AuditKeyCreate      = "key.create"
	AuditKeyDelete      = "key.delete"
	AuditSigninSuccess  = "signin.success"
	AuditSigninFailure  = "signin.failure"
	AuditSigninLockout  = "signin.lockout"
	AuditSigninLocked   = "signin.locked"
	auditCampaignPrefix = "campaign."
)

// audit records an action of the caller in the store's audit log. A
// failed write is logged, never the request's failure: the action has
// already happened. details must hold no secrets.
func (s *server) audit(ctx context.Context, action, target string, details map[string]any) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		p = Principal{Name: "anonymous"}
	}
	s.auditAs(ctx, p, action, target, details)
}

func (s *server) auditAs(ctx context.Context, p Principal, action, target string, details map[string]any) {
	if s.cfg.Store == nil {
		return
	}
	if p.KeyID != "" {
		details = withDetail(details, "key_id", p.KeyID)
	}
	d := "{}"
	if len(details) > 0 {
		b, err := json.Marshal(details)
		if err == nil {
			d = string(b)
		}
	}
	e := store.AuditEntry{Actor: p.Name, Role: string(p.Role), Via: p.Via, Source: SourceFrom(ctx),
		Action: action, Target: target, Details: d}
	// The entry outlives a cancelled request: the action already happened.
	if _, err := s.cfg.Store.AddAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.Error("audit", "action", action, "target", target, "error", err)
	}
}

func withDetail(m map[string]any, k string, v any) map[string]any {
	if m == nil {
		m = map[string]any{}
	}
	m[k] = v
	return m
}

// AuditEntry is one recorded action.
type AuditEntry struct {
	ID      string          `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor" doc:"Username, key:<name> (its ID in details.key_id) or user@host for the CLI"`
	Role    string          `json:"role,omitempty"`
	Via     string          `json:"via,omitempty" doc:"session, key or cli"`
	Source  string          `json:"source,omitempty" doc:"The caller's IP address (the connection's; X-Forwarded-For is not trusted)"`
	Action  string          `json:"action" doc:"e.g. flow.publish, number.bind, call.reset, user.create, key.delete, signin.failure"`
	Target  string          `json:"target,omitempty"`
	Details json.RawMessage `json:"details"`
}

type auditInput struct {
	Actor  string    `query:"actor"`
	Action string    `query:"action"`
	Target string    `query:"target"`
	Since  time.Time `query:"since" doc:"Entries at or after (RFC 3339)"`
	Until  time.Time `query:"until" doc:"Entries before (RFC 3339)"`
	Limit  int       `query:"limit" minimum:"1" maximum:"500" default:"100"`
	Cursor string    `query:"cursor" doc:"next_cursor of the previous page"`
}

type auditOutput struct {
	Body struct {
		Entries    []AuditEntry `json:"entries"`
		NextCursor string       `json:"next_cursor,omitempty"`
	}
}

func (s *server) registerAudit(api huma.API) {
	huma.Register(api, op("list-audit", http.MethodGet, "/audit", RoleAdmin, "Admin",
		"The audit log: who did what to which flow, number, call, user or key, and sign-ins; newest first"),
		requires(s.needStore, s.listAudit))
}

func (s *server) listAudit(ctx context.Context, in *auditInput) (*auditOutput, error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, badCursor(err)
	}
	f := store.AuditFilter{Actor: in.Actor, Action: in.Action, Target: in.Target, Since: in.Since, Until: in.Until,
		Limit: in.Limit + 1, BeforeID: c.After}
	if c.N > 0 {
		f.BeforeAt = time.UnixMicro(int64(c.N)).UTC()
	}
	es, err := s.cfg.Store.AuditLog(ctx, f)
	if err != nil {
		return nil, s.fail("list audit log", err)
	}
	out := &auditOutput{}
	out.Body.Entries = make([]AuditEntry, 0, len(es))
	for i, e := range es {
		if i == in.Limit {
			last := es[i-1]
			out.Body.NextCursor = encodeCursor(cursor{After: last.ID, N: int(last.At.UnixMicro())})
			break
		}
		out.Body.Entries = append(out.Body.Entries, AuditEntry{ID: e.ID, At: e.At, Actor: e.Actor, Role: e.Role, Via: e.Via,
			Source: e.Source, Action: e.Action, Target: e.Target, Details: json.RawMessage(e.Details)})
	}
	return out, nil
}
