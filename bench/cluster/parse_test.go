package main

import (
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	// A command name with a space and a parenthesis, as kamailio's or a
	// PostgreSQL backend's can be; fields 14-17 are 250 150 30 20 ticks.
	line := "4242 (postgres: a (b)) S 100 4242 4242 0 -1 4194560 10 0 0 0 250 150 30 20 20 0 1 0 5 0 0"
	st, err := parseProcStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, ppid: 100, pgrp: 4242, cpu: 4 * time.Second, children: 500 * time.Millisecond}
	if st != want {
		t.Errorf("parseProcStat = %+v, want %+v", st, want)
	}
	if _, err := parseProcStat("17 (x) S 1 2"); err == nil {
		t.Error("a short line parsed without error")
	}
}

func TestTreeCPU(t *testing.T) {
	procs := map[int]procStat{
		10: {pid: 10, ppid: 1, pgrp: 10, cpu: time.Second, children: 2 * time.Second}, // postmaster / kamailio main
		11: {pid: 11, ppid: 10, pgrp: 11, cpu: 3 * time.Second},                       // a backend in its own group
		12: {pid: 12, ppid: 1, pgrp: 10, cpu: 4 * time.Second},                        // a group member reparented
		13: {pid: 13, ppid: 1, pgrp: 13, cpu: 100 * time.Second},                      // unrelated
	}
	cpu, ok := treeCPU(procs, 10)
	if !ok || cpu != 10*time.Second {
		t.Errorf("treeCPU = %v, %v; want 10s, true", cpu, ok)
	}
	if _, ok := treeCPU(procs, 99); ok {
		t.Error("treeCPU of a missing process found it")
	}
}

func TestReadSippStats(t *testing.T) {
	dir := t.TempDir()
	stat := "StartTime;OutgoingCall(C);SuccessfulCall(C);FailedCall(C);FailedTimeoutOnRecv(C);Retransmissions(C);CallLength(C);\n" +
		"x;10;8;1;1;0;00:00:01:000000;\n" +
		"y;20;18;2;1;3;00:00:02:564000;\n"
	path := filepath.Join(dir, "stat.csv")
	if err := os.WriteFile(path, []byte(stat), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readSippStats(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.created != 20 || got.succeeded != 18 || got.failed != 2 || got.timeouts != 1 || got.retransmissions != 3 ||
		got.callLength != 2564*time.Millisecond {
		t.Errorf("readSippStats = %+v, want the last row's counters", got)
	}
}

func TestParseSippRTT(t *testing.T) {
	got, err := parseSippRTT("Date_ms;response_time_ms;rtd_no\n516.001;12;1\n1012;8;1\n1013;99;2\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != 12*time.Millisecond || got[1] != 8*time.Millisecond {
		t.Errorf("parseSippRTT = %v, want [12ms 8ms] (rtd 2 left out)", got)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i))
	}
	for p, want := range map[float64]time.Duration{50: 50, 99: 99, 100: 100, 1: 1} {
		if got := percentile(ds, p); got != want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", p, got, want)
		}
	}
	if percentile(nil, 50) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestPromSums(t *testing.T) {
	before := parseProm(`service_requests{operation="RespondWorkflowTaskCompleted",service_name="history"} 10
lat_bucket{op="a",le="0.01"} 0
lat_bucket{op="a",le="0.1"} 0
lat_bucket{op="a",le="+Inf"} 0
lat_sum{op="a"} 0
lat_count{op="a"} 0
`)
	after := parseProm(`# HELP service_requests x
service_requests{operation="RespondWorkflowTaskCompleted",service_name="history"} 30
service_requests{operation="PollWorkflowTaskQueue",service_name="history"} 5
lat_bucket{op="a",le="0.01"} 50
lat_bucket{op="a",le="0.1"} 100
lat_bucket{op="a",le="+Inf"} 100
lat_sum{op="a"} 2
lat_count{op="a"} 100
`)
	d := delta(before, after)
	if got := d.sum("service_requests", `operation="RespondWorkflowTaskCompleted"`); got != 20 {
		t.Errorf("delta of workflow tasks = %v, want 20", got)
	}
	if got := d.sum("service_requests"); got != 25 {
		t.Errorf("delta of all requests = %v, want 25 (a new series counts from 0)", got)
	}
	if got := d.mean("lat"); got != 0.02 {
		t.Errorf("mean = %v, want 0.02", got)
	}
	// p75: 75 of 100 falls half way into the (0.01, 0.1] bucket.
	if got := d.quantile("lat", 0.75); math.Abs(got-0.055) > 1e-9 {
		t.Errorf("quantile 0.75 = %v, want 0.055", got)
	}
	if !math.IsNaN(d.mean("missing")) {
		t.Error("mean of an absent family is not NaN")
	}
}

func TestKindOf(t *testing.T) {
	for name, want := range map[string]string{"engine-2": "engine", "media-m1": "media", "api-1": "api",
		"temporal-history": "temporal-history", "postgres": "postgres", "kamailio": "kamailio"} {
		if got := kindOf(name); got != want {
			t.Errorf("kindOf(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestParseDispatcherList(t *testing.T) {
	out := `{
	NRSETS: 1
	RECORDS: {
		SET: {
			ID: 1
			TARGETS: {
				DEST: {
					URI: sip:127.0.0.1:28032
					FLAGS: AP
					PRIORITY: 0
					ATTRS: {
						BODY: duid=m2;maxload=400
						DUID: m2
						MAXLOAD: 400
						DLGLOAD: 3
					}
				}
				DEST: {
					URI: sip:127.0.0.1:28030
					FLAGS: IP
					ATTRS: {
						BODY: duid=m1;maxload=400
						DLGLOAD: 0
					}
				}
			}
		}
	}
}`
	if got, want := parseDispatcherList(out), "m1 IP 0, m2 AP 3"; got != want {
		t.Errorf("parseDispatcherList = %q, want %q", got, want)
	}
}

func TestParseMachineBusy(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	got, err := parseMachineBusy("cpu  100 20 30 5000 40 5 6 7 0 0")
	if err != nil {
		t.Fatal(err)
	}
	if want := 1680 * time.Millisecond; got != want { // 168 ticks: idle and iowait left out
		t.Errorf("parseMachineBusy = %v, want %v", got, want)
	}
}
