package e2e

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipguard"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/store"
)

// TestSIPScannerThroughKamailio puts the repository's Kamailio config in
// front of a media worker that trusts it (--sip-trusted-proxies 127.0.0.1/32).
// A password guesser at 127.0.0.2 is banned by the worker (by the address
// in the Via), not Kamailio; its requests then get 403, not silence, so
// Kamailio keeps the worker in its dispatcher set and a call from
// 127.0.0.1 still reaches the worker, and the real phone registers.
// svcrack from 127.0.0.3 never finds the password and Kamailio bans it at
// the edge: svmap from there then sees nothing.
func TestSIPScannerThroughKamailio(t *testing.T) {
	if _, err := exec.LookPath("kamailio"); err != nil {
		t.Fatal("kamailio is not installed: run scripts/test, which installs it (or apt-get install -y kamailio)")
	}
	s := newProxiedScanStack(t)
	workerPort := s.port
	kam := startKamailio(t, workerPort)
	s.port = kam.port // sipvicious, addr(): through Kamailio

	// Six wrong passwords from 127.0.0.2: 401 five times (the fifth bans
	// it on the worker), then the worker's 403.
	var got []int
	for i := range 6 {
		got = append(got, badRegister(t, "127.0.0.2", s.addr(), i+1))
	}
	if fmt.Sprint(got) != "[401 401 401 401 401 403]" {
		t.Errorf("wrong passwords through Kamailio got %v, want 401 x5 then 403", got)
	}
	if !regexp.MustCompile(`msg="sip source banned" [^\n]*ip=127\.0\.0\.2 failures=5`).MatchString(s.log.String()) {
		t.Errorf("the worker did not ban 127.0.0.2:\n%s", s.log.String())
	}
	// The banned client's INVITE is refused, not left to time out.
	if code := sendSIP(t, "127.0.0.2", s.addr(), inviteFrom("127.0.0.2", s.addr())); code != 403 {
		t.Errorf("INVITE from the banned client through Kamailio: %d, want 403", code)
	}
	// Kamailio's address is never banned; a call through it goes on.
	if b := s.media.SIP.Bans(); b.Banned(kam.addr()) || b.Banned("127.0.0.1") {
		t.Error("the worker banned Kamailio's address")
	}
	// Had Kamailio taken the worker out, it would answer 503 itself.
	if code := sendSIP(t, "127.0.0.1", s.addr(), inviteFrom("127.0.0.1", s.addr())); code == 0 || code == 503 {
		t.Errorf("INVITE from 127.0.0.1 through Kamailio after the ban: %d, want the worker's answer\n%s", code, kam.log.String())
	} else {
		t.Logf("INVITE from 127.0.0.1 (no SDP) through Kamailio after the ban: %d from the worker", code)
	}
	lookup := func() ([]registrar.Contact, error) { return s.media.Registrar.Lookup(context.Background(), "1001") }
	registerWithSIPp(t, s.addr(), "1001", scanPassword, lookup, func(c registrar.Contact) {
		if c.Source == kam.addr() {
			t.Errorf("binding %+v: its source is Kamailio, calls to the phone would go there", c)
		}
	})

	dict, err := filepath.Abs("testdata/scan/passwords.txt")
	if err != nil {
		t.Fatal(err)
	}
	crack := s.sipvicious("127.0.0.3", "svcrack", "-u", "1050", "-d", dict, "--maximumtime", "3")
	if strings.Contains(crack, "another-Secret-50") {
		t.Errorf("svcrack found the password:\n%s", crack)
	}
	t.Logf("svcrack: %s", lastLine(crack))
	// pike (a flood) or the count of refused credentials, whichever first.
	if !regexp.MustCompile(`(SIP flood|SIP credentials) from 127\.0\.0\.3.*banned`).MatchString(kam.log.String()) {
		t.Errorf("Kamailio did not ban 127.0.0.3:\n%s", kam.log.String())
	}
	if out := s.sipvicious("127.0.0.3", "svmap"); strings.Contains(out, s.addr()) {
		t.Errorf("svmap from the source Kamailio banned sees the server:\n%s", out)
	}
	if strings.Contains(kam.log.String(), "out of the dispatcher set") {
		t.Errorf("Kamailio took the worker out:\n%s", kam.log.String())
	}
	if n := strings.Count(s.log.String(), `msg="sip source banned"`); n > 2 || strings.Contains(s.log.String(), "ip=127.0.0.1 ") {
		t.Errorf("worker bans: %d, want 127.0.0.2 (and 127.0.0.3) only:\n%s", n, s.log.String())
	}
	t.Logf("worker: failures %v, bans %v, dropped %v", s.metric(sipguard.MetricAuthFailures), s.metric(sipguard.MetricBans),
		s.metric(sipguard.MetricDroppedRequests))
}

// newProxiedScanStack is newScanStack's worker trusting Kamailio on
// 127.0.0.1.
func newProxiedScanStack(t *testing.T) *scanStack {
	t.Helper()
	sipptest.Need(t)
	for _, tool := range []string{"svmap", "svcrack"} {
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
	cfg.ID, cfg.SIPAddr, cfg.RecordDir, cfg.Registrar = "e2e-proxied", "127.0.0.1:"+strconv.Itoa(port), t.TempDir(), true
	cfg.Guard.TrustedProxies = "127.0.0.1/32"
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

// kamailioProc is a Kamailio running deploy/kamailio/kamailio.cfg.
type kamailioProc struct {
	port int
	log  *lockedBuffer
}

func (k kamailioProc) addr() string { return "127.0.0.1:" + strconv.Itoa(k.port) }

// startKamailio runs the repository's Kamailio config on a free loopback
// port with one media worker, as deploy/local-cluster does, until the test
// ends.
func startKamailio(t *testing.T, workerPort int) kamailioProc {
	t.Helper()
	b, err := os.ReadFile("../deploy/kamailio/kamailio.cfg")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	k := kamailioProc{port: sipptest.FreePort(t), log: &lockedBuffer{}}
	list := filepath.Join(dir, "dispatcher.list")
	if err := os.WriteFile(list, fmt.Appendf(nil, "1 sip:127.0.0.1:%d 0 0 duid=w1;maxload=400\n", workerPort), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := strings.NewReplacer("/etc/kamailio/dispatcher.list", list,
		"listen=udp:0.0.0.0:5060", "listen=udp:"+k.addr(), "listen=tcp:0.0.0.0:5060", "listen=tcp:"+k.addr(),
		"children=4", "children=2").Replace(string(b))
	cfgPath := filepath.Join(dir, "kamailio.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("kamailio", "-DD", "-E", "-f", cfgPath, "-Y", dir)
	cmd.Stdout, cmd.Stderr = k.log, k.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(15 * time.Second)
	for sendSIP(t, "127.0.0.1", k.addr(), optionsTo(k.addr())) != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("Kamailio does not answer OPTIONS:\n%s", k.log.String())
		}
	}
	return k
}

// sendSIP sends one request (a format with %[1]s for the local address)
// over UDP from local IP from and returns the final status code; 0 when
// none came within 4 s. fr_timer is 2 s, so a worker that stayed silent
// would be answered for by Kamailio in that time.
func sendSIP(t *testing.T, from, to, format string) int {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		t.Fatal(err)
	}
	msg := strings.ReplaceAll(fmt.Sprintf(format, conn.LocalAddr().String()), "\n", "\r\n")
	if _, err := conn.WriteToUDP([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(4 * time.Second))
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return 0
		}
		var code int
		if _, err := fmt.Sscanf(string(buf[:n]), "SIP/2.0 %d", &code); err == nil && code >= 200 {
			lastResponse = string(buf[:n])
			return code
		}
	}
}

// lastResponse is the last final response sendSIP read (for the digest
// challenge).
var lastResponse string

func optionsTo(to string) string {
	return "OPTIONS sip:" + to + " SIP/2.0\nVia: SIP/2.0/UDP %[1]s;rport;branch=z9hG4bK" + strconv.FormatInt(time.Now().UnixNano(), 36) +
		"\nFrom: <sip:probe@127.0.0.1>;tag=p\nTo: <sip:" + to + ">\nCall-ID: " + strconv.FormatInt(time.Now().UnixNano(), 36) +
		"\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nContent-Length: 0\n\n"
}

func inviteFrom(from, to string) string {
	return "INVITE sip:7000@" + to + " SIP/2.0\nVia: SIP/2.0/UDP %[1]s;rport;branch=z9hG4bKinv" + strconv.FormatInt(time.Now().UnixNano(), 36) +
		"\nFrom: <sip:scanner@" + from + ">;tag=s\nTo: <sip:7000@" + to + ">\nCall-ID: inv-" + strconv.FormatInt(time.Now().UnixNano(), 36) +
		"\nCSeq: 1 INVITE\nContact: <sip:scanner@%[1]s>\nMax-Forwards: 70\nContent-Length: 0\n\n"
}

// badRegister registers agent 1001 from local IP from with a wrong
// password (attempt n): a challenge, then credentials. It returns the
// status of the REGISTER with credentials; the challenge's when it is not
// 401.
func badRegister(t *testing.T, from, to string, n int) int {
	t.Helper()
	callID := fmt.Sprintf("bad-%d-%d", n, time.Now().UnixNano())
	reg := func(cseq int, auth string) string {
		return "REGISTER sip:" + to + " SIP/2.0\nVia: SIP/2.0/UDP %[1]s;rport;branch=z9hG4bK" + callID + strconv.Itoa(cseq) +
			"\nFrom: <sip:1001@" + to + ">;tag=b\nTo: <sip:1001@" + to + ">\nCall-ID: " + callID + "\nCSeq: " + strconv.Itoa(cseq) +
			" REGISTER\nContact: <sip:1001@%[1]s>\nExpires: 60\n" + auth + "Max-Forwards: 70\nContent-Length: 0\n\n"
	}
	if code := sendSIP(t, from, to, reg(1, "")); code != 401 {
		return code
	}
	m := regexp.MustCompile(`nonce="([^"]+)"`).FindStringSubmatch(lastResponse)
	if m == nil {
		t.Fatalf("no nonce in the challenge:\n%s", lastResponse)
	}
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	uri, realm := "sip:"+to, registrar.DefaultRealm
	resp := h(h("1001:"+realm+":wrong-"+strconv.Itoa(n)) + ":" + m[1] + ":00000001:c0ffee:auth:" + h("REGISTER:"+uri))
	auth := fmt.Sprintf(`Authorization: Digest username="1001", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, qop=auth, nc=00000001, cnonce="c0ffee"`+"\n",
		realm, m[1], uri, resp)
	return sendSIP(t, from, to, reg(2, auth))
}
