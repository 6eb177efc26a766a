package sipworker

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

func withEarlyFlows(c *Config) {
	c.Routes = fakeRoutes{flows: map[string]string{"1000": "menu", "2000": "early-closed", "2100": "early-menu"}}
}

// earlyScript runs the two early-media flows: a closed announcement
// (play, hangup) and a greeting followed by a menu.
func earlyScript(got chan<- string) func(ctx context.Context, w *Worker, call activities.CallStart) {
	return func(ctx context.Context, w *Worker, call activities.CallStart) {
		id := call.CallID
		switch call.Flow.Name {
		case "early-closed":
			if err := w.Play(ctx, activities.PlayInput{CallID: id, Prompts: []activities.Prompt{{Text: "We are closed. Please call again tomorrow."}}}); err != nil {
				got <- "play error: " + err.Error()
				return
			}
			s, err := w.session(id)
			if err != nil {
				got <- "session: " + err.Error()
				return
			}
			got <- "answered after play: " + map[bool]string{true: "yes", false: "no"}[s.answered()]
			if err := w.Hangup(ctx, activities.HangupInput{CallID: id}); err != nil {
				got <- "hangup error: " + err.Error()
			}
		case "early-menu":
			if err := w.Play(ctx, activities.PlayInput{CallID: id, Prompts: []activities.Prompt{{Text: "Welcome."}}}); err != nil {
				got <- "play error: " + err.Error()
				return
			}
			res, err := w.Collect(ctx, activities.CollectInput{CallID: id, Prompts: []activities.Prompt{{Text: "Press a key."}},
				BargeIn: true, MaxDigits: 1, Timeout: 8 * time.Second})
			if err != nil {
				got <- "collect error: " + err.Error()
				return
			}
			got <- res.Kind + ":" + res.Digits
			_ = w.Hangup(ctx, activities.HangupInput{CallID: id, Prompts: []activities.Prompt{{Text: "Bye."}}})
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
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: "Bye."}}})
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

// The caller gives up during the announcement: CANCEL gets 200, the
// INVITE 487, the play stops and the workflow is told the caller hung up.
func TestEarlyMediaCancel(t *testing.T) {
	played := make(chan error, 1)
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		played <- w.Play(ctx, activities.PlayInput{CallID: call.CallID, Prompts: []activities.Prompt{{Text: strings.Repeat("We are closed. ", 10)}}})
	}, withEarlyFlows)
	u := sipptest.NewUAC(t, sipptest.UACConfig{Target: r.addr})
	u.Invite("2000")
	if res := u.Response("INVITE", 5*time.Second); res.StatusCode != 183 {
		t.Fatalf("first response %s, want 183", sipptest.Describe(res))
	}
	time.Sleep(500 * time.Millisecond)
	u.Cancel()
	if res := u.Response("CANCEL", 3*time.Second); res.StatusCode != 200 {
		t.Fatalf("CANCEL answered %s", sipptest.Describe(res))
	}
	final := u.Response("INVITE", 3*time.Second)
	if final.StatusCode != 487 {
		t.Fatalf("INVITE ended with %s, want 487", sipptest.Describe(final))
	}
	u.Ack(final)
	select {
	case err := <-played:
		if !activities.IsCallGone(err) {
			t.Fatalf("play = %v, want CallGone", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("play did not stop on CANCEL")
	}
	r.waitIdle()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.started) != 1 || len(r.hangups) != 1 || r.hangups[0] != r.started[0].CallID {
		t.Fatalf("started %v, hangups %v", r.started, r.hangups)
	}
}

// Calls that end unanswered (480) or answered after early media leave no
// goroutines behind.
func TestEarlyMediaLeavesNoGoroutines(t *testing.T) {
	got := make(chan string, 8)
	r := newRig(t, earlyScript(got), withEarlyFlows)
	mustPass(t, r.sipp("uac_early_closed.xml", "2000")) // warm up
	<-got
	r.waitIdle()
	time.Sleep(200 * time.Millisecond)
	before := runtime.NumGoroutine()
	mustPass(t, r.sipp("uac_early_closed.xml", "2000"))
	mustPass(t, r.sipp("uac_early_menu.xml", "2100"))
	for range 2 {
		<-got
	}
	r.waitIdle()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d after calls, %d before\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
