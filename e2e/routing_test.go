package e2e

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/wav"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

// queueFlow waits in queue e2e (recorded, into vars.q) and hangs up after.
const queueFlow = `name: queue-e2e
entry: hello
nodes:
  hello:
    type: play
    say: "Please hold."
    next: wait
  wait:
    type: queue
    queue: e2e
    skills: '["english"]'
    record: true
    var: q
    next: bye
    on_timeout: bye
  bye:
    type: hangup
    say: "Goodbye."
`

// routingRig is a platform with queue e2e and flow queue-e2e on number
// 5555 (voxflow dev, or the split processes of restartRig), and agents
// signed in through the router.
type routingRig struct {
	t         *testing.T
	sipAddr   string
	dsn       string
	st        *store.Store
	registrar *registrar.Registrar
	router    platform.Router
}

func newRoutingRig(t *testing.T) *routingRig {
	dev, sipAddr, dsn := startDevSIP(t)
	r := &routingRig{t: t, sipAddr: sipAddr, dsn: dsn, st: dev.Store, registrar: dev.Media.Registrar,
		router: platform.Router{Client: dev.Client}}
	r.defineQueue()
	return r
}

// defineQueue defines queue e2e (short ring, wrap-up and hold cycle) and
// binds 5555 to a flow that waits in it.
func (r *routingRig) defineQueue() {
	t, ctx := r.t, context.Background()
	if err := r.st.PutQueue(ctx, store.Queue{Name: "e2e", HoldFlow: "queue-hold", AnnounceEvery: 5 * time.Second,
		RingTimeout: 6 * time.Second, WrapUp: 2 * time.Second, MaxWait: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.st.PublishSource(ctx, "queue-e2e", queueFlow, "test", ""); err != nil {
		t.Fatal(err)
	}
	if err := r.st.BindNumber(ctx, "5555", "queue-e2e"); err != nil {
		t.Fatal(err)
	}
}

// agent adds an agent with skill english serving e2e, starts their
// softphone (baresip: a 1 kHz "voice"; auto-answer or left ringing) and
// waits until it registered.
func (r *routingRig) agent(name string, answer bool) *sipptest.Baresip {
	t := r.t
	password := addAgent(t, r.dsn, name)
	if err := r.st.SetAgentProfile(context.Background(), store.AgentProfile{Username: name,
		Skills: map[string]int{"english": 5}, Queues: []string{"e2e"}, Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	mode := "manual"
	if answer {
		mode = "auto"
	}
	voice := filepath.Join(t.TempDir(), "voice.wav")
	if err := wav.WriteFile(voice, 8000, audio.Tone(1000, 60_000, -12)); err != nil {
		t.Fatal(err)
	}
	phone := sipptest.StartBaresipWith(t, sipptest.BaresipOptions{
		Accounts:    []string{"<sip:" + name + "@" + r.sipAddr + ">;auth_pass=" + password + ";regint=600;answermode=" + mode},
		AudioSource: "aufile," + voice,
	})
	waitFor(t, name+"'s phone registered", func() bool {
		cs, err := r.registrar.Lookup(context.Background(), name)
		return err == nil && len(cs) == 1
	})
	return phone
}

// setState changes an agent's state as `voxflow agents state` does.
func (r *routingRig) setState(name, state string) {
	r.t.Helper()
	p, err := r.st.AgentProfile(context.Background(), name)
	if err != nil {
		r.t.Fatal(err)
	}
	_, err = r.router.SetAgent(context.Background(), activities.AgentRequest{Agent: name, State: state,
		Profile: &activities.AgentProfile{Skills: p.Skills, Queues: p.Queues, Capacity: p.Capacity}})
	if err != nil {
		r.t.Fatalf("%s %s: %v", name, state, err)
	}
}

func (r *routingRig) board() activities.Board {
	r.t.Helper()
	b, err := r.router.Board(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

func (r *routingRig) agentView(name string) activities.AgentView {
	for _, a := range r.board().Agents {
		if a.Name == name {
			return a
		}
	}
	return activities.AgentView{}
}

func (r *routingRig) queueView(name string) activities.QueueView {
	for _, q := range r.board().Queues {
		if q.Name == name {
			return q
		}
	}
	return activities.QueueView{}
}

// hangUpAfter has an agent's phone hang up talk after the call is
// established (within wait), in the background.
func hangUpAfter(phone *sipptest.Baresip, wait, talk time.Duration) {
	go func() {
		if phone.WaitOutput("Call established", wait) {
			time.Sleep(talk)
			phone.Command("/hangup")
		}
	}()
}

// A SIPp caller waits in queue e2e (hold flow playing) until an agent is
// free. Bob, signed in first (longest idle), lets his phone ring: after the
// ring timeout he goes not-ready and the caller, back at the front, is
// offered to alice, whose phone answers. They talk both ways through the
// bridge (the stereo recording has the caller's 440 Hz and alice's 1 kHz)
// until alice hangs up; the CDR has the queue stay with agent, ring, talk
// and two offers, and alice's wrap-up lands in it when it ends.
func TestDevQueueToAgent(t *testing.T) {
	r := newRoutingRig(t)
	bob := r.agent("bob", false)
	alice := r.agent("alice", true)
	r.setState("bob", "available")
	time.Sleep(50 * time.Millisecond) // bob has been idle longer
	r.setState("alice", "available")
	hangUpAfter(alice, 60*time.Second, 4*time.Second)
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_queue.xml"), Target: r.sipAddr, Service: "5555",
		Timeout: 90 * time.Second, Files: map[string][]byte{"tone.pcap": sipptest.TonePcap(440, 40*time.Second)}})
	if res.Err != nil {
		t.Fatalf("%v\n%s\n--- alice ---\n%s\n--- bob ---\n%s", res.Err, res.Output, alice.Output(), bob.Output())
	}
	rec := oneCDR(t, r.st, store.CDRQuery{Flow: "queue-e2e"})
	if len(rec.Queues) != 1 {
		t.Fatalf("queue stays %+v, path %s", rec.Queues, pathOf(rec))
	}
	stay := rec.Queues[0]
	if stay.Queue != "e2e" || stay.Outcome != records.QueueAnswered || stay.Agent != "alice" || stay.Offers != 2 {
		t.Errorf("stay = %+v, want answered by alice after 2 offers\n--- alice ---\n%s", stay, alice.Output())
	}
	if stay.Talk < 3*time.Second || stay.Ring <= 0 || stay.Wait < 6*time.Second {
		t.Errorf("stay times = wait %v ring %v talk %v, want a wait past bob's 6 s ring, a ring and ~4 s of talk", stay.Wait, stay.Ring, stay.Talk)
	}
	if q, _ := rec.Vars["q"].(map[string]any); q["outcome"] != records.QueueAnswered || q["agent"] != "alice" {
		t.Errorf("vars.q = %v", rec.Vars["q"])
	}
	checkBothWays(t, rec)
	if v := r.agentView("bob"); v.State != "break" || v.Reason != "missed call" {
		t.Errorf("bob after not answering: %+v", v)
	}
	waitFor(t, "alice's wrap-up in the CDR", func() bool {
		got := oneCDR(t, r.st, store.CDRQuery{Flow: "queue-e2e"})
		return len(got.Queues) == 1 && got.Queues[0].WrapUp > 0
	})
	if v := r.agentView("alice"); v.State != "available" {
		t.Errorf("alice after wrap-up: %+v", v)
	}
}

// checkBothWays reads the call's stereo recording: the caller's tone on
// the left, the agent's on the right.
func checkBothWays(t *testing.T, rec records.CDR) {
	t.Helper()
	if len(rec.Recordings) != 1 {
		t.Fatalf("recordings %v", rec.Recordings)
	}
	left, right, err := sipptest.ReadStereo(strings.TrimPrefix(rec.Recordings[0], "file://"))
	if err != nil {
		t.Fatal(err)
	}
	l, rt := sipptest.Loudest(left), sipptest.Loudest(right)
	if len(l) < 8000 || sipptest.ToneShare(l, 440) < 0.5 {
		t.Errorf("caller side: %d loud samples, 440 Hz share %.2f", len(l), sipptest.ToneShare(l, 440))
	}
	if len(rt) < 8000 || sipptest.ToneShare(rt, 1000) < 0.5 {
		t.Errorf("agent side: %d loud samples, 1 kHz share %.2f", len(rt), sipptest.ToneShare(rt, 1000))
	}
}

// A caller who hangs up while waiting is abandoned: the stay says so and
// the queue counts it against its service level.
func TestDevQueueAbandoned(t *testing.T) {
	r := newRoutingRig(t)
	r.agent("carol", true)
	r.setState("carol", "available")
	r.setState("carol", "break") // staffed, but nobody free: the caller waits
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_queue_abandon.xml"), Target: r.sipAddr,
		Service: "5555", Timeout: 30 * time.Second})
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	rec := oneCDR(t, r.st, store.CDRQuery{Flow: "queue-e2e"})
	if len(rec.Queues) != 1 || rec.Queues[0].Outcome != records.QueueAbandoned || rec.Outcome != records.OutcomeHungUp {
		t.Fatalf("outcome %s, stays %+v, path %s", rec.Outcome, rec.Queues, pathOf(rec))
	}
	waitFor(t, "the abandoned call counted on the board", func() bool {
		q := r.queueView("e2e")
		return q.Abandoned == 1 && q.Waiting == 0 && q.Answered == 0
	})
}

// A callback scheduled for now keeps its place, reserves the free agent
// first, then calls the customer (a SIPp phone) and, once they answer,
// rings alice: they talk, alice hangs up, the customer hears goodbye. The
// callback's CDR has the queue stay with one attempt, and the store lists
// it as done.
func TestDevCallbackAgentFirst(t *testing.T) {
	r := newRoutingRig(t)
	alice := r.agent("alice", true)
	r.setState("alice", "available")
	hangUpAfter(alice, 60*time.Second, 3*time.Second)
	port := sipptest.FreePort(t)
	customer := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_callback.xml"), Port: port,
		Args: []string{"-rtp_echo"}, Timeout: 60 * time.Second})
	ctx := context.Background()
	if _, err := r.router.ScheduleCallback(ctx, engine.CallbackInput{Queue: "e2e", ID: "cb1",
		Number: "sip:customer@127.0.0.1:" + strconv.Itoa(port), Skills: []string{"english"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if res := customer(); res.Err != nil {
		t.Fatalf("%v\n%s\n--- alice ---\n%s", res.Err, res.Output, alice.Output())
	}
	rec := oneCDR(t, r.st, store.CDRQuery{Flow: "callback"})
	if len(rec.Queues) != 1 {
		t.Fatalf("stays %+v", rec.Queues)
	}
	if s := rec.Queues[0]; s.Outcome != records.QueueAnswered || s.Agent != "alice" || s.CallbackAttempts != 1 || s.Talk < 2*time.Second {
		t.Errorf("stay %+v", s)
	}
	waitFor(t, "callback cb1 listed as done", func() bool {
		cb, err := r.st.Callback(ctx, "cb1")
		return err == nil && cb.State == activities.CallbackDone && cb.Attempts == 1 && cb.Agent == "alice"
	})
}

// A callback cannot be scheduled in the past; nothing is started.
func TestCallbackInThePast(t *testing.T) {
	_, err := platform.Router{}.ScheduleCallback(context.Background(), engine.CallbackInput{Queue: "e2e", Number: "100",
		DueAt: time.Now().Add(-time.Minute)}, time.Now())
	if !errors.Is(err, platform.ErrCallbackInPast) {
		t.Fatalf("err = %v", err)
	}
}

// The support line (open all day for the test) recognises a gold customer
// through the demo CRM and queues them in the priority queue, where alice
// (signed in, english) answers: the example reaches a real agent, and its
// CDR says through which queue.
func TestDevSupportLineReachesAgent(t *testing.T) {
	r := newRoutingRig(t)
	support := example(t, "support-line", alwaysOpen...)
	if _, err := r.st.PublishSource(context.Background(), support.Name, support.Source, "e2e", "always open"); err != nil {
		t.Fatal(err)
	}
	alice := r.agent("alice", true)
	if err := r.st.SetAgentProfile(context.Background(), store.AgentProfile{Username: "alice",
		Skills: map[string]int{"english": 5, "billing": 3}, Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	r.setState("alice", "available")
	hangUpAfter(alice, 60*time.Second, 3*time.Second)
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_queue.xml"), Target: r.sipAddr, Service: "1000",
		Timeout: 90 * time.Second, Files: map[string][]byte{"tone.pcap": sipptest.TonePcap(440, 40*time.Second)}})
	if res.Err != nil {
		t.Fatalf("%v\n%s\n--- alice ---\n%s", res.Err, res.Output, alice.Output())
	}
	rec := oneCDR(t, r.st, store.CDRQuery{Flow: "support-line"})
	// The hold flow's nodes (music, announce) may come between the queue
	// and goodbye, depending on when alice was offered.
	if got := pathOf(rec); !strings.HasPrefix(got, "welcome>office_hours>lookup>vip_check>vip_greeting>vip_queue>") ||
		!strings.HasSuffix(got, ">goodbye>wrap_up") {
		t.Errorf("path %s", got)
	}
	if len(rec.Queues) != 1 || rec.Queues[0].Queue != "priority" || rec.Queues[0].Agent != "alice" || rec.Queues[0].Outcome != records.QueueAnswered {
		t.Errorf("stays %+v", rec.Queues)
	}
}
