// End-to-end test of the agent desk (/agent) in headless Chromium, run by
// e2e/browser_test.go against `voxflow dev` with SIP: the agent signs in
// and goes available; the Go test then places a SIPp caller (a 440 Hz
// voice) through a queue to the desk. The agent answers with the keyboard,
// both ways carry RTP and the caller's tone is heard, holding and
// consulting another party (a SIPp callee) hold the caller, a dropped socket
// reconnects without dropping the call, and the wrap-up form ends the
// wrap-up. The Go test checks the caller's side and the CDR.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, skip, browser, signIn, until, tone, realErrors } from './browserkit.mjs';

const CALLER_HZ = 440;
// talkLevel is the caller's tone's level at the desk while they talk
// (dBFS); held, it must fall well below.
let talkLevel = 0;

// stats reads the desk's call's RTP counters (getStats in the page).
const stats = (page) => page.evaluate(() => window.voxflowDesk.call().stats());

test('agent desk answers a queued SIP caller over WebRTC', { skip, timeout: 200_000 }, async (t) => {
  const b = await browser(env.agentVoice, 'desk');
  const { page } = b;
  let broken = false; // a failed step skips the rest: they build on it
  const step = (name, fn) => t.test(name, { skip: broken && 'an earlier step failed' }, async () => {
    try { await fn(); } catch (e) { broken = true; throw e; }
  });
  try {
    await step('sign in, keyboard, go available', async () => {
      await signIn(page, env.agent, env.agentPassword, '/agent');
      await page.locator('[data-conn=connected]').waitFor();
      await page.locator('h1', { hasText: 'Agent desk' }).waitFor();
      // Every control is reachable with Tab, with a visible focus ring.
      const seen = new Set();
      for (let i = 0; i < 40 && !seen.has('state-available'); i++) {
        await page.keyboard.press('Tab');
        const f = await page.evaluate(() => {
          const e = document.activeElement;
          return { key: e?.dataset?.key || '', outline: getComputedStyle(e).outlineStyle };
        });
        if (f.key) {
          seen.add(f.key);
          assert.notEqual(f.outline, 'none', `focus ring on ${f.key}`);
        }
      }
      assert.ok(seen.has('state-available'), `Tab reaches the Available button (saw ${[...seen]})`);
      assert.match(await page.locator('.desk-shortcuts').textContent(), /Alt\+A.*Answer/);
      await page.keyboard.press('Alt+KeyR'); // ready: available
      await page.locator('[data-agent-state=available]').waitFor();
      await b.shot('desk-01-available.png');
    });

    await step('a call rings with the screen-pop; Alt+A answers', async () => {
      // e2e/browser_test.go places the call once the router sees alice available.
      const card = page.locator('[data-call-state=ringing]');
      await card.waitFor({ timeout: 60_000 });
      assert.match(await card.innerText(), /\+15550100/);
      assert.match(await card.innerText(), /sip/);
      const pop = page.locator('.desk-pop');
      assert.equal(await pop.locator('[data-pop-node]').getAttribute('data-pop-node'), 'wait');
      assert.match(await pop.innerText(), /browser-desk/);
      assert.match(await pop.locator('[data-var=customer]').innerText(), /Ada Lovelace/);
      assert.match(await pop.locator('[data-var=intent]').innerText(), /billing/);
      assert.match(await pop.locator('.pop-path').innerText(), /lookup/);
      await b.shot('desk-02-ringing.png');
      await page.keyboard.press('Alt+KeyA');
      await page.locator('[data-call-state=connected]').waitFor({ timeout: 30_000 });
      await page.locator('[data-call-status=connected]').waitFor();
    });

    await step('audio flows both ways and the caller is heard', async () => {
      const first = await until('RTP both ways', async () => {
        const s = await stats(page);
        return s.packetsReceived > 100 && s.packetsSent > 100 && s;
      }, 20_000);
      const heard = await tone(page, 'desk', CALLER_HZ);
      t.diagnostic(`connected: ${CALLER_HZ} Hz ${JSON.stringify(heard)}, RTP ${JSON.stringify(first)}`);
      talkLevel = heard.level;
      assert.ok(heard.over >= 20 && heard.level > -50, `caller's ${CALLER_HZ} Hz heard at the desk: ${JSON.stringify(heard)}, stats ${JSON.stringify(first)}`);
      // Mute with the keyboard, then unmute.
      await page.keyboard.press('Alt+KeyM');
      await page.locator('[data-action=mute][aria-pressed=true]').waitFor();
      assert.equal(await page.evaluate(() => window.voxflowDesk.call().mic.getAudioTracks()[0].enabled), false);
      await page.keyboard.press('Alt+KeyM');
      await page.locator('[data-action=mute][aria-pressed=false]').waitFor();
      await b.shot('desk-03-connected.png');
    });

    await step('hold: the desk hears the caller no more, then again', async () => {
      await page.keyboard.press('Alt+KeyO');
      await page.locator('[data-action=hold][aria-pressed=true]').waitFor();
      await page.locator('.call-card .chip', { hasText: 'On hold' }).waitFor();
      await page.waitForTimeout(500); // what was on its way
      const held = await tone(page, 'desk', CALLER_HZ, 1500);
      t.diagnostic(`on hold: ${CALLER_HZ} Hz ${JSON.stringify(held)}`);
      assert.ok(held.level < talkLevel - 20, `the caller is not heard on hold: ${JSON.stringify(held)}, talking ${talkLevel} dBFS`);
      await page.keyboard.press('Alt+KeyO');
      await page.locator('[data-action=hold][aria-pressed=false]').waitFor();
      await until('the caller heard again', async () => {
        const x = await tone(page, 'desk', CALLER_HZ, 1000);
        return x.over >= 20 && x.level > talkLevel - 10 && x;
      }, 10_000);
    });

    await step('consult another party, then go back to the caller', async () => {
      assert.ok(env.consultTo, 'set VOXFLOW_CONSULT_TO');
      const card = page.locator('article.call-card');
      await page.keyboard.press('Alt+KeyT');
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), 'Transfer to');
      await page.keyboard.type(env.consultTo);
      await card.locator('[data-action=consult]').click();
      await card.locator('.consult', { hasText: 'Talking to' }).waitFor({ timeout: 20_000 });
      await page.waitForTimeout(500);
      const consulting = await tone(page, 'desk', CALLER_HZ, 1500);
      t.diagnostic(`consulting: ${CALLER_HZ} Hz ${JSON.stringify(consulting)}`);
      assert.ok(consulting.level < talkLevel - 20, `the caller holds during the consultation: ${JSON.stringify(consulting)}, talking ${talkLevel} dBFS`);
      await card.locator('[data-action=cancel-consult]').click();
      await card.locator('.consult').waitFor({ state: 'detached' });
      await until('the caller heard again', async () => {
        const x = await tone(page, 'desk', CALLER_HZ, 1000);
        return x.over >= 20 && x.level > talkLevel - 10 && x;
      }, 10_000);
    });

    await step('a dropped socket reconnects and the call goes on', async () => {
      const before = await stats(page);
      const hellos = await page.evaluate(() => window.voxflowDesk.hellos);
      await page.evaluate(() => window.voxflowDesk.dropSocket());
      await until('a new socket greeted', () => page.evaluate((n) => window.voxflowDesk.hellos > n, hellos), 30_000);
      await page.locator('[data-conn=connected]').waitFor();
      await until('ICE restarted', () => page.evaluate(() => {
        const c = window.voxflowDesk.call();
        return c && c.restarts === 1 && !c.restarting && c.pc.signalingState === 'stable' && c.state === 'connected';
      }), 20_000);
      const after = await until('RTP after the restart', async () => {
        const s = await stats(page);
        return s.packetsReceived > before.packetsReceived + 100 && s.packetsSent > before.packetsSent + 100 && s;
      }, 20_000);
      const heard = await tone(page, 'desk', CALLER_HZ);
      t.diagnostic(`after the reconnect: ${CALLER_HZ} Hz ${JSON.stringify(heard)}, RTP ${JSON.stringify(after)}`);
      assert.ok(heard.over >= 20 && heard.level > talkLevel - 10, `caller still heard after the reconnect: ${JSON.stringify(heard)} (${JSON.stringify(after)})`);
      assert.equal(await page.locator('[data-call-state=connected]').count(), 1, 'one call on the desk');
    });

    await step('server errors are shown', async () => {
      await page.evaluate(() => window.voxflowDesk.send({ type: 'hold', call_id: 'no-such-call', on: true }));
      const alert = page.locator('.desk-errors .alert', { hasText: 'not connected to your desk' });
      await alert.waitFor();
      await alert.locator('button', { hasText: 'Dismiss' }).click();
      await alert.waitFor({ state: 'detached' });
    });

    await step('hang up, then wrap up', async () => {
      await page.keyboard.press('Alt+KeyH');
      await page.locator('article.call-card').waitFor({ state: 'detached', timeout: 20_000 });
      await page.locator('[data-agent-state=wrap_up]').waitFor({ timeout: 20_000 });
      const form = page.locator('form.wrap-form');
      await form.waitFor();
      await page.keyboard.press('Alt+KeyW');
      assert.equal(await page.evaluate(() => document.activeElement.id), 'wrap-disposition');
      await page.keyboard.type('resolved');
      await page.fill('#wrap-notes', 'Browser e2e: heard the caller, caller heard me.');
      await b.shot('desk-04-wrap-up.png');
      await form.locator('button[type=submit]').click();
      await page.locator('[data-agent-state=available]').waitFor({ timeout: 20_000 });
      await form.waitFor({ state: 'detached' });
    });

    assert.deepEqual(realErrors(b.errors), [], 'no console errors');
  } finally {
    await b.close();
  }
});
