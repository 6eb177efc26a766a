package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/voxflow/voxflow/bench/benchrig"
	"go.temporal.io/sdk/client"
)

// clusterKinds are the cluster's kill kinds and the processes of each
// (deploy/local-cluster/cluster's names); postgres is restarted with
// pg_ctl (immediate mode: a crash) rather than killed.
var clusterKinds = map[string][]string{
	"media":    {"media-m1", "media-m2"},
	"engine":   {"engine-1", "engine-2"},
	"api":      {"api-1", "api-2"},
	"frontend": {"temporal-frontend"},
	"history":  {"temporal-history"},
	"matching": {"temporal-matching"},
	"postgres": {"postgres"},
}

// clusterTarget is deploy/local-cluster/cluster: calls go through
// Kamailio; a victim is restarted with `cluster start NAME`.
type clusterTarget struct {
	c      config
	script string
	dir    string
	env    map[string]string
}

func newClusterTarget(c config) *clusterTarget {
	return &clusterTarget{c: c, script: filepath.Join(benchrig.RepoRoot(), "deploy", "local-cluster", "cluster"),
		dir: filepath.Join(c.dir, "cluster")}
}

func (t *clusterTarget) run(args ...string) (string, error) {
	cmd := exec.Command(t.script, args...)
	cmd.Env = append(os.Environ(), "VOXFLOW_CLUSTER_DIR="+t.dir, "VOXFLOW_CLUSTER_PORT_BASE="+strconv.Itoa(t.c.portBase+500),
		"VOXFLOW_BIN="+t.c.bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("cluster %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// start brings the cluster up and publishes the chaos flow in its store.
func (t *clusterTarget) start(ctx context.Context) error {
	if out, err := t.run("up"); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	out, err := t.run("env")
	if err != nil {
		return err
	}
	t.env = map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
			t.env[k] = strings.Trim(v, `'"`)
		}
	}
	st, err := openStore(ctx, t.storeDSN())
	if err != nil {
		return err
	}
	defer st.Close()
	return benchrig.PublishChaosFlow(ctx, st, chaosNumber, "chaos")
}

func (t *clusterTarget) sipAddr() string  { return t.env["VOXFLOW_CLUSTER_SIP"] }
func (t *clusterTarget) storeDSN() string { return t.env["VOXFLOW_STORE"] }
func (t *clusterTarget) kinds() []string {
	return []string{"media", "engine", "api", "frontend", "history", "matching", "postgres"}
}

// kill sends SIGKILL to the process group of one process of kind.
func (t *clusterTarget) kill(kind string, pick func(int) int) (string, error) {
	names := clusterKinds[kind]
	victim := names[pick(len(names))]
	if victim == "postgres" {
		return victim, nil // restart does it: pg_ctl restart -m immediate
	}
	b, err := os.ReadFile(filepath.Join(t.dir, "run", victim+".pid"))
	if err != nil {
		return victim, fmt.Errorf("pid of %s: %w", victim, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return victim, fmt.Errorf("pid of %s: %w", victim, err)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		return victim, fmt.Errorf("SIGKILL %s: %w", victim, err)
	}
	return victim, nil
}

func (t *clusterTarget) restart(_ context.Context, victim string) error {
	if out, err := t.run("start", victim); err != nil {
		return fmt.Errorf("%w\n%s", err, out)
	}
	return nil
}

func (t *clusterTarget) temporal() (client.Client, error) {
	return client.Dial(client.Options{HostPort: t.env["TEMPORAL_ADDRESS"], Namespace: t.env["TEMPORAL_NAMESPACE"], Logger: quietLogger()})
}

func (t *clusterTarget) stop() error {
	_, err := t.run("down")
	return err
}
