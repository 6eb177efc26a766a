package e2e

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/internal/devtemporal"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/media/registrar"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/store"
)

// addAgent runs `voxflow agents add NAME` on a store and returns the
// password it generated.
func addAgent(t *testing.T, dsn, name string) string {
	t.Helper()
	code, out, errs := voxflow(t, "", "agents", "add", name, "--store", dsn)
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("agents add %s: %d\n%s%s", name, code, out, errs)
	}
	return m[1]
}

// registerWithSIPp runs uac_register.xml as agent name against addr and,
// while the phone is registered, calls during(); lookup must find the
// phone's contact then and nothing once SIPp has unregistered.
func registerWithSIPp(t *testing.T, addr, name, password string, lookup func() ([]registrar.Contact, error), during func(registrar.Contact)) {
	t.Helper()
	port := sipptest.FreePort(t)
	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_register.xml"), Target: addr, Port: port,
		Service: name, Args: []string{"-au", name, "-ap", password}, Timeout: 20 * time.Second})
	var found registrar.Contact
	deadline := time.Now().Add(10 * time.Second)
	for found.URI == "" && time.Now().Before(deadline) {
		if cs, err := lookup(); err == nil && strings.Contains(cs[0].URI, ":"+strconv.Itoa(port)) {
			found = cs[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if found.URI == "" {
		res := wait()
		t.Fatalf("%s never registered: %v\n%s", name, res.Err, res.Output)
	}
	during(found)
	if res := wait(); res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	if cs, err := lookup(); !errors.Is(err, registrar.ErrNotRegistered) {
		t.Fatalf("after unregister: %+v, %v", cs, err)
	}
}

// startDevSIP starts `voxflow dev` on free loopback ports, stopped when
// the test ends; it returns the platform, its SIP address and its store DSN.
func startDevSIP(t *testing.T) (*devstack.Dev, string, string) {
	t.Helper()
	return startDevSIPWith(t, func(*config.Config) {})
}

// portTaken reports a start that failed because a port it picked was taken.
func portTaken(err error) bool {
	return errors.Is(err, devtemporal.ErrStartRace) || errors.Is(err, devstack.ErrHTTPPortInUse) ||
		strings.Contains(err.Error(), "address already in use") || strings.Contains(err.Error(), "in use")
}

// An agent added with `voxflow agents add` registers a phone to `voxflow
// dev`; `voxflow agents list` shows where while it is registered.
func TestDevAgentRegisters(t *testing.T) {
	dev, sipAddr, dsn := startDevSIP(t)
	password := addAgent(t, dsn, "alice")

	lookup := func() ([]registrar.Contact, error) { return dev.Media.Registrar.Lookup(context.Background(), "alice") }
	registerWithSIPp(t, sipAddr, "alice", password, lookup, func(c registrar.Contact) {
		if c.WorkerID != "dev" || c.Transport != "UDP" {
			t.Errorf("contact %+v", c)
		}
		code, out, errs := voxflow(t, "", "agents", "list", "--store", dsn)
		if code != 0 || !strings.Contains(out, c.URI+" (from "+c.Source+"/UDP via dev") {
			t.Errorf("agents list while registered: %d\n%s%s", code, out, errs)
		}
	})
}

// `voxflow media` answers REGISTER through the store's accounts, and the
// binding is visible to any process on that store.
func TestCLIMediaRegistrar(t *testing.T) {
	sipptest.Need(t)
	ts, _ := devtemporaltest.NewServer(t)
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	password := addAgent(t, dsn, "bob")

	addr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var out, errb strings.Builder
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Main(runCtx, []string{"media", "--temporal", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(),
			"--store", dsn, "--sip", addr, "--id", "cli-reg", "--record-dir", t.TempDir(), "--drain-timeout", "5s"},
			strings.NewReader(""), &out, &errb)
	}()
	waitFor(t, "voxflow media listening", func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err == nil
	})

	other := sipmedia.RegistrarStore{Store: st} // another worker's view of the same store
	lookup := func() ([]registrar.Contact, error) {
		cs, err := other.Contacts(ctx, "bob", time.Now())
		if err == nil && len(cs) == 0 {
			err = registrar.ErrNotRegistered
		}
		return cs, err
	}
	registerWithSIPp(t, addr, "bob", password, lookup, func(c registrar.Contact) {
		if c.WorkerID != "cli-reg" {
			t.Errorf("contact %+v", c)
		}
	})
	stop()
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("voxflow media exited %d\n%s%s", code, out.String(), errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("voxflow media did not exit after cancel")
	}
}

// TestDevAgentDesk is the README's agent story on `voxflow dev`: agent alice
// is added with the CLI, her softphone (baresip, auto answer) registers, a
// caller dials 4000 (the agent-desk example), is bridged to her phone and
// recorded; alice hangs up and the caller rates the call with key 1.
func TestDevAgentDesk(t *testing.T) {
	dev, sipAddr, dsn := startDevSIP(t)
	password := addAgent(t, dsn, "alice")

	phone := sipptest.StartBaresip(t, "<sip:alice@"+sipAddr+">;auth_pass="+password+";regint=600;answermode=auto")
	waitFor(t, "alice's phone registered", func() bool {
		cs, err := dev.Media.Registrar.Lookup(context.Background(), "alice")
		return err == nil && len(cs) == 1
	})
	go func() {
		if phone.WaitOutput("Call established", 20*time.Second) {
			time.Sleep(3 * time.Second)
			phone.Command("/hangup") // alice ends the conversation
		}
	}()
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_agent_desk.xml"), Target: sipAddr, Service: "4000", Timeout: 40 * time.Second})
	if res.Err != nil {
		t.Fatalf("%v\n%s\n--- alice's phone ---\n%s", res.Err, res.Output, phone.Output())
	}
	rec := oneCDR(t, dev.Store, store.CDRQuery{Flow: "agent-desk"})
	if pathOf(rec) != "connect>rate>happy>goodbye" || rec.Vars["rating"] != "good" {
		t.Fatalf("path %s, vars %v\n--- alice's phone ---\n%s", pathOf(rec), rec.Vars, phone.Output())
	}
	desk, _ := rec.Vars["desk"].(map[string]any)
	if desk["outcome"] != records.OutcomeBridged || len(rec.Recordings) != 1 || rec.Recordings[0] != desk["recording"] {
		t.Fatalf("desk = %v, recordings %v", desk, rec.Recordings)
	}
	path := strings.TrimPrefix(rec.Recordings[0], "file://")
	dataDir := filepath.Dir(strings.TrimPrefix(dsn, "sqlite://"))
	if !strings.HasPrefix(path, filepath.Join(dataDir, "recordings")) {
		t.Errorf("recording %s is not under the data dir", path)
	}
	if info, err := os.Stat(path); err != nil || info.Size() < 40_000 {
		t.Errorf("recording %s: %v (want ~3 s of stereo)", path, err)
	}
}
