package designerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

// VersionInfo is a published version without its source.
type VersionInfo struct {
	Flow        string    `json:"flow"`
	Version     int       `json:"version"`
	Checksum    string    `json:"checksum"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	Note        string    `json:"note,omitempty"`
	RollbackOf  int       `json:"rollback_of,omitempty"`
}

func versionInfo(v store.FlowVersion) VersionInfo {
	return VersionInfo{Flow: v.Flow, Version: v.Version, Checksum: v.Checksum, PublishedAt: v.PublishedAt,
		PublishedBy: v.PublishedBy, Note: v.Note, RollbackOf: v.RollbackOf}
}

type publishInput struct {
	FlowNameParam
	IfMatch string `header:"If-Match" doc:"Publish only if the draft still has this ETag (412 otherwise)"`
	Body    *struct {
		Note string `json:"note,omitempty" maxLength:"1000"`
	}
}

// PublishResult is a published (or already current) version.
type PublishResult struct {
	Version VersionInfo `json:"version"`
	// Unchanged: the source equals the latest version, so none was created.
	Unchanged bool `json:"unchanged"`
	// DraftKept: the draft changed while this publish ran; the version holds
	// what was validated and the newer draft was left in place.
	DraftKept bool `json:"draft_kept,omitempty"`
}

type publishOutput struct {
	Body PublishResult
}

type listVersionsInput struct {
	FlowNameParam
	Limit  int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
	Cursor string `query:"cursor"`
}

type listVersionsOutput struct {
	Body struct {
		Versions   []VersionInfo `json:"versions" doc:"Newest first"`
		NextCursor string        `json:"next_cursor,omitempty"`
	}
}

type versionInput struct {
	FlowNameParam
	Version int `path:"version" minimum:"1"`
}

type versionOutput struct {
	Body store.FlowVersion
}

type rollbackInput struct {
	FlowNameParam
	Body struct {
		Version int  `json:"version" minimum:"1" doc:"The version whose source is published again"`
		Force   bool `json:"force,omitempty" doc:"Publish even if that source no longer validates"`
	}
}

// registerVersions registers publishing and the published versions.
func (s *server) registerVersions(api huma.API) {
	o := s.withFlowProblem(flowOp("publish-flow", http.MethodPost, "/flows/{name}/publish", RolePublisher,
		"Validate the draft and publish it as the next version; an invalid draft answers 422 with line, column and field of each error"))
	o.Errors = append(o.Errors, http.StatusPreconditionFailed)
	huma.Register(api, o, requires(s.needStore, s.publishFlow))

	huma.Register(api, flowOp("list-versions", http.MethodGet, "/flows/{name}/versions", RoleViewer,
		"Published versions, newest first (without sources)"),
		requires(s.needStore, s.listVersions))
	huma.Register(api, flowOp("get-version", http.MethodGet, "/flows/{name}/versions/{version}", RoleViewer,
		"One published version with its source"),
		requires(s.needStore, s.getVersion))
	huma.Register(api, s.withFlowProblem(flowOp("rollback-flow", http.MethodPost, "/flows/{name}/rollback", RolePublisher,
		"Publish an earlier version's source again as the next version (history is kept); the draft is left alone")),
		requires(s.needStore, s.rollbackFlow))
}

func (s *server) publishFlow(ctx context.Context, in *publishInput) (*publishOutput, error) {
	note := ""
	if in.Body != nil {
		note = in.Body.Note
	}
	return s.publish(ctx, in.Name, in.IfMatch, note)
}

func (s *server) listVersions(ctx context.Context, in *listVersionsInput) (*listVersionsOutput, error) {
	c, err := decodeCursor(in.Cursor)
	if err != nil {
		return nil, badCursor(err)
	}
	vs, err := s.cfg.Store.Versions(ctx, in.Name)
	if err != nil {
		return nil, s.fail("list versions", err)
	}
	out := &listVersionsOutput{}
	out.Body.Versions = []VersionInfo{}
	for i := len(vs) - 1; i >= 0; i-- {
		if c.N > 0 && vs[i].Version >= c.N {
			continue
		}
		if len(out.Body.Versions) == in.Limit {
			out.Body.NextCursor = encodeCursor(cursor{N: out.Body.Versions[in.Limit-1].Version})
			break
		}
		out.Body.Versions = append(out.Body.Versions, versionInfo(vs[i]))
	}
	return out, nil
}

func (s *server) getVersion(ctx context.Context, in *versionInput) (*versionOutput, error) {
	v, err := s.cfg.Store.Version(ctx, in.Name, in.Version)
	if err != nil {
		return nil, s.fail("get version", err)
	}
	return &versionOutput{Body: v}, nil
}

func (s *server) rollbackFlow(ctx context.Context, in *rollbackInput) (*publishOutput, error) {
	old, err := s.cfg.Store.Version(ctx, in.Name, in.Body.Version)
	if err != nil {
		return nil, s.fail("rollback", err)
	}
	if !in.Body.Force {
		label := "version " + strconv.Itoa(old.Version)
		if _, ds := checkSource(in.Name, old.Source, label); hasErrors(ds) {
			return nil, invalidFlow("rollback to "+label+" (pass force to publish it anyway)", ds)
		}
	}
	v, err := s.cfg.Store.Rollback(ctx, in.Name, in.Body.Version, who(ctx))
	unchanged := errors.Is(err, store.ErrUnchanged)
	if err != nil && !unchanged {
		return nil, s.fail("rollback", err)
	}
	s.audit(ctx, AuditFlowRollback, in.Name, map[string]any{"to": in.Body.Version, "version": v.Version, "force": in.Body.Force})
	return &publishOutput{Body: PublishResult{Version: versionInfo(v), Unchanged: unchanged}}, nil
}

// publish validates the draft and publishes exactly the validated source:
// PublishSource (not Publish, which takes whatever the draft is by then),
// then the draft is removed only if it still has the validated ETag, so a
// concurrent edit is neither published unvalidated nor lost.
func (s *server) publish(ctx context.Context, name, ifMatch, note string) (*publishOutput, error) {
	d, err := s.cfg.Store.Draft(ctx, name)
	if err != nil {
		return nil, s.fail("publish", err)
	}
	if ifMatch != "" && strings.Trim(strings.TrimPrefix(strings.TrimSpace(ifMatch), "W/"), `"`) != d.ETag {
		return nil, huma.Error412PreconditionFailed(fmt.Sprintf("the draft of %q changed: its ETag is now %s", name, quoteETag(d.ETag)))
	}
	if _, ds := checkSource(name, d.Source, "draft"); hasErrors(ds) {
		return nil, invalidFlow("cannot publish "+name, ds)
	}
	prev := 0
	if v, err := s.cfg.Store.Published(ctx, name); err == nil {
		prev = v.Version
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, s.fail("publish", err)
	}
	v, err := s.cfg.Store.PublishSource(ctx, name, d.Source, who(ctx), note)
	if err != nil {
		return nil, s.fail("publish", err)
	}
	res := PublishResult{Version: versionInfo(v), Unchanged: v.Version <= prev}
	s.audit(ctx, AuditFlowPublish, name, map[string]any{"version": v.Version, "unchanged": res.Unchanged})
	if err := s.cfg.Store.DeleteDraft(ctx, name, d.ETag); err != nil {
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			return nil, s.fail("publish: remove draft", err)
		}
		res.DraftKept = errors.Is(err, store.ErrConflict)
	}
	return &publishOutput{Body: res}, nil
}
