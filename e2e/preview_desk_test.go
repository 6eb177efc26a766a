package e2e

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/voxflow/voxflow/activities/records"
	designerapi "github.com/voxflow/voxflow/designer-api"
	"github.com/voxflow/voxflow/platform"
	"github.com/voxflow/voxflow/store"
)

// previewFlow bridges an answered preview dial to the agent who asked for
// it (the engine's previewBridge, at the queue node).
const previewFlow = `name: preview-sales
entry: talk
settings:
  language: en-US
variables:
  q: null
nodes:
  talk:
    type: queue
    queue: preview-e2e
    timeout: 1m
    var: q
    next: bye
    on_timeout: bye
  bye:
    type: hangup
    say: "Goodbye."
`

// previewDeskScript is the browser half of TestPreviewDeskOnDev, run with
// node --test from a temporary file (BROWSERKIT is replaced by the file
// URL of designer-api/web/e2e/browserkit.mjs, whose folder has
// playwright-core).
const previewDeskScript = `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, browser, signIn, realErrors } from 'BROWSERKIT';

const CAMPAIGN = process.env.VOXFLOW_PREVIEW_CAMPAIGN;

test('preview dialling on the agent desk', { timeout: 150_000 }, async () => {
  const b = await browser('', 'preview');
  const { page } = b;
  try {
    await signIn(page, env.agent, env.agentPassword, '/agent');
    const panel = page.locator('section.desk-preview');
    await panel.locator('[data-preview-campaign="' + CAMPAIGN + '"]').waitFor({ timeout: 30_000 });
    const intro = await panel.innerText();
    assert.match(intro, /Campaign calls/i); // the heading is in capitals
    assert.match(intro, /Spring leads \(queue preview-e2e\)/);
    assert.match(intro, /3 pending/);

    await panel.locator('[data-action=preview-next]').click();
    const card = panel.locator('[data-preview-contact]');
    await card.waitFor();
    const record = await card.innerText();
    for (const want of [/\+14155550100/, /first_name\s+Ann/, /company\s+Acme/, /Not called before/]) assert.match(record, want);
    const id = await card.getAttribute('data-preview-contact');
    const mine = await page.evaluate(async (agent) => {
      const r = await fetch('/api/v1/agents/' + encodeURIComponent(agent) + '/preview-campaigns');
      return r.json();
    }, env.agent);
    assert.deepEqual(mine.campaigns.map((c) => c.held.map((k) => String(k.id))), [[id]], 'the server holds Ann for the agent');
    await b.shot('preview-01-offered.png');

    await panel.locator('[data-action=preview-skip]').click();
    await panel.locator('input[name=reason]').fill('busy right now');
    await panel.locator('[data-action=preview-skip-confirm]').click();
    await panel.locator('[data-preview-status]', { hasText: '+14155550100 is back in the list.' }).waitFor();
    assert.equal(await card.count(), 0);

    // Ann went behind the contacts due: the next one is Bo. A reload
    // offers him again, and he is skipped for good.
    await panel.locator('[data-action=preview-next]').click();
    await panel.locator('[data-preview-contact]', { hasText: '+14155550101' }).waitFor();
    await page.reload();
    await panel.locator('[data-preview-contact]', { hasText: '+14155550101' }).waitFor({ timeout: 30_000 });
    assert.match(await panel.innerText(), /You still hold this contact/);
    await panel.locator('[data-action=preview-skip]').click();
    await panel.locator('input[name=reason]').fill('wrong number');
    await panel.locator('input[name=final]').check();
    await panel.locator('[data-action=preview-skip-confirm]').click();
    await panel.locator('[data-preview-status]', { hasText: '+14155550101 will not be called again (wrong number).' }).waitFor();
    await b.shot('preview-02-skipped.png');
    assert.deepEqual(realErrors(b.errors), []);
  } finally {
    await b.close();
  }
});
`

// TestPreviewDeskOnDev runs a preview campaign on `voxflow dev` (no SIP:
// nothing is dialled) and has agent paula, in headless Chromium, see the
// desk's Campaign calls panel, take the next contact and read its record,
// skip it back to the list, take the next one, find it offered again
// after a reload, and skip it for good. The store then shows the first
// contact pending again, the second skipped with her reason, the third
// untouched.
func TestPreviewDeskOnDev(t *testing.T) {
	node, root := needBrowserTools(t)
	dev, httpAddr := startDevNoSIP(t)
	const agent, password, campaign = "paula", "paula-desk-pw-1", "spring-preview"
	ids := setUpPreviewCampaign(t, dev.Store, agent, password, campaign)
	if err := (platform.Campaigns{Client: dev.Client, Store: dev.Store}).Start(context.Background(), campaign); err != nil {
		t.Fatal(err)
	}

	script := filepath.Join(t.TempDir(), "preview_desk.test.mjs")
	kit := url.URL{Scheme: "file", Path: filepath.Join(root, "designer-api", "web", "e2e", "browserkit.mjs")}
	if err := os.WriteFile(script, []byte(strings.Replace(previewDeskScript, "BROWSERKIT", kit.String(), 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	artifacts := os.Getenv("VOXFLOW_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, "designer-api", "web", "e2e", "artifacts")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", script)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VOXFLOW_URL=http://"+httpAddr, "VOXFLOW_DESK_AGENT="+agent, "VOXFLOW_DESK_PASSWORD="+password,
		"VOXFLOW_PREVIEW_CAMPAIGN="+campaign, "VOXFLOW_ARTIFACTS="+artifacts, "VOXFLOW_CHROMIUM="+chromiumPath)
	out, err := cmd.CombinedOutput()
	t.Logf("node --test preview_desk.test.mjs (screenshots in %s):\n%s", artifacts, out)
	if err != nil {
		t.Fatalf("the desk's preview panel test failed: %v", err)
	}

	want := map[string]struct {
		state, reason string
		released      bool // back in the list: due again, after the contacts that were due
	}{
		"+14155550100": {state: records.ContactPending, released: true},
		"+14155550101": {state: records.ContactSkipped, reason: "wrong number"},
		"+14155550102": {state: records.ContactPending},
	}
	for number, w := range want {
		k, err := dev.Store.GetContact(context.Background(), campaign, ids[number])
		if err != nil {
			t.Fatal(err)
		}
		if k.State != w.state || k.SkipReason != w.reason || k.Agent != "" || k.Attempts != 0 || k.NextAt.IsZero() != !w.released {
			t.Errorf("%s: %s (skip reason %q, agent %q, attempts %d, next at %v); want %s (skip reason %q), held by nobody, never dialled",
				number, k.State, k.SkipReason, k.Agent, k.Attempts, k.NextAt, w.state, w.reason)
		}
	}
	if as, err := dev.Store.ListAttempts(context.Background(), campaign, 0); err != nil || len(as) != 0 {
		t.Errorf("attempts %+v (%v): a preview campaign dials nobody by itself", as, err)
	}
}

// setUpPreviewCampaign adds API user and agent name (role agent, a SIP
// account, a profile serving queue preview-e2e), the queue, the flow and
// the draft preview campaign id with three contacts; it returns the
// contacts' IDs by number.
func setUpPreviewCampaign(t *testing.T, st *store.Store, name, password, id string) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	auth, err := designerapi.NewAuth(st, designerapi.AuthOptions{BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := auth.CreateUser(ctx, name, password, designerapi.RoleAgent); err != nil {
		t.Fatal(err)
	}
	if err := st.AddSIPAccount(ctx, store.SIPAccount{Username: name, Realm: "voxflow", HA1: "unused", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAgentProfile(ctx, store.AgentProfile{Username: name, Skills: map[string]int{"english": 5},
		Queues: []string{"preview-e2e"}, Capacity: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutQueue(ctx, store.Queue{Name: "preview-e2e"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PublishSource(ctx, "preview-sales", previewFlow, "e2e", ""); err != nil {
		t.Fatal(err)
	}
	c, err := designerapi.CampaignFrom(id, designerapi.CampaignSettings{Name: "Spring leads", Flow: "preview-sales",
		Mode: records.PacePreview, Queue: "preview-e2e", Region: "US"})
	if err == nil {
		err = designerapi.CheckCampaignRefs(ctx, st, c)
	}
	if err == nil {
		c.State = records.CampaignDraft
		err = st.CreateCampaign(ctx, c)
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := designerapi.ImportContacts(ctx, st, c, strings.NewReader(
		"phone,first_name,company\n+14155550100,Ann,Acme\n+14155550101,Bo,Globex\n+14155550102,Cy,Initech\n"))
	if err != nil || rep.Accepted != 3 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	ks, err := st.ListContacts(ctx, id, "", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, k := range ks {
		ids[k.Number] = k.ID
	}
	return ids
}
