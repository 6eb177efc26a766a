package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/apiserver"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/simulator"
	"github.com/voxflow/voxflow/store"
)

// TestPrivacyErase erases a caller from `voxflow dev` with the CLI: a real
// SIP call of theirs (CDR, recording on disk, workflow history) plus a
// callback and campaign rows; another caller's call and rows stay.
func TestPrivacyErase(t *testing.T) {
	dev, sipAddr, dsn := startDevSIPWith(t, func(*config.Config) {})
	ctx := context.Background()
	support := example(t, "support-line", alwaysOpen...)
	if _, err := dev.Store.PublishSource(ctx, support.Name, support.Source, "e2e", "always open"); err != nil {
		t.Fatal(err)
	}
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_support_line.xml"), Target: sipAddr, Service: "1000", Timeout: 60 * time.Second})
	if res.Err != nil {
		t.Fatalf("%v\n%s", res.Err, res.Output)
	}
	gone := oneCDR(t, dev.Store, store.CDRQuery{Flow: "support-line", From: "+15550102"})
	recording := strings.TrimPrefix(gone.Recordings[0], "file://")
	if _, err := os.Stat(recording); err != nil {
		t.Fatalf("the call's recording: %v", err)
	}
	sim, err := simulator.New(dev.Client, dev.Channel).Run(ctx, simulator.Request{
		Flow: example(t, "support-line", alwaysClosed...), From: "+15550188", Inputs: []string{}}, simulator.Transcript{})
	if err != nil {
		t.Fatal(err)
	}
	kept := oneCDR(t, dev.Store, store.CDRQuery{From: "+15550188"})
	seedCallerRows(t, dev.Store, "+15550102", gone.CallID)
	seedCallerRows(t, dev.Store, "+15550188", kept.CallID)

	at := []string{"--store", dsn, "--temporal", dev.Temporal.FrontendHostPort()}
	dry := mustCLI(t, append([]string{"privacy", "erase", "--number", "+15550102", "--dry-run", "--verbose"}, at...)...)
	for _, want := range []string{"would erase", "call records (CDR runs)  1", "recordings               1",
		"callbacks                1", "campaign contacts        1", "campaign attempts        1", "workflow runs (histories)  1",
		"call " + gone.CallID, "kept: 1 do-not-call entries"} {
		if !strings.Contains(strings.Join(strings.Fields(dry), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("dry run lacks %q:\n%s", want, dry)
		}
	}
	if _, err := dev.Store.CDR(ctx, gone.CallID); err != nil {
		t.Fatalf("the dry run removed the CDR: %v", err)
	}
	out := mustCLI(t, append([]string{"privacy", "erase", "--number", "+15550102"}, at...)...)
	t.Logf("erase:\n%s", out)
	if _, err := dev.Store.CDR(ctx, gone.CallID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("CDR after the erase: %v", err)
	}
	if _, err := os.Stat(recording); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("recording after the erase: %v", err)
	}
	// Temporal deletes a run's history in the background, through its
	// history service's task queues: on 2 busy cores that took 5-40 s.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, err := dev.Client.DescribeWorkflowExecution(ctx, activities.WorkflowID(gone.CallID), "")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the erased call's workflow history is still there 2 minutes after the erase")
		}
		time.Sleep(200 * time.Millisecond)
	}
	checkCallerRows(t, dev.Store, "+15550102", 0)
	// The other caller is untouched.
	if _, err := dev.Store.CDR(ctx, kept.CallID); err != nil {
		t.Errorf("the other caller's CDR: %v", err)
	}
	if _, err := dev.Client.DescribeWorkflowExecution(ctx, activities.WorkflowID(sim.CallID), ""); err != nil {
		t.Errorf("the other caller's workflow: %v", err)
	}
	checkCallerRows(t, dev.Store, "+15550188", 1)
	checkEraseAudit(t, dev.Store, "+155***02", "cli")
}

// checkEraseAudit checks the erase and its dry run were audited with the
// number masked.
func checkEraseAudit(t *testing.T, st *store.Store, masked, via string) {
	t.Helper()
	for _, action := range []string{designerapi.AuditPrivacyErase, designerapi.AuditPrivacyEraseDryRun} {
		es, err := st.AuditLog(context.Background(), store.AuditFilter{Action: action})
		if err != nil || len(es) != 1 || es[0].Target != masked || es[0].Via != via || !strings.Contains(es[0].Details, `"counts"`) {
			t.Errorf("%s audit entries: %+v %v", action, es, err)
		}
	}
}

// TestPrivacyEraseAPI erases a caller's CDR through POST
// /api/v1/privacy/erase on the real server and eraser (SQLite, no
// Temporal: workflow histories are reported as skipped).
func TestPrivacyEraseAPI(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for id, from := range map[string]string{"gone": "+15550102", "kept": "+15550188"} {
		now := time.Now()
		if err := st.SaveCDR(ctx, records.CDR{CallID: id, RunID: "run-" + id, WorkflowID: "call-" + id, Flow: "f", FlowVersion: 1,
			From: from, To: "1000", Channel: "text", StartedAt: now, EndedAt: now, Outcome: "completed"}); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := apiserver.New(ctx, apiserver.Deps{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := designerapi.NewAuth(st, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.CreateKey(ctx, "e2e", designerapi.RoleAdmin, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler)
	defer hs.Close()
	req, _ := http.NewRequest(http.MethodPost, hs.URL+designerapi.Prefix+"/privacy/erase", strings.NewReader(`{"number":"15550102"}`))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r designerapi.ErasureReport
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %+v %v", resp.StatusCode, r, err)
	}
	if r.Counts[store.KindCDRs] != 1 || len(r.CallIDs) != 1 || r.CallIDs[0] != "gone" || !r.TemporalSkipped {
		t.Errorf("report %+v", r)
	}
	if _, err := st.CDR(ctx, "gone"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("erased CDR: %v", err)
	}
	if _, err := st.CDR(ctx, "kept"); err != nil {
		t.Errorf("the other caller's CDR: %v", err)
	}
	es, err := st.AuditLog(ctx, store.AuditFilter{Action: designerapi.AuditPrivacyErase})
	if err != nil || len(es) != 1 || es[0].Target != "155***02" || es[0].Actor != "key:e2e" {
		t.Errorf("audit %+v %v", es, err)
	}
}

// seedCallerRows adds a callback, a campaign contact with an attempt and a
// DNC entry for number.
func seedCallerRows(t *testing.T, st *store.Store, number, callID string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := st.PutCallback(ctx, store.Callback{ID: "cb-" + callID, Queue: "support", Number: number, CallID: callID,
		DueAt: now, State: store.CallbackDone}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetCampaign(ctx, "privacy-e2e"); errors.Is(err, store.ErrNotFound) {
		if err := st.CreateCampaign(ctx, records.Campaign{ID: "privacy-e2e", Name: "privacy", Flow: "support-line"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := st.AddContacts(ctx, "privacy-e2e", []records.Contact{{Number: number, Row: 2}}); err != nil {
		t.Fatal(err)
	}
	cs, err := st.ClaimContacts(ctx, "privacy-e2e", "claim-"+number, now.Add(time.Hour), 1, "")
	if err != nil || len(cs) != 1 {
		t.Fatalf("claim %s: %v %v", number, cs, err)
	}
	a := records.DialAttempt{Campaign: "privacy-e2e", Contact: cs[0].ID, Attempt: 1, CallID: "cmp-" + callID, Number: number, StartedAt: now}
	if _, err := st.StartAttempt(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddDNC(ctx, []records.DNCEntry{{Number: number, AddedAt: now}}); err != nil {
		t.Fatal(err)
	}
}

// checkCallerRows checks number has n callbacks, contacts and attempts
// left, and its DNC entry always.
func checkCallerRows(t *testing.T, st *store.Store, number string, n int) {
	t.Helper()
	e, err := st.EraseNumber(context.Background(), number, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{store.KindCallbacks, store.KindContacts, store.KindAttempts} {
		if e.Counts[k] != n {
			t.Errorf("%s: %d %s left, want %d", number, e.Counts[k], k, n)
		}
	}
	if e.Counts[store.KindDNCKept] != 1 {
		t.Errorf("%s: the DNC entry is gone", number)
	}
}

// secretCard is what the caller keys into a sensitive variable.
const secretCard = "4111111111111111"

// cardFlow gathers a card number into a sensitive variable, sends it to a
// web service in the URL and reads back a confirmation.
const cardFlow = `name: card-line
entry: ask_card
sensitive: [card]
variables:
  card: ""
  crm_url: ""
nodes:
  ask_card:
    type: gather
    prompt: "Please key in your card number, then press hash."
    min_digits: 16
    max_digits: 16
    terminator: "#"
    var: card
    next: lookup
  lookup:
    type: http
    url: "{{ vars.crm_url }}/cards?number={{ vars.card }}"
    timeout: 3s
    next: thanks
    on_error: thanks
  thanks:
    type: hangup
    say: "Thank you. Your card ending {{ vars.card[12:] }} is noted."
`

// TestSensitiveNeverLeaks runs a call on voxflow dev whose flow keeps a
// card number in a sensitive variable, then asserts that the number is in
// none of the process's log lines (engine, text channel, API, Temporal
// SDK), the simulator's transcript, the CLI's call views or the API's
// call, CDR and export answers.
func TestSensitiveNeverLeaks(t *testing.T) {
	logs := &syncWriter{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	dataDir := t.TempDir()
	t.Setenv("VOXFLOW_DATA_DIR", dataDir) // the CLI finds dev's payload key there
	dev, err := devstack.StartDev(context.Background(), devConfig(dataDir, tport, httpAddr, "off"), devstack.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Stop()
	temporal := dev.Temporal.FrontendHostPort()
	file := filepath.Join(t.TempDir(), "card-line.yaml")
	if err := os.WriteFile(file, []byte(cardFlow), 0o644); err != nil {
		t.Fatal(err)
	}
	sim := mustCLI(t, "flows", "simulate", file, "--temporal", temporal, "--var", "crm_url="+dev.DemoCRMURL,
		"--from", "+15550177", "--input", secretCard+"#", "--json")
	var res simJSON
	if err := json.Unmarshal([]byte(sim), &res); err != nil || res.CallID == "" {
		t.Fatalf("simulate: %v\n%s", err, sim)
	}
	seen := map[string]string{"simulator JSON": sim}
	seen["simulator transcript"] = mustCLI(t, "flows", "simulate", file, "--temporal", temporal, "--var", "crm_url="+dev.DemoCRMURL,
		"--from", "+15550178", "--input", secretCard+"#")
	rec := oneCDR(t, dev.Store, store.CDRQuery{From: "+15550177"})
	if got := pathOf(rec); got != "ask_card>lookup>thanks" {
		t.Fatalf("path %s", got)
	}
	seen["calls show"] = mustCLI(t, "calls", "show", res.CallID, "--temporal", temporal)
	seen["calls show --json"] = mustCLI(t, "calls", "show", res.CallID, "--temporal", temporal, "--json")
	seen["calls list"] = mustCLI(t, "calls", "list", "--temporal", temporal, "--json")
	for path, body := range apiViews(t, dev, httpAddr, res.CallID) {
		seen["API "+path] = body
	}
	seen["process log"] = logs.String()
	for where, text := range seen {
		if strings.Contains(text, secretCard) {
			i := strings.Index(text, secretCard)
			t.Errorf("%s shows the card number: ...%s...", where, text[max(0, i-300):min(len(text), i+100)])
		}
	}
	if !strings.Contains(seen["simulator transcript"], "caller: dtmf:"+strings.Repeat("*", 17)) {
		t.Errorf("the simulator does not show the masked input:\n%s", seen["simulator transcript"])
	}
	if !strings.Contains(seen["calls show"], strings.Repeat("*", 16)) {
		t.Errorf("calls show has no masked input:\n%s", seen["calls show"])
	}
}

// apiViews are the API's answers about a call, as an admin sees them.
func apiViews(t *testing.T, dev *devstack.Dev, httpAddr, callID string) map[string]string {
	t.Helper()
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.CreateKey(context.Background(), "privacy", designerapi.RoleAdmin, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, path := range []string{"/calls/" + callID, "/calls", "/cdrs/" + callID, "/cdrs", "/cdrs/export"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/api/v1"+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s %s", path, resp.Status, b)
		}
		out[path] = string(b)
	}
	return out
}
