package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/voxflow/voxflow/bench/benchrig"
	"github.com/voxflow/voxflow/store"
)

// chaosNumber is the number the chaos flow (e2e/testdata/chaos/chaos.yaml)
// is bound to.
const chaosNumber = "7700"

// target is what the run puts load on and kills.
type target interface {
	start(ctx context.Context) error
	sipAddr() string
	// kinds are the kill kinds, e.g. "dev" or "media".
	kinds() []string
	// kill sends SIGKILL to a process of kind and names it.
	kill(kind string, pick func(n int) int) (victim string, err error)
	// restart starts the victim again and returns once it answers.
	restart(ctx context.Context, victim string) error
	// temporal is a client of the target's Temporal (for visibility).
	temporal() (client.Client, error)
	// storeDSN is the target's store (for CDRs); read after stop on dev.
	storeDSN() string
	stop() error
}

// devTarget is one `voxflow dev` process on a data dir that survives it.
type devTarget struct {
	c                               config
	data                            string
	sipPort, httpPort, temporalPort int
	cmd                             *exec.Cmd
	exited                          chan struct{}
}

func newDevTarget(c config) *devTarget {
	return &devTarget{c: c, data: filepath.Join(c.dir, "data"),
		sipPort: c.portBase, httpPort: c.portBase + 2, temporalPort: c.portBase + 3}
}

func (d *devTarget) sipAddr() string  { return "127.0.0.1:" + strconv.Itoa(d.sipPort) }
func (d *devTarget) kinds() []string  { return []string{"dev"} }
func (d *devTarget) storeDSN() string { return "sqlite://" + filepath.Join(d.data, "voxflow.db") }

// start publishes the chaos flow into a fresh data dir, then starts dev.
func (d *devTarget) start(ctx context.Context) error {
	if err := os.MkdirAll(d.data, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	st, err := openStore(ctx, d.storeDSN())
	if err != nil {
		return err
	}
	defer st.Close()
	if err := benchrig.PublishChaosFlow(ctx, st, chaosNumber, "chaos"); err != nil {
		return err
	}
	return d.launch(ctx)
}

func openStore(ctx context.Context, dsn string) (*store.Store, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// launch starts the dev process (its output appended to dev.log) and
// waits for /healthz.
func (d *devTarget) launch(ctx context.Context) error {
	logf, err := os.OpenFile(filepath.Join(d.c.dir, "dev.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("dev log: %w", err)
	}
	defer logf.Close()
	trunk := "sip:127.0.0.1:" + strconv.Itoa(d.c.portBase+10) // nothing answers: callbacks go to the caller's URI
	cmd := exec.Command(d.c.bin, "dev", "--data-dir", d.data, "--sip", d.sipAddr(),
		"--http", "127.0.0.1:"+strconv.Itoa(d.httpPort),
		"--temporal-port", strconv.Itoa(d.temporalPort), "--trunk", trunk)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start voxflow dev: %w", err)
	}
	d.cmd, d.exited = cmd, make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(d.exited)
	return waitHealthy(ctx, "http://127.0.0.1:"+strconv.Itoa(d.httpPort)+"/healthz", d.exited, 3*time.Minute)
}

// waitHealthy polls url until it answers 200, the process exits or the
// timeout passes.
func waitHealthy(ctx context.Context, url string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if resp, err := hc.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("%s: the process exited before it was ready", url)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s not ready within %s", url, timeout)
}

func (d *devTarget) kill(string, func(int) int) (string, error) {
	if d.cmd == nil {
		return "", errors.New("voxflow dev is not running")
	}
	if err := syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		return "", fmt.Errorf("SIGKILL voxflow dev: %w", err)
	}
	<-d.exited
	d.cmd = nil
	return "dev", nil
}

func (d *devTarget) restart(ctx context.Context, _ string) error { return d.launch(ctx) }

func (d *devTarget) temporal() (client.Client, error) {
	return client.Dial(client.Options{HostPort: "127.0.0.1:" + strconv.Itoa(d.temporalPort), Logger: quietLogger()})
}

// stop ends dev with SIGTERM (its drain), SIGKILL after 30 s.
func (d *devTarget) stop() error {
	if d.cmd == nil {
		return nil
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
	d.cmd = nil
	return nil
}
