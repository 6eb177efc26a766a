package engine_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/voxflow/voxflow/store"
)

// TestUpgradeToEngineProcess runs version B as the production binary: a
// `voxflow engine` process built from this tree, capped through
// $VOXFLOW_ENGINE_COMPAT beside the in-process version A (calls move both
// ways between them), then restarted uncapped once A is gone. The old
// calls finish with A's commands; a new call takes the fast path.
func TestUpgradeToEngineProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the voxflow binary")
	}
	s := newUpgradeStack(t)
	bin, dsn := buildVoxflow(t), "sqlite://"+filepath.Join(t.TempDir(), "voxflow.db")
	publishGreeting(t, dsn)
	bad := s.engineProcess(bin, dsn, "--engine-compat", "fastpath")
	if err := bad.wait(); err == nil || !strings.Contains(bad.output(), "engine.compat: unknown engine change") {
		t.Errorf("voxflow engine --engine-compat fastpath: %v\n%s", err, bad.output())
	}

	s.run(buildA)
	old := s.dial(2)
	capped := s.engineProcess(bin, dsn, "VOXFLOW_ENGINE_COMPAT=none")
	capped.ready(t)
	s.stop(buildA)
	old[0].press(t, "1", "confirm") // the capped process replays A's task
	s.run(buildA)
	capped.stop(t)
	old[0].press(t, "1", "") // A replays the capped process's turn
	s.finish(old[0], "sales")
	s.stop(buildA)

	uncapped := s.engineProcess(bin, dsn)
	uncapped.ready(t)
	defer uncapped.stop(t)
	old[1].press(t, "2", "confirm")
	old[1].press(t, "1", "")
	s.finish(old[1], "billing")
	fresh := s.dial(1)[0]
	fresh.press(t, "1", "confirm")
	fresh.press(t, "1", "")
	s.finish(fresh, "sales")

	for _, lc := range old {
		sh := s.shape(lc)
		sh.oldPath(t)
		if len(sh.failed) > 0 || len(sh.workers) != 2 || !sh.workers[buildA.name] {
			t.Errorf("call %s: failed tasks %v, ran on %v; want A and the process, no failure", lc.id, sh.failed, sh.workers)
		}
	}
	sh := s.shape(fresh)
	sh.fastPath(t)
	if len(sh.failed) > 0 {
		t.Errorf("call %s: workflow tasks failed: %v", fresh.id, sh.failed)
	}
}

// buildVoxflow builds cmd/voxflow from this tree.
func buildVoxflow(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "voxflow")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/voxflow/voxflow/cmd/voxflow")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build voxflow: %v\n%s", err, out)
	}
	return bin
}

// publishGreeting publishes the greeting subflow in the process's store.
func publishGreeting(t *testing.T, dsn string) {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.PublishSource(context.Background(), "upgrade-greeting", greetingFlow, "test", ""); err != nil {
		t.Fatal(err)
	}
}

// process is `voxflow engine` running.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    strings.Builder
	up     chan struct{} // closed when it says it runs
	exited chan error
}

// engineProcess starts `voxflow engine` on the stack's server and store;
// args holding "=" are environment variables, the rest flags.
func (s *upgradeStack) engineProcess(bin, dsn string, args ...string) *process {
	s.t.Helper()
	cmd := exec.Command(bin, "engine", "--address", s.ts.GetFrontendHostPort(),
		"--namespace", s.ts.GetDefaultNamespace(), "--store", dsn)
	cmd.Env = os.Environ()
	for _, a := range args {
		if strings.HasPrefix(a, "-") || !strings.Contains(a, "=") {
			cmd.Args = append(cmd.Args, a)
		} else {
			cmd.Env = append(cmd.Env, a)
		}
	}
	p := &process{cmd: cmd, up: make(chan struct{}), exited: make(chan error, 1)}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go p.read(bufio.NewScanner(pipe))
	return p
}

func (p *process) read(sc *bufio.Scanner) {
	once := sync.Once{}
	for sc.Scan() {
		p.mu.Lock()
		p.out.WriteString(sc.Text() + "\n")
		p.mu.Unlock()
		if strings.Contains(sc.Text(), "engine worker running") {
			once.Do(func() { close(p.up) })
		}
	}
	p.exited <- p.cmd.Wait()
}

func (p *process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// ready waits until the engine runs its workers.
func (p *process) ready(t *testing.T) {
	t.Helper()
	select {
	case <-p.up:
	case err := <-p.exited:
		t.Fatalf("voxflow engine exited: %v\n%s", err, p.output())
	case <-time.After(time.Minute):
		t.Fatalf("voxflow engine not running after a minute\n%s", p.output())
	}
}

// wait waits for the process to exit.
func (p *process) wait() error {
	select {
	case err := <-p.exited:
		return err
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		return <-p.exited
	}
}

// stop ends the process as systemd or Kubernetes does: SIGTERM.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if err := p.wait(); err != nil {
		t.Errorf("voxflow engine on SIGTERM: %v\n%s", err, p.output())
	}
}
