// End-to-end test of the web widget's call in headless Chromium, run by
// e2e/browser_test.go against `voxflow dev` with SIP: a visitor of a
// company's site (another origin, VOXFLOW_SITE_URL, which loads
// /widget.js with CORS) calls number 6200 (flow browser-menu) with the
// widget, keeps the call through a dropped socket (resume with an ICE
// restart), presses 2 on the widget's keypad, and the call's CDR shows the
// menu took option 2.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, skip, browser, adminAPI, until, realErrors } from './browserkit.mjs';

const NUMBER = '6200';

// widget reads the widget's test hook.
const widget = (page) => page.evaluate(() => {
  const w = document.getElementById('voxflow-widget').voxflow;
  return { ...w.call };
});

// rtp sums the widget call's audio packets (getStats in the page).
const rtp = (page) => page.evaluate(async () => {
  const pc = document.getElementById('voxflow-widget').voxflow.pc();
  const out = { received: 0, sent: 0, state: pc ? pc.connectionState : 'none', signaling: pc ? pc.signalingState : 'none' };
  if (!pc) return out;
  (await pc.getStats()).forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') out.received += r.packetsReceived;
    if (r.type === 'outbound-rtp' && r.kind === 'audio') out.sent += r.packetsSent;
  });
  return out;
});

test('web widget calls a menu and presses 2 on its keypad', { skip, timeout: 150_000 }, async () => {
  const b = await browser(env.customerVoice, 'widget');
  const api = await adminAPI();
  const { page } = b;
  try {
    assert.ok(env.site, 'set VOXFLOW_SITE_URL');
    await page.goto(env.site);
    assert.notEqual(new URL(env.site).origin, env.base, 'the site is another origin');
    const launch = page.locator('#voxflow-widget button.launch');
    await launch.click();
    assert.equal(await launch.getAttribute('aria-expanded'), 'true');
    assert.equal(await page.locator('#voxflow-widget [role=dialog]').getAttribute('aria-label'), 'Example Co. support');
    await page.locator('#voxflow-widget [data-action=call]').click();
    const call = await until('the call connected', async () => {
      const w = await widget(page);
      return w.connected && w.id && w.token && w;
    }, 30_000);
    assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), `voxflow-call:${env.base}:${NUMBER}`), call.token,
      'the resume token is kept in sessionStorage');
    await until('the call in the menu', async () => (await api.get(`calls/${call.id}`)).node === 'main_menu', 30_000);
    const before = await until('RTP both ways', async () => {
      const s = await rtp(page);
      return s.received > 50 && s.sent > 50 && s;
    });
    await b.shot('widget-01-in-call.png');

    // The network drops the socket: the widget resumes the call.
    await page.evaluate(() => document.getElementById('voxflow-widget').voxflow.dropSockets());
    await until('reconnecting shown', async () => (await widget(page)).statuses.includes('Reconnecting…'), 5000);
    await until('resumed', async () => {
      const [w, s] = [await widget(page), await rtp(page)];
      return w.status === 'Connected' && w.id === call.id && s.signaling === 'stable' && s.state === 'connected';
    }, 30_000);
    await until('RTP after the resume', async () => {
      const s = await rtp(page);
      return s.received > before.received + 50 && s.sent > before.sent + 50;
    });

    // Keypad: 2 for billing (RFC 4733 in the media).
    await page.locator('#voxflow-widget [data-key="2"]').click();
    await page.locator('#voxflow-widget p.status', { hasText: 'The call has ended.' }).waitFor({ timeout: 40_000 });
    await b.shot('widget-02-ended.png');
    const rec = await until('the CDR', async () => (await api.get('cdrs?flow=browser-menu')).cdrs.find((c) => c.call_id === call.id), 30_000);
    const path = rec.path.map((s) => s.node).join('>');
    const menu = rec.path.find((s) => s.node === 'main_menu' && s.input);
    assert.equal(rec.channel, 'webrtc');
    assert.equal(menu && menu.input, '2', `the menu got 2: path ${path}`);
    assert.match(path, /main_menu>billing>bye/);
    assert.equal(rec.vars.department, 'billing');
    assert.equal(await page.evaluate((k) => sessionStorage.getItem(k), `voxflow-call:${env.base}:${NUMBER}`), null,
      'the token is gone with the call');
    assert.deepEqual(realErrors(b.errors), [], 'no console errors');
  } finally {
    await api.close();
    await b.close();
  }
});
