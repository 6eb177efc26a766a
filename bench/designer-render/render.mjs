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
// svg.graph are in the DOM, then the next animation frame after that.
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

if (!PASSWORD) {
  console.error('set VOXFLOW_PASSWORD (and VOXFLOW_USER, VOXFLOW_URL, VOXFLOW_FLOW)');
  process.exit(2);
}

// Runs in the page before its scripts (performance.now() = ms since navigation start).
function probe([want, last]) {
  const r = { first: 0, all: 0, frame: 0, done: false };
  window.__vfRender = r;
  const check = () => {
    const n = document.querySelectorAll('svg.graph .node').length;
    if (n > 0 && !r.first) r.first = performance.now();
    if (n >= want && (!last || document.querySelector(`svg.graph .node[data-node="${last}"]`))) {
      r.all = performance.now();
      mo.disconnect();
      requestAnimationFrame(() => { r.frame = performance.now(); r.done = true; });
    }
  };
  const mo = new MutationObserver(check);
  mo.observe(document, { childList: true, subtree: true });
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
    await page.goto(`${BASE}/flows/${encodeURIComponent(FLOW)}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__vfRender && window.__vfRender.done, null, { timeout: T, polling: 50 });
    const r = await page.evaluate(() => {
      const res = performance.getEntriesByType('resource');
      const graph = res.find((e) => /\/api\/v1\/flows\/.*graph/.test(e.name));
      const nav = performance.getEntriesByType('navigation')[0];
      return {
        all_nodes_ms: window.__vfRender.all,
        first_node_ms: window.__vfRender.first,
        frame_ms: window.__vfRender.frame,
        graph_api_ms: graph ? graph.duration : 0,
        graph_api_end_ms: graph ? graph.responseEnd : 0,
        api_requests: res.filter((e) => e.name.includes('/api/v1/')).map((e) => `${new URL(e.name).pathname} ${e.startTime.toFixed(0)}-${e.responseEnd.toFixed(0)}`),
        dcl_ms: nav ? nav.domContentLoadedEventEnd : 0,
        nodes: document.querySelectorAll('svg.graph .node').length,
        edges: document.querySelectorAll('svg.graph .edge').length,
      };
    });
    runs.push(r);
    console.error(`run ${i + 1}: all ${r.nodes} nodes in DOM at ${r.all_nodes_ms.toFixed(1)} ms (first node ${r.first_node_ms.toFixed(1)}, next frame ${r.frame_ms.toFixed(1)}, graph API ${r.graph_api_ms.toFixed(1)} (done at ${r.graph_api_end_ms.toFixed(1)}), DOMContentLoaded ${r.dcl_ms.toFixed(1)}), ${r.edges} edges; API: ${r.api_requests.join(', ')}`);
    await page.close();
  }
  if (errors.length) console.error('page errors:', errors.join('\n'));
  process.stdout.write(JSON.stringify({ flow: FLOW, nodes: NODES, runs }) + '\n');
} finally {
  clearTimeout(timer);
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
