package engine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows/engine"
)

// campaignCalls records what campaign calls tell their campaign.
type campaignCalls struct {
	mu     sync.Mutex
	events []activities.CampaignCallEvent
}

func (cc *campaignCalls) stages() []string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out []string
	for _, ev := range cc.events {
		out = append(out, ev.Stage)
	}
	return out
}

func (cc *campaignCalls) last() activities.CampaignCallEvent {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.events[len(cc.events)-1]
}

// campaignHarness answers the dial with answeredBy and records the
// campaign's signals; hangups' prompts are kept in said.
func campaignHarness(t *testing.T, answeredBy string, said *[]string) (*harness, *campaignCalls) {
	h := newHarness(t)
	h.env.SetStartTime(campaignStart)
	cc := &campaignCalls{}
	h.env.OnSignalExternalWorkflow(mock.Anything, activities.CampaignWorkflowID("spring"), "", activities.SignalCampaignCall, mock.Anything).
		Return(func(_, _, _, _ string, arg any) error {
			cc.mu.Lock()
			defer cc.mu.Unlock()
			cc.events = append(cc.events, arg.(activities.CampaignCallEvent))
			return nil
		})
	h.env.OnActivity(activities.ActOriginate, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.OriginateInput) (activities.OriginateResult, error) {
			if !in.DetectMachine {
				t.Error("a campaign's dial did not ask who answered")
			}
			// The greeting ended half a second before the result came.
			return activities.OriginateResult{Outcome: activities.OriginateAnswered, AnsweredBy: answeredBy,
				AnsweredAt: campaignStart.Add(-2 * time.Second), GreetingEndedAt: campaignStart.Add(-500 * time.Millisecond)}, nil
		})
	h.env.OnActivity(activities.ActHangup, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.HangupInput) error {
			for _, p := range in.Prompts {
				*said = append(*said, p.Text)
			}
			return nil
		})
	return h, cc
}

// campaignStart is the workflow clock's start in campaign tests.
var campaignStart = time.Date(2026, 11, 23, 15, 0, 5, 0, time.UTC)

func campaignInput(machine string) engine.CallInput {
	return engine.CallInput{
		Flow:     activities.FlowSource{Name: "routed", Version: 1, Source: routedFlow},
		Outbound: &engine.Outbound{To: "+15550100", MediaQueue: "media-test"},
		Campaign: &activities.CampaignDial{
			CampaignCall: records.CampaignCall{Campaign: "spring", Contact: 7, Attempt: 2, Mode: records.PacePredictive},
			Machine:      machine, MachineText: "Hi, this is Acme. Please call us back.",
			AbandonAfter: 2 * time.Second, AbandonText: "This is Acme calling. We will call you back. To opt out, press 9.",
		},
	}
}

// A live answer no agent takes within 2 s of the greeting's end hears the
// campaign's message and ends as abandoned, without the flow's timeout path.
func TestCampaignLiveAnswerAbandoned(t *testing.T) {
	var said []string
	h, cc := campaignHarness(t, "human", &said)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	rec := h.runInput(campaignInput(records.MachineHangUp))
	if rec.Outcome != records.AttemptAbandoned || rec.Campaign == nil || !rec.Campaign.Abandoned || rec.Campaign.Attempt != 2 {
		t.Fatalf("outcome %s, tag %+v", rec.Outcome, rec.Campaign)
	}
	if len(said) != 1 || said[0] != campaignInput("").Campaign.AbandonText {
		t.Errorf("said %q, want the abandon message", said)
	}
	// 2 s from the greeting's end, which was half a second before.
	if w := rec.Queues[0].Wait; w != 1500*time.Millisecond {
		t.Errorf("waited %v for an agent, want 1.5 s", w)
	}
	if got := cc.stages(); len(got) != 2 || got[0] != "answered" || got[1] != "ended" {
		t.Fatalf("stages %q", got)
	}
	if ev := cc.last(); ev.Outcome != records.AttemptAbandoned || !ev.Abandoned || ev.Contact != 7 {
		t.Errorf("ended event %+v", ev)
	}
}

// An agent offered in time takes the call: no abandon, connected reported.
func TestCampaignLiveAnswerConnected(t *testing.T) {
	var said []string
	h, cc := campaignHarness(t, "human", &said)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	h.offerAfter(500*time.Millisecond, "ann")
	rec := h.runInput(campaignInput(records.MachineHangUp))
	if rec.Campaign == nil || rec.Campaign.Abandoned || rec.Queues[0].Agent != "ann" {
		t.Fatalf("outcome %s tag %+v stays %+v", rec.Outcome, rec.Campaign, rec.Queues)
	}
	if got := cc.stages(); len(got) != 3 || got[1] != "connected" {
		t.Fatalf("stages %q", got)
	}
	if ev := cc.last(); ev.Outcome != records.AttemptHuman || ev.Agent != "ann" {
		t.Errorf("ended event %+v", ev)
	}
}

// A machine is hung up on, or left the campaign's message, per campaign;
// the flow does not run.
func TestCampaignMachine(t *testing.T) {
	for _, c := range []struct{ machine, want string }{
		{records.MachineHangUp, ""},
		{records.MachineMessage, "Hi, this is Acme. Please call us back."},
	} {
		t.Run(c.machine, func(t *testing.T) {
			var said []string
			h, cc := campaignHarness(t, "machine", &said)
			rec := h.runInput(campaignInput(c.machine))
			if rec.Outcome != records.AttemptMachine || len(rec.Path) != 0 {
				t.Fatalf("outcome %s path %s", rec.Outcome, path(rec))
			}
			if got := joinSaid(said); got != c.want {
				t.Errorf("said %q, want %q", got, c.want)
			}
			if ev := cc.last(); ev.Outcome != records.AttemptMachine {
				t.Errorf("ended event %+v", ev)
			}
		})
	}
}

func joinSaid(said []string) string {
	out := ""
	for _, s := range said {
		out += s
	}
	return out
}

// Unanswered dials map to the campaign's outcomes.
func TestCampaignUnanswered(t *testing.T) {
	for _, c := range []struct {
		res  activities.OriginateResult
		want string
	}{
		{activities.OriginateResult{Outcome: activities.OriginateBusy, SIPStatus: 486}, records.AttemptBusy},
		{activities.OriginateResult{Outcome: activities.OriginateNoAnswer}, records.AttemptNoAnswer},
		{activities.OriginateResult{Outcome: activities.OriginateFailed, SIPStatus: 404}, records.AttemptInvalid},
		{activities.OriginateResult{Outcome: activities.OriginateFailed, SIPStatus: 503}, records.AttemptFailed},
	} {
		t.Run(c.want, func(t *testing.T) {
			h := newHarness(t)
			cc := &campaignCalls{}
			h.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", activities.SignalCampaignCall, mock.Anything).
				Return(func(_, _, _, _ string, arg any) error {
					cc.events = append(cc.events, arg.(activities.CampaignCallEvent))
					return nil
				})
			h.env.OnActivity(activities.ActOriginate, mock.Anything, mock.Anything).Return(c.res, nil)
			rec := h.runInput(campaignInput(records.MachineHangUp))
			if rec.Campaign == nil || len(cc.events) != 1 || cc.last().Outcome != c.want {
				t.Fatalf("tag %+v events %+v", rec.Campaign, cc.events)
			}
		})
	}
}

// A preview dial is bridged to the agent who asked for it, not queued.
func TestCampaignPreviewBridgesTheAgent(t *testing.T) {
	var said []string
	h, cc := campaignHarness(t, "human", &said)
	var to string
	h.env.OnActivity(activities.ActTransfer, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.TransferInput) (activities.TransferResult, error) {
			to = in.To
			return activities.TransferResult{Outcome: "completed", Talk: 42 * time.Second}, nil
		})
	in := campaignInput(records.MachineHangUp)
	in.Campaign.Agent, in.Campaign.AbandonAfter, in.Campaign.Mode = "ann", 0, records.PacePreview
	rec := h.runInput(in)
	if to != "agent:ann" || len(h.joins) != 0 {
		t.Fatalf("bridged to %q, joins %d", to, len(h.joins))
	}
	if rec.Queues[0].Agent != "ann" || rec.Queues[0].Talk != 42*time.Second || path(rec) != "q>bye" {
		t.Errorf("stays %+v path %s", rec.Queues, path(rec))
	}
	if ev := cc.last(); ev.Outcome != records.AttemptHuman || ev.Agent != "ann" || ev.Talk != 42*time.Second {
		t.Errorf("ended event %+v", ev)
	}
}

// An agent who answers after the 2 s still talks to the person, and the
// dial counts as abandoned (nobody was connected within the limit).
func TestCampaignLateConnectCounts(t *testing.T) {
	var said []string
	h, cc := campaignHarness(t, "human", &said)
	h.staffed(activities.QueueSettings{AnnounceEvery: 20 * time.Second, MaxWait: time.Hour})
	h.offerAfter(time.Second, "ann")
	// The agent's phone answers 2.5 s after the offer: 4 s after the
	// greeting's end (half a second before the start).
	h.env.OnActivity(activities.ActTransfer, mock.Anything, mock.Anything).After(2500*time.Millisecond).Return(
		activities.TransferResult{Outcome: "completed", Talk: time.Minute}, nil)
	rec := h.runInput(campaignInput(records.MachineHangUp))
	if rec.Queues[0].Agent != "ann" || joinSaid(said) != "Thanks." {
		t.Fatalf("stays %+v said %q", rec.Queues, said)
	}
	if ev := cc.last(); ev.Outcome != records.AttemptAbandoned || ev.Agent != "ann" || ev.Connect != 4*time.Second {
		t.Errorf("ended event %+v", ev)
	}
}

// A campaign's dial lost with its media worker is not called back: it
// fails, and the campaign's retry rules decide.
func TestCampaignMediaLossFails(t *testing.T) {
	var said []string
	h, cc := campaignHarness(t, "human", &said)
	in := campaignInput(records.MachineHangUp)
	in.Flow = activities.FlowSource{Name: "menu-test", Version: 1, Source: menuFlow}
	h.env.OnActivity(activities.ActCollect, mock.Anything, mock.Anything).Return(activities.CollectResult{},
		temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, nil))
	rec := h.runInput(in)
	if rec.Outcome != records.OutcomeMediaLost {
		t.Fatalf("outcome %s path %s", rec.Outcome, path(rec))
	}
	if ev := cc.last(); ev.Outcome != records.AttemptFailed {
		t.Errorf("ended event %+v", ev)
	}
}
