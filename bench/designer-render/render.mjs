// Designer time to first render: open a flow in the voxflow designer in
// headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core
// from designer-api/web/e2e/node_modules; no browser is downloaded) and time
// navigation start -> every graph node in the DOM.
//
//   VOXFLOW_URL=http://127.0.0.1:8080 VOXFLOW_USER=admin VOXFLOW_PASSWORD=... \
//   VOXFLOW_FLOW=bench-render-200 VOXFLOW_NODES=200 VOXFLOW_RUNS=5 \
//     node bench/designer-render/render.mjs
//
// BenchmarkDesignerRender (bench/designer_test.go) starts `voxflow dev`,
// stores a generated 200-node flow and runs this. It signs in once, then
// for each run opens /flows/$VOXFLOW_FLOW in a new tab of the same browser
// (run 1: first designer page after sign-in; later runs reuse the HTTP
// cache). A MutationObserver added
// before any page script stamps performance.now() (ms since navigation
// start) when the first .node and when all $VOXFLOW_NODES .node elements of
// svg.graph are in the DOM, then the next animation frame after that; for
// $VOXFLOW_SETTLE_MS (1000) more it counts redrawings of the whole graph
// (settled_ms: the last one, e.g. once the automatic layout arrived). The
// renderer's main-thread CPU time (CDP Performance.getMetrics ThreadTime)
// is read at the first complete drawing and after that second.
// Prints one JSON object on stdout.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const e2e = path.join(here, '..', '..', 'designer-api', 'web', 'e2e');
const { chromium } = createRequire(path.join(e2e, 'package.json'))('playwright-core');

const BASE = (process.env.VOXFLOW_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
const USER = process.env.VOXFLOW_USER || 'admin';
const PASSWORD = process.env.VOXFLOW_PASSWORD || '';
const CHROMIUM = process.env.VOXFLOW_CHROMIUM || '/usr/bin/chromium';
const FLOW = process.env.VOXFLOW_FLOW || 'bench-render-200';
const NODES = Number(process.env.VOXFLOW_NODES || 200);
const LAST = process.env.VOXFLOW_LAST_NODE || '';
const RUNS = Math.max(1, Math.min(50, Number(process.env.VOXFLOW_RUNS || 5)));
const T = 60_000;
// Diagnostics: VOXFLOW_RESOURCES=1 prints every resource of each run (path,
// start-end ms, bytes over the wire: 0 = from the HTTP cache);
// VOXFLOW_CPUPROFILE=file.cpuprofile saves the last run's JS CPU profile,
// VOXFLOW_TRACE=file.json its Chrome trace (open either in Chrome
// DevTools' Performance panel).
const RESOURCES = process.env.VOXFLOW_RESOURCES === '1';
const CPUPROFILE = process.env.VOXFLOW_CPUPROFILE || '';
const TRACE = process.env.VOXFLOW_TRACE || '';
// How long to watch each page after the first complete drawing (redrawings, CPU).
const SETTLE = Number(process.env.VOXFLOW_SETTLE_MS || 1000);

if (!PASSWORD) {
  console.error('set VOXFLOW_PASSWORD (and VOXFLOW_USER, VOXFLOW_URL, VOXFLOW_FLOW)');
  process.exit(2);
}

// Runs in the page before its scripts (performance.now() = ms since navigation start).
// After the first complete drawing it counts redrawings: mutation batches
// that add the whole set of nodes again (r.redraws, the last at r.settled).
function probe([want, last]) {
  const r = { first: 0, all: 0, frame: 0, done: false, redraws: 0, settled: 0 };
  window.__vfRender = r;
  const redrawn = (records) => {
    let added = 0;
    for (const m of records) for (const n of m.addedNodes) if (n.classList && n.classList.contains('node')) added++;
    if (added >= want) { r.redraws++; r.settled = performance.now(); }
  };
  const check = (records) => {
    if (r.all) return redrawn(records);
    const n = document.querySelectorAll('svg.graph .node').length;
    if (n > 0 && !r.first) r.first = performance.now();
    if (n >= want && (!last || document.querySelector(`svg.graph .node[data-node="${last}"]`))) {
      r.all = r.settled = performance.now();
      requestAnimationFrame(() => {
        r.frame = performance.now();
        r.done = true;
        console.debug('__vfRenderDone'); // render.mjs waits for this (no polling in the page)
      });
    }
  };
  const mo = new MutationObserver(check);
  mo.observe(document, { childList: true, subtree: true });
}

// mainThread reads the page's renderer counters (CDP Performance domain):
// main-thread CPU time, and time in script, style and layout, in ms.
async function mainThread(cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const ms = (k) => Math.round((m[k] || 0) * 10000) / 10;
  return { cpu: ms('ThreadTime'), task: ms('TaskDuration'), script: ms('ScriptDuration'), style: ms('RecalcStyleDuration'), layout: ms('LayoutDuration') };
}

// startTrace starts a Chrome trace of page; the function it returns stops
// it and resolves to the trace ({traceEvents}).
async function startTrace(context, page) {
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: { includedCategories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink', 'loading', 'v8', 'toplevel', 'blink.user_timing', 'disabled-by-default-v8.compile'] },
  });
  return async () => {
    const done = new Promise((resolve) => cdp.once('Tracing.tracingComplete', resolve));
    await cdp.send('Tracing.end');
    await done;
    await cdp.detach();
    return { traceEvents: events };
  };
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'voxflow-render-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 800 },
});
const timer = setTimeout(() => { console.error('render.mjs: time limit'); process.exit(3); }, 5 * 60_000);
try {
  context.setDefaultTimeout(T);
  const signin = context.pages()[0] || (await context.newPage());
  signin.on('pageerror', (e) => console.error('sign-in page error:', String(e)));
  signin.on('console', (m) => { if (m.type() === 'error') console.error('sign-in page console:', m.text()); });
  await signin.goto(BASE + '/signin');
  await signin.fill('#username', USER);
  await signin.fill('#password', PASSWORD);
  await signin.click('button[type=submit]');
  await signin.waitForURL(/\/flows$/);
  await context.addInitScript(probe, [NODES, LAST]);

  const runs = [];
  const errors = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    const perf = await context.newCDPSession(page);
    await perf.send('Performance.enable', { timeDomain: 'threadTicks' });
    let cdp = null;
    const trace = TRACE && i === RUNS - 1 ? await startTrace(context, page) : null;
    if (CPUPROFILE && i === RUNS - 1) {
      cdp = await context.newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }
    // A console message, not page.waitForFunction: that would inject
    // Playwright's script into the page while it loads (~20-40 ms of its
    // main thread here).
    const rendered = page.waitForEvent('console', { predicate: (m) => m.text() === '__vfRenderDone', timeout: T });
    await page.goto(`${BASE}/flows/${encodeURIComponent(FLOW)}`, { waitUntil: 'commit' });
    await rendered;
    const atDone = await mainThread(perf);
    await page.waitForTimeout(SETTLE);
    const settled = await mainThread(perf);
    const r = await page.evaluate(() => {
      const res = performance.getEntriesByType('resource');
      const graph = res.find((e) => /\/api\/v1\/flows\/.*graph/.test(e.name));
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        all_nodes_ms: window.__vfRender.all,
        first_node_ms: window.__vfRender.first,
        frame_ms: window.__vfRender.frame,
        settled_ms: window.__vfRender.settled,
        redraws: window.__vfRender.redraws,
        graph_api_ms: graph ? graph.duration : 0,
        graph_api_end_ms: graph ? graph.responseEnd : 0,
        api_requests: res.filter((e) => e.name.includes('/api/v1/')).map((e) => `${new URL(e.name).pathname} ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)}`),
        dcl_ms: nav ? nav.domContentLoadedEventEnd : 0,
        nodes: document.querySelectorAll('svg.graph .node').length,
        edges: document.querySelectorAll('svg.graph .edge').length,
        resources: res.map((e) => `${new URL(e.name).pathname} ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)} ${e.transferSize}B`),
      };
    });
    if (cdp) {
      const { profile } = await cdp.send('Profiler.stop');
      fs.writeFileSync(CPUPROFILE, JSON.stringify(profile));
      await cdp.detach();
    }
    if (trace) fs.writeFileSync(TRACE, JSON.stringify(await trace()));
    r.main_cpu_ms = atDone.cpu;
    r.main_total_cpu_ms = settled.cpu;
    r.main = { at_done: atDone, settled };
    await perf.detach();
    if (RESOURCES) console.error(`run ${i + 1} resources:\n  ${r.resources.join('\n  ')}`);
    delete r.resources;
    runs.push(r);
    console.error(`run ${i + 1}: all ${r.nodes} nodes in DOM at ${r.all_nodes_ms.toFixed(1)} ms (first node ${r.first_node_ms.toFixed(1)}, next frame ${r.frame_ms.toFixed(1)}, ` +
      `last redrawing ${r.settled_ms.toFixed(1)} after ${r.redraws} more; main thread CPU ${atDone.cpu} ms (script ${atDone.script}, style ${atDone.style}, layout ${atDone.layout}), ${settled.cpu} ms ${SETTLE} ms later; graph API ${r.graph_api_ms.toFixed(1)} (done at ${r.graph_api_end_ms.toFixed(1)}), DOMContentLoaded ${r.dcl_ms.toFixed(1)}), ${r.edges} edges; API: ${r.api_requests.join(', ')}`);
    await page.close();
  }
  if (errors.length) console.error('page errors:', errors.join('\n'));
  process.stdout.write(JSON.stringify({ flow: FLOW, nodes: NODES, runs }) + '\n');
} finally {
  clearTimeout(timer);
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
