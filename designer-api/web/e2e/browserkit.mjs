// Helpers of the browser channels' tests (desk, widget and chat
// .test.mjs, run by e2e/browser_test.go): Chromium with a fake microphone
// talking a WAV, signing in, the API, and measuring a tone in a page.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, request as pwRequest } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const env = {
  base: (process.env.VOXFLOW_URL || 'http://127.0.0.1:8080').replace(/\/$/, ''),
  user: process.env.VOXFLOW_USER || 'admin',
  password: process.env.VOXFLOW_PASSWORD || '',
  agent: process.env.VOXFLOW_DESK_AGENT || '',
  agentPassword: process.env.VOXFLOW_DESK_PASSWORD || '',
  agentVoice: process.env.VOXFLOW_AGENT_VOICE || '',
  customerVoice: process.env.VOXFLOW_CUSTOMER_VOICE || '',
  artifacts: process.env.VOXFLOW_ARTIFACTS || path.join(here, 'artifacts'),
  chromium: process.env.VOXFLOW_CHROMIUM || '/usr/bin/chromium',
  site: process.env.VOXFLOW_SITE_URL || '', // a company's page embedding the widget from another origin
  consultTo: process.env.VOXFLOW_CONSULT_TO || '', // a party the desk consults mid-call
};

// skip is why the browser channels' tests cannot run here (e2e/browser_test.go sets them up), or false.
export const skip = !(env.agent && env.agentVoice) && 'set VOXFLOW_DESK_AGENT and the voices (e2e/browser_test.go does)';

// browser starts Chromium whose microphone plays the WAV file voice and
// returns {page, context, close, errors}.
export async function browser(voice, name) {
  fs.mkdirSync(env.artifacts, { recursive: true });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), `voxflow-${name}-`));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env.chromium, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-audio-capture=${voice}`,
      '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required'],
    viewport: { width: 1280, height: 800 },
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] || (await context.newPage());
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return {
    page, context, errors,
    shot: (file) => page.screenshot({ path: path.join(env.artifacts, file) }),
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// signIn signs in through the sign-in page on the way to path.
export async function signIn(page, user, password, to) {
  await page.goto(env.base + to);
  await page.waitForURL(/\/signin\?next=/);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL((u) => u.pathname === to);
}

// adminAPI is an API client signed in as the admin.
export async function adminAPI() {
  const ctx = await pwRequest.newContext({ baseURL: env.base + '/api/v1/' });
  const r = await ctx.post('session', { data: { username: env.user, password: env.password } });
  if (!r.ok()) throw new Error(`admin sign-in: ${r.status()} ${await r.text()}`);
  return {
    get: async (p) => {
      const res = await ctx.get(p);
      if (!res.ok()) throw new Error(`GET ${p}: ${res.status()} ${await res.text()}`);
      return res.json();
    },
    close: () => ctx.dispose(),
  };
}

// until polls f until it returns a truthy value (returned) or ms pass.
export async function until(what, f, ms = 20_000) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await f();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last && last.message ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// tone measures, in the page, the audio the agent's desk plays for its
// call (of = 'desk') or the widget's call (of = 'widget'): for ms, how far the level at hz stands
// above the median level of 100-3500 Hz (dB; the best frame), and the
// loudest level at hz (dBFS).
export async function tone(page, of, hz, ms = 2000) {
  return page.evaluate(async ([of, hz, ms]) => {
    const stream = of === 'desk'
      ? window.voxflowDesk.call()?.stream
      : document.getElementById('voxflow-widget').shadowRoot.querySelector('audio').srcObject;
    if (!stream) throw new Error('no stream to measure');
    const ctx = new AudioContext();
    await ctx.resume();
    const an = ctx.createAnalyser();
    an.fftSize = 8192;
    an.smoothingTimeConstant = 0;
    ctx.createMediaStreamSource(stream).connect(an);
    const bins = new Float32Array(an.frequencyBinCount);
    const binHz = ctx.sampleRate / an.fftSize;
    const at = Math.round(hz / binHz);
    let over = -Infinity;
    let level = -Infinity;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      an.getFloatFrequencyData(bins);
      const peak = Math.max(bins[at - 1], bins[at], bins[at + 1]);
      const band = Array.from(bins.slice(Math.round(100 / binHz), Math.round(3500 / binHz))).sort((a, b) => a - b);
      const median = band[Math.floor(band.length / 2)];
      if (Number.isFinite(peak) && Number.isFinite(median)) over = Math.max(over, peak - median);
      if (Number.isFinite(peak)) level = Math.max(level, peak);
    }
    await ctx.close();
    const db = (v) => (Number.isFinite(v) ? Math.round(v) : -999); // -999: silence
    return { over: db(over), level: db(level) };
  }, [of, hz, ms]);
}

// noConsoleErrors keeps the errors that matter: 4xx answers (the session
// check before signing in) and a socket torn down on purpose are expected.
export function realErrors(errors) {
  return errors.filter((e) => !/status of 4\d\d/.test(e) && !/WebSocket/.test(e));
}
