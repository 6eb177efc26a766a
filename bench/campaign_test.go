package bench

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/bench/echo"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/routing"
	"github.com/voxflow/voxflow/store"
)

// Outbound campaigns on the embedded stack (issue 13): one process runs
// the tuned in-process Temporal server (devtemporaltest), a SQLite store,
// the engine worker, the shared and campaign activities, and a SIP media
// worker with its registrar whose trunk is a SIPp carrier
// (bench/sipp/uas_carrier.xml, here answering every number as a person:
// 180, 200 after 300 ms, then "Hello?" as a 400 ms vowel and silence, so
// the answering-machine detector says human 800 ms after it). Figures and
// what limits them are in bench/README.md ("Campaigns (issue 13)"). Run
// both with
//
//	go test ./bench/ -run XXX -bench Campaign -benchtime 1x -v

// BenchmarkCampaignDialRate runs an agentless campaign over
// VOXFLOW_CAMPAIGN_CONTACTS contacts (default 300) at concurrency
// VOXFLOW_CAMPAIGN_LINES (default 50) with no rate limit; each answered
// call plays a 1 s prompt and hangs up. It reports, over the middle 80%
// of the dials (by the attempts' StartedAt and EndedAt in the store):
//
//   - dials/s: dials started per second; done/s: dials finished (the
//     campaign recorded the outcome) per second;
//   - lines: mean dials in flight (started, not finished), against the
//     concurrency, and hold-ms: mean StartedAt -> EndedAt, so that
//     lines/hold is Little's law's rate;
//   - start-invite-p50/p99-ms: StartedAt -> the carrier's INVITE (the
//     call's workflow, a media worker pick, the originate activity);
//     answer-p50/p99-ms: the carrier's INVITE -> its ACK (its 300 ms ring
//     included); bye-ms (mean): ACK -> voxflow's BYE (detection and the
//     prompt); report-ms (mean): BYE -> EndedAt (the ended signal, the
//     campaign's Finish);
//   - from the campaign workflow's histories: loops (snapshots), the
//     mean schedule-to-close of its activities (snapshot-ms, claim-ms,
//     finish-ms, dial-ms and of that dial-queued-ms, scheduled -> taken
//     by a worker; dial-batch-ms: the first Dial scheduled to the last
//     one closed of a batch, dial-batch: dials per batch) and
//     serial-share: snapshots, claims, finishes and dial batches over the
//     run's time, the share the loop spent blocked on them (it waits for
//     each; code that does not wait may read above 1);
//   - cores: this process's CPU per second of the run; carrier-cores:
//     SIPp's.
func BenchmarkCampaignDialRate(b *testing.B) {
	quiet(b)
	n := envInt("VOXFLOW_CAMPAIGN_CONTACTS", 300)
	lines := envInt("VOXFLOW_CAMPAIGN_LINES", 50)
	ctx := context.Background()
	rig := startCampaignRig(b, benchReminderFlow)
	cp := records.Campaign{ID: "bench-dial-rate", Flow: "bench-reminder", Mode: records.PaceAgentless,
		CallerID: benchCallerID, Region: "US", Concurrency: lines, MaxAttempts: 1}
	rig.createCampaign(b, cp, n)
	c0, t0, sipp0 := cpuTime(), time.Now(), rig.carrier.cpu()
	if err := rig.campaigns.Start(ctx, cp.ID); err != nil {
		b.Fatal(err)
	}
	rig.waitDone(b, cp.ID, n, 3*time.Minute)
	wall := time.Since(t0)
	cores := float64(cpuTime()-c0) / float64(wall)
	carrierCores := float64(rig.carrier.cpu()-sipp0) / float64(wall)
	as := rig.attempts(b, cp.ID)
	rate := dialRate(as)
	calls := rig.carrier.calls()
	legs := splitLegs(as, calls)
	hist := campaignHistory(b, rig.c, cp.ID)
	b.Logf("%d contacts at %d lines: %d attempts, %d carrier calls in %v; %+v; %+v; %+v", n, lines, len(as), len(calls),
		wall.Round(time.Millisecond), rate, legs, hist)
	for name, v := range map[string]float64{
		"dials/s": rate.dialsPerS, "done/s": rate.donePerS, "lines": rate.lines, "hold-ms": rate.holdMS,
		"start-invite-p50-ms": pctMS(legs.startInvite, 0.5), "start-invite-p99-ms": pctMS(legs.startInvite, 0.99),
		"answer-p50-ms": pctMS(legs.answer, 0.5), "answer-p99-ms": pctMS(legs.answer, 0.99),
		"bye-ms": meanMS(legs.bye), "report-ms": meanMS(legs.report),
		"loops": float64(hist.loops), "snapshot-ms": hist.meanMS("snapshot"), "claim-ms": hist.meanMS("claim"),
		"finish-ms": hist.meanMS("finish"), "dial-ms": hist.meanMS("dial"), "dial-queued-ms": hist.meanMS("dial-wait"),
		"dial-batch-ms": hist.meanMS("dial-batch"), "dial-batch": hist.dialBatch,
		"serial-share": hist.serialShare, "cores": cores, "carrier-cores": carrierCores,
	} {
		b.ReportMetric(v, name)
	}
}

// BenchmarkCampaignAgentToDial runs progressive campaigns with
// VOXFLOW_CAMPAIGN_AGENTS agents (default 2) in queue bench-out. Each
// agent's phone is SIPp (bench/sipp/uac_agent_phone.xml with
// uas_agent_phone.xml: registered to the stack's registrar, answers at
// once, hangs up after 2 s); every contact answers as a person and the
// flow hangs up as soon as the agent has. A cycle is an agent's wrap-up
// ending (the router's board: the agent available, Since) to the
// carrier's next INVITE for a new contact. One sub-benchmark per queue
// wrap-up in VOXFLOW_CAMPAIGN_WRAPS_MS (default 1000 and 1500: see the
// README for why both), each a campaign of its own on the same stack,
// over VOXFLOW_CAMPAIGN_CYCLES cycles (default 20). It reports p50-ms,
// p95-ms, max-ms and mean-ms of a cycle, and its parts (means):
// decide-ms (the agent available -> the attempt's StartedAt: waiting for
// the campaign's next look, its snapshot, claim and screening) and
// invite-ms (StartedAt -> the INVITE).
func BenchmarkCampaignAgentToDial(b *testing.B) {
	quiet(b)
	agents := envInt("VOXFLOW_CAMPAIGN_AGENTS", 2)
	cycles := envInt("VOXFLOW_CAMPAIGN_CYCLES", 20)
	rig := startCampaignRig(b, benchSalesFlow)
	rig.putQueue(b, time.Second)
	var names []string
	for i := range agents {
		names = append(names, rig.signInAgent(b, fmt.Sprintf("agent%d", i+1)))
	}
	for _, ms := range envInts("VOXFLOW_CAMPAIGN_WRAPS_MS", 1000, 1500) {
		wrap := time.Duration(ms) * time.Millisecond
		b.Run(fmt.Sprintf("wrap=%v", wrap), func(b *testing.B) { rig.agentToDial(b, names, wrap, cycles) })
	}
}

// agentToDial runs one campaign until cycles cycles were seen, stops it
// and reports them.
func (r *campaignRig) agentToDial(b *testing.B, agents []string, wrap time.Duration, cycles int) {
	ctx := context.Background()
	r.putQueue(b, wrap)
	cp := records.Campaign{ID: fmt.Sprintf("bench-agent-to-dial-%d", wrap.Milliseconds()), Flow: "bench-sales",
		Mode: records.PaceProgressive, Queue: benchQueue, CallerID: benchCallerID, Region: "US", MaxAttempts: 1}
	r.createCampaign(b, cp, cycles+3*len(agents))
	watch := watchAvailable(r.router, agents)
	defer watch.stop()
	started := time.Now()
	if err := r.campaigns.Start(ctx, cp.ID); err != nil {
		b.Fatal(err)
	}
	var got []agentCycle
	deadline := time.Now().Add(2 * time.Minute)
	for len(got) < cycles && time.Now().Before(deadline) {
		time.Sleep(500 * time.Millisecond)
		got = matchCycles(watch.since(started), r.carrier.calls(), nil)
	}
	if err := r.campaigns.Stop(ctx, cp.ID); err != nil {
		b.Logf("stop campaign: %v", err)
	}
	if len(got) < cycles {
		r.logState(b, cp.ID)
		b.Fatalf("%d cycles of %d in 2 minutes: agents available %d times, the carrier had %d calls",
			len(got), cycles, len(watch.since(started)), len(r.carrier.calls()))
	}
	got = matchCycles(watch.since(started), r.carrier.calls(), r.attempts(b, cp.ID))[:cycles]
	reportCycles(b, got)
	r.waitStopped(b, cp.ID, agents)
}

// putQueue defines benchQueue with the given wrap-up.
func (r *campaignRig) putQueue(b *testing.B, wrap time.Duration) {
	if err := r.st.PutQueue(context.Background(), store.Queue{Name: benchQueue, WrapUp: wrap, RingTimeout: 5 * time.Second,
		MaxWait: time.Minute}); err != nil {
		b.Fatal(err)
	}
}

// waitStopped waits until a stopped campaign's last call ended and every
// agent is available again, so the next campaign starts from rest.
func (r *campaignRig) waitStopped(b *testing.B, campaign string, agents []string) {
	ok := waitUntil(30*time.Second, func() bool {
		cp, err := r.st.GetCampaign(context.Background(), campaign)
		if err != nil || cp.State != records.CampaignStopped {
			return false
		}
		board, err := r.router.Board(context.Background())
		free := 0
		for _, a := range board.Agents {
			if slices.Contains(agents, a.Name) && a.State == string(routing.Available) {
				free++
			}
		}
		return err == nil && free == len(agents)
	})
	if !ok {
		r.logState(b, campaign)
		b.Fatalf("campaign %s not stopped with every agent free after 30 s", campaign)
	}
}

// Campaign benchmark settings.
const (
	benchQueue    = "bench-out"
	benchCallerID = "+14155550199"
)

const benchReminderFlow = `name: bench-reminder
entry: remind
nodes:
  remind:
    type: play
    say: "reminder"
    next: bye
  bye:
    type: hangup
`

const benchSalesFlow = `name: bench-sales
entry: connect
nodes:
  connect:
    type: queue
    queue: bench-out
    next: bye
    on_timeout: bye
  bye:
    type: hangup
`

// campaignPrompts: the reminder is a 1 s tone.
var campaignPrompts = promptTTS{"reminder": echo.Tone(440, time.Second)}

// campaignRig is the embedded stack with its carrier.
type campaignRig struct {
	c         client.Client
	st        *store.Store
	media     *sipmedia.Media
	sipAddr   string
	carrier   *benchCarrier
	campaigns platform.Campaigns
	router    platform.Router
}

// startCampaignRig starts the carrier, then the stack with flowSrc
// published and the carrier as its trunk; all stop when b ends.
func startCampaignRig(b *testing.B, flowSrc string) *campaignRig {
	ctx := context.Background()
	r := &campaignRig{carrier: startBenchCarrier(b)}
	_, r.c = devtemporaltest.NewServer(b)
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "voxflow.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	r.st, r.campaigns, r.router = st, platform.Campaigns{Client: r.c, Store: st}, platform.Router{Client: r.c}
	name := strings.TrimPrefix(strings.SplitN(flowSrc, "\n", 2)[0], "name: ")
	if _, err := st.PublishSource(ctx, name, flowSrc, "bench", ""); err != nil {
		b.Fatalf("publish %s: %v", name, err)
	}
	ws, err := platform.StartWorkers(r.c, platform.Parts{Engine: true, Shared: platform.SharedActivities(st),
		Campaigns: platform.CampaignActivities(r.c, st, nil), Watchdog: st, Logger: benchLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ws.Stop)
	r.sipAddr = "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(b))
	r.media, err = sipmedia.Start(ctx, config.Media{ID: "bench-campaign", SIPAddr: r.sipAddr, Registrar: true,
		Trunk: config.Trunk{URI: "sip:" + r.carrier.addr}, RecordDir: b.TempDir()},
		sipmedia.Deps{Client: r.c, Store: st, Logger: benchLogger(), TTS: campaignPrompts})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r.media.Stop(sctx)
	})
	return r
}

// createCampaign creates cp with n contacts that all answer as persons
// (numbers ending in 10), in a zone where it is noon now.
func (r *campaignRig) createCampaign(b *testing.B, cp records.Campaign, n int) {
	ctx := context.Background()
	if err := r.st.CreateCampaign(ctx, cp); err != nil {
		b.Fatal(err)
	}
	zone := zoneAtNoon(time.Now())
	cs := make([]records.Contact, n)
	for i := range cs {
		cs[i] = records.Contact{Row: i + 2, Number: fmt.Sprintf("+1415%07d", 5000010+100*i), Timezone: zone}
	}
	if added, _, err := r.st.AddContacts(ctx, cp.ID, cs); err != nil || added != n {
		b.Fatalf("add %d contacts: %d added, %v", n, added, err)
	}
}

// zoneAtNoon is a fixed-offset IANA zone (Etc/GMT±N) where it is about
// noon at now, inside the default calling window.
func zoneAtNoon(now time.Time) string {
	off := 12 - now.UTC().Hour()
	switch {
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off) // the IANA sign is inverted
	case off < 0:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
	return "Etc/GMT"
}

// waitDone waits until n contacts of campaign are done.
func (r *campaignRig) waitDone(b *testing.B, campaign string, n int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		byState, _, err := r.st.ContactCounts(context.Background(), campaign)
		if err != nil {
			b.Fatal(err)
		}
		if byState[records.ContactDone] >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("contacts after %v: %v, want %d done; the carrier had %d calls", limit, byState, n, len(r.carrier.calls()))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// attempts are the campaign's dial attempts (at most 1000).
func (r *campaignRig) attempts(b *testing.B, campaign string) []records.DialAttempt {
	as, err := r.st.ListAttempts(context.Background(), campaign, 0)
	if err != nil {
		b.Fatal(err)
	}
	return as
}

// signInAgent adds agent name to the registrar's accounts, registers its
// SIPp phone, signs it in to benchQueue and returns name.
func (r *campaignRig) signInAgent(b *testing.B, name string) string {
	ctx := context.Background()
	password := rand.Text()
	ha1 := md5.Sum([]byte(name + ":" + registrar.DefaultRealm + ":" + password))
	if err := r.st.AddSIPAccount(ctx, store.SIPAccount{Username: name, Realm: registrar.DefaultRealm,
		HA1: hex.EncodeToString(ha1[:]), Enabled: true}); err != nil {
		b.Fatal(err)
	}
	var phone *sippProc
	b.Cleanup(func() { // after SIPp's own cleanup, which stops it
		if b.Failed() && phone != nil {
			b.Logf("%s's phone:\n%s", name, tail(phone.res.out, 2000))
		}
	})
	phone = launchSIPp(b, sippSpec{addr: r.sipAddr, scenario: "uac_agent_phone.xml", service: name, timeout: 10 * time.Minute,
		args: []string{"-oocsf", sipptest.Scenario(b, "uas_agent_phone.xml"), "-au", name, "-ap", password, "-m", "1"}})
	if !waitUntil(10*time.Second, func() bool {
		cs, err := r.media.Registrar.Lookup(ctx, name)
		return err == nil && len(cs) == 1
	}) {
		b.Fatalf("%s's phone did not register", name)
	}
	_, err := r.router.SetAgent(ctx, activities.AgentRequest{Agent: name, State: string(routing.Available),
		Profile: &activities.AgentProfile{Queues: []string{benchQueue}, Capacity: 1}})
	if err != nil {
		b.Fatalf("sign %s in: %v", name, err)
	}
	return name
}

// logState logs the board and the campaign's attempts, when it failed.
func (r *campaignRig) logState(b *testing.B, campaign string) {
	board, err := r.router.Board(context.Background())
	b.Logf("board: %+v (%v)", board.Agents, err)
	outcomes := map[string]int{}
	for _, a := range r.attempts(b, campaign) {
		outcomes[a.Outcome+"/"+a.AnsweredBy+"/"+a.Agent]++
	}
	b.Logf("attempts by outcome/answered by/agent: %v", outcomes)
}

// --- the carrier ---

// benchCarrier is SIPp running uas_carrier.xml with a message log.
type benchCarrier struct {
	addr string
	log  string
	proc *sippProc
}

// startBenchCarrier starts the carrier on a free loopback port, with
// hello.pcap: 100 ms of silence, "Hello?" as 400 ms of a two-harmonic
// "vowel", 1.5 s of silence (PCMU, as its SDP says); no number here reaches its voicemail.
func startBenchCarrier(b *testing.B) *benchCarrier {
	// Two harmonics of a 250 Hz voice: no single sine holds most of the
	// energy, so the detector's beep rule (a pure tone) stays quiet.
	voice := audio.Mix(audio.Tone(250, 400, -15), audio.Tone(750, 400, -18))
	pcm := append(make([]int16, 800), voice...)
	hello := pcmuPcap(append(pcm, make([]int16, 12000)...))
	c := &benchCarrier{}
	c.proc = launchSIPp(b, sippSpec{addr: "127.0.0.1:9", scenario: "uas_carrier.xml", service: "carrier", timeout: 10 * time.Minute,
		prepare: func(dir string) error {
			c.log = filepath.Join(dir, "msg.log")
			if err := os.WriteFile(filepath.Join(dir, "voicemail.pcap"), pcmuPcap(make([]int16, 800)), 0o644); err != nil {
				return err // SIPp loads every pcap of the scenario at start
			}
			return os.WriteFile(filepath.Join(dir, "hello.pcap"), hello, 0o644)
		},
		args: []string{"-set", "vm_rtp", "9", "-recv_timeout", "120000", "-trace_msg", "-message_file", "msg.log"}})
	c.addr = "127.0.0.1:" + strconv.Itoa(c.proc.sipPort)
	if !waitUntil(10*time.Second, func() bool { _, err := os.Stat(c.proc.stat); return err == nil }) {
		b.Fatalf("the carrier (SIPp) did not start\n%s", c.proc.res.out)
	}
	return c
}

// pcmuPcap is PCMU RTP of pcm, one packet each 20 ms.
func pcmuPcap(pcm []int16) []byte {
	var pkts [][]byte
	for i := 0; i+echo.FrameSamples <= len(pcm); i += echo.FrameSamples {
		payload := make([]byte, echo.FrameSamples)
		g711.EncodeULaw(payload, pcm[i:i+echo.FrameSamples])
		pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(1 + i/echo.FrameSamples),
			Timestamp: uint32(i), SSRC: 0xca11, Marker: i == 0}, Payload: payload}
		raw, _ := pkt.Marshal() // a fixed header and payload: cannot fail
		pkts = append(pkts, raw)
	}
	return sipptest.RTPPcap(pkts, 20*time.Millisecond)
}

// cpu is SIPp's user+system CPU time so far (Linux /proc; 0 elsewhere).
func (c *benchCarrier) cpu() time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.proc.pid))
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(raw), ") ") // the command may hold spaces
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ 100
}

// carrierCall is one call voxflow placed, as the carrier logged it.
type carrierCall struct {
	number           string
	invite, ack, bye time.Time // received
	hasAck, hasBye   bool
	callID           string
}

// calls reads the carrier's message log: every initial INVITE (one per
// Call-ID), with when its ACK and BYE arrived, in INVITE order.
func (c *benchCarrier) calls() []carrierCall {
	raw, err := os.ReadFile(c.log)
	if err != nil {
		return nil
	}
	byID := map[string]*carrierCall{}
	var order []string
	const sep = "----------------------------------------------- "
	for _, chunk := range strings.Split(string(raw), sep)[1:] {
		stamp, rest, _ := strings.Cut(chunk, "\n")
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", strings.TrimSpace(stamp), time.Local)
		what, msg, _ := strings.Cut(rest, "\n")
		if err != nil || !strings.Contains(what, "received") {
			continue // a message cut by a concurrent write, or one SIPp sent
		}
		msg = strings.TrimLeft(msg, "\r\n")
		method, ruri, _ := strings.Cut(msg, " ")
		id := sipHeader(msg, "Call-ID", "i")
		k := byID[id]
		switch {
		case method == "INVITE" && k == nil:
			user, _, _ := strings.Cut(strings.TrimPrefix(ruri, "sip:"), "@")
			byID[id], order = &carrierCall{number: user, invite: at, callID: id}, append(order, id)
		case method == "ACK" && k != nil && !k.hasAck:
			k.ack, k.hasAck = at, true
		case method == "BYE" && k != nil && !k.hasBye:
			k.bye, k.hasBye = at, true
		}
	}
	out := make([]carrierCall, len(order))
	for i, id := range order {
		out[i] = *byID[id]
	}
	slices.SortFunc(out, func(a, b carrierCall) int { return a.invite.Compare(b.invite) })
	return out
}

// sipHeader is the value of a SIP message's header (full or compact name).
func sipHeader(msg, name, compact string) string {
	for line := range strings.Lines(msg) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		if k = strings.TrimSpace(k); ok && (strings.EqualFold(k, name) || strings.EqualFold(k, compact)) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// --- dial rate ---

// rateFigures are the dial rate's figures over the middle of the run.
type rateFigures struct {
	dialsPerS, donePerS, lines, holdMS float64
}

// dialRate measures over the middle 80% of the dials (by start) and of
// the finishes (by end): rates, mean lines in flight and hold time.
func dialRate(as []records.DialAttempt) rateFigures {
	var starts, ends []time.Time
	var hold []time.Duration
	for _, a := range as {
		starts = append(starts, a.StartedAt)
		if !a.EndedAt.IsZero() {
			ends = append(ends, a.EndedAt)
			hold = append(hold, a.EndedAt.Sub(a.StartedAt))
		}
	}
	slices.SortFunc(starts, time.Time.Compare)
	slices.SortFunc(ends, time.Time.Compare)
	f := rateFigures{dialsPerS: middleRate(starts), donePerS: middleRate(ends), holdMS: meanMS(hold)}
	if len(starts) < 10 {
		return f
	}
	from, to := starts[len(starts)/10], starts[len(starts)*9/10]
	var inFlight time.Duration // integral of lines over [from, to]
	for _, a := range as {
		end := a.EndedAt
		if end.IsZero() {
			end = to
		}
		lo, hi := maxTime(a.StartedAt, from), minTime(end, to)
		if hi.After(lo) {
			inFlight += hi.Sub(lo)
		}
	}
	if to.After(from) {
		f.lines = float64(inFlight) / float64(to.Sub(from))
	}
	return f
}

// middleRate is events per second between the 10th and 90th percentile
// of sorted times.
func middleRate(ts []time.Time) float64 {
	if len(ts) < 10 {
		return 0
	}
	i, j := len(ts)/10, len(ts)*9/10
	if !ts[j].After(ts[i]) {
		return 0
	}
	return float64(j-i) / ts[j].Sub(ts[i]).Seconds()
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// legs are a dial's parts, one value per call.
type legs struct {
	startInvite, answer, bye, report []time.Duration
}

// splitLegs matches each attempt to the carrier's call of its number.
func splitLegs(as []records.DialAttempt, calls []carrierCall) legs {
	byNumber := map[string]carrierCall{}
	for _, c := range calls {
		if _, ok := byNumber[c.number]; !ok {
			byNumber[c.number] = c
		}
	}
	var l legs
	for _, a := range as {
		c, ok := byNumber[a.Number]
		if !ok {
			continue
		}
		l.startInvite = append(l.startInvite, c.invite.Sub(a.StartedAt))
		if c.hasAck {
			l.answer = append(l.answer, c.ack.Sub(c.invite))
		}
		if c.hasAck && c.hasBye {
			l.bye = append(l.bye, c.bye.Sub(c.ack))
		}
		if c.hasBye && !a.EndedAt.IsZero() {
			l.report = append(l.report, a.EndedAt.Sub(c.bye))
		}
	}
	return l
}

func (l legs) String() string {
	return fmt.Sprintf("start->invite p50 %.0f ms, invite->ack p50 %.0f ms, ack->bye mean %.0f ms, bye->ended mean %.0f ms",
		pctMS(l.startInvite, 0.5), pctMS(l.answer, 0.5), meanMS(l.bye), meanMS(l.report))
}

// --- the campaign workflow's histories ---

// historyFigures sum the campaign workflow's activities over its runs.
type historyFigures struct {
	loops       int
	total       map[string]time.Duration // schedule -> close, by kind
	count       map[string]int
	dialBatch   float64 // dials per batch
	serialShare float64 // share of the wall time waiting on activities
}

func (h historyFigures) meanMS(kind string) float64 {
	if h.count[kind] == 0 {
		return 0
	}
	return float64(h.total[kind]) / float64(h.count[kind]) / float64(time.Millisecond)
}

func (h historyFigures) String() string {
	return fmt.Sprintf("loops %d, snapshot %.1f ms, claim %.1f ms, finish %.1f ms x %d, dial %.1f ms (%.1f ms queued), "+
		"dial batch %.1f ms x %d (%.1f dials), serial share %.2f",
		h.loops, h.meanMS("snapshot"), h.meanMS("claim"), h.meanMS("finish"), h.count["finish"], h.meanMS("dial"),
		h.meanMS("dial-wait"), h.meanMS("dial-batch"), h.count["dial-batch"], h.dialBatch, h.serialShare)
}

// campaignKinds names the campaign's activities in the figures.
var campaignKinds = map[string]string{activities.ActCampaignSnapshot: "snapshot", activities.ActCampaignClaim: "claim",
	activities.ActCampaignFinish: "finish", activities.ActCampaignDial: "dial"}

// campaignHistory reads every run of the campaign's workflow, newest
// first through the continue-as-new chain, and sums its activities'
// schedule-to-close times; dials are grouped by the workflow task that
// scheduled them (a batch).
func campaignHistory(b *testing.B, c client.Client, campaign string) historyFigures {
	h := historyFigures{total: map[string]time.Duration{}, count: map[string]int{}}
	var first, last time.Time
	runID := ""
	for {
		events := workflowEvents(b, c, activities.CampaignWorkflowID(campaign), runID)
		if len(events) == 0 {
			break
		}
		if first.IsZero() || events[0].GetEventTime().AsTime().Before(first) {
			first = events[0].GetEventTime().AsTime()
		}
		if t := events[len(events)-1].GetEventTime().AsTime(); t.After(last) {
			last = t
		}
		h.addRun(events)
		runID = events[0].GetWorkflowExecutionStartedEventAttributes().GetContinuedExecutionRunId()
		if runID == "" {
			break
		}
	}
	dials := h.count["dial"]
	if h.count["dial-batch"] > 0 {
		h.dialBatch = float64(dials) / float64(h.count["dial-batch"])
	}
	serial := h.total["snapshot"] + h.total["claim"] + h.total["finish"] + h.total["dial-batch"]
	if last.After(first) {
		h.serialShare = float64(serial) / float64(last.Sub(first))
	}
	return h
}

// addRun adds one run's activities.
func (h *historyFigures) addRun(events []*historypb.HistoryEvent) {
	type sched struct {
		kind  string
		at    time.Time
		batch int64
	}
	scheduled := map[int64]sched{}
	batches := map[int64][2]time.Time{} // dial batch: first scheduled, last closed
	for _, e := range events {
		at := e.GetEventTime().AsTime()
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a := e.GetActivityTaskScheduledEventAttributes()
			scheduled[e.GetEventId()] = sched{kind: campaignKinds[a.GetActivityType().GetName()], at: at,
				batch: a.GetWorkflowTaskCompletedEventId()}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if s := scheduled[e.GetActivityTaskStartedEventAttributes().GetScheduledEventId()]; s.kind == "dial" {
				h.total["dial-wait"] += at.Sub(s.at) // scheduled -> a worker took it
				h.count["dial-wait"]++
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
			s, ok := scheduled[scheduledID(e)]
			if !ok || s.kind == "" {
				continue
			}
			h.total[s.kind] += at.Sub(s.at)
			h.count[s.kind]++
			if s.kind == "snapshot" {
				h.loops++
			}
			if s.kind == "dial" {
				span, ok := batches[s.batch]
				if !ok || s.at.Before(span[0]) {
					span[0] = s.at
				}
				span[1] = maxTime(span[1], at)
				batches[s.batch] = span
			}
		}
	}
	for _, span := range batches {
		h.total["dial-batch"] += span[1].Sub(span[0])
		h.count["dial-batch"]++
	}
}

func scheduledID(e *historypb.HistoryEvent) int64 {
	switch {
	case e.GetActivityTaskCompletedEventAttributes() != nil:
		return e.GetActivityTaskCompletedEventAttributes().GetScheduledEventId()
	case e.GetActivityTaskFailedEventAttributes() != nil:
		return e.GetActivityTaskFailedEventAttributes().GetScheduledEventId()
	}
	return e.GetActivityTaskTimedOutEventAttributes().GetScheduledEventId()
}

// workflowEvents is a run's whole history (runID "": the latest run).
func workflowEvents(b *testing.B, c client.Client, workflowID, runID string) []*historypb.HistoryEvent {
	it := c.GetWorkflowHistory(context.Background(), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			b.Fatalf("history of %s: %v", workflowID, err)
		}
		out = append(out, e)
	}
	return out
}

// --- agent to dial ---

// availableWatch polls the router's board and keeps every time an agent
// became available (its Since), once each.
type availableWatch struct {
	mu     sync.Mutex
	seen   map[string]bool
	times  []time.Time
	cancel context.CancelFunc
	done   chan struct{}
}

// watchAvailable polls every 100 ms until stop: Since is the router's
// own time of the change, so the poll's period does not blur it.
func watchAvailable(r platform.Router, agents []string) *availableWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &availableWatch{seen: map[string]bool{}, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			board, err := r.Board(ctx)
			if err != nil {
				continue
			}
			for _, a := range board.Agents {
				key := a.Name + "@" + a.Since.String()
				if a.State != string(routing.Available) || !slices.Contains(agents, a.Name) {
					continue
				}
				w.mu.Lock()
				if !w.seen[key] {
					w.seen[key] = true
					w.times = append(w.times, a.Since)
				}
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *availableWatch) stop() {
	w.cancel()
	<-w.done
}

// since are the times agents became available after t, in order.
func (w *availableWatch) since(t time.Time) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := slices.DeleteFunc(slices.Clone(w.times), func(x time.Time) bool { return !x.After(t) })
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// agentCycle is an agent available at free, and the next new dial.
type agentCycle struct {
	free, started, invite time.Time
}

// matchCycles pairs each time an agent became available with the first
// INVITE after it not taken by an earlier one; started comes from the
// attempt of the INVITE's number (when as is given). A time with no
// INVITE after it yet is left out.
func matchCycles(free []time.Time, calls []carrierCall, as []records.DialAttempt) []agentCycle {
	startOf := map[string]time.Time{}
	for _, a := range as {
		startOf[a.Number] = a.StartedAt
	}
	var out []agentCycle
	next := 0
	for _, f := range free {
		for next < len(calls) && !calls[next].invite.After(f) {
			next++
		}
		if next == len(calls) {
			break
		}
		c := calls[next]
		out = append(out, agentCycle{free: f, started: startOf[c.number], invite: c.invite})
		next++
	}
	return out
}

// reportCycles reports the agent-to-dial figures.
func reportCycles(b *testing.B, cycles []agentCycle) {
	var total, decide, invite []time.Duration
	for _, c := range cycles {
		total = append(total, c.invite.Sub(c.free))
		if !c.started.IsZero() {
			decide = append(decide, c.started.Sub(c.free))
			invite = append(invite, c.invite.Sub(c.started))
		}
	}
	var ms []string
	for _, d := range total {
		ms = append(ms, strconv.FormatInt(d.Milliseconds(), 10))
	}
	b.Logf("%d cycles, agent available -> next INVITE (ms): %s", len(cycles), strings.Join(ms, " "))
	b.ReportMetric(pctMS(total, 0.5), "p50-ms")
	b.ReportMetric(pctMS(total, 0.95), "p95-ms")
	b.ReportMetric(pctMS(total, 1), "max-ms")
	b.ReportMetric(meanMS(total), "mean-ms")
	b.ReportMetric(meanMS(decide), "decide-ms")
	b.ReportMetric(meanMS(invite), "invite-ms")
}
