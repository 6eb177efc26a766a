// The flow language's node types as the API describes them (GET
// /api/v1/node-types, from the spec table in package flows): palette
// groups, icons, colours, exits and the fields a new node starts with. The
// designer keeps no copy of its own, so a new node type needs no change
// here.

import { request } from './api.js';

const UNKNOWN = { type: '?', group: '', color: 'other', icon: '?', doc: '', exits: [], starter: [] };

export class NodeTypes {
  // data: the body of GET /node-types ({groups, exits, types}).
  constructor(data) {
    this.groups = data.groups || [];
    this.exits = data.exits || [];
    this.types = data.types || [];
    this.byType = new Map(this.types.map((t) => [t.type, t]));
    // Fields that hold one node ID (next, default, on_error, ...).
    this.refFields = this.exits.filter((x) => x.kind === 'ref').map((x) => x.field);
  }

  names() {
    return this.types.map((t) => t.type);
  }

  // info describes a type; unknown types get a neutral entry.
  info(type) {
    return this.byType.get(type) || UNKNOWN;
  }

  // has says whether a type has an exit field.
  has(type, field) {
    return this.info(type).exits.includes(field);
  }

  // starter returns the fields, in order, a new node of type starts with.
  starter(type) {
    const out = {};
    for (const f of this.info(type).starter || []) out[f.field] = structuredClone(f.value);
    return out;
  }

  // palette lists the groups with their types, in display order.
  palette() {
    return this.groups.map((g) => ({ ...g, types: this.types.filter((t) => t.group === g.id) }));
  }
}

let loading;
// loadNodeTypes fetches the node types once per page (they are this
// server build's); quiet401: a 401 does not end the session.
export function loadNodeTypes({ quiet401 = false } = {}) {
  if (!loading) {
    loading = request('GET', '/node-types', { quiet401 }).then((r) => new NodeTypes(r.data));
    loading.catch(() => (loading = undefined));
  }
  return loading;
}
