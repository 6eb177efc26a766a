package designerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// Campaign streams: GET /campaigns/{id}/events sends the stats at once and
// then every CampaignStatsEvery, to at most MaxCampaignStreams clients at
// once (each costs a few store queries and a workflow query a second).
const (
	CampaignStatsEvery = time.Second
	MaxCampaignStreams = 32
	// EventCampaignStats is the stream's event carrying a CampaignStats.
	EventCampaignStats = "stats"
	// campaignStatsTimeout bounds one reading of the figures.
	campaignStatsTimeout = 5 * time.Second
)

// Tally counts a campaign's attempts that ended in a span, with the rates
// the manager watches.
type Tally struct {
	Dials     int    `json:"dials" doc:"Attempts that ended"`
	Human     int    `json:"human" doc:"Live answers, abandoned ones included"`
	Machine   int    `json:"machine" doc:"Answering machines"`
	Busy      int    `json:"busy"`
	NoAnswer  int    `json:"no_answer"`
	Failed    int    `json:"failed" doc:"Failed dials and invalid numbers"`
	Abandoned int    `json:"abandoned" doc:"Live answers no agent took in time"`
	Talk      string `json:"talk" doc:"Talk time of the live answers agents took (Go duration)"`
	// Rates (0 to 1; 0 when there is nothing to divide by).
	AnswerRate  float64 `json:"answer_rate" doc:"Answers (human or machine) over dials"`
	MachineRate float64 `json:"machine_rate" doc:"Machine answers over answers"`
	AbandonRate float64 `json:"abandon_rate" doc:"Abandoned over live answers (the regulated figure)"`
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TallyOf is the API's view of a store tally.
func TallyOf(t records.CampaignTally) Tally {
	answers := t.Human + t.Machine
	return Tally{Dials: t.Dials, Human: t.Human, Machine: t.Machine, Busy: t.Busy, NoAnswer: t.NoAnswer, Failed: t.Failed,
		Abandoned: t.Abandoned, Talk: t.Talk.String(), AnswerRate: ratio(answers, t.Dials),
		MachineRate: ratio(t.Machine, answers), AbandonRate: t.AbandonRate()}
}

// CampaignStats is a campaign's progress and figures (records.CampaignStats
// with the campaign and tallies as the API writes them).
type CampaignStats struct {
	Campaign Campaign       `json:"campaign"`
	Contacts map[string]int `json:"contacts" doc:"Contacts by state: pending, dialing, done, skipped (zeros included)"`
	Skipped  map[string]int `json:"skipped" doc:"Skipped contacts by reason"`
	Today    Tally          `json:"today" doc:"Attempts ended since 00:00 UTC"`
	Last30d  Tally          `json:"last_30d" doc:"Attempts ended over the last 30 days"`
	// Live is the workflow's picture: pacing in force and why, lines in
	// flight, agents, occupancy.
	Live      *records.CampaignLive `json:"live,omitempty" doc:"Absent when the campaign has no workflow (not running or paused) or it did not answer: live_error says why"`
	LiveError string                `json:"live_error,omitempty"`
	At        time.Time             `json:"at"`
}

// LoadCampaignStats reads campaign id's figures at now: counts and tallies
// from the store, the live picture from cc (nil: none) for a running or
// paused campaign. A live picture that cannot be had is named in
// LiveError, not an error.
func LoadCampaignStats(ctx context.Context, st *store.Store, cc CampaignControl, id string, now time.Time) (CampaignStats, error) {
	c, err := st.GetCampaign(ctx, id)
	if err != nil {
		return CampaignStats{}, fmt.Errorf("campaign stats: %w", err)
	}
	counts, skipped, err := st.ContactCounts(ctx, id)
	if err != nil {
		return CampaignStats{}, fmt.Errorf("campaign %q stats: contacts: %w", id, err)
	}
	now = now.UTC()
	today, err := st.CampaignTally(ctx, id, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC))
	if err != nil {
		return CampaignStats{}, fmt.Errorf("campaign %q stats: today: %w", id, err)
	}
	month, err := st.CampaignTally(ctx, id, now.Add(-30*24*time.Hour))
	if err != nil {
		return CampaignStats{}, fmt.Errorf("campaign %q stats: 30 days: %w", id, err)
	}
	if skipped == nil {
		skipped = map[string]int{}
	}
	out := CampaignStats{Campaign: CampaignOf(c), Contacts: everyState(counts), Skipped: skipped,
		Today: TallyOf(today), Last30d: TallyOf(month), At: now}
	switch {
	case c.State != records.CampaignRunning && c.State != records.CampaignPaused:
	case cc == nil:
		out.LiveError = errNoCampaigns
	default:
		live, err := cc.Live(ctx, id)
		switch {
		case err != nil:
			out.LiveError = "the campaign's workflow did not answer: " + err.Error()
		case live == nil:
			out.LiveError = "the campaign's workflow is not running"
		default:
			out.Live = live
		}
	}
	return out, nil
}

type campaignStatsOutput struct {
	Body CampaignStats
}

func (s *server) registerCampaignStats(api huma.API) {
	huma.Register(api, campaignOp("campaign-stats", http.MethodGet, "/campaigns/{id}/stats", RoleSupervisor,
		"A campaign's progress and figures: contacts by state, skipped by reason, today's and 30 days' attempts and rates, "+
			"and for a running campaign the live pacing, lines and agents"),
		requires(s.needStore, s.campaignStats))
	o := campaignOp("stream-campaign", http.MethodGet, "/campaigns/{id}/events", RoleSupervisor,
		fmt.Sprintf("Server-Sent Events of a campaign's figures: a stats event (a CampaignStats) at once, then every second, until the client goes; "+
			"a problem event (a StreamProblem) when they cannot be read. At most %d streams at once (429 past that)", MaxCampaignStreams))
	o.Responses = map[string]*huma.Response{"200": {
		Description: "text/event-stream; each event's data is JSON: stats a CampaignStats, problem a StreamProblem",
		Content: map[string]*huma.MediaType{"text/event-stream": {Schema: &huma.Schema{OneOf: []*huma.Schema{
			s.schemaOf(reflect.TypeFor[CampaignStats]()), s.schemaOf(reflect.TypeFor[StreamProblem]()),
		}}}},
	}}
	o.Errors = append(o.Errors, http.StatusNotFound, http.StatusTooManyRequests)
	huma.Register(api, o, requires(s.needStore, s.streamCampaign))
}

func (s *server) campaignStats(ctx context.Context, in *CampaignIDParam) (*campaignStatsOutput, error) {
	st, err := LoadCampaignStats(ctx, s.cfg.Store, s.cfg.Campaigns, in.ID, time.Now())
	if err != nil {
		return nil, s.fail("campaign stats", err)
	}
	return &campaignStatsOutput{Body: st}, nil
}

func (s *server) streamCampaign(ctx context.Context, in *CampaignIDParam) (*huma.StreamResponse, error) {
	if _, err := s.cfg.Store.GetCampaign(ctx, in.ID); err != nil {
		return nil, s.fail("stream campaign", err)
	}
	select {
	case s.campaignStreams <- struct{}{}:
	default:
		return nil, huma.Error429TooManyRequests(fmt.Sprintf("%d campaign streams are open: close one, or poll GET /campaigns/%s/stats", MaxCampaignStreams, in.ID))
	}
	id := in.ID
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer func() { <-s.campaignStreams }()
		s.writeCampaignStream(hctx, id)
	}}, nil
}

// writeCampaignStream sends campaign id's stats at once and then every
// tick until the client goes, a write fails or the campaign is deleted.
func (s *server) writeCampaignStream(hctx huma.Context, id string) {
	_, w := humago.Unwrap(hctx)
	rc := http.NewResponseController(w)
	hctx.SetHeader("Content-Type", "text/event-stream")
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("X-Accel-Buffering", "no")
	hctx.SetStatus(http.StatusOK)
	write := func(event string, v any) bool {
		b, err := json.Marshal(v)
		if err != nil {
			return false
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if _, err := fmt.Fprint(w, "retry: 2000\n\n"); err != nil {
		return
	}
	ctx := hctx.Context()
	tick := time.NewTicker(s.cfg.campaignEvery)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, campaignStatsTimeout)
		st, err := LoadCampaignStats(rctx, s.cfg.Store, s.cfg.Campaigns, id, time.Now())
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrNotFound):
			write(EventProblem, StreamProblem{Source: EventCampaignStats, Detail: fmt.Sprintf("campaign %s was deleted", id)})
			return
		case err != nil:
			s.log.Warn("campaign stream", "campaign", id, "error", err)
			if !write(EventProblem, StreamProblem{Source: EventCampaignStats, Detail: "the figures could not be read; see the server log"}) {
				return
			}
		default:
			if !write(EventCampaignStats, st) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
