package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/<pid>/stat: USER_HZ, 100
// on every Linux architecture Go supports (sysconf needs cgo).
const userHZ = 100

// procStat is what the benchmark reads from /proc/<pid>/stat.
type procStat struct {
	pid, ppid, pgrp int
	zombie          bool
	cpu             time.Duration // utime + stime: the process's own threads
	children        time.Duration // cutime + cstime: children it has waited for
}

// parseProcStat reads one /proc/<pid>/stat line. The command name (field
// 2) may hold spaces and parentheses: fields are counted after its last ')'.
func parseProcStat(line string) (procStat, error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("proc stat %q: no command name", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return procStat{}, fmt.Errorf("proc stat pid: %w", err)
	}
	f := strings.Fields(line[end+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("proc stat of %d: %d fields", pid, len(f))
	}
	n := make([]int64, 15)
	for i := 1; i < 15; i++ {
		if n[i], err = strconv.ParseInt(f[i], 10, 64); err != nil {
			return procStat{}, fmt.Errorf("proc stat of %d, field %d: %w", pid, i+3, err)
		}
	}
	tick := func(v int64) time.Duration { return time.Duration(v) * time.Second / userHZ }
	return procStat{
		pid: pid, ppid: int(n[1]), pgrp: int(n[2]), zombie: f[0] == "Z",
		cpu: tick(n[11] + n[12]), children: tick(n[13] + n[14]),
	}, nil
}

// readProcs reads every process's stat; processes that exit meanwhile
// are skipped.
func readProcs() (map[int]procStat, error) {
	paths, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return nil, fmt.Errorf("list /proc: %w", err)
	}
	out := make(map[int]procStat, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		st, err := parseProcStat(string(b))
		if err != nil {
			continue
		}
		out[st.pid] = st
	}
	return out, nil
}

// treeCPU is the CPU time of a cluster process with what it started: its
// own threads, the children it has reaped (cutime/cstime), and each live
// process it is the parent or process-group leader of (Kamailio's forked
// workers share its group; PostgreSQL's backends are the postmaster's
// children in groups of their own). found is false when root is gone.
func treeCPU(procs map[int]procStat, root int) (cpu time.Duration, found bool) {
	r, ok := procs[root]
	if !ok {
		return 0, false
	}
	cpu = r.cpu + r.children
	for pid, p := range procs {
		if pid != root && (p.ppid == root || p.pgrp == root) {
			cpu += p.cpu
		}
	}
	return cpu, true
}

// clusterProcs maps each cluster process name to its pid: every pid file
// `cluster up` wrote in DIR/run, and PostgreSQL's postmaster.
func clusterProcs(dir, pgDir string) (map[string]int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "run", "*.pid"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no pid files in %s/run (is the cluster up?)", dir)
	}
	out := map[string]int{}
	for _, f := range files {
		pid, err := readPid(f)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
	}
	pid, err := readPid(filepath.Join(pgDir, "data", "postmaster.pid"))
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL's postmaster: %w", err)
	}
	out["postgres"] = pid
	return out, nil
}

// readPid reads the first line of a pid file.
func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("pid file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, nil
}

// cpuSample is the CPU time of each cluster process at one moment.
type cpuSample struct {
	at  time.Time
	cpu map[string]time.Duration
}

// sampleCPU reads the CPU time of each named process; a process that is
// gone is an error (a crash under load must not read as zero cost).
func sampleCPU(names map[string]int) (cpuSample, error) {
	procs, err := readProcs()
	if err != nil {
		return cpuSample{}, err
	}
	s := cpuSample{at: time.Now(), cpu: map[string]time.Duration{}}
	for name, pid := range names {
		cpu, ok := treeCPU(procs, pid)
		if !ok {
			return cpuSample{}, fmt.Errorf("%s (pid %d) is gone", name, pid)
		}
		s.cpu[name] = cpu
	}
	return s, nil
}

// sortedNames lists the names of a sample in report order: by kind
// (processKinds), then by name.
func sortedNames(cpu map[string]time.Duration) []string {
	names := make([]string, 0, len(cpu))
	for n := range cpu {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		ki, kj := kindRank(kindOf(names[i])), kindRank(kindOf(names[j]))
		if ki != kj {
			return ki < kj
		}
		return names[i] < names[j]
	})
	return names
}

// processKinds are the kinds the report sums processes into, in order.
var processKinds = []string{"engine", "media", "temporal-frontend", "temporal-history", "temporal-matching",
	"temporal-worker", "postgres", "kamailio", "api", "sipp"}

// kindOf is the kind of a process name: engine-1 -> engine, media-m2 ->
// media, api-1 -> api; the rest are their own kind.
func kindOf(name string) string {
	for _, prefix := range []string{"engine", "media", "api"} {
		if strings.HasPrefix(name, prefix+"-") {
			return prefix
		}
	}
	return name
}

func kindRank(kind string) int {
	for i, k := range processKinds {
		if k == kind {
			return i
		}
	}
	return len(processKinds)
}

// loadAverage is the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// dispatcherState is Kamailio's view of the media workers (kamcmd
// dispatcher.list on the control socket `cluster up` gives it in
// DIR/run/kamailio): per worker its flags (AP: active, probing) and the
// calls it counts against maxload. Empty when kamcmd is missing or fails.
func dispatcherState(ctx context.Context, clusterDir string) string {
	sock := "unix:" + filepath.Join(clusterDir, "run", "kamailio", "kamailio_ctl")
	out, err := exec.CommandContext(ctx, "kamcmd", "-s", sock, "dispatcher.list").Output()
	if err != nil {
		return ""
	}
	return parseDispatcherList(string(out))
}

// parseDispatcherList reads kamcmd's dispatcher.list: for each
// destination, "duid flags load", in the order listed.
func parseDispatcherList(text string) string {
	var parts []string
	var duid, flags string
	for line := range strings.Lines(text) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		switch key {
		case "URI":
			duid, flags = value, ""
		case "BODY":
			for _, attr := range strings.Split(value, ";") {
				if v, ok := strings.CutPrefix(attr, "duid="); ok {
					duid = v
				}
			}
		case "FLAGS":
			flags = value
		case "DLGLOAD":
			parts = append(parts, duid+" "+flags+" "+value)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// machineBusy is the CPU time all processes of the machine have used so
// far (/proc/stat's first line: user, nice, system, irq, softirq, steal),
// to tell the cluster's share of a shared machine from its neighbours'.
func machineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, fmt.Errorf("machine CPU: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseMachineBusy(line)
}

func parseMachineBusy(line string) (time.Duration, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("machine CPU: unexpected /proc/stat line %q", line)
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("machine CPU: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
