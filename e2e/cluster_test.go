package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/store"
)

// Numbers the cluster test binds to its flows (e2e/testdata/cluster).
const (
	clusterQuickNumber = "7100" // cluster-quick: greets and hangs up
	clusterHoldNumber  = "7200" // cluster-hold: greets, waits 10 s, hangs up
)

// TestLocalCluster starts the production topology as separate processes
// (deploy/local-cluster/cluster up: PostgreSQL, the four Temporal services
// on it, 2 engines, 2 media workers behind Kamailio, 2 API instances) and
// calls it with SIPp through Kamailio:
//
//   - spread: calls complete, one completed CDR each in the PostgreSQL
//     store, run by both media workers and both engine workers;
//   - dead worker: Kamailio's list also names a media worker where nothing
//     listens; calls routed to it fail over and it is taken out;
//   - drain: SIGTERM to a media worker holding calls: they finish normally,
//     calls placed meanwhile all go to the other worker, and the drained
//     process exits by itself;
//   - kill: the drained worker started again is taken back; the other one,
//     killed with SIGKILL, is taken out and the calls go on;
//   - none left: with both killed, a call gets 503 with Retry-After.
func TestLocalCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole cluster (about a dozen processes); runs without -short")
	}
	cl := upCluster(t)
	cl.publish(t, map[string]string{clusterQuickNumber: "quick.yaml", clusterHoldNumber: "hold.yaml"})
	t.Run("spread", func(t *testing.T) { testClusterSpread(t, cl) })
	t.Run("dead worker", func(t *testing.T) { testClusterDeadWorker(t, cl) })
	t.Run("drain", func(t *testing.T) { testClusterDrain(t, cl) })
	t.Run("kill", func(t *testing.T) { testClusterKill(t, cl) })
	t.Run("none left", func(t *testing.T) { testClusterNoneLeft(t, cl) })
}

func testClusterSpread(t *testing.T, cl *localCluster) {
	const calls = 20
	since := time.Now()
	res := cl.sipp(t, sippRun{number: clusterQuickNumber, caller: "4401", calls: calls, concurrent: 4, rate: 4})()
	res.check(t, calls)
	cdrs := cl.waitCDRs(t, "cluster-quick", since, calls)
	checkCallers(t, cdrs, "4401", calls)
	byQueue := cl.mediaQueues(t, cdrs)
	for _, id := range cl.mediaIDs {
		if n := count(byQueue, activities.MediaQueue(id)); n == 0 {
			t.Errorf("media worker %s ran none of the %d calls: %v", id, calls, byQueue)
		}
	}
	cl.checkEnginesRan(t, cdrs)
	cl.checkAPIs(t, since, calls)
}

func testClusterDrain(t *testing.T, cl *localCluster) {
	const held, during = 4, 6
	since := time.Now()
	waitHeld := cl.sipp(t, sippRun{number: clusterHoldNumber, caller: "4402", calls: held, concurrent: held, rate: 20})
	var drained, other int // indexes in cl.mediaIDs
	waitUntil(t, "the held calls to be live", 30*time.Second, func() bool {
		live := []int{cl.liveCalls(t, 0), cl.liveCalls(t, 1)}
		drained, other = 0, 1
		if live[0] == 0 {
			drained, other = 1, 0
		}
		return live[0]+live[1] == held
	})
	drainedID, otherID := cl.mediaIDs[drained], cl.mediaIDs[other]
	pid := cl.pid(t, "media-"+drainedID)
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM media worker %s (pid %d): %v", drainedID, pid, err)
	}
	waitUntil(t, "media worker "+drainedID+" to drain", 10*time.Second, func() bool {
		return strings.Contains(cl.log(t, "media-"+drainedID), "draining:")
	})
	duringSince := time.Now()
	cl.sipp(t, sippRun{number: clusterQuickNumber, caller: "4403", calls: during, concurrent: 2, rate: 5})().check(t, during)
	waitHeld().check(t, held)
	waitUntil(t, "the drained media worker to exit by itself", 90*time.Second, func() bool { return !processAlive(pid) })
	if log := cl.log(t, "media-"+drainedID); strings.Contains(log, "panic:") {
		t.Errorf("the drained media worker panicked:\n%s", log)
	}

	heldCDRs := cl.waitCDRs(t, "cluster-hold", since, held)
	checkCallers(t, heldCDRs, "4402", held)
	if n := count(cl.mediaQueues(t, heldCDRs), activities.MediaQueue(drainedID)); n == 0 {
		t.Errorf("no held call was on the drained worker %s", drainedID)
	}
	duringCDRs := cl.waitCDRs(t, "cluster-quick", duringSince, during)
	checkCallers(t, duringCDRs, "4403", during)
	if q := cl.mediaQueues(t, duringCDRs); count(q, activities.MediaQueue(otherID)) != during {
		t.Errorf("calls placed while %s drained went to %v, want all on %s", drainedID, q, otherID)
	}
	// With the drained worker gone, Kamailio's probes take it out of the set:
	// the survivor serves every new call.
	afterSince := time.Now()
	cl.sipp(t, sippRun{number: clusterQuickNumber, caller: "4404", calls: 4, concurrent: 2, rate: 5})().check(t, 4)
	afterCDRs := cl.waitCDRs(t, "cluster-quick", afterSince, 4)
	if q := cl.mediaQueues(t, afterCDRs); count(q, activities.MediaQueue(otherID)) != 4 {
		t.Errorf("calls after %s exited went to %v, want all on %s", drainedID, q, otherID)
	}
}

// testClusterDeadWorker: the cluster's dispatcher list names a third media
// worker where nothing listens (VOXFLOW_CLUSTER_DEAD_WORKER). Kamailio
// counts it in until it learns otherwise (as when it starts, or when a
// worker has just died): set so, it sends it INVITEs, which get no answer,
// fail over to a live worker after fr_timer, and take it out of the set.
// From then on no call goes to it.
func testClusterDeadWorker(t *testing.T, cl *localCluster) {
	dead := "sip:" + cl.env["VOXFLOW_CLUSTER_DEAD_SIP"]
	noAnswer := "media worker " + dead + " did not answer INVITE"
	cl.kamcmd(t, "dispatcher.set_state", "ap", "1", dead)
	if f := cl.dispatcherFlags(t)[dead]; !strings.HasPrefix(f, "A") {
		t.Fatalf("Kamailio lists %s as %q after set_state ap, want active", dead, f)
	}
	// Three calls that overlap: each goes to the least loaded worker, so one
	// goes to the dead worker whatever the set's order, while it is in.
	const calls = 3
	mark, since := len(cl.log(t, "kamailio")), time.Now()
	cl.sipp(t, sippRun{number: clusterQuickNumber, caller: "4405", calls: calls, concurrent: calls, rate: 10})().check(t, calls)
	if n := strings.Count(cl.log(t, "kamailio")[mark:], noAnswer); n == 0 {
		t.Errorf("no INVITE went to the dead worker %s; Kamailio's log:\n%s", dead, cl.log(t, "kamailio")[mark:])
	} else {
		t.Logf("%d of %d calls went to the dead worker first and failed over", n, calls)
	}
	if f := cl.dispatcherFlags(t)[dead]; !strings.HasPrefix(f, "I") {
		t.Errorf("Kamailio lists %s as %q after an INVITE to it timed out, want inactive (I)", dead, f)
	}
	cl.checkOnLiveWorkers(t, cl.waitCDRs(t, "cluster-quick", since, calls), "4405", calls)

	mark, since = len(cl.log(t, "kamailio")), time.Now()
	cl.sipp(t, sippRun{number: clusterQuickNumber, caller: "4406", calls: calls, concurrent: calls, rate: 10})().check(t, calls)
	if strings.Contains(cl.log(t, "kamailio")[mark:], noAnswer) {
		t.Errorf("a call went to the dead worker %s after Kamailio took it out:\n%s", dead, cl.log(t, "kamailio")[mark:])
	}
	cl.checkOnLiveWorkers(t, cl.waitCDRs(t, "cluster-quick", since, calls), "4406", calls)
}

// checkOnLiveWorkers checks the calls' CDRs name one call each and that
// the two media workers ran them all.
func (cl *localCluster) checkOnLiveWorkers(t *testing.T, cdrs []records.CDR, caller string, calls int) {
	t.Helper()
	checkCallers(t, cdrs, caller, calls)
	q := cl.mediaQueues(t, cdrs)
	if n := count(q, activities.MediaQueue(cl.mediaIDs[0])) + count(q, activities.MediaQueue(cl.mediaIDs[1])); n != calls {
		t.Errorf("calls ran on %v, want all on %v", q, cl.mediaIDs)
	}
}

// testClusterKill: the worker the drain stopped is started again and
// Kamailio takes it back once its probes answer; then the other worker is
// killed with SIGKILL (no drain) while it has no call. The calls placed
// right after all complete on the restarted worker, the killed one's
// /healthz is gone and Kamailio takes it out (a call that reaches it first
// fails over after fr_timer).
func testClusterKill(t *testing.T, cl *localCluster) {
	restarted, victim := -1, -1
	for i, id := range cl.mediaIDs {
		if processAlive(cl.pid(t, "media-"+id)) {
			victim = i
		} else {
			restarted = i
		}
	}
	if restarted < 0 || victim < 0 {
		t.Fatalf("want one media worker stopped by the drain and one running: running %d, stopped %d", victim, restarted)
	}
	restartedID, victimID := cl.mediaIDs[restarted], cl.mediaIDs[victim]
	if out, err := cl.run("start", "media-"+restartedID); err != nil {
		t.Fatalf("cluster start media-%s: %v\n%s", restartedID, err, out)
	}
	restartedURI, victimURI := cl.mediaURI(restarted), cl.mediaURI(victim)
	waitUntil(t, "Kamailio to take "+restartedID+" back", 30*time.Second, func() bool {
		return strings.HasPrefix(cl.dispatcherFlags(t)[restartedURI], "A")
	})
	waitUntil(t, victimID+" to have no call", 30*time.Second, func() bool { return cl.liveCalls(t, victim) == 0 })

	const calls = 4
	mark, since := len(cl.log(t, "kamailio")), time.Now()
	pid := cl.pid(t, "media-"+victimID)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL media worker %s (pid %d): %v", victimID, pid, err)
	}
	killedAt := time.Now()
	out := cl.watchInactive(victimURI)
	waitUntil(t, "the killed media worker to exit", 10*time.Second, func() bool { return !processAlive(pid) })
	cl.sipp(t, sippRun{number: clusterQuickNumber, caller: "4407", calls: calls, concurrent: 2, rate: 5})().check(t, calls)
	cdrs := cl.waitCDRs(t, "cluster-quick", since, calls)
	checkCallers(t, cdrs, "4407", calls)
	if q := cl.mediaQueues(t, cdrs); count(q, activities.MediaQueue(restartedID)) != calls {
		t.Errorf("calls after %s was killed went to %v, want all on %s", victimID, q, restartedID)
	}
	admin := strings.Fields(cl.env["VOXFLOW_CLUSTER_MEDIA_ADMIN"])[victim]
	if code, _ := get(t, "http://"+admin+"/healthz"); code != 0 {
		t.Errorf("the killed media worker's /healthz answers %d, want no answer", code)
	}
	var outAt time.Time
	select {
	case outAt = <-out:
	case <-time.After(30 * time.Second):
		t.Fatalf("Kamailio still lists the killed worker %s as %q", victimURI, cl.dispatcherFlags(t)[victimURI])
	}
	failovers := strings.Count(cl.log(t, "kamailio")[mark:], "media worker "+victimURI+" did not answer INVITE")
	t.Logf("Kamailio took the killed worker %s out %s after SIGKILL; %d of %d calls failed over from it",
		victimID, outAt.Sub(killedAt).Round(100*time.Millisecond), failovers, calls)
}

// testClusterNoneLeft: with every media worker killed, Kamailio answers a
// new call 503 with Retry-After (once the INVITE to the worker it still
// counted in has timed out), rather than leaving the caller waiting or
// answering 408.
func testClusterNoneLeft(t *testing.T, cl *localCluster) {
	for _, id := range cl.mediaIDs {
		if pid := cl.pid(t, "media-"+id); processAlive(pid) {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatalf("SIGKILL media worker %s (pid %d): %v", id, pid, err)
			}
			waitUntil(t, "media worker "+id+" to exit", 10*time.Second, func() bool { return !processAlive(pid) })
		}
	}
	mark, start := len(cl.log(t, "kamailio")), time.Now()
	status, retryAfter := sipInvite(t, cl.env["VOXFLOW_CLUSTER_SIP"], clusterQuickNumber)
	t.Logf("with no media worker left: %q, Retry-After %q, after %s", status, retryAfter, time.Since(start).Round(100*time.Millisecond))
	if !strings.HasPrefix(status, "SIP/2.0 503 ") || retryAfter == "" {
		t.Errorf("INVITE with no media worker left: %q, Retry-After %q; want 503 with Retry-After", status, retryAfter)
	}
	if log := cl.log(t, "kamailio")[mark:]; !strings.Contains(log, "no media worker") {
		t.Errorf("Kamailio did not log the refused call:\n%s", log)
	}
}

// sipInvite sends one INVITE (no offer) over UDP to addr, acknowledges the
// final response and returns its status line and Retry-After header.
func sipInvite(t *testing.T, addr, number string) (status, retryAfter string) {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	to, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	local, id := conn.LocalAddr().String(), strconv.FormatInt(time.Now().UnixNano(), 36)
	head := func(method, toTag string) string {
		return fmt.Sprintf("%s sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bK-%s\r\n"+
			"From: <sip:+4499001@%s>;tag=%s\r\nTo: <sip:%s@%s>%s\r\nCall-ID: %s@e2e\r\nCSeq: 1 %s\r\n"+
			"Contact: <sip:caller@%s>\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
			method, number, addr, local, id, local, id, number, addr, toTag, id, method, local)
	}
	if _, err := conn.WriteTo([]byte(head("INVITE", "")), to); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no final answer to the INVITE through %s: %v", addr, err)
		}
		msg := string(buf[:n])
		status, _, _ = strings.Cut(msg, "\r\n")
		if strings.HasPrefix(status, "SIP/2.0 1") {
			continue
		}
		toTag := ""
		for line := range strings.Lines(msg) {
			name, value, _ := strings.Cut(strings.TrimSpace(line), ":")
			switch strings.ToLower(name) {
			case "retry-after":
				retryAfter = strings.TrimSpace(value)
			case "to":
				if _, tag, ok := strings.Cut(value, ";tag="); ok {
					toTag = ";tag=" + tag
				}
			}
		}
		conn.WriteTo([]byte(head("ACK", toTag)), to)
		return status, retryAfter
	}
}

// watchInactive polls Kamailio until it lists uri as inactive and sends
// the time it saw so.
func (cl *localCluster) watchInactive(uri string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	go func() {
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			if flags, err := cl.dispatcherList(); err == nil && strings.HasPrefix(flags[uri], "I") {
				ch <- time.Now()
				return
			}
		}
	}()
	return ch
}

// mediaURI is the SIP URI Kamailio's list names media worker i by.
func (cl *localCluster) mediaURI(i int) string {
	return "sip:" + strings.Fields(cl.env["VOXFLOW_CLUSTER_MEDIA_SIP"])[i]
}

// kamcmd runs kamcmd on the cluster's Kamailio (its ctl socket).
func (cl *localCluster) kamcmd(t *testing.T, args ...string) string {
	t.Helper()
	out, err := cl.kamcmdOut(args...)
	if err != nil {
		t.Fatalf("kamcmd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (cl *localCluster) kamcmdOut(args ...string) (string, error) {
	out, err := exec.Command("kamcmd", append([]string{"-s", cl.env["VOXFLOW_CLUSTER_KAMAILIO_CTL"]}, args...)...).CombinedOutput()
	return string(out), err
}

// dispatcherFlags maps each destination of Kamailio's dispatcher list to
// its flags: the first letter A (active), I (inactive), T (trying: probes
// failing) or D (disabled), the second P when probed.
func (cl *localCluster) dispatcherFlags(t *testing.T) map[string]string {
	t.Helper()
	flags, err := cl.dispatcherList()
	if err != nil {
		t.Fatal(err)
	}
	return flags
}

func (cl *localCluster) dispatcherList() (map[string]string, error) {
	out, err := cl.kamcmdOut("dispatcher.list")
	if err != nil {
		return nil, fmt.Errorf("kamcmd dispatcher.list: %w\n%s", err, out)
	}
	flags, uri := map[string]string{}, ""
	for line := range strings.Lines(out) {
		key, value, _ := strings.Cut(strings.TrimSpace(line), ": ")
		switch key {
		case "URI":
			uri = value
		case "FLAGS":
			flags[uri] = value
		}
	}
	return flags, nil
}

// localCluster is a cluster started by deploy/local-cluster/cluster in a
// work dir of the test.
type localCluster struct {
	script   string
	dir      string
	env      map[string]string // what `cluster env` exports
	mediaIDs []string
	store    *store.Store
	client   client.Client
}

// needClusterTools fails the test, with the install line, when a program
// the cluster needs is missing.
func needClusterTools(t *testing.T) {
	t.Helper()
	sipptest.Need(t)
	for _, bin := range []string{"kamailio", "kamcmd"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed: run scripts/test, which installs it (or apt-get install -y kamailio)", bin)
		}
	}
	pg, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if _, err := exec.LookPath("initdb"); err != nil && len(pg) == 0 {
		t.Fatal("the PostgreSQL server is not installed: run scripts/test, which installs it (or apt-get install -y postgresql)")
	}
}

// upCluster runs `cluster up` on a free block of ports; `cluster down`
// runs when the test ends (after showing the processes' logs if it failed).
func upCluster(t *testing.T) *localCluster {
	t.Helper()
	needClusterTools(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cl := &localCluster{script: filepath.Join(root, "deploy", "local-cluster", "cluster"), dir: t.TempDir()}
	base := freePortBlock(t, 500)
	t.Cleanup(func() { cl.down(t) })
	start := time.Now()
	// Kamailio's list also names a media worker that does not exist.
	if out, err := cl.runEnv([]string{"up"}, "VOXFLOW_CLUSTER_PORT_BASE="+strconv.Itoa(base), "VOXFLOW_CLUSTER_DEAD_WORKER=1"); err != nil {
		t.Fatalf("cluster up: %v\n%s", err, out)
	}
	t.Logf("cluster up in %s (ports from %d, work dir %s)", time.Since(start).Round(time.Second), base, cl.dir)
	out, err := cl.run("env")
	if err != nil {
		t.Fatalf("cluster env: %v\n%s", err, out)
	}
	cl.env = parseExports(out)
	cl.mediaIDs = strings.Fields(cl.env["VOXFLOW_CLUSTER_MEDIA_IDS"])
	if len(cl.mediaIDs) != 2 || cl.env["VOXFLOW_CLUSTER_DEAD_SIP"] == "" {
		t.Fatalf("cluster env: media workers %q, want 2, and a dead one (%q)", cl.mediaIDs, cl.env["VOXFLOW_CLUSTER_DEAD_SIP"])
	}
	ctx := context.Background()
	if cl.store, err = store.Open(ctx, cl.env["VOXFLOW_STORE"]); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.store.Close() })
	cl.client, err = client.Dial(client.Options{HostPort: cl.env["TEMPORAL_ADDRESS"], Namespace: cl.env["TEMPORAL_NAMESPACE"], Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.client.Close)
	return cl
}

// run runs the cluster script with a subcommand and its arguments in the
// test's work dir.
func (cl *localCluster) run(args ...string) (string, error) { return cl.runEnv(args) }

// runEnv is run with more environment.
func (cl *localCluster) runEnv(args []string, env ...string) (string, error) {
	cmd := exec.Command(cl.script, args...)
	cmd.Env = append(os.Environ(), append([]string{"VOXFLOW_CLUSTER_DIR=" + cl.dir}, env...)...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// down runs `cluster down` and checks that no process it started is left.
func (cl *localCluster) down(t *testing.T) {
	if t.Failed() {
		cl.showLogs(t)
	}
	started := map[string]int{} // name: pid, read before down removes the pid files
	files, _ := filepath.Glob(filepath.Join(cl.dir, "run", "*.pid"))
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".pid")
		started[name] = cl.pid(t, name)
	}
	if out, err := cl.run("down"); err != nil {
		t.Errorf("cluster down: %v\n%s", err, out)
	}
	for name, pid := range started {
		if groupAlive(pid) {
			t.Errorf("%s (process group %d) still runs after cluster down", name, pid)
		}
	}
	if pg := cl.env["VOXFLOW_CLUSTER_PG_DIR"]; pg != "" && fileExists(pg) {
		t.Errorf("PostgreSQL's directory %s is still there after cluster down", pg)
	}
}

// showLogs logs the end of every process's log.
func (cl *localCluster) showLogs(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(cl.dir, "logs", "*.log"))
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if len(b) > 3000 {
			b = b[len(b)-3000:]
		}
		t.Logf("--- %s (end) ---\n%s", filepath.Base(f), b)
	}
}

// parseExports reads `export NAME='value'` lines.
func parseExports(out string) map[string]string {
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			env[name] = strings.Trim(value, "'")
		}
	}
	return env
}

// freePortBlock finds n consecutive ports free for TCP and UDP on loopback
// below the ephemeral range, so that no port the test's neighbours pick
// lands in it.
func freePortBlock(t *testing.T, n int) int {
	t.Helper()
	for base := 20000 + (os.Getpid()%20)*500; base+n <= 32000; base += 500 {
		if portsFree(base, n) {
			return base
		}
	}
	for base := 20000; base+n <= 32000; base += 500 {
		if portsFree(base, n) {
			return base
		}
	}
	t.Fatalf("no block of %d free ports between 20000 and 32000", n)
	return 0
}

func portsFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		addr := "127.0.0.1:" + strconv.Itoa(p)
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return false
		}
		l.Close()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			return false
		}
		u.Close()
	}
	return true
}

// publish publishes the test's flows (e2e/testdata/cluster) and binds
// their numbers in the cluster's store.
func (cl *localCluster) publish(t *testing.T, numbers map[string]string) {
	t.Helper()
	ctx := context.Background()
	for number, file := range numbers {
		src, err := os.ReadFile(filepath.Join("testdata", "cluster", file))
		if err != nil {
			t.Fatal(err)
		}
		f, diags := flows.Parse(file, src)
		if err := diags.Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.store.PublishSource(ctx, f.Name, string(src), "e2e", "cluster test"); err != nil {
			t.Fatal(err)
		}
		if err := cl.store.BindNumber(ctx, number, f.Name); err != nil {
			t.Fatal(err)
		}
	}
}

// sippRun is one SIPp run of uac_call.xml through Kamailio: calls calls,
// at most concurrent at once, rate new calls a second, from callers
// "+<caller>00<n>" (n = 1..calls) so that each CDR names its call.
type sippRun struct {
	number                  string
	caller                  string
	calls, concurrent, rate int
}

// sippResult is how a SIPp run ended.
type sippResult struct {
	err               error
	succeeded, failed int
	output            string
}

// check fails the test unless SIPp exited 0 with every call successful.
func (r sippResult) check(t *testing.T, calls int) {
	t.Helper()
	if r.err != nil || r.succeeded != calls || r.failed != 0 {
		t.Fatalf("SIPp: %v, %d of %d calls successful, %d failed\n%s", r.err, r.succeeded, calls, r.failed, r.output)
	}
}

// sipp starts the run; wait returns its result.
func (cl *localCluster) sipp(t *testing.T, r sippRun) (wait func() sippResult) {
	t.Helper()
	bin := sipptest.Need(t)
	dir := t.TempDir()
	scenario, err := filepath.Abs(filepath.Join("testdata", "cluster", "uac_call.xml"))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{cl.env["VOXFLOW_CLUSTER_SIP"], "-sf", scenario, "-s", r.number, "-key", "caller", r.caller,
		"-m", strconv.Itoa(r.calls), "-l", strconv.Itoa(r.concurrent), "-r", strconv.Itoa(r.rate),
		"-i", "127.0.0.1", "-p", strconv.Itoa(sipptest.FreePort(t)), "-mp", strconv.Itoa(sipptest.FreeUDPPair(t)),
		"-timeout", "120s", "-timeout_error", "-trace_err", "-error_file", filepath.Join(dir, "err.log"),
		"-trace_stat", "-stf", filepath.Join(dir, "stat.csv"), "-nostdin"}
	ch := make(chan sippResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TERM=dumb")
		out, err := cmd.CombinedOutput()
		res := sippResult{err: err, output: string(out)}
		if b, rerr := os.ReadFile(filepath.Join(dir, "err.log")); rerr == nil && len(b) > 0 {
			res.output += "\n--- err.log ---\n" + string(b)
		}
		res.succeeded, res.failed, err = sippCounts(filepath.Join(dir, "stat.csv"))
		if err != nil && res.err == nil {
			res.err = err
		}
		ch <- res
	}()
	return func() sippResult { return <-ch }
}

// sippCounts reads the successful and failed call counts from the last
// row of SIPp's statistics file.
func sippCounts(path string) (succeeded, failed int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("SIPp statistics: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma, r.FieldsPerRecord = ';', -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) < 2 {
		return 0, 0, fmt.Errorf("SIPp statistics %s: %d rows, %v", path, len(rows), err)
	}
	head, last := rows[0], rows[len(rows)-1]
	get := func(col string) int {
		i := slices.Index(head, col)
		if i < 0 || i >= len(last) {
			return -1
		}
		n, _ := strconv.Atoi(last[i])
		return n
	}
	return get("SuccessfulCall(C)"), get("FailedCall(C)"), nil
}

// waitCDRs waits until flow has want CDRs started since, and fails the test
// unless each one completed.
func (cl *localCluster) waitCDRs(t *testing.T, flow string, since time.Time, want int) []records.CDR {
	t.Helper()
	var got []records.CDR
	waitUntil(t, fmt.Sprintf("%d CDRs of %s", want, flow), 30*time.Second, func() bool {
		var err error
		got, _, err = cl.store.SearchCDRs(context.Background(), store.CDRQuery{Flow: flow, StartedAfter: since, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return len(got) >= want
	})
	if len(got) != want {
		t.Errorf("%d CDRs of %s since %s, want %d", len(got), flow, since.Format(time.TimeOnly), want)
	}
	for _, r := range got {
		if r.Outcome != records.OutcomeCompleted {
			t.Errorf("call %s (%s, from %s): outcome %q, want %q; path %+v", r.CallID, flow, r.From, r.Outcome, records.OutcomeCompleted, r.Path)
		}
	}
	return got
}

// checkCallers checks the CDRs are one per SIPp call: callers
// +<caller>001 .. +<caller>00<calls>, each once.
func checkCallers(t *testing.T, cdrs []records.CDR, caller string, calls int) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range cdrs {
		seen[r.From]++
	}
	for n := 1; n <= calls; n++ {
		from := "+" + caller + "00" + strconv.Itoa(n)
		if seen[from] != 1 {
			t.Errorf("%d CDRs from %s, want 1 (callers seen: %v)", seen[from], from, seen)
		}
	}
}

// mediaQueues returns, per CDR, the media queue that held the call: the
// call workflow's VoxflowMediaQueue search attribute.
func (cl *localCluster) mediaQueues(t *testing.T, cdrs []records.CDR) []string {
	t.Helper()
	out := make([]string, 0, len(cdrs))
	for _, r := range cdrs {
		d, err := cl.client.DescribeWorkflowExecution(context.Background(), r.WorkflowID, r.RunID)
		if err != nil {
			t.Fatalf("describe %s: %v", r.WorkflowID, err)
		}
		var queue string
		if p := d.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[activities.AttrMediaQueue]; p != nil {
			if err := converter.GetDefaultDataConverter().FromPayload(p, &queue); err != nil {
				t.Fatalf("%s of %s: %v", activities.AttrMediaQueue, r.WorkflowID, err)
			}
		}
		out = append(out, queue)
	}
	return out
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// checkEnginesRan checks both engine workers ran workflow tasks of the
// calls: a workflow task's started event names its poller's identity,
// "<pid>@<host>@" by default, and each engine's pid is in its pid file.
// Where the engines export Temporal SDK metrics, each one's count of
// completed call workflows must be above zero too.
func (cl *localCluster) checkEnginesRan(t *testing.T, cdrs []records.CDR) {
	t.Helper()
	ran := map[string]int{}
	for _, r := range cdrs {
		for id := range cl.taskIdentities(t, r) {
			ran[id]++
		}
	}
	admins := strings.Fields(cl.env["VOXFLOW_CLUSTER_ENGINE_ADMIN"])
	for i := range admins {
		name := "engine-" + strconv.Itoa(i+1)
		prefix := strconv.Itoa(cl.pid(t, name)) + "@"
		n := 0
		for id, calls := range ran {
			if strings.HasPrefix(id, prefix) {
				n += calls
			}
		}
		if n == 0 {
			t.Errorf("%s (identity %s...) ran no workflow task of the %d calls; identities seen: %v", name, prefix, len(cdrs), ran)
		}
	}
	cl.checkEngineMetrics(t, admins)
}

// taskIdentities are the identities of the workers that started the
// call's workflow tasks.
func (cl *localCluster) taskIdentities(t *testing.T, r records.CDR) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	it := cl.client.GetWorkflowHistory(context.Background(), r.WorkflowID, r.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", r.WorkflowID, err)
		}
		if a := ev.GetWorkflowTaskStartedEventAttributes(); a != nil {
			ids[a.GetIdentity()] = true
		}
	}
	return ids
}

// checkEngineMetrics checks each engine's completed call workflows on its
// /metrics, when it exports the Temporal SDK's counter.
func (cl *localCluster) checkEngineMetrics(t *testing.T, admins []string) {
	t.Helper()
	const family = "temporal_workflow_completed_total"
	for i, addr := range admins {
		code, body := get(t, "http://"+addr+"/metrics")
		if code != 200 {
			t.Errorf("engine-%d /metrics: %d", i+1, code)
			continue
		}
		n, found := metricSum(body, family, `workflow_type="`+activities.CallWorkflowName+`"`)
		if !found {
			t.Logf("engine-%d does not export %s yet: engines checked by workflow task identities only", i+1, family)
			continue
		}
		if n <= 0 {
			t.Errorf("engine-%d: %s{workflow_type=%q} = %v, want > 0", i+1, family, activities.CallWorkflowName, n)
		}
	}
}

// metricSum adds the samples of a Prometheus text family whose labels
// contain label; found is false when the family has no sample at all.
func metricSum(body, family, label string) (sum float64, found bool) {
	for line := range strings.Lines(body) {
		line = strings.TrimSpace(line)
		i := strings.IndexAny(line, "{ ")
		if strings.HasPrefix(line, "#") || i < 0 || line[:i] != family {
			continue
		}
		found = true
		labels, value := "", line[i:]
		if line[i] == '{' {
			end := strings.Index(line, "} ")
			if end < 0 {
				continue
			}
			labels, value = line[i+1:end], line[end+2:]
		}
		if !strings.Contains(labels, label) {
			continue
		}
		if v, err := strconv.ParseFloat(strings.Fields(value)[0], 64); err == nil {
			sum += v
		}
	}
	return sum, found
}

// liveCalls is voxflow_sip_live_calls of media worker i.
func (cl *localCluster) liveCalls(t *testing.T, i int) int {
	t.Helper()
	addr := strings.Fields(cl.env["VOXFLOW_CLUSTER_MEDIA_ADMIN"])[i]
	code, body := get(t, "http://"+addr+"/metrics")
	if code != 200 {
		return -1
	}
	n, _ := metricSum(body, "voxflow_sip_live_calls", "")
	return int(n)
}

// pid is the process id in the work dir's pid file of a process.
func (cl *localCluster) pid(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cl.dir, "run", name+".pid"))
	if err != nil {
		t.Fatalf("pid of %s: %v", name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid of %s: %v", name, err)
	}
	return pid
}

// log is the process's log so far.
func (cl *localCluster) log(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(cl.dir, "logs", name+".log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

// processAlive: pid is a process that has not exited (a zombie, exited
// but not yet reaped by its parent, counts as exited).
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	_, after, ok := strings.Cut(string(b), ") ")
	return ok && !strings.HasPrefix(after, "Z")
}

// groupAlive: a process of process group pgid has not exited.
func groupAlive(pgid int) bool {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		_, after, ok := strings.Cut(string(b), ") ")
		fields := strings.Fields(after) // state, ppid, pgrp, ...
		if ok && len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

// checkAPIs signs in on the first API instance and reads the call records
// through the second with that session: the instances share sessions (in
// the store) and serve the same records.
func (cl *localCluster) checkAPIs(t *testing.T, since time.Time, want int) {
	t.Helper()
	apis := strings.Fields(cl.env["VOXFLOW_CLUSTER_APIS"])
	m := regexp.MustCompile(`First start: sign in as (\S+) / (\S+) `).FindStringSubmatch(cl.log(t, "api-1"))
	if len(apis) != 2 || m == nil {
		t.Fatalf("API instances %q; first admin not in api-1's log:\n%s", apis, cl.log(t, "api-1"))
	}
	creds, _ := json.Marshal(map[string]string{"username": m[1], "password": m[2]})
	res, err := http.Post(apis[0]+"/api/v1/session", "application/json", bytes.NewReader(creds))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 || len(res.Cookies()) == 0 {
		t.Fatalf("sign in on %s: %s, cookies %v", apis[0], res.Status, res.Cookies())
	}
	q := url.Values{"flow": {"cluster-quick"}, "started_after": {since.UTC().Format(time.RFC3339Nano)}, "limit": {"1000"}}
	req, _ := http.NewRequest(http.MethodGet, apis[1]+"/api/v1/cdrs?"+q.Encode(), nil)
	for _, c := range res.Cookies() {
		req.AddCookie(c)
	}
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		CDRs []records.CDR `json:"cdrs"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s with api-1's session: %s, %v", req.URL, res.Status, err)
	}
	if len(page.CDRs) != want {
		t.Errorf("api-2 lists %d CDRs of cluster-quick since %s, want %d", len(page.CDRs), since.Format(time.TimeOnly), want)
	}
}
