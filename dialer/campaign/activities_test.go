package campaign_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/dialer/campaign"
	"github.com/voxflow/voxflow/store"
)

// startedCalls stands in for Temporal: it remembers the calls started
// and dials a call ID once, as REJECT_DUPLICATE does.
type startedCalls struct {
	mu      sync.Mutex
	started map[string]int
	closed  map[string]bool
	cdrs    map[string]records.CDR
}

func (c *startedCalls) Start(ctx context.Context, d campaign.Dial) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.started[d.CallID]++
	return nil
}

func (c *startedCalls) Status(ctx context.Context, id string) (campaign.CallStatus, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.started[id] == 0:
		return campaign.CallUnknown, nil
	case c.closed[id]:
		return campaign.CallClosed, nil
	}
	return campaign.CallRunning, nil
}

func (c *startedCalls) Record(ctx context.Context, id string) (records.CDR, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, ok := c.cdrs[id]
	return rec, ok, nil
}

// activityRig is the campaign's activities over a real SQLite store, at
// a fixed clock (Tuesday 2026-12-08 15:00 UTC: 10:00 in New York).
type activityRig struct {
	a     *campaign.Activities
	st    *store.Store
	calls *startedCalls
	cp    records.Campaign
	now   time.Time
}

func newActivityRig(t *testing.T, contacts ...records.Contact) *activityRig {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &activityRig{st: st, now: time.Date(2026, 12, 8, 15, 0, 0, 0, time.UTC),
		calls: &startedCalls{started: map[string]int{}, closed: map[string]bool{}, cdrs: map[string]records.CDR{}},
		cp: records.Campaign{ID: "spring", Name: "Spring", Flow: "reminder", Mode: records.PaceAgentless, Region: "US",
			Window: records.Window{Start: "08:00", End: "21:00"}, MaxAttempts: 3, Concurrency: 2, AbandonCap: 0.03,
			Machine: records.MachineHangUp, State: records.CampaignRunning}}
	if err := st.CreateCampaign(ctx, r.cp); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddContacts(ctx, "spring", contacts); err != nil {
		t.Fatal(err)
	}
	r.a = &campaign.Activities{Store: st, Calls: r.calls, Now: func() time.Time { return r.now }}
	return r
}

func (r *activityRig) claimAll(t *testing.T) []records.Contact {
	t.Helper()
	cs, err := r.a.Claim(context.Background(), campaign.ClaimInput{Campaign: "spring", ClaimID: "run/1", N: 10})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// Right before each dial: a number on a do-not-call list is skipped for
// good with its reason, one outside its local window waits for it, and
// the rest are dialled once however often Dial is retried.
func TestDialScreensEachContact(t *testing.T) {
	r := newActivityRig(t,
		records.Contact{Number: "+12125550101", Timezone: "America/New_York"},
		records.Contact{Number: "+12125550102"},
		records.Contact{Number: "+12125550103", Timezone: "Asia/Tokyo"}, // 00:00 there
	)
	ctx := context.Background()
	if _, err := r.st.AddDNC(ctx, []records.DNCEntry{{Number: "+12125550102", Reason: "asked"}}); err != nil {
		t.Fatal(err)
	}
	cs := r.claimAll(t)
	if len(cs) != 3 {
		t.Fatalf("claimed %d", len(cs))
	}
	var results []campaign.DialResult
	for _, k := range cs {
		res, err := r.a.Dial(ctx, campaign.DialInput{Campaign: r.cp, Contact: k.ID})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	if !results[0].Started || results[0].CallID != activities.CampaignCallID("spring", cs[0].ID, 1) {
		t.Errorf("in-window contact: %+v", results[0])
	}
	if results[1].Started || results[1].Skipped != "do not call (global list)" {
		t.Errorf("DNC contact: %+v", results[1])
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if want := time.Date(2026, 12, 9, 8, 0, 0, 0, tokyo); results[2].Started || !results[2].Deferred.Equal(want) {
		t.Errorf("out-of-window contact: %+v, want deferred to %v", results[2], want)
	}
	// A retried Dial of the first contact (its activity timed out) finds
	// the contact still claimed and starts the same call ID: one dial.
	if _, err := r.a.Dial(ctx, campaign.DialInput{Campaign: r.cp, Contact: cs[0].ID}); err != nil {
		t.Fatal(err)
	}
	if n := len(r.calls.started); n != 1 {
		t.Errorf("%d distinct calls started, want 1: %v", n, r.calls.started)
	}
	k, _ := r.st.GetContact(ctx, "spring", cs[1].ID)
	if k.State != records.ContactSkipped || k.SkipReason != "do not call (global list)" {
		t.Errorf("DNC contact after: %+v", k)
	}
	k, _ = r.st.GetContact(ctx, "spring", cs[2].ID)
	if k.State != records.ContactPending || !k.NextAt.Equal(results[2].Deferred) || k.Attempts != 0 {
		t.Errorf("deferred contact after: %+v", k)
	}
}

// Finish records the outcome and schedules the retry its rule says.
func TestFinishSchedulesRetry(t *testing.T) {
	r := newActivityRig(t, records.Contact{Number: "+12125550101"})
	ctx := context.Background()
	k := r.claimAll(t)[0]
	res, err := r.a.Dial(ctx, campaign.DialInput{Campaign: r.cp, Contact: k.ID})
	if err != nil || !res.Started {
		t.Fatalf("dial: %+v %v", res, err)
	}
	ev := activities.CampaignCallEvent{CallID: res.CallID, Contact: k.ID, Attempt: 1, Stage: activities.CampaignCallEnded,
		Outcome: records.AttemptBusy}
	next, err := r.a.Finish(ctx, campaign.FinishInput{Campaign: r.cp, Event: ev})
	if err != nil {
		t.Fatal(err)
	}
	if next.State != records.ContactPending || !next.NextAt.Equal(r.now.Add(10*time.Minute)) {
		t.Errorf("after busy: %+v", next)
	}
	att, err := r.st.GetAttempt(ctx, "spring", k.ID, 1)
	if err != nil || att.Outcome != records.AttemptBusy {
		t.Errorf("attempt %+v %v", att, err)
	}
	// A retried Finish changes nothing more.
	if again, err := r.a.Finish(ctx, campaign.FinishInput{Campaign: r.cp, Event: ev}); err != nil || !again.NextAt.Equal(next.NextAt) {
		t.Errorf("second finish: %+v %v", again, err)
	}
	tally, err := r.st.CampaignTally(ctx, "spring", r.now.Add(-time.Hour))
	if err != nil || tally.Busy != 1 || tally.Dials != 1 {
		t.Errorf("tally %+v %v", tally, err)
	}
}

// CheckLines ends a line whose call closed unheard from its record, and
// releases a claimed contact whose call never started.
func TestCheckLines(t *testing.T) {
	r := newActivityRig(t, records.Contact{Number: "+12125550101"}, records.Contact{Number: "+12125550102"})
	ctx := context.Background()
	cs := r.claimAll(t)
	res, _ := r.a.Dial(ctx, campaign.DialInput{Campaign: r.cp, Contact: cs[0].ID})
	r.calls.closed[res.CallID] = true
	r.calls.cdrs[res.CallID] = records.CDR{CallID: res.CallID, Outcome: activities.OriginateNoAnswer}
	never := activities.CampaignCallID("spring", cs[1].ID, 1)
	evs, err := r.a.CheckLines(ctx, campaign.CheckInput{Campaign: "spring", Lines: []campaign.Line{
		{CallID: res.CallID, Contact: cs[0].ID, Attempt: 1}, {CallID: never, Contact: cs[1].ID, Attempt: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Outcome != records.AttemptNoAnswer || evs[1].Stage != "released" {
		t.Fatalf("events %+v", evs)
	}
	k, _ := r.st.GetContact(ctx, "spring", cs[1].ID)
	if k.State != records.ContactPending || k.Attempts != 0 {
		t.Errorf("released contact %+v", k)
	}
}

// A person an agent took too late counts as abandoned but is not called
// again: they talked to the agent.
func TestFinishLateConnectIsDone(t *testing.T) {
	r := newActivityRig(t, records.Contact{Number: "+12125550101"})
	ctx := context.Background()
	k := r.claimAll(t)[0]
	res, err := r.a.Dial(ctx, campaign.DialInput{Campaign: r.cp, Contact: k.ID})
	if err != nil || !res.Started {
		t.Fatalf("dial: %+v %v", res, err)
	}
	next, err := r.a.Finish(ctx, campaign.FinishInput{Campaign: r.cp, Event: activities.CampaignCallEvent{CallID: res.CallID,
		Contact: k.ID, Attempt: 1, Stage: activities.CampaignCallEnded, Outcome: records.AttemptAbandoned, Agent: "ann",
		Connect: 3 * time.Second, Abandoned: true}})
	if err != nil || next.State != records.ContactDone {
		t.Fatalf("contact %+v %v", next, err)
	}
	tally, _ := r.st.CampaignTally(ctx, "spring", r.now.Add(-time.Hour))
	if tally.Abandoned != 1 || tally.Human != 1 {
		t.Errorf("tally %+v", tally)
	}
}
