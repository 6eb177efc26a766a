// The designer's canvas: the flow drawn as a graph (positions from the
// YAML's metadata, else the API's automatic layout), and the edits made
// on it: add, move, connect and delete nodes, auto layout; and the live
// calls per node (heat), polled from the metrics summary.

import { api } from './api.js';
import { GraphView } from './graph.js';
import { toast, dialog } from './ui.js';

export function installCanvas(d) {
  const { st, el, editable } = d;

  d.graph = new GraphView(el.canvas, {
    onSelect: (id) => { st.selected = id; if (st.side === 'props') d.renderSide(); },
    onOpen: (id) => { st.selected = id; d.showSide('props'); const f = el.sideBody.querySelector('input,textarea,select'); if (f) f.focus(); },
    onMove: (moves) => d.edit(() => { d.pinAll(); st.doc.setPositions(moves); }),
    onConnect: (from, field, to) => d.edit(() => st.doc.setEdge(from, field, to), true),
    onAdd: (type, x, y) => d.addNode(type, { x, y }),
    onDelete: (id) => d.removeNode(id),
  }, { readOnly: !editable, types: d.types });

  // graphModel turns the YAML document into what GraphView draws.
  function graphModel() {
    const doc = st.doc;
    const pos = doc.positions();
    const diagsByNode = {};
    for (const x of st.diags) if (x.node) (diagsByNode[x.node] ||= []).push(x);
    let i = 0;
    const nodes = doc.nodeIds().map((id) => {
      const n = doc.node(id) || {};
      const p = pos[id] || st.auto[id] || { x: (i % 4) * 240, y: 600 + Math.floor(i / 4) * 140 };
      i++;
      const ds = diagsByNode[id] || [];
      return {
        id, type: String(n.type || '?'), label: n.label ? String(n.label) : '', x: p.x, y: p.y,
        entry: doc.entry === id, onHangup: doc.onHangup === id,
        errors: ds.filter((x) => x.severity === 'error'), warnings: ds.filter((x) => x.severity !== 'error'),
        ports: doc.exits(id), heat: st.heat[id] || 0,
      };
    });
    // doc.edges(), from the ports just listed (each node's exits once).
    const ids = new Set(nodes.map((n) => n.id));
    const edges = [];
    for (const n of nodes) {
      for (const p of n.ports) if (p.target) edges.push({ from: n.id, to: p.target, field: p.field, label: p.label, dangling: !ids.has(p.target) });
    }
    return { nodes, edges };
  }

  // renderGraph draws the document; fit: zoom to show all of it.
  d.renderGraph = ({ fit = false } = {}) => {
    if (!st.doc.ok) {
      el.banner.hidden = false;
      el.banner.textContent = 'The YAML has syntax errors: the graph shows the last valid version. Fix them in the YAML tab.';
      return;
    }
    el.banner.hidden = true;
    d.graph.select(st.selected);
    d.graph.render(graphModel(), { fit });
  };

  // pinAll writes every node's current position into metadata.positions
  // (the first manual move freezes the automatic layout).
  d.pinAll = () => {
    const pos = st.doc.positions();
    const missing = {};
    for (const n of d.graph.model.nodes) if (!pos[n.id]) missing[n.id] = { x: n.x, y: n.y };
    if (Object.keys(missing).length) st.doc.setPositions(missing);
  };

  // edit applies fn to the document, then redraws, validates and saves.
  d.edit = (fn, rerenderSide = false) => {
    if (!editable) return;
    fn();
    d.afterEdit(rerenderSide);
  };

  d.afterEdit = (rerenderSide) => {
    d.renderGraph();
    if (rerenderSide && st.side === 'props') d.renderSide();
    if (st.tab === 'yaml') d.setYaml(st.doc.text());
    d.setSave('unsaved');
    d.check();
    d.save();
  };

  // addNode adds a node of type with the type's starter fields, at the
  // given place or a free spot, and opens its form.
  d.addNode = (type, at) => {
    if (!editable) return;
    const id = st.doc.newNodeId(type);
    const p = at || d.graph.freeSpot();
    d.edit(() => {
      d.pinAll();
      st.doc.addNode(id, { type, ...d.types.starter(type) }, p);
    });
    st.selected = id;
    d.graph.select(id);
    d.showSide('props');
    d.graph.focusNode(id);
    toast(`Added ${type} node ${id}`);
  };

  d.removeNode = async (id) => {
    const ok = await dialog({ title: `Delete node ${id}?`, body: 'Exits that lead to it are removed too.', ok: 'Delete', danger: true });
    if (!ok) return;
    d.edit(() => st.doc.removeNode(id));
    if (st.selected === id) st.selected = null;
    d.renderSide();
    el.canvas.querySelector('svg').focus();
  };

  d.autoLayout = () => {
    d.edit(() => st.doc.clearPositions());
    d.check.flush().then(() => d.graph.fit());
  };

  // startHeat polls the live calls per node every 5 s (none without Temporal).
  d.startHeat = () => {
    async function pollHeat() {
      try {
        const m = (await api.metrics(d.name)).data;
        const f = (m.flows || []).find((x) => x.flow === d.name);
        const heat = {};
        for (const n of (f && f.nodes) || []) heat[n.node] = n.running;
        if (JSON.stringify(heat) !== JSON.stringify(st.heat)) {
          st.heat = heat;
          d.renderGraph();
        }
      } catch { /* no Temporal: no heat */ }
    }
    d.timers.push(setInterval(pollHeat, 5000));
    pollHeat();
  };
}
