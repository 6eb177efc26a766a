package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
)

func TestChatTranscript(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		base := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
		lines := []records.ChatLine{
			{At: base.Add(123456789 * time.Nanosecond).In(time.FixedZone("CET", 3600)), From: records.ChatFlow, Text: "Press 1 for sales"},
			{At: base.Add(2 * time.Second), From: records.ChatCustomer, Text: "1"},
			{At: base.Add(3 * time.Second), From: records.ChatAgent, Name: "alice", Text: "Hi, I'm Alice — \"how\" can I help?"},
		}
		if got := must[[]records.ChatLine](t)(s.ChatTranscript(ctx, "c1")); got != nil {
			t.Fatalf("transcript before any save = %+v, want none", got)
		}
		// The transcript may be saved before the engine saves the CDR.
		ok(t, s.SaveChatTranscript(ctx, "c1", lines))
		if _, err := s.CDR(ctx, "c1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("CDR with only a transcript = %v, want ErrNotFound", err)
		}
		rec := cdr("c1", "r1", "main", "web", records.OutcomeCompleted, base)
		rec.Channel = "chat"
		ok(t, s.SaveCDR(ctx, rec))
		ok(t, s.SaveCDR(ctx, rec)) // the engine saving again keeps the transcript
		got := must[records.CDR](t)(s.CDR(ctx, "c1"))
		want := make([]records.ChatLine, len(lines))
		for i, l := range lines {
			l.At = l.At.UTC().Truncate(time.Microsecond)
			want[i] = l
		}
		if !reflect.DeepEqual(got.Transcript, want) {
			t.Fatalf("CDR transcript:\n got %+v\nwant %+v", got.Transcript, want)
		}
		got.Transcript = nil
		if !reflect.DeepEqual(got, normCDR(rec)) {
			t.Fatalf("CDR besides the transcript:\n got %+v\nwant %+v", got, normCDR(rec))
		}

		// Saving again replaces it; search pages do not carry it.
		ok(t, s.SaveChatTranscript(ctx, "c1", lines[:1]))
		if got := must[records.CDR](t)(s.CDR(ctx, "c1")); len(got.Transcript) != 1 {
			t.Fatalf("after a second save: %+v", got.Transcript)
		}
		all, _, err := s.SearchCDRs(ctx, CDRQuery{})
		ok(t, err)
		if len(all) != 1 || all[0].Transcript != nil {
			t.Fatalf("search = %+v", all)
		}
		// A call without a chat has none.
		ok(t, s.SaveCDR(ctx, cdr("c2", "r1", "main", "+4915100", records.OutcomeCompleted, base)))
		if got := must[records.CDR](t)(s.CDR(ctx, "c2")); got.Transcript != nil {
			t.Fatalf("phone call transcript = %+v", got.Transcript)
		}
		if err := s.SaveChatTranscript(ctx, " ", lines); !errors.Is(err, ErrInvalid) {
			t.Fatalf("save without a call = %v, want ErrInvalid", err)
		}
	})
}
