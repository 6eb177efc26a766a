package e2e

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voxflow/voxflow/activities/records"
	"github.com/voxflow/voxflow/media/sipworker"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/sipmedia"
	"github.com/voxflow/voxflow/store"
)

// floodFlow is a short IVR: a greeting, then the flow hangs up.
const floodFlow = `name: flood-ivr
entry: welcome
nodes:
  welcome:
    type: play
    say: "Thank you for calling the flood line."
    next: bye
  bye:
    type: hangup
    say: "Goodbye."
`

// floodScenario accepts an answer or a 503 with Retry-After (bench/flood).
func floodScenario(t *testing.T) string {
	t.Helper()
	return sipptest.Scenario(t, "../flood/uac_flood.xml")
}

// newGuardedSIPStack is the e2e stack with a media worker limited to
// maxCalls live calls and rate new calls a second, serving flood-ivr on 8000.
func newGuardedSIPStack(t *testing.T, maxCalls int, rate float64) (*stack, *sipworker.Worker, string) {
	t.Helper()
	sipptest.Need(t)
	s := newStack(t)
	ctx := context.Background()
	if _, err := s.store.PublishSource(ctx, "flood-ivr", floodFlow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.store.BindNumber(ctx, "8000", "flood-ivr"); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(sipptest.FreePort(t))
	level := slog.LevelWarn
	if os.Getenv("SIPWORKER_DEBUG") != "" {
		level = slog.LevelDebug
	}
	cfg := config.Defaults().Media
	cfg.ID, cfg.SIPAddr, cfg.RecordDir, cfg.Registrar = "e2e-flood", addr, t.TempDir(), false
	cfg.Guard.MaxCalls, cfg.Guard.MaxCallRate = maxCalls, rate
	m, err := sipmedia.Start(ctx, cfg, sipmedia.Deps{
		Client: s.c, Store: s.store, Routes: &platform.StoreRoutes{Store: s.store}, OrphanCheck: time.Second, TTS: toneTTS{},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Stop(context.Background()) })
	return s, m.SIP, addr
}

// An INVITE flood 20 times the call rate: every INVITE gets a final
// answer, the excess 503 with Retry-After, the admitted calls complete
// with their CDR and media quality, and afterwards the worker still
// answers probes and takes a normal call.
func TestSIPFloodGets503AndAdmittedCallsComplete(t *testing.T) {
	const floods = 300 // 100/s for 3 s
	s, w, addr := newGuardedSIPStack(t, 10, 5)
	ctx := context.Background()

	wait := sipptest.Start(t, sipptest.Call{Scenario: floodScenario(t), Target: addr, Service: "8000", Timeout: 60 * time.Second,
		Args: []string{"-r", "100", "-m", strconv.Itoa(floods), "-l", strconv.Itoa(floods)}})
	time.Sleep(1500 * time.Millisecond) // mid-flood
	if res := sipOptions(t, addr); res.StatusCode != 200 {
		t.Errorf("OPTIONS during the flood: %s, want 200", sipptest.Describe(res))
	}
	if res := wait(); res.Err != nil { // a call fails on a timeout, or a 503 without Retry-After
		t.Fatalf("flood: some INVITE got no acceptable final answer: %v\n%s", res.Err, tail(res.Output, 4000))
	}
	waitFor(t, "every admitted call to end", func() bool { return w.AdmittedCalls() == 0 })

	codes := inviteCodes(t, w)
	admitted, refused := codes["200"], codes["503"]
	rejected := rejectedCalls(t, w)
	t.Logf("flood of %d INVITEs: %d admitted, %d refused with 503 (rate %d, concurrency %d), all answers %v",
		floods, admitted, refused, rejected["rate"], rejected["concurrency"], codes)
	if admitted+refused != floods || admitted == 0 || refused == 0 {
		t.Fatalf("answers %v: want 200s and 503s adding up to %d", codes, floods)
	}
	if rejected["rate"]+rejected["concurrency"] != refused {
		t.Errorf("rejected counter %v does not add up to the %d 503s", rejected, refused)
	}

	recs := waitCDRs(t, s.store, "flood-ivr", admitted)
	for _, rec := range recs {
		if rec.Outcome != records.OutcomeCompleted {
			t.Errorf("admitted call %s: outcome %s, want completed", rec.CallID, rec.Outcome)
		}
	}
	logMOS(ctx, t, s.store, recs)

	// After the flood: probes answered, a normal call admitted.
	if res := sipOptions(t, addr); res.StatusCode != 200 {
		t.Fatalf("OPTIONS after the flood: %s, want 200", sipptest.Describe(res))
	}
	time.Sleep(time.Second) // the rate bucket earns a token back
	if res := sipptest.Run(t, sipptest.Call{Scenario: floodScenario(t), Target: addr, Service: "8000", Timeout: 40 * time.Second}); res.Err != nil {
		t.Fatalf("call after the flood: %v\n%s", res.Err, tail(res.Output, 4000))
	}
	if got := inviteCodes(t, w)["200"]; got != admitted+1 {
		t.Fatalf("call after the flood was not answered: %d answered, want %d", got, admitted+1)
	}
	waitCDRs(t, s.store, "flood-ivr", admitted+1)
	waitFor(t, "the last call to end", func() bool { return w.AdmittedCalls() == 0 })
}

// waitCDRs waits for n CDRs of flow and returns them.
func waitCDRs(t *testing.T, st *store.Store, flow string, n int) []records.CDR {
	t.Helper()
	var recs []records.CDR
	waitUntil(t, strconv.Itoa(n)+" CDRs of "+flow, time.Minute, func() bool {
		got, _, err := st.SearchCDRs(context.Background(), store.CDRQuery{Flow: flow, Limit: 1000})
		recs = got
		return err == nil && len(got) >= n
	})
	if len(recs) != n {
		t.Fatalf("%d CDRs of %s, want %d", len(recs), flow, n)
	}
	return recs
}

var mosRE = regexp.MustCompile(`received: MOS ([0-9.]+)`)

// logMOS checks every call has its media quality event and logs the MOS
// figures of the calls' received audio.
func logMOS(ctx context.Context, t *testing.T, st *store.Store, recs []records.CDR) {
	t.Helper()
	var mos []float64
	for _, rec := range recs {
		var detail string
		waitUntil(t, "media quality of "+rec.CallID, 30*time.Second, func() bool {
			evs, err := st.CallEvents(ctx, rec.CallID)
			for _, ev := range evs {
				if ev.Action == sipmedia.ActionMediaQuality {
					detail = ev.Detail
				}
			}
			return err == nil && detail != ""
		})
		m := mosRE.FindStringSubmatch(detail)
		if m == nil {
			t.Errorf("call %s: media quality without a received MOS: %q", rec.CallID, detail)
			continue
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		mos = append(mos, v)
	}
	lo, hi, sum := 5.0, 0.0, 0.0
	for _, v := range mos {
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	if len(mos) > 0 {
		t.Logf("MOS of %d admitted calls (received audio): min %.2f mean %.2f max %.2f", len(mos), lo, sum/float64(len(mos)), hi)
	}
}

// inviteCodes are the worker's inbound INVITE answers by status code.
func inviteCodes(t *testing.T, w *sipworker.Worker) map[string]int {
	t.Helper()
	return counterByLabel(t, w, sipworker.MetricSIPInvites, "code", map[string]string{"direction": "inbound"})
}

// rejectedCalls are the worker's admission refusals by reason.
func rejectedCalls(t *testing.T, w *sipworker.Worker) map[string]int {
	t.Helper()
	return counterByLabel(t, w, sipworker.MetricSIPRejected, "reason", nil)
}

// counterByLabel sums a counter of the worker by one label, over the
// series matching want.
func counterByLabel(t *testing.T, w *sipworker.Worker, name, label string, want map[string]string) map[string]int {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(w.Collectors()...)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue series
				}
			}
			out[labels[label]] += int(m.GetCounter().GetValue())
		}
	}
	return out
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
