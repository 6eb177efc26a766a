package platform

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/activities/records"
)

// fakeCampaignFigures answers fixed campaigns, counts and tallies (or err)
// and counts the list reads.
type fakeCampaignFigures struct {
	campaigns []records.Campaign
	counts    map[string]map[string]int
	skipped   map[string]map[string]int
	tallies   map[string]records.CampaignTally
	since     time.Time
	err       error
	reads     atomic.Int64
}

func (f *fakeCampaignFigures) ListCampaigns(context.Context) ([]records.Campaign, error) {
	f.reads.Add(1)
	return f.campaigns, f.err
}

func (f *fakeCampaignFigures) ContactCounts(_ context.Context, id string) (map[string]int, map[string]int, error) {
	return f.counts[id], f.skipped[id], nil
}

func (f *fakeCampaignFigures) CampaignTally(_ context.Context, id string, since time.Time) (records.CampaignTally, error) {
	f.since = since
	return f.tallies[id], nil
}

// fakeLive answers a running campaign's picture; asked counts the reads.
type fakeLive struct {
	live  map[string]*records.CampaignLive
	asked []string
}

func (f *fakeLive) Live(_ context.Context, id string) (*records.CampaignLive, error) {
	f.asked = append(f.asked, id)
	if l, ok := f.live[id]; ok {
		return l, nil
	}
	return nil, errors.New("query timed out")
}

// The collector exports every campaign's contacts and 30-day attempts,
// and running campaigns' live figures; it reads at most once per cache
// period and says when the store could not be read.
func TestCampaignCollector(t *testing.T) {
	f := &fakeCampaignFigures{
		campaigns: []records.Campaign{
			{ID: "spring", Mode: records.PacePredictive, State: records.CampaignRunning},
			{ID: "old", Mode: records.PaceAgentless, State: records.CampaignCompleted},
			{ID: "stuck", Mode: records.PaceProgressive, State: records.CampaignRunning},
		},
		counts:  map[string]map[string]int{"spring": {"pending": 80, "dialing": 3, "done": 15, "skipped": 2}, "old": {"done": 10}},
		skipped: map[string]map[string]int{"spring": {"dnc": 2}},
		tallies: map[string]records.CampaignTally{"spring": {Dials: 40, Human: 20, Machine: 5, Busy: 5, NoAnswer: 8, Failed: 2, Abandoned: 1}},
	}
	live := &fakeLive{live: map[string]*records.CampaignLive{"spring": {Lines: 6, Ratio: 1.5, AgentsSignedIn: 4, AgentsAvailable: 2, AgentsBusy: 2, Occupancy: 0.75}}}
	c := NewCampaignCollector(f, live)
	now := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	got := scrape(t, c)
	want := []string{
		`voxflow_campaigns_up 1`,
		`voxflow_campaign_running{campaign="spring"} 1`, `voxflow_campaign_running{campaign="old"} 0`,
		`voxflow_campaign_contacts{campaign="spring",state="pending"} 80`, `voxflow_campaign_contacts{campaign="spring",state="dialing"} 3`,
		`voxflow_campaign_contacts{campaign="spring",state="done"} 15`, `voxflow_campaign_contacts{campaign="spring",state="skipped"} 2`,
		`voxflow_campaign_contacts{campaign="old",state="done"} 10`, `voxflow_campaign_contacts{campaign="old",state="pending"} 0`,
		`voxflow_campaign_contacts_skipped{campaign="spring",reason="dnc"} 2`,
		`voxflow_campaign_dials_30d{campaign="spring"} 40`,
		`voxflow_campaign_attempts_30d{campaign="spring",outcome="answered_human"} 20`,
		`voxflow_campaign_attempts_30d{campaign="spring",outcome="answered_machine"} 5`,
		`voxflow_campaign_attempts_30d{campaign="spring",outcome="abandoned"} 1`,
		`voxflow_campaign_attempts_30d{campaign="old",outcome="busy"} 0`,
		`voxflow_campaign_abandon_rate_30d{campaign="spring"} 0.05`, `voxflow_campaign_abandon_rate_30d{campaign="old"} 0`,
		`voxflow_campaign_lines{campaign="spring"} 6`,
		`voxflow_campaign_agents{campaign="spring",state="signed_in"} 4`, `voxflow_campaign_agents{campaign="spring",state="available"} 2`,
		`voxflow_campaign_agents{campaign="spring",state="busy"} 2`,
		`voxflow_campaign_occupancy{campaign="spring"} 0.75`, `voxflow_campaign_pacing_ratio{campaign="spring"} 1.5`,
	}
	for _, l := range want {
		if !got[l] {
			t.Errorf("scrape lacks %s", l)
		}
	}
	// 1 up; per campaign: running, 4 states, dials, 6 outcomes, abandon
	// rate (13); spring's skipped reason and 6 live series; none for
	// stuck, whose workflow did not answer, nor for old, not running.
	if len(got) != 1+3*13+1+6 {
		t.Errorf("%d series, want 47: %v", len(got), got)
	}
	if want := now.Add(-30 * 24 * time.Hour); !f.since.Equal(want) {
		t.Errorf("tally since %v, want %v", f.since, want)
	}
	if len(live.asked) != 2 || live.asked[0] != "spring" || live.asked[1] != "stuck" {
		t.Errorf("live asked of %v, want the running ones", live.asked)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}
	if n := f.reads.Load(); n != 1 {
		t.Errorf("%d store reads within the cache period, want 1", n)
	}
	now = now.Add(CampaignMetricsCache)
	f.err = errors.New("store down")
	got = scrape(t, c)
	if len(got) != 1 || !got["voxflow_campaigns_up 0"] || f.reads.Load() != 2 {
		t.Errorf("store down: %v after %d reads", got, f.reads.Load())
	}
}
