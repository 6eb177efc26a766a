package store

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// addNumbers adds pending contacts with the numbers to campaign.
func addNumbers(s *Store, campaign string, numbers ...string) (int, error) {
	cs := make([]records.Contact, len(numbers))
	for i, n := range numbers {
		cs[i] = records.Contact{Number: n, Row: i + 2}
	}
	added, _, err := s.AddContacts(ctx, campaign, cs)
	return added, err
}

// claimOne claims the campaign's next due contact.
func claimOne(t *testing.T, s *Store, campaign string) records.Contact {
	t.Helper()
	cs := must[[]records.Contact](t)(s.ClaimContacts(ctx, campaign, fmt.Sprintf("one-%d", time.Now().UnixNano()), time.Now(), 1, ""))
	if len(cs) != 1 {
		t.Fatalf("claimed %d contacts, want 1", len(cs))
	}
	return cs[0]
}

func numbersOf(cs []records.Contact) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Number)
	}
	return out
}

func TestAddContacts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", "")
		due := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		first := []records.Contact{
			{Row: 2, Number: "+15550001", Timezone: "America/New_York", Vars: map[string]string{"first_name": "Ann"}},
			{Row: 3, Number: "+15550002", NextAt: due, ID: 99, Attempts: 5, Agent: "ignored"},
			{Row: 4, Number: "+15550001"}, // again in the same call
			{Row: 5, Number: "555-0003", State: records.ContactSkipped, SkipReason: "invalid_number"},
		}
		added, dups := mustAdd(t, s, "spring", first)
		if added != 3 || dups != 1 {
			t.Fatalf("first AddContacts: added %d, duplicates %d; want 3, 1", added, dups)
		}
		added, dups = mustAdd(t, s, "spring", []records.Contact{{Row: 2, Number: "+15550002"}, {Row: 3, Number: "+15550004"}})
		if added != 1 || dups != 1 {
			t.Fatalf("second AddContacts: added %d, duplicates %d; want 1, 1", added, dups)
		}
		// Another campaign may hold the same number.
		addCampaign(t, s, "autumn", "")
		if added, _ := mustAdd(t, s, "autumn", []records.Contact{{Number: "+15550001"}}); added != 1 {
			t.Fatalf("the same number in another campaign: added %d", added)
		}

		list := must[[]records.Contact](t)(s.ListContacts(ctx, "spring", "", 0, 0))
		if got, want := numbersOf(list), []string{"+15550001", "+15550002", "555-0003", "+15550004"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("list numbers %v, want %v (the order added)", got, want)
		}
		for i := 1; i < len(list); i++ {
			if list[i].ID <= list[i-1].ID {
				t.Fatalf("ids not increasing: %+v", list)
			}
		}
		want := []records.Contact{
			{Campaign: "spring", ID: list[0].ID, Row: 2, Number: "+15550001", Timezone: "America/New_York",
				Vars: map[string]string{"first_name": "Ann"}, State: records.ContactPending},
			{Campaign: "spring", ID: list[1].ID, Row: 3, Number: "+15550002", NextAt: due, State: records.ContactPending},
			{Campaign: "spring", ID: list[2].ID, Row: 5, Number: "555-0003", State: records.ContactSkipped, SkipReason: "invalid_number"},
		}
		if !reflect.DeepEqual(list[:3], want) {
			t.Fatalf("contacts\n%+v\nwant\n%+v", list[:3], want)
		}
		if got := must[records.Contact](t)(s.GetContact(ctx, "spring", list[0].ID)); !reflect.DeepEqual(got, want[0]) {
			t.Fatalf("GetContact = %+v", got)
		}
		_, err := s.GetContact(ctx, "autumn", list[0].ID)
		wantErr(t, err, ErrNotFound, fmt.Sprintf(`contact %d of campaign "autumn": not found`, list[0].ID))
	})
}

func mustAdd(t *testing.T, s *Store, campaign string, cs []records.Contact) (added, dups int) {
	t.Helper()
	added, dups, err := s.AddContacts(ctx, campaign, cs)
	ok(t, err)
	return added, dups
}

func TestAddContactsErrors(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", "")
		for _, tc := range []struct {
			name     string
			campaign string
			cs       []records.Contact
			sentinel error
			msg      string
		}{
			{"no campaign", "nope", []records.Contact{{Number: "+15550001"}}, ErrNotFound,
				`add contacts to campaign "nope": not found`},
			{"not E.164", "spring", []records.Contact{{Number: "+15550001"}, {Number: "5550002"}}, ErrInvalid,
				`add contacts to campaign "spring": contacts[1] number "5550002": invalid argument: must be E.164 (+ and up to 15 digits)`},
			{"skipped without reason", "spring", []records.Contact{{Number: "x", State: records.ContactSkipped}}, ErrInvalid,
				`add contacts to campaign "spring": contacts[0] "x": invalid argument: a skipped contact needs a number and a skip reason`},
			{"dialing", "spring", []records.Contact{{Number: "+15550001", State: records.ContactDialing}}, ErrInvalid,
				`add contacts to campaign "spring": contacts[0] state "dialing": invalid argument: new contacts are pending or skipped`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, _, err := s.AddContacts(ctx, tc.campaign, tc.cs)
				wantErr(t, err, tc.sentinel, tc.msg)
			})
		}
		if n := len(must[[]records.Contact](t)(s.ListContacts(ctx, "spring", "", 0, 0))); n != 0 {
			t.Fatalf("a refused call added %d contacts", n)
		}
	})
}

func TestClaimContacts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", records.CampaignRunning)
		now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		mustAdd(t, s, "spring", []records.Contact{
			{Number: "+15550001", NextAt: now.Add(-time.Minute)},
			{Number: "+15550002"},                               // zero NextAt: due, before any time
			{Number: "+15550003", NextAt: now.Add(time.Second)}, // not yet due
			{Number: "+15550004", NextAt: now.Add(-time.Hour)},
			{Number: "+15550005", NextAt: now},                   // due at now exactly
			{Number: "+15550006", NextAt: now.Add(-time.Minute)}, // ties +15550001: later ID
			{Number: "+15550007", State: records.ContactSkipped, SkipReason: "dnc"},
		})
		steps := []struct {
			claim   string
			n       int
			agent   string
			want    []string
			comment string
		}{
			{"c1", 2, "alice", []string{"+15550002", "+15550004"}, "soonest due first, n bounds"},
			{"c1", 5, "bob", []string{"+15550002", "+15550004"}, "the same claim again: the same contacts"},
			{"c2", 10, "", []string{"+15550001", "+15550006", "+15550005"}, "ties by ID; not due and skipped left"},
			{"c3", 10, "", []string{}, "nothing due"},
		}
		for _, st := range steps {
			got := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", st.claim, now, st.n, st.agent))
			if !reflect.DeepEqual(numbersOf(got), st.want) {
				t.Fatalf("%s: claim %s got %v, want %v", st.comment, st.claim, numbersOf(got), st.want)
			}
			for _, c := range got {
				if c.State != records.ContactDialing || c.Attempts != 1 || !c.LastAt.Equal(now) {
					t.Fatalf("%s: claimed contact %+v", st.comment, c)
				}
				if st.claim == "c1" && c.Agent != "alice" {
					t.Fatalf("%s: agent %q, want alice (the first call's)", st.comment, c.Agent)
				}
			}
		}
		// Later, the contact not due before is.
		got := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c4", now.Add(time.Second), 10, ""))
		if !reflect.DeepEqual(numbersOf(got), []string{"+15550003"}) {
			t.Fatalf("claim later: %v", numbersOf(got))
		}
		if stored := must[records.Contact](t)(s.GetContact(ctx, "spring", got[0].ID)); !reflect.DeepEqual(stored, got[0]) {
			t.Fatalf("stored %+v, claimed %+v", stored, got[0])
		}

		_, err := s.ClaimContacts(ctx, "nope", "c9", now, 1, "")
		wantErr(t, err, ErrNotFound, `claim contacts of campaign "nope": not found`)
		_, err = s.ClaimContacts(ctx, "spring", "c9", now, 0, "")
		wantErr(t, err, ErrInvalid, `claim contacts of campaign "spring": invalid argument: n 0 must be positive`)
		_, err = s.ClaimContacts(ctx, "spring", "", now, 1, "")
		wantErr(t, err, ErrInvalid, `claim contacts of campaign "spring": invalid argument: claim id "" must be non-empty without surrounding spaces`)
	})
}

// TestClaimContactsConcurrent: claimers racing over one list never get the
// same contact, and together get them all.
func TestClaimContactsConcurrent(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		const contacts, claimers = 300, 4
		addCampaign(t, s, "spring", records.CampaignRunning)
		numbers := make([]string, contacts)
		for i := range numbers {
			numbers[i] = fmt.Sprintf("+1555%07d", i)
		}
		if n := must[int](t)(addNumbers(s, "spring", numbers...)); n != contacts {
			t.Fatalf("added %d", n)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			seen = map[int64]string{}
			errs = make(chan error, claimers)
		)
		for g := range claimers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					claim := fmt.Sprintf("g%d-%d", g, i)
					got, err := s.ClaimContacts(ctx, "spring", claim, time.Now(), 7, "")
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, c := range got {
						if prev, dup := seen[c.ID]; dup {
							errs <- fmt.Errorf("contact %d claimed by %s and %s", c.ID, prev, claim)
						}
						seen[c.ID] = claim
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(seen) != contacts {
			t.Fatalf("claimed %d distinct contacts, want %d", len(seen), contacts)
		}
	})
}

func TestNextDueContact(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", "")
		wantDue := func(when time.Time, ok bool) {
			t.Helper()
			got, gotOK, err := s.NextDue(ctx, "spring")
			if err != nil || gotOK != ok || !got.Equal(when) {
				t.Fatalf("NextDue = %v, %v, %v; want %v, %v", got, gotOK, err, when, ok)
			}
		}
		wantDue(time.Time{}, false) // empty list
		t0 := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		mustAdd(t, s, "spring", []records.Contact{{Number: "+15550001", NextAt: t0.Add(time.Hour)}, {Number: "+15550002", NextAt: t0}})
		wantDue(t0, true)
		must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c1", t0, 1, ""))
		wantDue(t0.Add(time.Hour), true) // a dialing contact is not pending
		mustAdd(t, s, "spring", []records.Contact{{Number: "+15550003"}})
		wantDue(time.Time{}, true) // due now
		_, _, err := s.NextDue(ctx, "nope")
		wantErr(t, err, ErrNotFound, `next due contact of campaign "nope": not found`)
	})
}

func TestReleaseContact(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", records.CampaignRunning)
		must[int](t)(addNumbers(s, "spring", "+15550001", "+15550002"))
		now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
		// Both were dialled once before: the release takes back the second
		// claim's attempt only, however often it is called.
		for _, c := range must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c0", now, 2, "")) {
			a := attemptOf(c, now)
			a.Outcome = records.AttemptBusy
			ok(t, s.FinishAttempt(ctx, a, records.Contact{State: records.ContactPending, NextAt: now,
				LastOutcome: records.AttemptBusy, LastAt: now}))
		}
		claimed := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c1", now, 2, "alice"))
		if len(claimed) != 2 || claimed[0].Attempts != 2 {
			t.Fatalf("claimed %+v", claimed)
		}
		later := now.Add(30 * time.Minute)

		for _, tc := range []struct {
			name   string
			c      records.Contact
			next   time.Time
			reason string
			want   func(c records.Contact) records.Contact
		}{
			{"back to pending", claimed[0], later, "", func(c records.Contact) records.Contact {
				c.State, c.NextAt, c.Attempts, c.Agent = records.ContactPending, later, 1, ""
				return c
			}},
			{"skipped", claimed[1], later, "outside_window", func(c records.Contact) records.Contact {
				c.State, c.SkipReason, c.Attempts, c.Agent = records.ContactSkipped, "outside_window", 1, ""
				return c
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				want := tc.want(tc.c)
				for range 2 { // the second call (a retry) changes nothing
					ok(t, s.ReleaseContact(ctx, "spring", tc.c.ID, tc.next, tc.reason))
					if got := must[records.Contact](t)(s.GetContact(ctx, "spring", tc.c.ID)); !reflect.DeepEqual(got, want) {
						t.Fatalf("after release\n%+v\nwant\n%+v", got, want)
					}
				}
			})
		}
		// The released contact is claimed again, under a new claim, when due;
		// the old claim holds nothing any more.
		if got := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c2", later, 5, "")); len(got) != 1 || got[0].ID != claimed[0].ID || got[0].Attempts != 2 {
			t.Fatalf("claim after release: %+v", got)
		}
		wantErr(t, s.ReleaseContact(ctx, "spring", 999999, later, ""), ErrNotFound,
			`release contact 999999 of campaign "spring": not found`)
	})
}

func TestContactCounts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", records.CampaignRunning)
		addCampaign(t, s, "empty", "")
		mustAdd(t, s, "spring", []records.Contact{
			{Number: "+15550001"}, {Number: "+15550002"}, {Number: "+15550003"}, {Number: "+15550004"},
			{Number: "x1", State: records.ContactSkipped, SkipReason: "invalid_number"},
			{Number: "x2", State: records.ContactSkipped, SkipReason: "invalid_number"},
			{Number: "+15550005", State: records.ContactSkipped, SkipReason: "dnc"},
		})
		now := time.Now()
		cs := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c1", now, 2, ""))
		a := attemptOf(cs[0], now)
		must[bool](t)(s.StartAttempt(ctx, a))
		a.Outcome = records.AttemptHuman
		ok(t, s.FinishAttempt(ctx, a, records.Contact{State: records.ContactDone, LastOutcome: records.AttemptHuman}))

		for _, tc := range []struct {
			campaign       string
			state, skipped map[string]int
		}{
			{"spring", map[string]int{"pending": 2, "dialing": 1, "done": 1, "skipped": 3}, map[string]int{"invalid_number": 2, "dnc": 1}},
			{"empty", map[string]int{"pending": 0, "dialing": 0, "done": 0, "skipped": 0}, map[string]int{}},
		} {
			state, skipped, err := s.ContactCounts(ctx, tc.campaign)
			ok(t, err)
			if !reflect.DeepEqual(state, tc.state) || !reflect.DeepEqual(skipped, tc.skipped) {
				t.Errorf("ContactCounts(%s) = %v, %v; want %v, %v", tc.campaign, state, skipped, tc.state, tc.skipped)
			}
		}
		_, _, err := s.ContactCounts(ctx, "nope")
		wantErr(t, err, ErrNotFound, `count contacts of campaign "nope": not found`)
	})
}

func TestListContacts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addCampaign(t, s, "spring", records.CampaignRunning)
		addCampaign(t, s, "other", "")
		var numbers []string
		for i := range 25 {
			numbers = append(numbers, fmt.Sprintf("+1555000%04d", i))
		}
		must[int](t)(addNumbers(s, "spring", numbers...))
		must[int](t)(addNumbers(s, "other", numbers[:3]...))
		claimed := must[[]records.Contact](t)(s.ClaimContacts(ctx, "spring", "c1", time.Now(), 4, ""))

		// Page through everything, 10 at a time.
		var all []records.Contact
		for after := int64(0); ; {
			page := must[[]records.Contact](t)(s.ListContacts(ctx, "spring", "", after, 10))
			if len(page) == 0 {
				break
			}
			if len(page) > 10 {
				t.Fatalf("page of %d", len(page))
			}
			all = append(all, page...)
			after = page[len(page)-1].ID
		}
		if got := numbersOf(all); !reflect.DeepEqual(got, numbers) {
			t.Fatalf("paged list %v", got)
		}
		dialing := must[[]records.Contact](t)(s.ListContacts(ctx, "spring", records.ContactDialing, 0, 0))
		sort.Slice(claimed, func(i, j int) bool { return claimed[i].ID < claimed[j].ID })
		if !reflect.DeepEqual(dialing, claimed) {
			t.Fatalf("dialing contacts %+v, want %+v", dialing, claimed)
		}
		if got := must[[]records.Contact](t)(s.ListContacts(ctx, "spring", records.ContactDone, 0, 0)); len(got) != 0 {
			t.Fatalf("done contacts %+v", got)
		}
		_, err := s.ListContacts(ctx, "nope", "", 0, 0)
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("ListContacts(unknown campaign) = %v", err)
		}
	})
}
