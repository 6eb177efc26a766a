package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/voxflow/voxflow/bench/benchrig"
	"github.com/voxflow/voxflow/store"
)

// soakNumber is the number the soak's flow (e2e/testdata/chaos/chaos.yaml:
// a menu answered with a key, a wait, a goodbye) is bound to.
const soakNumber = "7700"

// dev is the voxflow dev process under test.
type dev struct {
	c      config
	cmd    *exec.Cmd
	exited chan struct{}
}

func (d *dev) sipAddr() string  { return "127.0.0.1:" + strconv.Itoa(d.c.portBase) }
func (d *dev) httpURL() string  { return "http://127.0.0.1:" + strconv.Itoa(d.c.portBase+2) }
func (d *dev) dataDir() string  { return filepath.Join(d.c.dir, "data") }
func (d *dev) storeDSN() string { return "sqlite://" + filepath.Join(d.dataDir(), "voxflow.db") }

// start publishes the flow into a fresh data dir, starts dev (output in
// dev.log) and waits for /healthz.
func (d *dev) start(ctx context.Context) error {
	if err := os.MkdirAll(d.dataDir(), 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if err := publishFlow(ctx, d.storeDSN()); err != nil {
		return err
	}
	logf, err := os.Create(filepath.Join(d.c.dir, "dev.log"))
	if err != nil {
		return fmt.Errorf("dev log: %w", err)
	}
	defer logf.Close()
	d.cmd = exec.Command(d.c.bin, "dev", "--data-dir", d.dataDir(), "--sip", d.sipAddr(),
		"--http", strings.TrimPrefix(d.httpURL(), "http://"), "--temporal-port", strconv.Itoa(d.c.portBase+3))
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("start voxflow dev: %w", err)
	}
	d.exited = make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(d.exited) }()
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		select {
		case <-d.exited:
			return fmt.Errorf("voxflow dev exited before it was ready (%s)", filepath.Join(d.c.dir, "dev.log"))
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if code, _ := get(d.httpURL() + "/healthz"); code == http.StatusOK {
			return nil
		}
	}
	return fmt.Errorf("voxflow dev not ready within 3m")
}

// stop ends dev with SIGTERM, SIGKILL after 30 s.
func (d *dev) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	}
	d.cmd = nil
}

func publishFlow(ctx context.Context, dsn string) error {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("open dev store: %w", err)
	}
	defer st.Close()
	return benchrig.PublishChaosFlow(ctx, st, soakNumber, "soak")
}

func get(url string) (int, string) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// runSIPp places calls at c.rate with uac_chaos.xml (media, a key, the
// flow hangs up); its statistics go to sipp.csv.
func runSIPp(ctx context.Context, c config, addr string, calls int) error {
	args := []string{addr, "-sf", benchrig.ChaosFile("uac_chaos.xml"),
		"-s", soakNumber, "-key", "caller", "4402", "-m", strconv.Itoa(calls),
		"-r", strconv.Itoa(max(1, int(c.rate*10))), "-rp", "10000", "-l", strconv.Itoa(max(20, int(c.rate*60))),
		"-i", "127.0.0.1", "-p", strconv.Itoa(c.portBase + 20), "-mp", strconv.Itoa(c.portBase + 30), "-rtp_echo",
		"-timeout", strconv.Itoa(int((c.duration + 5*time.Minute).Seconds())) + "s", "-nostdin",
		"-trace_stat", "-stf", filepath.Join(c.dir, "sipp.csv"), "-fd", "15"}
	cmd := exec.CommandContext(ctx, "sipp", args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "TERM=dumb")
	out, err := os.Create(filepath.Join(c.dir, "sipp.out"))
	if err != nil {
		return fmt.Errorf("sipp output: %w", err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	return cmd.Run()
}
