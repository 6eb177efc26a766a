package store

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// wantErr checks err against a sentinel and an exact message.
func wantErr(t *testing.T, err, sentinel error, msg string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v, want %v", err, sentinel)
		return
	}
	if err.Error() != msg {
		t.Errorf("error message\n got %q\nwant %q", err.Error(), msg)
	}
}

func addAgent(t *testing.T, s *Store, name string) {
	t.Helper()
	ok(t, s.AddSIPAccount(ctx, SIPAccount{Username: name, Realm: "voxflow", HA1: "aa", Enabled: true}))
}

func TestAgentProfiles(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2026, 4, 1, 8, 0, 0, 123456789, time.UTC)
		s.now = func() time.Time { return now }
		addAgent(t, s, "bob")
		addAgent(t, s, "alice")
		addAgent(t, s, "carol")

		alice := AgentProfile{Username: "alice", Skills: map[string]int{"billing": 3, "de": 10, "en": 1},
			Queues: []string{"support", "sales"}, Capacity: 2}
		ok(t, s.SetAgentProfile(ctx, alice))
		ok(t, s.SetAgentProfile(ctx, AgentProfile{Username: "bob", Capacity: 1})) // nil skills and queues
		got := must[AgentProfile](t)(s.AgentProfile(ctx, "alice"))
		alice.UpdatedAt = now.Truncate(time.Microsecond)
		if !reflect.DeepEqual(got, alice) {
			t.Fatalf("AgentProfile = %+v, want %+v", got, alice)
		}

		// Upsert replaces everything.
		now = now.Add(time.Minute)
		alice = AgentProfile{Username: "alice", Skills: map[string]int{"fr": 5}, Queues: []string{"vip"}, Capacity: 100}
		ok(t, s.SetAgentProfile(ctx, alice))
		alice.UpdatedAt = now.Truncate(time.Microsecond)
		if got := must[AgentProfile](t)(s.AgentProfile(ctx, "alice")); !reflect.DeepEqual(got, alice) {
			t.Fatalf("after upsert: %+v, want %+v", got, alice)
		}

		list := must[[]AgentProfile](t)(s.AgentProfiles(ctx))
		bob := AgentProfile{Username: "bob", Skills: map[string]int{}, Queues: []string{}, Capacity: 1,
			UpdatedAt: now.Add(-time.Minute).Truncate(time.Microsecond)}
		if want := []AgentProfile{alice, bob}; !reflect.DeepEqual(list, want) {
			t.Fatalf("AgentProfiles = %+v, want %+v", list, want)
		}

		// An account without a profile, and no account at all.
		_, err := s.AgentProfile(ctx, "carol")
		wantErr(t, err, ErrNotFound, `agent profile "carol": not found`)
		_, err = s.AgentProfile(ctx, "nobody")
		wantErr(t, err, ErrNotFound, `agent profile "nobody": not found`)
		err = s.SetAgentProfile(ctx, AgentProfile{Username: "nobody", Capacity: 1})
		wantErr(t, err, ErrNotFound, `set agent profile "nobody": SIP account "nobody": not found`)
	})
}

func TestAgentProfileValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		addAgent(t, s, "alice")
		tests := []struct {
			p   AgentProfile
			msg string
		}{
			{AgentProfile{Username: "", Capacity: 1},
				`set agent profile: invalid argument: agent name "": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{AgentProfile{Username: "al ice", Capacity: 1},
				`set agent profile: invalid argument: agent name "al ice": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{AgentProfile{Username: "alice", Capacity: 0},
				`set agent profile "alice": capacity 0: invalid argument: must be 1 to 100`},
			{AgentProfile{Username: "alice", Capacity: 101},
				`set agent profile "alice": capacity 101: invalid argument: must be 1 to 100`},
			{AgentProfile{Username: "alice", Capacity: 1, Skills: map[string]int{"": 3}},
				`set agent profile "alice": skill "": invalid argument: name must be non-empty without surrounding spaces`},
			{AgentProfile{Username: "alice", Capacity: 1, Skills: map[string]int{" en": 3}},
				`set agent profile "alice": skill " en": invalid argument: name must be non-empty without surrounding spaces`},
			{AgentProfile{Username: "alice", Capacity: 1, Skills: map[string]int{"en": 0}},
				`set agent profile "alice": skill "en" level 0: invalid argument: must be 1 to 10`},
			{AgentProfile{Username: "alice", Capacity: 1, Skills: map[string]int{"de": 5, "en": 11, "fr": 0}},
				`set agent profile "alice": skill "en" level 11: invalid argument: must be 1 to 10`},
			{AgentProfile{Username: "alice", Capacity: 1, Queues: []string{"sales", "sup port"}},
				`set agent profile "alice": queues[1]: invalid argument: queue name "sup port": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{AgentProfile{Username: "alice", Capacity: 1, Queues: []string{"sales", "support", "sales"}},
				`set agent profile "alice": queues[2] "sales": invalid argument: listed twice`},
		}
		for _, tc := range tests {
			wantErr(t, s.SetAgentProfile(ctx, tc.p), ErrInvalid, tc.msg)
		}
		if _, err := s.AgentProfile(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a rejected profile was written: %v", err)
		}
	})
}

// TestAgentProfileCascade: removing a SIP account removes its profile, both
// through RemoveSIPAccount and through the foreign key alone.
func TestAgentProfileCascade(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		for _, name := range []string{"alice", "bob", "carol"} {
			addAgent(t, s, name)
			ok(t, s.SetAgentProfile(ctx, AgentProfile{Username: name, Capacity: 1, Skills: map[string]int{"en": 5}}))
		}
		ok(t, s.RemoveSIPAccount(ctx, "alice"))
		_, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM sip_accounts WHERE username = ?`), "bob")
		ok(t, err)
		list := must[[]AgentProfile](t)(s.AgentProfiles(ctx))
		if len(list) != 1 || list[0].Username != "carol" {
			t.Fatalf("profiles after removing alice and bob: %+v", list)
		}
		// The name can be taken again, with no profile.
		addAgent(t, s, "alice")
		if _, err := s.AgentProfile(ctx, "alice"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("re-added account has a profile: %v", err)
		}
	})
}

func TestQueues(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2026, 4, 1, 8, 0, 0, 999, time.UTC)
		s.now = func() time.Time { return now }
		ok(t, s.PutQueue(ctx, Queue{Name: "billing"}))
		ok(t, s.PutQueue(ctx, Queue{Name: "general"}))
		support := Queue{
			Name: "support", HoldFlow: "hold-music", AnnounceEvery: 45 * time.Second, MaxWait: 15 * time.Minute,
			RingTimeout: 12 * time.Second, WrapUp: time.Minute, SLThreshold: 30 * time.Second, MaxWaiting: 25,
			Overflow: []QueueOverflow{
				{After: time.Minute, Skills: []string{"en", "billing"}},
				{After: 2 * time.Minute, ClearSkills: true},
				{After: 5 * time.Minute, Queue: "general"},
			},
		}
		ok(t, s.PutQueue(ctx, support))
		got := must[Queue](t)(s.Queue(ctx, "support"))
		support.CreatedAt, support.UpdatedAt = now.Truncate(time.Microsecond), now.Truncate(time.Microsecond)
		if !reflect.DeepEqual(got, support) {
			t.Fatalf("Queue = %+v, want %+v", got, support)
		}

		// Upsert: CreatedAt stays, UpdatedAt moves, zero settings stay zero.
		created := support.CreatedAt
		now = now.Add(time.Hour)
		support = Queue{Name: "support", MaxWait: time.Minute, CreatedAt: now.Add(time.Hour)}
		ok(t, s.PutQueue(ctx, support))
		got = must[Queue](t)(s.Queue(ctx, "support"))
		support.CreatedAt, support.UpdatedAt = created, now.Truncate(time.Microsecond)
		if !reflect.DeepEqual(got, support) {
			t.Fatalf("after upsert: %+v, want %+v", got, support)
		}
		def := got.WithDefaults()
		want := Queue{Name: "support", HoldFlow: DefaultHoldFlow, AnnounceEvery: DefaultAnnounceEvery, MaxWait: time.Minute,
			RingTimeout: DefaultRingTimeout, WrapUp: DefaultWrapUp, SLThreshold: DefaultSLThreshold, MaxWaiting: 0,
			CreatedAt: got.CreatedAt, UpdatedAt: got.UpdatedAt}
		if !reflect.DeepEqual(def, want) {
			t.Fatalf("WithDefaults = %+v, want %+v", def, want)
		}

		names := func() string {
			var n []string
			for _, q := range must[[]Queue](t)(s.Queues(ctx)) {
				n = append(n, q.Name)
			}
			return strings.Join(n, ",")
		}
		if got := names(); got != "billing,general,support" {
			t.Fatalf("Queues = %s", got)
		}
		_, err := s.Queue(ctx, "nope")
		wantErr(t, err, ErrNotFound, `queue "nope": not found`)
		wantErr(t, s.DeleteQueue(ctx, "nope"), ErrNotFound, `delete queue "nope": not found`)

		// An overflow target cannot be deleted while it is one.
		ok(t, s.PutQueue(ctx, Queue{Name: "vip", Overflow: []QueueOverflow{{After: time.Second, ClearSkills: true}, {After: time.Minute, Queue: "billing"}}}))
		wantErr(t, s.DeleteQueue(ctx, "billing"), ErrInUse, `delete queue "billing": in use: queue "vip" overflow[1] goes to it`)
		ok(t, s.DeleteQueue(ctx, "vip"))
		ok(t, s.DeleteQueue(ctx, "billing"))
		if got := names(); got != "general,support" {
			t.Fatalf("Queues after deletes = %s", got)
		}
	})
}

func TestQueueValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ok(t, s.PutQueue(ctx, Queue{Name: "general"}))
		steps := func(o ...QueueOverflow) Queue { return Queue{Name: "support", Overflow: o} }
		tests := []struct {
			q        Queue
			sentinel error
			msg      string
		}{
			{Queue{Name: ""}, ErrInvalid,
				`put queue: invalid argument: queue name "": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{Queue{Name: "sup/port"}, ErrInvalid,
				`put queue: invalid argument: queue name "sup/port": use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{Queue{Name: "support", HoldFlow: " hold"}, ErrInvalid,
				`put queue "support": hold_flow " hold": invalid argument: must not have surrounding spaces`},
			{Queue{Name: "support", AnnounceEvery: -time.Second}, ErrInvalid,
				`put queue "support": announce_every -1s: invalid argument: must not be negative`},
			{Queue{Name: "support", MaxWait: -time.Minute}, ErrInvalid,
				`put queue "support": max_wait -1m0s: invalid argument: must not be negative`},
			{Queue{Name: "support", RingTimeout: -1}, ErrInvalid,
				`put queue "support": ring_timeout -1ns: invalid argument: must not be negative`},
			{Queue{Name: "support", WrapUp: -time.Second}, ErrInvalid,
				`put queue "support": wrap_up -1s: invalid argument: must not be negative`},
			{Queue{Name: "support", SLThreshold: -time.Second}, ErrInvalid,
				`put queue "support": sl_threshold -1s: invalid argument: must not be negative`},
			{Queue{Name: "support", MaxWaiting: -1}, ErrInvalid,
				`put queue "support": max_waiting -1: invalid argument: must not be negative`},
			{steps(QueueOverflow{After: 0, ClearSkills: true}), ErrInvalid,
				`put queue "support": overflow[0].after 0s: invalid argument: must be positive`},
			{steps(QueueOverflow{After: time.Minute, ClearSkills: true}, QueueOverflow{After: time.Minute, Queue: "general"}), ErrInvalid,
				`put queue "support": overflow[1].after 1m0s: invalid argument: must be later than overflow[0].after 1m0s`},
			{steps(QueueOverflow{After: time.Minute, ClearSkills: true}, QueueOverflow{After: time.Second, Queue: "general"}), ErrInvalid,
				`put queue "support": overflow[1].after 1s: invalid argument: must be later than overflow[0].after 1m0s`},
			{steps(QueueOverflow{After: time.Minute}), ErrInvalid,
				`put queue "support": overflow[0]: invalid argument: sets no skills, clear_skills or queue`},
			{steps(QueueOverflow{After: time.Minute, Skills: []string{"en", ""}}), ErrInvalid,
				`put queue "support": overflow[0].skills[1] "": invalid argument: must be non-empty without surrounding spaces`},
			{steps(QueueOverflow{After: time.Minute, Queue: "gen eral"}), ErrInvalid,
				`put queue "support": overflow[0].queue "gen eral": invalid argument: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{steps(QueueOverflow{After: time.Minute, Queue: "support"}), ErrInvalid,
				`put queue "support": overflow[0].queue "support": invalid argument: a queue cannot overflow to itself`},
			{steps(QueueOverflow{After: time.Second, Queue: "general"}, QueueOverflow{After: time.Minute, Queue: "billing"}), ErrNotFound,
				`put queue "support": overflow[1].queue "billing": not found`},
		}
		for _, tc := range tests {
			wantErr(t, s.PutQueue(ctx, tc.q), tc.sentinel, tc.msg)
		}
		if list := must[[]Queue](t)(s.Queues(ctx)); len(list) != 1 {
			t.Fatalf("rejected queues were written: %+v", list)
		}
	})
}

func TestCallbacks(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		now := time.Date(2026, 4, 1, 8, 0, 0, 500, time.UTC)
		s.now = func() time.Time { return now }
		due := now.Add(time.Hour).In(time.FixedZone("X", 3600))
		cb := Callback{ID: "cb-1", Queue: "sales", Number: "+4930123", CallID: "call-1", Timezone: "Europe/Berlin",
			State: CallbackScheduled, DueAt: due}
		ok(t, s.PutCallback(ctx, cb))
		got := must[Callback](t)(s.Callback(ctx, "cb-1"))
		want := cb
		want.DueAt = normTime(due)
		want.CreatedAt, want.UpdatedAt = normTime(now), normTime(now)
		if got != want {
			t.Fatalf("Callback = %+v, want %+v", got, want)
		}

		// Each state change is a write; CreatedAt stays, a given UpdatedAt is kept.
		later := now.Add(time.Hour)
		cb.State, cb.Attempts, cb.Agent, cb.Outcome = CallbackDone, 2, "alice", "answered"
		cb.CreatedAt, cb.UpdatedAt = later, later
		ok(t, s.PutCallback(ctx, cb))
		ok(t, s.PutCallback(ctx, cb)) // a retry
		got = must[Callback](t)(s.Callback(ctx, "cb-1"))
		want = cb
		want.DueAt, want.CreatedAt, want.UpdatedAt = normTime(due), normTime(now), normTime(later)
		if got != want {
			t.Fatalf("after update: %+v, want %+v", got, want)
		}

		put := func(id, queue, state string, dueIn time.Duration) {
			t.Helper()
			ok(t, s.PutCallback(ctx, Callback{ID: id, Queue: queue, Number: "+1555", CallID: "c-" + id, State: state, DueAt: now.Add(dueIn)}))
		}
		put("cb-2", "sales", CallbackScheduled, 3*time.Minute)
		put("cb-3", "support", CallbackScheduled, time.Minute)
		put("cb-4", "sales", CallbackScheduled, time.Minute)
		put("cb-5", "sales", CallbackWaiting, -time.Minute)
		ids := func(q CallbackQuery) string {
			t.Helper()
			var out []string
			for _, c := range must[[]Callback](t)(s.Callbacks(ctx, q)) {
				out = append(out, c.ID)
			}
			return strings.Join(out, ",")
		}
		for _, tc := range []struct {
			q    CallbackQuery
			want string
		}{
			{CallbackQuery{}, "cb-5,cb-3,cb-4,cb-2,cb-1"},
			{CallbackQuery{State: CallbackScheduled}, "cb-3,cb-4,cb-2"},
			{CallbackQuery{State: CallbackScheduled, Queue: "sales"}, "cb-4,cb-2"},
			{CallbackQuery{State: CallbackScheduled, DueBefore: now.Add(3 * time.Minute)}, "cb-3,cb-4"},
			{CallbackQuery{Limit: 2}, "cb-5,cb-3"},
			{CallbackQuery{State: CallbackFailed}, ""},
		} {
			if got := ids(tc.q); got != tc.want {
				t.Errorf("Callbacks(%+v) = %s, want %s", tc.q, got, tc.want)
			}
		}
		_, err := s.Callback(ctx, "nope")
		wantErr(t, err, ErrNotFound, `callback "nope": not found`)
	})
}

func TestCallbackValidation(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		good := Callback{ID: "cb", Queue: "sales", Number: "+1555", CallID: "c1", State: CallbackScheduled, DueAt: time.Now()}
		with := func(f func(*Callback)) Callback { c := good; f(&c); return c }
		tests := []struct {
			cb  Callback
			msg string
		}{
			{with(func(c *Callback) { c.ID = "" }), `put callback: invalid argument: id "" must be non-empty without surrounding spaces`},
			{with(func(c *Callback) { c.ID = "cb " }), `put callback: invalid argument: id "cb " must be non-empty without surrounding spaces`},
			{with(func(c *Callback) { c.Queue = "" }),
				`put callback "cb": queue "": invalid argument: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`},
			{with(func(c *Callback) { c.Number = " " }), `put callback "cb": number " ": invalid argument: must not be empty`},
			{with(func(c *Callback) { c.CallID = "" }), `put callback "cb": call_id "": invalid argument: must not be empty`},
			{with(func(c *Callback) { c.DueAt = time.Time{} }), `put callback "cb": due_at: invalid argument: must be set`},
			{with(func(c *Callback) { c.Attempts = -1 }), `put callback "cb": attempts -1: invalid argument: must not be negative`},
			{with(func(c *Callback) { c.Timezone = "Mars/Olympus" }), `put callback "cb": timezone "Mars/Olympus": invalid argument: unknown time zone`},
			{with(func(c *Callback) { c.Timezone = "Local" }), `put callback "cb": timezone "Local": invalid argument: unknown time zone`},
			{with(func(c *Callback) { c.State = "" }),
				`put callback "cb": state "": invalid argument: must be one of scheduled, waiting, dialing, done, failed, cancelled`},
			{with(func(c *Callback) { c.State = "pending" }),
				`put callback "cb": state "pending": invalid argument: must be one of scheduled, waiting, dialing, done, failed, cancelled`},
		}
		for _, tc := range tests {
			wantErr(t, s.PutCallback(ctx, tc.cb), ErrInvalid, tc.msg)
		}
		if got := must[[]Callback](t)(s.Callbacks(ctx, CallbackQuery{})); len(got) != 0 {
			t.Fatalf("rejected callbacks were written: %+v", got)
		}
		ok(t, s.PutCallback(ctx, with(func(c *Callback) { c.Timezone = "America/New_York" })))
	})
}

// queuedCDR is a record of a call that queued twice: in sales, answered by
// alice, then in support, answered by bob.
func queuedCDR(callID, runID string, started time.Time) records.CDR {
	r := cdr(callID, runID, "main", "+4930", records.OutcomeCompleted, started)
	zone := time.FixedZone("Y", -5*3600)
	r.Queues = []records.QueueStay{
		{Queue: "sales", EnqueuedAt: started.In(zone).Add(10*time.Second + 789), Wait: 15 * time.Second, Outcome: records.QueueAnswered,
			Agent: "alice", Ring: 4 * time.Second, Talk: time.Minute, Offers: 2},
		{Queue: "support", EnqueuedAt: started.Add(2 * time.Minute), Wait: time.Minute, Outcome: records.QueueAnswered,
			Agent: "bob", Ring: time.Second, Talk: 30 * time.Second, Offers: 1, CallbackAttempts: 1},
	}
	return r
}

func TestCDRQueueStays(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		rec := queuedCDR("c1", "r1", base)
		ok(t, s.SaveCDR(ctx, rec))
		got := must[records.CDR](t)(s.CDR(ctx, "c1"))
		want := normCDR(rec)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("CDR round trip:\n got %+v\nwant %+v", got.Queues, want.Queues)
		}
		if st := got.Queues[0].EnqueuedAt; st.Location() != time.UTC || st.Nanosecond()%1000 != 0 {
			t.Fatalf("EnqueuedAt %v: want UTC microseconds", st)
		}

		ok(t, s.SetCDRWrapUp(ctx, "c1", "bob", 20*time.Second, "resolved", ""))
		ok(t, s.SetCDRWrapUp(ctx, "c1", "alice", 45*time.Second, "sale", "wants gold"))
		ok(t, s.SetCDRWrapUp(ctx, "c1", "alice", 40*time.Second, "sale, upsell", "gold plan, 2 years")) // corrected: last write wins
		want.Queues[0].WrapUp, want.Queues[0].Disposition, want.Queues[0].Notes = 40*time.Second, "sale, upsell", "gold plan, 2 years"
		want.Queues[1].WrapUp, want.Queues[1].Disposition = 20*time.Second, "resolved"
		if got := must[records.CDR](t)(s.CDR(ctx, "c1")); !reflect.DeepEqual(got.Queues, want.Queues) {
			t.Fatalf("after wrap-ups:\n got %+v\nwant %+v", got.Queues, want.Queues)
		}

		// Saving the run again (an activity retry) keeps the wrap-ups.
		ok(t, s.SaveCDR(ctx, rec))
		if got := must[records.CDR](t)(s.CDR(ctx, "c1")); !reflect.DeepEqual(got.Queues, want.Queues) {
			t.Fatalf("after saving again:\n got %+v\nwant %+v", got.Queues, want.Queues)
		}

		wantErr(t, s.SetCDRWrapUp(ctx, "c1", "carol", time.Second, "", ""), ErrNotFound,
			`set CDR wrap-up of call "c1" by agent "carol": run "r1" has no queue stay answered by the agent: not found`)
		wantErr(t, s.SetCDRWrapUp(ctx, "nope", "alice", time.Second, "", ""), ErrNotFound,
			`set CDR wrap-up of call "nope" by agent "alice": no CDR: not found`)
		wantErr(t, s.SetCDRWrapUp(ctx, "c1", "alice", -time.Second, "", ""), ErrInvalid,
			`set CDR wrap-up of call "c1" by agent "alice": wrap_up -1s: invalid argument: must not be negative`)
		wantErr(t, s.SetCDRWrapUp(ctx, "", "alice", time.Second, "", ""), ErrInvalid,
			`set CDR wrap-up of call "" by agent "alice": invalid argument: empty call or agent`)
		ok(t, s.SaveCDR(ctx, records.CDR{CallID: "bare", StartedAt: base}))
		wantErr(t, s.SetCDRWrapUp(ctx, "bare", "alice", time.Second, "", ""), ErrNotFound,
			`set CDR wrap-up of call "bare" by agent "alice": run "" has no queue stay answered by the agent: not found`)
	})
}

// TestCDRWrapUpLatest: the latest stay of the agent, in the newest run.
func TestCDRWrapUpLatest(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		old := queuedCDR("c1", "r1", base)
		ok(t, s.SaveCDR(ctx, old))
		s.now = func() time.Time { return time.Now().Add(time.Second) }
		rec := queuedCDR("c1", "r2", base)
		rec.Queues[1].Agent = "alice" // alice answered both stays
		ok(t, s.SaveCDR(ctx, rec))

		ok(t, s.SetCDRWrapUp(ctx, "c1", "alice", time.Minute, "done", ""))
		got := must[records.CDR](t)(s.CDR(ctx, "c1"))
		if got.RunID != "r2" || got.Queues[0].WrapUp != 0 || got.Queues[1].WrapUp != time.Minute || got.Queues[1].Disposition != "done" {
			t.Fatalf("newest run after wrap-up: %+v", got)
		}
		first, _, err := s.SearchCDRs(ctx, CDRQuery{})
		ok(t, err)
		for _, r := range first {
			if r.RunID == "r1" && (r.Queues[0].WrapUp != 0 || r.Queues[1].WrapUp != 0) {
				t.Fatalf("older run changed: %+v", r.Queues)
			}
		}
		// bob answered only in the older run
		if err := s.SetCDRWrapUp(ctx, "c1", "bob", time.Minute, "", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("wrap-up of a stay only in an older run: %v, want ErrNotFound", err)
		}
	})
}

func TestSearchCDRsByQueue(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
		stays := map[string][]string{
			"c1": {"sales"}, "c2": {"sales2"}, "c3": {"support", "sales"}, "c4": {"Sales"},
			"c5": {"sales_1"}, "c6": {"salesX1"}, "c7": nil, "c8": {"presales"},
		}
		i := 0
		for id, queues := range stays {
			r := cdr(id, "run", "main", "+4930", records.OutcomeCompleted, base.Add(time.Duration(i)*time.Minute))
			for _, q := range queues {
				r.Queues = append(r.Queues, records.QueueStay{Queue: q, EnqueuedAt: base, Outcome: records.QueueAbandoned,
					Disposition: `"queue":"sales2"`}) // a string value that looks like a stay
			}
			ok(t, s.SaveCDR(ctx, r))
			i++
		}
		for queue, want := range map[string]string{
			"sales": "c1,c3", "sales2": "c2", "Sales": "c4", "sales_1": "c5", "salesX1": "c6", "support": "c3", "sale": "",
		} {
			page, _, err := s.SearchCDRs(ctx, CDRQuery{Queue: queue, Limit: 100})
			ok(t, err)
			var got []string
			for _, r := range page {
				got = append(got, r.CallID)
			}
			sort.Strings(got)
			if strings.Join(got, ",") != want {
				t.Errorf("Queue %q: got %v, want %s", queue, got, want)
			}
		}
		// with another filter and paging
		page, next, err := s.SearchCDRs(ctx, CDRQuery{Queue: "sales", Outcome: records.OutcomeCompleted, Limit: 1})
		ok(t, err)
		if len(page) != 1 || next == "" {
			t.Fatalf("first page %v, next %q", page, next)
		}
		page2, next, err := s.SearchCDRs(ctx, CDRQuery{Queue: "sales", Outcome: records.OutcomeCompleted, Limit: 1, PageToken: next})
		ok(t, err)
		if len(page2) != 1 || next != "" || page2[0].CallID == page[0].CallID {
			t.Fatalf("second page %v, next %q", page2, next)
		}
	})
}
