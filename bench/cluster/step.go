package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// flowName is the name in short-call.yaml; CDRs are searched by it.
const flowName = "bench-cluster-short"

// bench holds what every step uses.
type bench struct {
	cfg       config
	api       *apiClient
	procs     map[string]int    // process name -> pid
	endpoints map[string]string // metrics source -> /metrics URL
	shardDSN  string            // Temporal's database
	settle    time.Duration     // after the last CDR, before the window closes
	cdrWait   time.Duration     // how long a step waits for missing CDRs once none arrive
}

func newBench(ctx context.Context, cfg config) (*bench, error) {
	procs, err := clusterProcs(cfg.clusterDir, cfg.pgDir)
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(cfg.flowFile)
	if err != nil {
		return nil, fmt.Errorf("flow: %w (run from the repository root, or pass -flow and -scenario)", err)
	}
	api, err := signIn(ctx, cfg.apiBase, cfg.clusterDir, cfg.user, cfg.password)
	if err != nil {
		return nil, err
	}
	if err := api.publishFlow(ctx, flowName, string(src), cfg.number); err != nil {
		return nil, err
	}
	dsn, err := temporalDSN(cfg.storeDSN)
	if err != nil {
		return nil, err
	}
	b := &bench{cfg: cfg, api: api, procs: procs, shardDSN: dsn, settle: 2 * time.Second, cdrWait: 20 * time.Second}
	b.endpoints = map[string]string{
		"temporal-frontend": metricsURL(cfg.portBase + 10), "temporal-history": metricsURL(cfg.portBase + 11),
		"temporal-matching": metricsURL(cfg.portBase + 12),
	}
	for i, a := range cfg.engineAdmin {
		b.endpoints["engine-"+strconv.Itoa(i+1)] = "http://" + a + "/metrics"
	}
	for i, a := range cfg.mediaAdmin {
		b.endpoints["media-"+strconv.Itoa(i+1)] = "http://" + a + "/metrics"
	}
	return b, nil
}

func metricsURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) + "/metrics" }

// snapshot is the cluster's counters at one moment.
type snapshot struct {
	cpu     cpuSample
	metrics map[string]promSample
	shards  map[int]int
	load    string
	kam     string        // Kamailio's dispatcher state
	machine time.Duration // CPU time of every process on the machine
}

func (b *bench) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{metrics: map[string]promSample{}, load: loadAverage(), kam: dispatcherState(ctx, b.cfg.clusterDir)}
	var err error
	if s.cpu, err = sampleCPU(b.procs); err != nil {
		return s, err
	}
	if s.machine, err = machineBusy(); err != nil {
		return s, err
	}
	for name, url := range b.endpoints {
		if s.metrics[name], err = scrape(ctx, url); err != nil {
			return s, err
		}
	}
	s.shards, err = shardCounts(ctx, b.shardDSN)
	return s, err
}

// warmUp places a few calls that are not measured: TTS cache, database
// connections, the engines' flow cache.
func (b *bench) warmUp(ctx context.Context) error {
	if b.cfg.warmup <= 0 {
		return nil
	}
	fmt.Fprintf(os.Stderr, "warm-up: %d calls at 5/s\n", b.cfg.warmup)
	s := b.sippStep(5, b.cfg.warmup, "warmup")
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("warm-up dir: %w", err)
	}
	res, err := s.run(ctx)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	if res.succeeded != b.cfg.warmup {
		return fmt.Errorf("warm-up: %d of %d calls succeeded (see %s)", res.succeeded, b.cfg.warmup, s.dir)
	}
	time.Sleep(3 * time.Second) // the last calls' records and visibility updates
	return nil
}

// idleCPU is the cluster's CPU rate with no calls, per process.
type idleCPU struct {
	Window  time.Duration            `json:"window_ns"`
	PerSec  map[string]time.Duration `json:"cpu_per_second_ns"` // CPU time per second of wall time
	LoadAvg [2]string                `json:"load_average"`
}

func (b *bench) measureIdle(ctx context.Context) (idleCPU, error) {
	fmt.Fprintf(os.Stderr, "idle: measuring %s\n", b.cfg.idle)
	before, err := sampleCPU(b.procs)
	if err != nil {
		return idleCPU{}, err
	}
	load := loadAverage()
	select {
	case <-ctx.Done():
		return idleCPU{}, ctx.Err()
	case <-time.After(b.cfg.idle):
	}
	after, err := sampleCPU(b.procs)
	if err != nil {
		return idleCPU{}, err
	}
	wall := after.at.Sub(before.at)
	out := idleCPU{Window: wall, PerSec: map[string]time.Duration{}, LoadAvg: [2]string{load, loadAverage()}}
	for name, cpu := range after.cpu {
		out.PerSec[name] = time.Duration(float64(cpu-before.cpu[name]) / wall.Seconds())
	}
	return out, nil
}

func (b *bench) sippStep(rate, calls int, label string) sippStep {
	return sippStep{bin: b.cfg.sippBin, scenario: b.cfg.scenario, target: b.cfg.sipTarget, number: b.cfg.number,
		caller: "9" + fmt.Sprintf("%03d", rate), rate: rate, calls: calls,
		sipPort: b.cfg.sipPort, mediaPort: b.cfg.mediaPort, dir: filepath.Join(b.cfg.outDir, label)}
}

// step places rate calls a second for secs seconds and measures the
// window from the first INVITE until every call's record is in the store
// (plus settle, for the records' and visibility's last writes).
func (b *bench) step(ctx context.Context, rate int, idle idleCPU) (stepResult, error) {
	calls := rate * b.cfg.secs
	s := b.sippStep(rate, calls, "rate-"+strconv.Itoa(rate))
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return stepResult{}, fmt.Errorf("step dir: %w", err)
	}
	fmt.Fprintf(os.Stderr, "step: %d calls at %d/s (load average %s)\n", calls, rate, loadAverage())
	before, err := b.snapshot(ctx)
	if err != nil {
		return stepResult{}, err
	}
	sipp, err := s.run(ctx)
	if err != nil {
		return stepResult{}, err
	}
	recs, err := b.api.waitCDRs(ctx, flowName, before.cpu.at, time.Now().Add(time.Hour), sipp.succeeded+sipp.failed, b.cdrWait)
	if err != nil {
		return stepResult{}, err
	}
	time.Sleep(b.settle)
	after, err := b.snapshot(ctx)
	if err != nil {
		return stepResult{}, err
	}
	return newStepResult(rate, calls, sipp, recs, before, after, idle), nil
}
