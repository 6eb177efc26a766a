package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/store"
)

// earlyClosedFlow is a "we are closed" announcement heard as early media.
const earlyClosedFlow = `name: early-closed
entry: closed
settings:
  early_media: true
nodes:
  closed:
    type: play
    say: "We are closed. Please call again tomorrow."
    next: bye
  bye:
    type: hangup
    reason: closed
`

// earlyMenuFlow greets as early media and is answered for its menu.
const earlyMenuFlow = `name: early-menu
entry: welcome
settings:
  early_media: true
  input_timeout: 8s
variables:
  choice: ""
nodes:
  welcome:
    type: play
    say: "Welcome."
    next: main_menu
  main_menu:
    type: menu
    prompt: "Press 1."
    options:
      "1": { next: chosen }
    retries: 1
    on_failure: goodbye
  chosen:
    type: set
    assign:
      choice: '"one"'
    next: goodbye
  goodbye:
    type: hangup
    say: "Goodbye."
`

// Early media and hold through CallWorkflow: SIPp checks the SIP side
// (183 with SDP then 480; 183 then 200; hold answered recvonly), the CDR
// the flow's side.
func TestSIPEarlyMediaAndHold(t *testing.T) {
	s := newSIPStack(t)
	ctx := context.Background()
	for name, src := range map[string]string{"early-closed": earlyClosedFlow, "early-menu": earlyMenuFlow} {
		if _, err := s.store.PublishSource(ctx, name, src, "e2e", ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.store.BindNumber(ctx, "7100", "early-closed"); err != nil {
		t.Fatal(err)
	}
	if err := s.store.BindNumber(ctx, "7200", "early-menu"); err != nil {
		t.Fatal(err)
	}

	t.Run("closed announcement", func(t *testing.T) {
		s.sipp("uac_early_closed.xml", "7100")
		rec := s.cdr("early-closed", "+15550103")
		if got, want := pathOf(rec), "closed>bye"; got != want {
			t.Errorf("path = %s, want %s", got, want)
		}
		if rec.Outcome != records.OutcomeCompleted {
			t.Errorf("outcome = %s", rec.Outcome)
		}
		s.idle()
	})
	t.Run("answered for the menu", func(t *testing.T) {
		s.sipp("uac_early_menu.xml", "7200")
		rec := s.cdr("early-menu", "+15550104")
		if got, want := pathOf(rec), "welcome>main_menu>chosen>goodbye"; got != want {
			t.Errorf("path = %s, want %s", got, want)
		}
		if rec.Outcome != records.OutcomeCompleted || rec.Vars["choice"] != "one" {
			t.Errorf("outcome %s vars %v", rec.Outcome, rec.Vars)
		}
		s.idle()
	})
	t.Run("hold and resume", func(t *testing.T) {
		s.sipp("uac_hold.xml", "7000")
		rec := s.cdr("sip-menu", "+15550105")
		if got, want := pathOf(rec), "welcome>main_menu>sales_menu>new_orders>goodbye>wrap_up"; got != want {
			t.Errorf("path = %s, want %s", got, want)
		}
		if rec.Outcome != records.OutcomeCompleted || rec.Vars["department"] != "new orders" {
			t.Errorf("outcome %s vars %v", rec.Outcome, rec.Vars)
		}
		s.idle()
	})
}

// `voxflow media --sip-tls-cert --sip-tls-key`: a call over SIP/TLS walks the menu
// (keys as SIP INFO over TLS) and its CDR has the path; a missing
// certificate is a startup error naming the flag and the file.
func TestCLIMediaTLS(t *testing.T) {
	ts, st, dbPath := cliMediaEnv(t)
	ctx := context.Background()
	certFile, keyFile, pool := sipptest.SelfSignedCert(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	base := []string{"media", "--temporal", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
		"--store", "sqlite://" + dbPath, "--record-dir", t.TempDir(), "--drain-timeout", "10s"}

	missing := filepath.Join(t.TempDir(), "nope.pem")
	var out, errb bytes.Buffer
	code := cli.Main(ctx, append(base, "--sip", "127.0.0.1:"+strconv.Itoa(sipptest.FreePort(t)), "--id", "tls-bad",
		"--sip-tls-cert", missing, "--sip-tls-key", keyFile), strings.NewReader(""), &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "--sip-tls-cert") || !strings.Contains(errb.String(), missing) {
		t.Errorf("missing certificate: exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
	}

	addr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	tlsAddr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	out.Reset()
	errb.Reset()
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Main(runCtx, append(base, "--sip", addr, "--id", "cli-tls", "--sip-tls-cert", certFile, "--sip-tls-key", keyFile, "--sip-tls", tlsAddr),
			strings.NewReader(""), &out, &errb)
	}()
	waitFor(t, "TLS listener", func() bool {
		conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: pool})
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	u := sipptest.NewUAC(t, sipptest.UACConfig{Target: tlsAddr, TLS: &tls.Config{RootCAs: pool}, From: "+15550107"})
	u.Invite("7000")
	res := u.Response("INVITE", 10*time.Second)
	for res.StatusCode < 200 {
		res = u.Response("INVITE", 10*time.Second)
	}
	if res.StatusCode != 200 {
		t.Fatalf("INVITE over TLS answered %s\n%s", sipptest.Describe(res), errb.String())
	}
	u.Ack(res)
	// The welcome prompt plays (2.2 s, once the workflow has started and
	// espeak-ng rendered it), then the menu: keys are kept as type-ahead,
	// one per menu.
	waitFor(t, "the welcome prompt's RTP over the TLS call", func() bool {
		return u.RTPBetween(time.Now().Add(-time.Second), time.Now()) >= 40
	})
	u.Info('1')
	u.Response("INFO", 3*time.Second)
	time.Sleep(3 * time.Second)
	u.Info('2')
	u.Response("INFO", 3*time.Second)
	u.Request("BYE", 15*time.Second)
	rec := oneCDR(t, st, store.CDRQuery{Flow: "sip-menu"})
	if got, want := pathOf(rec), "welcome>main_menu>sales_menu>new_orders>goodbye>wrap_up"; got != want || rec.Outcome != records.OutcomeCompleted || rec.From != "+15550107" {
		t.Errorf("path %s outcome %s from %s, want %s completed", got, rec.Outcome, rec.From, want)
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
	if !strings.Contains(out.String(), "TLS on "+tlsAddr) {
		t.Errorf("banner: %s", out.String())
	}
}
