// Command cluster is the capacity benchmark of the local cluster
// (deploy/local-cluster): SIPp calls through Kamailio into the real
// multi-process topology (4 Temporal services on PostgreSQL with 4 history
// shards, 2 engines, 2 media workers), at a series of call rates. For each
// step it reports calls attempted / completed / failed (SIPp and the CDRs
// in the store), SIPp's INVITE -> 200 time, the CPU time of every process
// kind (utime + stime from /proc, PostgreSQL's backends and Kamailio's
// workers included) per call, and the Temporal and SDK metrics that show
// where a call waits.
//
// bench/cluster/run.sh brings a cluster up, runs this and takes it down;
// against a running one:
//
//	eval "$(deploy/local-cluster/cluster env)"
//	go run ./bench/cluster -rates 5,10,20,40 -secs 40
//
// It publishes bench/cluster/short-call.yaml through the cluster's API
// (as its first admin, whose password api-1 logged) and binds -number to
// it. Figures and how to read them: bench/README.md, "Local cluster".
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is the benchmark's settings: the cluster's from its environment
// (`cluster env`), the load's from flags.
type config struct {
	clusterDir, pgDir, storeDSN, sipTarget, apiBase string
	portBase                                        int
	engineAdmin, mediaAdmin                         []string

	rates              []int
	secs               int
	idle               time.Duration
	warmup             int
	number, flowFile   string
	scenario, sippBin  string
	outDir             string
	maxFailed          float64
	user, password     string
	sipPort, mediaPort int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := loadConfig(os.Args[1:])
	if err == nil {
		err = run(ctx, cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(1)
	}
}

// loadConfig reads the flags and the cluster's environment.
func loadConfig(args []string) (config, error) {
	here := sourceDir()
	var cfg config
	var rates string
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.StringVar(&rates, "rates", "5,10,20,40", "call rates to step through, calls/s")
	fs.IntVar(&cfg.secs, "secs", 40, "seconds of calls at each rate")
	fs.DurationVar(&cfg.idle, "idle", 20*time.Second, "idle window measured before the steps (subtracted from each step's CPU)")
	fs.IntVar(&cfg.warmup, "warmup", 20, "calls placed at 5/s before measuring (caches, connections)")
	fs.StringVar(&cfg.number, "number", "7900", "number bound to the benchmark flow")
	fs.StringVar(&cfg.flowFile, "flow", filepath.Join(here, "short-call.yaml"), "flow file the calls run")
	fs.StringVar(&cfg.scenario, "scenario", filepath.Join(here, "uac_short_call.xml"), "SIPp scenario (record-route aware)")
	fs.StringVar(&cfg.sippBin, "sipp", "sipp", "SIPp binary")
	fs.StringVar(&cfg.outDir, "out", "", "directory for SIPp's files and results.json (default: VOXFLOW_CLUSTER_DIR/bench-<time>)")
	fs.Float64Var(&cfg.maxFailed, "max-failed", 0.01, "stop after a step whose failed share of calls passes this")
	fs.StringVar(&cfg.user, "user", "", "API user (default: the first admin, from api-1's log)")
	fs.StringVar(&cfg.password, "password", "", "API password")
	fs.IntVar(&cfg.sipPort, "sipp-port", 0, "SIPp's SIP port (default: cluster port base + 60, unused by the layout)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, r := range strings.Split(rates, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(r))
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("-rates: %q is not a positive number", r)
		}
		cfg.rates = append(cfg.rates, n)
	}
	if err := cfg.readClusterEnv(); err != nil {
		return cfg, err
	}
	if cfg.sipPort == 0 {
		cfg.sipPort = cfg.portBase + 60
	}
	cfg.mediaPort = cfg.sipPort + 2 // RTCP takes +3
	if cfg.outDir == "" {
		cfg.outDir = filepath.Join(cfg.clusterDir, "bench-"+time.Now().UTC().Format("20060102T150405"))
	}
	return cfg, nil
}

// readClusterEnv reads what `cluster env` exports.
func (cfg *config) readClusterEnv() error {
	get := func(name string) string { return os.Getenv(name) }
	cfg.clusterDir, cfg.pgDir, cfg.storeDSN = get("VOXFLOW_CLUSTER_DIR"), get("VOXFLOW_CLUSTER_PG_DIR"), get("VOXFLOW_STORE")
	cfg.sipTarget, cfg.apiBase = get("VOXFLOW_CLUSTER_SIP"), get("VOXFLOW_CLUSTER_API")
	cfg.engineAdmin = strings.Fields(get("VOXFLOW_CLUSTER_ENGINE_ADMIN"))
	cfg.mediaAdmin = strings.Fields(get("VOXFLOW_CLUSTER_MEDIA_ADMIN"))
	base, err := strconv.Atoi(get("VOXFLOW_CLUSTER_PORT_BASE"))
	if err != nil || cfg.clusterDir == "" || cfg.pgDir == "" || cfg.sipTarget == "" || cfg.apiBase == "" {
		return errors.New(`no cluster in the environment: eval "$(deploy/local-cluster/cluster env)" first (or use bench/cluster/run.sh)`)
	}
	cfg.portBase = base
	return nil
}

// sourceDir is this package's directory when run from the repository
// (go run ./bench/cluster, or run.sh), for the default flow and scenario.
func sourceDir() string {
	if _, err := os.Stat(filepath.Join("bench", "cluster", "short-call.yaml")); err == nil {
		abs, _ := filepath.Abs(filepath.Join("bench", "cluster"))
		return abs
	}
	return "."
}

// run publishes the flow, warms the cluster up, measures it idle, then
// steps through the rates until one fails more than maxFailed of its calls.
func run(ctx context.Context, cfg config) error {
	if _, err := exec.LookPath(cfg.sippBin); err != nil {
		return fmt.Errorf("SIPp: %w (apt-get install -y sip-tester)", err)
	}
	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return fmt.Errorf("output dir: %w", err)
	}
	b, err := newBench(ctx, cfg)
	if err != nil {
		return err
	}
	keepConfigs(cfg)
	res := results{Started: time.Now().UTC(), Rates: cfg.rates, Secs: cfg.secs}
	if err := b.warmUp(ctx); err != nil {
		return err
	}
	if res.Idle, err = b.measureIdle(ctx); err != nil {
		return err
	}
	for _, rate := range cfg.rates {
		st, err := b.step(ctx, rate, res.Idle)
		if err != nil {
			return fmt.Errorf("step %d calls/s: %w", rate, err)
		}
		res.Steps = append(res.Steps, st)
		fmt.Fprintln(os.Stderr, st.summary())
		if st.failedShare() > cfg.maxFailed {
			fmt.Fprintf(os.Stderr, "stopping: %.1f %% of the calls at %d/s failed\n", 100*st.failedShare(), rate)
			break
		}
	}
	res.Ended = time.Now().UTC()
	printReport(os.Stdout, res)
	return writeJSON(filepath.Join(cfg.outDir, "results.json"), res)
}

// keepConfigs copies the cluster's generated configuration next to the
// results: what Kamailio and Temporal ran with (their sources in deploy/
// change) is part of a figure.
func keepConfigs(cfg config) {
	for _, name := range []string{"kamailio.cfg", "dispatcher.list", "dynamicconfig.yaml", "temporal-history.yaml"} {
		b, err := os.ReadFile(filepath.Join(cfg.clusterDir, "config", name))
		if err == nil {
			err = os.WriteFile(filepath.Join(cfg.outDir, name), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/cluster: keeping the cluster's", name+":", err)
		}
	}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("results: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("results: %w", err)
	}
	fmt.Fprintln(os.Stderr, "results:", path)
	return nil
}
