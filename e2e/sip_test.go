package e2e

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/server/temporaltest"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/flows/engine"
	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/store"
)

// sipMenuFlow is a two-level menu: 1 then 2 reaches new_orders.
const sipMenuFlow = `name: sip-menu
entry: welcome
settings:
  input_timeout: 8s
variables:
  department: ""
  wrapped: false
on_hangup: wrap_up
nodes:
  welcome:
    type: play
    say: "Welcome to the voxflow SIP test line."
    next: main_menu
  main_menu:
    type: menu
    prompt: "For sales press 1. For support press 2."
    options:
      "1": { next: sales_menu }
      "2": { next: support }
    retries: 1
    on_failure: goodbye
  sales_menu:
    type: menu
    prompt: "For new orders press 2. For existing orders press 3."
    options:
      "2": { next: new_orders }
      "3": { next: goodbye }
    retries: 1
    on_failure: goodbye
  new_orders:
    type: set
    assign:
      department: '"new orders"'
    next: goodbye
  support:
    type: set
    assign:
      department: '"support"'
    next: goodbye
  goodbye:
    type: hangup
    say: "Thank you for calling. Goodbye."
  wrap_up:
    type: set
    assign:
      wrapped: "true"
`

// toneTTS says every text as a 400 Hz tone, 60 ms a character: prompts
// last as long as speech would without depending on espeak-ng.
type toneTTS struct{}

func (toneTTS) Synthesize(ctx context.Context, text, voice, language string) ([]int16, error) {
	out := make([]int16, len(text)*8000*60/1000)
	for i := range out {
		out[i] = int16(8000 * math.Sin(2*math.Pi*400*float64(i)/8000))
	}
	return out, nil
}

// slowRoutes are the store's routes, slow to answer for numbers starting
// with 9: calls to them ring long enough for the caller to CANCEL.
type slowRoutes struct{ *platform.StoreRoutes }

func (r slowRoutes) Route(ctx context.Context, number string) (activities.Route, error) {
	if strings.HasPrefix(number, "9") {
		select {
		case <-time.After(1500 * time.Millisecond):
		case <-ctx.Done():
			return activities.Route{}, ctx.Err()
		}
	}
	return r.StoreRoutes.Route(ctx, number)
}

// sipStack is the e2e stack plus a SIP media worker on a loopback port,
// wired the way `voxflow dev` wires it.
type sipStack struct {
	*stack
	w         *sipworker.Worker
	addr      string
	recordDir string
}

func newSIPStack(t *testing.T) *sipStack {
	t.Helper()
	sipptest.Need(t)
	s := newStack(t)
	ctx := context.Background()
	if err := devstack.PublishExamples(ctx, s.store); err != nil {
		t.Fatal(err)
	}
	// The support line's hours node must decide the same whatever the day.
	support := example(t, "support-line", alwaysOpen...)
	if _, err := s.store.PublishSource(ctx, support.Name, support.Source, "e2e", "always open"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.PublishSource(ctx, "sip-menu", sipMenuFlow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"7000", "9000"} {
		if err := s.store.BindNumber(ctx, n, "sip-menu"); err != nil {
			t.Fatal(err)
		}
	}
	addr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	recordDir := t.TempDir()
	level := slog.LevelWarn
	if os.Getenv("SIPWORKER_DEBUG") != "" {
		level = slog.LevelDebug
	}
	cfg := config.Defaults().Media
	cfg.ID, cfg.SIPAddr, cfg.RecordDir, cfg.Registrar = "e2e-sip", addr, recordDir, false
	m, err := sipmedia.Start(ctx, cfg, sipmedia.Deps{
		Client: s.c, Store: s.store, Routes: slowRoutes{&platform.StoreRoutes{Store: s.store}}, OrphanCheck: time.Second,
		CallVars: map[string]any{"crm_url": s.crmURL}, TTS: toneTTS{},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()) })
	return &sipStack{stack: s, w: m.SIP, addr: addr, recordDir: recordDir}
}

func (s *sipStack) sipp(scenario, service string) {
	s.t.Helper()
	res := sipptest.Run(s.t, sipptest.Call{Scenario: sipptest.Scenario(s.t, scenario), Target: s.addr, Service: service, Timeout: 40 * time.Second})
	if res.Err != nil {
		s.t.Fatalf("%v\n%s", res.Err, res.Output)
	}
}

// cdr waits for the one CDR of a flow whose caller is from.
func (s *sipStack) cdr(flow, from string) records.CDR {
	s.t.Helper()
	return oneCDR(s.t, s.store, store.CDRQuery{Flow: flow, From: from})
}

func (s *sipStack) idle() {
	s.t.Helper()
	waitFor(s.t, "no live SIP calls", func() bool { return s.w.LiveCalls() == 0 })
}

func TestSIPMenuDTMF(t *testing.T) {
	s := newSIPStack(t)
	s.sipp("uac_dtmf_2833.xml", "7000")
	rec := s.cdr("sip-menu", "+15550100")
	if got, want := pathOf(rec), "welcome>main_menu>sales_menu>new_orders>goodbye>wrap_up"; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
	if rec.Outcome != records.OutcomeCompleted || rec.Channel != "sip" || rec.To != "7000" {
		t.Errorf("CDR = outcome %s channel %s to %s", rec.Outcome, rec.Channel, rec.To)
	}
	if rec.Vars["department"] != "new orders" {
		t.Errorf("vars = %v", rec.Vars)
	}
	inputs := map[string]string{}
	for _, st := range rec.Path {
		inputs[st.Node] = st.Input
	}
	if inputs["main_menu"] != "1" || inputs["sales_menu"] != "2" {
		t.Errorf("menu inputs = %v", inputs)
	}
	s.idle()
}

func TestSIPSupportLineVoicemailHangup(t *testing.T) {
	s := newSIPStack(t)
	s.sipp("uac_support_line.xml", "1000")
	rec := s.cdr("support-line", "+15550102")
	if got, want := pathOf(rec), "welcome>office_hours>lookup>vip_check>main_menu>to_billing>agent_queue>voicemail>wrap_up"; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
	if rec.Outcome != records.OutcomeHungUp {
		t.Errorf("outcome = %s, want %s", rec.Outcome, records.OutcomeHungUp)
	}
	if rec.Vars["department"] != "billing" || rec.Vars["customer_name"] != "Grace Hopper" {
		t.Errorf("vars = %v", rec.Vars)
	}
	// The caller hung up while recording: the message recorded up to the
	// hangup is kept, on disk and in the CDR.
	if len(rec.Recordings) != 1 || rec.Vars["voicemail"] != rec.Recordings[0] {
		t.Errorf("recordings = %v, voicemail var = %v", rec.Recordings, rec.Vars["voicemail"])
	}
	files, _ := filepath.Glob(filepath.Join(s.recordDir, "*.wav"))
	if len(files) != 1 {
		t.Fatalf("recordings on disk: %v", files)
	}
	if st, err := os.Stat(files[0]); err != nil || st.Size() <= 44 {
		t.Errorf("recording file %s: %v", files[0], err)
	}
	s.idle()
}

func TestSIPCallerHangupMidPrompt(t *testing.T) {
	s := newSIPStack(t)
	s.sipp("uac_hangup_midprompt.xml", "7000")
	rec := s.cdr("sip-menu", "+15550101")
	if rec.Outcome != records.OutcomeHungUp {
		t.Errorf("outcome = %s, want %s", rec.Outcome, records.OutcomeHungUp)
	}
	if got, want := pathOf(rec), "welcome>main_menu>wrap_up"; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
	if rec.Vars["wrapped"] != true {
		t.Errorf("on_hangup did not run: vars %v", rec.Vars)
	}
	s.idle()
}

func TestSIPRejectsAndKeepsServing(t *testing.T) {
	s := newSIPStack(t)
	base := sipGoroutines()
	s.sipp("uac_cancel.xml", "9000")
	for _, sc := range []string{"uac_no_contact.xml", "uac_bad_sdp.xml", "uac_unknown_codecs.xml"} {
		s.sipp(sc, "7000")
	}
	s.sipp("uac_unbound_number.xml", "4040")
	// Still serving: a whole call goes through.
	s.sipp("uac_dtmf_2833.xml", "7000")
	if rec := s.cdr("sip-menu", "+15550100"); rec.Outcome != records.OutcomeCompleted {
		t.Errorf("outcome after rejects = %s", rec.Outcome)
	}
	if recs, _, _ := s.store.SearchCDRs(context.Background(), store.CDRQuery{Flow: "sip-menu"}); len(recs) != 1 {
		t.Errorf("%d CDRs, want only the good call's", len(recs))
	}
	s.idle()
	// The SIP and media goroutines come back to where they were (the
	// embedded Temporal server's own come and go, so only ours count).
	deadline := time.Now().Add(15 * time.Second)
	for sipGoroutines() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 4<<20)
			t.Fatalf("SIP/media goroutines %d, %d before the calls\n%s", sipGoroutines(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sipGoroutines counts goroutines running SIP or media code.
func sipGoroutines() int {
	buf := make([]byte, 8<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "github.com/emiago/") || strings.Contains(g, "voxflow/media/") {
			n++
		}
	}
	return n
}

// cliMediaEnv is what `voxflow media` runs against in the CLI tests: a
// Temporal server with the engine and shared workers, and a SQLite store
// with sip-menu bound to 7000. It returns the server, the store and the
// store's path.
func cliMediaEnv(t *testing.T) (*temporaltest.TestServer, *store.Store, string) {
	t.Helper()
	ts, c := devtemporaltest.NewServer(t)
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "voxflow.db")
	st, err := store.Open(ctx, "sqlite://"+dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.PublishSource(ctx, "sip-menu", sipMenuFlow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.BindNumber(ctx, "7000", "sip-menu"); err != nil {
		t.Fatal(err)
	}
	ws, err := platform.StartWorkers(c, platform.Parts{Engine: true, Shared: platform.SharedActivities(st), Watchdog: st})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ws.Stop)
	return ts, st, dbPath
}

// `voxflow media` against an external Temporal and store answers a call
// with espeak-ng prompts (or the shipped fallback) and drains on shutdown.
func TestCLIMedia(t *testing.T) {
	sipptest.Need(t)
	ts, st, dbPath := cliMediaEnv(t)
	ctx := context.Background()

	addr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var out, errb bytes.Buffer
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Main(runCtx, []string{"media", "--temporal", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
			"--store", "sqlite://" + dbPath, "--sip", addr, "--id", "cli-media", "--record-dir", t.TempDir(), "--drain-timeout", "10s"},
			strings.NewReader(""), &out, &errb)
	}()
	waitFor(t, "SIP listener", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_2833.xml"), Target: addr, Service: "7000", Timeout: 40 * time.Second})
	if res.Err != nil {
		// What the flow did, from its CDR, says why the call went wrong.
		time.Sleep(2 * time.Second)
		recs, _, _ := st.SearchCDRs(ctx, store.CDRQuery{Flow: "sip-menu"})
		t.Fatalf("%v\n%s\n--- voxflow media ---\n%s%s\n--- CDRs ---\n%s", res.Err, res.Output, out.String(), errb.String(), describeCDRs(recs))
	}
	rec := oneCDR(t, st, store.CDRQuery{Flow: "sip-menu"})
	if got, want := pathOf(rec), "welcome>main_menu>sales_menu>new_orders>goodbye>wrap_up"; got != want || rec.Outcome != records.OutcomeCompleted {
		t.Errorf("path %s outcome %s, want %s completed", got, rec.Outcome, want)
	}
	stop()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("voxflow media exited %d\n%s%s", code, out.String(), errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("voxflow media did not exit after cancel")
	}
	if !strings.Contains(out.String(), "activities on media-cli-media") {
		t.Errorf("banner: %s", out.String())
	}
}

// describeCDRs prints call records for a failure message.
func describeCDRs(recs []records.CDR) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "%s outcome %s path %s\n", r.CallID, r.Outcome, pathOf(r))
		for _, s := range r.Path {
			fmt.Fprintf(&b, "  %s %s exit %s took %v input %q error %q\n", s.Node, s.Type, s.Outcome, s.LeftAt.Sub(s.EnteredAt), s.Input, s.Error)
		}
	}
	return b.String()
}

// A baresip softphone calls the menu line and presses 1 then 2 (RFC 4733).
func TestSIPBaresipMenu(t *testing.T) {
	s := newSIPStack(t)
	b := sipptest.StartBaresip(t)
	b.Command("/dial sip:7000@" + s.addr)
	if !b.WaitOutput("Call established", 15*time.Second) {
		t.Fatalf("call not answered:\n%s", b.Output())
	}
	time.Sleep(time.Second)
	b.Command("/sndcode 1")
	time.Sleep(time.Second)
	b.Command("/sndcode 2")
	rec := oneCDR(t, s.store, store.CDRQuery{Flow: "sip-menu"})
	if got, want := pathOf(rec), "welcome>main_menu>sales_menu>new_orders>goodbye>wrap_up"; got != want || rec.Outcome != records.OutcomeCompleted {
		t.Errorf("path %s outcome %s, want %s completed\n%s", got, rec.Outcome, want, b.Output())
	}
	if rec.From != "baresip" {
		t.Errorf("from = %q", rec.From)
	}
	if !b.WaitOutput("session closed", 10*time.Second) {
		t.Errorf("baresip did not see the hangup:\n%s", b.Output())
	}
	s.idle()
}

const outboundNotice = `name: outbound-notice
entry: notice
nodes:
  notice:
    type: play
    say: "This is voxflow calling with a reminder."
    next: confirm
  confirm:
    type: menu
    prompt: "Press 1 to confirm."
    timeout: 20s
    options:
      "1": bye
  bye:
    type: hangup
    say: "Goodbye."
`

// An outbound call through the whole chain: CallWorkflow picks the
// least-loaded media worker from the registry, the worker originates to a
// SIPp callee, and the flow runs once it answers.
func TestSIPOriginateThroughEngine(t *testing.T) {
	s := newSIPStack(t)
	ctx := context.Background()
	if _, err := s.store.PublishSource(ctx, "outbound-notice", outboundNotice, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the media worker in the registry", func() bool {
		ws, err := s.store.MediaWorkers(ctx, 10*time.Second)
		return err == nil && len(ws) == 1
	})
	port := sipptest.FreePort(t)
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_answer.xml"), Port: port, Args: []string{"-rtp_echo"}, Timeout: 30 * time.Second})
	time.Sleep(300 * time.Millisecond) // let SIPp bind
	to := "sip:callee@127.0.0.1:" + strconv.Itoa(port)
	id := platform.NewCallID()
	if _, err := platform.StartCall(ctx, s.c, engine.CallInput{
		Call:     flows.CallInfo{ID: id, From: "+15550199", To: to, Channel: "sip"},
		Flow:     activities.FlowSource{Name: "outbound-notice"}, // pinned by the workflow
		Outbound: &engine.Outbound{To: to, RingTimeout: 10 * time.Second},
	}); err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	var rec records.CDR
	if err := platform.AwaitCall(actx, s.c, id, &rec); err != nil {
		t.Fatal(err)
	}
	if res := wait(); res.Err != nil {
		t.Fatalf("SIPp callee: %v\n%s", res.Err, res.Output)
	}
	// The callee listens for 3 s, then hangs up while the menu waits.
	if pathOf(rec) != "notice>confirm" || rec.FlowVersion != 1 || rec.Outcome != records.OutcomeHungUp || rec.Channel != "sip" {
		t.Errorf("outbound call: outcome %s path %s version %d channel %s", rec.Outcome, pathOf(rec), rec.FlowVersion, rec.Channel)
	}
	s.idle()
}

// TestSIPBridgeThroughEngine: a SIPp caller reaches a flow whose transfer
// node bridges it to a SIPp callee (echoing RTP, hanging up after 3 s);
// the caller comes back to the flow, which says goodbye. The CDR has the
// path and the bridge's variable, and the stereo recording exists.
func TestSIPBridgeThroughEngine(t *testing.T) {
	s := newSIPStack(t)
	ctx := context.Background()
	port := sipptest.FreePort(t)
	callee := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_answer.xml"), Port: port, Args: []string{"-rtp_echo"}, Timeout: 30 * time.Second})
	time.Sleep(300 * time.Millisecond) // let SIPp bind
	flow := `name: desk-bridge
entry: desk
variables:
  desk: null
nodes:
  desk:
    type: transfer
    say: "Connecting you."
    to: "sip:desk@127.0.0.1:` + strconv.Itoa(port) + `"
    mode: bridge
    record: true
    var: desk
    timeout: 10s
    on_timeout: sorry
    next: bye
  sorry:
    type: hangup
    say: "Nobody is free."
  bye:
    type: hangup
    say: "Thanks for waiting."
`
	if _, err := s.store.PublishSource(ctx, "desk-bridge", flow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.store.BindNumber(ctx, "7100", "desk-bridge"); err != nil {
		t.Fatal(err)
	}
	s.sipp("uac_record.xml", "7100")
	if res := callee(); res.Err != nil {
		t.Fatalf("SIPp callee: %v\n%s", res.Err, res.Output)
	}
	rec := s.cdr("desk-bridge", "+15550100")
	if pathOf(rec) != "desk>bye" || rec.Outcome != records.OutcomeCompleted {
		t.Fatalf("outcome %s path %s", rec.Outcome, pathOf(rec))
	}
	desk, _ := rec.Vars["desk"].(map[string]any)
	if desk["outcome"] != records.OutcomeBridged {
		t.Fatalf("desk = %v", rec.Vars["desk"])
	}
	if talk, _ := desk["talk_seconds"].(float64); talk < 2.5 || talk > 10 {
		t.Errorf("talk_seconds = %v, want the callee's ~3 s", desk["talk_seconds"])
	}
	ref, _ := desk["recording"].(string)
	info, err := os.Stat(strings.TrimPrefix(ref, "file://"))
	if !strings.HasPrefix(ref, "file://") || err != nil {
		t.Fatalf("recording %q: %v", ref, err)
	}
	// ~3 s of 16-bit stereo at 8 kHz is ~96 kB.
	if info.Size() < 64_000 {
		t.Errorf("recording is %d bytes, want ~3 s of stereo", info.Size())
	}
	s.idle()
}

// An outbound call with answering-machine detection: the SIPp callee
// answers with a voicemail greeting, and the flow, branching on
// call.answered_by, leaves its message.
func TestSIPOriginateDetectsMachine(t *testing.T) {
	s := newSIPStack(t)
	ctx := context.Background()
	flow := `name: reminder-amd
entry: who
nodes:
  who:
    type: branch
    when:
      - if: call.answered_by == "machine"
        next: message
    default: talk
  message:
    type: hangup
    say: "Your appointment is tomorrow at nine."
  talk:
    type: hangup
    say: "Hello!"
`
	if _, err := s.store.PublishSource(ctx, "reminder-amd", flow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the media worker in the registry", func() bool {
		ws, err := s.store.MediaWorkers(ctx, 10*time.Second)
		return err == nil && len(ws) == 1
	})
	port := sipptest.FreePort(t)
	greeting := spokenPcap(t, 100*time.Millisecond, "Hi, you have reached the Smith family. We cannot come to the phone right now, please leave a message after the tone.")
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uas_greeting.xml"), Port: port, Timeout: 30 * time.Second,
		Files: map[string][]byte{"greeting.pcap": greeting}})
	time.Sleep(300 * time.Millisecond) // let SIPp bind
	to := "sip:callee@127.0.0.1:" + strconv.Itoa(port)
	id := platform.NewCallID()
	if _, err := platform.StartCall(ctx, s.c, engine.CallInput{
		Call:     flows.CallInfo{ID: id, From: "+15550199", To: to, Channel: "sip"},
		Flow:     activities.FlowSource{Name: "reminder-amd"},
		Outbound: &engine.Outbound{To: to, RingTimeout: 10 * time.Second, DetectMachine: true},
	}); err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	var rec records.CDR
	if err := platform.AwaitCall(actx, s.c, id, &rec); err != nil {
		t.Fatal(err)
	}
	if res := wait(); res.Err != nil {
		t.Fatalf("SIPp callee: %v\n%s", res.Err, res.Output)
	}
	if pathOf(rec) != "who>message" || rec.Outcome != records.OutcomeCompleted {
		t.Errorf("outcome %s path %s, want the machine's message", rec.Outcome, pathOf(rec))
	}
	s.idle()
}

// An operator terminates a live call's workflow (the console's terminate):
// the media worker notices the workflow is gone and hangs the caller up
// instead of leaving them in silence.
func TestSIPTerminatedCallIsHungUp(t *testing.T) {
	s := newSIPStack(t)
	ctx := context.Background()
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_record.xml"), Target: s.addr, Service: "7000", Timeout: 40 * time.Second})
	var live []ops.CallSummary
	waitFor(t, "the call's workflow running", func() bool {
		var err error
		live, err = ops.List(ctx, s.c, ops.Filter{Flow: "sip-menu", Running: true})
		return err == nil && len(live) == 1
	})
	if err := s.c.TerminateWorkflow(ctx, live[0].WorkflowID, "", "operator ended the call"); err != nil {
		t.Fatal(err)
	}
	// uac_record.xml passes only when voxflow sends the BYE.
	if res := wait(); res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	s.idle()
}
