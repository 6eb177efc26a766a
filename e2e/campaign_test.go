package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	prtp "github.com/pion/rtp"
	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/dialer"
	"github.com/voxflow/voxflow/media/audio"
	"github.com/voxflow/voxflow/media/g711"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/media/wav"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/store"
)

// The sales campaign's contacts: the carrier behaves by a number's last
// two digits (bench/sipp/uas_carrier.xml).
const (
	numPerson    = "+14155550101"
	numBusy      = "+14155550102"
	numNoAnswer  = "+14155550103"
	numVoicemail = "+14155550104"
	numNotFound  = "+14155550105"
	numDNC       = "+14155550201" // would answer as a person: must never ring
	numLater     = "+14155550301" // outside its calling window now
	callerID     = "+14155550199"
)

// salesWindow is the sales campaign's calling window.
var salesWindow = records.Window{Start: "08:00", End: "20:00"}

// The sales campaign's retry of busy numbers.
const busyRetry = 4 * time.Second

// mustCLI runs the CLI in-process and fails the test on a non-zero exit.
func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errs := voxflow(t, "", args...)
	if code != 0 {
		t.Fatalf("voxflow %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// TestCampaignOnDev runs a progressive sales campaign on `voxflow dev`
// whose trunk is a SIPp carrier, with agent alice's softphone (baresip,
// auto answer) signed in to outbound-sales. The list has a person, a busy
// number (retried once after 4 s), one that never answers (4 s ring
// timeout), a voicemail (the campaign leaves a message after the beep), a
// number that does not exist, a number on the global do-not-call list, one
// whose time zone is outside the window now, and a row with a bad number.
// The console's campaign page, open meanwhile in headless Chromium, follows
// the figures live. Stopped at the end, the campaign ends stopped.
func TestCampaignOnDev(t *testing.T) {
	began := time.Now()
	car := startCarrier(t)
	dev, sipAddr, dsn := startDevSIPWith(t, func(c *config.Config) { c.Media.Trunk.URI = "sip:" + car.addr })
	temporal := dev.Temporal.FrontendHostPort()
	at := []string{"--store", dsn, "--temporal", temporal}
	signInSalesAgent(t, dev, sipAddr, dsn, temporal)
	mustCLI(t, append([]string{"dnc", "add", numDNC, "--reason", "asked on a call"}, at...)...)

	csv, laterZone := writeSalesContacts(t, time.Now())
	out := mustCLI(t, append([]string{"campaigns", "create", "sales-e2e", "--flow", "sales-campaign", "--mode", "progressive",
		"--queue", "outbound-sales", "--caller-id", callerID, "--window", salesWindow.Start + "-" + salesWindow.End,
		"--max-attempts", "2", "--min-spacing", "1s", "--retry", "busy=" + busyRetry.String() + "*1", "--ring-timeout", "4s",
		"--machine", "message", "--machine-text", "Hello, this is Example Company about your order. Please call us back. Goodbye.",
		"--abandon-text", "This is Example Company. We will call you again. Goodbye.", "--contacts", csv}, at...)...)
	badRow := regexp.MustCompile(`row 9, column "phone": "\+1 415 555": .+`)
	if !strings.Contains(out, "rows 8: 7 accepted, 0 duplicates, 1 rejected") || !badRow.MatchString(out) {
		t.Fatalf("the import report does not name the bad row and column:\n%s", out)
	}
	page := watchCampaignPage(t, dev, "sales-e2e", 5, 6)
	started := time.Now()
	mustCLI(t, append([]string{"campaigns", "start", "sales-e2e"}, at...)...)
	contacts := waitSalesSettled(t, dev.Store, "sales-e2e", car)
	settled := time.Since(started)
	page()

	invites := car.invites()
	checkPersonReached(t, dev.Store, contacts[numPerson])
	checkBusyRetried(t, dev.Store, contacts[numBusy], invitesTo(invites, numBusy))
	checkOutcome(t, dev.Store, contacts[numNoAnswer], records.AttemptNoAnswer, 1)
	checkOutcome(t, dev.Store, contacts[numNotFound], records.AttemptInvalid, 1)
	checkMessageLeft(t, dev.Store, car, contacts[numVoicemail], invitesTo(invites, numVoicemail))
	checkNeverDialled(t, contacts[numDNC], invitesTo(invites, numDNC), "")
	if k := contacts[numDNC]; k.State != records.ContactSkipped || !strings.Contains(k.SkipReason, "do not call") {
		t.Errorf("DNC contact: state %s, skip reason %q; want skipped for do not call", k.State, k.SkipReason)
	}
	checkDeferred(t, contacts[numLater], invitesTo(invites, numLater), laterZone)
	checkSalesStats(t, at, len(invites))

	mustCLI(t, append([]string{"campaigns", "stop", "sales-e2e"}, at...)...)
	waitUntil(t, "the campaign stopped", 10*time.Second, func() bool {
		c, err := dev.Store.GetCampaign(context.Background(), "sales-e2e")
		return err == nil && c.State == records.CampaignStopped
	})
	t.Logf("figures: %d dials; start to every contact settled %v; whole test %v",
		len(invites), settled.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
	if *record {
		recordCampaignHistories(t, dev.Client, "sales-e2e", activities.CampaignCallID("sales-e2e", contacts[numPerson].ID, 1))
	}
}

// recordCampaignHistories writes, with -record, the campaign workflow's
// history (dialer/campaign replays it) and its person's call's
// (flows/engine replays every recorded call).
func recordCampaignHistories(t *testing.T, c client.Client, campaignID, callID string) {
	t.Helper()
	dir := filepath.Join("..", "dialer", "campaign", "testdata", "histories")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeHistory(t, filepath.Join(dir, "campaign-progressive.json"), workflowHistory(t, c, activities.CampaignWorkflowID(campaignID)))
	h, err := ops.History(context.Background(), c, callID, "")
	if err != nil {
		t.Fatal(err)
	}
	writeHistory(t, filepath.Join("..", "flows", "engine", "testdata", "histories", "campaign-call-agent.json"), h)
}

// signInSalesAgent adds agent alice to outbound-sales with the CLI (the
// queue's wrap-up cut to 2 s so that one agent serves the whole list
// quickly), registers her softphone (baresip: auto answer, a 1 kHz
// "voice"; she hangs up 2 s into each call) and signs her in.
func signInSalesAgent(t *testing.T, dev *devstack.Dev, sipAddr, dsn, temporal string) {
	t.Helper()
	out := mustCLI(t, "agents", "add", "alice", "--queues", "outbound-sales", "--store", dsn)
	m := regexp.MustCompile(`(?m)^password: (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("agents add printed no password:\n%s", out)
	}
	mustCLI(t, "queues", "put", "outbound-sales", "--max-wait", "1m", "--ring-timeout", "5s", "--wrap-up", "2s", "--store", dsn)
	voice := filepath.Join(t.TempDir(), "voice.wav")
	if err := wav.WriteFile(voice, 8000, audio.Tone(1000, 60_000, -12)); err != nil {
		t.Fatal(err)
	}
	phone := sipptest.StartBaresipWith(t, sipptest.BaresipOptions{
		Accounts:    []string{"<sip:alice@" + sipAddr + ">;auth_pass=" + m[1] + ";regint=600;answermode=auto"},
		AudioSource: "aufile," + voice,
	})
	waitFor(t, "alice's phone registered", func() bool {
		cs, err := dev.Media.Registrar.Lookup(context.Background(), "alice")
		return err == nil && len(cs) == 1
	})
	mustCLI(t, "agents", "state", "alice", "available", "--store", dsn, "--temporal", temporal)
	hangUpEach(t, phone, 2*time.Second)
}

// hangUpEach has the phone hang up every call talk after it is
// established, until the test ends.
func hangUpEach(t *testing.T, phone *sipptest.Baresip, talk time.Duration) {
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for ended := 0; ; {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if strings.Count(phone.Output(), "Call established") <= ended {
				continue
			}
			ended++
			select {
			case <-stop:
				return
			case <-time.After(talk):
			}
			phone.Command("/hangup")
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-stopped
	})
}

// watchCampaignPage opens the campaign's page in headless Chromium
// (e2e/testdata/campaign.test.mjs), signed in as an admin, and returns once
// it is live; wait fails the test unless the page then showed done
// contacts done and dials dials, live.
func watchCampaignPage(t *testing.T, dev *devstack.Dev, campaign string, done, dials int) (wait func()) {
	t.Helper()
	node, root := needBrowserTools(t)
	const user, password = "campaign-admin", "campaign-password-123"
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.CreateUser(context.Background(), user, password, designerapi.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(t.TempDir(), "ready")
	artifacts := os.Getenv("VOXFLOW_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "designer-api", "web", "e2e", "artifacts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", filepath.Join("e2e", "testdata", "campaign.test.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VOXFLOW_URL="+strings.TrimSuffix(dev.DemoCRMURL, "/demo/crm"), "VOXFLOW_USER="+user,
		"VOXFLOW_PASSWORD="+password, "VOXFLOW_CAMPAIGN="+campaign, fmt.Sprintf("VOXFLOW_CAMPAIGN_DONE=%d", done),
		fmt.Sprintf("VOXFLOW_CAMPAIGN_DIALS=%d", dials), "VOXFLOW_READY_FILE="+ready,
		"VOXFLOW_ARTIFACTS="+artifacts, "VOXFLOW_CHROMIUM="+chromiumPath)
	out := &syncWriter{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(cancel)
	deadline := time.After(60 * time.Second)
	for !fileExists(ready) {
		select {
		case err := <-exited:
			t.Fatalf("the campaign page test ended before the page was live: %v\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("the campaign page not live after 60 s\n%s", out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	return func() {
		t.Helper()
		err := <-exited
		t.Logf("node --test campaign.test.mjs (screenshots in %s):\n%s", artifacts, out.String())
		if err != nil {
			t.Errorf("the campaign page did not follow the campaign: %v", err)
		}
	}
}

// writeSalesContacts writes the list (header phone,first_name,timezone)
// with zones picked for now: 14:00-ish local time (inside the window) for
// all but numLater, whose zone is at 02:00-ish. Its last row's number is
// bad (row 9).
func writeSalesContacts(t *testing.T, now time.Time) (path, laterZone string) {
	t.Helper()
	in, later := zoneAtHour(now, 14), zoneAtHour(now, 2)
	rows := []string{"phone,first_name,timezone"}
	for _, r := range [][2]string{{numPerson, "Ada"}, {numBusy, "Bob"}, {numNoAnswer, "Cy"}, {numVoicemail, "Di"},
		{numNotFound, "Ed"}, {numDNC, "Flo"}} {
		rows = append(rows, r[0]+","+r[1]+","+in)
	}
	rows = append(rows, numLater+",Gus,"+later, "+1 415 555,Hal,"+in)
	path = filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, later
}

// zoneAtHour is a fixed-offset IANA zone (Etc/GMT±N) whose local hour is
// hour at now.
func zoneAtHour(now time.Time, hour int) string {
	off := hour - now.UTC().Hour() // UTC+off
	switch {
	case off < -12:
		off += 24
	case off > 14:
		off -= 24
	}
	switch {
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off) // the IANA sign is inverted
	case off < 0:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
	return "Etc/GMT"
}

// waitSalesSettled waits until every contact is done or skipped but the
// one outside its window, left pending, and returns them by number.
func waitSalesSettled(t *testing.T, st *store.Store, campaign string, car *carrier) map[string]records.Contact {
	t.Helper()
	var byNumber map[string]records.Contact
	settled := func() bool {
		cs, err := st.ListContacts(context.Background(), campaign, "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		byNumber = map[string]records.Contact{}
		open := 0
		for _, k := range cs {
			byNumber[k.Number] = k
			if k.State != records.ContactDone && k.State != records.ContactSkipped && k.Number != numLater {
				open++
			}
		}
		later := byNumber[numLater]
		return len(cs) == 7 && open == 0 && later.State == records.ContactPending && !later.NextAt.IsZero()
	}
	deadline := time.Now().Add(90 * time.Second)
	for !settled() {
		if time.Now().After(deadline) {
			t.Fatalf("contacts not settled after 90 s: %s\n--- carrier ---\n%s", describeContacts(byNumber), car.output())
		}
		time.Sleep(250 * time.Millisecond)
	}
	return byNumber
}

func describeContacts(cs map[string]records.Contact) string {
	var b strings.Builder
	for n, k := range cs {
		fmt.Fprintf(&b, "\n  %s: %s, %d attempts, last %q, next %v, skipped %q", n, k.State, k.Attempts, k.LastOutcome,
			k.NextAt.Format(time.TimeOnly), k.SkipReason)
	}
	return b.String()
}

// attempts are a contact's dial attempts, failing the test unless there
// are want.
func attempts(t *testing.T, st *store.Store, k records.Contact, want int) []records.DialAttempt {
	t.Helper()
	as, err := st.ListAttempts(context.Background(), k.Campaign, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != want {
		t.Errorf("%s: %d attempts %+v, want %d", k.Number, len(as), as, want)
	}
	slices.SortFunc(as, func(a, b records.DialAttempt) int { return a.Attempt - b.Attempt })
	return as
}

// checkOutcome checks a contact is done after n attempts, the last with outcome.
func checkOutcome(t *testing.T, st *store.Store, k records.Contact, outcome string, n int) []records.DialAttempt {
	t.Helper()
	as := attempts(t, st, k, n)
	if k.State != records.ContactDone || k.LastOutcome != outcome || len(as) != n || as[n-1].Outcome != outcome {
		t.Errorf("%s: state %s, last outcome %q, attempts %+v; want done with %s", k.Number, k.State, k.LastOutcome, as, outcome)
	}
	return as
}

// campaignCDR waits for the record of a contact's attempt and checks its
// campaign tag.
func campaignCDR(t *testing.T, st *store.Store, k records.Contact, attempt int, mode string) records.CDR {
	t.Helper()
	id := activities.CampaignCallID(k.Campaign, k.ID, attempt)
	var rec records.CDR
	waitUntil(t, "the CDR of "+id, 10*time.Second, func() bool {
		var err error
		rec, err = st.CDR(context.Background(), id)
		return err == nil
	})
	want := records.CampaignCall{Campaign: k.Campaign, Contact: k.ID, Attempt: attempt, Mode: mode}
	if rec.Campaign == nil || *rec.Campaign != want {
		t.Errorf("CDR %s: campaign tag %+v, want %+v", id, rec.Campaign, want)
	}
	return rec
}

// checkPersonReached: the person's call reached alice through the queue.
func checkPersonReached(t *testing.T, st *store.Store, k records.Contact) {
	t.Helper()
	as := checkOutcome(t, st, k, records.AttemptHuman, 1)
	rec := campaignCDR(t, st, k, 1, records.PaceProgressive)
	if len(rec.Queues) != 1 || rec.Queues[0].Queue != "outbound-sales" || rec.Queues[0].Outcome != records.QueueAnswered ||
		rec.Queues[0].Agent != "alice" {
		t.Errorf("person's CDR: queues %+v, path %s; want answered by alice in outbound-sales", rec.Queues, pathOf(rec))
	}
	if len(as) == 1 {
		if as[0].Agent != "alice" || as[0].AnsweredBy != audio.AnsweredHuman {
			t.Errorf("person's attempt: %+v; want answered by a human, connected to alice", as[0])
		}
		var wrap time.Duration
		if len(rec.Queues) == 1 {
			wrap = rec.Queues[0].WrapUp
		}
		t.Logf("person: greeting end to agent %v, talk %v, alice's wrap-up in the CDR %v", as[0].Connect, as[0].Talk, wrap)
	}
}

// checkBusyRetried: the busy number was dialled twice, the second time at
// least the retry delay after the first ended, and is then done.
func checkBusyRetried(t *testing.T, st *store.Store, k records.Contact, invites []carrierInvite) {
	t.Helper()
	as := checkOutcome(t, st, k, records.AttemptBusy, 2)
	if len(as) == 2 {
		if as[0].Attempt != 1 || as[1].Attempt != 2 || as[0].Outcome != records.AttemptBusy {
			t.Errorf("busy attempts %+v, want attempts 1 and 2, both busy", as)
		}
		if gap := as[1].StartedAt.Sub(as[0].EndedAt); gap < busyRetry {
			t.Errorf("busy retried %v after the first attempt ended, want at least %v", gap, busyRetry)
		}
	}
	if len(invites) != 2 {
		t.Fatalf("the carrier got %d INVITEs for the busy number, want 2", len(invites))
	}
	if gap := invites[1].at.Sub(invites[0].at); gap < busyRetry {
		t.Errorf("the carrier got the busy number's INVITEs %v apart, want at least %v", gap, busyRetry)
	}
	t.Logf("busy: second INVITE %v after the first", invites[1].at.Sub(invites[0].at).Round(time.Millisecond))
}

// checkMessageLeft: the voicemail's call ended as answered_machine and
// the carrier heard the message after the beep, not over the greeting.
func checkMessageLeft(t *testing.T, st *store.Store, car *carrier, k records.Contact, invites []carrierInvite) {
	t.Helper()
	checkOutcome(t, st, k, records.AttemptMachine, 1)
	rec := campaignCDR(t, st, k, 1, records.PaceProgressive)
	if rec.Outcome != records.AttemptMachine {
		t.Errorf("voicemail's CDR outcome %q, want %s", rec.Outcome, records.AttemptMachine)
	}
	if len(invites) != 1 {
		t.Fatalf("the carrier got %d INVITEs for the voicemail, want 1", len(invites))
	}
	beep, ok := car.vm.beepAt(invites[0].rtpPort)
	if !ok {
		t.Fatal("the carrier's voicemail never played its greeting")
	}
	first, last, loud := car.vm.speech(invites[0].rtpPort)
	switch {
	case loud < time.Second:
		t.Errorf("the voicemail heard %v of speech, want the message (over 1 s)", loud)
	case first.Before(beep.Add(-200 * time.Millisecond)):
		t.Errorf("the message started %v before the beep ended", beep.Sub(first))
	default:
		t.Logf("voicemail: message from %v after the beep to %v, %v of speech", first.Sub(beep).Round(time.Millisecond),
			last.Sub(beep).Round(time.Millisecond), loud)
	}
}

// checkNeverDialled: a contact was never dialled, nor rang at the carrier.
func checkNeverDialled(t *testing.T, k records.Contact, invites []carrierInvite, state string) {
	t.Helper()
	if len(invites) != 0 || k.Attempts != 0 || (state != "" && k.State != state) {
		t.Errorf("%s: %d INVITEs at the carrier, contact %+v; want never dialled", k.Number, len(invites), k)
	}
}

// checkDeferred: the contact outside its window waits, undialled, for the
// window's opening in its zone.
func checkDeferred(t *testing.T, k records.Contact, invites []carrierInvite, zone string) {
	t.Helper()
	checkNeverDialled(t, k, invites, records.ContactPending)
	hours, err := dialer.ParseWindow(salesWindow)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := dialer.LoadZone(zone)
	if err != nil {
		t.Fatal(err)
	}
	want, ok := hours.NextOpen(time.Now(), []*time.Location{loc})
	if !ok || !k.NextAt.Equal(want) {
		t.Errorf("%s (%s): next at %v, want the window's opening %v", k.Number, zone, k.NextAt, want)
	}
}

// checkSalesStats: `voxflow campaigns stats --json` counts what happened,
// and its dials are the carrier's INVITEs.
func checkSalesStats(t *testing.T, at []string, invites int) {
	t.Helper()
	out := mustCLI(t, append([]string{"campaigns", "stats", "sales-e2e", "--json"}, at...)...)
	var st designerapi.CampaignStats
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("stats --json: %v\n%s", err, out)
	}
	want := designerapi.Tally{Dials: 6, Human: 1, Machine: 1, Busy: 2, NoAnswer: 1, Failed: 1}
	tallies := map[string]designerapi.Tally{"last_30d": st.Last30d}
	if st.At.UTC().Day() == st.Campaign.CreatedAt.UTC().Day() { // today's count starts at 00:00 UTC
		tallies["today"] = st.Today
	}
	for name, got := range tallies {
		if got.Dials != want.Dials || got.Human != want.Human || got.Machine != want.Machine || got.Busy != want.Busy ||
			got.NoAnswer != want.NoAnswer || got.Failed != want.Failed || got.Abandoned != 0 {
			t.Errorf("stats %s: %+v, want %+v", name, got, want)
		}
	}
	if got := st.Last30d; got.Dials != invites {
		t.Errorf("stats count %d dials, the carrier got %d calls", got.Dials, invites)
	}
	wantContacts := map[string]int{records.ContactPending: 1, records.ContactDialing: 0, records.ContactDone: 5, records.ContactSkipped: 1}
	for state, n := range wantContacts {
		if st.Contacts[state] != n {
			t.Errorf("stats contacts %v, want %v", st.Contacts, wantContacts)
			break
		}
	}
	if st.Live == nil || st.Live.State != records.CampaignRunning {
		t.Errorf("stats live %+v (%s), want the running workflow's picture", st.Live, st.LiveError)
	}
}

// carrier is bench/sipp/uas_carrier.xml run as the carrier behind voxflow's
// trunk: one SIPp process that answers every outbound call by the dialled
// number's last two digits (01 a person, 02 busy, 03 no answer, 04
// voicemail, 05 not found) and logs every SIP message. A voicemail call's
// media is vm's: SIPp's SDP sends voxflow's audio there (-set vm_rtp).
type carrier struct {
	t    *testing.T
	addr string // its SIP address, 127.0.0.1:PORT
	dir  string
	vm   *voicemailMedia
	cmd  *exec.Cmd
	out  *syncWriter
	done chan struct{}
}

// voicemailGreeting is what the carrier's voicemail says before its beep.
const voicemailGreeting = "Hi, you have reached the Smith family. We cannot come to the phone right now, please leave a message after the tone."

// startCarrier starts the carrier on a free loopback port; it is stopped
// when the test ends.
func startCarrier(t *testing.T) *carrier {
	t.Helper()
	bin := sipptest.Need(t)
	c := &carrier{t: t, dir: t.TempDir(), vm: newVoicemailMedia(t), out: &syncWriter{}, done: make(chan struct{})}
	// SIPp's own voicemail.pcap is silence: voxflow takes audio only from
	// the SDP's address, vm's, which plays the greeting.
	files := map[string][]byte{"hello.pcap": spokenPcap(t, 100*time.Millisecond, "Hello?"),
		"voicemail.pcap": pcmPcap(t, silence(100*time.Millisecond))}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(c.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	port := sipptest.FreePort(t)
	c.addr = "127.0.0.1:" + strconv.Itoa(port)
	c.cmd = exec.Command(bin, "-sf", sipptest.Scenario(t, "uas_carrier.xml"), "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mp", strconv.Itoa(sipptest.FreeUDPPair(t)), "-set", "vm_rtp", strconv.Itoa(c.vm.port()),
		"-recv_timeout", "120000", "-trace_msg", "-message_file", c.logPath(),
		"-trace_err", "-error_file", filepath.Join(c.dir, "err.log"), "-nostdin")
	c.cmd.Dir = c.dir
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.Env = append(os.Environ(), "TERM=dumb")
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(c.stop)
	waitUntil(t, "the carrier (SIPp) listening on "+c.addr, 10*time.Second, func() bool {
		conn, err := net.ListenPacket("udp", c.addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	})
	go c.answerVoicemails()
	return c
}

func (c *carrier) logPath() string { return filepath.Join(c.dir, "msg.log") }

// stop ends SIPp (it serves calls until stopped).
func (c *carrier) stop() {
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.done
}

// answerVoicemails has vm play the greeting to each voicemail call once
// the carrier has its ACK, until SIPp ends.
func (c *carrier) answerVoicemails() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-tick.C:
		}
		for _, inv := range c.invites() {
			if !strings.HasSuffix(inv.number, "04") || c.vm.playing(inv.rtpPort) {
				continue
			}
			if _, ok := c.request("ACK", inv.callID); ok {
				c.vm.play(inv.rtpPort, c.done)
			}
		}
	}
}

// sipEntry is one message of SIPp's message log.
type sipEntry struct {
	at       time.Time
	received bool
	msg      string
}

// entries reads SIPp's message log: each message follows a line of dashes
// with the local date and time, and a line saying whether it was sent or
// received. A log SIPp has not written yet (or cannot be read) has none.
func (c *carrier) entries() []sipEntry {
	b, err := os.ReadFile(c.logPath())
	if err != nil {
		return nil
	}
	var out []sipEntry
	const sep = "----------------------------------------------- "
	for _, chunk := range strings.Split(string(b), sep)[1:] {
		stamp, rest, _ := strings.Cut(chunk, "\n")
		at, err := time.ParseInLocation("2006-01-02 15:04:05.000000", strings.TrimSpace(stamp), time.Local)
		if err != nil {
			continue // a message cut by a concurrent write: read again later
		}
		what, msg, _ := strings.Cut(rest, "\n")
		out = append(out, sipEntry{at: at, received: strings.Contains(what, "received"), msg: strings.TrimLeft(msg, "\r\n")})
	}
	return out
}

// header is the value of a SIP message's header (full or compact name).
func header(msg, name, compact string) string {
	sc := bufio.NewScanner(strings.NewReader(msg))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if ok && (strings.EqualFold(k, name) || (compact != "" && strings.EqualFold(k, compact))) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// carrierInvite is one call voxflow placed: a dialog-creating INVITE.
type carrierInvite struct {
	number string // the Request-URI's user part
	callID string
	at     time.Time
	// rtpPort is voxflow's media port in its SDP offer.
	rtpPort int
}

// invites are the calls voxflow placed, in order: initial INVITEs (no To
// tag), one per Call-ID (UDP retransmissions are the same call).
func (c *carrier) invites() []carrierInvite {
	var out []carrierInvite
	seen := map[string]bool{}
	for _, e := range c.entries() {
		number, ok := requestUser(e.msg, "INVITE")
		id := header(e.msg, "Call-ID", "i")
		if !e.received || !ok || seen[id] || strings.Contains(header(e.msg, "To", "t"), ";tag=") {
			continue
		}
		seen[id] = true
		out = append(out, carrierInvite{number: number, callID: id, at: e.at, rtpPort: sdpAudioPort(e.msg)})
	}
	return out
}

// requestUser is the user part of a request's URI when msg is a method
// request.
func requestUser(msg, method string) (string, bool) {
	line, _, _ := strings.Cut(msg, "\n")
	rest, ok := strings.CutPrefix(line, method+" sip:")
	if !ok {
		return "", false
	}
	user, _, ok := strings.Cut(rest, "@")
	return user, ok
}

// sdpAudioPort is the port of a message's m=audio line, 0 when none.
func sdpAudioPort(msg string) int {
	for line := range strings.Lines(msg) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "m=audio "); ok {
			port, _, _ := strings.Cut(rest, " ")
			n, _ := strconv.Atoi(port)
			return n
		}
	}
	return 0
}

// request is when the carrier first received method within call callID.
func (c *carrier) request(method, callID string) (time.Time, bool) {
	for _, e := range c.entries() {
		if _, ok := requestUser(e.msg, method); ok && e.received && header(e.msg, "Call-ID", "i") == callID {
			return e.at, true
		}
	}
	return time.Time{}, false
}

// invitesTo are the calls placed to number.
func invitesTo(all []carrierInvite, number string) []carrierInvite {
	return slices.DeleteFunc(slices.Clone(all), func(i carrierInvite) bool { return i.number != number })
}

// output is SIPp's own output and its error log, for failure messages.
func (c *carrier) output() string {
	errs, _ := os.ReadFile(filepath.Join(c.dir, "err.log"))
	return c.out.String() + "\n--- SIPp errors ---\n" + string(bytes.TrimSpace(errs))
}

// voicemailMedia is the media end of the carrier's voicemail calls. It
// plays the greeting (espeak-ng), a pause, a 1 kHz beep and silence to
// voxflow's RTP port from its own, and keeps what voxflow sends back with
// arrival times.
type voicemailMedia struct {
	conn *net.UDPConn
	// greeting is PCMU frames of 20 ms; the beep ends beepEnd into it.
	greeting [][]byte
	beepEnd  time.Duration

	mu      sync.Mutex
	started map[int]time.Time // voxflow's RTP port -> greeting's start
	frames  []heardLevel
}

// heardLevel is one frame voxflow sent: when, from which port, how loud.
type heardLevel struct {
	at    time.Time
	from  int
	level float64
}

func newVoicemailMedia(t *testing.T) *voicemailMedia {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	v := &voicemailMedia{conn: conn, started: map[int]time.Time{}}
	pcm := append(silence(100*time.Millisecond), spoken(t, voicemailGreeting)...)
	pcm = append(pcm, silence(400*time.Millisecond)...)
	pcm = append(pcm, audio.Tone(1000, 500, -10)...)
	v.beepEnd = time.Duration(len(pcm)/8) * time.Millisecond
	pcm = append(pcm, silence(8*time.Second)...)
	for i := 0; i+160 <= len(pcm); i += 160 {
		frame := make([]byte, 160)
		g711.EncodeULaw(frame, pcm[i:i+160])
		v.greeting = append(v.greeting, frame)
	}
	go v.read()
	t.Cleanup(func() { conn.Close() })
	return v
}

func (v *voicemailMedia) port() int { return v.conn.LocalAddr().(*net.UDPAddr).Port }

func (v *voicemailMedia) playing(port int) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	_, ok := v.started[port]
	return ok
}

// play sends the greeting to voxflow's RTP port, a frame every 20 ms,
// until it ends or stop closes.
func (v *voicemailMedia) play(port int, stop <-chan struct{}) {
	v.mu.Lock()
	v.started[port] = time.Now()
	v.mu.Unlock()
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		pkt := prtp.Packet{Header: prtp.Header{Version: 2, PayloadType: 0, SSRC: 0x7600, Marker: true}}
		for _, frame := range v.greeting {
			pkt.Payload = frame
			b, _ := pkt.Marshal()
			if _, err := v.conn.WriteToUDP(b, to); err != nil {
				return
			}
			pkt.SequenceNumber++
			pkt.Timestamp += 160
			pkt.Marker = false
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
}

func (v *voicemailMedia) read() {
	buf := make([]byte, 1500)
	for {
		n, from, err := v.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		var pkt prtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			continue
		}
		pcm := make([]int16, len(pkt.Payload))
		g711.DecodeULaw(pcm, pkt.Payload)
		v.mu.Lock()
		v.frames = append(v.frames, heardLevel{at: time.Now(), from: from.Port, level: audio.LevelDBFS(pcm)})
		v.mu.Unlock()
	}
}

// beepAt is when the beep ended on the call of voxflow's RTP port.
func (v *voicemailMedia) beepAt(port int) (time.Time, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	at, ok := v.started[port]
	return at.Add(v.beepEnd), ok
}

// loudLevel: a frame above it is speech, not silence or codec noise.
const loudLevel = -40

// speech says when the audio from voxflow's port was loud: the first and
// last loud frames and how many there were (20 ms each).
func (v *voicemailMedia) speech(port int) (first, last time.Time, loud time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, f := range v.frames {
		if f.level < loudLevel || f.from != port {
			continue
		}
		if first.IsZero() {
			first = f.at
		}
		last = f.at
		loud += 20 * time.Millisecond
	}
	return first, last, loud
}

// waitUntil polls cond every 100 ms until it holds, failing the test after d.
func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
