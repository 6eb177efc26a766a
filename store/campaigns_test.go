package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// testCampaign is a campaign with every kind of setting filled.
func testCampaign(id string) records.Campaign {
	return records.Campaign{
		ID: id, Name: "Spring " + id, Flow: "reminder", Mode: records.PacePredictive, Queue: "sales",
		CallerID: "+15550100", Region: "US",
		Window:      records.Window{Start: "09:00", End: "20:00", Days: []string{"mon", "tue"}},
		MaxAttempts: 3, MinSpacing: 2 * time.Hour,
		Retry: []records.RetryRule{{Outcome: records.AttemptBusy, Delay: 10 * time.Minute, Max: 2},
			{Outcome: records.AttemptNoAnswer, Delay: time.Hour, Max: 1}},
		RingTimeout: 25 * time.Second, Machine: records.MachineMessage, MachineText: "Call us back",
		AbandonCap: 0.03, AbandonText: "This was Acme", Concurrency: 5, RatePerMinute: 60, MaxRatio: 2.5,
		Required: []string{"first_name"},
	}
}

// addCampaign creates a campaign in state.
func addCampaign(t *testing.T, s *Store, id, state string) records.Campaign {
	t.Helper()
	c := testCampaign(id)
	c.State = state
	ok(t, s.CreateCampaign(ctx, c))
	return must[records.Campaign](t)(s.GetCampaign(ctx, id))
}

func TestCampaignCRUD(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2026, 5, 1, 8, 0, 0, 123456789, time.UTC)
		s.now = func() time.Time { return now }

		spring := testCampaign("spring")
		ok(t, s.CreateCampaign(ctx, spring))
		spring.State = records.CampaignDraft // a zero state is draft
		spring.CreatedAt, spring.UpdatedAt = now.Truncate(time.Microsecond), now.Truncate(time.Microsecond)
		if got := must[records.Campaign](t)(s.GetCampaign(ctx, "spring")); !reflect.DeepEqual(got, spring) {
			t.Fatalf("GetCampaign =\n%+v\nwant\n%+v", got, spring)
		}

		now = now.Add(time.Minute)
		autumn := records.Campaign{ID: "autumn", Name: "Autumn", Mode: records.PaceAgentless, State: records.CampaignPaused}
		ok(t, s.CreateCampaign(ctx, autumn))
		autumn.CreatedAt, autumn.UpdatedAt = now.Truncate(time.Microsecond), now.Truncate(time.Microsecond)
		if got := must[[]records.Campaign](t)(s.ListCampaigns(ctx)); !reflect.DeepEqual(got, []records.Campaign{spring, autumn}) {
			t.Fatalf("ListCampaigns = %+v", got)
		}

		// Update replaces the settings, keeps the state and CreatedAt.
		now = now.Add(time.Minute)
		upd := records.Campaign{ID: "spring", Name: "Spring (2)", Flow: "other", Mode: records.PaceProgressive,
			State: records.CampaignCompleted, CreatedAt: now.Add(-time.Hour)}
		ok(t, s.UpdateCampaign(ctx, upd))
		upd.State, upd.CreatedAt, upd.UpdatedAt = records.CampaignDraft, spring.CreatedAt, now.Truncate(time.Microsecond)
		if got := must[records.Campaign](t)(s.GetCampaign(ctx, "spring")); !reflect.DeepEqual(got, upd) {
			t.Fatalf("after update:\n%+v\nwant\n%+v", got, upd)
		}

		now = now.Add(time.Minute)
		ok(t, s.SetCampaignState(ctx, "spring", records.CampaignRunning))
		got := must[records.Campaign](t)(s.GetCampaign(ctx, "spring"))
		if got.State != records.CampaignRunning || !got.UpdatedAt.Equal(now.Truncate(time.Microsecond)) || got.Flow != "other" {
			t.Fatalf("after SetCampaignState: %+v", got)
		}
	})
}

func TestCampaignErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", "")
		tests := []struct {
			name     string
			err      error
			sentinel error
			msg      string
		}{
			{"create taken", s.CreateCampaign(ctx, testCampaign("spring")), ErrCampaignExists,
				`create campaign "spring": campaign already exists`},
			{"create bad id", s.CreateCampaign(ctx, testCampaign("spring 2")), ErrInvalid,
				`create campaign: invalid argument: campaign id "spring 2": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{"create bad state", s.CreateCampaign(ctx, records.Campaign{ID: "x", State: "on"}), ErrInvalid,
				`create campaign "x": state "on": invalid argument: must be one of draft, running, paused, stopped, completed`},
			{"get missing", second(s.GetCampaign(ctx, "nope")), ErrNotFound, `campaign "nope": not found`},
			{"update missing", s.UpdateCampaign(ctx, records.Campaign{ID: "nope"}), ErrNotFound, `update campaign "nope": not found`},
			{"state missing", s.SetCampaignState(ctx, "nope", records.CampaignRunning), ErrNotFound,
				`set campaign "nope" state: not found`},
			{"state bad", s.SetCampaignState(ctx, "spring", "on"), ErrInvalid,
				`set campaign "spring" state: state "on": invalid argument: must be one of draft, running, paused, stopped, completed`},
			{"delete missing", s.DeleteCampaign(ctx, "nope"), ErrNotFound, `delete campaign "nope": not found`},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.err, tc.sentinel, tc.msg) })
		}
		if !errors.Is(ErrCampaignExists, ErrExists) {
			t.Error("ErrCampaignExists does not match ErrExists")
		}
	})
}

// second is the error of a (value, error) pair.
func second[T any](_ T, err error) error { return err }

func TestDeleteCampaign(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		for _, tc := range []struct {
			state string
			msg   string // "" deletes
		}{
			{records.CampaignDraft, ""},
			{records.CampaignStopped, ""},
			{records.CampaignCompleted, ""},
			{records.CampaignRunning, `delete campaign "c-running": in use: the campaign is running; stop it first`},
			{records.CampaignPaused, `delete campaign "c-paused": in use: the campaign is paused; stop it first`},
		} {
			t.Run(tc.state, func(t *testing.T) {
				id := "c-" + tc.state
				addCampaign(t, s, id, tc.state)
				must[int](t)(addNumbers(s, id, "+15550001", "+15550002"))
				err := s.DeleteCampaign(ctx, id)
				if tc.msg != "" {
					wantErr(t, err, ErrInUse, tc.msg)
					if _, err := s.GetCampaign(ctx, id); err != nil {
						t.Fatalf("refused delete removed the campaign: %v", err)
					}
					return
				}
				ok(t, err)
				if _, err := s.GetCampaign(ctx, id); !errors.Is(err, ErrNotFound) {
					t.Fatalf("GetCampaign after delete: %v", err)
				}
				var n int
				ok(t, s.db.QueryRow(s.rebind(`SELECT COUNT(*) FROM campaign_contacts WHERE campaign = ?`), id).Scan(&n))
				if n != 0 {
					t.Fatalf("%d contacts left after delete", n)
				}
			})
		}
	})
}

// TestDeleteCampaignKeepsAttempts: the attempts of a deleted campaign stay,
// and its id is not given to a new campaign; a campaign that never dialled
// leaves its id free.
func TestDeleteCampaignKeepsAttempts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "old", records.CampaignStopped)
		must[int](t)(addNumbers(s, "old", "+15550001"))
		c := claimOne(t, s, "old")
		must[bool](t)(s.StartAttempt(ctx, attemptOf(c, time.Now())))
		ok(t, s.DeleteCampaign(ctx, "old"))
		if got := must[[]records.DialAttempt](t)(s.ListAttempts(ctx, "old", 0)); len(got) != 1 {
			t.Fatalf("attempts after delete: %+v", got)
		}
		wantErr(t, s.CreateCampaign(ctx, testCampaign("old")), ErrCampaignExists,
			`create campaign "old": campaign already exists: an earlier campaign with this id made 1 dials, kept as history; choose another id`)

		addCampaign(t, s, "unused", records.CampaignDraft)
		ok(t, s.DeleteCampaign(ctx, "unused"))
		addCampaign(t, s, "unused", records.CampaignDraft)
	})
}

func TestCDRCampaignTag(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
		tagged := cdr("c1", "r1", "reminder", "+15550100", records.OutcomeCompleted, base)
		tagged.Campaign = &records.CampaignCall{Campaign: "spring", Contact: 7, Attempt: 2, Mode: records.PacePredictive, Abandoned: true}
		ok(t, s.SaveCDR(ctx, tagged))
		ok(t, s.SaveCDR(ctx, cdr("c2", "r1", "reminder", "+15550100", records.OutcomeCompleted, base.Add(time.Minute))))
		other := cdr("c3", "r1", "reminder", "+15550100", records.OutcomeCompleted, base.Add(2*time.Minute))
		other.Campaign = &records.CampaignCall{Campaign: "autumn", Contact: 9, Attempt: 1, Mode: records.PaceAgentless}
		ok(t, s.SaveCDR(ctx, other))

		if got := must[records.CDR](t)(s.CDR(ctx, "c1")); !reflect.DeepEqual(got, normCDR(tagged)) {
			t.Fatalf("tagged CDR round trip:\n got %+v\nwant %+v", got, normCDR(tagged))
		}
		if got := must[records.CDR](t)(s.CDR(ctx, "c2")); got.Campaign != nil {
			t.Fatalf("untagged CDR has campaign %+v", got.Campaign)
		}
		// A save of the run without the tag (a late retry) keeps it.
		retry := tagged
		retry.Campaign = nil
		ok(t, s.SaveCDR(ctx, retry))
		if got := must[records.CDR](t)(s.CDR(ctx, "c1")); !reflect.DeepEqual(got.Campaign, tagged.Campaign) {
			t.Fatalf("tag after an untagged save: %+v", got.Campaign)
		}

		for _, tc := range []struct {
			q    CDRQuery
			want []string
		}{
			{CDRQuery{Campaign: "spring"}, []string{"c1"}},
			{CDRQuery{Campaign: "autumn"}, []string{"c3"}},
			{CDRQuery{Campaign: "none"}, nil},
			{CDRQuery{}, []string{"c3", "c2", "c1"}},
			{CDRQuery{Campaign: "spring", StartedAfter: base.Add(time.Second)}, nil},
		} {
			page, _, err := s.SearchCDRs(ctx, tc.q)
			ok(t, err)
			var ids []string
			for _, r := range page {
				ids = append(ids, r.CallID)
			}
			if !reflect.DeepEqual(ids, tc.want) {
				t.Errorf("SearchCDRs(%+v) = %v, want %v", tc.q, ids, tc.want)
			}
		}
	})
}
