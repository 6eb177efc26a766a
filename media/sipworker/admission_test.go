package sipworker

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/media/sipguard"
	"github.com/voxflow/voxflow/media/sipworker/sipptest"
)

// Over --max-calls a new INVITE gets 503 with Retry-After at once while
// probes are still answered, and every way a call ends gives its place
// back: the admitted count returns to 0.
func TestAdmissionConcurrencyAndRelease(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {
		_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 5 * time.Second})
		_, _ = w.Collect(ctx, activities.CollectInput{CallID: call.CallID, MaxDigits: 1, Timeout: 5 * time.Second})
		_ = w.Hangup(ctx, activities.HangupInput{CallID: call.CallID})
	}, func(c *Config) { c.Admission = sipguard.Limits{MaxCalls: 1} })

	wait := sipptest.Start(t, sipptest.Call{Scenario: sipptest.Scenario(t, "uac_dtmf_2833.xml"), Target: r.addr, Service: "1000", Timeout: 20 * time.Second})
	deadline := time.Now().Add(10 * time.Second)
	for r.w.LiveCalls() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	res := rawResponse(t, r.addr, rawInviteText(r.addr))
	if code, retry := statusAndRetry(res); code != 503 || retry != "10" {
		t.Fatalf("INVITE over --max-calls: %d Retry-After %q, want 503 and 10\n%s", code, retry, res)
	}
	if code := rawRequest(t, r.addr, optionsRequest(r.addr)); code != 200 {
		t.Fatalf("OPTIONS while full = %d, want 200", code)
	}
	mustPass(t, wait())
	if got := testutil.ToFloat64(r.w.metrics.rejected.WithLabelValues(sipguard.ReasonConcurrency)); got != 1 {
		t.Fatalf("rejected{concurrency} = %v, want 1", got)
	}

	// Answered and hung up, cancelled while ringing, refused after
	// admission (404), refused before it (488): none keeps a place.
	for _, tc := range []struct{ scenario, service string }{
		{"uac_dtmf_2833.xml", "1000"}, {"uac_cancel.xml", "5000"}, {"uac_unbound_number.xml", "4040"},
		{"uac_bad_sdp.xml", "1000"}, {"uac_dtmf_2833.xml", "1000"}, {"uac_cancel.xml", "5000"},
	} {
		mustPass(t, r.sipp(tc.scenario, tc.service))
		r.waitIdle()
		waitAdmitted(t, r.w)
	}
}

// Over --max-call-rate a new INVITE gets 503 with a short Retry-After and
// takes no workflow start.
func TestAdmissionRate(t *testing.T) {
	r := newRig(t, func(ctx context.Context, w *Worker, call activities.CallStart) {},
		func(c *Config) { c.Admission = sipguard.Limits{MaxCallRate: 0.001} }) // one call, then none for 1000 s
	mustPass(t, r.sipp("uac_unbound_number.xml", "4040"))
	res := rawResponse(t, r.addr, rawInviteText(r.addr))
	if code, retry := statusAndRetry(res); code != 503 || retry != "5" {
		t.Fatalf("INVITE over --max-call-rate: %d Retry-After %q, want 503 and 5\n%s", code, retry, res)
	}
	if strings.Contains(res, "SIP/2.0 100") {
		t.Fatalf("refused INVITE got 100 Trying first:\n%s", res)
	}
	if got := testutil.ToFloat64(r.w.metrics.rejected.WithLabelValues(sipguard.ReasonRate)); got != 1 {
		t.Fatalf("rejected{rate} = %v, want 1", got)
	}
	r.waitIdle()
	waitAdmitted(t, r.w)
	if len(r.started) != 0 {
		t.Fatalf("refused INVITEs started calls: %v", r.started)
	}
}

func waitAdmitted(t *testing.T, w *Worker) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for w.AdmittedCalls() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("admitted calls %d after every call ended, want 0", w.AdmittedCalls())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func rawInviteText(addr string) string {
	id := strconv.FormatInt(time.Now().UnixNano(), 36)
	return strings.Join([]string{
		"INVITE sip:1000@" + addr + " SIP/2.0",
		"Via: SIP/2.0/UDP 127.0.0.1:%PORT%;branch=z9hG4bK-" + id,
		"From: <sip:raw@127.0.0.1>;tag=raw1",
		"To: <sip:1000@" + addr + ">",
		"Call-ID: adm-" + id,
		"CSeq: 1 INVITE",
		"Contact: <sip:raw@127.0.0.1:%PORT%>",
		"Max-Forwards: 70",
		"Content-Length: 0",
	}, "\r\n") + "\r\n\r\n"
}

// rawResponse sends msg over UDP and returns every response up to the
// first final one ("" when none came).
func rawResponse(t *testing.T, addr, msg string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msg = strings.ReplaceAll(msg, "%PORT%", strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port))
	dst, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo([]byte(msg), dst); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	buf := make([]byte, 65535)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return all.String()
		}
		all.Write(buf[:n])
		if code, _ := statusAndRetry(string(buf[:n])); code >= 200 {
			return all.String()
		}
	}
}

// statusAndRetry are a response's status code and Retry-After value.
func statusAndRetry(res string) (int, string) {
	i := strings.LastIndex(res, "SIP/2.0 ")
	if i < 0 {
		return 0, ""
	}
	res = res[i:]
	code, _ := strconv.Atoi(strings.Fields(res)[1])
	for _, l := range strings.Split(res, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Retry-After") {
			return code, strings.TrimSpace(v)
		}
	}
	return code, ""
}
