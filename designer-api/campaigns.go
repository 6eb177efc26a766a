package designerapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer"
	"github.com/voxflow/voxflow/store"
)

// CampaignControl steers campaign workflows: platform.Campaigns implements
// it over a Temporal client; tests use a fake. A request the campaign's
// state does not allow is an error whose chain holds one with the text
// campaignStateText (platform.ErrCampaignState), answered 409.
type CampaignControl interface {
	Start(ctx context.Context, id string) error
	Pause(ctx context.Context, id string) error
	Resume(ctx context.Context, id string) error
	Stop(ctx context.Context, id string) error
	// Nudge asks a running campaign to look again now (new contacts, a
	// do-not-call change); a campaign not running is left alone.
	Nudge(ctx context.Context, id string) error
	PreviewDial(ctx context.Context, id string, contact int64, agent string) error
	// Live is a running campaign's picture, nil when it is not running.
	Live(ctx context.Context, id string) (*records.CampaignLive, error)
}

// errNoCampaigns is why campaign controls answer 503.
const errNoCampaigns = "campaigns cannot be started or steered here: no Temporal connection configured"

// campaignStateText is platform.ErrCampaignState's text: this package may
// not import platform, so a refusal is recognised by it (see stateRefused).
const campaignStateText = "not allowed in the campaign's state"

// ErrCampaignState is an action the campaign's state does not allow
// (CampaignAction).
var ErrCampaignState = errors.New(campaignStateText)

// stateRefused reports whether err says the campaign's state forbids the
// request: ErrCampaignState, or platform.ErrCampaignState by its text.
func stateRefused(err error) bool {
	for err != nil {
		if errors.Is(err, ErrCampaignState) || err.Error() == campaignStateText {
			return true
		}
		if multi, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range multi.Unwrap() {
				if stateRefused(e) {
					return true
				}
			}
			return false
		}
		err = errors.Unwrap(err)
	}
	return false
}

func (s *server) needCampaigns() error {
	if s.cfg.Campaigns == nil {
		return huma.Error503ServiceUnavailable(errNoCampaigns)
	}
	return nil
}

// CampaignIDParam is the path parameter naming a campaign.
type CampaignIDParam struct {
	ID string `path:"id" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" doc:"Campaign ID"`
}

// CampaignWindow is the daily calling window in each callee's local time.
type CampaignWindow struct {
	Start string   `json:"start,omitempty" doc:"HH:MM (default 08:00)"`
	End   string   `json:"end,omitempty" doc:"HH:MM, after start (default 21:00)"`
	Days  []string `json:"days,omitempty" doc:"Weekdays it applies to: mon, tue, wed, thu, fri, sat, sun (default every day)"`
}

// CampaignRetry says when an outcome is dialled again.
type CampaignRetry struct {
	Outcome string `json:"outcome" doc:"busy, no_answer, answered_machine, failed or abandoned"`
	Delay   string `json:"delay" doc:"Go duration, like 10m or 1h"`
	Max     int    `json:"max" minimum:"0" doc:"Retries of this outcome at most"`
}

// CampaignSettings are what a manager sets of a campaign. Durations are Go
// durations ("10m", "25s"); an omitted setting takes the default
// (dialer.WithDefaults), shown in place in answers.
type CampaignSettings struct {
	Name          string          `json:"name,omitempty" doc:"Display name (default the ID)"`
	Flow          string          `json:"flow" doc:"The published flow each answered call runs"`
	Mode          string          `json:"mode" doc:"preview, progressive, predictive or agentless"`
	Queue         string          `json:"queue,omitempty" doc:"The agents' queue (preview, progressive and predictive)"`
	CallerID      string          `json:"caller_id,omitempty" doc:"The number callees see: E.164 or a sip: URI"`
	Region        string          `json:"region,omitempty" doc:"ISO 3166 country of numbers written without a country code"`
	Window        CampaignWindow  `json:"window,omitzero"`
	MaxAttempts   int             `json:"max_attempts,omitempty" minimum:"0" doc:"Dials of one contact at most"`
	MinSpacing    string          `json:"min_spacing,omitempty" doc:"Least time between two dials of a contact"`
	Retry         []CampaignRetry `json:"retry,omitempty" doc:"When each outcome is tried again"`
	RingTimeout   string          `json:"ring_timeout,omitempty" doc:"How long a dial rings before it counts as no answer"`
	Machine       string          `json:"machine,omitempty" doc:"When a machine answers: hangup, message (leave machine_text) or flow (the flow decides)"`
	MachineText   string          `json:"machine_text,omitempty"`
	AbandonCap    float64         `json:"abandon_cap,omitempty" minimum:"0" maximum:"1" doc:"Largest abandoned share of live answers over 30 days (0.03)"`
	AbandonText   string          `json:"abandon_text,omitempty" doc:"What a person hears when no agent is free in time: it must name the caller"`
	Concurrency   int             `json:"concurrency,omitempty" minimum:"0" doc:"Agentless: lines at once"`
	RatePerMinute int             `json:"rate_per_minute,omitempty" minimum:"0" doc:"Dials started per minute at most (0: no bound)"`
	MaxRatio      float64         `json:"max_ratio,omitempty" minimum:"0" doc:"Predictive: lines per available agent at most"`
	Required      []string        `json:"required,omitempty" doc:"CSV columns every contact row must fill (the flow's variables)"`
}

// Campaign is a stored campaign: its settings with defaults in place.
type Campaign struct {
	ID string `json:"id"`
	CampaignSettings
	State     string    `json:"state" doc:"draft, running, paused, stopped or completed"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// CampaignOf is the API's view of a stored campaign.
func CampaignOf(c records.Campaign) Campaign {
	out := Campaign{ID: c.ID, State: c.State, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, CampaignSettings: CampaignSettings{
		Name: c.Name, Flow: c.Flow, Mode: c.Mode, Queue: c.Queue, CallerID: c.CallerID, Region: c.Region,
		Window:      CampaignWindow{Start: c.Window.Start, End: c.Window.End, Days: c.Window.Days},
		MaxAttempts: c.MaxAttempts, MinSpacing: durText(c.MinSpacing), RingTimeout: durText(c.RingTimeout),
		Machine: c.Machine, MachineText: c.MachineText, AbandonCap: c.AbandonCap, AbandonText: c.AbandonText,
		Concurrency: c.Concurrency, RatePerMinute: c.RatePerMinute, MaxRatio: c.MaxRatio, Required: c.Required,
	}}
	for _, r := range c.Retry {
		out.Retry = append(out.Retry, CampaignRetry{Outcome: r.Outcome, Delay: durText(r.Delay), Max: r.Max})
	}
	return out
}

// durText is a duration as the settings write it ("" for none).
func durText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}

// CampaignFrom is the campaign settings describe under id, with the
// defaults applied (dialer.WithDefaults) and validated (dialer.Validate).
// The error is a dialer.FieldErrors naming each bad field as the JSON
// does ("min_spacing", "retry[1].delay"), or nil. (A function, not a
// method: huma cannot link the schema of a struct embedding a type with
// methods.)
func CampaignFrom(id string, cs CampaignSettings) (records.Campaign, error) {
	c := records.Campaign{ID: id, Name: cs.Name, Flow: cs.Flow, Mode: cs.Mode, Queue: cs.Queue, CallerID: cs.CallerID,
		Region: cs.Region, Window: records.Window{Start: cs.Window.Start, End: cs.Window.End, Days: cs.Window.Days},
		MaxAttempts: cs.MaxAttempts, Machine: cs.Machine, MachineText: cs.MachineText, AbandonCap: cs.AbandonCap,
		AbandonText: cs.AbandonText, Concurrency: cs.Concurrency, RatePerMinute: cs.RatePerMinute, MaxRatio: cs.MaxRatio,
		Required: cs.Required}
	if c.Name == "" {
		c.Name = id
	}
	var bad dialer.FieldErrors
	duration := func(field, s string) time.Duration {
		if s == "" {
			return 0
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			bad = append(bad, dialer.FieldError{Field: field, Value: s, Message: "not a duration: want a non-negative Go duration like 30s or 10m"})
		}
		return d
	}
	c.MinSpacing = duration("min_spacing", cs.MinSpacing)
	c.RingTimeout = duration("ring_timeout", cs.RingTimeout)
	for i, r := range cs.Retry {
		d := duration(fmt.Sprintf("retry[%d].delay", i), r.Delay)
		c.Retry = append(c.Retry, records.RetryRule{Outcome: r.Outcome, Delay: d, Max: r.Max})
	}
	if len(bad) > 0 {
		return c, bad
	}
	c = dialer.WithDefaults(c)
	if err := dialer.Validate(c); err != nil {
		return c, err
	}
	return c, nil
}

// CheckCampaignRefs checks what a campaign names in the store: its flow
// is published, and the queue of an agent mode exists. Problems are a
// dialer.FieldErrors; other errors are the store's.
func CheckCampaignRefs(ctx context.Context, st *store.Store, c records.Campaign) error {
	var bad dialer.FieldErrors
	if _, err := st.Published(ctx, c.Flow); errors.Is(err, store.ErrNotFound) {
		bad = append(bad, dialer.FieldError{Field: "flow",
			Message: fmt.Sprintf("flow %q has no published version: publish it first", c.Flow)})
	} else if err != nil {
		return fmt.Errorf("campaign %q: flow %q: %w", c.ID, c.Flow, err)
	}
	if c.Mode != records.PaceAgentless {
		if _, err := st.Queue(ctx, c.Queue); errors.Is(err, store.ErrNotFound) {
			bad = append(bad, dialer.FieldError{Field: "queue",
				Message: fmt.Sprintf("no queue %q: define it first (PUT /api/v1/queues/%s, or voxflow queues put %s)", c.Queue, c.Queue, c.Queue)})
		} else if err != nil {
			return fmt.Errorf("campaign %q: queue %q: %w", c.ID, c.Queue, err)
		}
	}
	if len(bad) > 0 {
		return bad
	}
	return nil
}

// settingsProblem answers a dialer.FieldErrors as a 422 listing each
// field; another error as fail does.
func (s *server) settingsProblem(what string, err error) error {
	var fe dialer.FieldErrors
	if !errors.As(err, &fe) {
		return s.fail(what, err)
	}
	details := make([]error, 0, len(fe))
	for _, f := range fe {
		d := &huma.ErrorDetail{Message: f.Message, Location: "body." + f.Field}
		if f.Value != "" {
			d.Value = f.Value
		}
		details = append(details, d)
	}
	return huma.Error422UnprocessableEntity(what+": invalid settings", details...)
}

type campaignOutput struct {
	Body Campaign
}

// CampaignSummary is a campaign in the list, with its progress.
type CampaignSummary struct {
	Campaign
	Contacts   map[string]int `json:"contacts" doc:"Contacts by state: pending, dialing, done, skipped"`
	Abandon30d float64        `json:"abandon_30d" doc:"Abandoned share of live answers over the last 30 days"`
}

type campaignsOutput struct {
	Body struct {
		Campaigns []CampaignSummary `json:"campaigns" doc:"Oldest first"`
	}
}

type createCampaignInput struct {
	Body struct {
		ID string `json:"id" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" doc:"The campaign's unique ID"`
		CampaignSettings
	}
}

type createCampaignOutput struct {
	Status int
	Body   Campaign
}

type putCampaignInput struct {
	CampaignIDParam
	Body CampaignSettings
}

func campaignOp(id, method, path string, min Role, summary string) huma.Operation {
	return op(id, method, path, min, "campaigns", summary)
}

func (s *server) registerCampaigns(api huma.API) {
	huma.Register(api, campaignOp("list-campaigns", http.MethodGet, "/campaigns", RoleSupervisor,
		"Every campaign with its settings, contacts by state and 30-day abandon rate"),
		requires(s.needStore, s.listCampaigns))
	o := campaignOp("create-campaign", http.MethodPost, "/campaigns", RoleAdmin,
		"Create a draft campaign: settings are validated, its flow must be published and the queue of an agent mode defined")
	o.DefaultStatus = http.StatusCreated
	huma.Register(api, o, requires(s.needStore, s.createCampaign))
	huma.Register(api, campaignOp("get-campaign", http.MethodGet, "/campaigns/{id}", RoleSupervisor,
		"One campaign's settings, defaults in place, and state"),
		requires(s.needStore, s.getCampaign))
	huma.Register(api, campaignOp("put-campaign", http.MethodPut, "/campaigns/{id}", RoleAdmin,
		"Replace a campaign's settings (omitted ones take the defaults); refused while it runs: pause it first"),
		requires(s.needStore, s.putCampaign))
	o = campaignOp("delete-campaign", http.MethodDelete, "/campaigns/{id}", RoleAdmin,
		"Delete a draft, stopped or completed campaign and its contacts (its dial attempts are kept as history)")
	o.DefaultStatus = http.StatusNoContent
	huma.Register(api, o, requires(s.needStore, s.deleteCampaign))
	s.registerCampaignControls(api)
	s.registerCampaignContacts(api)
	s.registerCampaignStats(api)
	s.registerPreview(api)
}

func (s *server) listCampaigns(ctx context.Context, _ *struct{}) (*campaignsOutput, error) {
	cs, err := s.cfg.Store.ListCampaigns(ctx)
	if err != nil {
		return nil, s.fail("list campaigns", err)
	}
	out := &campaignsOutput{}
	out.Body.Campaigns = []CampaignSummary{}
	since := time.Now().Add(-30 * 24 * time.Hour)
	for _, c := range cs {
		counts, _, err := s.cfg.Store.ContactCounts(ctx, c.ID)
		if err != nil {
			return nil, s.fail("list campaigns", err)
		}
		tally, err := s.cfg.Store.CampaignTally(ctx, c.ID, since)
		if err != nil {
			return nil, s.fail("list campaigns", err)
		}
		out.Body.Campaigns = append(out.Body.Campaigns, CampaignSummary{Campaign: CampaignOf(c),
			Contacts: everyState(counts), Abandon30d: tally.AbandonRate()})
	}
	return out, nil
}

// contactStates are the states every count lists, zero included.
var contactStates = []string{records.ContactPending, records.ContactDialing, records.ContactDone, records.ContactSkipped}

// everyState is counts with every contact state present.
func everyState(counts map[string]int) map[string]int {
	out := map[string]int{}
	for _, st := range contactStates {
		out[st] = 0
	}
	for k, v := range counts {
		out[k] = v
	}
	return out
}

func (s *server) createCampaign(ctx context.Context, in *createCampaignInput) (*createCampaignOutput, error) {
	c, err := CampaignFrom(in.Body.ID, in.Body.CampaignSettings)
	if err != nil {
		return nil, s.settingsProblem("create campaign", err)
	}
	if err := CheckCampaignRefs(ctx, s.cfg.Store, c); err != nil {
		return nil, s.settingsProblem("create campaign", err)
	}
	c.State = records.CampaignDraft
	err = s.cfg.Store.CreateCampaign(ctx, c)
	if errors.Is(err, store.ErrCampaignExists) {
		return nil, huma.Error409Conflict(err.Error())
	}
	if err != nil {
		return nil, s.fail("create campaign", err)
	}
	if c, err = s.cfg.Store.GetCampaign(ctx, c.ID); err != nil {
		return nil, s.fail("create campaign", err)
	}
	return &createCampaignOutput{Status: http.StatusCreated, Body: CampaignOf(c)}, nil
}

func (s *server) getCampaign(ctx context.Context, in *CampaignIDParam) (*campaignOutput, error) {
	c, err := s.cfg.Store.GetCampaign(ctx, in.ID)
	if err != nil {
		return nil, s.fail("get campaign", err)
	}
	return &campaignOutput{Body: CampaignOf(c)}, nil
}

func (s *server) putCampaign(ctx context.Context, in *putCampaignInput) (*campaignOutput, error) {
	old, err := s.cfg.Store.GetCampaign(ctx, in.ID)
	if err != nil {
		return nil, s.fail("put campaign", err)
	}
	if old.State == records.CampaignRunning {
		return nil, huma.Error409Conflict(fmt.Sprintf("campaign %s is running: pause it before changing its settings", in.ID))
	}
	c, err := CampaignFrom(in.ID, in.Body)
	if err != nil {
		return nil, s.settingsProblem("put campaign", err)
	}
	if err := CheckCampaignRefs(ctx, s.cfg.Store, c); err != nil {
		return nil, s.settingsProblem("put campaign", err)
	}
	c.State, c.CreatedAt = old.State, old.CreatedAt
	if err := s.cfg.Store.UpdateCampaign(ctx, c); err != nil {
		return nil, s.fail("put campaign", err)
	}
	return s.getCampaign(ctx, &in.CampaignIDParam)
}

func (s *server) deleteCampaign(ctx context.Context, in *CampaignIDParam) (*struct{}, error) {
	if err := s.cfg.Store.DeleteCampaign(ctx, in.ID); err != nil {
		return nil, s.fail("delete campaign", err)
	}
	return nil, nil
}

// nudge asks a running campaign to look again (best effort: the campaign
// looks on its own at its next pacing step anyway).
func (s *server) nudge(ctx context.Context, ids ...string) {
	if s.cfg.Campaigns == nil {
		return
	}
	for _, id := range ids {
		if err := s.cfg.Campaigns.Nudge(ctx, id); err != nil {
			s.log.Warn("nudge campaign", "campaign", id, "error", err)
		}
	}
}

// running lists the IDs of the running campaigns (all when only is "",
// else only that one if it runs).
func (s *server) running(ctx context.Context, only string) []string {
	cs, err := s.cfg.Store.ListCampaigns(ctx)
	if err != nil {
		s.log.Warn("list campaigns to nudge", "error", err)
		return nil
	}
	var ids []string
	for _, c := range cs {
		if c.State == records.CampaignRunning && (only == "" || c.ID == only) {
			ids = append(ids, c.ID)
		}
	}
	return ids
}
