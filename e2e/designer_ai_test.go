package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform/config"
	"github.com/voxflow/voxflow/platform/devstack"
)

// TestDesignerAIInBrowser starts `voxflow dev` (no SIP, no model endpoint:
// intents are recognised by the offline matcher) and runs the designer's
// AI test (designer-api/web/e2e/designer-ai.test.mjs, headless Chromium):
// an intent node from the palette's AI group gets an intent with an
// example and a required digits slot in its form, its intent's port is
// dragged to a hangup, the YAML tab shows all of it, an llm node gets a
// tool with a parameter, and a simulated call typing "I want to pay my
// bill, account 4471" shows intent billing, its confidence and
// account = 4471 in the simulator panel, then the slot in the goodbye.
// Screenshots land in $VOXFLOW_ARTIFACTS.
func TestDesignerAIInBrowser(t *testing.T) {
	node, root := needBrowserTools(t)
	ctx := context.Background()
	dev, httpAddr := startDevNoSIP(t)
	auth, err := designerapi.NewAuth(dev.Store, designerapi.AuthOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	const user, password = "ai-e2e-admin", "ai-e2e-password-123"
	if _, err := auth.CreateUser(ctx, user, password, designerapi.RoleAdmin); err != nil {
		t.Fatal(err)
	}

	artifacts := os.Getenv("VOXFLOW_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "designer-api", "web", "e2e", "artifacts")
	}
	run := nodeTest{t: t, node: node, root: root, env: []string{
		"VOXFLOW_URL=http://" + httpAddr, "VOXFLOW_USER=" + user, "VOXFLOW_PASSWORD=" + password,
		"VOXFLOW_AI_E2E=1", "VOXFLOW_ARTIFACTS=" + artifacts, "VOXFLOW_CHROMIUM=" + chromiumPath,
	}}
	if _, err := run.start("designer-ai.test.mjs", 3*time.Minute)(); err != nil {
		t.Fatalf("designer AI browser test failed: %v (output above)", err)
	}
}

// startDevNoSIP starts `voxflow dev` without SIP on free loopback ports
// (picked again when one was taken meanwhile), stopped when the test
// ends; it returns the platform and its HTTP address.
func startDevNoSIP(t *testing.T) (*devstack.Dev, string) {
	t.Helper()
	dataDir := t.TempDir()
	for attempt := 1; ; attempt++ {
		httpAddr, _ := freeAddr(t)
		_, tport := freeAddr(t)
		dev, err := devstack.StartDev(context.Background(), devConfig(dataDir, tport, httpAddr, config.SIPOff), devstack.Options{})
		if err != nil && attempt < 3 && portTaken(err) {
			t.Logf("start voxflow dev (attempt %d): %v; picking other ports", attempt, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(dev.Stop)
		return dev, httpAddr
	}
}
