package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/store/storetest"
)

// Readiness of the production commands (engine, media, api, temporal
// setup): they start only on backends that answer, say clearly which one
// does not, and stop taking work while one is down or they drain.

// refuseBound is how long a command given a bad backend may take to give
// up: a hang guard above the 15 s Temporal dial limit, not a timing check.
const refuseBound = 45 * time.Second

// A command started on a backend that cannot serve it exits non-zero
// with an error naming what is wrong, instead of hanging or running
// unready: each bad setting on each production command.
func TestProductionCommandsRefuseBadBackends(t *testing.T) {
	ts, _ := devtemporaltest.NewServer(t)
	addr, ns := ts.GetFrontendHostPort(), ts.GetDefaultNamespace()
	closed := closedAddr(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.pem")
	t.Setenv("VOXFLOW_RECORD_DIR", t.TempDir())
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"closed Temporal port", []string{"--address", closed},
			[]string{"connect to Temporal at " + closed, "is Temporal running there?"}},
		{"unknown namespace", []string{"--namespace", "voxflow-missing"},
			[]string{addr, `"voxflow-missing"`, "voxflow temporal setup --namespace voxflow-missing"}},
		{"TLS to a plain server", []string{"--tls"},
			[]string{"connect to Temporal at " + addr + " over TLS", "--tls-ca-path"}},
		{"unreachable store", []string{"--store", "postgres://127.0.0.1:1/x?connect_timeout=2"},
			[]string{"postgres store", "127.0.0.1:1"}},
		{"missing client certificate", []string{"--tls-cert-path", missing, "--tls-key-path", filepath.Join(dir, "key.pem")},
			[]string{"--tls-cert-path", missing}},
	}
	commands := map[string][]string{
		"engine": {"engine"},
		"media":  {"media", "--sip", "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t)), "--id", "bad-media"},
		"api":    {"api", "--http", "127.0.0.1:0"},
	}
	for _, name := range []string{"engine", "media", "api"} {
		for _, c := range cases {
			args := append(append([]string{}, commands[name]...),
				"--address", addr, "--namespace", ns, "--store", "sqlite://"+filepath.Join(dir, "voxflow.db"))
			args = append(args, c.args...) // the later flag wins
			took, out := mustRefuse(t, args)
			t.Logf("voxflow %s, %s: refused in %v: %s", name, c.name, took.Round(time.Millisecond), strings.TrimSpace(out))
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("voxflow %s, %s: output %q, want it to name %q", name, c.name, out, w)
				}
			}
		}
	}
}

// A Temporal or store that accepts connections and never answers (a
// black-holed port) makes each command give up with an error naming it,
// not hang: the three commands run at once, sharing the wait.
func TestProductionCommandsGiveUpOnSilentBackends(t *testing.T) {
	ts, _ := devtemporaltest.NewServer(t)
	addr, ns := ts.GetFrontendHostPort(), ts.GetDefaultNamespace()
	silent := silentListener(t)
	dir := t.TempDir()
	t.Setenv("VOXFLOW_RECORD_DIR", t.TempDir())
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"silent Temporal", []string{"--address", silent, "--store", "sqlite://" + filepath.Join(dir, "voxflow.db")},
			[]string{"connect to Temporal at " + silent}},
		{"silent store", []string{"--address", addr, "--store", "postgres://" + silent + "/x"},
			[]string{"postgres store", silent}},
	}
	var wg sync.WaitGroup
	for _, c := range cases {
		for _, cmd := range [][]string{
			{"engine"},
			{"media", "--sip", "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t)), "--id", "silent-media"},
			{"api", "--http", "127.0.0.1:0"},
		} {
			args := slices.Concat(cmd, []string{"--namespace", ns}, c.args)
			wg.Add(1)
			go func() {
				defer wg.Done()
				took, out := mustRefuse(t, args)
				t.Logf("voxflow %s, %s: refused in %v: %s", cmd[0], c.name, took.Round(time.Millisecond), strings.TrimSpace(out))
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("voxflow %s, %s: output %q, want it to name %q", cmd[0], c.name, out, w)
					}
				}
			}()
		}
	}
	wg.Wait()
}

// silentListener accepts TCP connections on loopback and never answers,
// until the test ends.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// mustRefuse runs a command that must not start: it exits non-zero
// within refuseBound. It returns how long it took and what it printed.
// It does not stop the test, so it may run on other goroutines.
func mustRefuse(t *testing.T, args []string) (time.Duration, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &lockedBuffer{}
	exited := make(chan int, 1)
	start := time.Now()
	go func() { exited <- cli.Main(ctx, args, strings.NewReader(""), out, out) }()
	select {
	case code := <-exited:
		if code == 0 {
			t.Errorf("voxflow %s: exit 0, want an error\n%s", strings.Join(args, " "), out)
		}
		return time.Since(start), out.String()
	case <-time.After(refuseBound):
		cancel()
		<-exited
		t.Errorf("voxflow %s: still running after %v\n%s", strings.Join(args, " "), refuseBound, out)
		return refuseBound, out.String()
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	addr, _ := freeAddr(t)
	return addr
}

// lockedBuffer is a bytes.Buffer a running command writes while the test
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cliProcess is a long-running command run in-process (cli.Main) until
// the test stops it, as SIGTERM does, by cancelling its context.
type cliProcess struct {
	t      *testing.T
	args   []string
	cancel context.CancelFunc
	out    *lockedBuffer
	exited chan int
	stop   sync.Once
	code   int
}

// startCLI runs voxflow args until Stop or the end of the test.
func startCLI(t *testing.T, args ...string) *cliProcess {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &cliProcess{t: t, args: args, cancel: cancel, out: &lockedBuffer{}, exited: make(chan int, 1)}
	go func() { p.exited <- cli.Main(ctx, args, strings.NewReader(""), p.out, p.out) }()
	t.Cleanup(func() { p.Stop() })
	return p
}

// Output is what the command printed so far.
func (p *cliProcess) Output() string { return p.out.String() }

// waitOutput waits until the command has printed s; its exit fails the test.
func (p *cliProcess) waitOutput(s string) {
	p.t.Helper()
	waitFor(p.t, fmt.Sprintf("voxflow %s to print %q", p.args[0], s), func() bool {
		select {
		case code := <-p.exited:
			p.exited <- code
			p.t.Fatalf("voxflow %s exited %d:\n%s", strings.Join(p.args, " "), code, p.Output())
		default:
		}
		return strings.Contains(p.Output(), s)
	})
}

// Stop cancels the command and waits for it to exit; its exit code.
func (p *cliProcess) Stop() int {
	p.stop.Do(func() {
		p.cancel()
		select {
		case p.code = <-p.exited:
		case <-time.After(40 * time.Second):
			p.code = -1
			p.t.Errorf("voxflow %s did not exit after its context ended:\n%s", p.args[0], p.Output())
		}
	})
	return p.code
}

// Two `voxflow api` instances on one store: the first creates the admin
// and prints its password once, the second creates none, and a session
// made on one is served by the other (no state in the instance).
func TestAPIInstancesShareStoreAndSessions(t *testing.T) {
	ts, _ := devtemporaltest.NewServer(t)
	store := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	base := []string{"api", "--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(), "--store", store}
	addr1, _ := freeAddr(t)
	api1 := startCLI(t, append(base, "--http", addr1)...)
	api1.waitOutput("(it is not shown again)")
	password := firstAdminPassword(t, api1.Output())
	waitFor(t, "api /healthz", func() bool { code, _ := get(t, "http://"+addr1+"/healthz"); return code == 200 })
	if code, body := get(t, "http://"+addr1+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	if code, body := get(t, "http://"+addr1+"/metrics"); code != 200 || !strings.Contains(body, "voxflow_text_sessions 0") {
		t.Errorf("/metrics: %d, want voxflow_ metrics in:\n%.2000s", code, body)
	}
	if code, body := get(t, "http://"+addr1+"/"); code != 200 || !strings.Contains(body, "<title>voxflow</title>") {
		t.Errorf("GET /: %d, want the designer page:\n%.500s", code, body)
	}
	if code := signIn(t, addr1, "admin", password+"x"); code != http.StatusUnauthorized {
		t.Errorf("sign in with a wrong password: %d, want 401", code)
	}
	cookie := signInCookie(t, addr1, "admin", password)

	addr2, _ := freeAddr(t)
	api2 := startCLI(t, append(base, "--http", addr2)...)
	api2.waitOutput("API, designer and console on http://" + addr2)
	for _, addr := range []string{addr1, addr2} {
		if code, body := getWithCookie(t, "http://"+addr+"/api/v1/flows", cookie); code != 200 {
			t.Errorf("GET /api/v1/flows on %s with the session of %s: %d %s", addr, addr1, code, body)
		}
	}
	if code, _ := getWithCookie(t, "http://"+addr2+"/api/v1/flows", nil); code != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/flows without a session: %d, want 401", code)
	}
	if code := api2.Stop(); code != 0 {
		t.Errorf("second api exited %d:\n%s", code, api2.Output())
	}
	if out := api2.Output(); strings.Contains(out, "First start") {
		t.Errorf("second api on the same store printed an admin:\n%s", out)
	}
	if code := api1.Stop(); code != 0 {
		t.Errorf("first api exited %d:\n%s", code, api1.Output())
	}
	if n := strings.Count(api1.Output(), "First start"); n != 1 {
		t.Errorf("first api printed the admin %d times:\n%s", n, api1.Output())
	}
}

// firstAdminPassword reads "First start: sign in as admin / PASSWORD (...".
func firstAdminPassword(t *testing.T, out string) string {
	t.Helper()
	_, rest, ok := strings.Cut(out, "First start: sign in as admin / ")
	password, _, ok2 := strings.Cut(rest, " (")
	if !ok || !ok2 || password == "" {
		t.Fatalf("no first admin in the banner:\n%s", out)
	}
	return password
}

// signIn posts a sign-in to the API at addr and returns the status.
func signIn(t *testing.T, addr, user, password string) int {
	t.Helper()
	res := postSession(t, addr, user, password)
	res.Body.Close()
	return res.StatusCode
}

// signInCookie signs in and returns the session cookie.
func signInCookie(t *testing.T, addr, user, password string) *http.Cookie {
	t.Helper()
	res := postSession(t, addr, user, password)
	defer res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == designerapi.SessionCookie {
			return c
		}
	}
	t.Fatalf("sign in as %s on %s: %s, no session cookie", user, addr, res.Status)
	return nil
}

func postSession(t *testing.T, addr, user, password string) *http.Response {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": user, "password": password})
	hc := &http.Client{Timeout: 5 * time.Second}
	res, err := hc.Post("http://"+addr+"/api/v1/session", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// getWithCookie is get with a session cookie (nil: none).
func getWithCookie(t *testing.T, url string, c *http.Cookie) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	hc := &http.Client{Timeout: 5 * time.Second}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// `voxflow temporal setup` registers a new namespace once, says it exists
// the second time, and an engine then starts on it.
func TestTemporalSetupRegistersNamespace(t *testing.T) {
	ts, _ := devtemporaltest.NewServer(t)
	const ns = "voxflow-setup"
	setup := []string{"temporal", "setup", "--address", ts.GetFrontendHostPort(), "--namespace", ns, "--retention", "24h"}
	for _, want := range []string{"registered namespace " + ns + " (retention 24h0m0s)", "namespace " + ns + " exists"} {
		start := time.Now()
		code, out, errOut := voxflow(t, "", setup...)
		t.Logf("voxflow temporal setup: %v", time.Since(start).Round(time.Millisecond))
		if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "search attributes ready on "+ns) {
			t.Fatalf("voxflow temporal setup: exit %d, output %q %q; want %q", code, out, errOut, want)
		}
	}
	admin, _ := freeAddr(t)
	engine := startCLI(t, "engine", "--address", ts.GetFrontendHostPort(), "--namespace", ns,
		"--store", "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"), "--admin-addr", admin)
	engine.waitOutput("(namespace " + ns + ")")
	waitFor(t, "engine /healthz", func() bool { code, _ := get(t, "http://"+admin+"/healthz"); return code == 200 })
	if code := engine.Stop(); code != 0 {
		t.Errorf("engine exited %d:\n%s", code, engine.Output())
	}
}

// A media worker whose Temporal stops answering turns unready and answers
// SIP probes and calls with 503 and Retry-After, so a load balancer sends
// them elsewhere; once Temporal is back it takes calls again, and on
// SIGTERM it is unready while its live call finishes.
func TestMediaRefusesCallsWhileTemporalIsDown(t *testing.T) {
	sipptest.Need(t)
	ts, _, dbPath := cliMediaEnv(t)
	proxy := startTCPProxy(t, ts.GetFrontendHostPort())
	admin, _ := freeAddr(t)
	sipAddr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	media := startCLI(t, "media", "--address", proxy.Addr(), "--namespace", ts.GetDefaultNamespace(),
		"--store", "sqlite://"+dbPath, "--sip", sipAddr, "--id", "ready-media", "--admin-addr", admin,
		"--record-dir", t.TempDir(), "--drain-timeout", "30s")
	media.waitOutput("activities on media-ready-media")
	waitHealth(t, admin, 200, "ok", time.Minute)
	if res := sipOptions(t, sipAddr); res.StatusCode != 200 {
		t.Fatalf("OPTIONS while serving: %s", sipptest.Describe(res))
	}

	proxy.Cut()
	waitHealth(t, admin, 503, "temporal:", time.Minute)
	waitUntil(t, "OPTIONS refused", time.Minute, func() bool { return sipOptions(t, sipAddr).StatusCode == 503 })
	checkRetryAfter(t, "OPTIONS while Temporal is down", sipOptions(t, sipAddr))
	uac := sipptest.NewUAC(t, sipptest.UACConfig{Target: sipAddr})
	uac.Invite("7000")
	res := finalResponse(t, uac)
	uac.Ack(res)
	if res.StatusCode != 503 {
		t.Fatalf("INVITE while Temporal is down: %s, want 503", sipptest.Describe(res))
	}
	checkRetryAfter(t, "INVITE while Temporal is down", res)

	proxy.Restore()
	waitHealth(t, admin, 200, "ok", time.Minute)
	waitUntil(t, "OPTIONS accepted again", time.Minute, func() bool { return sipOptions(t, sipAddr).StatusCode == 200 })
	call := sipptest.NewUAC(t, sipptest.UACConfig{Target: sipAddr, From: "+15550123"})
	call.Invite("7000")
	if res := finalResponse(t, call); res.StatusCode != 200 {
		t.Fatalf("INVITE once Temporal is back: %s, want 200", sipptest.Describe(res))
	} else {
		call.Ack(res)
	}
	checkDrainWithLiveCall(t, media, admin, sipAddr, call)
}

// A media worker whose PostgreSQL store stops answering turns unready
// naming the store and refuses SIP probes with 503 and Retry-After; once
// the store answers again it is ready again.
func TestMediaRefusesCallsWhileStoreIsDown(t *testing.T) {
	dsn := storetest.Backends[1].NewDSN(t) // PostgreSQL; skips without one
	ts, _ := devtemporaltest.NewServer(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := startTCPProxy(t, u.Host)
	u.Host = proxy.Addr()
	admin, _ := freeAddr(t)
	sipAddr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	media := startCLI(t, "media", "--address", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
		"--store", u.String(), "--sip", sipAddr, "--id", "store-media", "--admin-addr", admin,
		"--record-dir", t.TempDir(), "--drain-timeout", "5s")
	media.waitOutput("activities on media-store-media")
	waitHealth(t, admin, 200, "ok", time.Minute)

	proxy.Cut()
	waitHealth(t, admin, 503, "store:", time.Minute)
	waitUntil(t, "OPTIONS refused", time.Minute, func() bool { return sipOptions(t, sipAddr).StatusCode == 503 })
	checkRetryAfter(t, "OPTIONS while the store is down", sipOptions(t, sipAddr))

	proxy.Restore()
	waitHealth(t, admin, 200, "ok", time.Minute)
	waitUntil(t, "OPTIONS accepted again", time.Minute, func() bool { return sipOptions(t, sipAddr).StatusCode == 200 })
	if code := media.Stop(); code != 0 {
		t.Errorf("media exited %d:\n%s", code, media.Output())
	}
}

// checkDrainWithLiveCall stops media while call is live: it turns unready
// (draining) and refuses probes until the call ends, then exits cleanly.
func checkDrainWithLiveCall(t *testing.T, media *cliProcess, admin, sipAddr string, call *sipptest.UAC) {
	t.Helper()
	waitFor(t, "the call counted live", func() bool {
		_, body := get(t, "http://"+admin+"/metrics")
		return sampleValue(body, "voxflow_sip_live_calls") == "1"
	})
	media.cancel() // SIGTERM
	waitHealth(t, admin, 503, "draining", time.Minute)
	checkRetryAfter(t, "OPTIONS while draining", sipOptions(t, sipAddr))
	call.Bye()
	if res := call.Response("BYE", 10*time.Second); res.StatusCode != 200 {
		t.Errorf("BYE while draining: %s", sipptest.Describe(res))
	}
	if code := media.Stop(); code != 0 {
		t.Errorf("media exited %d:\n%s", code, media.Output())
	}
	if out := media.Output(); !strings.Contains(out, "draining: 1 live calls") {
		t.Errorf("media did not report its live call when draining:\n%s", out)
	}
}

// sampleValue is the value of the first sample of metric in a /metrics
// body, whatever its labels; "" when there is none.
func sampleValue(body, metric string) string {
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, metric)
		if !ok || (!strings.HasPrefix(rest, " ") && !strings.HasPrefix(rest, "{")) {
			continue
		}
		if i := strings.LastIndexByte(rest, ' '); i >= 0 {
			return rest[i+1:]
		}
	}
	return ""
}

// waitHealth polls /healthz on addr until it answers code with a body
// containing want.
func waitHealth(t *testing.T, addr string, code int, want string, limit time.Duration) {
	t.Helper()
	var last string
	ok := pollUntil(limit, func() bool {
		got, body := get(t, "http://"+addr+"/healthz")
		last = fmt.Sprintf("%d %q", got, body)
		return got == code && strings.Contains(body, want)
	})
	if !ok {
		t.Fatalf("/healthz on %s: last %s, want %d containing %q", addr, last, code, want)
	}
}

// pollUntil polls cond every 100 ms until it holds or limit passes.
func pollUntil(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// finalResponse waits for the INVITE's final response (after 1xx).
func finalResponse(t *testing.T, uac *sipptest.UAC) *sip.Response {
	t.Helper()
	for {
		res := uac.Response("INVITE", 15*time.Second)
		if res.StatusCode >= 200 {
			return res
		}
	}
}

// checkRetryAfter fails unless res is a 503 with a Retry-After.
func checkRetryAfter(t *testing.T, what string, res *sip.Response) {
	t.Helper()
	h := res.GetHeader("Retry-After")
	if res.StatusCode != 503 || h == nil || h.Value() == "" {
		t.Errorf("%s: %s, want 503 with Retry-After\n%s", what, sipptest.Describe(res), res)
	}
}

// sipOptions sends one OPTIONS probe over UDP to addr and returns its
// final response, as Kamailio's dispatcher probes a worker.
func sipOptions(t *testing.T, addr string) *sip.Response {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().String()
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	msg := strings.Join([]string{
		"OPTIONS sip:" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP " + local + ";rport;branch=z9hG4bK-probe" + id,
		"From: <sip:probe@" + local + ">;tag=probe" + id,
		"To: <sip:" + addr + ">",
		"Call-ID: probe-" + id,
		"CSeq: 1 OPTIONS",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}, "\r\n") + "\r\n\r\n"
	if _, err := conn.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("OPTIONS to %s: no answer: %v", addr, err)
		}
		m, err := sip.ParseMessage(buf[:n])
		if res, ok := m.(*sip.Response); err == nil && ok && res.StatusCode >= 200 {
			return res
		}
	}
}

// tcpProxy forwards TCP connections to a backend. Cut drops them all and
// refuses new ones (accepted and closed at once), as a stopped server
// does, until Restore; the backend itself keeps running.
type tcpProxy struct {
	ln      net.Listener
	backend string
	mu      sync.Mutex
	cut     bool
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// startTCPProxy listens on a loopback port until the test ends.
func startTCPProxy(t *testing.T, backend string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is where clients connect.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and refuses new ones.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
}

// Restore forwards new connections again.
func (p *tcpProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

// forward pipes c to a new connection to the backend until either ends.
func (p *tcpProxy) forward(c net.Conn) {
	defer p.wg.Done()
	defer c.Close()
	b, err := net.Dial("tcp", p.backend)
	if err != nil {
		return
	}
	defer b.Close()
	if !p.track(c, b) {
		return
	}
	defer p.untrack(c, b)
	done := make(chan struct{}, 1)
	go func() {
		_, _ = io.Copy(b, c) // a reset connection ends the copy like EOF
		b.Close()
		done <- struct{}{}
	}()
	_, _ = io.Copy(c, b)
	c.Close()
	<-done
}

// track registers a forwarded pair; false while cut.
func (p *tcpProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *tcpProxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		delete(p.conns, c)
	}
}
