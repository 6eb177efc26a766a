package sipworker

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// uas starts a SIPp callee on a free port and returns its SIP URI (with
// user) and the wait for its result.
func (r *rig) uas(scenario, user string, args ...string) (string, func() sipptest.Result) {
	r.t.Helper()
	port := sipptest.FreePort(r.t)
	wait := sipptest.Start(r.t, sipptest.Call{Scenario: sipptest.Scenario(r.t, scenario), Port: port, Args: args, Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond) // let SIPp bind
	return "sip:" + user + "@127.0.0.1:" + strconv.Itoa(port), wait
}

func TestOriginateAnsweredPlayAndCalleeBye(t *testing.T) {
	r := newRig(t, nil, func(c *Config) { c.OriginateFrom = "+15550199" })
	to, wait := r.uas("uas_answer.xml", "callee", "-rtp_echo")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	res, err := r.w.Originate(ctx, activities.OriginateInput{CallID: "out-1", To: to, Timeout: 5 * time.Second,
		Headers: map[string]string{"X-Campaign": "callback", "Call-ID": "ignored"}})
	if err != nil || res.Outcome != activities.OriginateAnswered {
		t.Fatalf("originate = %+v, %v", res, err)
	}
	if r.w.LiveCalls() != 1 {
		t.Fatalf("live calls = %d", r.w.LiveCalls())
	}
	// A repeated request finds the call.
	if res, err := r.w.Originate(ctx, activities.OriginateInput{CallID: "out-1", To: to}); err != nil || res.Outcome != activities.OriginateAnswered {
		t.Fatalf("repeated originate = %+v, %v", res, err)
	}

	// SIPp echoes our RTP: the prompt we play comes back as audio.
	s, err := r.w.session("out-1")
	if err != nil {
		t.Fatal(err)
	}
	var loud atomic.Int64
	untap := s.tap(func(pcm []int16) {
		var sum float64
		for _, v := range pcm {
			sum += float64(v) * float64(v)
		}
		if sum/float64(len(pcm)) > 1e6 { // RMS > 1000
			loud.Add(1)
		}
	})
	start := time.Now()
	if err := r.w.Play(ctx, activities.PlayInput{CallID: "out-1", NodeID: "greet", Prompts: []activities.Prompt{{Text: "Hello, this is your callback."}}}); err != nil {
		t.Fatalf("play on the originated call: %v", err)
	}
	untap()
	if d := time.Since(start); d < 1500*time.Millisecond {
		t.Errorf("play took %v, want the prompt's length (~1.7s)", d)
	}
	if n := loud.Load(); n < 40 {
		t.Errorf("heard %d loud frames of our prompt echoed back, want >= 40", n)
	}

	// The callee hangs up (BYE after 3 s): the workflow is told.
	res2 := wait()
	mustPass(t, res2)
	r.waitIdle()
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		hung := slices.Contains(r.hangups, "out-1")
		r.mu.Unlock()
		if hung {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("callee BYE did not signal hangup")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.w.Play(ctx, activities.PlayInput{CallID: "out-1", Prompts: []activities.Prompt{{Text: "x"}}}); !isCallGone(err) {
		t.Fatalf("play after BYE = %v, want CallGone", err)
	}
	for _, want := range []string{"INVITE sip:callee@127.0.0.1", "From: <sip:+15550199@127.0.0.1>", "X-Campaign: callback"} {
		if !strings.Contains(res2.Output, want) {
			t.Errorf("INVITE lacks %q:\n%s", want, res2.Output)
		}
	}
	if strings.Contains(res2.Output, "Call-ID: ignored") {
		t.Error("request header overrode Call-ID")
	}
}

func isCallGone(err error) bool {
	return activities.IsCallGone(err)
}

func TestOriginateBusy(t *testing.T) {
	r := newRig(t, nil)
	to, wait := r.uas("uas_busy.xml", "callee")
	res, err := r.w.Originate(context.Background(), activities.OriginateInput{CallID: "out-busy", To: to, Timeout: 5 * time.Second})
	if err != nil || res.Outcome != activities.OriginateBusy || res.SIPStatus != 486 {
		t.Fatalf("originate = %+v, %v; want busy 486", res, err)
	}
	mustPass(t, wait())
	r.waitIdle()
	if _, err := r.w.session("out-busy"); err == nil {
		t.Fatal("session left for a busy call")
	}
}

func TestOriginateNoAnswerSendsCancel(t *testing.T) {
	r := newRig(t, nil)
	to, wait := r.uas("uas_noanswer.xml", "callee")
	start := time.Now()
	res, err := r.w.Originate(context.Background(), activities.OriginateInput{CallID: "out-na", To: to, Timeout: 1500 * time.Millisecond})
	took := time.Since(start)
	if err != nil || res.Outcome != activities.OriginateNoAnswer {
		t.Fatalf("originate = %+v, %v; want no_answer", res, err)
	}
	if res.SIPStatus != 487 {
		t.Errorf("SIP status = %d, want 487 (after our CANCEL)", res.SIPStatus)
	}
	if took < 1400*time.Millisecond || took > 4*time.Second {
		t.Errorf("rang for %v, want ~1.5s", took)
	}
	mustPass(t, wait()) // the UAS passes only if it got a CANCEL
	r.waitIdle()
}

func TestOriginateCancelledWhileRinging(t *testing.T) {
	r := newRig(t, nil)
	to, wait := r.uas("uas_noanswer.xml", "callee")
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(800*time.Millisecond, cancel)
	start := time.Now()
	_, err := r.w.Originate(ctx, activities.OriginateInput{CallID: "out-cx", To: to, Timeout: 10 * time.Second})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("originate = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancellation took %v", d)
	}
	mustPass(t, wait())
	r.waitIdle()
}

func TestOriginateNumberThroughTrunk(t *testing.T) {
	port := sipptest.FreePort(t)
	r := newRig(t, nil, func(c *Config) {
		c.Trunk = &Trunk{URI: "sip:127.0.0.1:" + strconv.Itoa(port)}
	})
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_busy.xml"), Port: port, Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond)
	res, err := r.w.Originate(context.Background(), activities.OriginateInput{CallID: "out-trunk", To: "+15557654321", From: "4000", Timeout: 5 * time.Second})
	if err != nil || res.Outcome != activities.OriginateBusy {
		t.Fatalf("originate = %+v, %v", res, err)
	}
	out := wait()
	mustPass(t, out)
	for _, want := range []string{"INVITE sip:+15557654321@127.0.0.1:" + strconv.Itoa(port), "From: <sip:4000@127.0.0.1>"} {
		if !strings.Contains(out.Output, want) {
			t.Errorf("INVITE lacks %q:\n%s", want, out.Output)
		}
	}
}

func TestOriginateDigestAuth(t *testing.T) {
	port := sipptest.FreePort(t)
	r := newRig(t, nil, func(c *Config) {
		c.Trunk = &Trunk{URI: "sip:127.0.0.1:" + strconv.Itoa(port), Username: "voxflow", Password: "s3cret"}
	})
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_auth_busy.xml"), Port: port, Timeout: 20 * time.Second})
	time.Sleep(300 * time.Millisecond)
	res, err := r.w.Originate(context.Background(), activities.OriginateInput{CallID: "out-auth", To: "5551000", Timeout: 5 * time.Second})
	// The UAS answers a correct digest with 486 (so nothing is left up) and a
	// wrong one with 403.
	if err != nil || res.Outcome != activities.OriginateBusy {
		t.Fatalf("originate = %+v, %v; want busy (digest accepted)", res, err)
	}
	mustPass(t, wait())
}

func TestOriginateBadInput(t *testing.T) {
	r := newRig(t, nil)
	for _, in := range []activities.OriginateInput{
		{CallID: "", To: "sip:a@127.0.0.1"},
		{CallID: "x", To: ""},
		{CallID: "x", To: "5551234"}, // a number, and no trunk
		{CallID: "x", To: "sip:a@127.0.0.1", From: "bad caller"},
	} {
		_, err := r.w.Originate(context.Background(), in)
		if !activities.IsBadInput(err) {
			t.Errorf("originate(%+v) = %v, want BadInput", in, err)
		}
	}
	if r.w.inflight.Load() != 0 {
		t.Fatalf("inflight = %d", r.w.inflight.Load())
	}
}

func TestOriginateDraining(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := r.w.Originate(context.Background(), activities.OriginateInput{CallID: "x", To: "sip:a@127.0.0.1:9"})
	if err != nil || res.Outcome != activities.OriginateFailed || res.SIPStatus != 503 {
		t.Fatalf("originate while draining = %+v, %v", res, err)
	}
}

// fakeRegistry records reports; it has RemoveMediaWorker like the store.
type fakeRegistry struct {
	mu      sync.Mutex
	reports []records.MediaWorker
	removed []string
}

func (f *fakeRegistry) ReportMediaWorker(ctx context.Context, w records.MediaWorker) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, w)
	return nil
}

func (f *fakeRegistry) RemoveMediaWorker(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

func (f *fakeRegistry) last() (records.MediaWorker, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reports) == 0 {
		return records.MediaWorker{}, 0
	}
	return f.reports[len(f.reports)-1], len(f.reports)
}

func TestRegistryReports(t *testing.T) {
	reg := &fakeRegistry{}
	r := newRig(t, nil, func(c *Config) { c.Registry, c.ReportInterval = reg, 50*time.Millisecond })
	waitFor := func(what string, ok func(records.MediaWorker, int) bool) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for {
			w, n := reg.last()
			if ok(w, n) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: last report %+v (%d reports)", what, w, n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("periodic reports", func(w records.MediaWorker, n int) bool {
		return n >= 3 && w.ID == "test" && w.Queue == "media-test" && w.LiveCalls == 0 && time.Since(w.SeenAt) < time.Second
	})
	r.w.inflight.Add(2) // two calls ringing or live
	waitFor("load", func(w records.MediaWorker, n int) bool { return w.LiveCalls == 2 })
	r.w.inflight.Add(-2)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.w.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor("draining", func(w records.MediaWorker, n int) bool { return w.LiveCalls == -1 })
	r.w.Close()
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if len(reg.removed) != 1 || reg.removed[0] != "test" {
		t.Fatalf("removed = %v", reg.removed)
	}
}
