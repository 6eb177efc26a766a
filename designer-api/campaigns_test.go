package designerapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/store"
)

// fakeCampaigns steers campaigns as platform.Campaigns does, in the store
// only: start and resume set running, pause paused, stop stopped; a
// completed campaign does not start. It records every call.
type fakeCampaigns struct {
	mu    sync.Mutex
	st    *store.Store
	calls []string
	live  *records.CampaignLive
	err   error // what Live answers
}

func newFakeCampaigns(st *store.Store) *fakeCampaigns { return &fakeCampaigns{st: st} }

// errFakeState is platform.ErrCampaignState as the API sees it: by its text.
var errFakeState = errors.New("not allowed in the campaign's state")

func (f *fakeCampaigns) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeCampaigns) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeCampaigns) set(ctx context.Context, action, id, state string) error {
	f.record(action + " " + id)
	c, err := f.st.GetCampaign(ctx, id)
	if err != nil {
		return err
	}
	if c.State == records.CampaignCompleted && state == records.CampaignRunning {
		return fmt.Errorf("start campaign %q: it is completed (add contacts to dial again): %w", id, errFakeState)
	}
	return f.st.SetCampaignState(ctx, id, state)
}

func (f *fakeCampaigns) Start(ctx context.Context, id string) error {
	return f.set(ctx, "start", id, records.CampaignRunning)
}
func (f *fakeCampaigns) Pause(ctx context.Context, id string) error {
	return f.set(ctx, "pause", id, records.CampaignPaused)
}
func (f *fakeCampaigns) Resume(ctx context.Context, id string) error {
	return f.set(ctx, "resume", id, records.CampaignRunning)
}
func (f *fakeCampaigns) Stop(ctx context.Context, id string) error {
	return f.set(ctx, "stop", id, records.CampaignStopped)
}
func (f *fakeCampaigns) Nudge(_ context.Context, id string) error {
	f.record("nudge " + id)
	return nil
}
func (f *fakeCampaigns) PreviewDial(_ context.Context, id string, contact int64, agent string) error {
	f.record(fmt.Sprintf("dial %s %d for %s", id, contact, agent))
	return nil
}
func (f *fakeCampaigns) Live(_ context.Context, id string) (*records.CampaignLive, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live, f.err
}

// newCampaignEnv is newEnv with campaigns steered by a fake, its stream
// fast and bounded to streams at once.
func newCampaignEnv(t *testing.T, streams int) (*testEnv, *fakeCampaigns, http.Handler) {
	t.Helper()
	e := newEnv(t)
	fc := newFakeCampaigns(e.store)
	h, api := New(Config{Store: e.store, Calls: e.calls, Sim: e.sim, Routing: e.route, Auth: e.auth, Campaigns: fc,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), campaignEvery: 20 * time.Millisecond, maxCampaignStreams: streams})
	e.api = wrapQuiet(t, api)
	if err := e.store.PutQueue(context.Background(), store.Queue{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	e.publishFlow("outbound")
	return e, fc, h
}

// createCampaign creates campaign id through the API, as admin.
func (e *testEnv) createCampaign(id string, settings map[string]any) Campaign {
	e.t.Helper()
	body := map[string]any{"id": id, "flow": "outbound", "mode": "progressive", "queue": "sales", "region": "US"}
	for k, v := range settings {
		body[k] = v
	}
	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/campaigns", body)
	e.expect(w, http.StatusCreated)
	return decode[Campaign](e.t, w)
}

func (e *testEnv) setCampaignState(id, state string) {
	e.t.Helper()
	if err := e.store.SetCampaignState(context.Background(), id, state); err != nil {
		e.t.Fatal(err)
	}
}

// A campaign is created with the defaults in place, listed with its
// progress, read, changed while not running, and deleted when not
// running; reading takes a supervisor, writing an admin.
func TestCampaignCRUD(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	c := e.createCampaign("spring", map[string]any{"min_spacing": "15m",
		"window": map[string]any{"start": "09:00", "end": "20:00", "days": []string{"mon", "tue"}}})
	if c.State != records.CampaignDraft || c.Name != "spring" || c.MaxAttempts != 3 || c.Machine != records.MachineHangUp ||
		c.AbandonCap != 0.03 || c.RingTimeout != "25s" || c.MinSpacing != "15m0s" || len(c.Retry) == 0 ||
		c.Window.Start != "09:00" || strings.Join(c.Window.Days, ",") != "mon,tue" || c.CreatedAt.IsZero() {
		t.Fatalf("created: %+v", c)
	}
	w := e.do(RoleAdmin, http.MethodPost, Prefix+"/campaigns", map[string]any{"id": "spring", "flow": "outbound", "mode": "agentless"})
	if w.Code != http.StatusConflict {
		t.Fatalf("again: %d %s", w.Code, w.Body.String())
	}
	w = e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns")
	e.expect(w, http.StatusOK)
	list := decode[struct{ Campaigns []CampaignSummary }](t, w).Campaigns
	if len(list) != 1 || list[0].ID != "spring" || list[0].Contacts[records.ContactPending] != 0 || len(list[0].Contacts) != 4 {
		t.Fatalf("list: %+v", list)
	}
	for _, tc := range []struct {
		role         Role
		method, path string
		code         int
	}{
		{RoleViewer, http.MethodGet, "/campaigns", http.StatusForbidden},
		{RoleSupervisor, http.MethodGet, "/campaigns/spring", http.StatusOK},
		{RoleOperator, http.MethodPut, "/campaigns/spring", http.StatusForbidden},
		{RoleSupervisor, http.MethodGet, "/campaigns/nope", http.StatusNotFound},
	} {
		w := e.do(tc.role, tc.method, Prefix+tc.path, map[string]any{"flow": "outbound", "mode": "agentless"})
		if w.Code != tc.code {
			t.Errorf("%s %s as %s: %d, want %d: %s", tc.method, tc.path, tc.role, w.Code, tc.code, w.Body.String())
		}
	}
	// PUT replaces the settings, omitted ones back to the defaults.
	w = e.do(RoleAdmin, http.MethodPut, Prefix+"/campaigns/spring", map[string]any{"flow": "outbound", "mode": "agentless", "concurrency": 2})
	e.expect(w, http.StatusOK)
	if c := decode[Campaign](t, w); c.Mode != records.PaceAgentless || c.Concurrency != 2 || c.MinSpacing != "10m0s" || c.State != records.CampaignDraft {
		t.Fatalf("put: %+v", c)
	}
	e.setCampaignState("spring", records.CampaignRunning)
	w = e.do(RoleAdmin, http.MethodPut, Prefix+"/campaigns/spring", map[string]any{"flow": "outbound", "mode": "agentless"})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "pause it before changing its settings") {
		t.Fatalf("put while running: %d %s", w.Code, w.Body.String())
	}
	if w = e.do(RoleAdmin, http.MethodDelete, Prefix+"/campaigns/spring"); w.Code != http.StatusConflict {
		t.Fatalf("delete while running: %d %s", w.Code, w.Body.String())
	}
	e.setCampaignState("spring", records.CampaignStopped)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/campaigns/spring"), http.StatusNoContent)
	e.expect(e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/spring"), http.StatusNotFound)
}

// Bad settings answer 422 with one detail per field, naming it.
func TestCreateCampaignProblems(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	if _, err := e.store.SaveDraft(context.Background(), "unpublished", flowSrc("unpublished"), ""); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		body     map[string]any
		location string
		message  string
	}{
		{"mode", map[string]any{"mode": "robocall"}, "body.mode", "robocall"},
		{"queue missing", map[string]any{"queue": nil}, "body.queue", "queue"},
		{"unknown queue", map[string]any{"queue": "nope"}, "body.queue", `no queue "nope": define it first`},
		{"unpublished flow", map[string]any{"flow": "unpublished"}, "body.flow", "has no published version: publish it first"},
		{"no such flow", map[string]any{"flow": "ghost"}, "body.flow", "has no published version"},
		{"duration", map[string]any{"min_spacing": "soon"}, "body.min_spacing", "Go duration"},
		{"retry delay", map[string]any{"retry": []map[string]any{{"outcome": "busy", "delay": "x", "max": 1}}}, "body.retry[0].delay", "Go duration"},
		{"window", map[string]any{"window": map[string]any{"start": "25:00"}}, "body.window.start", "25:00"},
		{"machine text", map[string]any{"machine": "message"}, "body.machine_text", ""},
		{"id", map[string]any{"id": "no spaces"}, "body.id", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"id": "bad", "flow": "outbound", "mode": "progressive", "queue": "sales"}
			for k, v := range tc.body {
				if v == nil {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			w := e.do(RoleAdmin, http.MethodPost, Prefix+"/campaigns", body)
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("%d %s", w.Code, w.Body.String())
			}
			p := decode[huma.ErrorModel](t, w)
			for _, d := range p.Errors {
				if d.Location == tc.location && strings.Contains(d.Message+fmt.Sprint(d.Value), tc.message) {
					return
				}
			}
			t.Fatalf("no detail at %s with %q: %s", tc.location, tc.message, w.Body.String())
		})
	}
	if w := e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/bad"); w.Code != http.StatusNotFound {
		t.Fatalf("a refused campaign was stored: %d", w.Code)
	}
}

// The buttons change the state through CampaignControl, do nothing when
// the campaign is already there, and answer 409 naming the state when it
// does not allow them; without CampaignControl they answer 503.
func TestCampaignControls(t *testing.T) {
	e, fc, _ := newCampaignEnv(t, 0)
	e.createCampaign("spring", nil)
	post := func(role Role, action string) (int, string) {
		w := e.do(role, http.MethodPost, Prefix+"/campaigns/spring/"+action)
		return w.Code, w.Body.String()
	}
	for _, tc := range []struct {
		action string
		code   int
		want   string // in the body: the state, or the refusal
	}{
		{"pause", http.StatusConflict, "campaign spring is draft: pause works on a campaign that is running"},
		{"resume", http.StatusConflict, "campaign spring is draft: resume works on a campaign that is paused"},
		{"start", http.StatusOK, `"state":"running"`},
		{"start", http.StatusOK, `"state":"running"`},
		{"pause", http.StatusOK, `"state":"paused"`},
		{"pause", http.StatusOK, `"state":"paused"`},
		{"resume", http.StatusOK, `"state":"running"`},
		{"stop", http.StatusOK, `"state":"stopped"`},
		{"resume", http.StatusConflict, "campaign spring is stopped"},
		{"start", http.StatusOK, `"state":"running"`},
	} {
		if code, body := post(RoleAdmin, tc.action); code != tc.code || !strings.Contains(body, tc.want) {
			t.Fatalf("%s: %d %s; want %d %q", tc.action, code, body, tc.code, tc.want)
		}
	}
	if got := strings.Join(fc.called(), ","); got != "start spring,pause spring,resume spring,stop spring,start spring" {
		t.Fatalf("calls: %s", got)
	}
	e.setCampaignState("spring", records.CampaignCompleted)
	if code, body := post(RoleAdmin, "start"); code != http.StatusConflict || !strings.Contains(body, "it is completed") {
		t.Fatalf("start completed: %d %s", code, body)
	}
	if code, _ := post(RoleSupervisor, "stop"); code != http.StatusForbidden {
		t.Fatalf("supervisor stops: %d", code)
	}
	_, api := New(Config{Store: e.store, Auth: e.auth, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}) // no CampaignControl
	bare := *e
	bare.api = wrapQuiet(t, api)
	for _, path := range []string{"/campaigns/spring/stop", "/campaigns/spring/preview/1/dial"} {
		if w := bare.do(RoleAdmin, http.MethodPost, Prefix+path); w.Code != http.StatusServiceUnavailable ||
			!strings.Contains(w.Body.String(), "no Temporal connection configured") {
			t.Fatalf("%s without CampaignControl: %d %s", path, w.Code, w.Body.String())
		}
	}
}

const contactsCSV = `phone,name,timezone
415-555-0100,Ann,America/Los_Angeles
+1 212 555 0101,Bob,
555-01,Cat,
415-555-0100,Dan,
+442079460958,,
+14155550102,Eve,Mars/Olympus
`

func (e *testEnv) importCSV(id, csv string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(RoleAdmin, http.MethodPost, Prefix+"/campaigns/"+id+"/contacts", "Content-Type: text/csv", strings.NewReader(csv))
}

// A contacts CSV is read as it streams: valid rows are added, bad ones
// reported by row and column, numbers already on the list counted as
// duplicates; a running campaign is nudged.
func TestCampaignImportContacts(t *testing.T) {
	e, fc, _ := newCampaignEnv(t, 0)
	e.createCampaign("spring", map[string]any{"required": []string{"name"}})
	w := e.importCSV("spring", contactsCSV)
	e.expect(w, http.StatusOK)
	rep := decode[ImportReport](t, w)
	if rep.Rows != 6 || rep.Accepted != 2 || rep.Rejected != 4 || rep.Duplicates != 0 || len(rep.Errors) != 4 {
		t.Fatalf("report: %+v", rep)
	}
	rows := map[int]ImportError{}
	for _, e := range rep.Errors {
		rows[e.Row] = e
	}
	if e := rows[4]; e.Column != "phone" || e.Value != "555-01" {
		t.Errorf("row 4: %+v", e)
	}
	if e := rows[6]; e.Column != "name" {
		t.Errorf("row 6 (no name): %+v", e)
	}
	if e := rows[7]; e.Value != "Mars/Olympus" {
		t.Errorf("row 7 (bad zone): %+v", e)
	}
	if _, ok := rows[5]; !ok {
		t.Errorf("row 5 (a number twice in the file) not rejected: %+v", rep.Errors)
	}
	if got := fc.called(); len(got) != 0 {
		t.Fatalf("a draft campaign was nudged: %v", got)
	}
	// Again, running: nothing is added twice.
	e.setCampaignState("spring", records.CampaignRunning)
	rep = decode[ImportReport](t, e.importCSV("spring", contactsCSV+"+14155550103,Fay,\n"))
	if rep.Accepted != 1 || rep.Duplicates != 2 || rep.Rows != 7 {
		t.Fatalf("again: %+v", rep)
	}
	if got := strings.Join(fc.called(), ","); got != "nudge spring" {
		t.Fatalf("nudges: %s", got)
	}
	w = e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/spring/contacts?limit=2")
	e.expect(w, http.StatusOK)
	page := decode[struct {
		Contacts  []records.Contact
		NextAfter int64 `json:"next_after"`
	}](t, w)
	if len(page.Contacts) != 2 || page.Contacts[0].Number != "+14155550100" || page.Contacts[0].Vars["name"] != "Ann" ||
		page.Contacts[0].State != records.ContactPending || page.NextAfter != page.Contacts[1].ID {
		t.Fatalf("page 1: %+v", page)
	}
	w = e.do(RoleSupervisor, http.MethodGet, Prefix+fmt.Sprintf("/campaigns/spring/contacts?limit=2&after=%d", page.NextAfter))
	page = decode[struct {
		Contacts  []records.Contact
		NextAfter int64 `json:"next_after"`
	}](t, w)
	if len(page.Contacts) != 1 || page.Contacts[0].Number != "+14155550103" || page.NextAfter != 0 {
		t.Fatalf("page 2: %+v", page)
	}
	for _, tc := range []struct {
		name, ctype, body string
		code              int
		want              string
	}{
		{"no phone column", "text/csv", "name,amount\nAnn,3\n", http.StatusUnprocessableEntity, "name"},
		{"json", "application/json", `{"a":1}`, http.StatusUnsupportedMediaType, "send the file as text/csv"},
		{"excel's csv", "application/vnd.ms-excel", "phone,name\n+14155550109,Zed\n", http.StatusOK, `"accepted":1`},
	} {
		w := e.do(RoleAdmin, http.MethodPost, Prefix+"/campaigns/spring/contacts", "Content-Type: "+tc.ctype, strings.NewReader(tc.body))
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%s: %d %s", tc.name, w.Code, w.Body.String())
		}
	}
	if w := e.importCSV("nope", contactsCSV); w.Code != http.StatusNotFound {
		t.Errorf("unknown campaign: %d", w.Code)
	}
	if w := e.do(RoleSupervisor, http.MethodPost, Prefix+"/campaigns/spring/contacts", "Content-Type: text/csv", strings.NewReader(contactsCSV)); w.Code != http.StatusForbidden {
		t.Errorf("supervisor imports: %d", w.Code)
	}
}

// contactRows generates a contacts CSV of n rows as it is read.
type contactRows struct {
	n, i int
	buf  []byte
}

func (c *contactRows) Read(p []byte) (int, error) {
	for len(c.buf) < len(p) && c.i <= c.n {
		if c.i == 0 {
			c.buf = append(c.buf, "phone,name\n"...)
		} else {
			c.buf = fmt.Appendf(c.buf, "+1415%03d%04d,n%d\n", 200+c.i/10000, c.i%10000, c.i) // unique, valid NANP
		}
		c.i++
	}
	if len(c.buf) == 0 {
		return 0, io.EOF
	}
	k := copy(p, c.buf)
	c.buf = c.buf[k:]
	return k, nil
}

// A list longer than a batch is written in batches and counted whole.
func TestCampaignImportBatches(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	e.createCampaign("big", nil)
	c, err := e.store.GetCampaign(context.Background(), "big")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ImportContacts(context.Background(), e.store, c, &contactRows{n: 2*ImportBatch + 500})
	if err != nil || rep.Rows != 2500 || rep.Accepted != 2500 || rep.Rejected != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	counts, _, err := e.store.ContactCounts(context.Background(), "big")
	if err != nil || counts[records.ContactPending] != 2500 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

// An upload past the limit stops with ErrImportTooLarge.
func TestCampaignImportCap(t *testing.T) {
	for _, tc := range []struct {
		size, limit int
		err         error
	}{
		{10, 10, nil}, {9, 10, nil}, {11, 10, ErrImportTooLarge}, {0, 0, nil}, {1, 0, ErrImportTooLarge},
	} {
		r := &cappedReader{r: strings.NewReader(strings.Repeat("x", tc.size)), left: int64(tc.limit)}
		b, err := io.ReadAll(r)
		if !errors.Is(err, tc.err) || (tc.err == nil && len(b) != tc.size) {
			t.Errorf("%d bytes, limit %d: read %d, %v", tc.size, tc.limit, len(b), err)
		}
	}
}

// finishAttempt dials contact k of campaign id once with outcome.
func (e *testEnv) finishAttempt(id string, outcome string, talk time.Duration) records.Contact {
	e.t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	ks, err := e.store.ClaimContacts(ctx, id, "claim-"+outcome, now, 1, "")
	if err != nil || len(ks) != 1 {
		e.t.Fatalf("claim: %v %v", ks, err)
	}
	k := ks[0]
	a := records.DialAttempt{Campaign: id, Contact: k.ID, Attempt: k.Attempts, CallID: fmt.Sprintf("cmp-%s-%d-%d", id, k.ID, k.Attempts),
		Number: k.Number, StartedAt: now.Add(-time.Minute)}
	if _, err := e.store.StartAttempt(ctx, a); err != nil {
		e.t.Fatal(err)
	}
	a.EndedAt, a.Outcome, a.Talk = now, outcome, talk
	k.State, k.LastOutcome, k.LastAt = records.ContactDone, outcome, now
	if err := e.store.FinishAttempt(ctx, a, k); err != nil {
		e.t.Fatal(err)
	}
	return k
}

// Stats count the list and today's and 30 days' attempts, with the live
// picture of a running campaign; attempts list newest first.
func TestCampaignStatsAndAttempts(t *testing.T) {
	e, fc, _ := newCampaignEnv(t, 0)
	e.createCampaign("spring", nil)
	e.expect(e.importCSV("spring", "phone\n+14155550100\n+14155550101\n+14155550102\n+14155550103\n"), http.StatusOK)
	k := e.finishAttempt("spring", records.AttemptHuman, time.Minute)
	e.finishAttempt("spring", records.AttemptAbandoned, 0)
	e.finishAttempt("spring", records.AttemptMachine, 0)
	w := e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/spring/stats")
	e.expect(w, http.StatusOK)
	st := decode[CampaignStats](t, w)
	if st.Contacts[records.ContactDone] != 3 || st.Contacts[records.ContactPending] != 1 || st.Contacts[records.ContactDialing] != 0 {
		t.Fatalf("contacts: %v", st.Contacts)
	}
	for _, tl := range []Tally{st.Today, st.Last30d} {
		if tl.Dials != 3 || tl.Human != 2 || tl.Machine != 1 || tl.Abandoned != 1 || tl.AbandonRate != 0.5 ||
			tl.AnswerRate != 1 || tl.MachineRate != 1.0/3 || tl.Talk != "1m0s" {
			t.Fatalf("tally: %+v", tl)
		}
	}
	if st.Live != nil || st.LiveError != "" {
		t.Fatalf("a draft has a live picture: %+v %q", st.Live, st.LiveError)
	}
	e.setCampaignState("spring", records.CampaignRunning)
	fc.live = &records.CampaignLive{Campaign: "spring", Pacing: records.PaceProgressive, Reason: "no agents signed in", Lines: 2}
	st = decode[CampaignStats](t, e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/spring/stats"))
	if st.Live == nil || st.Live.Reason != "no agents signed in" || st.Live.Lines != 2 {
		t.Fatalf("live: %+v", st.Live)
	}
	fc.live, fc.err = nil, errors.New("query timed out")
	st = decode[CampaignStats](t, e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/spring/stats"))
	if st.Live != nil || !strings.Contains(st.LiveError, "query timed out") {
		t.Fatalf("live error: %+v %q", st.Live, st.LiveError)
	}
	w = e.do(RoleSupervisor, http.MethodGet, Prefix+"/campaigns/spring/attempts")
	e.expect(w, http.StatusOK)
	as := decode[struct{ Attempts []Attempt }](t, w).Attempts
	if len(as) != 3 {
		t.Fatalf("attempts: %+v", as)
	}
	w = e.do(RoleSupervisor, http.MethodGet, Prefix+fmt.Sprintf("/campaigns/spring/attempts?contact=%d", k.ID))
	as = decode[struct{ Attempts []Attempt }](t, w).Attempts
	if len(as) != 1 || as[0].Outcome != records.AttemptHuman || as[0].Talk != "1m0s" || as[0].Attempt != 1 {
		t.Fatalf("contact's attempts: %+v", as)
	}
	if w := e.do(RoleViewer, http.MethodGet, Prefix+"/campaigns/spring/stats"); w.Code != http.StatusForbidden {
		t.Fatalf("viewer: %d", w.Code)
	}
}

// Preview: an agent claims the next due contact for themselves (a
// supervisor for anyone), dials only a contact offered to them, and gets
// 204 when none is due.
func TestCampaignPreview(t *testing.T) {
	e, fc, _ := newCampaignEnv(t, 0)
	e.createCampaign("pv", map[string]any{"mode": "preview"})
	e.createCampaign("prog", nil)
	e.expect(e.importCSV("pv", "phone\n+14155550100\n+14155550101\n"), http.StatusOK)
	next := func(role Role, query string) (int, records.Contact) {
		w := e.do(role, http.MethodPost, Prefix+"/campaigns/pv/preview/next"+query)
		var k records.Contact
		if w.Code == http.StatusOK {
			k = decode[records.Contact](t, w)
		}
		return w.Code, k
	}
	if code, _ := next(RoleAgent, ""); code != http.StatusConflict {
		t.Fatalf("draft: %d", code)
	}
	e.setCampaignState("pv", records.CampaignRunning)
	code, mine := next(RoleAgent, "")
	if code != http.StatusOK || mine.Agent != "test-agent" || mine.State != records.ContactDialing || mine.Number != "+14155550100" {
		t.Fatalf("agent's next: %d %+v", code, mine)
	}
	if code, _ := next(RoleAgent, "?agent=bob"); code != http.StatusForbidden {
		t.Fatalf("agent for bob: %d", code)
	}
	code, bobs := next(RoleSupervisor, "?agent=bob")
	if code != http.StatusOK || bobs.Agent != "bob" {
		t.Fatalf("supervisor for bob: %d %+v", code, bobs)
	}
	if code, _ := next(RoleAgent, ""); code != http.StatusNoContent {
		t.Fatalf("none left: %d", code)
	}
	dial := func(role Role, k int64) *httptest.ResponseRecorder {
		return e.do(role, http.MethodPost, Prefix+fmt.Sprintf("/campaigns/pv/preview/%d/dial", k))
	}
	if w := dial(RoleAgent, bobs.ID); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "offered to bob") {
		t.Fatalf("dial bob's: %d %s", w.Code, w.Body.String())
	}
	e.expect(dial(RoleAgent, mine.ID), http.StatusAccepted)
	if w := dial(RoleAgent, 999999); w.Code != http.StatusNotFound {
		t.Fatalf("no such contact: %d", w.Code)
	}
	if got := strings.Join(fc.called(), ","); got != fmt.Sprintf("dial pv %d for test-agent", mine.ID) {
		t.Fatalf("calls: %s", got)
	}
	e.setCampaignState("prog", records.CampaignRunning)
	if w := e.do(RoleAgent, http.MethodPost, Prefix+"/campaigns/prog/preview/next"); w.Code != http.StatusConflict ||
		!strings.Contains(w.Body.String(), "only preview campaigns") {
		t.Fatalf("progressive: %d %s", w.Code, w.Body.String())
	}
}

// skipPath is the preview skip of contact k of campaign id.
func skipPath(id string, k int64, query string) string {
	return Prefix + fmt.Sprintf("/campaigns/%s/preview/%d/skip%s", id, k, query)
}

// claim is preview/next for role's agent (query: ?agent=...), which must
// offer a contact.
func (e *testEnv) claim(role Role, id, query string) records.Contact {
	e.t.Helper()
	w := e.do(role, http.MethodPost, Prefix+"/campaigns/"+id+"/preview/next"+query)
	e.expect(w, http.StatusOK)
	return decode[records.Contact](e.t, w)
}

// Skip: an agent passes over a contact they hold and have not dialled,
// back to the list (behind the contacts due, so the next offer is another
// one) or for good with a reason; supervisors act for anyone; a contact
// not held by that agent, or dialled, is refused with 409.
func TestCampaignPreviewSkip(t *testing.T) {
	e, fc, _ := newCampaignEnv(t, 0)
	ctx := context.Background()
	e.createCampaign("pv", map[string]any{"mode": "preview"})
	e.createCampaign("prog", nil)
	e.expect(e.importCSV("pv", "phone,first_name\n+14155550100,Ann\n+14155550101,Bo\n+14155550102,Cy\n+14155550103,Di\n"), http.StatusOK)
	e.setCampaignState("pv", records.CampaignRunning)

	ann := e.claim(RoleAgent, "pv", "")
	if ann.Vars["first_name"] != "Ann" || ann.Attempts != 1 {
		t.Fatalf("first offer: %+v", ann)
	}
	w := e.do(RoleAgent, http.MethodPost, skipPath("pv", ann.ID, ""))
	e.expect(w, http.StatusOK)
	back := decode[records.Contact](t, w)
	if back.State != records.ContactPending || back.Agent != "" || back.Attempts != 0 || back.NextAt.IsZero() || back.SkipReason != "" {
		t.Fatalf("released: %+v", back)
	}
	if bo := e.claim(RoleAgent, "pv", ""); bo.Vars["first_name"] != "Bo" {
		t.Fatalf("after a skip the next offer is %+v, want Bo (Ann goes behind the contacts due)", bo)
	} else {
		w = e.do(RoleAgent, http.MethodPost, skipPath("pv", bo.ID, ""), map[string]any{"reason": "  wrong person ", "final": true})
		e.expect(w, http.StatusOK)
		if k := decode[records.Contact](t, w); k.State != records.ContactSkipped || k.SkipReason != "wrong person" || k.Attempts != 0 {
			t.Fatalf("skipped for good: %+v", k)
		}
	}
	cy := e.claim(RoleAgent, "pv", "")
	w = e.do(RoleAgent, http.MethodPost, skipPath("pv", cy.ID, ""), map[string]any{"final": true})
	e.expect(w, http.StatusOK)
	if k := decode[records.Contact](t, w); k.SkipReason != agentSkipReason {
		t.Fatalf("final without a reason: %+v", k)
	}
	_, skipped, err := e.store.ContactCounts(ctx, "pv")
	if err != nil || skipped["wrong person"] != 1 || skipped[agentSkipReason] != 1 {
		t.Fatalf("skipped by reason: %v %v", skipped, err)
	}
	if got := strings.Join(fc.called(), ","); got != "nudge pv,nudge pv,nudge pv" {
		t.Errorf("calls: %s, want a nudge per skip of a running campaign", got)
	}

	di := e.claim(RoleSupervisor, "pv", "?agent=bob")
	annAgain := e.claim(RoleAgent, "pv", "")
	if annAgain.ID != ann.ID {
		t.Fatalf("offer after Di: %+v, want Ann again", annAgain)
	}
	if _, err := e.store.StartAttempt(ctx, records.DialAttempt{Campaign: "pv", Contact: annAgain.ID, Attempt: annAgain.Attempts,
		CallID: "call-cmp-pv", Number: annAgain.Number}); err != nil {
		t.Fatal(err)
	}
	long := map[string]any{"reason": strings.Repeat("x", 201), "final": true}
	for _, c := range []struct {
		name   string
		role   Role
		path   string
		body   any
		status int
		want   string
	}{
		{"another agent's", RoleAgent, skipPath("pv", di.ID, ""), nil, http.StatusConflict, "not offered to test-agent (it is dialing, offered to bob)"},
		{"for another agent", RoleAgent, skipPath("pv", di.ID, "?agent=bob"), nil, http.StatusForbidden, "only for themselves"},
		{"released already", RoleAgent, skipPath("pv", cy.ID, ""), nil, http.StatusConflict, "it is skipped"},
		{"dialled", RoleAgent, skipPath("pv", annAgain.ID, ""), nil, http.StatusConflict, "was dialled (attempt 1)"},
		{"no such contact", RoleAgent, skipPath("pv", 999999, ""), nil, http.StatusNotFound, "has no contact 999999"},
		{"no such campaign", RoleAgent, skipPath("nope", 1, ""), nil, http.StatusNotFound, "not found"},
		{"not preview", RoleAgent, skipPath("prog", 1, ""), nil, http.StatusConflict, "only preview campaigns"},
		{"reason too long", RoleAgent, skipPath("pv", di.ID, ""), long, http.StatusUnprocessableEntity, "body.reason"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var args []any
			if c.body != nil {
				args = append(args, c.body)
			}
			if w := e.do(c.role, http.MethodPost, c.path, args...); w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
				t.Errorf("%d %s, want %d with %q", w.Code, w.Body.String(), c.status, c.want)
			}
		})
	}

	// Paused, the campaign offers nothing, but its agents may still hand
	// back what they hold (a supervisor for them); nobody is nudged.
	e.setCampaignState("pv", records.CampaignPaused)
	w = e.do(RoleSupervisor, http.MethodPost, skipPath("pv", di.ID, "?agent=bob"))
	e.expect(w, http.StatusOK)
	if k := decode[records.Contact](t, w); k.State != records.ContactPending || k.Agent != "" {
		t.Fatalf("supervisor's skip for bob: %+v", k)
	}
	if n := len(fc.called()); n != 3 {
		t.Errorf("%d calls: a paused campaign is not nudged", n)
	}
}

// The desk's list: an agent sees the running preview campaigns of their
// queues (all queues when their profile names none, none without one)
// with the pending count, whether a contact is due, and the contacts they
// hold and have not dialled; supervisors may look for anyone.
func TestPreviewCampaignsForAgent(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	ctx := context.Background()
	if err := e.store.PutQueue(ctx, store.Queue{Name: "support"}); err != nil {
		t.Fatal(err)
	}
	e.addAgent("test-agent", map[string]int{"english": 1}, "sales")
	e.addAgent("bob", map[string]int{"english": 1})
	for id, settings := range map[string]map[string]any{
		"pv":       {"mode": "preview", "name": "Spring leads"},
		"pv-other": {"mode": "preview", "queue": "support"},
		"pv-draft": {"mode": "preview"},
		"prog":     nil,
	} {
		e.createCampaign(id, settings)
		if id != "pv-draft" {
			e.setCampaignState(id, records.CampaignRunning)
		}
	}
	e.expect(e.importCSV("pv", "phone\n+14155550100\n+14155550101\n+14155550102\n"), http.StatusOK)
	list := func(role Role, agent string) []PreviewCampaign {
		t.Helper()
		w := e.do(role, http.MethodGet, Prefix+"/agents/"+agent+"/preview-campaigns")
		e.expect(w, http.StatusOK)
		body := decode[struct {
			Agent     string            `json:"agent"`
			Campaigns []PreviewCampaign `json:"campaigns"`
		}](t, w)
		if body.Agent != agent {
			t.Fatalf("agent %q, want %q", body.Agent, agent)
		}
		return body.Campaigns
	}
	ids := func(pcs []PreviewCampaign) string {
		var out []string
		for _, pc := range pcs {
			out = append(out, pc.ID)
		}
		return strings.Join(out, ",")
	}

	got := list(RoleAgent, "test-agent")
	if len(got) != 1 || got[0].ID != "pv" || got[0].Name != "Spring leads" || got[0].Queue != "sales" || got[0].Pending != 3 ||
		!got[0].Due || !got[0].NextDue.IsZero() || got[0].Held == nil || len(got[0].Held) != 0 {
		t.Fatalf("test-agent's campaigns: %+v", got)
	}
	if got := ids(list(RoleSupervisor, "bob")); got != "pv,pv-other" {
		t.Errorf("bob serves every queue: %s, want pv,pv-other", got)
	}
	if got := list(RoleSupervisor, "carol"); len(got) != 0 {
		t.Errorf("an agent without a profile: %+v", got)
	}
	e.wantProblem(RoleAgent, http.MethodGet, Prefix+"/agents/bob/preview-campaigns", nil, http.StatusForbidden, "only for themselves")

	held := e.claim(RoleAgent, "pv", "")
	dialled := e.claim(RoleAgent, "pv", "")
	if _, err := e.store.StartAttempt(ctx, records.DialAttempt{Campaign: "pv", Contact: dialled.ID, Attempt: dialled.Attempts,
		CallID: "call-cmp-pv", Number: dialled.Number}); err != nil {
		t.Fatal(err)
	}
	e.claim(RoleSupervisor, "pv", "?agent=bob")
	got = list(RoleAgent, "test-agent")
	if len(got) != 1 || got[0].Pending != 0 || got[0].Due || len(got[0].Held) != 1 || got[0].Held[0].ID != held.ID {
		t.Fatalf("holding one, one dialled, bob one: %+v", got)
	}
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	if err := e.store.ReleaseContact(ctx, "pv", held.ID, later, ""); err != nil {
		t.Fatal(err)
	}
	got = list(RoleAgent, "test-agent")
	if len(got) != 1 || got[0].Pending != 1 || got[0].Due || !got[0].NextDue.Equal(later) || len(got[0].Held) != 0 {
		t.Fatalf("one pending in an hour: %+v", got)
	}
}

// openSSE reads an event stream into a channel, closed when it ends;
// cancel disconnects. A refused stream answers its status and no channel.
func openSSE(t *testing.T, url, key string) (<-chan sseMsg, context.CancelFunc, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, cancel, resp.StatusCode
	}
	ch := make(chan sseMsg, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		var cur sseMsg
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				cur.data = line[6:]
			case line == "" && cur.event != "":
				select {
				case ch <- cur:
				case <-ctx.Done():
					return
				}
				cur = sseMsg{}
			}
		}
	}()
	t.Cleanup(cancel)
	return ch, cancel, resp.StatusCode
}

// The stream sends the stats at once and again and again, reflects
// changes, refuses streams past its bound until one closes, ends with a
// problem when the campaign is deleted, and leaves no goroutine behind.
func TestCampaignStream(t *testing.T) {
	e, _, h := newCampaignEnv(t, 1)
	e.createCampaign("spring", nil)
	srv := httptest.NewServer(h)
	defer srv.Close()
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	url := srv.URL + Prefix + "/campaigns/spring/events"
	ch, cancel, code := openSSE(t, url, e.keys[RoleSupervisor])
	if code != http.StatusOK {
		t.Fatalf("stream: %d", code)
	}
	st := decodeData[CampaignStats](t, next(t, ch, EventCampaignStats))
	if st.Campaign.ID != "spring" || st.Contacts[records.ContactPending] != 0 {
		t.Fatalf("first: %+v", st)
	}
	if _, _, code := openSSE(t, url, e.keys[RoleSupervisor]); code != http.StatusTooManyRequests {
		t.Fatalf("a stream past the bound: %d", code)
	}
	e.expect(e.importCSV("spring", "phone\n+14155550100\n"), http.StatusOK)
	for st.Contacts[records.ContactPending] != 1 {
		st = decodeData[CampaignStats](t, next(t, ch, EventCampaignStats))
	}
	cancel()
	for range ch {
	}
	// The slot frees once the stream's handler has returned.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ch, _, code = openSSE(t, url, e.keys[RoleAdmin])
		if code == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code != http.StatusOK {
		t.Fatalf("after the first closed: %d", code)
	}
	next(t, ch, EventCampaignStats)
	e.expect(e.do(RoleAdmin, http.MethodDelete, Prefix+"/campaigns/spring"), http.StatusNoContent)
	p := decodeData[StreamProblem](t, next(t, ch, EventProblem))
	if !strings.Contains(p.Detail, "campaign spring was deleted") {
		t.Fatalf("problem: %+v", p)
	}
	for range ch { // the server ended the stream
	}
	if w := e.do(RoleViewer, http.MethodGet, Prefix+"/campaigns/spring/events"); w.Code != http.StatusForbidden {
		t.Fatalf("viewer: %d", w.Code)
	}
	http.DefaultClient.CloseIdleConnections()
	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines, %d before the streams:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// The console's Campaigns page: its module is served, the app routes
// /campaigns and /campaigns/ID to its views, the nav links to it, every
// module it imports exists, and /campaigns answers the page.
func TestCampaignsPageServed(t *testing.T) {
	h := WebHandler()
	resp, js := webGet(t, h, "/campaigns.js")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("/campaigns.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, view := range []string{"campaignsView", "campaignView"} {
		if !strings.Contains(js, "export async function "+view+"(") {
			t.Errorf("campaigns.js does not export %s", view)
		}
	}
	app, _ := webFiles.ReadFile("web/app.js")
	for _, route := range []string{`[/^\/campaigns$/, () => import('./campaigns.js').then((m) => m.campaignsView), 'campaigns']`,
		`[/^\/campaigns\/([^/]+)$/, () => import('./campaigns.js').then((m) => m.campaignView), 'campaigns']`} {
		if !strings.Contains(string(app), route) {
			t.Errorf("app.js lacks the route %s", route)
		}
	}
	files, err := loadWebFiles()
	if err != nil {
		t.Fatal(err)
	}
	imports := moduleGraph(files)["/campaigns.js"]
	if len(imports) < 3 {
		t.Errorf("campaigns.js imports %v: want api.js, ui.js and app.js", imports)
	}
	for _, m := range staticImport.FindAllStringSubmatch(js, -1) {
		if _, ok := files["/"+strings.TrimPrefix(m[1], "./")]; !ok {
			t.Errorf("campaigns.js imports %s, which is not served", m[1])
		}
	}
	resp, page := webGet(t, h, "/campaigns/spring")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, `<a href="/campaigns" data-link data-nav="campaigns">Campaigns</a>`) ||
		resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("/campaigns/spring: %d, nav link %v", resp.StatusCode, strings.Contains(page, `data-nav="campaigns"`))
	}
	if strings.Contains(js, "innerHTML") || strings.Contains(js, "style=") || strings.Contains(js, ".style.") {
		t.Error("campaigns.js sets HTML or inline styles: the CSP and the console build elements with h()")
	}
}

// The agent desk loads the preview panel: /agent-preview.js is served as
// a module the /agent page preloads with its imports, agent.js mounts it
// in the calls column, it builds its elements without HTML or inline
// styles (the CSP), calls the preview operations, and desk.css styles it.
func TestPreviewDeskModuleServed(t *testing.T) {
	h := WebHandler()
	resp, js := webGet(t, h, "/agent-preview.js")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("/agent-preview.js: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(js, "export class PreviewPanel") {
		t.Error("agent-preview.js does not export PreviewPanel")
	}
	for _, call := range []string{"/preview-campaigns`", "/preview/next`", "/dial`", "/skip`"} {
		if !strings.Contains(js, call) {
			t.Errorf("agent-preview.js never calls %s", call)
		}
	}
	if strings.Contains(js, "innerHTML") || strings.Contains(js, "style=") || strings.Contains(js, ".style.") {
		t.Error("agent-preview.js sets HTML or inline styles: the CSP forbids inline styles; build elements with h()")
	}
	_, agent := webGet(t, h, "/agent.js")
	for _, want := range []string{"import { PreviewPanel } from './agent-preview.js';", "parts.wrap, parts.preview)"} {
		if !strings.Contains(agent, want) {
			t.Errorf("agent.js lacks %q", want)
		}
	}
	_, entry := webGet(t, h, "/app.js")
	dir := "/v/" + buildRE.FindStringSubmatch(entry)[1]
	_, page := webGet(t, h, "/agent")
	head, later := pageModules(page)
	if !slices.Contains(later, dir+"/agent-preview.js") {
		t.Errorf("/agent does not preload agent-preview.js: %v", later)
	}
	checkImportsListed(t, h, "/agent", dir+"/agent-preview.js", append(slices.Clone(head), later...))
	if _, css := webGet(t, h, "/desk.css"); !strings.Contains(css, "/* preview dialling */") || !strings.Contains(css, ".desk-preview[hidden]") {
		t.Error("desk.css has no preview dialling rules")
	}
}

// campaignRoleCases are roleCases' entries for the campaign and
// do-not-call operations, with the fixtures they need (flow rc-flow,
// queue rc-q, campaigns rc, rc-doomed and the running preview rc-pv).
// The control operations need a CampaignControl: newEnv's Config takes
// Campaigns: newFakeCampaigns(st).
func campaignRoleCases(e *testEnv) map[string]roleCase {
	e.t.Helper()
	ctx := context.Background()
	e.publishFlow("rc-flow")
	if err := e.store.PutQueue(ctx, store.Queue{Name: "rc-q"}); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range []struct{ id, mode, state string }{
		{"rc", records.PaceProgressive, records.CampaignDraft},
		{"rc-doomed", records.PaceProgressive, records.CampaignDraft},
		{"rc-pv", records.PacePreview, records.CampaignRunning},
	} {
		cp, err := CampaignFrom(c.id, CampaignSettings{Flow: "rc-flow", Mode: c.mode, Queue: "rc-q"})
		if err == nil {
			cp.State = c.state
			err = e.store.CreateCampaign(ctx, cp)
		}
		if err != nil {
			e.t.Fatal(err)
		}
	}
	if _, _, err := e.store.AddContacts(ctx, "rc-pv", []records.Contact{{Number: "+14155550100", Row: 2}}); err != nil {
		e.t.Fatal(err)
	}
	rc := map[string]string{"id": "rc"}
	return map[string]roleCase{
		"list-campaigns":         {},
		"create-campaign":        {body: map[string]any{"id": "rc-new", "flow": "rc-flow", "mode": "agentless"}},
		"get-campaign":           {params: rc},
		"put-campaign":           {params: rc, body: map[string]any{"flow": "rc-flow", "mode": "agentless"}},
		"delete-campaign":        {params: map[string]string{"id": "rc-doomed"}},
		"start-campaign":         {params: rc},
		"pause-campaign":         {params: rc},
		"resume-campaign":        {params: rc},
		"stop-campaign":          {params: rc},
		"import-contacts":        {params: rc, body: strings.NewReader("phone\n+14155550101\n")},
		"list-contacts":          {params: rc},
		"list-attempts":          {params: rc, query: "contact=1"},
		"campaign-stats":         {params: rc},
		"stream-campaign":        {params: rc, stream: true},
		"preview-next":           {params: map[string]string{"id": "rc-pv"}},
		"preview-dial":           {params: map[string]string{"id": "rc-pv", "contact": "1"}},
		"preview-skip":           {params: map[string]string{"id": "rc-pv", "contact": "1"}},
		"list-preview-campaigns": {self: true},
		"list-dnc":               {},
		"add-dnc":                {body: []map[string]any{{"number": "+14155550100"}}},
		"import-dnc":             {body: strings.NewReader("+14155550102\n")},
		"check-dnc":              {query: "number=%2B14155550100"},
		"remove-dnc":             {params: map[string]string{"number": "+14155550100"}},
	}
}

// campaignOperationIDs are the campaign and do-not-call operations: every
// one needs the store (TestNoStore's needStore).
var campaignOperationIDs = []string{"list-campaigns", "create-campaign", "get-campaign", "put-campaign", "delete-campaign",
	"start-campaign", "pause-campaign", "resume-campaign", "stop-campaign", "import-contacts", "list-contacts", "list-attempts",
	"campaign-stats", "stream-campaign", "preview-next", "preview-dial", "preview-skip", "list-preview-campaigns", "list-dnc", "add-dnc", "import-dnc", "check-dnc", "remove-dnc"}

// The campaign and do-not-call operations against every role, as
// TestEveryOperationAgainstEveryRole checks the others: below the least
// role 401 or 403, at or above it neither, and no server error.
func TestCampaignOperationsAgainstEveryRole(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	for _, r := range Roles { // preview-next acts for the caller's agent
		e.addAgent("test-"+string(r), nil)
	}
	cases := campaignRoleCases(e)
	seen := 0
	for _, o := range operations(e.api) {
		if o.Tags[0] != "campaigns" && o.Tags[0] != "dnc" {
			continue
		}
		seen++
		c, ok := cases[o.OperationID]
		if !ok {
			t.Errorf("%s has no case in campaignRoleCases", o.OperationID)
			continue
		}
		min, _ := MinRole(o)
		for _, caller := range append([]Role{""}, Roles...) {
			var args []any
			if c.body != nil {
				args = append(args, c.body)
			}
			path := c.path(o, caller)
			w := e.doCase(c, caller, o.Method, path, args...)
			allowed := caller != "" && caller.Allows(min)
			switch {
			case allowed && (w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code >= 500):
				t.Errorf("%s %s as %q: %d, want allowed: %s", o.Method, path, caller, w.Code, w.Body.String())
			case !allowed && caller == "" && w.Code != http.StatusUnauthorized:
				t.Errorf("%s %s anonymous: %d, want 401", o.Method, path, w.Code)
			case !allowed && caller != "" && w.Code != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", o.Method, path, caller, w.Code)
			}
		}
	}
	if seen != len(cases) || seen != len(campaignOperationIDs) {
		t.Errorf("%d campaign and dnc operations, %d cases, %d in campaignOperationIDs", seen, len(cases), len(campaignOperationIDs))
	}
	for _, id := range campaignOperationIDs {
		if _, ok := cases[id]; !ok {
			t.Errorf("campaignOperationIDs has %s, which has no case", id)
		}
	}
}

// Without a store every campaign and do-not-call operation answers 503
// once its input is valid.
func TestCampaignOperationsWithoutStore(t *testing.T) {
	e, _, _ := newCampaignEnv(t, 0)
	cases := campaignRoleCases(e)
	_, api := New(Config{Auth: e.auth, Campaigns: newFakeCampaigns(e.store)})
	bare := wrapQuiet(t, api)
	for _, o := range operations(bare) {
		c, ok := cases[o.OperationID]
		if !ok {
			continue
		}
		var args []any
		if c.body != nil {
			args = append(args, c.body)
		}
		e2 := *e
		e2.api = bare
		if w := e2.doCase(c, RoleAdmin, o.Method, c.path(o, RoleAdmin), args...); w.Code != http.StatusServiceUnavailable ||
			!strings.Contains(w.Body.String(), "the store is not configured") {
			t.Errorf("%s: %d %s", o.OperationID, w.Code, w.Body.String())
		}
	}
}

// BenchmarkCampaignImport100k streams a 100,000-row contacts CSV into a
// SQLite store through ImportContacts (batches of ImportBatch rows).
func BenchmarkCampaignImport100k(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+b.TempDir()+"/voxflow.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PublishSource(ctx, "outbound", flowSrc("outbound"), "bench", ""); err != nil {
		b.Fatal(err)
	}
	const rows = 100_000
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c, err := CampaignFrom(fmt.Sprintf("bench-%d", i), CampaignSettings{Flow: "outbound", Mode: records.PaceAgentless})
		if err == nil {
			err = st.CreateCampaign(ctx, c)
		}
		if err != nil {
			b.Fatal(err)
		}
		rep, err := ImportContacts(ctx, st, c, &contactRows{n: rows})
		if err != nil || rep.Accepted != rows {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
