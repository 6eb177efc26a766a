// GraphView draws a flow as an SVG graph: nodes with one port per exit,
// edges as curves, pan and zoom, node dragging, drag-to-connect from a
// port to a node, palette drops, keyboard focus and commands, error
// badges, live-call heat counts and a highlighted path.

const SVG = 'http://www.w3.org/2000/svg';
export const NODE_W = 188;
export const NODE_H = 76;
const PORT_H = 18;
const GRID = 10;

// el makes an SVG element (a 200-node graph is ~6,000 of them: for...in
// instead of Object.entries allocates no pair per attribute, a quarter
// less time for a first drawing).
function el(name, attrs = {}, parent) {
  const e = document.createElementNS(SVG, name);
  for (const k in attrs) {
    const v = attrs[k];
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  if (parent) parent.appendChild(e);
  return e;
}

function truncate(s, n) {
  s = String(s ?? '');
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

export class GraphView {
  // host: element to fill; cb: {onSelect(id), onMove(moves), onConnect(from, field, to),
  // onAdd(type, x, y), onDelete(id), onOpen(id)}; readOnly disables edits;
  // types (nodetypes.js) give each node's colour and icon.
  constructor(host, cb = {}, { readOnly = false, types = null } = {}) {
    this.host = host;
    this.cb = cb;
    this.readOnly = readOnly;
    this.types = types;
    this.view = { x: -40, y: -40, k: 1 };
    this.model = { nodes: [], edges: [] };
    this.selected = null;
    this.highlight = { nodes: new Set(), edges: new Set(), current: '' };
    this.svg = el('svg', { class: 'graph', role: 'application', 'aria-label': 'Flow graph', tabindex: '-1' });
    const defs = el('defs', {}, this.svg);
    for (const [id, cls] of [['arrow', 'arrow'], ['arrow-hot', 'arrow hot'], ['arrow-bad', 'arrow bad']]) {
      const m = el('marker', { id: `vf-${id}`, viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '7', markerHeight: '7', orient: 'auto-start-reverse' }, defs);
      el('path', { d: 'M0,0 L10,5 L0,10 z', class: cls }, m);
    }
    const pat = el('pattern', { id: 'vf-grid', width: '20', height: '20', patternUnits: 'userSpaceOnUse' }, defs);
    el('circle', { cx: '1', cy: '1', r: '1', class: 'grid-dot' }, pat);
    this.bg = el('rect', { class: 'graph-bg', x: '-100000', y: '-100000', width: '200000', height: '200000', fill: 'url(#vf-grid)' }, this.svg);
    this.world = el('g', { class: 'world' }, this.svg);
    this.edgeLayer = el('g', { class: 'edges' }, this.world);
    this.nodeLayer = el('g', { class: 'nodes' }, this.world);
    this.tempLayer = el('g', { class: 'temp' }, this.world);
    host.appendChild(this.svg);
    this._bind();
    this._apply();
  }

  _apply() {
    const { x, y, k } = this.view;
    this.world.setAttribute('transform', `translate(${-x * k} ${-y * k}) scale(${k})`);
    this.bg.setAttribute('transform', this.world.getAttribute('transform'));
  }

  // toWorld converts client coordinates to graph coordinates.
  toWorld(cx, cy) {
    const r = this.svg.getBoundingClientRect();
    return { x: (cx - r.left) / this.view.k + this.view.x, y: (cy - r.top) / this.view.k + this.view.y };
  }

  nodeWidth(n) {
    return Math.max(NODE_W, 16 + (n.ports || []).reduce((w, p) => w + portWidth(p) + 4, 0));
  }

  // render draws model = {nodes: [{id, type, label, x, y, entry, onHangup,
  // errors: [diag], warnings: [diag], ports: [{field, caption, label, target}], heat}],
  // edges: [{from, to, field, label, dangling}]}.
  // fit: zoom to show the whole model, measured before it is drawn (no
  // layout of the new nodes forced while building them).
  render(model, { fit = false } = {}) {
    this.model = model;
    this.byId = new Map(model.nodes.map((n) => [n.id, n]));
    if (fit) this.fit();
    const focusedId = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.node : null;
    this.nodeLayer.replaceChildren();
    this.edgeLayer.replaceChildren();
    laneEdges(model.edges);
    for (const e of model.edges) this._drawEdge(e);
    for (const n of model.nodes) this._drawNode(n);
    if (focusedId && this.byId.has(focusedId)) this.focusNode(focusedId);
  }

  _drawNode(n) {
    const w = this.nodeWidth(n);
    const meta = this.types ? this.types.info(n.type) : { color: 'other', icon: '?' };
    const cls = ['node', `g-${meta.color}`];
    if (n.errors && n.errors.length) cls.push('has-errors');
    else if (n.warnings && n.warnings.length) cls.push('has-warnings');
    if (this.selected === n.id) cls.push('selected');
    if (this.highlight.nodes.has(n.id)) cls.push('visited');
    if (this.highlight.current === n.id) cls.push('current');
    const title = n.label || n.id;
    const errText = (n.errors || []).concat(n.warnings || []).map((d) => `${d.severity} at ${d.line}:${d.column}: ${d.message}`).join('\n');
    const g = el('g', {
      class: cls.join(' '), transform: `translate(${n.x} ${n.y})`, tabindex: '0', role: 'button',
      'data-node': n.id, 'data-type': n.type,
      'aria-label': `${n.type} node ${n.id}${n.label ? ' (' + n.label + ')' : ''}${n.errors && n.errors.length ? `, ${n.errors.length} error(s)` : ''}. Enter to edit, Delete to remove, arrow keys to move.`,
    }, this.nodeLayer);
    el('title', {}, g).textContent = `${n.id} (${n.type})${errText ? '\n' + errText : ''}`;
    el('rect', { class: 'node-shadow', x: '2', y: '3', width: w, height: NODE_H, rx: '10' }, g);
    el('rect', { class: 'node-body', width: w, height: NODE_H, rx: '10' }, g);
    el('rect', { class: 'node-stripe', width: '6', height: NODE_H, rx: '3' }, g);
    el('text', { class: 'node-icon', x: '20', y: '25', 'text-anchor': 'middle' }, g).textContent = meta.icon;
    el('text', { class: 'node-title', x: '34', y: '23' }, g).textContent = truncate(title, Math.floor((w - 60) / 7.2));
    el('text', { class: 'node-sub', x: '34', y: '39' }, g).textContent = truncate(n.label ? `${n.type} · ${n.id}` : n.type, Math.floor((w - 44) / 6));
    if (n.entry) {
      const t = el('g', { class: 'tag entry-tag', transform: 'translate(0 -16)' }, g);
      el('rect', { width: '44', height: '14', rx: '7' }, t);
      el('text', { x: '22', y: '10.5', 'text-anchor': 'middle' }, t).textContent = 'START';
    }
    if (n.onHangup) {
      const t = el('g', { class: 'tag hangup-tag', transform: `translate(${n.entry ? 50 : 0} -16)` }, g);
      el('rect', { width: '70', height: '14', rx: '7' }, t);
      el('text', { x: '35', y: '10.5', 'text-anchor': 'middle' }, t).textContent = 'ON HANGUP';
    }
    const nErr = (n.errors || []).length;
    if (nErr) {
      const b = el('g', { class: 'badge err-badge', transform: `translate(${w - 12} 12)` }, g);
      el('circle', { r: '9' }, b);
      el('text', { y: '4', 'text-anchor': 'middle' }, b).textContent = String(nErr);
    } else if ((n.warnings || []).length) {
      const b = el('g', { class: 'badge warn-badge', transform: `translate(${w - 12} 12)` }, g);
      el('circle', { r: '9' }, b);
      el('text', { y: '4', 'text-anchor': 'middle' }, b).textContent = '!';
    }
    if (n.heat) {
      const b = el('g', { class: 'heat', transform: `translate(${w - 4} -8)` }, g);
      el('rect', { x: '-34', y: '-9', width: '38', height: '18', rx: '9' }, b);
      el('text', { x: '-15', y: '4', 'text-anchor': 'middle' }, b).textContent = `☎ ${n.heat}`;
      el('title', {}, b).textContent = `${n.heat} live call(s) in this node`;
    }
    // Ports: one chip per exit along the bottom.
    let px = 8;
    for (const p of n.ports || []) {
      const pw = portWidth(p);
      const pg = el('g', {
        class: 'port' + (p.target ? ' connected' : '') + (p.field.startsWith('on_') ? ' port-err' : ''),
        transform: `translate(${px} ${NODE_H - PORT_H - 5})`, 'data-port': p.field, 'data-from': n.id,
      }, g);
      el('title', {}, pg).textContent = `${p.label}${p.target ? ' → ' + p.target : ' (not connected)'}: drag to a node to connect`;
      el('rect', { width: pw, height: PORT_H, rx: '9' }, pg);
      el('text', { x: pw / 2, y: '12.5', 'text-anchor': 'middle' }, pg).textContent = p.caption;
      p._x = px + pw / 2;
      px += pw + 4;
    }
  }

  _portPoint(n, field) {
    const p = (n.ports || []).find((q) => q.field === field);
    const x = p && p._x !== undefined ? p._x : this.nodeWidth(n) / 2;
    return { x: n.x + x, y: n.y + NODE_H };
  }

  _edgePath(a, b) {
    const dy = b.y - a.y;
    if (dy > 30) {
      const c = Math.max(30, dy / 2);
      return `M${a.x},${a.y} C${a.x},${a.y + c} ${b.x},${b.y - c} ${b.x},${b.y}`;
    }
    // Back or sideways edge: loop out below and come in from above.
    const side = b.x >= a.x ? 1 : -1;
    const off = 60 + Math.min(120, Math.abs(dy) / 4);
    return `M${a.x},${a.y} C${a.x},${a.y + off} ${b.x + side * -off},${b.y - off} ${b.x},${b.y}`;
  }

  _drawEdge(e) {
    const from = this.byId.get(e.from);
    if (!from) return;
    this._nodePorts(from);
    const to = this.byId.get(e.to);
    const a = this._portPoint(from, e.field);
    const b = to ? { x: to.x + this.nodeWidth(to) / 2, y: to.y - 2 } : { x: a.x + 30, y: a.y + 50 };
    const cls = ['edge'];
    const bad = e.dangling || !to;
    const hot = this.highlight.edges.has(`${e.from}>${e.to}`);
    if (bad) cls.push('dangling');
    if (e.field.startsWith('on_')) cls.push('edge-err');
    if (hot) cls.push('visited');
    const g = el('g', { class: cls.join(' '), 'data-edge': `${e.from}|${e.field}`, 'data-from': e.from, 'data-to': e.to }, this.edgeLayer);
    const d = this._edgePath(a, b);
    el('path', { class: 'edge-hit', d }, g);
    el('path', { class: 'edge-line', d, 'marker-end': `url(#vf-${hot ? 'arrow-hot' : bad ? 'arrow-bad' : 'arrow'})` }, g);
    el('title', {}, g).textContent = `${e.from} —${e.label}→ ${e.to}${e.dangling ? ' (no such node)' : ''}`;
    if (e.label && e.label !== 'next') {
      // Labels of edges between the same two nodes stack, not overlap.
      const mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + ((e._lane || 0) - ((e._lanes || 1) - 1) / 2) * 18 };
      const t = el('g', { class: 'edge-label', transform: `translate(${mid.x} ${mid.y})` }, g);
      const w = 8 + e.label.length * 6;
      el('rect', { x: -w / 2, y: '-8', width: w, height: '16', rx: '8' }, t);
      el('text', { y: '4', 'text-anchor': 'middle' }, t).textContent = e.label;
    }
  }

  // _nodePorts computes port x offsets without drawing (edges are drawn first).
  _nodePorts(n) {
    let px = 8;
    for (const p of n.ports || []) {
      const pw = portWidth(p);
      p._x = px + pw / 2;
      px += pw + 4;
    }
  }

  select(id) {
    this.selected = id;
    this.nodeLayer.querySelectorAll('.node').forEach((g) => g.classList.toggle('selected', g.dataset.node === id));
  }

  focusNode(id) {
    const g = this.nodeLayer.querySelector(`[data-node="${CSS.escape(id)}"]`);
    if (g) g.focus({ preventScroll: true });
  }

  // setHighlight marks a path: nodes visited, edges taken, current node.
  setHighlight(path = [], current = '') {
    const nodes = new Set(path);
    const edges = new Set();
    for (let i = 1; i < path.length; i++) edges.add(`${path[i - 1]}>${path[i]}`);
    this.highlight = { nodes, edges, current };
    this._applyHighlight();
  }

  _applyHighlight() {
    const h = this.highlight;
    this.nodeLayer.querySelectorAll('.node').forEach((g) => {
      g.classList.toggle('visited', h.nodes.has(g.dataset.node));
      g.classList.toggle('current', h.current === g.dataset.node);
    });
    this.edgeLayer.querySelectorAll('.edge').forEach((g) => {
      const on = h.edges.has(`${g.dataset.from}>${g.dataset.to}`);
      g.classList.toggle('visited', on);
      const line = g.querySelector('.edge-line');
      if (on) line.setAttribute('marker-end', 'url(#vf-arrow-hot)');
      else if (!g.classList.contains('dangling')) line.setAttribute('marker-end', 'url(#vf-arrow)');
    });
  }

  // fit zooms to show every node.
  fit() {
    const r = this.svg.getBoundingClientRect();
    if (!this.model.nodes.length || r.width === 0) return;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of this.model.nodes) {
      x0 = Math.min(x0, n.x); y0 = Math.min(y0, n.y - 20);
      x1 = Math.max(x1, n.x + this.nodeWidth(n)); y1 = Math.max(y1, n.y + NODE_H);
    }
    const pad = 40;
    const k = Math.max(0.3, Math.min(1, Math.min(r.width / (x1 - x0 + 2 * pad), r.height / (y1 - y0 + 2 * pad))));
    this.view = { k, x: x0 - pad - (r.width / k - (x1 - x0 + 2 * pad)) / 2, y: y0 - pad };
    this._apply();
  }

  zoom(f, cx, cy) {
    const r = this.svg.getBoundingClientRect();
    if (cx === undefined) { cx = r.left + r.width / 2; cy = r.top + r.height / 2; }
    const before = this.toWorld(cx, cy);
    this.view.k = Math.max(0.25, Math.min(2.5, this.view.k * f));
    const after = this.toWorld(cx, cy);
    this.view.x += before.x - after.x;
    this.view.y += before.y - after.y;
    this._apply();
  }

  _bind() {
    const svg = this.svg;
    let drag = null;
    svg.addEventListener('wheel', (ev) => {
      ev.preventDefault();
      if (ev.ctrlKey || ev.metaKey) {
        this.zoom(ev.deltaY < 0 ? 1.1 : 1 / 1.1, ev.clientX, ev.clientY);
      } else {
        this.view.x += ev.deltaX / this.view.k;
        this.view.y += ev.deltaY / this.view.k;
        this._apply();
      }
    }, { passive: false });

    svg.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      const port = ev.target.closest('.port');
      const node = ev.target.closest('.node');
      const start = this.toWorld(ev.clientX, ev.clientY);
      if (port && !this.readOnly) {
        const n = this.byId.get(port.dataset.from);
        const a = this._portPoint(n, port.dataset.port);
        const line = el('path', { class: 'edge-temp', d: `M${a.x},${a.y} L${a.x},${a.y}` }, this.tempLayer);
        drag = { kind: 'connect', from: n.id, field: port.dataset.port, a, line };
      } else if (node) {
        const n = this.byId.get(node.dataset.node);
        drag = { kind: 'move', id: n.id, start, ox: n.x, oy: n.y, g: node, moved: false };
      } else {
        drag = { kind: 'pan', cx: ev.clientX, cy: ev.clientY, vx: this.view.x, vy: this.view.y };
        svg.classList.add('panning');
      }
      svg.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });

    svg.addEventListener('pointermove', (ev) => {
      if (!drag) return;
      const p = this.toWorld(ev.clientX, ev.clientY);
      if (drag.kind === 'pan') {
        this.view.x = drag.vx - (ev.clientX - drag.cx) / this.view.k;
        this.view.y = drag.vy - (ev.clientY - drag.cy) / this.view.k;
        this._apply();
      } else if (drag.kind === 'move') {
        const dx = p.x - drag.start.x, dy = p.y - drag.start.y;
        if (!drag.moved && Math.hypot(dx, dy) < 4) return;
        if (this.readOnly) return;
        drag.moved = true;
        const n = this.byId.get(drag.id);
        n.x = Math.round((drag.ox + dx) / GRID) * GRID;
        n.y = Math.round((drag.oy + dy) / GRID) * GRID;
        drag.g.setAttribute('transform', `translate(${n.x} ${n.y})`);
        this._redrawEdgesOf(n.id);
      } else if (drag.kind === 'connect') {
        drag.line.setAttribute('d', this._edgePath(drag.a, p));
        const over = document.elementFromPoint(ev.clientX, ev.clientY);
        const target = over && over.closest && over.closest('.node');
        this.nodeLayer.querySelectorAll('.drop-target').forEach((g) => g.classList.remove('drop-target'));
        if (target) target.classList.add('drop-target');
      }
    });

    const end = (ev) => {
      if (!drag) return;
      const d = drag;
      drag = null;
      svg.classList.remove('panning');
      if (d.kind === 'move') {
        if (d.moved) {
          const n = this.byId.get(d.id);
          this.cb.onMove && this.cb.onMove({ [d.id]: { x: n.x, y: n.y } });
        } else {
          this.select(d.id);
          this.cb.onSelect && this.cb.onSelect(d.id);
        }
      } else if (d.kind === 'connect') {
        d.line.remove();
        this.nodeLayer.querySelectorAll('.drop-target').forEach((g) => g.classList.remove('drop-target'));
        if (ev.type === 'pointercancel') return;
        const over = document.elementFromPoint(ev.clientX, ev.clientY);
        const target = over && over.closest && over.closest('.node');
        if (target) this.cb.onConnect && this.cb.onConnect(d.from, d.field, target.dataset.node);
        else {
          const p = (this.byId.get(d.from).ports || []).find((q) => q.field === d.field);
          if (p && p.target) this.cb.onConnect && this.cb.onConnect(d.from, d.field, '');
        }
      } else if (d.kind === 'pan') {
        if (Math.hypot(ev.clientX - d.cx, ev.clientY - d.cy) < 3) {
          this.select(null);
          this.cb.onSelect && this.cb.onSelect(null);
        }
      }
    };
    svg.addEventListener('pointerup', end);
    svg.addEventListener('pointercancel', end);

    svg.addEventListener('dblclick', (ev) => {
      const node = ev.target.closest('.node');
      if (node && this.cb.onOpen) this.cb.onOpen(node.dataset.node);
    });

    svg.addEventListener('keydown', (ev) => {
      const node = ev.target.closest && ev.target.closest('.node');
      if (!node) return;
      const id = node.dataset.node;
      const n = this.byId.get(id);
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        this.select(id);
        this.cb.onSelect && this.cb.onSelect(id);
        this.cb.onOpen && this.cb.onOpen(id);
      } else if ((ev.key === 'Delete' || ev.key === 'Backspace') && !this.readOnly) {
        ev.preventDefault();
        this.cb.onDelete && this.cb.onDelete(id);
      } else if (ev.key.startsWith('Arrow') && !this.readOnly) {
        ev.preventDefault();
        const step = ev.shiftKey ? 50 : GRID;
        if (ev.key === 'ArrowLeft') n.x -= step;
        if (ev.key === 'ArrowRight') n.x += step;
        if (ev.key === 'ArrowUp') n.y -= step;
        if (ev.key === 'ArrowDown') n.y += step;
        node.setAttribute('transform', `translate(${n.x} ${n.y})`);
        this._redrawEdgesOf(id);
        clearTimeout(this._keyMove);
        this._keyMove = setTimeout(() => this.cb.onMove && this.cb.onMove({ [id]: { x: n.x, y: n.y } }), 400);
      } else if (ev.key === 'Escape') {
        this.select(null);
        this.cb.onSelect && this.cb.onSelect(null);
        node.blur();
      }
    });

    // Palette drops (HTML drag and drop from the node palette).
    this.host.addEventListener('dragover', (ev) => {
      if (!this.readOnly && ev.dataTransfer && [...ev.dataTransfer.types].includes('application/x-voxflow-node')) {
        ev.preventDefault();
        ev.dataTransfer.dropEffect = 'copy';
      }
    });
    this.host.addEventListener('drop', (ev) => {
      const type = ev.dataTransfer && ev.dataTransfer.getData('application/x-voxflow-node');
      if (!type || this.readOnly) return;
      ev.preventDefault();
      const p = this.toWorld(ev.clientX, ev.clientY);
      this.cb.onAdd && this.cb.onAdd(type, Math.round((p.x - NODE_W / 2) / GRID) * GRID, Math.round((p.y - NODE_H / 2) / GRID) * GRID);
    });
  }

  _redrawEdgesOf(id) {
    const keep = [];
    this.edgeLayer.querySelectorAll('.edge').forEach((g) => {
      if (g.dataset.from === id || g.dataset.to === id) g.remove();
    });
    for (const e of this.model.edges) if (e.from === id || e.to === id) keep.push(e);
    for (const e of keep) this._drawEdge(e);
    this._applyHighlight();
  }

  // freeSpot finds a place for a new node: below the selected node, or below everything.
  freeSpot() {
    const sel = this.selected && this.byId && this.byId.get(this.selected);
    let x = sel ? sel.x : 0;
    let y = sel ? sel.y + 140 : 0;
    if (!sel && this.model.nodes.length) {
      y = Math.max(...this.model.nodes.map((n) => n.y)) + 140;
      x = Math.min(...this.model.nodes.map((n) => n.x));
    }
    const taken = (x0, y0) => this.model.nodes.some((n) => Math.abs(n.x - x0) < NODE_W + 20 && Math.abs(n.y - y0) < NODE_H + 20);
    while (taken(x, y)) x += 240;
    return { x, y };
  }
}

// laneEdges numbers the labelled edges between each pair of nodes
// (e._lane of e._lanes), so their labels can stack.
function laneEdges(edges) {
  const groups = new Map();
  for (const e of edges) {
    if (!e.label || e.label === 'next') continue;
    const k = `${e.from}>${e.to}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(e);
  }
  for (const g of groups.values()) g.forEach((e, i) => { e._lane = i; e._lanes = g.length; });
}

function portWidth(p) {
  return Math.max(24, 10 + String(p.caption).length * 6.4);
}
