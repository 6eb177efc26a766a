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
