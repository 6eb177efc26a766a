// The flow designer: graph, palette, node forms, validation as you type,
// YAML tab with round-trip, simulator, version history with diff, publish,
// rollback and number binding.
//
// This module builds the page and starts it. Each concern is a module
// (designer-*.js) that installs its functions on the session object d,
// through which they call one another: d.name, d.schema (the flow
// language's JSON Schema), d.types (its node types), d.editable, d.st (the
// state below), d.el (the page's elements), d.graph and d.timers.

import { FlowDoc } from './flowdoc.js';
import { flowData } from './flowdata.js';
import { h } from './ui.js';
import { can } from './app.js';
import { paletteView } from './designer-palette.js';
import { installCanvas } from './designer-canvas.js';
import { installDraft } from './designer-draft.js';
import { installProblems } from './designer-problems.js';
import { installProps } from './designer-props.js';
import { installYaml } from './designer-yaml.js';
import { installSim } from './designer-sim.js';
import { installVersions } from './designer-versions.js';

// data: the requests of flowData(name), when the router started them.
export async function designerView(main, [name], _query, data = flowData(name)) {
  const [schema, types, flowRes] = await Promise.all([data.schema, data.types, data.flow]);
  const d = newSession(name, schema, types, flowRes.data, flowRes.etag);
  layout(d, main);
  installCanvas(d);
  installDraft(d);
  installProblems(d);
  installProps(d);
  installYaml(d);
  installSim(d);
  installVersions(d);
  // The stored flow's graph came with the flow: the first drawing has
  // its final layout.
  return start(d, storedGraph(d, flowRes, await data.graph));
}

// storedGraph returns the graph of GET /flows/{name}/graph when it is of
// the source the designer holds (the same draft ETag, or the same
// version with no draft), else null: the flow changed between the two
// requests, and the designer checks its own source instead.
function storedGraph(d, flowRes, g) {
  if (!g) return null;
  const detail = flowRes.data;
  const same = detail.draft
    ? g.data.source === 'draft' && !!g.etag && g.etag === d.st.etag
    : g.data.source === `v${detail.latest_version}`;
  return same ? g.data : null;
}

function newSession(name, schema, types, detail, etag) {
  const st = {
    etag: detail.draft ? etag || `"${detail.draft.etag}"` : '',
    revision: detail.draft ? detail.draft.revision : 0,
    latest: detail.latest_version,
    hasDraft: !!detail.draft,
    doc: new FlowDoc(detail.draft ? detail.draft.source : detail.published.source, types),
    auto: {}, // automatic positions from the API's graph view
    diags: detail.draft ? detail.draft.diagnostics || [] : [],
    selected: null,
    tab: 'design',
    saveState: 'saved',
    conflict: false,
    heat: {},
    sim: null,
    lastGood: null,
  };
  return { name, schema, types, editable: can('designer'), st, el: {}, timers: [] };
}

// layout builds the page: header, palette, canvas or YAML, problems and
// the side panel. Buttons call d's functions when clicked, once installed.
function layout(d, main) {
  const { name, editable, el } = d;
  el.statusChip = h('span.chip#draft-status', { 'aria-live': 'polite' });
  el.problemsCount = h('span.chip#problem-count');
  el.tabDesign = h('button.tab#tab-design', { type: 'button', role: 'tab', 'aria-selected': 'true', onclick: () => d.showTab('design') }, 'Designer');
  el.tabYaml = h('button.tab#tab-yaml', { type: 'button', role: 'tab', 'aria-selected': 'false', onclick: () => d.showTab('yaml') }, 'YAML');
  const publishBtn = h('button.btn.primary#publish', { type: 'button', onclick: () => d.publish(), disabled: !can('publisher') }, 'Publish');
  const header = h('div.designer-head',
    h('a.back', { href: '/flows', 'data-link': '', 'aria-label': 'Back to flows' }, '←'),
    h('div.title', h('h1', name), el.statusChip, el.problemsCount),
    h('div.tabs', { role: 'tablist', 'aria-label': 'View' }, el.tabDesign, el.tabYaml),
    h('div.actions',
      h('button.btn.ghost', { type: 'button', title: 'Fit the graph in view', onclick: () => d.graph.fit() }, 'Fit'),
      editable ? h('button.btn.ghost#auto-layout', { type: 'button', title: 'Forget manual positions and lay the graph out automatically', onclick: () => d.autoLayout() }, 'Auto layout') : null,
      h('button.btn#open-sim', { type: 'button', onclick: () => d.showSide('sim') }, '▶ Simulate'),
      publishBtn));

  el.palette = paletteView(d);
  el.canvas = h('div.canvas#canvas');
  el.banner = h('div.canvas-banner', { hidden: true, role: 'alert' });
  const zoom = h('div.zoom',
    h('button.icon-btn', { type: 'button', 'aria-label': 'Zoom in', onclick: () => d.graph.zoom(1.2) }, '+'),
    h('button.icon-btn', { type: 'button', 'aria-label': 'Zoom out', onclick: () => d.graph.zoom(1 / 1.2) }, '−'));
  el.problems = h('div.problems#problems', { 'aria-label': 'Problems' });
  el.yamlArea = h('textarea.yaml#yaml', { spellcheck: 'false', 'aria-label': 'Flow YAML', wrap: 'off', readonly: !editable });
  el.gutter = h('pre.gutter', { 'aria-hidden': 'true' });
  el.yamlPane = h('div.yaml-pane', { hidden: true }, el.gutter, el.yamlArea);
  el.center = h('section.center', h('div.canvas-wrap', el.canvas, el.banner, zoom), el.yamlPane, el.problems);

  el.sideTabs = {};
  el.sideBody = h('div.side-body');
  const side = h('aside.side', { 'aria-label': 'Details' },
    h('div.side-tabs', { role: 'tablist' },
      ['props', 'sim', 'history'].map((k) => (el.sideTabs[k] = h('button.tab', { type: 'button', role: 'tab', id: `side-${k}`, onclick: () => d.showSide(k) },
        { props: 'Properties', sim: 'Simulator', history: 'Versions' }[k])))),
    el.sideBody);

  main.appendChild(h('div.designer', header, h('div.designer-body', el.palette, el.center, side)));
}

// start shows the flow (laid out as graph says, when given) and returns
// the view's teardown.
function start(d, graph) {
  const { st } = d;
  const onKey = (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') { ev.preventDefault(); d.flush(); }
  };
  const onUnload = (ev) => { if (st.saveState === 'unsaved' || st.saveState === 'saving') { ev.preventDefault(); ev.returnValue = ''; } };
  window.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', onUnload);
  d.setSave('saved');
  if (graph) {
    for (const n of graph.nodes) if (n.placed === 'auto') st.auto[n.id] = { x: n.x, y: n.y };
    st.diags = graph.diagnostics || [];
  }
  d.renderProblems();
  d.showSide('props');
  d.renderGraph({ fit: true });
  if (!graph) d.check.flush().then(() => { d.renderGraph(); d.graph.fit(); });
  d.startHeat();

  return () => {
    d.timers.forEach(clearInterval);
    window.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', onUnload);
    if (st.sim && st.sim.es) st.sim.es.close();
    if (st.saveState === 'unsaved') d.doSave();
  };
}
