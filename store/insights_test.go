package store

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

// voiceCDR is cdr with a voice transcript and one AI turn in its path.
func voiceCDR(callID string, started time.Time) records.CDR {
	r := cdr(callID, "r1", "main", "+4930", records.OutcomeCompleted, started)
	zone := time.FixedZone("Y", -5*3600)
	r.Transcript = []records.ChatLine{
		{At: started.In(zone).Add(time.Second + 7*time.Nanosecond), From: records.ChatFlow, Text: "How can I help?"},
		{At: started.Add(3 * time.Second), From: records.ChatCustomer, Text: "my card **** 4242 was charged twice"},
	}
	r.Path[1].AI = []records.AITurn{{Utterance: "charged twice", Intent: "billing", Confidence: 0.91,
		Slots: map[string]any{"amount": "12.50"}, Sentiment: -0.7, Source: "offline"}}
	return r
}

func insights(disposition, label string, sentiment float64) *records.Insights {
	return &records.Insights{Summary: "Caller disputes a double charge.", Disposition: disposition, Sentiment: sentiment,
		SentimentLabel: label, KeyFacts: map[string]string{"card_last4": "4242"}, Source: "llm", Model: "small"}
}

// TestCDRInsightsAndTranscript: a voice call's transcript and AI turns
// come back from CDR; the insights a second save of the same run adds come
// back from CDR and search, and a later save without them keeps them.
func TestCDRInsightsAndTranscript(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 4, 2, 14, 0, 0, 0, time.UTC)
		rec := voiceCDR("v1", base)
		ok(t, s.SaveCDR(ctx, rec))
		got := must[records.CDR](t)(s.CDR(ctx, "v1"))
		want := normCDR(rec)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("first save:\n got %+v\nwant %+v", got, want)
		}
		if got.Insights != nil || got.Transcript[0].At.Location() != time.UTC || got.Transcript[0].At.Nanosecond() != 0 ||
			got.Path[1].AI[0].Intent != "billing" {
			t.Fatalf("first save: insights %+v, transcript %+v, path %+v", got.Insights, got.Transcript, got.Path)
		}

		rec.Insights = insights("billing_dispute", "negative", -0.72)
		ok(t, s.SaveCDR(ctx, rec))
		want = normCDR(rec)
		if got := must[records.CDR](t)(s.CDR(ctx, "v1")); !reflect.DeepEqual(got, want) {
			t.Fatalf("with insights:\n got %+v\nwant %+v", got, want)
		}

		late := voiceCDR("v1", base) // a late retry of the first save
		late.Transcript = nil
		ok(t, s.SaveCDR(ctx, late))
		got = must[records.CDR](t)(s.CDR(ctx, "v1"))
		if !reflect.DeepEqual(got.Insights, want.Insights) || !reflect.DeepEqual(got.Transcript, want.Transcript) {
			t.Fatalf("a save without insights or transcript erased them: %+v %+v", got.Insights, got.Transcript)
		}

		page, _, err := s.SearchCDRs(ctx, CDRQuery{})
		ok(t, err)
		if len(page) != 1 || !reflect.DeepEqual(page[0].Insights, want.Insights) || page[0].Transcript != nil || page[0].Path[1].AI == nil {
			t.Fatalf("search: %+v", page)
		}
	})
}

// TestChatTranscriptWinsOverColumn: a web chat's own transcript is the
// one CDR returns, whichever was saved first.
func TestChatTranscriptWinsOverColumn(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 4, 2, 15, 0, 0, 0, time.UTC)
		rec := voiceCDR("chat1", base)
		ok(t, s.SaveCDR(ctx, rec))
		chat := []records.ChatLine{{At: base, From: records.ChatAgent, Name: "alice", Text: "Hello from Alice"}}
		ok(t, s.SaveChatTranscript(ctx, "chat1", chat))
		if got := must[records.CDR](t)(s.CDR(ctx, "chat1")); !reflect.DeepEqual(got.Transcript, chat) {
			t.Fatalf("transcript %+v, want the chat's %+v", got.Transcript, chat)
		}
	})
}

// TestSearchCDRsByInsights filters on the insights' disposition and
// sentiment label, alone, together and with the other filters; records
// without insights match neither.
func TestSearchCDRsByInsights(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)
		type row struct {
			id, flow    string
			disposition string
			label       string
		}
		rows := []row{
			{"a", "main", "billing_dispute", "negative"},
			{"b", "main", "billing_dispute", "neutral"},
			{"c", "sales", "sale", "positive"},
			{"d", "main", "", "negative"},
			{"e", "main", "", ""}, // no insights at all
		}
		for i, r := range rows {
			rec := cdr(r.id, "r1", r.flow, "+4930", records.OutcomeCompleted, base.Add(time.Duration(i)*time.Minute))
			if r.label != "" {
				rec.Insights = insights(r.disposition, r.label, 0)
			}
			ok(t, s.SaveCDR(ctx, rec))
		}
		for _, tc := range []struct {
			q    CDRQuery
			want string
		}{
			{CDRQuery{Disposition: "billing_dispute"}, "b a"},
			{CDRQuery{Sentiment: "negative"}, "d a"},
			{CDRQuery{Disposition: "billing_dispute", Sentiment: "negative"}, "a"},
			{CDRQuery{Sentiment: "positive", Flow: "main"}, ""},
			{CDRQuery{Sentiment: "positive", Flow: "sales"}, "c"},
			{CDRQuery{Disposition: "Billing_Dispute"}, ""}, // exact, case-sensitive
			{CDRQuery{Sentiment: "negative", Limit: 1}, "d"},
			{CDRQuery{Disposition: "x' OR '1'='1"}, ""}, // a value, never SQL
		} {
			page, _, err := s.SearchCDRs(ctx, tc.q)
			ok(t, err)
			var ids []string
			for _, r := range page {
				ids = append(ids, r.CallID)
			}
			if got := strings.Join(ids, " "); got != tc.want {
				t.Errorf("%+v: got %q, want %q", tc.q, got, tc.want)
			}
		}
		// The page token carries on under the insights filters.
		first, next, err := s.SearchCDRs(ctx, CDRQuery{Sentiment: "negative", Limit: 1})
		ok(t, err)
		rest, last, err := s.SearchCDRs(ctx, CDRQuery{Sentiment: "negative", Limit: 1, PageToken: next})
		ok(t, err)
		if len(first) != 1 || len(rest) != 1 || rest[0].CallID != "a" || last != "" {
			t.Fatalf("pages %+v then %+v (next %q)", first, rest, last)
		}
	})
}

// TestCallEventOnce: adding the same event again (a retried activity) is
// a no-op; events differing in time, actor or action are all kept.
func TestCallEventOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		at := time.Date(2026, 4, 3, 9, 0, 0, 123456789, time.UTC)
		ev := records.CallEvent{CallID: "c1", At: at, Actor: "ai", Action: "negative_sentiment", Detail: "ask: this is useless"}
		ok(t, s.AddCallEvent(ctx, ev))
		ok(t, s.AddCallEvent(ctx, ev))
		again := ev
		again.At = at.Add(100 * time.Nanosecond) // the same microsecond
		again.Detail = "other words"
		ok(t, s.AddCallEvent(ctx, again))
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "c1", At: at, Actor: "sue", Action: "negative_sentiment"}))
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "c1", At: at, Actor: "ai", Action: "listen"}))
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "c1", At: at.Add(time.Microsecond), Actor: "ai", Action: "negative_sentiment"}))
		got := must[[]records.CallEvent](t)(s.CallEvents(ctx, "c1"))
		if len(got) != 4 {
			t.Fatalf("%d events, want 4: %+v", len(got), got)
		}
		for _, e := range got {
			if e.Actor == "ai" && e.Action == "negative_sentiment" && e.At.Equal(normTime(at)) && e.Detail != ev.Detail {
				t.Fatalf("the duplicate replaced the first event: %+v", e)
			}
		}
	})
}

// TestRecentCallEvents lists one action's events of every call, newest
// first, since a time; Open leaves out calls that have a record.
func TestRecentCallEvents(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		t0 := time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)
		add := func(call string, min int, action string) {
			t.Helper()
			ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: call, At: t0.Add(time.Duration(min) * time.Minute), Actor: "ai", Action: action, Detail: call}))
		}
		add("old", -10, "negative_sentiment")
		add("live1", 1, "negative_sentiment")
		add("live2", 3, "negative_sentiment")
		add("live2", 4, "listen")
		add("ended", 2, "negative_sentiment")
		ok(t, s.SaveCDR(ctx, cdr("ended", "r1", "main", "+4930", records.OutcomeCompleted, t0)))

		ids := func(q CallEventQuery) string {
			t.Helper()
			evs := must[[]records.CallEvent](t)(s.RecentCallEvents(ctx, q))
			var out []string
			for _, e := range evs {
				out = append(out, e.CallID+"@"+e.At.Sub(t0).String())
			}
			return strings.Join(out, " ")
		}
		for _, tc := range []struct {
			q    CallEventQuery
			want string
		}{
			{CallEventQuery{Action: "negative_sentiment", Since: t0}, "live2@3m0s ended@2m0s live1@1m0s"},
			{CallEventQuery{Action: "negative_sentiment", Since: t0, Open: true}, "live2@3m0s live1@1m0s"},
			{CallEventQuery{Since: t0, Open: true}, "live2@4m0s live2@3m0s live1@1m0s"},
			{CallEventQuery{Action: "negative_sentiment", Limit: 2}, "live2@3m0s ended@2m0s"},
			{CallEventQuery{Action: "negative_sentiment", Since: t0.Add(time.Hour)}, ""},
		} {
			if got := ids(tc.q); got != tc.want {
				t.Errorf("%+v: got %q, want %q", tc.q, got, tc.want)
			}
		}
	})
}

// TestMigration9 upgrades a database at schema version 8 holding a call
// record and duplicate call events: the record reads back without
// insights, the duplicates are gone and the index keeps them out.
func TestMigration9(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := openStore(t, dsn)
		for _, q := range []string{
			`DROP INDEX call_events_once`, `DROP INDEX call_events_action`,
			`ALTER TABLE cdrs DROP COLUMN insights`, `ALTER TABLE cdrs DROP COLUMN transcript`,
			// 0010 runs again too
			`DROP INDEX cdrs_campaign_started`, `ALTER TABLE cdrs DROP COLUMN campaign`, `ALTER TABLE cdrs DROP COLUMN campaign_call`,
			`DELETE FROM schema_migrations WHERE version >= 9`,
		} {
			_, err := s.db.Exec(q)
			ok(t, err)
		}
		base := time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)
		_, err := s.db.Exec(s.rebind(`INSERT INTO cdrs (call_id, run_id, workflow_id, flow, flow_version, from_number, to_number,
			channel, started_at, ended_at, duration_ns, outcome, path, saved_at) VALUES ('old', 'r1', 'call-old', 'main', 1, '', '',
			'sip', ?, ?, 0, 'completed', '[]', ?)`), s.ts(base), s.ts(base), s.ts(base))
		ok(t, err)
		for range 3 {
			_, err := s.db.Exec(`INSERT INTO call_events (call_id, at, actor, action, detail) VALUES ('old', 5, 'sue', 'listen', '')`)
			ok(t, err)
		}
		_, err = s.db.Exec(`INSERT INTO call_events (call_id, at, actor, action, detail) VALUES ('old', 6, 'sue', 'leave', '')`)
		ok(t, err)
		ok(t, s.Close())

		s = openStore(t, dsn)
		rec := must[records.CDR](t)(s.CDR(ctx, "old"))
		if rec.Insights != nil || rec.Transcript != nil || rec.Outcome != "completed" {
			t.Fatalf("old record after the upgrade: %+v", rec)
		}
		if evs := must[[]records.CallEvent](t)(s.CallEvents(ctx, "old")); len(evs) != 2 {
			t.Fatalf("events after the upgrade: %+v, want listen and leave once", evs)
		}
		ok(t, s.AddCallEvent(ctx, records.CallEvent{CallID: "old", At: time.UnixMicro(5), Actor: "sue", Action: "listen"}))
		if evs := must[[]records.CallEvent](t)(s.CallEvents(ctx, "old")); len(evs) != 2 {
			t.Fatalf("a duplicate got in after the upgrade: %+v", evs)
		}
	})
}
