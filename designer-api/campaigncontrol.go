package designerapi

import (
	"cmp"
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
				out, err := s.controlCampaign(ctx, a, in.ID)
				if err == nil {
					s.audit(ctx, auditCampaignPrefix+a.name, in.ID, nil)
				}
				return out, err
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

// Preview: an agent lists the preview campaigns of their queues, asks for
// the next due contact, reads it, then dials it or passes it over.

// agentSkipReason is the skip reason of a contact an agent passed over for
// good without saying why.
const agentSkipReason = "skipped by agent"

// heldPage is the page of contacts read looking for those an agent holds:
// ListContacts' largest.
const heldPage = 1000

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

// PreviewSkip is why an agent passes a contact over, and whether for good.
type PreviewSkip struct {
	Reason string `json:"reason,omitempty" maxLength:"200" doc:"Why: the contact's skip reason when final (default \"skipped by agent\"); otherwise only logged"`
	Final  bool   `json:"final,omitempty" doc:"Never dial this contact again: it is skipped with reason. Otherwise it goes back to the list, due now, behind the contacts already due"`
}

type previewSkipInput struct {
	CampaignIDParam
	Contact int64  `path:"contact" minimum:"1" doc:"The contact's ID"`
	Agent   string `query:"agent" doc:"The agent who holds it (default: the caller's agent)"`
	Body    *PreviewSkip
}

type previewSkipOutput struct {
	Body records.Contact
}

// PreviewCampaign is a running preview campaign on one of an agent's
// queues.
type PreviewCampaign struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Queue   string    `json:"queue"`
	Pending int       `json:"pending" doc:"Contacts waiting to be dialled, now or later"`
	Due     bool      `json:"due" doc:"A contact is due now: preview/next offers one"`
	NextDue time.Time `json:"next_due,omitzero" doc:"When the next pending contact is due, if none is due now"`
	// Held lets a reloaded desk offer again what its agent had claimed.
	Held []records.Contact `json:"held" doc:"Contacts offered to this agent that they have not dialled yet: dial or skip them"`
}

type previewCampaignsOutput struct {
	Body struct {
		Agent     string            `json:"agent"`
		Campaigns []PreviewCampaign `json:"campaigns" doc:"By ID"`
	}
}

func (s *server) registerPreview(api huma.API) {
	huma.Register(api, campaignOp("list-preview-campaigns", http.MethodGet, "/agents/{name}/preview-campaigns", RoleAgent,
		"Preview mode: the running preview campaigns of an agent's queues (agents for themselves, supervisors for anyone), "+
			"with their pending contacts and those the agent holds"),
		requires(s.needStore, s.previewCampaigns))
	huma.Register(api, campaignOp("preview-next", http.MethodPost, "/campaigns/{id}/preview/next", RoleAgent,
		"Preview mode: claim the next due contact for an agent (agents for themselves, supervisors for anyone); 204 when none is due"),
		requires(s.needStore, s.previewNext))
	o := campaignOp("preview-dial", http.MethodPost, "/campaigns/{id}/preview/{contact}/dial", RoleAgent,
		"Preview mode: dial the contact an agent claimed; the call is bridged to that agent")
	o.DefaultStatus = http.StatusAccepted
	huma.Register(api, o, requires(s.needStore, requires(s.needCampaigns, s.previewDial)))
	huma.Register(api, campaignOp("preview-skip", http.MethodPost, "/campaigns/{id}/preview/{contact}/skip", RoleAgent,
		"Preview mode: pass over a contact an agent claimed and has not dialled: back to the list, or skipped for good "+
			"with a reason (final); answers the contact. 409 when the agent does not hold it or it is being dialled"),
		requires(s.needStore, s.previewSkip))
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

// previewMode is campaign id when it is a preview campaign; running: and
// when it runs.
func (s *server) previewMode(ctx context.Context, id, what string, running bool) (records.Campaign, error) {
	c, err := s.cfg.Store.GetCampaign(ctx, id)
	if err != nil {
		return c, s.fail(what, err)
	}
	if c.Mode != records.PacePreview {
		return c, huma.Error409Conflict(fmt.Sprintf("campaign %s is %s: only preview campaigns offer contacts to agents", id, c.Mode))
	}
	if running && c.State != records.CampaignRunning {
		return c, huma.Error409Conflict(fmt.Sprintf("campaign %s is %s: start or resume it first", id, c.State))
	}
	return c, nil
}

// heldContact is contact id of campaign when agent holds it (claimed with
// preview/next, not finished): 404 when there is no such contact, 409
// when the agent does not hold it.
func (s *server) heldContact(ctx context.Context, campaign string, id int64, agent, what string) (records.Contact, error) {
	k, err := s.cfg.Store.GetContact(ctx, campaign, id)
	if errors.Is(err, store.ErrNotFound) {
		return k, huma.Error404NotFound(fmt.Sprintf("campaign %s has no contact %d", campaign, id))
	}
	if err != nil {
		return k, s.fail(what, err)
	}
	if k.State != records.ContactDialing || k.Agent != agent {
		return k, huma.Error409Conflict(fmt.Sprintf("contact %d is not offered to %s (it is %s%s): ask for one with POST /campaigns/%s/preview/next",
			id, agent, k.State, offeredTo(k), campaign))
	}
	return k, nil
}

// dialled reports whether held contact k's current attempt was dialled:
// its claim counted the attempt, and the dial records it.
func (s *server) dialled(ctx context.Context, k records.Contact) (bool, error) {
	_, err := s.cfg.Store.GetAttempt(ctx, k.Campaign, k.ID, k.Attempts)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (s *server) previewNext(ctx context.Context, in *previewNextInput) (*previewNextOutput, error) {
	agent, err := previewAgent(ctx, in.Agent)
	if err != nil {
		return nil, err
	}
	what := "preview next of campaign " + in.ID
	if _, err := s.previewMode(ctx, in.ID, what, true); err != nil {
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
	if _, err := s.previewMode(ctx, in.ID, what, true); err != nil {
		return nil, err
	}
	if _, err := s.heldContact(ctx, in.ID, in.Contact, agent, what); err != nil {
		return nil, err
	}
	if err := s.cfg.Campaigns.PreviewDial(ctx, in.ID, in.Contact, agent); err != nil {
		if stateRefused(err) {
			return nil, huma.Error409Conflict(err.Error())
		}
		return nil, s.fail(what, err)
	}
	return &previewDialOutput{Status: http.StatusAccepted}, nil
}

// previewSkip releases a contact the agent holds. A paused campaign's
// contacts may be passed over too: the agent should not sit on them.
func (s *server) previewSkip(ctx context.Context, in *previewSkipInput) (*previewSkipOutput, error) {
	agent, err := previewAgent(ctx, in.Agent)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("preview skip of campaign %s contact %d", in.ID, in.Contact)
	c, err := s.previewMode(ctx, in.ID, what, false)
	if err != nil {
		return nil, err
	}
	k, err := s.heldContact(ctx, in.ID, in.Contact, agent, what)
	if err != nil {
		return nil, err
	}
	switch done, err := s.dialled(ctx, k); {
	case err != nil:
		return nil, s.fail(what, err)
	case done:
		return nil, huma.Error409Conflict(fmt.Sprintf("contact %d was dialled (attempt %d): a call in progress cannot be skipped", k.ID, k.Attempts))
	}
	var skip PreviewSkip
	if in.Body != nil {
		skip = *in.Body
	}
	reason := strings.TrimSpace(skip.Reason)
	// Due now, yet behind the contacts already due: the next preview/next
	// offers another contact, not this one again.
	next, skipReason := time.Now().UTC(), ""
	if skip.Final {
		next, skipReason = time.Time{}, cmp.Or(reason, agentSkipReason)
	}
	if err := s.cfg.Store.ReleaseContact(ctx, in.ID, k.ID, next, skipReason); err != nil {
		return nil, s.fail(what, err)
	}
	s.log.Info("preview contact passed over", "campaign", in.ID, "contact", k.ID, "agent", agent, "final", skip.Final, "reason", reason)
	if c.State == records.CampaignRunning {
		s.nudge(ctx, in.ID) // a last contact skipped for good completes the campaign
	}
	if k, err = s.cfg.Store.GetContact(ctx, in.ID, k.ID); err != nil {
		return nil, s.fail(what, err)
	}
	return &previewSkipOutput{Body: k}, nil
}

func offeredTo(k records.Contact) string {
	if k.Agent == "" {
		return ""
	}
	return ", offered to " + k.Agent
}

// previewCampaigns lists the running preview campaigns whose queue the
// agent serves (every queue when their profile names none; none without
// a profile). Agents may not list campaigns (list-campaigns takes a
// supervisor: it shows every campaign's settings and figures); this
// tells them only what the desk needs.
func (s *server) previewCampaigns(ctx context.Context, in *AgentNameParam) (*previewCampaignsOutput, error) {
	agent, err := previewAgent(ctx, in.Name)
	if err != nil {
		return nil, err
	}
	what := "preview campaigns of agent " + agent
	out := &previewCampaignsOutput{}
	out.Body.Agent, out.Body.Campaigns = agent, []PreviewCampaign{}
	p, err := s.cfg.Store.AgentProfile(ctx, agent)
	if errors.Is(err, store.ErrNotFound) {
		return out, nil
	}
	if err != nil {
		return nil, s.fail(what, err)
	}
	cs, err := s.cfg.Store.ListCampaigns(ctx)
	if err != nil {
		return nil, s.fail(what, err)
	}
	now := time.Now()
	for _, c := range cs {
		if c.Mode != records.PacePreview || c.State != records.CampaignRunning ||
			(len(p.Queues) > 0 && !slices.Contains(p.Queues, c.Queue)) {
			continue
		}
		pc, err := s.previewCampaign(ctx, c, agent, now)
		if err != nil {
			return nil, s.fail(what, err)
		}
		out.Body.Campaigns = append(out.Body.Campaigns, pc)
	}
	slices.SortFunc(out.Body.Campaigns, func(a, b PreviewCampaign) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// previewCampaign is running preview campaign c as agent sees it at now.
func (s *server) previewCampaign(ctx context.Context, c records.Campaign, agent string, now time.Time) (PreviewCampaign, error) {
	pc := PreviewCampaign{ID: c.ID, Name: c.Name, Queue: c.Queue, Held: []records.Contact{}}
	counts, _, err := s.cfg.Store.ContactCounts(ctx, c.ID)
	if err != nil {
		return pc, err
	}
	pc.Pending = counts[records.ContactPending]
	next, ok, err := s.cfg.Store.NextDue(ctx, c.ID)
	if err != nil {
		return pc, err
	}
	pc.Due = ok && !next.After(now)
	if ok && !pc.Due {
		pc.NextDue = next
	}
	// A preview campaign's contacts in dialing are those agents hold and
	// those in calls: a few per agent.
	for after := int64(0); ; {
		ks, err := s.cfg.Store.ListContacts(ctx, c.ID, records.ContactDialing, after, heldPage)
		if err != nil {
			return pc, err
		}
		for _, k := range ks {
			if k.Agent != agent {
				continue
			}
			if done, err := s.dialled(ctx, k); err != nil {
				return pc, err
			} else if !done {
				pc.Held = append(pc.Held, k)
			}
		}
		if len(ks) < heldPage {
			return pc, nil
		}
		after = ks[len(ks)-1].ID
	}
}
