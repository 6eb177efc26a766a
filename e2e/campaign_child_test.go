package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/store"
)

// cliChildEnv, set, makes the test binary run the voxflow CLI with its
// arguments instead of the tests: `voxflow dev` as a process of its own,
// which a test can kill -9.
const cliChildEnv = "VOXFLOW_E2E_CLI_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(cliChildEnv) != "" {
		os.Exit(runCLIChild())
	}
	os.Exit(m.Run())
}

// runCLIChild runs the CLI on the process's arguments until it ends or
// the process is told to stop (SIGINT, SIGTERM).
func runCLIChild() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// devProcess is `voxflow dev` run by the test binary as a child process
// on fixed ports and a data directory, so that it can be killed and
// started again on the same state.
type devProcess struct {
	t       *testing.T
	args    []string
	logPath string // its stderr (logs), kept across restarts
	cmd     *exec.Cmd
	out     *syncWriter
	done    chan struct{}
}

func newDevProcess(t *testing.T, args ...string) *devProcess {
	d := &devProcess{t: t, args: append([]string{"dev"}, args...), logPath: filepath.Join(t.TempDir(), "dev.log")}
	t.Cleanup(d.stop)
	return d
}

// start starts the process and waits until it says it is running.
func (d *devProcess) start() {
	t := d.t
	t.Helper()
	logs, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	d.out, d.done = &syncWriter{}, make(chan struct{})
	d.cmd = exec.Command(os.Args[0], d.args...)
	d.cmd.Env = append(os.Environ(), cliChildEnv+"=1")
	d.cmd.Stdout, d.cmd.Stderr = d.out, logs
	// It dies with the test binary, whatever happens to the test.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := d.done
	go func() {
		_ = d.cmd.Wait()
		close(done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(d.out.String(), "voxflow dev is running") {
		select {
		case <-done:
			t.Fatalf("voxflow dev exited while starting: %v\n%s\n%s", d.cmd.ProcessState, d.out.String(), d.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("voxflow dev not running after 60 s\n%s\n%s", d.out.String(), d.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill kills the process at once (SIGKILL) and waits until it is gone.
func (d *devProcess) kill() {
	d.t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		d.t.Fatal(err)
	}
	<-d.done
}

// stop asks the process to shut down and kills it after 20 s.
func (d *devProcess) stop() {
	if d.cmd == nil {
		return
	}
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// logTail is the end of the process's logs.
func (d *devProcess) logTail() string {
	b, _ := os.ReadFile(d.logPath)
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return "--- voxflow dev logs (tail) ---\n" + string(b)
}

// reminderFlow is the agentless campaign's flow: a message of about 3 s,
// then it hangs up.
const reminderFlow = `name: kill-reminder
entry: remind
nodes:
  remind:
    type: hangup
    say: "This is Example Clinic reminding you of your visit tomorrow at nine."
`

// killNumbers is the agentless campaign's list: 15 numbers ending in 01,
// which the carrier answers as a person.
func killNumbers() []string {
	var ns []string
	for i := range 15 {
		ns = append(ns, fmt.Sprintf("+1415555%02d01", 10+i))
	}
	return ns
}

// TestCampaignSurvivesKill runs an agentless campaign (15 numbers that
// answer, 3 lines at once, a 4 s message each) on `voxflow dev` running
// as a process of its own (the test binary re-executed: TestMain), kills
// it (SIGKILL) after about 5 dials while calls are playing, starts it
// again on the same data directory and waits until the campaign
// completes. No (number, attempt) may ring twice: a call the kill cut
// ends failed and is retried as attempt 2 by the retry rules (failed:
// once, after 1 s), and then its number rings once per attempt. Every
// contact ends done, and no other number rings (the campaign's caller ID
// included). The figures logged: recovery (kill to next dial) and
// completion.
func TestCampaignSurvivesKill(t *testing.T) {
	car := startCarrier(t)
	ctx := context.Background()
	dataDir := t.TempDir()
	dsn := "sqlite://" + filepath.Join(dataDir, "voxflow.db")
	publishReminder(t, dsn)
	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	sipAddr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	temporal := "127.0.0.1:" + strconv.Itoa(tport)
	dev := newDevProcess(t, "--data-dir", dataDir, "--temporal-port", strconv.Itoa(tport), "--http", httpAddr,
		"--sip", sipAddr, "--trunk", "sip:"+car.addr)
	dev.start()

	numbers := killNumbers()
	csv := filepath.Join(t.TempDir(), "reminders.csv")
	if err := os.WriteFile(csv, []byte("phone,first_name\n"+strings.Join(numbers, ",Pat\n")+",Pat\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := []string{"--store", dsn, "--temporal", temporal}
	mustCLI(t, append([]string{"campaigns", "create", "remind-e2e", "--flow", "kill-reminder", "--mode", "agentless",
		"--concurrency", "3", "--machine", "flow", "--caller-id", callerID, "--window", "00:00-24:00", "--max-attempts", "2",
		"--min-spacing", "1s", "--retry", "failed=1s*1", "--ring-timeout", "5s", "--contacts", csv}, at...)...)
	started := time.Now()
	mustCLI(t, append([]string{"campaigns", "start", "remind-e2e"}, at...)...)

	// Killed while calls are answered and their message (4 s) plays: 1 s
	// after the fifth is answered, when its call has told Temporal which
	// media worker holds it, so the restarted worker tells it to recover.
	// (A call answered a few ms before the kill is not told: see
	// checkCutCallRetried.)
	waitUntil(t, "5 calls answered at the carrier", 60*time.Second, func() bool {
		invites := car.invites()
		if len(invites) < 5 {
			return false
		}
		_, acked := car.request("ACK", invites[4].callID)
		return acked
	})
	time.Sleep(time.Second)
	killedAt := time.Now()
	dev.kill()
	dialsBefore := len(car.invites())
	dev.start()
	restarted := time.Since(killedAt)

	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitCampaignState(t, st, "remind-e2e", records.CampaignCompleted, 150*time.Second, car, dev)
	completed := time.Now()
	invites := car.invites()
	lastEnded := checkOneInvitePerAttempt(t, st, "remind-e2e", numbers, invites)
	checkCutCallRetried(t, st, "remind-e2e", invites[4].number)
	recovered := firstDialAfter(invites, killedAt).Sub(killedAt)
	if recovered <= 0 {
		t.Error("no dial after the restart")
	}
	t.Logf("figures: killed after %d dials (%v after start); voxflow dev running again %v after the kill; "+
		"next dial %v after the kill; %d dials in all; last call ended %v after start, campaign completed %v after start",
		dialsBefore, killedAt.Sub(started).Round(time.Millisecond), restarted.Round(time.Millisecond),
		recovered.Round(time.Millisecond), len(invites), lastEnded.Sub(started).Round(time.Millisecond),
		completed.Sub(started).Round(time.Millisecond))
	checkHealth(t, "http://"+httpAddr+"/healthz")
	if t.Failed() {
		t.Log(dev.logTail())
	}
}

// firstDialAfter is when the carrier got the first call placed after at
// (zero: none).
func firstDialAfter(invites []carrierInvite, at time.Time) time.Time {
	for _, inv := range invites {
		if inv.at.After(at) {
			return inv.at
		}
	}
	return time.Time{}
}

// publishReminder publishes reminderFlow in the store voxflow dev will use.
func publishReminder(t *testing.T, dsn string) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PublishSource(context.Background(), "kill-reminder", reminderFlow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
}

// waitCampaignState waits until the campaign's state in the store is state.
func waitCampaignState(t *testing.T, st *store.Store, id, state string, d time.Duration, car *carrier, dev *devProcess) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, err := st.GetCampaign(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if c.State == state {
			return
		}
		if time.Now().After(deadline) {
			cs, _ := st.ListContacts(context.Background(), id, "", 0, 100)
			byNumber := map[string]records.Contact{}
			for _, k := range cs {
				byNumber[k.Number] = k
			}
			t.Fatalf("campaign %s is %s after %v, want %s: %s\n%s", id, c.State, d, state, describeContacts(byNumber), dev.logTail())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkOneInvitePerAttempt checks, for every number of the list, that its
// contact is done, was dialled, and each of its attempts rang the carrier
// at most once. The INVITE does not say which attempt placed it, so each
// belongs to the latest attempt the store started before it: a dial the
// kill cut is a failed attempt 1 and its retry attempt 2 (two INVITEs,
// two attempts), while a dial started twice for one attempt (a retried
// activity, a restarted campaign) would be two INVITEs after one start.
// A number the list does not have must never ring. It returns when the
// last attempt ended.
func checkOneInvitePerAttempt(t *testing.T, st *store.Store, campaign string, numbers []string, invites []carrierInvite) (lastEnded time.Time) {
	t.Helper()
	cs, err := st.ListContacts(context.Background(), campaign, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(numbers) {
		t.Fatalf("%d contacts, want %d", len(cs), len(numbers))
	}
	listed := map[string]bool{}
	retried := 0
	for _, k := range cs {
		listed[k.Number] = true
		as, err := st.ListAttempts(context.Background(), campaign, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(as, func(a, b records.DialAttempt) int { return a.Attempt - b.Attempt })
		if len(as) > 1 {
			retried++
			t.Logf("%s: %d attempts: %s", k.Number, len(as), describeAttempts(as))
		}
		for _, a := range as {
			if a.EndedAt.After(lastEnded) {
				lastEnded = a.EndedAt
			}
		}
		mine := invitesTo(invites, k.Number)
		if k.State != records.ContactDone || len(mine) == 0 {
			t.Errorf("%s: %s after %d attempts (%s), %d INVITEs; want done, dialled", k.Number, k.State, len(as), describeAttempts(as), len(mine))
		}
		per := map[int]int{}
		for _, inv := range mine {
			per[attemptAt(as, inv.at)]++
		}
		for attempt, n := range per {
			if n > 1 || attempt == 0 {
				t.Errorf("%s: attempt %d rang the carrier %d times (attempts %s)", k.Number, attempt, n, describeAttempts(as))
			}
		}
	}
	for _, inv := range invites {
		if !listed[inv.number] {
			t.Errorf("the carrier got an INVITE for %s, which is not on the list", inv.number)
		}
	}
	t.Logf("%d of %d contacts dialled again after the kill", retried, len(cs))
	return lastEnded
}

// checkCutCallRetried: the fifth call, cut in its message by the kill,
// ended failed (media lost) and its contact was dialled again as attempt
// 2, not called back within attempt 1. A call answered a few ms before
// the kill can still end answered_human with 1 attempt: the restarted
// worker's TellLostCalls finds calls by their media-queue search
// attribute, which such a call has not set yet, and its next media
// activity then gets CallGone from the new process, read as the callee
// hanging up.
func checkCutCallRetried(t *testing.T, st *store.Store, campaign, number string) {
	t.Helper()
	cs, err := st.ListContacts(context.Background(), campaign, "", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cs {
		if k.Number != number {
			continue
		}
		as, err := st.ListAttempts(context.Background(), campaign, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(as, func(a, b records.DialAttempt) int { return a.Attempt - b.Attempt })
		if len(as) != 2 || as[0].Outcome != records.AttemptFailed || as[1].Outcome != records.AttemptHuman {
			t.Errorf("%s, cut by the kill: attempts %s; want #1 failed, #2 answered_human", number, describeAttempts(as))
		}
		return
	}
	t.Errorf("no contact %s", number)
}

// attemptAt is the latest attempt started at or before at (0: none).
func attemptAt(as []records.DialAttempt, at time.Time) int {
	n := 0
	for _, a := range as {
		if !a.StartedAt.After(at) && a.Attempt > n {
			n = a.Attempt
		}
	}
	return n
}

func describeAttempts(as []records.DialAttempt) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("#%d %s at %s", a.Attempt, a.Outcome, a.StartedAt.Local().Format("15:04:05.000")))
	}
	return strings.Join(parts, "; ")
}

// checkHealth checks the restarted process serves /healthz.
func checkHealth(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s after the restart: %d", url, resp.StatusCode)
	}
}
