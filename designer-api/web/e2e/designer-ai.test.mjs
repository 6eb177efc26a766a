// End-to-end test of the designer's AI nodes in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), run by
// e2e/designer_ai_test.go against `voxflow dev`:
//
//   VOXFLOW_URL=... VOXFLOW_USER=... VOXFLOW_PASSWORD=... VOXFLOW_AI_E2E=1 \
//     node --test designer-api/web/e2e/designer-ai.test.mjs
//
// An intent node from the AI group of the palette gets an intent with an
// example and a slot in its form, its intent's port is connected on the
// graph, the YAML shows it all, an llm node gets a tool, and a simulated
// call understands "I want to pay my bill, account 4471": the simulator
// panel shows the intent, its confidence and the slot. Without
// VOXFLOW_AI_E2E (as when the designer's tests run the whole folder) it is
// skipped.

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
const ENABLED = process.env.VOXFLOW_AI_E2E === '1';
const FLOW = `e2e-ai-${Date.now().toString(36)}`;
const T = 15_000;

let context, page, userDataDir;
const consoleErrors = [];

before(async () => {
  if (!ENABLED) return;
  assert.ok(PASSWORD, 'set VOXFLOW_PASSWORD (and VOXFLOW_USER, VOXFLOW_URL)');
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voxflow-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
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
const intentCard = (name) => page.locator(`.props .ai-item[data-intent="${name}"]`);

// center is the middle of an element of the graph, which a validation
// result may be redrawing right now: it asks again until it is there.
async function center(locator) {
  for (let i = 0; i < 20; i++) {
    const b = await locator.boundingBox();
    if (b) return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
    await page.waitForTimeout(100);
  }
  assert.fail(`${locator} is not visible`);
}

async function waitSaved() {
  await page.locator('#draft-status', { hasText: /· saved$|^Published/ }).waitFor();
}

// connect drags from a node's port to another node, as a person would.
async function connect(from, port, to) {
  const a = await center(node(from).locator(`.port[data-port="${port}"]`));
  const b = await center(node(to).locator('.node-body'));
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
  const edge = page.locator(`svg.graph .edge[data-edge="${from}|${port}"]`);
  await edge.waitFor();
  assert.equal(await edge.getAttribute('data-to'), to);
}

test('designer AI nodes end to end', { skip: !ENABLED && 'set VOXFLOW_AI_E2E=1 (e2e/designer_ai_test.go does)' }, async (t) => {
  await t.test('sign in and create a flow', async () => {
    await page.goto(BASE + '/signin');
    await page.fill('#username', USER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/flows$/);
    await page.click('#new-flow');
    await page.fill('dialog input[name=name]', FLOW);
    await page.click('dialog button[value=ok]');
    await page.waitForURL(new RegExp(`/flows/${FLOW}$`));
    await node('start').waitFor();
  });

  await t.test('flow document edits follow intents and tools', async () => {
    const got = await page.evaluate(async () => {
      const { FlowDoc } = await import('/flowdoc.js');
      const { loadNodeTypes } = await import('/nodetypes.js');
      const src = ['name: x', 'entry: u', 'nodes:',
        '  u:', '    type: intent', '    prompt: p', '    intents:',
        '      billing:', '        examples: ["pay my bill"]  # kept', '        next: a',
        '      agent: {examples: [person], next: a}', '    no_match: a',
        '  l:', '    type: llm', '    system: s', '    tools:',
        '      to_agent: {description: d, next: a}', '      balance: {description: d, activity: crm.Balance}',
        '  a:', '    type: hangup', ''].join('\n');
      const doc = new FlowDoc(src, await loadNodeTypes());
      const ports = (id) => doc.exits(id).map((p) => `${p.field}>${p.target}`);
      const before = { u: ports('u'), l: ports('l') };
      doc.setIn('u', ['intents', 'billing', 'slots', 'account'], { type: 'digits' });
      doc.setIn('u', ['intents', 'billing', 'description'], 'Paying');
      const renamed = doc.renameKey('u', ['intents', 'agent'], 'person') && !doc.renameKey('u', ['intents', 'person'], 'billing');
      doc.setEdge('u', 'intents.person.next', 'l');
      doc.renameNode('a', 'z');
      const edited = doc.text();
      doc.removeNode('z');
      return { before, renamed, edited, removed: doc.text(), after: ports('u') };
    });
    assert.deepEqual(got.before.u, ['intents.agent.next>a', 'intents.billing.next>a', 'no_match>a', 'on_error>']);
    assert.deepEqual(got.before.l, ['next>', 'tools.to_agent.next>a', 'on_error>'], 'an activity tool is no port');
    assert.ok(got.renamed, 'rename an intent, refuse a taken name');
    for (const re of [/examples: \["pay my bill"\] +# kept\n {8}slots:\n {10}account:\n {12}type: digits\n {8}description: Paying\n {8}next: z/,
      /person: \{ ?examples: \[person\], next: l ?\}/, /to_agent: \{ ?description: d, next: z ?\}/, /no_match: z/]) {
      assert.match(got.edited, re);
    }
    // Removing the target keeps the intents and tools, without their next.
    assert.doesNotMatch(got.removed, /\bz\b/);
    assert.match(got.removed, /billing:\n\s+examples: \["pay my bill"\]/);
    assert.match(got.removed, /to_agent: \{ ?description: d ?\}/);
    assert.deepEqual(got.after, ['intents.billing.next>', 'intents.person.next>l', 'no_match>', 'on_error>']);
  });

  await t.test('the palette has an AI group with the intent and llm nodes', async () => {
    const group = page.locator('.pal-group', { has: page.locator('h3', { hasText: /^AI$/ }) });
    await group.waitFor();
    assert.equal(await group.locator('.pal-item[data-type="intent"] .pal-icon').innerText(), '✦');
    assert.equal(await group.locator('.pal-item[data-type="llm"] .pal-icon').innerText(), '✧');
  });

  await t.test('add an intent node and a hangup', async () => {
    const canvas = await page.locator('#canvas').boundingBox();
    await page.dragAndDrop('.pal-item[data-type=intent]', '#canvas', { targetPosition: { x: canvas.width / 2, y: canvas.height / 2 - 60 } });
    await node('intent_1').waitFor();
    await page.locator('.props[aria-label="Node intent_1"]').waitFor();
    // The starter intent has an example but no next yet: its card says so.
    await intentCard('billing').locator('.field-error', { hasText: /no next node.*line \d+, column \d+/ }).waitFor();
    await page.focus('.pal-item[data-type=hangup]');
    await page.keyboard.press('Enter');
    await node('hangup_1').waitFor();
    await page.fill('#f-say', 'Thank you. Account {{ vars.account }}. Goodbye.');
    await waitSaved();
  });

  await t.test('edit the intent: example, description, slot, min_confidence', async () => {
    await node('intent_1').click();
    const card = intentCard('billing');
    await card.waitFor();
    await card.getByRole('button', { name: '+ Add', exact: true }).click();
    await page.keyboard.type('I want to pay my bill');
    await card.locator('input[aria-label="description of intent billing"]').fill('Paying a bill or a question about one');
    await card.locator('input[aria-label="Name of the new slot of intent billing"]').fill('account');
    await card.locator('select[aria-label="Type of the new slot of intent billing"]').selectOption('digits');
    await card.getByRole('button', { name: '+ Add slot' }).click();
    const slot = intentCard('billing').locator('.slot[data-slot="account"]');
    await slot.waitFor();
    assert.equal(await slot.locator('select[aria-label="Type of slot account"]').inputValue(), 'digits');
    // The type select offers the seven slot types of the flow language.
    assert.deepEqual(await slot.locator('select[aria-label="Type of slot account"] option').allInnerTexts(),
      ['number', 'digits', 'date', 'time', 'money', 'text', 'enum']);
    await slot.locator('input[aria-label="Slot account is required"]').check();
    await slot.locator('input[aria-label="Question for slot account"]').fill('What is your account number?');
    // A second intent, added and removed again.
    await page.fill('input[aria-label="Name of the new intent"]', 'agent');
    await page.click('.field[data-field="intents"] > .add-row button');
    await intentCard('agent').waitFor();
    await node('intent_1').locator('.port[data-port="intents.agent.next"]').waitFor();
    await page.click('button[aria-label="Remove intent agent"]');
    await intentCard('agent').waitFor({ state: 'detached' });
    // min_confidence is a number from 0 to 1: 2 is refused with its line.
    await page.fill('#f-min_confidence', '2');
    await page.locator('.field[data-field="min_confidence"].invalid').waitFor();
    assert.match(await page.locator('[data-error-for="min_confidence"]').innerText(), /out of range.*line \d+, column \d+/);
    await page.fill('#f-min_confidence', '0.4');
    await page.locator('.field[data-field="min_confidence"]:not(.invalid)').waitFor();
    await waitSaved();
  });

  await t.test('connect the intent port, no_match and the start', async () => {
    await connect('intent_1', 'intents.billing.next', 'hangup_1');
    await page.locator('svg.graph .edge[data-edge="intent_1|intents.billing.next"] .edge-label', { hasText: 'intent billing' }).waitFor();
    assert.equal(await page.inputValue('#f-intents-billing-next'), 'hangup_1', 'the form follows the graph');
    await page.selectOption('#f-no_match', 'hangup_1');
    await page.locator('svg.graph .edge[data-edge="intent_1|no_match"]').waitFor();
    await connect('start', 'next', 'intent_1');
    await page.locator('#problem-count', { hasText: 'Valid' }).waitFor();
    await waitSaved();
    await shot('ai-01-intent-node.png');
  });

  await t.test('an llm node with a tool', async () => {
    await page.focus('.pal-item[data-type=llm]');
    await page.keyboard.press('Enter');
    await node('llm_1').waitFor();
    await page.fill('input[aria-label="Name of the new tool"]', 'to_agent');
    await page.keyboard.press('Enter');
    const card = page.locator('.props .ai-item[data-tool="to_agent"]');
    await card.waitFor();
    await card.locator('input[aria-label="Description of tool to_agent"]').fill('The caller wants a person');
    await card.locator('input[aria-label="Name of the new parameter of tool to_agent"]').fill('reason');
    await card.getByRole('button', { name: '+ Add parameter' }).click();
    await page.locator('.props .ai-item[data-tool="to_agent"] [data-param="reason"]').waitFor();
    await page.selectOption('#f-tools-to_agent-next', 'hangup_1');
    await page.locator('svg.graph .edge[data-edge="llm_1|tools.to_agent.next"]').waitFor();
    await waitSaved();
    await shot('ai-02-llm-node.png');
  });

  await t.test('the YAML holds what the forms and the graph wrote', async () => {
    await page.click('#tab-yaml');
    const yaml = await page.inputValue('#yaml');
    for (const re of [
      /intent_1:\n\s+type: intent/,
      /billing:\n\s+examples:(\n\s+- pay my bill\n\s+- I want to pay my bill| \[pay my bill, I want to pay my bill\])\n/,
      /description: Paying a bill or a question about one/,
      /slots:\n\s+account:\n\s+type: digits\n\s+required: true\n\s+ask: What is your account number\?\n\s+next: hangup_1\n/,
      /\n {4}no_match: hangup_1\n/,
      /min_confidence: 0.4/,
      /to_agent:\n\s+description: The caller wants a person\n\s+params:\n\s+reason: string\n\s+next: hangup_1/,
    ]) {
      assert.match(yaml, re);
    }
    assert.doesNotMatch(yaml, /agent:\s*\{\}/, 'the removed intent is gone');
    await page.click('#tab-design');
    // The llm node is no part of the call: delete it.
    await node('llm_1').focus();
    await page.keyboard.press('Delete');
    await page.click('dialog button[value=ok]');
    await node('llm_1').waitFor({ state: 'detached' });
    await page.locator('#problem-count', { hasText: 'Valid' }).waitFor();
    await waitSaved();
  });

  await t.test('flow settings: yes/no and lists', async () => {
    const canvas = await page.locator('#canvas').boundingBox();
    await page.mouse.click(canvas.x + 20, canvas.y + 20); // the background: no node selected
    await page.locator('.props[aria-label="Flow settings"]').waitFor();
    await page.selectOption('#s-summary', 'true');
    await page.fill('#s-dispositions', 'paid, escalated');
    await page.fill('#f-sensitive', 'pin');
    await page.locator('#problem-count', { hasText: 'Valid' }).waitFor();
    await waitSaved();
    await page.click('#tab-yaml');
    const yaml = await page.inputValue('#yaml');
    await page.click('#tab-design');
    assert.match(yaml, /settings:\n {2}summary: true\n {2}dispositions:\n {4}- paid\n {4}- escalated\n/);
    assert.match(yaml, /\nsensitive:\n {2}- pin\n/);
  });

  await t.test('simulate: the panel shows the intent, confidence and slot', async () => {
    await page.click('#open-sim');
    await page.click('#sim-start');
    await page.locator('#transcript .msg.bot', { hasText: 'what are you calling about' }).waitFor();
    await page.locator('#sim-status', { hasText: 'Waiting for the caller at intent_1' }).waitFor();
    await page.fill('#sim-text', 'I want to pay my bill, account 4471');
    await page.press('#sim-text', 'Enter');
    const turn = page.locator('#transcript .ai-turn[data-node="intent_1"]');
    await turn.waitFor({ timeout: 30_000 });
    assert.match(await turn.locator('.ai-intent').innerText(), /billing/);
    assert.match(await turn.locator('.ai-conf').innerText(), /^\d{1,3}%$/);
    assert.match(await turn.locator('.ai-slots').innerText(), /account = 4471/);
    assert.match(await turn.locator('.ai-source').innerText(), /^(offline|llm)$/);
    await page.locator('#transcript .msg.bot', { hasText: 'Account 4471' }).waitFor();
    await page.locator('#sim-status', { hasText: 'Ended' }).waitFor();
    for (const id of ['start', 'intent_1', 'hangup_1']) await node(id).and(page.locator('.visited')).waitFor();
    await page.locator('svg.graph .edge.visited[data-edge="intent_1|intents.billing.next"]').waitFor();
    await shot('ai-03-simulated.png');
  });

  await t.test('no script errors', () => {
    const real = consoleErrors.filter((e) => !/status of 4\d\d/.test(e));
    assert.deepEqual(real, []);
  });
});
