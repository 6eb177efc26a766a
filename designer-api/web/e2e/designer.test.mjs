// End-to-end tests of the voxflow designer in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; no browser is downloaded).
//
//   VOXFLOW_URL=http://127.0.0.1:8080 VOXFLOW_USER=admin VOXFLOW_PASSWORD=... \
//     node --test designer-api/web/e2e/
//
// e2e/designer_test.go starts `voxflow dev` in-process and runs this with
// the environment set. Screenshots go to $VOXFLOW_ARTIFACTS (default
// designer-api/web/e2e/artifacts).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.VOXFLOW_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const USER = process.env.VOXFLOW_USER || 'admin';
const PASSWORD = process.env.VOXFLOW_PASSWORD || '';
const ARTIFACTS = process.env.VOXFLOW_ARTIFACTS || path.join(here, 'artifacts');
const CHROMIUM = process.env.VOXFLOW_CHROMIUM || '/usr/bin/chromium';
const FLOW = `e2e-${Date.now().toString(36)}`;
const T = 15_000;

let context, page, userDataDir;
const consoleErrors = [];

before(async () => {
  assert.ok(PASSWORD, 'set VOXFLOW_PASSWORD (and VOXFLOW_USER, VOXFLOW_URL)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voxflow-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(T);
  page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  if (context) await context.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, name) });
const node = (id) => page.locator(`svg.graph .node[data-node="${id}"]`);
const apiGet = (p) => page.evaluate(async (u) => (await fetch(u, { headers: { Accept: 'application/json' } })).json(), `/api/v1${p}`);

async function center(locator) {
  const b = await locator.boundingBox();
  assert.ok(b, 'element is not visible');
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

async function waitSaved() {
  await page.locator('#draft-status', { hasText: /· saved$|^Published/ }).waitFor();
}

test('designer end to end', async (t) => {
  await t.test('sign in', async () => {
    await page.goto(BASE + '/');
    await page.waitForURL(/\/signin/);
    await page.locator('#username').waitFor();
    await shot('01-sign-in.png');
    await page.fill('#username', USER);
    await page.fill('#password', 'wrong password');
    await page.click('button[type=submit]');
    await page.locator('.alert.error', { hasText: 'Wrong username or password' }).waitFor();
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/flows$/);
    await page.locator('a.flow-link', { hasText: 'support-line' }).waitFor();
    await shot('02-flows.png');
  });

  await t.test('open an example flow as a graph', async () => {
    await page.click('a.flow-link:text-is("support-line")');
    await node('welcome').waitFor();
    assert.ok(await page.locator('svg.graph .node').count() >= 10);
    assert.ok(await page.locator('svg.graph .edge').count() >= 10);
    await page.locator('#problem-count', { hasText: 'Valid' }).waitFor();
    await shot('03-example-graph.png');
  });

  await t.test('flow document edits follow every kind of exit', async () => {
    // FlowDoc learns which fields are exits from the API's node types.
    const got = await page.evaluate(async () => {
      const { FlowDoc } = await import('/flowdoc.js');
      const { loadNodeTypes } = await import('/nodetypes.js');
      const src = ['name: x', 'entry: m', 'nodes:',
        '  m:', '    type: menu', '    prompt: p', '    options:', '      "1": a', '      "2": {next: a}', '    on_failure: a',
        '  b:', '    type: branch', '    when:', '      - if: "true"', '        next: a', '    default: a',
        '  s:', '    type: distribute', '    split:', '      - {percent: 100, next: a}',
        '  a:', '    type: hangup', ''].join('\n');
      const doc = new FlowDoc(src, await loadNodeTypes());
      const ports = doc.exits('m').map((p) => `${p.field}>${p.target}`);
      doc.renameNode('a', 'z');
      const renamed = doc.text();
      doc.removeNode('z');
      return { ports, renamed, removed: doc.text() };
    });
    assert.deepEqual(got.ports, ['options.1.next>a', 'options.2.next>a', 'options.+>', 'on_failure>a', 'on_error>']);
    for (const re of [/"1": z/, /"2": \{ ?next: z ?\}/, /on_failure: z/, /next: z\n\s+default: z/, /percent: 100, next: z/]) {
      assert.match(got.renamed, re);
    }
    assert.doesNotMatch(got.removed, /\bz\b/);
  });

  await t.test('create a flow from the palette', async () => {
    await page.click('a[data-nav=flows]');
    await page.click('#new-flow');
    await page.fill('dialog input[name=name]', FLOW);
    await page.click('dialog button[value=ok]');
    await page.waitForURL(new RegExp(`/flows/${FLOW}$`));
    await node('start').waitFor();
    // The palette is the API's node types: one item each, with its icon.
    const nt = await apiGet('/node-types');
    assert.equal(await page.locator('.pal-item').count(), nt.types.length, 'one palette item per node type');
    for (const t of nt.types) {
      assert.equal(await page.locator(`.pal-item[data-type="${t.type}"] .pal-icon`).innerText(), t.icon, `palette icon of ${t.type}`);
    }
    // Drag a menu from the palette onto the canvas...
    const canvas = await page.locator('#canvas').boundingBox();
    await page.dragAndDrop('.pal-item[data-type=menu]', '#canvas', { targetPosition: { x: canvas.width / 2, y: canvas.height / 2 + 40 } });
    await node('menu_1').waitFor();
    // ...and add a hangup from the keyboard.
    await page.focus('.pal-item[data-type=hangup]');
    await page.keyboard.press('Enter');
    await node('hangup_1').waitFor();
    // The menu has no options yet: an error on the node.
    await page.locator('svg.graph .node[data-node="menu_1"].has-errors').waitFor();
    await waitSaved();
  });

  await t.test('connect two nodes', async () => {
    const from = await center(page.locator('svg.graph .node[data-node="start"] .port[data-port="next"]'));
    const to = await center(node('menu_1').locator('.node-body'));
    await page.mouse.move(from.x, from.y);
    await page.mouse.down();
    await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
    await page.mouse.move(to.x, to.y, { steps: 5 });
    await page.mouse.up();
    const edge = page.locator('svg.graph .edge[data-edge="start|next"]');
    await edge.waitFor();
    assert.equal(await edge.getAttribute('data-to'), 'menu_1');
    await waitSaved();
    await shot('04-connected-with-error.png');
  });

  await t.test('fix a validation error', async () => {
    // The problem list gives line and column; the node carries the error.
    const problem = page.locator('#problems .problem.error[data-node="menu_1"]').first();
    await problem.waitFor();
    assert.match(await problem.innerText(), /\d+:\d+/);
    await problem.click();
    await page.locator('.props .field[data-field="options"].invalid').waitFor();
    assert.match(await page.locator('[data-error-for="options"]').innerText(), /line \d+, column \d+/);
    // Validation as you type: a duration without a unit, then fixed.
    await page.fill('#f-timeout', '5');
    await page.locator('.field[data-field="timeout"].invalid').waitFor();
    await page.fill('#f-timeout', '60s');
    await page.locator('.field[data-field="timeout"]:not(.invalid)').waitFor();
    // Option 2 -> hangup_1 fixes the missing options.
    await page.selectOption('.field[data-field="options"] .add-row select >> nth=0', '2');
    await page.selectOption('.field[data-field="options"] .add-row select >> nth=1', 'hangup_1');
    await page.click('.field[data-field="options"] .add-row button');
    await page.locator('svg.graph .edge[data-edge="menu_1|options.2.next"]').waitFor();
    await page.locator('svg.graph .node[data-node="menu_1"]:not(.has-errors)').waitFor();
    await page.locator('#problem-count', { hasText: 'Valid' }).waitFor();
    await waitSaved();
    await shot('05-valid.png');
  });

  await t.test('keyboard: focus a node, Enter edits, Delete asks', async () => {
    await node('hangup_1').focus();
    await page.keyboard.press('Enter');
    await page.locator('.props[aria-label="Node hangup_1"]').waitFor();
    await node('hangup_1').focus();
    await page.keyboard.press('Delete');
    await page.locator('dialog.modal', { hasText: 'Delete node hangup_1?' }).waitFor();
    await page.keyboard.press('Escape');
    await node('hangup_1').waitFor();
  });

  await t.test('YAML round trip', async () => {
    await page.click('#tab-yaml');
    const yaml1 = await page.inputValue('#yaml');
    assert.match(yaml1, /next: menu_1/);
    assert.match(yaml1, /"2": hangup_1/);
    assert.match(yaml1, /positions:/);
    await page.click('#tab-design');
    await node('menu_1').waitFor();
    await page.click('#tab-yaml');
    assert.equal(await page.inputValue('#yaml'), yaml1, 'designer -> YAML -> designer changed the YAML');
    // Edit in YAML, see it in the designer's form.
    const yaml2 = '# Kept comment: designer edits leave it alone.\n' +
      yaml1.replace('Hello, thanks for calling.', 'Welcome to the e2e line.  # greeting');
    assert.notEqual(yaml2, yaml1);
    await page.fill('#yaml', yaml2);
    await page.click('#tab-design');
    await node('start').click();
    assert.equal(await page.inputValue('#f-say'), 'Welcome to the e2e line.');
    await waitSaved();
    const flow = await apiGet(`/flows/${FLOW}`);
    assert.equal(flow.draft.source, yaml2, 'the saved draft is the YAML text');
    assert.equal(flow.draft.valid, true);
  });

  await t.test('simulate pressing 2 and see the path highlighted', async () => {
    await page.click('#open-sim');
    await page.click('#sim-start');
    await page.locator('#transcript .msg.bot', { hasText: 'For sales press 1' }).waitFor();
    await page.locator('#sim-status', { hasText: 'Waiting for the caller at menu_1' }).waitFor();
    await page.locator('svg.graph .node[data-node="menu_1"].current').waitFor();
    await page.click('.key[data-key="2"]');
    await page.locator('#sim-status', { hasText: 'Ended' }).waitFor();
    await page.locator('#transcript .msg.bot', { hasText: 'Goodbye.' }).waitFor();
    for (const id of ['start', 'menu_1', 'hangup_1']) {
      await page.locator(`svg.graph .node[data-node="${id}"].visited`).waitFor();
    }
    await page.locator('svg.graph .edge.visited[data-edge="start|next"]').waitFor();
    await page.locator('svg.graph .edge.visited[data-edge="menu_1|options.2.next"]').waitFor();
    await shot('06-simulated.png');
    // A second call left waiting at the menu: the graph shows it as heat.
    await page.click('#sim-start');
    await page.locator('#sim-status', { hasText: 'Waiting for the caller at menu_1' }).waitFor();
    await page.locator('svg.graph .node[data-node="menu_1"] .heat', { hasText: '1' }).waitFor({ timeout: 20_000 });
    await shot('06b-live-heat.png');
  });

  await t.test('publish', async () => {
    await page.click('#publish');
    await page.fill('dialog input[name=note]', 'first version');
    await page.click('dialog button[value=ok]');
    await page.locator('.toast', { hasText: 'Published v1' }).waitFor();
    await page.locator('.version[data-version="1"]').waitFor();
    // A second version: change the greeting in the form and publish.
    await page.click('#side-props');
    await node('start').click();
    await page.fill('#f-say', 'Hello from version two.');
    await waitSaved();
    await page.locator('#draft-status', { hasText: 'Draft' }).waitFor();
    const draft = (await apiGet(`/flows/${FLOW}`)).draft.source;
    assert.match(draft, /^# Kept comment: designer edits leave it alone\.\n/, 'a designer edit lost a YAML comment');
    assert.match(draft, /say: Hello from version two\. +# greeting/);
    await page.click('#publish');
    await page.click('dialog button[value=ok]');
    await page.locator('.toast', { hasText: 'Published v2' }).waitFor();
    await page.locator('.version[data-version="2"] .live-tag').waitFor();
  });

  await t.test('bind a number', async () => {
    await page.fill('.side .inline-form input[name=number]', '+15550199');
    await page.click('.side .inline-form button[type=submit]');
    await page.locator('ul.numbers li', { hasText: '+15550199' }).waitFor();
  });

  await t.test('diff and roll back', async () => {
    await page.click('.version[data-version="2"] button:text("Changes")');
    await page.locator('pre.diff .add', { hasText: 'Hello from version two.' }).waitFor();
    await page.locator('pre.diff .del', { hasText: 'Welcome to the e2e line.' }).waitFor();
    await page.click('[data-rollback="1"]');
    await page.click('dialog button[value=ok]');
    await page.locator('.toast', { hasText: 'Rolled back' }).waitFor();
    await page.locator('.version[data-version="3"]', { hasText: 'Rollback to v1' }).waitFor();
    await shot('07-rolled-back.png');
    const v = await apiGet(`/flows/${FLOW}/versions`);
    assert.equal(v.versions[0].version, 3);
    assert.equal(v.versions[0].rollback_of, 1);
  });

  await t.test('operations console: live call, timeline, reset, terminate', async () => {
    await page.click('a[data-nav=console]');
    await page.click(`.flow-rows button[data-flow="${FLOW}"]`);
    const row = page.locator('.table tbody tr', { hasText: 'menu_1' }).first();
    await row.waitFor();
    await page.locator('.mini-graph .node[data-node="menu_1"] .heat').waitFor();
    await shot('08-console.png');
    await row.locator('a').first().click();
    await page.locator('ol.timeline li', { hasText: 'menu_1' }).waitFor();
    await page.locator('.call-head .chip', { hasText: 'in menu_1' }).waitFor();
    await page.click('.call-head button:text("Reset…")');
    await page.selectOption('dialog select[name=node]', 'start');
    await page.click('dialog button[value=ok]');
    await page.locator('.toast', { hasText: 'Reset to start' }).waitFor();
    await page.locator('.call-head .chip', { hasText: 'in menu_1' }).waitFor();
    await shot('08b-call-live.png');
    await page.click('.call-head button:text("Terminate")');
    await page.click('dialog button[value=ok]');
    await page.locator('.toast', { hasText: 'Call terminated' }).waitFor();
  });

  await t.test('call records', async () => {
    await page.click('a[data-nav=cdrs]');
    await page.fill('input[name=flow]', FLOW);
    await page.click('form.filters button[type=submit]');
    const row = page.locator('.table tbody tr', { hasText: FLOW }).filter({ hasText: 'completed' }).first();
    await row.waitFor();
    await shot('09-call-records.png');
    await row.locator('a').first().click();
    await page.locator('ol.timeline li', { hasText: 'menu_1' }).waitFor();
    await page.locator('ol.timeline li', { hasText: 'input “2”' }).waitFor();
    await shot('10-call-timeline.png');
  });

  await t.test('no script errors', () => {
    const real = consoleErrors.filter((e) => !/status of 4\d\d/.test(e));
    assert.deepEqual(real, []);
  });
});
