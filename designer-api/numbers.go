package designerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/store"
)

type numbersOutput struct {
	Body struct {
		Numbers []store.NumberBinding `json:"numbers"`
	}
}

// NumberParam is the path parameter naming a dialled number.
type NumberParam struct {
	Number string `path:"number" pattern:"^(\\*|\\+?[A-Za-z0-9_.@-]{1,64})$" doc:"Dialled number or SIP user part; * is the catch-all"`
}

type bindNumberInput struct {
	NumberParam
	Body struct {
		Flow string `json:"flow" pattern:"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" doc:"A flow with a published version"`
	}
}

type numberOutput struct {
	Body store.NumberBinding
}

func (s *server) registerNumbers(api huma.API) {
	huma.Register(api, op("list-numbers", http.MethodGet, "/numbers", RoleViewer, "Numbers", "List number bindings"),
		requires(s.needStore, s.listNumbers))
	huma.Register(api, op("bind-number", http.MethodPut, "/numbers/{number}", RolePublisher, "Numbers",
		"Make a published flow serve a number (replaces an earlier binding)"),
		requires(s.needStore, s.bindNumber))
	o := op("unbind-number", http.MethodDelete, "/numbers/{number}", RolePublisher, "Numbers", "Remove a number's binding")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, requires(s.needStore, s.unbindNumber))
}

func (s *server) listNumbers(ctx context.Context, _ *struct{}) (*numbersOutput, error) {
	ns, err := s.cfg.Store.Numbers(ctx)
	if err != nil {
		return nil, s.fail("list numbers", err)
	}
	out := &numbersOutput{}
	out.Body.Numbers = ns
	return out, nil
}

func (s *server) bindNumber(ctx context.Context, in *bindNumberInput) (*numberOutput, error) {
	if _, err := s.cfg.Store.Published(ctx, in.Body.Flow); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, huma.Error422UnprocessableEntity(fmt.Sprintf("flow %q has no published version: publish it first", in.Body.Flow),
				&huma.ErrorDetail{Message: "no published version", Location: "body.flow", Value: in.Body.Flow})
		}
		return nil, s.fail("bind number", err)
	}
	if err := s.cfg.Store.BindNumber(ctx, in.Number, in.Body.Flow); err != nil {
		return nil, s.fail("bind number", err)
	}
	s.audit(ctx, AuditNumberBind, in.Number, map[string]any{"flow": in.Body.Flow})
	ns, err := s.cfg.Store.Numbers(ctx)
	if err != nil {
		return nil, s.fail("bind number", err)
	}
	for _, b := range ns {
		if b.Number == in.Number {
			return &numberOutput{Body: b}, nil
		}
	}
	return &numberOutput{Body: store.NumberBinding{Number: in.Number, Flow: in.Body.Flow}}, nil
}

func (s *server) unbindNumber(ctx context.Context, in *NumberParam) (*struct{}, error) {
	if err := s.cfg.Store.UnbindNumber(ctx, in.Number); err != nil {
		return nil, s.fail("unbind number", err)
	}
	s.audit(ctx, AuditNumberUnbind, in.Number, nil)
	return nil, nil
}
