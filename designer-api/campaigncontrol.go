package designerapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// campaignAction is a manager's button: the states it acts from, the state
// in which it has nothing to do, and the CampaignControl call.
type campaignAction struct {
	name, summary string
	// from are the states it acts from; empty: CampaignControl decides.
	from []string
	// done is the state already reached: the request succeeds doing nothing.
	done string
	call func(CampaignControl) func(context.Context, string) error
}

var campaignActions = []campaignAction{
	{name: "start", done: records.CampaignRunning,
		summary: "Start dialling a draft, paused or stopped campaign (a completed one after new contacts were added)",
		call:    func(c CampaignControl) func(context.Context, string) error { return c.Start }},
	{name: "pause", from: []string{records.CampaignRunning}, done: records.CampaignPaused,
		summary: "Pause: no new dials; calls in progress finish",
		call:    func(c CampaignControl) func(context.Context, string) error { return c.Pause }},
	{name: "resume", from: []string{records.CampaignPaused}, done: records.CampaignRunning,
		summary: "Resume a paused campaign",
		call:    func(c CampaignControl) func(context.Context, string) error { return c.Resume }},
	{name: "stop", from: []string{records.CampaignDraft, records.CampaignRunning, records.CampaignPaused}, done: records.CampaignStopped,
		summary: "Stop: no new dials; the campaign ends once its calls in progress have",
		call:    func(c CampaignControl) func(context.Context, string) error { return c.Stop }},
}

func (s *server) registerCampaignControls(api huma.API) {
	for _, a := range campaignActions {
		o := campaignOp(a.name+"-campaign", http.MethodPost, "/campaigns/{id}/"+a.name, RoleAdmin,
			a.summary+"; answers the campaign. 409 when its state does not allow it; 503 without a Temporal connection")
		huma.Register(api, o, requires(s.needStore, requires(s.needCampaigns,
			func(ctx context.Context, in *CampaignIDParam) (*campaignOutput, error) {
				return s.controlCampaign(ctx, a, in.ID)
			})))
	}
}

// CampaignAction checks a manager's action (start, pause, resume or stop)
// against campaign c's state: done when c is already where it leads (there
// is nothing to do), an error wrapping ErrCampaignState when c's state
// does not allow it. Start from a completed campaign is left to
// CampaignControl, which knows whether contacts were added.
func CampaignAction(action string, c records.Campaign) (done bool, err error) {
	i := slices.IndexFunc(campaignActions, func(a campaignAction) bool { return a.name == action })
	if i < 0 {
		return false, fmt.Errorf("unknown campaign action %q", action)
	}
	a := campaignActions[i]
	if c.State == a.done {
		return true, nil
	}
	if len(a.from) > 0 && !slices.Contains(a.from, c.State) {
		return false, stateError(fmt.Sprintf("campaign %s is %s: %s works on a campaign that is %s", c.ID, c.State, a.name,
			strings.Join(a.from, " or ")))
	}
	return false, nil
}

// stateError is a refusal that says why in its own words and matches
// ErrCampaignState.
type stateError string

func (e stateError) Error() string        { return string(e) }
func (e stateError) Is(target error) bool { return target == ErrCampaignState }

func (s *server) controlCampaign(ctx context.Context, a campaignAction, id string) (*campaignOutput, error) {
	what := a.name + " campaign " + id
	c, err := s.cfg.Store.GetCampaign(ctx, id)
	if err != nil {
		return nil, s.fail(what, err)
	}
	done, err := CampaignAction(a.name, c)
	if err == nil && !done {
		err = a.call(s.cfg.Campaigns)(ctx, id)
	}
	switch {
	case stateRefused(err):
		return nil, huma.Error409Conflict(err.Error())
	case err != nil:
		return nil, s.fail(what, err)
	}
	return s.getCampaign(ctx, &CampaignIDParam{ID: id})
}

// Preview: an agent asks for the next due contact, reads it, then dials it.

type previewNextInput struct {
	CampaignIDParam
	Agent string `query:"agent" doc:"The agent the contact is offered to (default: the caller's agent)"`
}

type previewNextOutput struct {
	Status int
	Body   *records.Contact
}

type previewDialInput struct {
	CampaignIDParam
	Contact int64  `path:"contact" minimum:"1" doc:"The contact's ID"`
	Agent   string `query:"agent" doc:"The agent who dials (default: the caller's agent)"`
}

type previewDialOutput struct {
	Status int
}

func (s *server) registerPreview(api huma.API) {
	huma.Register(api, campaignOp("preview-next", http.MethodPost, "/campaigns/{id}/preview/next", RoleAgent,
		"Preview mode: claim the next due contact for an agent (agents for themselves, supervisors for anyone); 204 when none is due"),
		requires(s.needStore, s.previewNext))
	o := campaignOp("preview-dial", http.MethodPost, "/campaigns/{id}/preview/{contact}/dial", RoleAgent,
		"Preview mode: dial the contact an agent claimed; the call is bridged to that agent")
	o.DefaultStatus = http.StatusAccepted
	huma.Register(api, o, requires(s.needStore, requires(s.needCampaigns, s.previewDial)))
}

// previewAgent is the agent a preview request is for: agents act only for
// themselves; supervisors and above for anyone.
func previewAgent(ctx context.Context, asked string) (string, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return "", huma.Error401Unauthorized(ErrUnauthenticated.Error())
	}
	if asked == "" {
		asked = agentOf(p)
	}
	if agentOf(p) != asked && !p.Role.Allows(RoleSupervisor) {
		return "", huma.Error403Forbidden(fmt.Sprintf("%s %s may preview contacts only for themselves; for agent %s it needs %s or above",
			p.Role, agentOf(p), asked, RoleSupervisor))
	}
	return asked, nil
}

// previewCampaign is campaign id when it is a running preview campaign.
func (s *server) previewCampaign(ctx context.Context, id, what string) (records.Campaign, error) {
	c, err := s.cfg.Store.GetCampaign(ctx, id)
	if err != nil {
		return c, s.fail(what, err)
	}
	if c.Mode != records.PacePreview {
		return c, huma.Error409Conflict(fmt.Sprintf("campaign %s is %s: only preview campaigns offer contacts to agents", id, c.Mode))
	}
	if c.State != records.CampaignRunning {
		return c, huma.Error409Conflict(fmt.Sprintf("campaign %s is %s: start or resume it first", id, c.State))
	}
	return c, nil
}

func (s *server) previewNext(ctx context.Context, in *previewNextInput) (*previewNextOutput, error) {
	agent, err := previewAgent(ctx, in.Agent)
	if err != nil {
		return nil, err
	}
	what := "preview next of campaign " + in.ID
	if _, err := s.previewCampaign(ctx, in.ID, what); err != nil {
		return nil, err
	}
	claim := "preview-" + agent + "-" + rand.Text()
	cs, err := s.cfg.Store.ClaimContacts(ctx, in.ID, claim, time.Now().UTC(), 1, agent)
	if err != nil {
		return nil, s.fail(what, err)
	}
	if len(cs) == 0 {
		return &previewNextOutput{Status: http.StatusNoContent}, nil
	}
	return &previewNextOutput{Status: http.StatusOK, Body: &cs[0]}, nil
}

func (s *server) previewDial(ctx context.Context, in *previewDialInput) (*previewDialOutput, error) {
	agent, err := previewAgent(ctx, in.Agent)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("preview dial of campaign %s contact %d", in.ID, in.Contact)
	if _, err := s.previewCampaign(ctx, in.ID, what); err != nil {
		return nil, err
	}
	k, err := s.cfg.Store.GetContact(ctx, in.ID, in.Contact)
	if errors.Is(err, store.ErrNotFound) {
		return nil, huma.Error404NotFound(fmt.Sprintf("campaign %s has no contact %d", in.ID, in.Contact))
	}
	if err != nil {
		return nil, s.fail(what, err)
	}
	if k.State != records.ContactDialing || k.Agent != agent {
		return nil, huma.Error409Conflict(fmt.Sprintf("contact %d is not offered to %s (it is %s%s): ask for one with POST /campaigns/%s/preview/next",
			in.Contact, agent, k.State, offeredTo(k), in.ID))
	}
	if err := s.cfg.Campaigns.PreviewDial(ctx, in.ID, in.Contact, agent); err != nil {
		if stateRefused(err) {
			return nil, huma.Error409Conflict(err.Error())
		}
		return nil, s.fail(what, err)
	}
	return &previewDialOutput{Status: http.StatusAccepted}, nil
}

func offeredTo(k records.Contact) string {
	if k.Agent == "" {
		return ""
	}
	return ", offered to " + k.Agent
}
