package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities"
	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
	"github.com/voxflow/voxflow/store"
)

// TestBoardInBrowser starts `voxflow dev` (no SIP) with queue board-e2e
// and agent board-agent (`voxflow agents add`), and runs the board's
// browser test (designer-api/web/e2e/board.test.mjs, headless Chromium):
// the queue's card is there before any call, the alert raised on a live
// call (a negative_sentiment call event, as voxflow.CallAlert adds) shows
// at the top, and once the agent signs in through the API the board shows
// them available without a reload (the board stream). Screenshots land in
// $VOXFLOW_ARTIFACTS.
func TestBoardInBrowser(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed: the browser tests need Node.js 20+ (apt-get install -y nodejs npm)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s is missing: the browser tests need Debian's chromium (apt-get install -y chromium): %v", chromiumPath, err)
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	e2eDir := filepath.Join(root, "designer-api", "web", "e2e")
	if !nodeModulesInstalled(e2eDir) {
		out, err := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--prefix", e2eDir).CombinedOutput()
		if err != nil {
			t.Fatalf("npm ci --prefix designer-api/web/e2e: %v\n%s", err, out)
		}
	}

	dataDir := t.TempDir()
	httpAddr, _ := freeAddr(t)
	_, tport := freeAddr(t)
	ctx := context.Background()
	dev, err := devstack.StartDev(ctx, devConfig(dataDir, tport, httpAddr, config.SIPOff), devstack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Stop()
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	const user, password, agent, queue = "board-admin", "board-password-123", "board-agent", "board-e2e"
	if _, err := auth.CreateUser(ctx, user, password, designerapi.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	addAgent(t, "sqlite://"+filepath.Join(dataDir, "voxflow.db"), agent)
	if err := dev.Store.PutQueue(ctx, store.Queue{Name: queue}); err != nil {
		t.Fatal(err)
	}
	const alertCall = "board-alert-call" // no record: a live call
	if err := dev.Store.AddCallEvent(ctx, records.CallEvent{CallID: alertCall, At: time.Now(), Actor: "ai",
		Action: activities.AlertNegativeSentiment, Detail: "ask: this is useless"}); err != nil {
		t.Fatal(err)
	}

	artifacts := os.Getenv("VOXFLOW_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(e2eDir, "artifacts")
	}
	tctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(tctx, node, "--test", "--test-reporter=spec", "designer-api/web/e2e/board.test.mjs")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VOXFLOW_URL=http://"+httpAddr, "VOXFLOW_USER="+user, "VOXFLOW_PASSWORD="+password,
		"VOXFLOW_AGENT="+agent, "VOXFLOW_QUEUE="+queue, "VOXFLOW_ALERT_CALL="+alertCall, "VOXFLOW_ARTIFACTS="+artifacts, "VOXFLOW_CHROMIUM="+chromiumPath)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("node --test board.test.mjs (%v; screenshots in %s):\n%s", time.Since(start).Round(time.Millisecond), artifacts, out)
	if err != nil {
		t.Fatalf("board browser test failed: %v", err)
	}
}
