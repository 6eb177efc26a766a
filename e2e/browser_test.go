package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/store"
)

// browserRig is `voxflow dev` (SIP on) with what the browser tests use:
// an admin, agent alice (an API user with role agent, a SIP account and a
// profile serving queue browser-e2e), the queue and three flows on numbers
// 6100 (SIP caller to the desk), 6200 (the widget's call: a menu) and
// 6300 (the widget's chat: a menu, then the queue).
type browserRig struct {
	t      *testing.T
	st     *store.Store
	router platform.Router
	sip    string
	base   string
	node   nodeTest
	voices string
}

const (
	browserAdmin, browserAdminPassword = "browser-admin", "browser-admin-pw-1"
	browserAgent, browserAgentPassword = "alice", "alice-desk-pw-1"
)

func newBrowserRig(t *testing.T) *browserRig {
	node, root := needBrowserTools(t)
	// Pages of any 127.0.0.1 port may use the widget's sockets: the
	// company site below is another origin than voxflow's.
	dev, sipAddr, dsn := startDevSIPWith(t, func(c *config.Config) { c.Media.WebRTC.Origins = "127.0.0.1:*" })
	ctx := context.Background()
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name, pw string
		role     designerapi.Role
	}{{browserAdmin, browserAdminPassword, designerapi.RoleAdmin}, {browserAgent, browserAgentPassword, designerapi.RoleAgent}} {
		if _, err := auth.CreateUser(ctx, u.name, u.pw, u.role); err != nil {
			t.Fatal(err)
		}
	}
	addAgent(t, dsn, browserAgent)
	if err := dev.Store.SetAgentProfile(ctx, store.AgentProfile{Username: browserAgent,
		Skills: map[string]int{"english": 5}, Queues: []string{"browser-e2e"}, Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Store.PutQueue(ctx, store.Queue{Name: "browser-e2e", HoldFlow: "queue-hold", AnnounceEvery: 20 * time.Second,
		RingTimeout: 45 * time.Second, WrapUp: 2 * time.Minute, MaxWait: 2 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	for number, src := range map[string]string{"6100": deskFlow, "6200": menuFlow, "6300": chatFlow} {
		name := strings.TrimPrefix(strings.SplitN(src, "\n", 2)[0], "name: ")
		if _, err := dev.Store.PublishSource(ctx, name, src, "e2e", ""); err != nil {
			t.Fatal(err)
		}
		if err := dev.Store.BindNumber(ctx, number, name); err != nil {
			t.Fatal(err)
		}
	}
	r := &browserRig{t: t, st: dev.Store, router: platform.Router{Client: dev.Client}, sip: sipAddr,
		base: strings.TrimSuffix(dev.DemoCRMURL, "/demo/crm"), voices: t.TempDir()}
	writeVoice(t, filepath.Join(r.voices, "agent.wav"), agentHz)
	writeVoice(t, filepath.Join(r.voices, "customer.wav"), customerHz)
	site := companySite(t, r.base)
	artifacts := os.Getenv("VOXFLOW_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "designer-api", "web", "e2e", "artifacts")
	}
	r.node = nodeTest{t: t, node: node, root: root, env: []string{
		"VOXFLOW_URL=" + r.base, "VOXFLOW_USER=" + browserAdmin, "VOXFLOW_PASSWORD=" + browserAdminPassword,
		"VOXFLOW_DESK_AGENT=" + browserAgent, "VOXFLOW_DESK_PASSWORD=" + browserAgentPassword,
		"VOXFLOW_AGENT_VOICE=" + filepath.Join(r.voices, "agent.wav"), "VOXFLOW_CUSTOMER_VOICE=" + filepath.Join(r.voices, "customer.wav"),
		"VOXFLOW_ARTIFACTS=" + artifacts, "VOXFLOW_CHROMIUM=" + chromiumPath, "VOXFLOW_SITE_URL=" + site,
	}}
	return r
}

// needBrowserTools finds node and chromium and installs the browser tests'
// packages; it returns node's path and the module's root.
func needBrowserTools(t *testing.T) (node, root string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the browser tests need Node.js 20+ (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: the browser tests need Debian's chromium (apt-get install -y chromium): %v", chromiumPath, err)
	}
	if root, err = filepath.Abs(".."); err != nil {
		t.Fatal(err)
	}
	e2eDir := filepath.Join(root, "designer-api", "web", "e2e")
	if !nodeModulesInstalled(e2eDir) {
		out, err := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", e2eDir).CombinedOutput()
		if err != nil {
			t.Fatalf("npm ci --prefix designer-api/web/e2e: %v\n%s", err, out)
		}
	}
	return node, root
}

// TestBrowserChannels starts `voxflow dev` once and runs the browser
// channels' tests in headless Chromium, one file after another:
//
//   - desk.test.mjs: agent alice signs in on the desk (/agent) and goes
//     available; a SIPp caller (RTP from Go, a 440 Hz voice) queues
//     through flow browser-desk and rings her desk with the screen-pop
//     (flow, node, the CRM record); she answers with Alt+A. RTP flows both
//     ways (getStats in the page, packet counts at the caller) and each
//     hears the other's tone (an AnalyserNode in the page; Goertzel here).
//     Hold silences the caller; a consultation (a SIPp callee) holds the
//     caller until alice goes back to them.
//     The desk's socket is then dropped mid-call: it reconnects, restarts
//     ICE and the call goes on with audio. She hangs up, fills in the
//     wrap-up form, and the disposition and notes land in the call's CDR.
//   - widget.test.mjs: a visitor of a company's site (another origin,
//     loading /widget.js with CORS) calls 6200 with the widget, survives a
//     socket drop (resume), presses 2 on the widget's keypad, and the CDR
//     shows the menu took option 2.
//   - chat.test.mjs: a visitor chats with 6300 through the demo page,
//     answers the menu in text, the queue offers the chat to alice's desk,
//     they write both ways, a reload of the visitor's page resumes the
//     chat, and alice ends it.
func TestBrowserChannels(t *testing.T) {
	r := newBrowserRig(t)
	r.deskCall()
	r.run("widget.test.mjs", 3*time.Minute)
	r.run("chat.test.mjs", 3*time.Minute)
}

func (r *browserRig) run(file string, timeout time.Duration) {
	r.t.Helper()
	if out, err := r.node.start(file, timeout)(); err != nil {
		r.t.Errorf("%s failed: %v (output above)", file, err)
		_ = out
	}
}

// deskCall runs desk.test.mjs with a SIPp caller placed once the desk
// made alice available, and checks the caller's side and the CDR.
func (r *browserRig) deskCall() {
	t := r.t
	states := watchAgent(r.router, browserAgent)
	defer states.close()
	// The party alice consults mid-call (and leaves again).
	port := sipptest.FreePort(t)
	consulted := sipptest.Start(t, sipptest.Call{Scenario: testdata(t, "uas_consulted.xml"), Port: port,
		Args: []string{"-rtp_echo"}, Timeout: 4 * time.Minute})
	node := r.node
	node.env = append(node.env, "VOXFLOW_CONSULT_TO=sip:consult@127.0.0.1:"+strconv.Itoa(port))
	wait := node.start("desk.test.mjs", 4*time.Minute)
	deadline := time.Now().Add(90 * time.Second)
	for states.now() != "available" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if states.now() != "available" {
		out, err := wait()
		t.Fatalf("the desk never made %s available (%v):\n%s", browserAgent, err, out)
	}
	caller := newRTPCaller(t, callerHz)
	sipp := sipptest.Start(t, sipptest.Call{Scenario: testdata(t, "uac_rtp_elsewhere.xml"), Target: r.sip,
		Service: "6100", Args: []string{"-key", "rtpport", strconv.Itoa(caller.port())}, Timeout: 3 * time.Minute})
	if _, err := wait(); err != nil {
		t.Errorf("desk.test.mjs failed: %v (output above)", err)
	}
	res := sipp()
	if res.Err != nil {
		t.Fatalf("SIPp caller: %v\n%s", res.Err, res.Output)
	}
	if res := consulted(); res.Err != nil {
		t.Errorf("the consulted party (SIPp): %v\n%s", res.Err, res.Output)
	}
	r.checkCaller(caller, states)
	r.checkDeskCDR()
}

// checkCaller: the caller sent and got RTP through the call, and heard the
// agent's 1 kHz voice while they talked.
func (r *browserRig) checkCaller(c *rtpCaller, states *stateLog) {
	t := r.t
	sent, got := c.counts()
	from, to, ok := states.span("on_call")
	if !ok || to.IsZero() {
		t.Fatalf("alice was never on call and back: %+v", states.changes)
	}
	talk := to.Sub(from)
	if sent < 100 || got < 100 {
		t.Errorf("caller's RTP: %d packets sent, %d received; want 100+ each way", sent, got)
	}
	// Seconds in which the caller clearly heard the agent's voice (while
	// held or consulting they hear music instead).
	heard := c.heard(from, to)
	clear := 0
	for i := 0; i+8000 <= len(heard); i += 8000 {
		loud := sipptest.Loudest(heard[i : i+8000])
		if len(loud) >= 2000 && sipptest.ToneShare(loud, agentHz) > 0.5 {
			clear++
		}
	}
	t.Logf("talked %v; the caller sent %d, got %d packets; heard the agent clearly in %d of %d seconds",
		talk.Round(time.Millisecond), sent, got, clear, len(heard)/8000)
	if clear < 3 {
		t.Errorf("the caller did not hear the agent's %.0f Hz: clearly in %d seconds of %d", agentHz, clear, len(heard)/8000)
	}
}

// checkDeskCDR: the queue stay was answered by alice, and her wrap-up
// (disposition and notes from the desk's form) is in the record.
func (r *browserRig) checkDeskCDR() {
	t := r.t
	var rec records.CDR
	waitFor(t, "the desk call's wrap-up in its CDR", func() bool {
		rec = oneCDR(t, r.st, store.CDRQuery{Flow: "browser-desk"})
		return len(rec.Queues) == 1 && rec.Queues[0].Disposition != ""
	})
	stay := rec.Queues[0]
	if stay.Outcome != records.QueueAnswered || stay.Agent != browserAgent || stay.Disposition != "resolved" ||
		!strings.Contains(stay.Notes, "heard the caller") {
		t.Errorf("stay %+v, path %s", stay, pathOf(rec))
	}
}

// testdata is the absolute path of a file under e2e/testdata (SIPp runs
// in a directory of its own).
func testdata(t *testing.T, name string) string {
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}
