package platform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/campaign"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// AbandonAfter is the US limit: a live answer must reach an agent within
// 2 s of the end of the greeting (47 CFR 64.1200(a)(7)).
const AbandonAfter = 2 * time.Second

// CampaignActivities are the campaign workflow's activities over a
// Temporal client and the store; vars are given to every campaign call
// under the contact's own columns (voxflow dev: its demo CRM's address).
func CampaignActivities(c client.Client, s *store.Store, vars map[string]any) *campaign.Activities {
	return &campaign.Activities{Store: s, Agents: QueueAgents(Router{Client: c}, s),
		Calls: campaignCalls{client: c, store: s, vars: vars}}
}

// QueueAgents counts a queue's agents on the router's board, with the
// queue's wrap-up time from the store.
func QueueAgents(r Router, s *store.Store) campaign.Agents {
	return func(ctx context.Context, queue string) (campaign.AgentCounts, error) {
		q, err := s.Queue(ctx, queue)
		if err != nil {
			return campaign.AgentCounts{}, fmt.Errorf("queue %q: %w", queue, err)
		}
		b, err := r.Board(ctx)
		if err != nil {
			return campaign.AgentCounts{}, err
		}
		n := campaign.AgentCounts{WrapUp: q.WrapUp}
		for _, a := range b.Agents {
			if !slices.Contains(a.Queues, queue) {
				continue
			}
			switch routing.State(a.State) {
			case routing.Offline:
				continue
			case routing.Available:
				n.Available++
			case routing.Reserved, routing.OnCall:
				n.Busy++
			case routing.WrapUp:
				n.Busy++
				n.Wrapping++
				if end := a.Since.Add(q.WrapUp); n.FreeAt.IsZero() || end.Before(n.FreeAt) {
					n.FreeAt = end // the router's wrap-up began at Since
				}
			}
			n.SignedIn++
		}
		return n, nil
	}
}

// campaignCalls starts campaign dials as call workflows.
type campaignCalls struct {
	client client.Client
	store  *store.Store
	vars   map[string]any
}

// Start starts the dial's call once: the workflow ID comes from the
// attempt and a closed workflow's ID is never reused, so a second start
// (a retried activity, a restarted campaign) dials nobody.
func (c campaignCalls) Start(ctx context.Context, d campaign.Dial) error {
	in := campaignCallInput(d, c.vars)
	_, err := c.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: activities.WorkflowID(d.CallID), TaskQueue: activities.EngineQueue, WorkflowExecutionTimeout: CallTimeout,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		EnableEagerStart:         true,
	}, activities.CallWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("start call %s: %w", d.CallID, err)
	}
	return nil
}

// campaignCallInput is the engine's input for a campaign's dial.
func campaignCallInput(d campaign.Dial, base map[string]any) engine.CallInput {
	cp, k := d.Campaign, d.Contact
	vars := make(map[string]any, len(base)+len(k.Vars)+2)
	for name, v := range base {
		vars[name] = v
	}
	for name, v := range k.Vars {
		vars[name] = v
	}
	vars["campaign"], vars["contact_id"] = cp.ID, k.ID
	dial := &activities.CampaignDial{
		CampaignCall: records.CampaignCall{Campaign: cp.ID, Contact: k.ID, Attempt: d.Attempt, Mode: cp.Mode},
		Machine:      cp.Machine, MachineText: cp.MachineText, AbandonText: cp.AbandonText, Agent: d.Agent,
	}
	if cp.Mode == records.PacePredictive || cp.Mode == records.PaceProgressive {
		dial.AbandonAfter = AbandonAfter
	}
	return engine.CallInput{
		Call: flows.CallInfo{ID: d.CallID, From: cp.CallerID, To: k.Number, Channel: "sip", StartedAt: time.Now().UTC()},
		Flow: activities.FlowSource{Name: cp.Flow}, Vars: vars,
		Outbound: &engine.Outbound{To: k.Number, From: cp.CallerID, RingTimeout: cp.RingTimeout},
		Campaign: dial,
	}
}

// Status tells whether a call's workflow runs, ended, or never started.
func (c campaignCalls) Status(ctx context.Context, callID string) (campaign.CallStatus, error) {
	d, err := c.client.DescribeWorkflowExecution(ctx, activities.WorkflowID(callID), "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return campaign.CallUnknown, nil
	}
	if err != nil {
		return 0, err
	}
	if d.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return campaign.CallRunning, nil
	}
	return campaign.CallClosed, nil
}

// Record is a call's CDR, if it has one.
func (c campaignCalls) Record(ctx context.Context, callID string) (records.CDR, bool, error) {
	rec, err := c.store.CDR(ctx, callID)
	if errors.Is(err, store.ErrNotFound) {
		return records.CDR{}, false, nil
	}
	return rec, err == nil, err
}
