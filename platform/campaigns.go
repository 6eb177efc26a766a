package platform

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/campaign"
	"github.com/voxflow/voxflow/store"
)

// Campaigns starts and steers campaign workflows for the API and the CLI.
// The store keeps each campaign's state for lists; the workflow owns the
// dialling and reads the state it was told through signals.
type Campaigns struct {
	Client client.Client
	Store  *store.Store
}

// ErrCampaignState is a request the campaign's state does not allow.
var ErrCampaignState = errors.New("not allowed in the campaign's state")

// Start starts a campaign's workflow, or resumes a paused one. A
// completed campaign starts again (contacts were added since); one with
// nothing to dial completes again at once.
func (c Campaigns) Start(ctx context.Context, id string) error {
	if _, err := c.Store.GetCampaign(ctx, id); err != nil {
		return fmt.Errorf("start campaign %q: %w", id, err)
	}
	if err := c.Store.SetCampaignState(ctx, id, records.CampaignRunning); err != nil {
		return fmt.Errorf("start campaign %q: %w", id, err)
	}
	_, err := c.Client.SignalWithStartWorkflow(ctx, activities.CampaignWorkflowID(id), activities.SignalCampaignControl,
		activities.CampaignControl{Action: activities.CampaignResume},
		client.StartWorkflowOptions{ID: activities.CampaignWorkflowID(id), TaskQueue: activities.EngineQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE},
		activities.CampaignWorkflowName, campaign.Input{Campaign: id})
	if err != nil {
		return fmt.Errorf("start campaign %q: %w", id, err)
	}
	return nil
}

// Pause stops new dials; calls in progress finish.
func (c Campaigns) Pause(ctx context.Context, id string) error {
	if err := c.control(ctx, id, activities.CampaignControl{Action: activities.CampaignPause}); err != nil {
		return err
	}
	return c.Store.SetCampaignState(ctx, id, records.CampaignPaused)
}

// Resume dials again after a pause.
func (c Campaigns) Resume(ctx context.Context, id string) error {
	return c.Start(ctx, id)
}

// Stop ends the campaign: no new dials; its workflow ends once the calls
// in progress have.
func (c Campaigns) Stop(ctx context.Context, id string) error {
	err := c.control(ctx, id, activities.CampaignControl{Action: activities.CampaignStop})
	if errors.Is(err, ErrCampaignState) { // not running: stop it in the store only
		return c.Store.SetCampaignState(ctx, id, records.CampaignStopped)
	}
	return err
}

// Nudge asks a running campaign to look again now (contacts were added,
// an agent signed in); a campaign that is not running is left alone.
func (c Campaigns) Nudge(ctx context.Context, id string) error {
	err := c.control(ctx, id, activities.CampaignControl{Action: activities.CampaignNudge})
	if errors.Is(err, ErrCampaignState) {
		return nil
	}
	return err
}

// PreviewDial dials a preview contact an agent claimed.
func (c Campaigns) PreviewDial(ctx context.Context, id string, contact int64, agent string) error {
	return c.control(ctx, id, activities.CampaignControl{Action: activities.CampaignPreview, Contact: contact, Agent: agent})
}

// control signals the campaign's running workflow.
func (c Campaigns) control(ctx context.Context, id string, ctl activities.CampaignControl) error {
	err := c.Client.SignalWorkflow(ctx, activities.CampaignWorkflowID(id), "", activities.SignalCampaignControl, ctl)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("campaign %q is not running: %w", id, ErrCampaignState)
	}
	if err != nil {
		return fmt.Errorf("%s campaign %q: %w", ctl.Action, id, err)
	}
	return nil
}

// Live is the running campaign's picture, or nil when it is not running.
func (c Campaigns) Live(ctx context.Context, id string) (*records.CampaignLive, error) {
	v, err := c.Client.QueryWorkflow(ctx, activities.CampaignWorkflowID(id), "", activities.QueryCampaignLive)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("campaign %q: live figures: %w", id, err)
	}
	var live records.CampaignLive
	if err := v.Get(&live); err != nil {
		return nil, fmt.Errorf("campaign %q: live figures: %w", id, err)
	}
	return &live, nil
}
