package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	designerapi "github.com/voxflow/voxflow/designer-api"
	examples "github.com/voxflow/voxflow/examples-flows"
	"github.com/voxflow/voxflow/internal/cli"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/store"
)

// voxflow runs the CLI in-process, as a user would from a shell.
func voxflow(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code = cli.Main(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIValidate(t *testing.T) {
	code, out, errs := voxflow(t, "", "flows", "validate",
		"../examples-flows/support-line.yaml", "../examples-flows/bank-ivr.yaml")
	if code != 0 || strings.Count(out, ": ok") != 2 {
		t.Fatalf("validate examples: code %d\n%s%s", code, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: bad\nentry: start\nnodes:\n  start:\n    type: play\n    say: \"hi {{ vars.x + }}\"\n    next: nowhere\n"), 0o644)
	code, _, errs = voxflow(t, "", "flows", "validate", bad)
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	for _, want := range []string{bad + ":6:", bad + ":7:", "nowhere"} {
		if !strings.Contains(errs, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, errs)
		}
	}
	code, out, _ = voxflow(t, "", "flows", "schema")
	var schema map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &schema) != nil || schema["$schema"] == nil {
		t.Errorf("schema: code %d, %.200s", code, out)
	}
	code, out, _ = voxflow(t, "", "flows", "graph", "../examples-flows/bank-ivr.yaml")
	if code != 0 || !strings.Contains(out, `"verify" -> "verified_check" [label="next"]`) {
		t.Errorf("graph: code %d\n%s", code, out)
	}
}

type simJSON struct {
	CallID  string         `json:"call_id"`
	Path    []string       `json:"path"`
	Prompts []string       `json:"prompts"`
	Vars    map[string]any `json:"vars"`
	Outcome string         `json:"outcome"`
}

// The simulator with no platform running embeds its own Temporal server
// and demo CRM; scripted and interactive input give the same call.
func TestCLISimulateEmbedded(t *testing.T) {
	const wantPath = "identify>verify>ask_pin>check_pin>count>result>done>verified_check>balance_lookup>read_balance>options>goodbye"
	code, out, errs := voxflow(t, "", "flows", "simulate", "../examples-flows/bank-ivr.yaml",
		"--from", "+15550100", "--input", "1234#", "--input", "9", "--json")
	if code != 0 {
		t.Fatalf("simulate: code %d\n%s%s", code, out, errs)
	}
	var res simJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if strings.Join(res.Path, ">") != wantPath || res.Outcome != "completed" || res.Vars["balance"] != 1234.56 {
		t.Errorf("simulate --json = %+v", res)
	}

	// The appointment reminder is an outbound call: the flow places it first.
	code, out, errs = voxflow(t, "", "flows", "simulate", "../examples-flows/appointment-reminder.yaml",
		"--outbound", "--to", "+15550100", "--input", "1", "--json")
	var outRes simJSON
	if code != 0 || json.Unmarshal([]byte(out), &outRes) != nil {
		t.Fatalf("outbound simulate: code %d\n%s%s", code, out, errs)
	}
	if strings.Join(outRes.Path, ">") != "load>remind>confirm>confirmed" || outRes.Vars["status"] != "confirmed" {
		t.Errorf("outbound simulate = %+v", outRes)
	}

	code, out, errs = voxflow(t, "1234#\n9\n", "flows", "simulate", "../examples-flows/bank-ivr.yaml", "--from", "+15550100")
	if code != 0 {
		t.Fatalf("interactive simulate: code %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{
		"[ask_pin] voxflow: Please enter your four digit PIN followed by the hash key.",
		"[read_balance] voxflow: Thank you Ada Lovelace. Your balance is 1234.56 dollars.",
		"path: " + strings.ReplaceAll(wantPath, ">", " > "),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q:\n%s", want, out)
		}
	}
}

// devConfig is voxflow dev's configuration with the test's own data
// directory and addresses.
func devConfig(dataDir string, temporalPort int, httpAddr, sipAddr string) config.Config {
	cfg := config.Defaults()
	cfg.Dev.DataDir, cfg.Dev.TemporalPort, cfg.Dev.HTTPAddr, cfg.Media.SIPAddr = dataDir, temporalPort, httpAddr, sipAddr
	return cfg
}

func freeAddr(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
}

// voxflow dev: the whole platform in one process, used by the other
// commands, and everything is still there after a restart.
func TestDevPlatformEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	t.Setenv("VOXFLOW_DATA_DIR", dataDir) // the CLI finds dev's payload key there
	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	temporal := fmt.Sprintf("127.0.0.1:%d", tport)
	sipAddr := fmt.Sprintf("127.0.0.1:%d", sipptest.FreePort(t))
	cfg := devConfig(dataDir, tport, httpAddr, sipAddr)
	ctx := context.Background()
	dev, err := devstack.StartDev(ctx, cfg, devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			dev.Stop()
		}
	}()

	for _, path := range []string{"/healthz", "/metrics", "/demo/crm/customers?phone=%2B15550100"} {
		resp, err := http.Get("http://" + httpAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
		}
	}
	flows, err := dev.Store.ListFlows(ctx)
	files, ferr := examples.Files()
	if ferr != nil || err != nil || len(flows) != len(files) || len(files) < 5 {
		t.Fatalf("published examples: %v %v (want the %d example files)", flows, err, len(files))
	}
	if f, err := dev.Store.FlowForNumber(ctx, "2000"); err != nil || f != "bank-ivr" {
		t.Errorf("number 2000 -> %q %v", f, err)
	}

	// A second platform on the same ports fails with errors naming the flag.
	if _, err := devstack.StartDev(ctx, devConfig(t.TempDir(), tport, httpAddr, "off"), devstack.Options{}); err == nil || !strings.Contains(err.Error(), "--http") {
		t.Errorf("taken HTTP port: %v", err)
	}
	_, free := freeAddr(t)
	if _, err := devstack.StartDev(ctx, devConfig(t.TempDir(), tport, fmt.Sprintf("127.0.0.1:%d", free), "off"), devstack.Options{}); err == nil || !strings.Contains(err.Error(), "--temporal-port") {
		t.Errorf("taken Temporal port: %v", err)
	}

	// A call simulated on the platform, then found, shown and replayed.
	code, out, errs := voxflow(t, "", "flows", "simulate", "../examples-flows/bank-ivr.yaml", "--temporal", temporal,
		"--var", "crm_url="+dev.DemoCRMURL, "--from", "+15550100", "--input", "1234#", "--input", "9", "--json")
	if code != 0 {
		t.Fatalf("simulate on dev: %d\n%s%s", code, out, errs)
	}
	var res simJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Outcome != "completed" {
		t.Fatalf("simulate on dev: %v %+v", err, res)
	}
	waitFor(t, "call listed", func() bool {
		_, out, _ := voxflow(t, "", "calls", "list", "--temporal", temporal, "--flow", "bank-ivr")
		return strings.Contains(out, res.CallID)
	})
	code, out, errs = voxflow(t, "", "calls", "show", res.CallID, "--temporal", temporal)
	if code != 0 || !strings.Contains(out, "ended: completed") || !strings.Contains(out, "verify-pin/ask_pin") || !strings.Contains(out, "****") {
		t.Errorf("calls show: %d\n%s%s", code, out, errs)
	}
	code, out, errs = voxflow(t, "", "calls", "replay", res.CallID, "--temporal", temporal)
	if code != 0 || !strings.Contains(out, "deterministic") {
		t.Errorf("calls replay: %d\n%s%s", code, out, errs)
	}
	code, out, _ = voxflow(t, "", "calls", "stuck", "--temporal", temporal)
	if code != 0 || strings.Contains(out, res.CallID) {
		t.Errorf("calls stuck lists a finished call: %d\n%s", code, out)
	}
	// A phone call: SIPp dials the support line's number on the dev stack.
	sres := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_support_line.xml"), Target: sipAddr, Service: "1000", Timeout: 40 * time.Second})
	if sres.Err != nil {
		t.Fatalf("SIPp call to voxflow dev: %v\n%s", sres.Err, sres.Output)
	}
	waitFor(t, "the SIP call's record", func() bool {
		recs, _, err := dev.Store.SearchCDRs(ctx, store.CDRQuery{Flow: "support-line"})
		return err == nil && len(recs) == 1 && recs[0].Channel == "sip" && strings.HasPrefix(pathOf(recs[0]), "welcome>office_hours>")
	})

	rec, err := dev.Store.CDR(ctx, res.CallID)
	if err != nil || rec.Flow != "bank-ivr" {
		t.Fatalf("CDR in the dev store: %+v %v", rec, err)
	}

	// Flows as code: push a directory (drafts, then publish), pull it back
	// byte for byte, and a second push changes nothing.
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.CreateKey(ctx, "ci", designerapi.RolePublisher, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	api := "http://" + httpAddr
	src := t.TempDir()
	const pushed = "# kept as written\nname: pushed-flow\nentry: hello\nnodes:\n  hello:\n    type: hangup\n    say: \"Hello from git\"\n"
	os.WriteFile(filepath.Join(src, "pushed-flow.yaml"), []byte(pushed), 0o644)
	code, out, errs = voxflow(t, "", "flows", "push", src, "--publish", "--api", api, "--key", key)
	if code != 0 {
		t.Fatalf("flows push: %d\n%s%s", code, out, errs)
	}
	if v, err := dev.Store.Published(ctx, "pushed-flow"); err != nil || v.Source != pushed {
		t.Errorf("pushed flow published as %+v (%v)", v, err)
	}
	code, out, errs = voxflow(t, "", "flows", "push", src, "--publish", "--api", api, "--key", key)
	if v, _ := dev.Store.Published(ctx, "pushed-flow"); code != 0 || v.Version != 1 {
		t.Errorf("second push: code %d, version %d\n%s%s", code, v.Version, out, errs)
	}
	dst := t.TempDir()
	code, out, errs = voxflow(t, "", "flows", "pull", dst, "--api", api, "--key", key)
	got, _ := os.ReadFile(filepath.Join(dst, "pushed-flow.yaml"))
	if code != 0 || string(got) != pushed {
		t.Errorf("flows pull: %d %q\n%s%s", code, got, out, errs)
	}
	bad := filepath.Join(t.TempDir(), "broken.yaml")
	os.WriteFile(bad, []byte("name: broken\nentry: nowhere\nnodes: {}\n"), 0o644)
	if code, _, errs = voxflow(t, "", "flows", "push", filepath.Dir(bad), "--api", api, "--key", key); code == 0 || !strings.Contains(errs, "broken.yaml:") {
		t.Errorf("pushing an invalid flow: code %d\n%s", code, errs)
	}

	// Restart on the same data directory: flows, the call record and the
	// call's Temporal history survive.
	dev.Stop()
	stopped = true
	dev2, err := devstack.StartDev(ctx, cfg, devstack.Options{})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer dev2.Stop()
	if v, err := dev2.Store.Published(ctx, "support-line"); err != nil || v.Version != 1 {
		t.Errorf("after restart support-line is v%d (%v); republishing the same example must not add a version", v.Version, err)
	}
	if _, err := dev2.Store.CDR(ctx, res.CallID); err != nil {
		t.Errorf("call record lost in restart: %v", err)
	}
	code, out, errs = voxflow(t, "", "calls", "replay", res.CallID, "--temporal", temporal)
	if code != 0 {
		t.Errorf("history lost in restart: %d\n%s%s", code, out, errs)
	}
}
