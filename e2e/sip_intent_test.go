package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/store"
)

// spokenTurns is PCMU RTP of a caller who says each text (espeak-ng),
// with gap of silence after each.
func spokenTurns(t *testing.T, gap time.Duration, texts ...string) []byte {
	t.Helper()
	var pcm []int16
	for _, text := range texts {
		pcm = append(append(pcm, spoken(t, text)...), silence(gap)...)
	}
	return pcmPcap(t, pcm)
}

// SIPp callers of the billing line say what they want in their own words
// (espeak-ng, decoded offline by pocketsphinx, classified by the offline
// matcher): the flow takes the intent's exit with the account filled, in
// one sentence or after the follow-up question.
func TestSIPBillingLineIntent(t *testing.T) {
	s := newSIPStack(t)
	calls := []struct {
		name, from string
		turns      []string
		account    string
		aiTurns    int
	}{
		{"account in the sentence", "+15550110", []string{"I want to pay my bill for account one two three"}, "123", 1},
		{"account asked for", "+15550111", []string{"I want to pay my bill", "one two three"}, "123", 2},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_speech_intent.xml"), Target: s.addr, Service: "5000",
				Timeout: 60 * time.Second, Args: []string{"-key", "caller", c.from},
				Files: map[string][]byte{"speech_intent.pcap": spokenTurns(t, 5*time.Second, c.turns...)}})
			if res.Err != nil {
				t.Fatalf("%v\n%s", res.Err, res.Output)
			}
			rec := s.cdr("billing-line", c.from)
			if got, want := pathOf(rec), "understand>payment_link>goodbye"; got != want {
				t.Fatalf("path = %s, want %s (AI turns %+v)", got, want, rec.Path[0].AI)
			}
			ai := rec.Path[0].AI
			if rec.Vars["account"] != c.account || len(ai) != c.aiTurns || ai[0].Intent != "pay_bill" || ai[0].Source != "offline" {
				t.Errorf("account = %v, AI turns = %+v", rec.Vars["account"], ai)
			}
			if rec.Outcome != records.OutcomeCompleted || rec.Channel != "sip" {
				t.Errorf("outcome %s channel %s", rec.Outcome, rec.Channel)
			}
			waitFor(t, "the call's summary", func() bool {
				r, _, err := s.store.SearchCDRs(context.Background(), store.CDRQuery{Flow: "billing-line", From: c.from})
				return err == nil && len(r) == 1 && r[0].Insights != nil && r[0].Insights.Summary != ""
			})
		})
	}
	s.idle()
}
