package store

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store/storetest"
)

// go test ./store/ -run '^$' -bench . -benchtime 2s
// (with VOXFLOW_TEST_POSTGRES_DSN set, PostgreSQL too)

func eachBackendB(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, be := range storetest.Backends {
		b.Run(be.Name, func(b *testing.B) { fn(b, openStore(b, be.NewDSN(b))) })
	}
}

func BenchmarkSaveCDR(b *testing.B) {
	eachBackendB(b, func(b *testing.B, s *Store) {
		base := time.Now()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r := cdr(fmt.Sprintf("call-%d", i), "run", "main", "+4930", records.OutcomeCompleted, base.Add(time.Duration(i)*time.Millisecond))
			if err := s.SaveCDR(ctx, r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSearchCDRs(b *testing.B) {
	const rows = 100_000
	eachBackendB(b, func(b *testing.B, s *Store) {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		start := time.Now()
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			for i := 0; i < rows; i++ {
				r := cdr(fmt.Sprintf("call-%06d", i), "run", fmt.Sprintf("flow-%d", i%20), fmt.Sprintf("+49%d", i%5000),
					[]string{records.OutcomeCompleted, records.OutcomeHungUp, records.OutcomeFailed}[i%3],
					base.Add(time.Duration(i)*10*time.Second))
				if i%2 == 0 { // half the calls asked for a summary
					r.Insights = &records.Insights{Summary: "The caller asked about a bill.", Disposition: fmt.Sprintf("disp-%d", i%10),
						Sentiment: -0.5, SentimentLabel: []string{"negative", "neutral", "positive"}[i%3], Source: "offline"}
				}
				if err := s.saveCDR(ctx, tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d CDRs in %v", rows, time.Since(start))
		if s.dialect == dialectPostgres {
			if _, err := s.db.Exec(`ANALYZE cdrs`); err != nil {
				b.Fatal(err)
			}
		}
		// a token deep in the table
		_, deep, err := s.SearchCDRs(ctx, CDRQuery{Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		for _, q := range []struct {
			name string
			q    CDRQuery
		}{
			{"first-page", CDRQuery{}},
			{"next-page", CDRQuery{PageToken: deep}},
			{"by-flow", CDRQuery{Flow: "flow-7"}},
			{"by-caller", CDRQuery{From: "+491234"}},
			{"by-outcome-window", CDRQuery{Outcome: records.OutcomeFailed,
				StartedAfter: base.Add(100 * time.Hour), StartedBefore: base.Add(200 * time.Hour)}},
			{"page-1000", CDRQuery{Limit: 1000}},
			{"by-sentiment", CDRQuery{Sentiment: "negative"}},
			{"by-disposition-window", CDRQuery{Disposition: "disp-4",
				StartedAfter: base.Add(100 * time.Hour), StartedBefore: base.Add(200 * time.Hour)}},
		} {
			b.Run(q.name, func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					page, _, err := s.SearchCDRs(ctx, q.q)
					if err != nil {
						b.Fatal(err)
					}
					if len(page) == 0 {
						b.Fatal("empty page")
					}
				}
			})
		}
	})
}

// BenchmarkRecentCallEvents is the board's alerts read (every few
// seconds while a supervisor watches): 100,000 events, one in a hundred
// an alert, half of the alerted calls ended.
func BenchmarkRecentCallEvents(b *testing.B) {
	const events = 100_000
	eachBackendB(b, func(b *testing.B, s *Store) {
		now := time.Now().UTC()
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			for i := 0; i < events; i++ {
				call, action := fmt.Sprintf("call-%06d", i/4), "listen"
				if i%100 == 0 {
					action = "negative_sentiment"
				}
				at := now.Add(-time.Duration(events-i) * 100 * time.Millisecond)
				if _, err := tx.Exec(s.rebind(`INSERT INTO call_events (call_id, at, actor, action, detail) VALUES (?, ?, 'ai', ?, '')`),
					call, micros(at), action); err != nil {
					return err
				}
				if i%200 == 0 {
					if err := s.saveCDR(ctx, tx, records.CDR{CallID: call, RunID: "r", StartedAt: at}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if s.dialect == dialectPostgres {
			if _, err := s.db.Exec(`ANALYZE call_events; ANALYZE cdrs`); err != nil {
				b.Fatal(err)
			}
		}
		q := CallEventQuery{Action: "negative_sentiment", Since: now.Add(-time.Hour), Open: true, Limit: 50}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			evs, err := s.RecentCallEvents(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 0 {
				b.Fatal("no alert")
			}
		}
	})
}

// benchContacts is a list of n contacts of campaign, as a CSV import makes.
func benchContacts(n, from int) []records.Contact {
	cs := make([]records.Contact, n)
	for i := range cs {
		cs[i] = records.Contact{Row: from + i + 2, Number: fmt.Sprintf("+1555%07d", from+i),
			Vars: map[string]string{"first_name": "Ann", "account": fmt.Sprint(from + i)}}
	}
	return cs
}

// BenchmarkCampaignAddContacts imports a list of 100,000 contacts in calls
// of 1000 (one op: the whole list).
func BenchmarkCampaignAddContacts(b *testing.B) {
	const rows, batch = 100_000, 1000
	eachBackendB(b, func(b *testing.B, s *Store) {
		batches := make([][]records.Contact, rows/batch)
		for i := range batches {
			batches[i] = benchContacts(batch, i*batch)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			id := fmt.Sprintf("bench-%d", i)
			if err := s.CreateCampaign(ctx, records.Campaign{ID: id}); err != nil {
				b.Fatal(err)
			}
			for _, cs := range batches {
				if added, _, err := s.AddContacts(ctx, id, cs); err != nil || added != batch {
					b.Fatalf("added %d: %v", added, err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/contact")
	})
}

// BenchmarkCampaignContacts reads a 100,000-contact list as the campaign
// workflow and the manager's page do: claim 10 due contacts, the next due
// time, the counts by state, a page of the list.
func BenchmarkCampaignContacts(b *testing.B) {
	const rows = 100_000
	eachBackendB(b, func(b *testing.B, s *Store) {
		if err := s.CreateCampaign(ctx, records.Campaign{ID: "big", State: records.CampaignRunning}); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for i := 0; i < rows; i += 1000 {
			cs := benchContacts(1000, i)
			for j := range cs { // a tenth are retries due later
				if j%10 == 0 {
					cs[j].NextAt = start.Add(time.Duration(i+j) * time.Second)
				}
			}
			if _, _, err := s.AddContacts(ctx, "big", cs); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("seeded %d contacts in %v", rows, time.Since(start))
		if s.dialect == dialectPostgres {
			if _, err := s.db.Exec(`ANALYZE campaign_contacts`); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("claim-10", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if i%5000 == 4999 { // keep 100,000 to claim from
					b.StopTimer()
					if _, err := s.db.Exec(`UPDATE campaign_contacts SET state = 'pending', claim_id = NULL WHERE state = 'dialing'`); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				got, err := s.ClaimContacts(ctx, "big", fmt.Sprintf("claim-%d-%d", b.N, i), start, 10, "")
				if err != nil || len(got) != 10 {
					b.Fatalf("claimed %d: %v", len(got), err)
				}
			}
		})
		for _, r := range []struct {
			name string
			read func() error
		}{
			{"next-due", func() error { _, _, err := s.NextDue(ctx, "big"); return err }},
			{"counts", func() error { _, _, err := s.ContactCounts(ctx, "big"); return err }},
			{"list-page", func() error { _, err := s.ListContacts(ctx, "big", "", 50_000, 100); return err }},
			{"list-pending-page", func() error { _, err := s.ListContacts(ctx, "big", records.ContactPending, 50_000, 100); return err }},
		} {
			b.Run(r.name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if err := r.read(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	})
}

// BenchmarkCampaignCheckDNC looks numbers up on do-not-call lists of
// 1,000,000 entries (900,000 global, 100,000 one campaign's).
func BenchmarkCampaignCheckDNC(b *testing.B) {
	const rows, batch = 1_000_000, 5000
	eachBackendB(b, func(b *testing.B, s *Store) {
		start := time.Now()
		for i := 0; i < rows; i += batch {
			es := make([]records.DNCEntry, batch)
			for j := range es {
				es[j] = records.DNCEntry{Number: fmt.Sprintf("+1555%07d", i+j), Reason: "asked"}
				if (i+j)%10 == 0 {
					es[j].Campaign = "big"
				}
			}
			if _, err := s.AddDNC(ctx, es); err != nil {
				b.Fatal(err)
			}
		}
		b.Logf("seeded %d do-not-call entries in %v", rows, time.Since(start))
		if s.dialect == dialectPostgres {
			if _, err := s.db.Exec(`ANALYZE dnc`); err != nil {
				b.Fatal(err)
			}
		}
		b.Run("check", func(b *testing.B) { // a sub-benchmark: seeded once
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, err := s.CheckDNC(ctx, fmt.Sprintf("+1555%07d", (i*7919)%(2*rows)), "big"); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
