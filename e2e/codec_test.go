package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/ops"
	"github.com/voxflow/voxflow/platform/codec"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

// The markers a call carries: the caller's number and a variable.
const (
	codecCaller = "+15550001234"
	codecVar    = "MARKER-vip-7f3a9c"
)

// TestPayloadsEncryptedOnDev runs a call on `voxflow dev` (which encrypts
// with the key file it makes in its data dir) whose caller number and a
// variable are markers: the raw history, read by a client without the key,
// holds neither, and its payloads say encrypted; with the key, ops.Show,
// `voxflow calls show`, the API's call detail and replays read the call.
func TestPayloadsEncryptedOnDev(t *testing.T) {
	dataDir := t.TempDir()
	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	temporal := fmt.Sprintf("127.0.0.1:%d", tport)
	ctx := context.Background()
	dev, err := devstack.StartDev(ctx, devConfig(dataDir, tport, httpAddr, config.SIPOff), devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Stop()
	keyFile := filepath.Join(dataDir, codec.DevKeyFileName)
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 || dev.PayloadKeys.KeyFile != keyFile {
		t.Fatalf("dev's key file %s: %v %v (dev uses %q)", keyFile, fi, err, dev.PayloadKeys.KeyFile)
	}
	// As after `voxflow dev` in the same directory: the CLI finds its key.
	t.Setenv("VOXFLOW_DATA_DIR", dataDir)
	code, out, errs := voxflow(t, "", "flows", "simulate", "../examples-flows/bank-ivr.yaml", "--temporal", temporal,
		"--var", "crm_url="+dev.DemoCRMURL, "--var", "note="+codecVar, "--from", codecCaller,
		"--input", "1234#", "--input", "9", "--json")
	if code != 0 {
		t.Fatalf("simulate on dev: %d\n%s%s", code, out, errs)
	}
	var res simJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Outcome != "completed" {
		t.Fatalf("simulate on dev: %v %+v", err, res)
	}

	raw, err := client.Dial(client.Options{HostPort: temporal, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	h, err := ops.History(ctx, raw, res.CallID, "")
	if err != nil {
		t.Fatal(err)
	}
	assertNoMarkers(t, h)
	assertInputEncrypted(t, h)

	st, err := ops.Show(ctx, dev.Client, res.CallID)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(st); !strings.Contains(string(b), codecVar) {
		t.Errorf("ops.Show with the key lacks the variable: %s", b)
	}
	code, out, errs = voxflow(t, "", "calls", "show", res.CallID, "--temporal", temporal)
	if code != 0 || !strings.Contains(out, "ended: completed") {
		t.Errorf("calls show with dev's key: %d\n%s%s", code, out, errs)
	}
	if err := ops.Replay(h, dev.DataConverter); err != nil {
		t.Errorf("replay with the key: %v", err)
	}
	code, out, errs = voxflow(t, "", "calls", "replay", res.CallID, "--temporal", temporal)
	if code != 0 || !strings.Contains(out, "deterministic") {
		t.Errorf("calls replay with dev's key: %d\n%s%s", code, out, errs)
	}
	keyless, err := codec.Converter(config.Codec{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.Replay(h, keyless); err == nil {
		t.Error("replay without the key succeeded: the history is not encrypted")
	}
	// From another directory the CLI has no key: a clear error.
	t.Setenv("VOXFLOW_DATA_DIR", t.TempDir())
	code, out, errs = voxflow(t, "", "calls", "show", res.CallID, "--temporal", temporal)
	if code == 0 || !strings.Contains(errs, "no payload keys") {
		t.Errorf("calls show without the key: %d\n%s%s", code, out, errs)
	}
	assertAPIDecodes(t, dev, httpAddr, res.CallID)
}

// assertNoMarkers fails if a marker appears in the serialized history, in
// its wire form or as JSON.
func assertNoMarkers(t *testing.T, h *historypb.History) {
	t.Helper()
	wire, err := proto.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{codecCaller, codecVar} {
		if strings.Contains(string(wire), m) || strings.Contains(string(js), m) {
			t.Errorf("the raw history holds %q in clear", m)
			for _, e := range h.Events {
				if b, _ := protojson.Marshal(e); strings.Contains(string(b), m) {
					t.Logf("event: %s", b)
				}
			}
		}
	}
}

// assertInputEncrypted checks the call's input payload is encrypted.
func assertInputEncrypted(t *testing.T, h *historypb.History) {
	t.Helper()
	in := h.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(in) == 0 {
		t.Fatal("no input in the history's first event")
	}
	for _, p := range in {
		if enc := string(p.GetMetadata()[converter.MetadataEncoding]); enc != codec.EncodingEncrypted {
			t.Errorf("input payload encoding %q, want %q", enc, codec.EncodingEncrypted)
		}
		if id := string(p.GetMetadata()[codec.MetadataKeyID]); !strings.HasPrefix(id, "k") {
			t.Errorf("input payload key ID %q, want dev's k<date>", id)
		}
	}
	var p *commonpb.Payload = in[0]
	var v any
	if err := converter.GetDefaultDataConverter().FromPayload(p, &v); err == nil {
		t.Errorf("the default converter read the encrypted input: %v", v)
	}
}

// assertAPIDecodes asks the API (dev's, on the same client) for the call
// and a replay check, as an operator.
func assertAPIDecodes(t *testing.T, dev *devstack.Dev, httpAddr, callID string) {
	t.Helper()
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := auth.CreateKey(context.Background(), "codec", designerapi.RoleOperator, "e2e")
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string) string {
		req, _ := http.NewRequest(method, "http://"+httpAddr+"/api/v1/calls/"+callID+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s %s", method, path, resp.Status, b)
		}
		return string(b)
	}
	if detail := call(http.MethodGet, ""); !strings.Contains(detail, `"origin":"live"`) || !strings.Contains(detail, codecVar) {
		t.Errorf("API call detail (want it live from Temporal, with the variable): %s", detail)
	}
	if replay := call(http.MethodPost, "/replay"); !strings.Contains(replay, `"deterministic":true`) {
		t.Errorf("API replay check: %s", replay)
	}
}
