package e2e

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/platform/telemetry"
	"github.com/voxflow/voxflow/store"
)

// A caller who talks (SIPp's g711a.pcap) through a flow that plays,
// waits and hangs up.
const observedFlow = `name: quality-check
entry: hello
nodes:
  hello:
    type: play
    say: "Hello."
    next: pause
  pause:
    type: wait
    duration: 2s
    next: bye
  bye:
    type: hangup
`

// One phone call through voxflow dev, with traces on: /metrics counts it
// (started, ended, the SIP answer, its media quality, the SDK's completed
// CallWorkflow), its quality is kept as a call event, and one trace runs
// from the media worker's workflow start through the workflow to the media
// activities on the worker.
func TestObservabilityOfACall(t *testing.T) {
	ctx := context.Background()
	rec := tracetest.NewSpanRecorder()
	stop, err := telemetry.InstallTracer(ctx, rec, 1, "voxflow-dev")
	if err != nil {
		t.Fatal(err)
	}
	defer stop(ctx)
	cfg := config.Defaults()
	cfg.Dev.DataDir = t.TempDir()
	cfg.Dev.HTTPAddr, _ = freeAddr(t)
	_, cfg.Dev.TemporalPort = freeAddr(t)
	cfg.Media.SIPAddr = fmt.Sprintf("127.0.0.1:%d", sipptest.FreePort(t))
	dev, err := devstack.StartDev(ctx, cfg, devstack.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Stop()
	if _, err := dev.Store.PublishSource(ctx, "quality-check", observedFlow, "test", ""); err != nil {
		t.Fatal(err)
	}
	if err := dev.Store.BindNumber(ctx, "7777", "quality-check"); err != nil {
		t.Fatal(err)
	}
	res := sipptest.Run(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_record.xml"), Target: cfg.Media.SIPAddr, Service: "7777", Timeout: 30 * time.Second})
	if res.Err != nil {
		t.Fatalf("SIPp: %v\n%s", res.Err, res.Output)
	}
	var cdr records.CDR
	waitFor(t, "the call's record", func() bool {
		recs, _, err := dev.Store.SearchCDRs(ctx, store.CDRQuery{Flow: "quality-check"})
		if err == nil && len(recs) == 1 {
			cdr = recs[0]
		}
		return cdr.CallID != ""
	})
	checkCallMetrics(t, cfg.Dev.HTTPAddr)
	waitFor(t, "the call's media quality event", func() bool {
		evs, err := dev.Store.CallEvents(ctx, cdr.CallID)
		return err == nil && len(evs) == 1 && evs[0].Action == sipmedia.ActionMediaQuality && strings.Contains(evs[0].Detail, "PCMA received: MOS 4.")
	})
	checkCallTrace(t, rec)
}

func checkCallMetrics(t *testing.T, httpAddr string) {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`voxflow_calls_started_total{channel="sip",`,
		`voxflow_calls_ended_total{channel="sip",namespace="default",outcome="completed",`,
		`voxflow_call_duration_seconds_count{channel="sip"`,
		`voxflow_sip_invites_total{code="200",direction="inbound",worker="dev"} 1`,
		`voxflow_sip_calls_ended_total{cause="hangup",worker="dev"} 1`,
		`voxflow_media_mos_count{codec="PCMA",stream="received",worker="dev"} 1`,
		`voxflow_media_loss_ratio_bucket{codec="PCMA",stream="received",worker="dev",le="0"} 1`,
		`temporal_workflow_completed_total{activity_type="none",client_name="temporal_go",namespace="default",task_queue="voxflow-engine",worker_type="none",workflow_type="CallWorkflow"} 1`,
		`voxflow_sip_live_calls{worker="dev"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(string(body), "voxflow_", "temporal_workflow_completed"))
	}
}

// checkCallTrace: the call's spans are one chain, media worker to engine
// and back: StartWorkflow (the worker starts the call), RunWorkflow (the
// engine), StartActivity and RunActivity of its media activities.
func checkCallTrace(t *testing.T, rec *tracetest.SpanRecorder) {
	t.Helper()
	byName := map[string]sdktrace.ReadOnlySpan{}
	waitFor(t, "the call's spans", func() bool {
		for _, s := range rec.Ended() {
			byName[s.Name()] = s
		}
		return byName["RunActivity:media.Hangup"] != nil && byName["RunActivity:media.Play"] != nil
	})
	chain := []string{"StartWorkflow:CallWorkflow", "RunWorkflow:CallWorkflow", "StartActivity:media.Play", "RunActivity:media.Play"}
	for i := 1; i < len(chain); i++ {
		child, parent := byName[chain[i]], byName[chain[i-1]]
		if child == nil || parent == nil {
			t.Fatalf("no span %s or %s", chain[i], chain[i-1])
		}
		if child.Parent().SpanID() != parent.SpanContext().SpanID() || child.SpanContext().TraceID() != parent.SpanContext().TraceID() {
			t.Errorf("%s is not a child of %s", chain[i], chain[i-1])
		}
	}
	if h := byName["RunActivity:media.Hangup"]; h.SpanContext().TraceID() != byName[chain[0]].SpanContext().TraceID() {
		t.Error("the hang-up is in another trace")
	}
}

func grepLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
