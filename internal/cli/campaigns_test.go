package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/dialer"
	"github.com/voxflow/voxflow/internal/devtemporal/devtemporaltest"
	"github.com/voxflow/voxflow/store"
)

// runDialerCLI runs the campaigns and dnc commands as Main runs the
// root's (they are tested here whether or not the root has them yet).
func runDialerCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := &cobra.Command{Use: "voxflow", SilenceUsage: true, SilenceErrors: true}
	root.AddCommand(newCampaignsCmd(), newDNCCmd())
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetIn(strings.NewReader(""))
	root.SetOut(&out)
	root.SetErr(&errb)
	rejectUnexpectedArgs(root)
	err := root.ExecuteContext(context.Background())
	var ue usageError
	switch {
	case errors.As(err, &ue):
		errb.WriteString(ue.Error() + "\n")
		return out.String(), errb.String(), 1
	case err != nil:
		errb.WriteString("voxflow: " + err.Error() + "\n")
		return out.String(), errb.String(), 1
	}
	return out.String(), errb.String(), 0
}

// dialerStore is a store with flow outbound published and queue sales.
func dialerStore(t *testing.T) (string, *store.Store) {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "voxflow.db")
	ctx := context.Background()
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	src := "name: outbound\nentry: bye\nnodes:\n  bye:\n    type: hangup\n"
	if _, err := s.PublishSource(ctx, "outbound", src, "test", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.PutQueue(ctx, store.Queue{Name: "sales"}); err != nil {
		t.Fatal(err)
	}
	return dsn, s
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCampaignCommands(t *testing.T) {
	dsn, _ := dialerStore(t)
	dir := t.TempDir()
	run := func(args ...string) (string, string, int) {
		return runDialerCLI(t, append(args, "--store", dsn)...)
	}
	mustRun := func(want string, args ...string) string {
		t.Helper()
		out, errs, code := run(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("%s: exit %d, stderr %q, stdout:\n%s\nwant %q", strings.Join(args, " "), code, errs, out, want)
		}
		return out
	}
	csv := writeFile(t, dir, "contacts.csv", "phone,name\n415-555-0100,Ann\n555-01,Bob\n+1 212 555 0101,Cy\n")
	out := mustRun("campaign spring created (draft): progressive, flow outbound, queue sales, window 09:00-20:00 mon,tue,wed,thu,fri",
		"campaigns", "create", "spring", "--flow", "outbound", "--mode", "progressive", "--queue", "sales", "--region", "US",
		"--window", "09:00-20:00", "--days", "mon-fri", "--retry", "busy=5m*2", "--min-spacing", "15m", "--contacts", csv,
		"--temporal", unreachable)
	for _, want := range []string{"rows 3: 2 accepted, 0 duplicates, 1 rejected\n", `row 3, column "phone": "555-01": `,
		"start it with: voxflow campaigns start spring"} {
		if !strings.Contains(out, want) {
			t.Errorf("create lacks %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"campaigns", "create", "c2", "--flow", "outbound", "--mode", "progressive"}, "campaign not created:\n  --queue: "},
		{[]string{"campaigns", "create", "c2", "--flow", "ghost", "--mode", "agentless"}, `--flow: flow "ghost" has no published version: publish it first`},
		{[]string{"campaigns", "create", "c2", "--flow", "outbound", "--mode", "agentless", "--window", "25:00-21:00"}, "--window: window.start"},
		{[]string{"campaigns", "create", "c2", "--flow", "outbound", "--mode", "agentless", "--window", "9"}, `--window "9": write START-END`},
		{[]string{"campaigns", "create", "c2", "--flow", "outbound", "--mode", "agentless", "--days", "mon-moon"}, `--days "mon-moon": "moon" is not a day`},
		{[]string{"campaigns", "create", "c2", "--flow", "outbound", "--mode", "agentless", "--retry", "busy"}, `--retry "busy": write OUTCOME=DELAY*MAX`},
		{[]string{"campaigns", "create", "c2", "--flow", "outbound", "--mode", "robocall"}, "--mode \"robocall\": "},
		{[]string{"campaigns", "create", "spring", "--flow", "outbound", "--mode", "agentless"}, "campaign already exists"},
		{[]string{"campaigns", "create", "--flow", "outbound"}, "give the campaign's ID"},
		{[]string{"campaigns", "import", "nope", csv}, `no campaign "nope": ` + "`voxflow campaigns list`"},
		{[]string{"campaigns", "contacts", "spring", "--state", "bogus"}, `--state "bogus": want one of pending, dialing, done, skipped`},
		{[]string{"campaigns", "pause", "spring"}, "campaign spring is draft: pause works on a campaign that is running"},
		{[]string{"campaigns", "stop", "spring", "--temporal", unreachable}, "connect to Temporal at " + unreachable},
	} {
		if out, errs, code := run(tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	mustRun("rows 4: 1 accepted, 2 duplicates, 1 rejected", "campaigns", "import", "spring",
		writeFile(t, dir, "more.csv", "phone,name\n415-555-0100,Ann\n555-01,Bob\n+1 212 555 0101,Cy\n+14155550102,Di\n"))
	out = mustRun("spring  spring  progressive  draft  outbound  0% (0/3)", "campaigns", "list")
	if !strings.Contains(out, "ABANDON 30D") {
		t.Errorf("list:\n%s", out)
	}
	out = mustRun("campaign spring (draft)", "campaigns", "show", "spring")
	for _, want := range []string{"window:           09:00-20:00 mon,tue,wed,thu,fri", "retry:            busy=5m0s*2",
		"min spacing:      15m0s", "abandon cap:      3%"} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	out = mustRun("+14155550100", "campaigns", "contacts", "spring", "--limit", "2")
	if !strings.Contains(out, "more with --after") || strings.Contains(out, "+14155550102") {
		t.Errorf("contacts page:\n%s", out)
	}
	mustRun("no contacts", "campaigns", "contacts", "spring", "--state", "skipped")
	out = mustRun("contacts: 3: 3 pending, 0 dialing, 0 done, 0 skipped; 0% (0/3) finished", "campaigns", "stats", "spring", "--temporal", unreachable)
	if !strings.Contains(out, "abandon rate           0%           0% (cap 3%)") {
		t.Errorf("stats:\n%s", out)
	}
	out = mustRun(`"campaign":{"id":"spring"`, "campaigns", "stats", "spring", "--json", "--temporal", unreachable)
	var st designerapi.CampaignStats
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.Contacts["pending"] != 3 {
		t.Errorf("stats --json: %v %+v", err, st)
	}
}

// A campaign file is read strictly: an unknown key is an error at its
// line and column; its contacts path is relative to it.
func TestCampaignCreateFromFile(t *testing.T) {
	dsn, _ := dialerStore(t)
	dir := t.TempDir()
	writeFile(t, dir, "list.csv", "phone\n+14155550100\n")
	good := writeFile(t, dir, "good.yaml", `id: autumn
flow: outbound
mode: agentless
concurrency: 2
window:
  start: "10:00"
  end: "18:00"
  days: [sat, sun]
retry:
  - outcome: no_answer
    delay: 2h
    max: 1
contacts: list.csv
`)
	out, errs, code := runDialerCLI(t, "campaigns", "create", "--file", good, "--store", dsn)
	if code != 0 || !strings.Contains(out, "campaign autumn created (draft): agentless, flow outbound, window 10:00-18:00 sat,sun") ||
		!strings.Contains(out, "rows 1: 1 accepted") {
		t.Fatalf("good file: %d %s %s", code, out, errs)
	}
	for _, tc := range []struct {
		name, yaml string
		args       []string
		want       string
	}{
		{"unknown key", "id: x\nflow: outbound\nmoed: agentless\n", nil, "bad.yaml:3:1: unknown field \"moed\""},
		{"wrong type", "id: x\nflow: outbound\nmode: agentless\nmax_attempts: many\n", nil, "bad.yaml:4:"},
		{"invalid", "id: x\nflow: outbound\nmode: agentless\nmachine: message\n", nil, "campaign not created:\n  machine_text"},
		{"flags too", "id: x\n", []string{"--flow", "outbound"}, "--flow: give the settings in --file or as flags, not both"},
		{"two ids", "id: x\n", []string{"y"}, `the ID "y" differs from the file's id "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := writeFile(t, dir, "bad.yaml", tc.yaml)
			args := append([]string{"campaigns", "create", "--file", bad, "--store", dsn}, tc.args...)
			if out, errs, code := runDialerCLI(t, args...); code != 1 || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errs, tc.want)
			}
		})
	}
}

func TestDNCCommands(t *testing.T) {
	dsn, _ := dialerStore(t)
	dir := t.TempDir()
	run := func(args ...string) (string, string, int) {
		return runDialerCLI(t, append(args, "--store", dsn)...)
	}
	mustRun := func(want string, args ...string) string {
		t.Helper()
		out, errs, code := run(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("%s: exit %d, stderr %q, stdout:\n%s\nwant %q", strings.Join(args, " "), code, errs, out, want)
		}
		return out
	}
	mustRun("2 added to the global do-not-call list (0 already on it)", "dnc", "add", "415-555-0100", "+442079460958", "--reason", "asked")
	mustRun("0 added to the global do-not-call list (1 already on it)", "dnc", "add", "+14155550100")
	mustRun("+14155550100 is on the global do-not-call list since ", "dnc", "check", "(415) 555-0100")
	mustRun("+14155550199 is not on the global do-not-call list\n", "dnc", "check", "+14155550199")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"dnc", "add", "+14155550101", "12"}, "nothing added:\n  number \"12\": invalid number"},
		{[]string{"dnc", "add", "+14155550101", "--campaign", "ghost"}, `--campaign "ghost": no such campaign`},
		{[]string{"dnc", "remove", "+14155550199"}, "+14155550199 is not on the global do-not-call list"},
		{[]string{"dnc", "list", "--limit", "0"}, "--limit 0: want 1 to 1000"},
	} {
		if out, errs, code := run(tc.args...); code != 1 || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want %q", strings.Join(tc.args, " "), code, out, errs, tc.want)
		}
	}
	out := mustRun("rows 3: 1 accepted, 1 duplicates, 1 rejected", "dnc", "import",
		writeFile(t, dir, "dnc.csv", "number,reason\n+14155550100,again\n020 7946 0958,x\n+14155550102,complaint\n"))
	if !strings.Contains(out, `row 3, column "number": "020 7946 0958"`) {
		t.Errorf("import:\n%s", out)
	}
	out = mustRun("NUMBER", "dnc", "list")
	if !regexp.MustCompile(`(?m)^\+14155550102 +- +complaint +20`).MatchString(out) || strings.Count(out, "\n") != 4 {
		t.Errorf("list:\n%s", out)
	}
	mustRun("+442079460958 removed from the global do-not-call list", "dnc", "remove", "020 7946 0958", "--region", "GB")
}

// --watch prints until the context ends.
func TestCampaignStatsWatch(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := watchStats(ctx, &bytes.Buffer{}, true, time.Millisecond, func() error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("%d prints, %v", n, err)
	}
	n = 0
	if err := watchStats(context.Background(), &bytes.Buffer{}, false, time.Millisecond, func() error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("without --watch: %d prints, %v", n, err)
	}
}

// start runs the campaign's workflow on Temporal; stop signals it.
func TestCampaignControlWithTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal test server")
	}
	ts, c := devtemporaltest.NewServer(t)
	dsn, _ := dialerStore(t)
	tf := []string{"--temporal", ts.GetFrontendHostPort(), "--namespace", ts.GetDefaultNamespace(), "--store", dsn}
	if out, errs, code := runDialerCLI(t, "campaigns", "create", "spring", "--flow", "outbound", "--mode", "agentless", "--store", dsn); code != 0 {
		t.Fatalf("create: %s %s", out, errs)
	}
	if out, errs, code := runDialerCLI(t, append([]string{"campaigns", "start", "spring"}, tf...)...); code != 0 || out != "campaign spring: running\n" {
		t.Fatalf("start: %d %q %q", code, out, errs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.DescribeWorkflowExecution(ctx, activities.CampaignWorkflowID("spring"), ""); err != nil {
		t.Fatalf("campaign workflow: %v", err)
	}
	out, errs, code := runDialerCLI(t, append([]string{"campaigns", "stop", "spring"}, tf...)...)
	if code != 0 || out != "campaign spring: stop sent; it is running until its workflow takes it\n" {
		t.Fatalf("stop: %d %q %q", code, out, errs)
	}
}

func FuzzCampaignDays(f *testing.F) {
	for _, s := range []string{"mon-fri", "sat,sun", "fri-mon", "MON", "", "-", "mon-", ",,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		ds, err := parseDays(v)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, d := range ds {
			if seen[d] || !strings.Contains("mon tue wed thu fri sat sun", d) || len(d) != 3 {
				t.Fatalf("%q: %v", v, ds)
			}
			seen[d] = true
		}
	})
}

func FuzzCampaignRetry(f *testing.F) {
	for _, s := range []string{"busy=10m*3", "no_answer=1h*0", "=1m*1", "x=*", "a=1m*-1", "a=1m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		r, err := parseRetry(v)
		if err != nil {
			return
		}
		if d, perr := time.ParseDuration(r.Delay); perr != nil || d < 0 || r.Max < 0 || r.Outcome == "" {
			t.Fatalf("%q: %+v", v, r)
		}
	})
}

// FuzzCampaignYAML: a campaign file never panics the decoder.
func FuzzCampaignYAML(f *testing.F) {
	for _, s := range []string{"id: x\nflow: f\n", "window: {start: a}\n", "retry: [{outcome: busy, delay: 1m, max: 2}]\n", "- a\n", "x: [\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		var cf campaignFile
		_ = decodeCampaignYAML([]byte(src), &cf)
	})
}

// The example campaigns read, take their defaults and validate, and their
// contact lists import without a rejected row.
func TestExampleCampaignsValidate(t *testing.T) {
	files, err := filepath.Glob("../../examples-flows/campaigns/*.yaml")
	if err != nil || len(files) < 2 {
		t.Fatalf("example campaigns: %v %v", files, err)
	}
	for _, file := range files {
		f, err := readCampaignFile(file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		c, err := designerapi.CampaignFrom(f.ID, f.CampaignSettings)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		csv, err := os.Open(filepath.Join(filepath.Dir(file), f.Contacts))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := dialer.ReadContacts(csv, dialer.ImportOptions{Campaign: c.ID, Region: c.Region, Required: c.Required},
			func(records.Contact) error { return nil })
		csv.Close()
		if err != nil || rep.Rejected != 0 || rep.Accepted == 0 {
			t.Errorf("%s: contacts %+v %v", file, rep, err)
		}
	}
}
