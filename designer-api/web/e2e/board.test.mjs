// End-to-end test of the supervisor board in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core), run by e2e/board_test.go
// against `voxflow dev` with an agent added by `voxflow agents add` and a
// queue defined:
//
//   VOXFLOW_URL=... VOXFLOW_USER=... VOXFLOW_PASSWORD=... VOXFLOW_AGENT=NAME VOXFLOW_QUEUE=NAME \
//     [VOXFLOW_ALERT_CALL=ID] node --test designer-api/web/e2e/board.test.mjs
//
// VOXFLOW_ALERT_CALL names a live call with a negative_sentiment alert:
// the board (the user is an admin) must show it at the top.
//
// Without VOXFLOW_AGENT (as when the designer's tests run the whole
// folder) it is skipped.

import { test } from 'node:test';
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
const AGENT = process.env.VOXFLOW_AGENT || '';
const QUEUE = process.env.VOXFLOW_QUEUE || '';
const ALERT_CALL = process.env.VOXFLOW_ALERT_CALL || '';
const ARTIFACTS = process.env.VOXFLOW_ARTIFACTS || path.join(here, 'artifacts');
const CHROMIUM = process.env.VOXFLOW_CHROMIUM || '/usr/bin/chromium';

test('supervisor board follows an agent live', { skip: !(AGENT && QUEUE) && 'set VOXFLOW_AGENT and VOXFLOW_QUEUE (e2e/board_test.go does)', timeout: 60_000 }, async () => {
  assert.ok(PASSWORD, 'set VOXFLOW_PASSWORD (and VOXFLOW_USER, VOXFLOW_URL)');
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voxflow-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 1000 },
  });
  context.setDefaultTimeout(15_000);
  const errors = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    const shot = (name) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });

    // Sign in on the way to the board.
    await page.goto(BASE + '/board');
    await page.waitForURL(/\/signin\?next=%2Fboard/);
    await page.fill('#username', USER);
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/board$/);
    await page.locator('.stream-status', { hasText: 'Live' }).waitFor();

    // The queue's card comes with the first board event, before any call.
    const card = page.locator(`article.queue-card[data-queue="${QUEUE}"]`);
    await card.waitFor();
    assert.match(await card.innerText(), /Waiting\s+0/);
    assert.match(await card.innerText(), /0 available of 0 staffed/);
    assert.equal(await page.locator('figure.chart').count(), 3, 'three charts');
    assert.ok(await page.locator('figure.chart svg[role=img] title').count() >= 3, 'charts have titles');
    if (ALERT_CALL) {
      // The live call's alert comes with the stream, for supervisors and admins.
      const alert = page.locator(`.call-alerts li[data-alert-call="${ALERT_CALL}"]`);
      await alert.waitFor();
      assert.match(await alert.innerText(), /Negative sentiment/);
      assert.match(await alert.innerText(), /this is useless/);
      assert.equal(await alert.locator(`a[href="/console/calls/${ALERT_CALL}"]`).count(), 1, 'the alert links to the call');
    }
    await page.evaluate(() => { window.boardNotReloaded = true; });

    // Sign the agent in through the API, as an operator's tool or the
    // agent's phone app would.
    const put = (p, body) => page.evaluate(async ([u, b]) => {
      const r = await fetch(u, { method: 'PUT', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(b) });
      return `${r.status} ${await r.text()}`;
    }, [`/api/v1${p}`, body]);
    assert.match(await put(`/agents/${AGENT}`, { skills: ['english:5'], queues: [QUEUE], capacity: 1 }), /^200 /);
    assert.match(await put(`/agents/${AGENT}/state`, { state: 'available' }), /^200 /);

    // The board shows it without a reload: the stream carried it.
    const row = page.locator(`tr[data-agent="${AGENT}"][data-state="available"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /Available/);
    await card.locator('text=1 available of 1 staffed').waitFor();
    assert.equal(await page.evaluate(() => window.boardNotReloaded), true, 'the page was reloaded');
    // Time in state ticks.
    const since = row.locator('.tick');
    const first = await since.innerText();
    await page.waitForFunction(([sel, was]) => document.querySelector(sel)?.textContent !== was,
      [`tr[data-agent="${AGENT}"] .tick`, first], { timeout: 5000 });
    await shot('board-01-agent-available.png');
    // 4xx answers are expected (the session check before signing in).
    assert.deepEqual(errors.filter((e) => !/status of 4\d\d/.test(e)), [], 'no console errors');
  } finally {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
