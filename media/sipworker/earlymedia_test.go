package sipworker

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// earlyFlows publishes flows whose name starts with "early" with
// settings.early_media, the others without.
type earlyFlows struct{}

func (earlyFlows) LoadPublished(ctx context.Context, name string) (activities.FlowSource, error) {
	src := "name: " + name + "\n"
	if strings.HasPrefix(name, "early") {
		src += "settings:\n  early_media: true\n"
	}
	return activities.FlowSource{Name: name, Version: 1, Source: src}, nil
}

func withEarlyFlows(c *Config) {
	c.Numbers = fakeNumbers{flows: map[string]string{"1000": "menu", "2000": "early-closed", "2100": "early-menu"}}
	c.Flows = earlyFlows{}
}

// earlyScript runs the two early-media flows: a closed announcement
// (play, hangup) and a greeting followed by a menu.
func earlyScript(got chan<- string) func(ctx context.Context, w *Worker, call CallStart) {
	return func(ctx context.Context, w *Worker, call CallStart) {
		id := call.Call.ID
		switch call.Flow.Name {
		case "early-closed":
			if err := w.play(ctx, activities.PlayInput{CallID: id, Prompts: []activities.Prompt{{Text: "We are closed. Please call again tomorrow."}}}); err != nil {
				got <- "play error: " + err.Error()
				return
			}
			s, err := w.session(id)
			if err != nil {
				got <- "session: " + err.Error()
				return
			}
			got <- "answered after play: " + map[bool]string{true: "yes", false: "no"}[s.answered()]
			if err := w.hangupCall(ctx, activities.HangupInput{CallID: id}); err != nil {
				got <- "hangup error: " + err.Error()
			}
		case "early-menu":
			if err := w.play(ctx, activities.PlayInput{CallID: id, Prompts: []activities.Prompt{{Text: "Welcome."}}}); err != nil {
				got <- "play error: " + err.Error()
				return
			}
			res, err := w.collect(ctx, activities.CollectInput{CallID: id, Prompts: []activities.Prompt{{Text: "Press a key."}},
				BargeIn: true, MaxDigits: 1, Timeout: 8 * time.Second})
			if err != nil {
				got <- "collect error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
			_ = w.hangupCall(ctx, activities.HangupInput{CallID: id, Prompts: []activities.Prompt{{Text: "Bye."}}})
		}
	}
}

// A closed announcement as early media: 183 with SDP, then 480 (SIPp
// fails the scenario on a 200 or a BYE).
func TestEarlyMediaClosedAnnouncement(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, earlyScript(got), withEarlyFlows)
	mustPass(t, r.sipp("uac_early_closed.xml", "2000"))
	if g := <-got; g != "answered after play: no" {
		t.Fatalf("script: %s", g)
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.started) != 1 || r.started[0].Flow.Name != "early-closed" {
		t.Fatalf("started %+v", r.started)
	}
	if len(r.hangups) != 0 {
		t.Errorf("the flow hung up, yet a caller hangup was signalled: %v", r.hangups)
	}
}

// A greeting as early media, answered for the menu: 183 with SDP, 200 OK,
// then the key press drives the flow.
func TestEarlyMediaAnsweredForMenu(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, earlyScript(got), withEarlyFlows)
	mustPass(t, r.sipp("uac_early_menu.xml", "2100"))
	select {
	case g := <-got:
		if g != "dtmf:1" {
			t.Fatalf("collect = %s, want dtmf:1", g)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no collect result")
	}
	r.waitIdle()
}

// The prompt's RTP reaches the caller between the 183 and the 480, and no
// 200 is ever sent; a flow without early_media still answers at once.
func TestEarlyMediaRTPBeforeFinalResponse(t *testing.T) {
	got := make(chan string, 4)
	r := newRig(t, earlyScript(got), withEarlyFlows)
	u := sipptest.NewUAC(t, sipptest.UACConfig{Target: r.addr})
	u.Invite("2000")
	res := u.Response("INVITE", 5*time.Second)
	if res.StatusCode != 183 || !strings.Contains(string(res.Body()), "m=audio") {
		t.Fatalf("first response %s, body %q; want 183 with SDP", sipptest.Describe(res), res.Body())
	}
	at183 := time.Now()
	final := u.Response("INVITE", 10*time.Second)
	at480 := time.Now()
	if final.StatusCode != 480 {
		t.Fatalf("final response %s, want 480", sipptest.Describe(final))
	}
	u.Ack(final)
	// "We are closed. Please call again tomorrow." is 42 characters of
	// toneTTS: 2.5 s, 126 packets of 20 ms.
	n := u.RTPBetween(at183, at480)
	t.Logf("%d RTP packets in the %v between 183 and 480", n, at480.Sub(at183).Round(time.Millisecond))
	if n < 100 {
		t.Errorf("%d RTP packets between 183 and 480 (%v), want the whole announcement (~126)", n, at480.Sub(at183))
	}
	if late := u.RTPBetween(at480, time.Now().Add(time.Hour)); late > 2 {
		t.Errorf("%d RTP packets after the 480", late)
	}
	if g := <-got; g != "answered after play: no" {
		t.Fatalf("script: %s", g)
	}
	r.waitIdle()
	// Nothing else arrived: no 200, no BYE.
	for m := u.Next(300 * time.Millisecond); m != nil; m = u.Next(300 * time.Millisecond) {
		if d := sipptest.Describe(m); !strings.HasPrefix(d, "480") {
			t.Errorf("unexpected message after the 480: %s", d)
		}
	}
}

// Without early_media the normal path is unchanged: 180 then 200.
func TestNoEarlyMediaAnswersAtOnce(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call CallStart) {
		_ = w.hangupCall(ctx, activities.HangupInput{CallID: call.Call.ID, Prompts: []activities.Prompt{{Text: "Bye."}}})
	}, withEarlyFlows)
	u := sipptest.NewUAC(t, sipptest.UACConfig{Target: r.addr})
	u.Invite("1000")
	var codes []int
	for {
		res := u.Response("INVITE", 5*time.Second)
		codes = append(codes, res.StatusCode)
		if res.StatusCode >= 200 {
			u.Ack(res)
			break
		}
	}
	if len(codes) != 2 || codes[0] != 180 || codes[1] != 200 {
		t.Fatalf("responses %v, want [180 200]", codes)
	}
	u.Request("BYE", 5*time.Second)
	r.waitIdle()
}
