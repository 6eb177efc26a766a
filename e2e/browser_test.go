package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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
// profile serving queue browser-e2e), supervisor sam and designer dana
// (API users), the queue and three flows on numbers
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
	browserAdmin, browserAdminPassword     = "browser-admin", "browser-admin-pw-1"
	browserAgent, browserAgentPassword     = "alice", "alice-desk-pw-1"
	browserSupervisor, browserSupervisorPW = "sam", "sam-board-pw-1"
	browserDesigner, browserDesignerPW     = "dana", "dana-design-pw-1"
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
	}{{browserAdmin, browserAdminPassword, designerapi.RoleAdmin}, {browserAgent, browserAgentPassword, designerapi.RoleAgent},
		{browserSupervisor, browserSupervisorPW, designerapi.RoleSupervisor}, {browserDesigner, browserDesignerPW, designerapi.RoleDesigner}} {
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
	writeVoice(t, filepath.Join(r.voices, "supervisor.wav"), supervisorHz)
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
		"VOXFLOW_SUPERVISOR=" + browserSupervisor, "VOXFLOW_SUPERVISOR_PASSWORD=" + browserSupervisorPW,
		"VOXFLOW_SUPERVISOR_VOICE=" + filepath.Join(r.voices, "supervisor.wav"),
		"VOXFLOW_DESIGNER=" + browserDesigner, "VOXFLOW_DESIGNER_PASSWORD=" + browserDesignerPW,
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
//   - supervise.test.mjs: alice answers a SIP caller (440 Hz) on the desk
//     (1000 Hz) and supervisor sam (1700 Hz) clicks Listen, Whisper, Barge
//     in and Leave on the board; each party hears exactly what the mode
//     says, by tone (the page measures sam's and alice's ears, Go the
//     caller's: superviseCall), and the call's timeline keeps the four
//     actions. Sam's and the admin's credentials open the supervisor
//     socket, designer dana's get 403 and her board has no Supervise column.
func TestBrowserChannels(t *testing.T) {
	r := newBrowserRig(t)
	r.deskCall()
	r.run("widget.test.mjs", 3*time.Minute)
	r.run("chat.test.mjs", 3*time.Minute)
	r.superviseCall()
	r.checkMonitorRights()
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

// superviseCall runs supervise.test.mjs: once the page has made alice's
// desk available (it writes "ready" in the shared folder) it places the
// SIP caller, and once the page is done checks, in each window the page
// measured a mode in (windows.json), what the caller heard.
func (r *browserRig) superviseCall() {
	t := r.t
	dir := t.TempDir()
	node := r.node
	node.env = append(node.env, "VOXFLOW_SUPERVISE_DIR="+dir)
	wait := node.start("supervise.test.mjs", 4*time.Minute)
	ready := filepath.Join(dir, "ready")
	deadline := time.Now().Add(90 * time.Second)
	for !fileExists(ready) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if !fileExists(ready) {
		out, err := wait()
		t.Fatalf("supervise.test.mjs never made %s available (%v):\n%s", browserAgent, err, out)
	}
	caller := newRTPCaller(t, callerHz)
	sipp := sipptest.Start(t, sipptest.Call{Scenario: testdata(t, "uac_rtp_elsewhere.xml"), Target: r.sip,
		Service: "6100", Args: []string{"-key", "rtpport", strconv.Itoa(caller.port())}, Timeout: 3 * time.Minute})
	if _, err := wait(); err != nil {
		t.Errorf("supervise.test.mjs failed: %v (output above)", err)
	}
	if res := sipp(); res.Err != nil {
		t.Errorf("SIPp caller: %v\n%s", res.Err, res.Output)
	}
	r.checkSupervisedCaller(caller, filepath.Join(dir, "windows.json"))
}

// checkSupervisedCaller: in every mode the caller heard alice's 1 kHz,
// and the supervisor's 1700 Hz in barge only (not listening, not
// whispering, not after leaving).
func (r *browserRig) checkSupervisedCaller(c *rtpCaller, file string) {
	t := r.t
	var got struct {
		CallID  string `json:"call_id"`
		Windows []struct {
			Mode string `json:"mode"`
			From int64  `json:"from"` // Unix milliseconds
			To   int64  `json:"to"`
		} `json:"windows"`
	}
	b, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(b, &got)
	}
	if err != nil {
		t.Fatalf("the page's measurement windows: %v", err)
	}
	modes := map[string]bool{}
	for _, w := range got.Windows {
		modes[w.Mode] = true
		pcm := c.heard(time.UnixMilli(w.From), time.UnixMilli(w.To))
		db := toneLevels(pcm, agentHz, supervisorHz)
		t.Logf("%s (%d ms, %d ms of audio): the caller heard alice's %.0f Hz at %.0f dBFS, the supervisor's %.0f Hz at %.0f dBFS",
			w.Mode, w.To-w.From, len(pcm)/8, agentHz, db[0], supervisorHz, db[1])
		if db[0] < minHeardDBFS || int64(len(pcm)) < 8*(w.To-w.From)/2 {
			t.Errorf("%s: the caller did not hear alice's %.0f Hz (%.0f dBFS, %d ms of audio)", w.Mode, agentHz, db[0], len(pcm)/8)
		}
		if heard := w.Mode == "barge"; heard && db[1] < minHeardDBFS {
			t.Errorf("barge: the caller did not hear the supervisor's %.0f Hz (%.0f dBFS)", supervisorHz, db[1])
		} else if !heard && db[1] > maxUnheardDBFS {
			t.Errorf("%s: the caller heard the supervisor's %.0f Hz (%.0f dBFS)", w.Mode, supervisorHz, db[1])
		}
	}
	for _, m := range []string{"listen", "whisper", "barge", "left"} {
		if !modes[m] {
			t.Errorf("the page measured no %s window on call %q: %+v", m, got.CallID, got.Windows)
		}
	}
}

// checkMonitorRights: the supervisor socket answers a designer 403 and
// nobody 401 before any upgrade; a supervisor and an admin get past the
// role check (to the WebSocket handshake, which a plain GET fails).
func (r *browserRig) checkMonitorRights() {
	t := r.t
	for _, u := range []struct {
		name, pw string
		want     int
	}{{"", "", http.StatusUnauthorized}, {browserDesigner, browserDesignerPW, http.StatusForbidden},
		{browserSupervisor, browserSupervisorPW, 0}, {browserAdmin, browserAdminPassword, 0}} {
		req, err := http.NewRequest(http.MethodGet, r.base+"/api/v1/ws/supervisor", nil)
		if err != nil {
			t.Fatal(err)
		}
		if u.name != "" {
			req.AddCookie(r.signIn(u.name, u.pw))
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		refused := res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden
		if (u.want != 0 && res.StatusCode != u.want) || (u.want == 0 && refused) {
			t.Errorf("GET /api/v1/ws/supervisor as %q: %d %s; want %d (0: not refused)", u.name, res.StatusCode, body, u.want)
		}
	}
}

// signIn signs in through the API and returns the session cookie.
func (r *browserRig) signIn(user, password string) *http.Cookie {
	r.t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	res, err := http.Post(r.base+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == designerapi.SessionCookie {
			return c
		}
	}
	r.t.Fatalf("sign in as %s: %s, no session cookie", user, res.Status)
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
