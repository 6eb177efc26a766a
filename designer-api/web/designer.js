// The flow designer: graph, palette, node forms, validation as you type,
// YAML tab with round-trip, simulator, version history with diff, publish,
// rollback and number binding.

import { api, flowSchema, ApiError } from './api.js';
import { FlowDoc, nodeProps } from './flowdoc.js';
import { loadNodeTypes } from './nodetypes.js';
import { GraphView } from './graph.js';
import { nodeForm, flowForm } from './forms.js';
import { h, clear, toast, dialog, ago, debounce } from './ui.js';
import { can, navigate, bindForm, errorBox } from './app.js';

export async function designerView(main, [name]) {
  const [schema, types, flowRes] = await Promise.all([flowSchema(), loadNodeTypes(), api.getFlow(name)]);
  const detail = flowRes.data;
  const st = {
    name,
    etag: detail.draft ? flowRes.etag || `"${detail.draft.etag}"` : '',
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
  const editable = can('designer');
  const timers = [];

  // ---- layout ----
  const statusChip = h('span.chip#draft-status', { 'aria-live': 'polite' });
  const problemsCount = h('span.chip#problem-count');
  const tabDesign = h('button.tab#tab-design', { type: 'button', role: 'tab', 'aria-selected': 'true', onclick: () => showTab('design') }, 'Designer');
  const tabYaml = h('button.tab#tab-yaml', { type: 'button', role: 'tab', 'aria-selected': 'false', onclick: () => showTab('yaml') }, 'YAML');
  const publishBtn = h('button.btn.primary#publish', { type: 'button', onclick: publish, disabled: !can('publisher') }, 'Publish');
  const header = h('div.designer-head',
    h('a.back', { href: '/flows', 'data-link': '', 'aria-label': 'Back to flows' }, '←'),
    h('div.title', h('h1', name), statusChip, problemsCount),
    h('div.tabs', { role: 'tablist', 'aria-label': 'View' }, tabDesign, tabYaml),
    h('div.actions',
      h('button.btn.ghost', { type: 'button', title: 'Fit the graph in view', onclick: () => graph.fit() }, 'Fit'),
      editable ? h('button.btn.ghost#auto-layout', { type: 'button', title: 'Forget manual positions and lay the graph out automatically', onclick: autoLayout }, 'Auto layout') : null,
      h('button.btn#open-sim', { type: 'button', onclick: () => showSide('sim') }, '▶ Simulate'),
      publishBtn));

  const palItem = (t) => {
    const item = h(`button.pal-item.g-${t.color}`, {
      type: 'button', draggable: editable ? 'true' : 'false', disabled: !editable, title: t.doc,
      'data-type': t.type, 'aria-label': `Add a ${t.type} node`,
      onclick: () => addNode(t.type),
    }, h('span.pal-icon', t.icon), h('span', t.type));
    item.addEventListener('dragstart', (ev) => {
      ev.dataTransfer.setData('application/x-voxflow-node', t.type);
      ev.dataTransfer.effectAllowed = 'copy';
    });
    return item;
  };
  const groups = types.palette();
  const grouped = new Set(groups.flatMap((g) => g.types.map((t) => t.type)));
  const palette = h('aside.palette', { 'aria-label': 'Node palette' },
    h('h2', 'Nodes'),
    h('p.muted.small', editable ? 'Drag onto the canvas, or press Enter to add.' : 'Read only: your role cannot edit.'),
    groups.map((g) => h('div.pal-group', h('h3', g.title), g.types.map(palItem))),
    types.types.filter((t) => !grouped.has(t.type)).map(palItem));

  const canvas = h('div.canvas#canvas');
  const banner = h('div.canvas-banner', { hidden: true, role: 'alert' });
  const zoom = h('div.zoom',
    h('button.icon-btn', { type: 'button', 'aria-label': 'Zoom in', onclick: () => graph.zoom(1.2) }, '+'),
    h('button.icon-btn', { type: 'button', 'aria-label': 'Zoom out', onclick: () => graph.zoom(1 / 1.2) }, '−'));
  const problems = h('div.problems#problems', { 'aria-label': 'Problems' });
  const yamlArea = h('textarea.yaml#yaml', { spellcheck: 'false', 'aria-label': 'Flow YAML', wrap: 'off', readonly: !editable });
  const gutter = h('pre.gutter', { 'aria-hidden': 'true' });
  const yamlPane = h('div.yaml-pane', { hidden: true }, gutter, yamlArea);
  const center = h('section.center', h('div.canvas-wrap', canvas, banner, zoom), yamlPane, problems);

  const sideTabs = {};
  const sideBody = h('div.side-body');
  const side = h('aside.side', { 'aria-label': 'Details' },
    h('div.side-tabs', { role: 'tablist' },
      ['props', 'sim', 'history'].map((k) => (sideTabs[k] = h('button.tab', { type: 'button', role: 'tab', id: `side-${k}`, onclick: () => showSide(k) },
        { props: 'Properties', sim: 'Simulator', history: 'Versions' }[k])))),
    sideBody);

  main.appendChild(h('div.designer', header, h('div.designer-body', palette, center, side)));

  const graph = new GraphView(canvas, {
    onSelect: (id) => { st.selected = id; if (st.side === 'props') renderSide(); },
    onOpen: (id) => { st.selected = id; showSide('props'); const f = sideBody.querySelector('input,textarea,select'); if (f) f.focus(); },
    onMove: (moves) => edit(() => { pinAll(); st.doc.setPositions(moves); }),
    onConnect: (from, field, to) => edit(() => st.doc.setEdge(from, field, to), true),
    onAdd: (type, x, y) => addNode(type, { x, y }),
    onDelete: (id) => removeNode(id),
  }, { readOnly: !editable, types });

  // ---- model -> graph ----
  function graphModel() {
    const doc = st.doc;
    const pos = doc.positions();
    const diagsByNode = {};
    for (const d of st.diags) if (d.node) (diagsByNode[d.node] ||= []).push(d);
    let i = 0;
    const nodes = doc.nodeIds().map((id) => {
      const n = doc.node(id) || {};
      const p = pos[id] || st.auto[id] || { x: (i % 4) * 240, y: 600 + Math.floor(i / 4) * 140 };
      i++;
      const ds = diagsByNode[id] || [];
      return {
        id, type: String(n.type || '?'), label: n.label ? String(n.label) : '', x: p.x, y: p.y,
        entry: doc.entry === id, onHangup: doc.onHangup === id,
        errors: ds.filter((d) => d.severity === 'error'), warnings: ds.filter((d) => d.severity !== 'error'),
        ports: doc.exits(id), heat: st.heat[id] || 0,
      };
    });
    return { nodes, edges: doc.edges() };
  }

  function renderGraph() {
    if (!st.doc.ok) {
      banner.hidden = false;
      banner.textContent = 'The YAML has syntax errors: the graph shows the last valid version. Fix them in the YAML tab.';
      return;
    }
    banner.hidden = true;
    graph.select(st.selected);
    graph.render(graphModel());
  }

  // pinAll writes every node's current position into metadata.positions
  // (the first manual move freezes the automatic layout).
  function pinAll() {
    const pos = st.doc.positions();
    const missing = {};
    for (const n of graph.model.nodes) if (!pos[n.id]) missing[n.id] = { x: n.x, y: n.y };
    if (Object.keys(missing).length) st.doc.setPositions(missing);
  }

  // ---- edits ----
  function edit(fn, rerenderSide = false) {
    if (!editable) return;
    fn();
    afterEdit(rerenderSide);
  }

  function afterEdit(rerenderSide) {
    renderGraph();
    if (rerenderSide && st.side === 'props') renderSide();
    if (st.tab === 'yaml') setYaml(st.doc.text());
    setSave('unsaved');
    check();
    save();
  }

  function addNode(type, at) {
    if (!editable) return;
    const id = st.doc.newNodeId(type);
    const p = at || graph.freeSpot();
    edit(() => {
      pinAll();
      st.doc.addNode(id, { type, ...types.starter(type) }, p);
    });
    st.selected = id;
    graph.select(id);
    showSide('props');
    graph.focusNode(id);
    toast(`Added ${type} node ${id}`);
  }

  async function removeNode(id) {
    const ok = await dialog({ title: `Delete node ${id}?`, body: 'Exits that lead to it are removed too.', ok: 'Delete', danger: true });
    if (!ok) return;
    edit(() => st.doc.removeNode(id));
    if (st.selected === id) st.selected = null;
    renderSide();
    canvas.querySelector('svg').focus();
  }

  function autoLayout() {
    edit(() => st.doc.clearPositions());
    check.flush().then(() => graph.fit());
  }

  // ---- validation as you type (POST /flows/graph: diagnostics + layout) ----
  let checkSeq = 0;
  const check = debounce(async () => {
    const seq = ++checkSeq;
    const src = st.doc.text();
    try {
      const [g, v] = await Promise.all([
        st.doc.ok ? api.graphOfSource(src).catch((e) => e) : Promise.resolve(null),
        api.validate(src, name),
      ]);
      if (seq !== checkSeq) return;
      st.diags = v.data.diagnostics || [];
      if (g && !(g instanceof Error)) {
        st.auto = {};
        for (const n of g.data.nodes) if (n.placed === 'auto') st.auto[n.id] = { x: n.x, y: n.y };
      }
    } catch (e) {
      if (seq !== checkSeq) return;
      if (e instanceof ApiError && e.diagnostics.length) st.diags = e.diagnostics;
      else return;
    }
    renderGraph();
    renderProblems();
    markFieldErrors();
    if (st.tab === 'yaml') renderGutter();
  }, 250);

  // ---- save the draft (PUT with If-Match) ----
  let saving = null;
  const save = debounce(async () => {
    if (saving) await saving.catch(() => {});
    saving = doSave();
    return saving;
  }, 600);

  async function doSave() {
    if (st.conflict || st.saveState === 'saved') return;
    const src = st.doc.text();
    setSave('saving');
    try {
      const r = await api.saveDraft(name, src, st.etag);
      st.etag = r.etag || `"${r.data.etag}"`;
      st.revision = r.data.revision;
      st.hasDraft = true;
      setSave(st.doc.text() === src ? 'saved' : 'unsaved');
      if (st.doc.text() !== src) save();
    } catch (e) {
      if (e.status === 412 || e.status === 428) {
        st.conflict = true;
        setSave('conflict');
        banner.hidden = false;
        clear(banner).append('Someone else changed this draft: your edits were not saved. ',
          h('button.btn.small', { type: 'button', onclick: () => navigate(location.pathname, { replace: true }) }, 'Reload their version'));
      } else {
        setSave('error');
        toast(`Saving failed: ${e.message}`, 'error');
      }
    }
  }

  function setSave(s) {
    st.saveState = s;
    const text = {
      saved: st.hasDraft ? `Draft r${st.revision} · saved` : st.latest ? `Published v${st.latest}` : 'Saved',
      unsaved: 'Unsaved changes', saving: 'Saving…', conflict: 'Conflict: not saved', error: 'Not saved',
    }[s];
    statusChip.textContent = text;
    statusChip.className = 'chip ' + ({ saved: st.hasDraft ? 'warn' : 'ok', unsaved: '', saving: '', conflict: 'bad', error: 'bad' }[s] || '');
  }

  async function flush() {
    check.cancel();
    await check.flush();
    if (st.saveState !== 'saved') {
      save.cancel();
      await (saving || Promise.resolve()).catch(() => {});
      await doSave();
    }
  }

  // ---- problems ----
  function renderProblems() {
    const errs = st.diags.filter((d) => d.severity === 'error');
    const warns = st.diags.filter((d) => d.severity !== 'error');
    problemsCount.textContent = errs.length ? `${errs.length} error${errs.length > 1 ? 's' : ''}` : warns.length ? `${warns.length} warning${warns.length > 1 ? 's' : ''}` : 'Valid';
    problemsCount.className = 'chip ' + (errs.length ? 'bad' : warns.length ? 'warn' : 'ok');
    clear(problems);
    problems.appendChild(h('div.problems-head', h('strong', 'Problems'),
      h('span.muted', st.diags.length ? `${errs.length} error(s), ${warns.length} warning(s)` : 'No problems: the flow is valid.')));
    if (!st.diags.length) return;
    problems.appendChild(h('ul', st.diags.map((d) => h('li', h('button.problem', {
      type: 'button', class: d.severity, 'data-node': d.node || '',
      onclick: () => {
        if (st.tab === 'yaml') return gotoLine(d.line, d.column);
        if (d.node) { st.selected = d.node; graph.select(d.node); showSide('props'); graph.focusNode(d.node); }
        else { st.selected = null; showSide('props'); }
      },
    }, h('span.sev', d.severity === 'error' ? '●' : '▲'), h('span.pos.mono', `${d.line}:${d.column}`),
    d.node ? h('span.node-ref', d.node) : null, h('span.msg', d.message))))));
  }

  // fieldOf maps a diagnostic's YAML path to the form field it concerns.
  function fieldOf(d) {
    const f = d.field || '';
    if (d.node) {
      const rest = f.slice(`$.nodes.${d.node}`.length).replace(/^\./, '');
      const f0 = rest.split(/[.[]/)[0];
      if (f0) return f0;
      const m = /missing required field (\w+)/.exec(d.message);
      if (m) return m[1];
      return fieldAtLine(d.node, d.line);
    }
    const m = /^\$\.([a-z_]+)(?:\.([a-z_]+))?/.exec(f);
    if (!m) return '';
    return m[1] === 'settings' && m[2] ? `settings.${m[2]}` : m[1];
  }

  // fieldAtLine finds the node field written at (or, for nested values,
  // above) a line of the YAML: some diagnostics point at the node only.
  function fieldAtLine(nodeId, line) {
    const n = st.doc.node(nodeId);
    if (!n || !line) return '';
    const props = nodeProps(schema, n.type);
    const lines = st.doc.text().split('\n');
    let indent = Infinity;
    for (let i = line - 1; i >= 0 && i < lines.length; i--) {
      const m = /^(\s*)(?:- )?"?([A-Za-z_][\w]*)"?\s*:/.exec(lines[i]);
      if (!m || m[1].length >= indent) continue;
      indent = m[1].length;
      if (props[m[2]]) return m[2];
      if (m[2] === nodeId) return '';
    }
    return '';
  }

  function markFieldErrors() {
    sideBody.querySelectorAll('[data-error-for]').forEach((e) => { e.textContent = ''; });
    sideBody.querySelectorAll('.field.invalid').forEach((e) => e.classList.remove('invalid'));
    const nodeBox = sideBody.querySelector('.node-errors');
    if (nodeBox) clear(nodeBox);
    for (const d of st.diags) {
      if ((d.node || null) !== (st.selected || null) && !(st.selected === null && !d.node)) continue;
      if (st.selected && d.node !== st.selected) continue;
      const f = fieldOf(d);
      const slot = f && sideBody.querySelector(`[data-error-for="${CSS.escape(f)}"]`);
      const text = `${d.severity === 'error' ? '' : 'warning: '}${d.message} (line ${d.line}, column ${d.column})`;
      if (slot) {
        slot.textContent = slot.textContent ? slot.textContent + '\n' + text : text;
        slot.closest('.field').classList.add('invalid');
      } else if (nodeBox) {
        nodeBox.appendChild(h('div.alert', { class: d.severity === 'error' ? 'error' : 'warn' }, text));
      }
    }
  }

  // ---- side panel ----
  function showSide(k) {
    st.side = k;
    for (const [key, b] of Object.entries(sideTabs)) b.setAttribute('aria-selected', String(key === k));
    renderSide();
  }

  function renderSide() {
    if (st.side !== 'sim') stopSimUI();
    clear(sideBody);
    if (st.side === 'sim') return renderSim();
    if (st.side === 'history') return renderHistory();
    renderProps();
  }

  function renderProps() {
    const id = st.selected;
    const node = id && st.doc.node(id);
    const ctx = {
      schema, nodeIds: st.doc.nodeIds(),
      onChange: (field, value, structural) => edit(() => st.doc.setField(id, field, value), structural || ['options', 'when', 'split'].includes(field)),
      onEdge: (field, target) => edit(() => st.doc.setEdge(id, field, target), true),
      onFlow: (field, value) => edit(() => st.doc.setFlowField(field, value), field === 'entry' || field === 'on_hangup'),
      onSetting: (field, value) => edit(() => st.doc.setSetting(field, value)),
    };
    const form = h('form.props', { onsubmit: (e) => e.preventDefault(), 'aria-label': node ? `Node ${id}` : 'Flow settings' });
    if (!node) {
      form.append(h('div.props-head', h('h2', 'Flow'), h('p.muted.small', 'Select a node to edit it.')), h('div.node-errors'), ...flowForm(st.doc.js(), ctx));
    } else {
      const info = types.info(node.type);
      const idInput = h('input.mono#f-id', { value: id, pattern: '[A-Za-z0-9_\\-]+', autocomplete: 'off', readonly: !editable });
      idInput.addEventListener('change', () => {
        const to = idInput.value.trim();
        if (!to || to === id) return;
        if (!/^[A-Za-z0-9_-]+$/.test(to)) { toast('Node IDs use letters, digits, _ and -', 'error'); idInput.value = id; return; }
        let ok = false;
        edit(() => { ok = st.doc.renameNode(id, to); });
        if (!ok) { toast(`A node ${to} already exists`, 'error'); idInput.value = id; return; }
        st.selected = to;
        renderSide();
      });
      form.append(
        h('div.props-head',
          h('span.type-badge', { class: `g-${info.color}` }, info.icon || '', ' ', node.type),
          editable ? h('button.btn.small.danger-ghost', { type: 'button', onclick: () => removeNode(id) }, 'Delete') : null),
        h('p.muted.small', info.doc),
        h('div.field', h('label', { for: 'f-id' }, h('span.field-label', 'id')), idInput),
        h('div.node-errors'),
        ...nodeForm(node, ctx));
      if (!editable) form.querySelectorAll('input,select,textarea,button').forEach((e) => (e.disabled = true));
    }
    sideBody.appendChild(form);
    markFieldErrors();
  }

  // ---- YAML tab ----
  function setYaml(text) {
    if (yamlArea.value !== text) yamlArea.value = text;
    renderGutter();
  }

  function renderGutter() {
    const lines = yamlArea.value.split('\n').length;
    const bad = new Map();
    for (const d of st.diags) if (!bad.has(d.line) || d.severity === 'error') bad.set(d.line, d.severity);
    clear(gutter);
    for (let i = 1; i <= lines; i++) {
      const s = bad.get(i);
      gutter.appendChild(s ? h('span', { class: s, title: st.diags.filter((d) => d.line === i).map((d) => d.message).join('\n') }, String(i)) : document.createTextNode(String(i)));
      gutter.appendChild(document.createTextNode('\n'));
    }
    gutter.scrollTop = yamlArea.scrollTop;
  }

  function gotoLine(line, col) {
    const lines = yamlArea.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, col - 1);
    yamlArea.focus();
    yamlArea.setSelectionRange(pos, pos);
    yamlArea.scrollTop = Math.max(0, (line - 5) * 18);
  }

  yamlArea.addEventListener('scroll', () => { gutter.scrollTop = yamlArea.scrollTop; });
  yamlArea.addEventListener('input', () => {
    st.doc.load(yamlArea.value);
    renderGutter();
    setSave('unsaved');
    check();
    save();
  });
  yamlArea.addEventListener('keydown', (ev) => {
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey) {
      // Two spaces, as YAML wants; Escape then Tab leaves the editor.
      if (yamlArea.dataset.escaped === '1') { yamlArea.dataset.escaped = ''; return; }
      ev.preventDefault();
      yamlArea.setRangeText('  ', yamlArea.selectionStart, yamlArea.selectionEnd, 'end');
      yamlArea.dispatchEvent(new Event('input'));
    } else if (ev.key === 'Escape') {
      yamlArea.dataset.escaped = '1';
    }
  });

  function showTab(t) {
    st.tab = t;
    tabDesign.setAttribute('aria-selected', String(t === 'design'));
    tabYaml.setAttribute('aria-selected', String(t === 'yaml'));
    const design = t === 'design';
    center.querySelector('.canvas-wrap').hidden = !design;
    yamlPane.hidden = design;
    palette.classList.toggle('disabled', !design);
    if (!design) {
      setYaml(st.doc.text());
      yamlArea.focus();
    } else {
      renderGraph();
      renderSide();
    }
  }

  // ---- publish ----
  async function publish() {
    await flush();
    if (!st.hasDraft) {
      toast(st.latest ? `Nothing to publish: v${st.latest} is current. Edit the flow to make a draft.` : 'Nothing to publish', 'info');
      return;
    }
    if (st.diags.some((d) => d.severity === 'error')) {
      toast('Fix the errors before publishing (see Problems).', 'error');
      return;
    }
    const v = await dialog({
      title: `Publish ${name}`, ok: 'Publish',
      body: `The draft becomes version ${st.latest + 1}; new calls use it at once.`,
      fields: [{ name: 'note', label: 'Note (optional)', placeholder: 'What changed' }],
    });
    if (!v) return;
    try {
      const r = await api.publish(name, st.etag, v.note || undefined);
      const ver = r.data.version.version;
      st.latest = Math.max(st.latest, ver);
      if (!r.data.draft_kept) { st.hasDraft = false; st.etag = ''; }
      setSave('saved');
      toast(r.data.unchanged ? `Unchanged: v${ver} already has this source` : `Published v${ver}`, 'ok');
      if (st.side === 'history') renderSide();
      else showSide('history');
    } catch (e) {
      if (e.diagnostics && e.diagnostics.length) { st.diags = e.diagnostics; renderProblems(); renderGraph(); }
      toast(e.message, 'error');
    }
  }

  // ---- versions, diff, rollback, numbers ----
  async function renderHistory() {
    const box = h('div.history');
    sideBody.appendChild(box);
    let versions = [], numbers = [];
    try {
      [versions, numbers] = await Promise.all([
        api.versions(name).then((r) => r.data.versions).catch((e) => (e.status === 404 ? [] : Promise.reject(e))),
        api.numbers().then((r) => r.data.numbers || []),
      ]);
    } catch (e) {
      box.appendChild(errorBox(e));
      return;
    }
    if (st.side !== 'history') return;
    const diffBox = h('div.diff-box');
    const showDiff = async (from, to) => {
      clear(diffBox).appendChild(h('p.muted', 'Loading diff…'));
      try {
        await flush();
        const d = (await api.diff(name, from, to)).data;
        clear(diffBox).append(h('div.diff-head', h('strong', `${d.from} → ${d.to}`),
          h('button.icon-btn', { type: 'button', 'aria-label': 'Close diff', onclick: () => clear(diffBox) }, '✕')),
        d.identical ? h('p.muted', 'Identical.') : h('pre.diff', d.unified.split('\n').map((l) => h('span', {
          class: l.startsWith('+++') || l.startsWith('---') ? 'meta' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : '',
        }, l + '\n'))));
      } catch (e) {
        clear(diffBox).appendChild(errorBox(e));
      }
    };
    box.append(h('div.hist-head', h('h2', 'Versions'),
      st.hasDraft && st.latest ? h('button.btn.small', { type: 'button', onclick: () => showDiff('latest', 'draft') }, 'Diff draft ↔ latest') : null));
    if (st.hasDraft) box.appendChild(h('div.version.draft', h('span.chip.warn', 'draft'), h('span', `revision ${st.revision}`), h('span.muted', 'not published')));
    if (!versions.length) box.appendChild(h('p.muted', 'Never published.'));
    box.appendChild(h('ol.versions', versions.map((v) => h('li.version', { dataset: { version: v.version } },
      h('div.v-line', h('span.chip', { class: v.version === st.latest ? 'ok' : '' }, `v${v.version}`),
        v.version === st.latest ? h('span.live-tag', 'live') : null,
        h('span.muted.small', `${ago(v.published_at)} by ${v.published_by}`)),
      v.note || v.rollback_of ? h('div.small', v.rollback_of ? `Rollback to v${v.rollback_of}` : '',
        v.note && !(v.rollback_of && /^roll ?back/i.test(v.note)) ? `${v.rollback_of ? ' · ' : ''}${v.note}` : '') : null,
      h('div.v-actions',
        h('button.btn.small.ghost', { type: 'button', onclick: () => showDiff(String(v.version), st.hasDraft ? 'draft' : 'latest') }, st.hasDraft ? 'Diff → draft' : 'Diff → live'),
        v.version > 1 ? h('button.btn.small.ghost', { type: 'button', onclick: () => showDiff(String(v.version - 1), String(v.version)) }, 'Changes') : null,
        can('publisher') && v.version !== st.latest ? h('button.btn.small.rollback', {
          type: 'button', 'data-rollback': v.version, onclick: async () => {
            const ok = await dialog({ title: `Roll back to v${v.version}?`, body: `Its source is published again as v${st.latest + 1}. Your draft is kept.`, ok: 'Roll back', danger: true });
            if (!ok) return;
            try {
              const r = await api.rollback(name, v.version);
              st.latest = Math.max(st.latest, r.data.version.version);
              toast(`Rolled back: v${r.data.version.version} has the source of v${v.version}`, 'ok');
              setSave(st.saveState);
              renderSide();
            } catch (e) { toast(e.message, 'error'); }
          },
        }, 'Roll back') : null)))));
    box.appendChild(diffBox);
    const mine = numbers.filter((n) => n.flow === name);
    box.append(h('h2', 'Numbers'),
      mine.length ? h('ul.numbers', mine.map((n) => h('li', h('span.mono', n.number), can('publisher') ? h('button.btn.small.ghost', {
        type: 'button', onclick: async () => { try { await api.unbindNumber(n.number); renderSide(); } catch (e) { toast(e.message, 'error'); } },
      }, 'Unbind') : null))) : h('p.muted.small', 'No number reaches this flow.'),
      can('publisher') && st.latest ? bindForm([name], () => renderSide()) : null);
  }

  // ---- simulator ----
  function renderSim() {
    const sim = st.sim;
    const log = h('div.transcript#transcript', { 'aria-live': 'polite' });
    const input = h('input#sim-text', { placeholder: 'Type digits or words, Enter to send', autocomplete: 'off', 'aria-label': 'Caller input' });
    const from = h('input#sim-from', { value: (sim && sim.from) || '+15550100', 'aria-label': 'Caller number' });
    const startBtn = h('button.btn.primary#sim-start', { type: 'button', onclick: startSim }, sim && !sim.done ? 'Restart' : 'Start call');
    const send = (text) => sendSim(text);
    const keypad = h('div.keypad', { role: 'group', 'aria-label': 'Keypad' }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((k) =>
      h('button.key', { type: 'button', 'data-key': k, onclick: () => pressKey(k) }, k)));
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); send(input.value); input.value = ''; } });
    const status = h('div.sim-status#sim-status');
    sideBody.append(h('div.sim',
      h('div.sim-head', h('label.inline', 'Caller ', from), h('span.spacer'), startBtn),
      status, log,
      h('div.sim-controls', keypad,
        h('div.sim-send', input,
          h('button.btn#sim-send', { type: 'button', onclick: () => { send(input.value); input.value = ''; } }, 'Send'),
          h('button.btn.ghost', { type: 'button', onclick: () => send('') }, 'No input'),
          h('button.btn.danger-ghost', { type: 'button', onclick: () => send('hangup') }, 'Hang up')))));
    st.simUI = { log, status, input, from };
    if (sim) for (const e of sim.events) drawSimEvent(e);
    updateSimStatus();

    function pressKey(k) {
      const s = st.sim;
      if (!s || s.done) { toast('Start a call first', 'info'); return; }
      const n = s.listening && st.doc.node(s.listening);
      if (n && n.type === 'gather') {
        s.buffer = (s.buffer || '') + k;
        input.value = s.buffer;
        if (n.terminator === k || (n.max_digits && s.buffer.replace(/[#*]$/, '').length >= n.max_digits)) { send(s.buffer); s.buffer = ''; input.value = ''; }
        return;
      }
      send(k);
    }
  }

  function stopSimUI() {
    st.simUI = null;
  }

  async function startSim() {
    if (st.sim && st.sim.es) st.sim.es.close();
    const from = st.simUI ? st.simUI.from.value : '+15550100';
    st.sim = { events: [], path: [], done: false, listening: '', from };
    graph.setHighlight([], '');
    if (st.simUI) clear(st.simUI.log);
    updateSimStatus('Starting…');
    try {
      await flush();
      const r = await api.simulate({ flow: name, source: st.doc.text(), from });
      const sim = st.sim;
      sim.id = r.data.call_id;
      const es = new EventSource(r.data.events_url);
      sim.es = es;
      for (const kind of ['prompt', 'listen', 'input', 'node', 'transfer', 'record', 'hangup', 'end']) {
        es.addEventListener(kind, (m) => {
          if (st.sim !== sim) return;
          const e = JSON.parse(m.data);
          if (sim.events.some((x) => x.id === e.id)) return;
          sim.events.push(e);
          onSimEvent(sim, e);
        });
      }
      es.onerror = () => { if (sim.done) es.close(); };
      updateSimStatus();
    } catch (e) {
      st.sim.done = true;
      if (e.diagnostics && e.diagnostics.length) { st.diags = e.diagnostics; renderProblems(); renderGraph(); }
      updateSimStatus(e.message);
    }
  }

  function onSimEvent(sim, e) {
    if (e.kind === 'node') {
      sim.path.push(e.node);
      sim.current = e.node;
    } else if (e.kind === 'listen') {
      sim.listening = e.node;
    } else if (e.kind === 'input') {
      sim.listening = '';
    } else if (e.kind === 'end') {
      sim.done = true;
      sim.listening = '';
      sim.current = '';
      sim.outcome = e.outcome;
      if (e.path && e.path.length) sim.path = e.path.filter((p) => !p.includes('/'));
      if (sim.es) sim.es.close();
    }
    graph.setHighlight(sim.path, sim.current);
    drawSimEvent(e);
    updateSimStatus();
  }

  function drawSimEvent(e) {
    const ui = st.simUI;
    if (!ui) return;
    let row = null;
    if (e.kind === 'prompt') row = h('div.msg.bot', h('span.who', e.node || 'flow'), e.text);
    else if (e.kind === 'input') row = h('div.msg.caller', h('span.who', 'caller'), callerText(e.text));
    else if (e.kind === 'node') row = h('div.sys', `→ ${e.node}`);
    else if (e.kind === 'transfer') row = h('div.sys', `Transferred to ${e.text}`);
    else if (e.kind === 'record') row = h('div.sys', `Recorded ${e.text}`);
    else if (e.kind === 'hangup') row = h('div.sys', `Hung up${e.text ? ': ' + e.text : ''}`);
    else if (e.kind === 'end') row = h('div.sys.end', `Call ended: ${e.outcome || 'done'}${e.error ? ' — ' + e.error : ''}`);
    if (row) {
      ui.log.appendChild(row);
      ui.log.scrollTop = ui.log.scrollHeight;
    }
  }

  function callerText(t) {
    if (!t || t === 'timeout') return '(silence)';
    if (t.startsWith('dtmf:')) return `pressed ${t.slice(5)}`;
    if (t.startsWith('speech:')) return `“${t.slice(7)}”`;
    return t;
  }

  function updateSimStatus(text) {
    const ui = st.simUI;
    if (!ui) return;
    const s = st.sim;
    const t = text || (!s ? 'Start a call to test the flow: prompts appear here and the graph highlights the path.'
      : s.done ? `Ended: ${s.outcome || 'done'} · path ${s.path.join(' → ')}`
        : s.listening ? `Waiting for the caller at ${s.listening}` : s.current ? `In ${s.current}` : 'Connecting…');
    ui.status.textContent = t;
    ui.status.className = 'sim-status' + (s && s.listening ? ' listening' : '') + (s && s.done ? ' ended' : '');
  }

  async function sendSim(text) {
    const s = st.sim;
    if (!s || !s.id || s.done) { toast('Start a call first', 'info'); return; }
    try {
      await api.simInput(s.id, text.trim());
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  // ---- live calls per node (heat) ----
  async function pollHeat() {
    try {
      const m = (await api.metrics(name)).data;
      const f = (m.flows || []).find((x) => x.flow === name);
      const heat = {};
      for (const n of (f && f.nodes) || []) heat[n.node] = n.running;
      if (JSON.stringify(heat) !== JSON.stringify(st.heat)) {
        st.heat = heat;
        renderGraph();
      }
    } catch { /* no Temporal: no heat */ }
  }
  timers.push(setInterval(pollHeat, 5000));
  pollHeat();

  // ---- start ----
  const onKey = (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === 's') { ev.preventDefault(); flush(); }
  };
  const onUnload = (ev) => { if (st.saveState === 'unsaved' || st.saveState === 'saving') { ev.preventDefault(); ev.returnValue = ''; } };
  window.addEventListener('keydown', onKey);
  window.addEventListener('beforeunload', onUnload);
  setSave('saved');
  renderProblems();
  showSide('props');
  check.flush().then(() => { renderGraph(); graph.fit(); });
  renderGraph();

  return () => {
    timers.forEach(clearInterval);
    window.removeEventListener('keydown', onKey);
    window.removeEventListener('beforeunload', onUnload);
    if (st.sim && st.sim.es) st.sim.es.close();
    if (st.saveState === 'unsaved') doSave();
  };
}
