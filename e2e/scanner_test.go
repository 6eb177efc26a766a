package e2e

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipguard"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/store"
)

// scanPassword is agent 1001's password: line 290 of the 301 words of
// testdata/scan/passwords.txt.
const scanPassword = "Tr0ub4dor-1001"

// scanStack is a SIP media worker with its registrar and the default
// scanner bans (5 failures in 1 min: 10 min ban), agents 1001 and 1050,
// and number 7000 on the two-level menu flow.
type scanStack struct {
	*stack
	media *sipmedia.Media
	host  string // 127.0.0.1
	port  int
	log   *lockedBuffer
}

func newScanStack(t *testing.T) *scanStack {
	t.Helper()
	sipptest.Need(t)
	for _, tool := range []string{"svwar", "svcrack", "svmap"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (sipvicious) is not installed", tool)
		}
	}
	s := newStack(t)
	ctx := context.Background()
	if _, err := s.store.PublishSource(ctx, "sip-menu", sipMenuFlow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.store.BindNumber(ctx, "7000", "sip-menu"); err != nil {
		t.Fatal(err)
	}
	for name, pw := range map[string]string{"1001": scanPassword, "1050": "another-Secret-50"} {
		a := store.SIPAccount{Username: name, Realm: registrar.DefaultRealm, HA1: registrar.HA1(name, registrar.DefaultRealm, pw), Enabled: true}
		if err := s.store.AddSIPAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	port := sipptest.FreePort(t)
	cfg := config.Defaults().Media
	cfg.ID, cfg.SIPAddr, cfg.RecordDir, cfg.Registrar = "e2e-scan", "127.0.0.1:"+strconv.Itoa(port), t.TempDir(), true
	log := &lockedBuffer{}
	out := io.Writer(log)
	if os.Getenv("SIPWORKER_DEBUG") != "" {
		out = io.MultiWriter(log, os.Stderr)
	}
	m, err := sipmedia.Start(ctx, cfg, sipmedia.Deps{
		Client: s.c, Store: s.store, TTS: toneTTS{}, CallVars: map[string]any{"crm_url": s.crmURL},
		Logger: slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()) })
	return &scanStack{stack: s, media: m, host: "127.0.0.1", port: port, log: log}
}

// sipvicious runs one sipvicious tool from source address from (a
// loopback address: the worker tells sources apart by it) and returns its
// output; the tools exit non-zero for reasons of their own, so the output
// is what the test reads. svcrack and svwar ignore their -b (sipvicious
// 0.3.3), so testdata/scan/bindfrom.py binds their socket.
func (s *scanStack) sipvicious(from, tool string, args ...string) string {
	s.t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		s.t.Fatal(err)
	}
	python := "python3"
	if b, err := os.ReadFile(path); err == nil && strings.HasPrefix(string(b), "#!") {
		python = strings.TrimSpace(strings.SplitN(string(b)[2:], "\n", 2)[0]) // the tool's own interpreter
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	args = append([]string{"testdata/scan/bindfrom.py", from, tool, "-p", strconv.Itoa(s.port)}, args...)
	cmd := exec.CommandContext(ctx, python, append(args, s.host)...)
	cmd.Env = append(os.Environ(), "HOME="+s.t.TempDir()) // the tools keep sessions in ~/.sipvicious
	out, _ := cmd.CombinedOutput()
	return string(out)
}

// metric is the value of a guard series (the dropped counter: its banned
// reason).
func (s *scanStack) metric(name string) float64 {
	s.t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.media.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		s.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if name == sipguard.MetricDroppedRequests && !hasLabel(m, "reason", sipguard.ReasonBanned) {
				continue
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// foundRE matches a row of the table svwar prints for an extension it
// found: "| 1001 | reqauth |". (With every extension answered alike it
// lists at most the first it tried and its made-up one, as "weird".)
var foundRE = regexp.MustCompile(`(?m)^\|\s*(\d+)\s*\|`)

// TestSIPScanners runs sipvicious against a media worker with agents: svmap
// sees the server (it answers OPTIONS); svwar cannot tell the agents'
// extensions from unknown ones by any method; svcrack guessing agent 1001's
// password from 127.0.0.2 is banned after 5 failures and never finds it,
// while inbound calls from 127.0.0.1 all go through and the real phone
// still registers.
func TestSIPScanners(t *testing.T) {
	s := newScanStack(t)

	if out := s.sipvicious("127.0.0.3", "svmap"); !strings.Contains(out, s.addr()) {
		t.Fatalf("svmap does not see the server:\n%s", out)
	}
	for _, method := range []string{"REGISTER", "OPTIONS", "INVITE"} {
		// --force: svwar stops at once when an unknown extension is
		// challenged too, which is already the answer.
		out := s.sipvicious("127.0.0.3", "svwar", "-m", method, "-e", "990-1060", "--force")
		for _, m := range foundRE.FindAllStringSubmatch(out, -1) {
			if m[1] == "1001" || m[1] == "1050" {
				t.Errorf("svwar -m %s found agent %s:\n%s", method, m[1], out)
			}
		}
		t.Logf("svwar -m %s: %s", method, lastLine(out))
	}

	// Inbound calls from 127.0.0.1 while svcrack attacks from 127.0.0.2.
	const calls = 6
	load := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_2833.xml"), Target: s.addr(), Service: "7000",
		Args: []string{"-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls), "-r", "2"}, Timeout: 40 * time.Second})
	dict, err := filepath.Abs("testdata/scan/passwords.txt")
	if err != nil {
		t.Fatal(err)
	}
	crack := s.sipvicious("127.0.0.2", "svcrack", "-u", "1001", "-d", dict, "--maximumtime", "3")
	if strings.Contains(crack, scanPassword) {
		t.Errorf("svcrack found the password:\n%s", crack)
	}
	t.Logf("svcrack: %s", lastLine(crack))
	res := load()
	ok := successfulCalls(res.Output)
	t.Logf("legitimate calls during the attack: %d/%d succeeded", ok, calls)
	if res.Err != nil || ok != calls {
		t.Errorf("calls during the attack: %d/%d succeeded: %v\n%s", ok, calls, res.Err, res.Output)
	}

	s.checkBanned()
	// The real phone, from 127.0.0.1, still registers with its password.
	lookup := func() ([]registrar.Contact, error) { return s.media.Registrar.Lookup(context.Background(), "1001") }
	registerWithSIPp(t, s.addr(), "1001", scanPassword, lookup, func(registrar.Contact) {})
	// And the banned source sees no server at all.
	if out := s.sipvicious("127.0.0.2", "svmap"); strings.Contains(out, s.addr()) {
		t.Errorf("svmap from the banned source sees the server:\n%s", out)
	}
}

func (s *scanStack) addr() string { return s.host + ":" + strconv.Itoa(s.port) }

// checkBanned checks the ban of 127.0.0.2: its log line and the metrics.
func (s *scanStack) checkBanned() {
	s.t.Helper()
	line := regexp.MustCompile(`level=WARN msg="sip source banned" [^\n]*ip=127\.0\.0\.2 failures=5 for=10m\n`)
	if !line.MatchString(s.log.String()) {
		s.t.Errorf("no ban line in the log:\n%s", s.log.String())
	}
	if n := strings.Count(s.log.String(), `msg="sip source banned"`); n != 1 {
		s.t.Errorf("%d ban lines, want 1", n)
	}
	failures, bans := s.metric(sipguard.MetricAuthFailures), s.metric(sipguard.MetricBans)
	banned, dropped := s.metric(sipguard.MetricBannedSources), s.metric(sipguard.MetricDroppedRequests)
	s.t.Logf("metrics: auth failures %v, bans %v, banned sources %v, dropped %v", failures, bans, banned, dropped)
	if failures < 5 || bans != 1 || banned != 1 || dropped < 1 {
		s.t.Errorf("metrics: auth failures %v (want >= 5), bans %v (1), banned sources %v (1), dropped %v (>= 1)", failures, bans, banned, dropped)
	}
}

// successfulCalls reads SIPp's final "Successful call" count.
func successfulCalls(out string) int {
	m := regexp.MustCompile(`Successful call\s*\|\s*\d+\s*\|\s*(\d+)`).FindAllStringSubmatch(out, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}
