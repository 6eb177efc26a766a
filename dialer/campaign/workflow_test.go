package campaign_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/campaign"
)

// fakeDialer plays the campaign's activities over an in-memory list: each
// dial's call "rings" for ring, then ends with outcomes[number] by
// signalling the workflow, as a CallWorkflow does.
type fakeDialer struct {
	t        *testing.T
	env      *testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	cp       records.Campaign
	agents   campaign.AgentCounts
	contacts []records.Contact
	dialled  map[string]int // call ID -> starts
	outcomes map[string]string
	claims   map[string][]int64
	finished []activities.CampaignCallEvent
	states   []string
	ring     time.Duration
	// snapshots counts Snapshot calls; failSnapshots fails those numbers.
	snapshots     int
	failSnapshots map[int]bool
}

func newFakeDialer(t *testing.T, mode string, numbers ...string) *fakeDialer {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	f := &fakeDialer{t: t, env: suite.NewTestWorkflowEnvironment(), dialled: map[string]int{}, outcomes: map[string]string{},
		claims: map[string][]int64{}, ring: 5 * time.Second,
		cp: records.Campaign{ID: "spring", Flow: "sales", Mode: mode, Queue: "sales", MaxAttempts: 3, AbandonCap: 0.03,
			Concurrency: 2, MaxRatio: 3, State: records.CampaignRunning}}
	for i, n := range numbers {
		f.contacts = append(f.contacts, records.Contact{Campaign: "spring", ID: int64(i + 1), Number: n, State: records.ContactPending})
	}
	f.env.RegisterWorkflowWithOptions(campaign.Workflow, workflow.RegisterOptions{Name: activities.CampaignWorkflowName})
	reg := func(fn any, name string) { f.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name}) }
	reg(f.snapshot, activities.ActCampaignSnapshot)
	reg(f.claim, activities.ActCampaignClaim)
	reg(f.dial, activities.ActCampaignDial)
	reg(f.finish, activities.ActCampaignFinish)
	reg(f.check, activities.ActCampaignCheck)
	reg(f.setState, activities.ActCampaignState)
	return f
}

func (f *fakeDialer) snapshot(ctx context.Context, in campaign.SnapshotInput) (campaign.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snapshots++; f.failSnapshots[f.snapshots] {
		return campaign.Snapshot{}, temporal.NewNonRetryableApplicationError("store is down", "StoreDown", nil)
	}
	s := campaign.Snapshot{Campaign: f.cp, Agents: f.agents, At: f.env.Now()}
	for _, k := range f.contacts {
		if k.State == records.ContactPending && (!s.Pending || k.NextAt.Before(s.NextDue)) {
			s.Pending, s.NextDue = true, k.NextAt
		}
		s.Claimed = s.Claimed || k.State == records.ContactDialing
	}
	s.Due = s.Pending && !s.NextDue.After(f.env.Now())
	return s, nil
}

func (f *fakeDialer) claim(ctx context.Context, in campaign.ClaimInput) ([]records.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ids, ok := f.claims[in.ClaimID]; ok {
		f.t.Errorf("claim %s made twice", in.ClaimID)
		_ = ids
	}
	var out []records.Contact
	for i := range f.contacts {
		k := &f.contacts[i]
		if len(out) < in.N && k.State == records.ContactPending && !k.NextAt.After(f.env.Now()) {
			k.State, k.Attempts = records.ContactDialing, k.Attempts+1
			out = append(out, *k)
			f.claims[in.ClaimID] = append(f.claims[in.ClaimID], k.ID)
		}
	}
	return out, nil
}

func (f *fakeDialer) dial(ctx context.Context, in campaign.DialInput) (campaign.DialResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.contacts[in.Contact-1]
	id := activities.CampaignCallID("spring", k.ID, k.Attempts)
	f.dialled[id]++
	outcome := f.outcomes[k.Number]
	if outcome == "" {
		outcome = records.AttemptHuman
	}
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(activities.SignalCampaignCall, activities.CampaignCallEvent{CallID: id, Contact: k.ID,
			Attempt: k.Attempts, Stage: activities.CampaignCallEnded, Outcome: outcome, At: f.env.Now()})
	}, f.ring)
	return campaign.DialResult{CallID: id, Attempt: k.Attempts, Started: true}, nil
}

func (f *fakeDialer) finish(ctx context.Context, in campaign.FinishInput) (records.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.finished = append(f.finished, in.Event)
	k := &f.contacts[in.Event.Contact-1]
	k.State = records.ContactDone
	if in.Event.Outcome == records.AttemptBusy && k.Attempts < f.cp.MaxAttempts {
		k.State, k.NextAt = records.ContactPending, f.env.Now().Add(10*time.Minute)
	}
	return *k, nil
}

func (f *fakeDialer) check(ctx context.Context, in campaign.CheckInput) ([]activities.CampaignCallEvent, error) {
	return nil, nil
}

func (f *fakeDialer) setState(ctx context.Context, in campaign.StateInput) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.states = append(f.states, in.State)
	return nil
}

func (f *fakeDialer) run() {
	f.t.Helper()
	f.env.SetTestTimeout(time.Minute)
	f.env.ExecuteWorkflow(activities.CampaignWorkflowName, campaign.Input{Campaign: "spring"})
	if !f.env.IsWorkflowCompleted() {
		f.t.Fatal("campaign did not end")
	}
	if err := f.env.GetWorkflowError(); err != nil {
		f.t.Fatalf("campaign: %v", err)
	}
}

// An agentless campaign dials every contact once, two at a time, retries
// a busy number at its time, and completes.
func TestCampaignDialsEveryContactOnce(t *testing.T) {
	f := newFakeDialer(t, records.PaceAgentless, "+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105")
	f.outcomes["+14155550103"] = records.AttemptBusy
	f.run()
	for id, n := range f.dialled {
		if n != 1 {
			t.Errorf("call %s dialled %d times", id, n)
		}
	}
	if len(f.dialled) != 7 { // five contacts, the busy one three times (MaxAttempts 3: three call IDs)
		t.Errorf("%d dials, want 7: %v", len(f.dialled), f.dialled)
	}
	if f.dialled[activities.CampaignCallID("spring", 3, 2)] != 1 {
		t.Error("the busy contact was not tried again")
	}
	if got := f.states; len(got) != 1 || got[0] != records.CampaignCompleted {
		t.Errorf("states %q, want completed", got)
	}
}

// A predictive campaign with nobody signed in dials nobody, and says why.
func TestCampaignNoAgentsDialsNobody(t *testing.T) {
	f := newFakeDialer(t, records.PacePredictive, "+14155550101", "+14155550102")
	var live records.CampaignLive
	f.env.RegisterDelayedCallback(func() {
		v, err := f.env.QueryWorkflow(activities.QueryCampaignLive)
		if err != nil {
			t.Errorf("query: %v", err)
		} else if err := v.Get(&live); err != nil {
			t.Errorf("decode: %v", err)
		}
		f.env.SignalWorkflow(activities.SignalCampaignControl, activities.CampaignControl{Action: activities.CampaignStop})
	}, 10*time.Minute)
	f.run()
	if len(f.dialled) != 0 {
		t.Errorf("dialled %v with no agent signed in", f.dialled)
	}
	if live.Reason == "" || live.AgentsSignedIn != 0 {
		t.Errorf("live %+v: want a reason", live)
	}
	if got := f.states; len(got) != 1 || got[0] != records.CampaignStopped {
		t.Errorf("states %q, want stopped", got)
	}
}

// Progressive pacing keeps one line per available agent; a pause stops
// new dials while lines finish, and a resume goes on.
func TestCampaignProgressivePauseResume(t *testing.T) {
	var numbers []string
	for i := range 6 {
		numbers = append(numbers, fmt.Sprintf("+1415555020%d", i))
	}
	f := newFakeDialer(t, records.PaceProgressive, numbers...)
	f.agents = campaign.AgentCounts{SignedIn: 2, Available: 2}
	var atPause int
	f.env.RegisterDelayedCallback(func() {
		f.env.SignalWorkflow(activities.SignalCampaignControl, activities.CampaignControl{Action: activities.CampaignPause})
	}, 7*time.Second)
	f.env.RegisterDelayedCallback(func() {
		f.mu.Lock()
		atPause = len(f.dialled)
		f.mu.Unlock()
	}, 8*time.Second)
	f.env.RegisterDelayedCallback(func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.dialled) != atPause {
			t.Errorf("dialled %d while paused (had %d)", len(f.dialled), atPause)
		}
		f.env.SignalWorkflow(activities.SignalCampaignControl, activities.CampaignControl{Action: activities.CampaignResume})
	}, 30*time.Minute)
	f.run()
	if atPause == 0 || atPause >= 6 {
		t.Errorf("%d dials before the pause, want some but not all", atPause)
	}
	if len(f.dialled) != 6 || len(f.finished) != 6 {
		t.Errorf("dialled %d, finished %d: want 6", len(f.dialled), len(f.finished))
	}
}

// A snapshot that fails (the store is down past the activity's retries)
// skips a round; the campaign goes on and completes.
func TestCampaignOutlivesAFailedSnapshot(t *testing.T) {
	f := newFakeDialer(t, records.PaceAgentless, "+14155550101", "+14155550102", "+14155550103")
	f.failSnapshots = map[int]bool{2: true, 3: true}
	f.run()
	if len(f.dialled) != 3 || len(f.finished) != 3 {
		t.Errorf("dialled %d, finished %d: want 3", len(f.dialled), len(f.finished))
	}
	if got := f.states; len(got) != 1 || got[0] != records.CampaignCompleted {
		t.Errorf("states %q, want completed", got)
	}
}
