package sipworker

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// TestOriginateDetectsMachine: an originated call with answering-machine
// detection tells a person's "Hello?" from a voicemail greeting, both
// played by a SIPp callee.
func TestOriginateDetectsMachine(t *testing.T) {
	r := newRig(t, nil)
	for _, c := range []struct {
		greeting string
		want     string
	}{
		{"Hello?", audio.AnsweredHuman},
		{"Hi, you have reached the Smith family. We cannot come to the phone right now, please leave a message after the tone.", audio.AnsweredMachine},
	} {
		t.Run(c.want, func(t *testing.T) {
			port := sipptest.FreePort(t)
			wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_greeting.xml"), Port: port, Timeout: 20 * time.Second,
				Files: map[string][]byte{"greeting.pcap": speechPcap(t, callerPart{gap: 40 * time.Millisecond, say: c.greeting})}})
			time.Sleep(300 * time.Millisecond) // let SIPp bind
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			id := "amd-" + c.want
			began := time.Now()
			res, err := r.w.Originate(ctx, activities.OriginateInput{CallID: id, To: "sip:callee@127.0.0.1:" + strconv.Itoa(port), Timeout: 5 * time.Second, DetectMachine: true})
			if err != nil || res.Outcome != activities.OriginateAnswered {
				t.Fatalf("originate = %+v, %v\n%s", res, err, wait().Output)
			}
			t.Logf("%q: %s, %v after the INVITE", c.greeting, res.AnsweredBy, time.Since(began).Round(time.Millisecond))
			if res.AnsweredBy != c.want {
				t.Errorf("answered by %q, want %q", res.AnsweredBy, c.want)
			}
			if err := r.w.Hangup(ctx, activities.HangupInput{CallID: id}); err != nil {
				t.Fatal(err)
			}
			mustPass(t, wait())
			r.waitIdle()
		})
	}
}
