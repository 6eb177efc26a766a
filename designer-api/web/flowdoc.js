// FlowDoc: a flow file held as a YAML document (the `yaml` library's
// Document API), so designer edits change only the values they touch and
// comments, key order and quoting elsewhere survive. The YAML text is the
// source of truth: the designer edits the document, the YAML tab edits the
// text, and both go to the API as the draft's source.

import * as YAML from './vendor/yaml.js';

const STRINGIFY = { lineWidth: 0, flowCollectionPadding: false };

// Menu keys in the order the "+" port hands them out.
const OPTION_KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];

const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);

export class FlowDoc {
  // types: the node types (nodetypes.js), which say which fields are exits.
  constructor(source, types) {
    this.types = types;
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

  // exits lists a node's connectable exits, in the order of the API's exit
  // fields (Node.Exits): every node-reference field its type has
  // (connected or not) or that is set, plus each option, when clause,
  // split share, intent and tool that is not an activity, and a "+" port
  // for a new option on types with options. field uses the API's
  // GraphEdge.field syntax.
  exits(id) {
    const n = this.node(id);
    if (!n) return [];
    const out = [];
    const ref = (field, caption, label, target) => out.push({ field, caption, label, target: target == null ? '' : String(target) });
    for (const x of this.types.exits) {
      const f = x.field;
      if (x.kind === 'ref') {
        if (this.types.has(n.type, f) || n[f] != null) ref(f, x.caption, f, n[f]);
      } else if (x.kind === 'options') {
        if (isObj(n[f])) {
          for (const k of Object.keys(n[f]).sort()) {
            const o = n[f][k];
            ref(`${f}.${k}.next`, k, `option ${k}`, isObj(o) ? o.next : o);
          }
        }
        if (this.types.has(n.type, f)) {
          const free = OPTION_KEYS.find((k) => !isObj(n[f]) || !(k in n[f]));
          if (free) out.push({ field: `${f}.+`, caption: '+', label: `new option (key ${free})`, target: '' });
        }
      } else if (x.kind === 'when' && Array.isArray(n[f])) {
        n[f].forEach((w, i) => ref(`${f}[${i}].next`, `when ${i}`, `when ${i}`, isObj(w) ? w.next : ''));
      } else if (x.kind === 'split' && Array.isArray(n[f])) {
        n[f].forEach((s, i) => {
          const pct = isObj(s) && s.percent != null ? `${s.percent}%` : `split ${i}`;
          ref(`${f}[${i}].next`, pct, pct, isObj(s) ? s.next : '');
        });
      } else if ((x.kind === 'intents' || x.kind === 'tools') && isObj(n[f])) {
        const what = x.kind === 'intents' ? 'intent' : 'tool';
        for (const k of Object.keys(n[f]).sort()) {
          const it = isObj(n[f][k]) ? n[f][k] : {};
          if (what === 'tool' && it.activity) continue; // an activity is no exit
          ref(`${f}.${k}.next`, k, `${what} ${k}`, it.next);
        }
      }
    }
    return out;
  }

  // edges are every connected exit of every node.
  edges() {
    const ids = new Set(this.nodeIds());
    const out = [];
    for (const id of ids) {
      for (const e of this.exits(id)) {
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
    } else if ((mm = /^(intents|tools)\.([^.]+)\.next$/.exec(field))) {
      if (!this._setItemNext(m.get(mm[1], true), mm[2], target)) return;
    } else if (this.types.refFields.includes(field)) {
      if (target) m.set(field, target);
      else m.delete(field);
    } else {
      return;
    }
    this._changed();
  }

  // _setItemNext points the next of item key of an intents or tools map
  // at target ('' removes it: the item keeps its examples or parameters).
  _setItemNext(map, key, target) {
    const p = findPair(map, key);
    if (!p) return false;
    if (!YAML.isMap(p.value)) {
      if (!target) return false;
      p.value = this.doc.createNode({ next: target });
    } else if (target) p.value.set('next', target);
    else p.value.delete('next');
    return true;
  }

  // setIn sets the value at path inside node id (['intents', 'billing',
  // 'examples']), making the maps on the way; '' or null removes it. A new
  // key goes before the map's next, so next stays last.
  setIn(id, path, value) {
    const m = this._nodeMap(id);
    const del = value === '' || value === null || value === undefined;
    const parent = m && this._mapAt(m, path.slice(0, -1), !del);
    if (!parent) return;
    const key = path[path.length - 1];
    const p = findPair(parent, key);
    if (del) {
      if (p) parent.items.splice(parent.items.indexOf(p), 1);
    } else if (p) {
      p.value = this._valueNode(p.value, value);
    } else {
      insertBefore(parent, key, this._valueNode(null, value), ['next']);
    }
    this._changed();
  }

  // _valueNode is value as a YAML node that replaces old: a scalar keeps
  // old's quoting; a list keeps old's style (new ones are flow style) and
  // the items it still has.
  _valueNode(old, value) {
    if (!isObj(value) && !Array.isArray(value) && YAML.isScalar(old)) {
      old.value = value;
      return old;
    }
    const node = this.doc.createNode(value);
    if (Array.isArray(value)) {
      const had = YAML.isSeq(old) ? old.items : [];
      node.flow = YAML.isSeq(old) ? old.flow : true;
      node.items = node.items.map((it) => had.find((o) => YAML.isScalar(o) && YAML.isScalar(it) && o.value === it.value) || it);
    }
    return node;
  }

  // renameKey renames the key at path inside node id, in place; false
  // when there is no such key or the new one is taken.
  renameKey(id, path, to) {
    const m = this._nodeMap(id);
    const parent = m && this._mapAt(m, path.slice(0, -1), false);
    const p = parent && findPair(parent, path[path.length - 1]);
    if (!p || findPair(parent, to)) return false;
    p.key = this.doc.createNode(to);
    this._changed();
    return true;
  }

  // _mapAt walks map m down path; with create, missing or empty levels
  // become maps.
  _mapAt(m, path, create) {
    for (const k of path) {
      const p = findPair(m, k);
      if (p && YAML.isMap(p.value)) {
        m = p.value;
        continue;
      }
      if (!create) return null;
      const v = this.doc.createNode({});
      if (p) p.value = v;
      else insertBefore(m, k, v, ['next']);
      m = v;
    }
    return m;
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
      if (YAML.isMap(other.value)) this._retarget(other.value, id, null);
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
      if (YAML.isMap(other.value)) this._retarget(other.value, from, to);
    }
    for (const f of ['entry', 'on_hangup']) if (scalarOf(this.doc.get(f, true)) === from) this.doc.set(f, to);
    const pos = this.doc.getIn(['metadata', 'positions'], true);
    const pp = YAML.isMap(pos) && findPair(pos, from);
    if (pp) pp.key = this.doc.createNode(to);
    this._changed();
    return true;
  }

  // _retarget points every exit of node map m that leads to from at to, or
  // removes the exit when to is null (a menu option, clause or share too).
  _retarget(m, from, to) {
    for (const x of this.types.exits) {
      const v = m.get(x.field, true);
      if (x.kind === 'ref') {
        if (scalarOf(v) !== from) continue;
        if (to === null) m.delete(x.field);
        else m.set(x.field, to);
      } else if (x.kind === 'options' && YAML.isMap(v)) {
        const target = (op) => (YAML.isMap(op.value) ? scalarOf(op.value.get('next', true)) : scalarOf(op.value));
        if (to === null) v.items = v.items.filter((op) => target(op) !== from);
        else {
          for (const op of v.items) {
            if (target(op) !== from) continue;
            if (YAML.isMap(op.value)) op.value.set('next', to);
            else op.value = this.doc.createNode(to);
          }
        }
      } else if ((x.kind === 'when' || x.kind === 'split') && YAML.isSeq(v)) {
        const hit = (it) => YAML.isMap(it) && scalarOf(it.get('next', true)) === from;
        if (to === null) v.items = v.items.filter((it) => !hit(it));
        else for (const it of v.items) if (hit(it)) it.set('next', to);
      } else if ((x.kind === 'intents' || x.kind === 'tools') && YAML.isMap(v)) {
        // An intent or tool outlives its target: only its next goes.
        for (const it of v.items) {
          if (YAML.isMap(it.value) && scalarOf(it.value.get('next', true)) === from) this._setItemNext(v, scalarOf(it.key), to ?? '');
        }
      }
    }
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
