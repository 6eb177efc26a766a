package sipworker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// SIPp holds the call (a=sendonly answered a=recvonly), resumes it
// (a=sendrecv) and then its key presses still drive the menu.
func TestHoldResumeThenDTMF(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		for range 2 {
			res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
				Prompts: []activities.Prompt{{Text: "For sales press 1. For support press 2."}}, BargeIn: true, MaxDigits: 1, Timeout: 8 * time.Second})
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
		}
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Bye."}}})
	})
	mustPass(t, r.sipp("uac_hold.xml", "1000"))
	for _, want := range []string{"dtmf:1", "dtmf:2"} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("collect = %s, want %s", g, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no collect result, want %s", want)
		}
	}
	r.waitIdle()
}

// While the caller holds the call no prompt RTP reaches it; after the
// resume it flows again and a key still ends the prompt.
func TestHoldStopsPromptRTP(t *testing.T) {
	got := make(chan string, 2)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		res, err := w.Collect(ctx, activities.CollectInput{CallID: call.CallID,
			Prompts: []activities.Prompt{{Text: strings.Repeat("This menu goes on and on. ", 6)}}, BargeIn: true, MaxDigits: 1, Timeout: 8 * time.Second})
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- res.Kind + ":" + res.Digits
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	})
	u := sipptest.NewUAC(t, sipptest.UACConfig{Target: r.addr})
	u.Invite("1000")
	res := u.Response("INVITE", 5*time.Second)
	for res.StatusCode < 200 {
		res = u.Response("INVITE", 5*time.Second)
	}
	if res.StatusCode != 200 {
		t.Fatalf("INVITE answered %s", sipptest.Describe(res))
	}
	u.Ack(res)
	time.Sleep(600 * time.Millisecond)
	if n := u.RTPBetween(time.Now().Add(-400*time.Millisecond), time.Now()); n < 15 {
		t.Fatalf("%d RTP packets in the 400 ms before hold: the prompt is not playing", n)
	}

	for _, dir := range []string{"sendonly", "inactive"} {
		u.ReInvite(dir)
		hold := u.Response("INVITE", 3*time.Second)
		body := string(hold.Body())
		want := map[string]string{"sendonly": "a=recvonly", "inactive": "a=inactive"}[dir]
		if hold.StatusCode != 200 || !strings.Contains(body, want) {
			t.Fatalf("hold (%s) answered %s with SDP\n%s\nwant %s", dir, sipptest.Describe(hold), body, want)
		}
		u.Ack(hold)
		held := time.Now().Add(100 * time.Millisecond) // packets already on their way
		time.Sleep(1100 * time.Millisecond)
		if n := u.RTPBetween(held, time.Now()); n > 0 {
			t.Errorf("held (%s): %d RTP packets in 1 s, want none", dir, n)
		}
	}

	u.ReInvite("sendrecv")
	resume := u.Response("INVITE", 3*time.Second)
	if resume.StatusCode != 200 || !strings.Contains(string(resume.Body()), "a=sendrecv") {
		t.Fatalf("resume answered %s with SDP\n%s", sipptest.Describe(resume), resume.Body())
	}
	u.Ack(resume)
	resumed := time.Now()
	time.Sleep(600 * time.Millisecond)
	if n := u.RTPBetween(resumed, time.Now()); n < 15 {
		t.Errorf("%d RTP packets in the 600 ms after resume, want the prompt again", n)
	}
	u.Info('5')
	select {
	case g := <-got:
		if g != "dtmf:5" {
			t.Fatalf("collect = %s, want dtmf:5", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no collect result")
	}
	u.Request("BYE", 5*time.Second)
	r.waitIdle()
}
