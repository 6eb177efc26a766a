// FlowDoc: a flow file held as a YAML document (the `yaml` library's
// Document API), so designer edits change only the values they touch and
// comments, key order and quoting elsewhere survive. The YAML text is the
// source of truth: the designer edits the document, the YAML tab edits the
// text, and both go to the API as the draft's source.

import * as YAML from './vendor/yaml/index.js';

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false };

// Fields that name another node, in the order Node.Exits lists them.
export const REF_FIELDS = ['next', 'default', 'open', 'closed', 'holiday', 'on_failure', 'on_timeout', 'on_error'];

// Short port captions for the graph.
const PORT_CAPTION = {
  next: 'next', default: 'default', open: 'open', closed: 'closed', holiday: 'holiday',
  on_failure: 'fail', on_timeout: 'timeout', on_error: 'error',
};

// Menu keys in the order the "+" port hands them out.
const OPTION_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];

const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);

export class FlowDoc {
  constructor(source) {
    this.load(source);
  }

  // load replaces the document with a parse of source (the YAML tab).
  load(source) {
    this.source = source;
    this.doc = YAML.parseDocument(source, { uniqueKeys: false });
    this.parseErrors = this.doc.errors.map((e) => ({
      message: e.message.split('\n')[0],
      line: e.linePos ? e.linePos[0].line : 1,
      column: e.linePos ? e.linePos[0].col : 1,
      severity: 'error',
    }));
    this._js = null;
  }

  get ok() {
    return this.parseErrors.length === 0 && YAML.isMap(this.doc.contents);
  }

  // text is the YAML: the loaded text until the first designer edit.
  text() {
    return this.source;
  }

  _changed() {
    this.source = this.doc.toString(STRINGIFY);
    this._js = null;
  }

  // js is the flow as plain data (cached until the next change).
  js() {
    if (!this._js) {
      try {
        this._js = this.ok ? this.doc.toJS({ maxAliasCount: 1000 }) || {} : {};
      } catch {
        this._js = {};
      }
      if (!isObj(this._js)) this._js = {};
    }
    return this._js;
  }

  get name() { return String(this.js().name ?? ''); }
  get entry() { return String(this.js().entry ?? ''); }
  get onHangup() { return String(this.js().on_hangup ?? ''); }

  nodes() {
    const n = this.js().nodes;
    return isObj(n) ? n : {};
  }

  nodeIds() {
    return Object.keys(this.nodes());
  }

  node(id) {
    const n = this.nodes()[id];
    return isObj(n) ? n : null;
  }

  positions() {
    const md = this.js().metadata;
    const p = isObj(md) && isObj(md.positions) ? md.positions : {};
    const out = {};
    for (const [id, v] of Object.entries(p)) {
      if (isObj(v) && Number.isFinite(+v.x) && Number.isFinite(+v.y)) out[id] = { x: +v.x, y: +v.y };
    }
    return out;
  }

  // exits lists a node's connectable exits: every node-reference field its
  // type has (connected or not, from the schema) plus each option, when
  // clause and split share. field uses the API's GraphEdge.field syntax.
  exits(id, schema) {
    const n = this.node(id);
    if (!n) return [];
    const props = nodeProps(schema, n.type);
    const out = [];
    const ref = (field, caption, label, target) => out.push({ field, caption, label, target: target == null ? '' : String(target) });
    for (const f of REF_FIELDS) {
      if (f === 'next') {
        if (props.next || n.next != null) ref('next', 'next', 'next', n.next);
        if (isObj(n.options)) {
          for (const k of Object.keys(n.options).sort()) {
            const o = n.options[k];
            ref(`options.${k}.next`, k, `option ${k}`, isObj(o) ? o.next : o);
          }
        }
        if (n.type === 'menu') {
          const free = OPTION_KEYS.find((k) => !isObj(n.options) || !(k in n.options));
          if (free) out.push({ field: 'options.+', caption: '+', label: `new option (key ${free})`, target: '' });
        }
        if (Array.isArray(n.when)) n.when.forEach((w, i) => ref(`when[${i}].next`, `when ${i}`, `when ${i}`, isObj(w) ? w.next : ''));
        continue;
      }
      if (f === 'on_failure' && Array.isArray(n.split)) {
        n.split.forEach((s, i) => {
          const pct = isObj(s) && s.percent != null ? `${s.percent}%` : `split ${i}`;
          ref(`split[${i}].next`, pct, pct, isObj(s) ? s.next : '');
        });
      }
      if (props[f] || n[f] != null) ref(f, PORT_CAPTION[f], f, n[f]);
    }
    return out;
  }

  // edges are every connected exit of every node.
  edges(schema) {
    const ids = new Set(this.nodeIds());
    const out = [];
    for (const id of ids) {
      for (const e of this.exits(id, schema)) {
        if (e.target) out.push({ from: id, to: e.target, field: e.field, label: e.label, dangling: !ids.has(e.target) });
      }
    }
    return out;
  }

  // ---- edits (each leaves the text re-serialised) ----

  _nodesMap(create) {
    let m = this.doc.get('nodes', true);
    if (!YAML.isMap(m)) {
      if (!create) return null;
      m = this.doc.createNode({});
      this.doc.set('nodes', m);
    }
    return m;
  }

  _nodeMap(id) {
    const nodes = this._nodesMap(false);
    if (!nodes) return null;
    const p = findPair(nodes, id);
    return p && YAML.isMap(p.value) ? p.value : null;
  }

  // setField sets a top-level field of a node (value '' or null removes it).
  setField(id, field, value) {
    const m = this._nodeMap(id);
    if (!m) return;
    if (value === '' || value === null || value === undefined) m.delete(field);
    else setValue(this.doc, m, field, value);
    this._changed();
  }

  // setFlowField sets a top-level field of the flow (description, entry...).
  setFlowField(field, value) {
    if (value === '' || value === null || value === undefined) this.doc.delete(field);
    else setValue(this.doc, this.doc.contents, field, value);
    this._changed();
  }

  setSetting(field, value) {
    let s = this.doc.get('settings', true);
    if (!YAML.isMap(s)) {
      if (value === '' || value == null) return;
      s = this.doc.createNode({});
      insertBefore(this.doc.contents, 'settings', s, ['variables', 'on_hangup', 'nodes', 'metadata']);
    }
    if (value === '' || value == null) s.delete(field);
    else setValue(this.doc, s, field, value);
    if (s.items.length === 0) this.doc.delete('settings');
    this._changed();
  }

  // setEdge points exit field of node from at target ('' disconnects).
  setEdge(from, field, target) {
    const m = this._nodeMap(from);
    if (!m) return;
    if (field === 'options.+') {
      // The menu's "+" port: the next free key.
      if (!target) return;
      const opts = this.node(from).options;
      const key = OPTION_KEYS.find((k) => !isObj(opts) || !(k in opts));
      if (!key) return;
      field = `options.${key}.next`;
    }
    let mm;
    if ((mm = /^options\.(.+)\.next$/.exec(field))) {
      let opts = m.get('options', true);
      if (!YAML.isMap(opts)) {
        if (!target) return;
        opts = this.doc.createNode({});
        m.set('options', opts);
      }
      const p = findPair(opts, mm[1]);
      if (!target) {
        if (p) opts.items.splice(opts.items.indexOf(p), 1);
      } else if (p && YAML.isMap(p.value)) {
        p.value.set('next', target);
      } else if (p) {
        p.value = this.doc.createNode(target);
      } else {
        opts.items.push(this.doc.createPair(mm[1], target));
        sortOptions(opts);
      }
    } else if ((mm = /^(when|split)\[(\d+)\]\.next$/.exec(field))) {
      const seq = m.get(mm[1], true);
      const item = YAML.isSeq(seq) ? seq.items[+mm[2]] : null;
      if (!YAML.isMap(item)) return;
      if (target) item.set('next', target);
      else item.delete('next');
    } else if (REF_FIELDS.includes(field)) {
      if (target) m.set(field, target);
      else m.delete(field);
    } else {
      return;
    }
    this._changed();
  }

  // setOption adds or retargets a menu option key.
  setOption(id, key, target) {
    this.setEdge(id, `options.${key}.next`, target);
  }

  // addNode appends a node; at x,y when given (kept in metadata.positions).
  addNode(id, fields, pos) {
    const nodes = this._nodesMap(true);
    nodes.items.push(this.doc.createPair(id, this.doc.createNode(fields)));
    if (pos) this._setPos(id, pos);
    this._changed();
  }

  // removeNode deletes a node, every exit pointing at it and its position.
  removeNode(id) {
    const nodes = this._nodesMap(false);
    if (!nodes) return;
    const p = findPair(nodes, id);
    if (p) nodes.items.splice(nodes.items.indexOf(p), 1);
    for (const other of nodes.items) {
      if (!YAML.isMap(other.value)) continue;
      const m = other.value;
      for (const f of REF_FIELDS) if (scalarOf(m.get(f, true)) === id) m.delete(f);
      const opts = m.get('options', true);
      if (YAML.isMap(opts)) {
        opts.items = opts.items.filter((op) => {
          const t = YAML.isMap(op.value) ? scalarOf(op.value.get('next', true)) : scalarOf(op.value);
          return t !== id;
        });
      }
      for (const k of ['when', 'split']) {
        const seq = m.get(k, true);
        if (YAML.isSeq(seq)) seq.items = seq.items.filter((it) => !(YAML.isMap(it) && scalarOf(it.get('next', true)) === id));
      }
    }
    const pos = this.doc.getIn(['metadata', 'positions'], true);
    if (YAML.isMap(pos)) {
      const pp = findPair(pos, id);
      if (pp) pos.items.splice(pos.items.indexOf(pp), 1);
    }
    this._changed();
  }

  // renameNode changes a node's ID and every reference to it.
  renameNode(from, to) {
    const nodes = this._nodesMap(false);
    const p = nodes && findPair(nodes, from);
    if (!p || findPair(nodes, to)) return false;
    p.key = this.doc.createNode(to);
    for (const other of nodes.items) {
      if (!YAML.isMap(other.value)) continue;
      const m = other.value;
      for (const f of REF_FIELDS) if (scalarOf(m.get(f, true)) === from) m.set(f, to);
      const opts = m.get('options', true);
      if (YAML.isMap(opts)) {
        for (const op of opts.items) {
          if (YAML.isMap(op.value)) {
            if (scalarOf(op.value.get('next', true)) === from) op.value.set('next', to);
          } else if (scalarOf(op.value) === from) op.value = this.doc.createNode(to);
        }
      }
      for (const k of ['when', 'split']) {
        const seq = m.get(k, true);
        if (YAML.isSeq(seq)) for (const it of seq.items) if (YAML.isMap(it) && scalarOf(it.get('next', true)) === from) it.set('next', to);
      }
    }
    for (const f of ['entry', 'on_hangup']) if (scalarOf(this.doc.get(f, true)) === from) this.doc.set(f, to);
    const pos = this.doc.getIn(['metadata', 'positions'], true);
    const pp = YAML.isMap(pos) && findPair(pos, from);
    if (pp) pp.key = this.doc.createNode(to);
    this._changed();
    return true;
  }

  // setPositions writes metadata.positions for the given nodes.
  setPositions(map) {
    for (const [id, p] of Object.entries(map)) this._setPos(id, p);
    this._changed();
  }

  // clearPositions removes metadata.positions (back to automatic layout).
  clearPositions() {
    const md = this.doc.get('metadata', true);
    if (YAML.isMap(md)) {
      md.delete('positions');
      if (md.items.length === 0) this.doc.delete('metadata');
    }
    this._changed();
  }

  _setPos(id, p) {
    let md = this.doc.get('metadata', true);
    if (!YAML.isMap(md)) {
      md = this.doc.createNode({});
      this.doc.set('metadata', md);
    }
    let pos = md.get('positions', true);
    if (!YAML.isMap(pos)) {
      pos = this.doc.createNode({});
      md.set('positions', pos);
    }
    const v = this.doc.createNode({ x: Math.round(p.x), y: Math.round(p.y) }, { flow: true });
    v.flow = true;
    const pair = findPair(pos, id);
    if (pair) pair.value = v;
    else pos.items.push(this.doc.createPair(id, v));
  }

  // newNodeId returns an unused ID like menu_2.
  newNodeId(type) {
    const ids = new Set(this.nodeIds());
    for (let i = 1; ; i++) {
      const id = `${type}_${i}`;
      if (!ids.has(id)) return id;
    }
  }
}

function scalarOf(n) {
  if (YAML.isScalar(n)) return n.value == null ? '' : String(n.value);
  return n == null ? '' : typeof n === 'object' ? null : String(n);
}

// findPair finds a key in a YAML map by its text (so "2" and 2 match).
function findPair(map, key) {
  if (!YAML.isMap(map)) return null;
  return map.items.find((p) => {
    const k = YAML.isScalar(p.key) ? p.key.value : p.key;
    return k != null && String(k) === String(key);
  }) || null;
}

function setValue(doc, map, field, value) {
  const p = findPair(map, field);
  if (p && YAML.isScalar(p.value) && !isObj(value) && !Array.isArray(value)) {
    p.value.value = value; // keeps the scalar's quoting style and comments
    return;
  }
  const node = doc.createNode(value);
  if (p) p.value = node;
  else map.items.push(doc.createPair(field, node));
}

function insertBefore(map, key, value, before) {
  const pair = new YAML.Pair(new YAML.Scalar(key), value);
  const i = map.items.findIndex((p) => before.includes(String(YAML.isScalar(p.key) ? p.key.value : p.key)));
  if (i < 0) map.items.push(pair);
  else map.items.splice(i, 0, pair);
}

const optionOrder = (k) => ('0123456789*#'.indexOf(k) + 1) || 99;
function sortOptions(opts) {
  opts.items.sort((a, b) => optionOrder(String(a.key?.value ?? a.key)) - optionOrder(String(b.key?.value ?? b.key)));
}

// nodeProps returns the schema properties of a node type.
export function nodeProps(schema, type) {
  const def = schema && schema.$defs && schema.$defs[`${type}Node`];
  return (def && def.properties) || {};
}

export function nodeRequired(schema, type) {
  const def = schema && schema.$defs && schema.$defs[`${type}Node`];
  return new Set((def && def.required) || []);
}

export function nodeTypes(schema) {
  const t = schema && schema.$defs && schema.$defs.node && schema.$defs.node.properties.type.enum;
  return t || [];
}

export function nodeTypeDoc(schema, type) {
  const def = schema && schema.$defs && schema.$defs[`${type}Node`];
  return (def && def.description) || '';
}
