// End-to-end test of supervising a call from the board in headless
// Chromium, run by e2e/browser_test.go against `voxflow dev` with SIP:
// agent alice (a Chromium talking a 1000 Hz voice) goes available on the
// desk and tells the Go test (a file "ready" in VOXFLOW_SUPERVISE_DIR),
// which places a SIP caller talking 440 Hz (RTP from Go) through the
// queue; alice answers. A supervisor (role supervisor, a Chromium talking
// 1700 Hz) opens the board and clicks Listen, Whisper, Barge in and Leave
// on alice's call. In each mode the supervisor must hear the caller and
// alice, and alice must hear the supervisor in whisper and barge only; the
// windows of each mode go to windows.json, where the Go test checks that
// the caller heard the supervisor in barge only. The call's timeline (API
// and console) lists what the supervisor did, and a designer's board has
// no Supervise column.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { env, skip, browser, signIn, adminAPI, until, realErrors } from './browserkit.mjs';

const CALLER_HZ = 440;
const AGENT_HZ = 1000;
const SUPERVISOR_HZ = 1700;
const sv = {
  user: process.env.VOXFLOW_SUPERVISOR || '',
  password: process.env.VOXFLOW_SUPERVISOR_PASSWORD || '',
  voice: process.env.VOXFLOW_SUPERVISOR_VOICE || '',
  designer: process.env.VOXFLOW_DESIGNER || '',
  designerPassword: process.env.VOXFLOW_DESIGNER_PASSWORD || '',
  dir: process.env.VOXFLOW_SUPERVISE_DIR || '', // "ready" and windows.json, shared with the Go test
};
const skipped = skip || (!(sv.user && sv.voice && sv.dir && sv.designer) &&
  'set VOXFLOW_SUPERVISOR, VOXFLOW_SUPERVISOR_VOICE, VOXFLOW_DESIGNER and VOXFLOW_SUPERVISE_DIR (e2e/browser_test.go does)');

// SETTLE is how long a mode change is given to reach every ear before a
// measurement starts (the server switched the mixer before it confirmed).
const SETTLE = 700;
// MEASURE is how long each mode is listened to.
const MEASURE = 2500;

// levels measures, in a page, the audio it plays for the call: the desk's
// call (of = 'desk') or the board's <audio data-monitor=CALLID> (of = the
// call's ID). For each of the three voices it gives, over ms, how far the
// level at the tone stands above the median of 100-3500 Hz (dB, the best
// frame) and the loudest level at the tone (dBFS; -999 is silence).
function levels(page, of, ms = MEASURE) {
  return page.evaluate(async ([of, hzs, ms]) => {
    const stream = of === 'desk'
      ? window.voxflowDesk.call()?.stream
      : document.querySelector(`audio[data-monitor="${CSS.escape(of)}"]`)?.srcObject;
    if (!stream) throw new Error(`no stream to measure (${of})`);
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    ctx.createMediaStreamSource(stream).connect(an);
    const bins = new Float32Array(an.frequencyBinCount);
    const binHz = ctx.sampleRate / an.fftSize;
    const out = hzs.map(() => ({ over: -Infinity, level: -Infinity }));
    const end = Date.now() + ms;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatFrequencyData(bins);
      const band = Array.from(bins.slice(Math.round(100 / binHz), Math.round(3500 / binHz))).sort((a, b) => a - b);
      const median = band[Math.floor(band.length / 2)];
      hzs.forEach((hz, i) => {
        const at = Math.round(hz / binHz);
        const peak = Math.max(bins[at - 1], bins[at], bins[at + 1]);
        if (Number.isFinite(peak) && Number.isFinite(median)) out[i].over = Math.max(out[i].over, peak - median);
        if (Number.isFinite(peak)) out[i].level = Math.max(out[i].level, peak);
      });
    }
    await ctx.close();
    const db = (v) => (Number.isFinite(v) ? Math.round(v) : -999);
    return Object.fromEntries(hzs.map((hz, i) => [hz, { over: db(out[i].over), level: db(out[i].level) }]));
  }, [of, [CALLER_HZ, AGENT_HZ, SUPERVISOR_HZ], ms]);
}

// heard: the tone stands clearly out of what the page plays.
const heard = (x) => x.over >= 20 && x.level > -50;
// silent: the tone is at least 30 dB below ref, a tone heard in the same
// audio (codec noise and leaks are far lower; a voice is not).
const silent = (x, ref) => x.level < ref.level - 30;

// hearsS names what each mode must let through.
const hearsS = {
  listen: 'nobody hears the supervisor',
  whisper: 'alice hears the supervisor',
  barge: 'alice hears the supervisor (the caller too: the Go test checks)',
};

const fmt = (l) => Object.entries(l).map(([hz, x]) => `${hz} Hz ${x.level} dBFS (${x.over >= 0 ? '+' : ''}${x.over} dB)`).join(', ');

test('listen, whisper and barge: each party hears exactly what it should', { skip: skipped, timeout: 200_000 }, async (t) => {
  const agent = await browser(env.agentVoice, 'supervise-agent');
  const boss = await browser(sv.voice, 'supervise-supervisor');
  const api = await adminAPI();
  const desk = agent.page;
  const board = boss.page;
  const windows = [];
  let callID = '';
  let broken = false; // a failed step skips the rest: they build on it
  const step = (name, fn) => t.test(name, { skip: broken && 'an earlier step failed' }, async () => {
    try { await fn(); } catch (e) { broken = true; throw e; }
  });
  try {
    await step('alice answers a queued SIP caller on the desk', async () => {
      await signIn(desk, env.agent, env.agentPassword, '/agent');
      await desk.locator('[data-conn=connected]').waitFor();
      // The chat before may have left alice in wrap-up: finish it.
      const now = desk.locator('[data-agent-state]:not([data-agent-state=unknown])');
      await now.waitFor();
      if (await now.getAttribute('data-agent-state') === 'wrap_up') {
        await desk.fill('#wrap-disposition', 'resolved');
        await desk.locator('form.wrap-form button[type=submit]').click();
        await desk.locator('form.wrap-form').waitFor({ state: 'detached' });
      }
      await desk.locator('[data-state=available]').click();
      await desk.locator('[data-agent-state=available]').waitFor();
      fs.writeFileSync(path.join(sv.dir, 'ready'), new Date().toISOString()); // the Go test places the call
      const card = desk.locator('[data-call-state=ringing]');
      await card.waitFor({ timeout: 60_000 });
      await card.locator('[data-action=answer]').click();
      await desk.locator('[data-call-state=connected]').waitFor({ timeout: 30_000 });
      callID = await desk.evaluate(() => window.voxflowDesk.call().id);
      await until('alice hears the caller', async () => heard((await levels(desk, 'desk', 1000))[CALLER_HZ]), 20_000);
    });

    await step('the supervisor\'s board offers to supervise alice\'s call', async () => {
      await signIn(board, sv.user, sv.password, '/board');
      const row = board.locator(`tr[data-agent="${env.agent}"][data-state=on_call]`);
      await row.waitFor({ timeout: 20_000 });
      await board.locator('table.agents-table th', { hasText: 'Supervise' }).waitFor();
      for (const m of ['listen', 'whisper', 'barge']) {
        assert.equal(await row.locator(`button[data-monitor=${m}][data-call="${callID}"]`).getAttribute('aria-pressed'), 'false');
      }
      assert.equal(await row.locator('button[data-monitor=leave]').count(), 0, 'no Leave before joining');
    });

    for (const mode of ['listen', 'whisper', 'barge']) {
      await step(`${mode}: the supervisor hears both; ${hearsS[mode]}`, () => supervise(t, board, desk, callID, mode, windows));
    }

    await step('leave: nobody hears the supervisor', async () => {
      await board.locator(`button[data-monitor=leave][data-call="${callID}"]`).click();
      await board.locator(`audio[data-monitor="${callID}"]`).waitFor({ state: 'detached' });
      await board.locator(`button[data-monitor=leave][data-call="${callID}"]`).waitFor({ state: 'detached' });
      for (const m of ['listen', 'whisper', 'barge']) {
        assert.equal(await board.locator(`button[data-monitor=${m}][data-call="${callID}"]`).getAttribute('aria-pressed'), 'false');
      }
      await board.waitForTimeout(SETTLE);
      const from = Date.now();
      const a = await levels(desk, 'desk');
      windows.push({ mode: 'left', from, to: Date.now() });
      t.diagnostic(`left: alice hears ${fmt(a)}`);
      assert.ok(heard(a[CALLER_HZ]), `alice hears the caller: ${fmt(a)}`);
      assert.ok(silent(a[SUPERVISOR_HZ], a[CALLER_HZ]), `alice no longer hears the supervisor: ${fmt(a)}`);
    });

    await step('the call\'s timeline has listen, whisper, barge and leave', async () => {
      const c = await until('the events', async () => {
        const x = await api.get(`calls/${encodeURIComponent(callID)}`);
        return x.events.length >= 4 && x;
      }, 10_000);
      assert.deepEqual(c.events.map((e) => `${e.actor} ${e.action}`),
        ['listen', 'whisper', 'barge', 'leave'].map((a) => `${sv.user} ${a}`));
      await board.goto(`${env.base}/console/calls/${encodeURIComponent(callID)}`);
      const items = board.locator('ol.timeline li.tl-event');
      await until('four events on the call page', async () => (await items.count()) === 4, 10_000);
      assert.deepEqual(await items.evaluateAll((els) => els.map((e) => e.dataset.event)), ['listen', 'whisper', 'barge', 'leave']);
      for (const text of await items.allInnerTexts()) assert.match(text, new RegExp(sv.user));
      await boss.shot('supervise-02-timeline.png');
    });

    await step('a designer\'s board has no Supervise column', async () => {
      await boss.context.clearCookies();
      await signIn(board, sv.designer, sv.designerPassword, '/board');
      await board.locator(`tr[data-agent="${env.agent}"][data-state=on_call]`).waitFor({ timeout: 20_000 });
      assert.equal(await board.locator('table.agents-table th', { hasText: 'Supervise' }).count(), 0);
      assert.equal(await board.locator('[data-monitor]').count(), 0, 'no supervise buttons');
    });

    await step('alice hangs up', async () => {
      await desk.keyboard.press('Alt+KeyH');
      await desk.locator('article.call-card').waitFor({ state: 'detached', timeout: 20_000 });
    });
    assert.deepEqual(realErrors(agent.errors), [], 'no console errors on the desk');
    assert.deepEqual(realErrors(boss.errors), [], 'no console errors on the board');
  } finally {
    fs.writeFileSync(path.join(sv.dir, 'windows.json'), JSON.stringify({ call_id: callID, windows }));
    await api.close();
    await boss.close();
    await agent.close();
  }
});

// supervise clicks mode on the board, then measures at once what the
// supervisor and alice hear, and keeps the window for the caller's check.
async function supervise(t, board, desk, callID, mode, windows) {
  const btn = board.locator(`button[data-monitor=${mode}][data-call="${callID}"]`);
  await btn.click();
  await board.locator(`button[data-monitor=${mode}][data-call="${callID}"][aria-pressed=true]`).waitFor();
  const others = ['listen', 'whisper', 'barge'].filter((m) => m !== mode);
  for (const m of others) {
    assert.equal(await board.locator(`button[data-monitor=${m}][data-call="${callID}"]`).getAttribute('aria-pressed'), 'false');
  }
  await board.locator(`button[data-monitor=leave][data-call="${callID}"]`).waitFor();
  if (mode === 'listen') {
    // The first join: wait for the supervisor's audio to start.
    await until('the supervisor hears the call', async () => {
      const s = await levels(board, callID, 1000);
      return heard(s[CALLER_HZ]) && heard(s[AGENT_HZ]);
    }, 20_000);
  }
  await board.waitForTimeout(SETTLE);
  const from = Date.now();
  const [s, a] = await Promise.all([levels(board, callID), levels(desk, 'desk')]);
  windows.push({ mode, from, to: Date.now() });
  t.diagnostic(`${mode}: the supervisor hears ${fmt(s)}; alice hears ${fmt(a)}`);
  if (mode === 'listen') await board.screenshot({ path: path.join(env.artifacts, 'supervise-01-listen.png') });
  assert.ok(heard(s[CALLER_HZ]) && heard(s[AGENT_HZ]), `${mode}: the supervisor hears the caller and alice: ${fmt(s)}`);
  assert.ok(silent(s[SUPERVISOR_HZ], s[CALLER_HZ]), `${mode}: the supervisor does not hear themselves: ${fmt(s)}`);
  assert.ok(heard(a[CALLER_HZ]), `${mode}: alice hears the caller: ${fmt(a)}`);
  if (mode === 'listen') {
    assert.ok(silent(a[SUPERVISOR_HZ], a[CALLER_HZ]), `listen: alice does not hear the supervisor: ${fmt(a)}`);
  } else {
    assert.ok(heard(a[SUPERVISOR_HZ]), `${mode}: alice hears the supervisor: ${fmt(a)}`);
  }
}
