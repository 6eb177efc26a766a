// Package benchrig is what the bench tools that drive whole voxflow
// processes share: the repository, a voxflow binary, a work directory and
// the chaos flow (e2e/testdata/chaos) published on a number.
package benchrig

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/voxflow/voxflow/flows"
	"github.com/voxflow/voxflow/store"
)

// RepoRoot is the module root ($VOXFLOW_ROOT, else two levels above this
// package).
func RepoRoot() string {
	if r := os.Getenv("VOXFLOW_ROOT"); r != "" {
		return r
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ChaosFile is a file of e2e/testdata/chaos: the flow and the SIPp
// scenario the chaos and soak runs place calls with.
func ChaosFile(name string) string {
	return filepath.Join(RepoRoot(), "e2e", "testdata", "chaos", name)
}

// Prepare makes dir absolute (a new temporary one, named after tool, when
// empty) and builds ./cmd/voxflow into it when bin is empty.
func Prepare(ctx context.Context, tool, dir, bin string) (absDir, voxflow string, err error) {
	if dir == "" {
		if dir, err = os.MkdirTemp("", "voxflow-"+tool+"-"); err != nil {
			return "", "", fmt.Errorf("work dir: %w", err)
		}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return "", "", fmt.Errorf("work dir: %w", err)
	}
	if bin != "" {
		return dir, bin, nil
	}
	bin = filepath.Join(dir, "voxflow")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/voxflow")
	cmd.Dir = RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("build voxflow: %w\n%s", err, out)
	}
	return dir, bin, nil
}

// PublishChaosFlow publishes chaos.yaml in st and binds number to it.
func PublishChaosFlow(ctx context.Context, st *store.Store, number, author string) error {
	src, err := os.ReadFile(ChaosFile("chaos.yaml"))
	if err != nil {
		return fmt.Errorf("chaos flow: %w", err)
	}
	f, diags := flows.Parse("chaos.yaml", src)
	if err := diags.Err(); err != nil {
		return fmt.Errorf("chaos flow: %w", err)
	}
	if _, err := st.PublishSource(ctx, f.Name, string(src), author, author+" run"); err != nil {
		return fmt.Errorf("publish chaos flow: %w", err)
	}
	if err := st.BindNumber(ctx, number, f.Name); err != nil {
		return fmt.Errorf("bind %s: %w", number, err)
	}
	return nil
}
