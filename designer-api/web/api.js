// Thin client of the voxflow API (/api/v1). Every call returns
// {status, data, etag}; failures throw ApiError carrying the RFC 9457
// problem (title, detail, errors with line/column for flow problems).

export const PREFIX = '/api/v1';

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(status, problem));
    this.status = status;
    this.problem = problem || {};
  }
  // Diagnostics of a FlowProblem (422 on publish, graph, simulate).
  get diagnostics() {
    const errs = this.problem.errors || [];
    return errs.filter((e) => e && typeof e.line === 'number');
  }
}

function problemText(status, p) {
  if (!p) return `HTTP ${status}`;
  let s = p.detail || p.title || `HTTP ${status}`;
  const extra = (p.errors || [])
    .filter((e) => e && e.message && typeof e.line !== 'number')
    .map((e) => (e.location ? `${e.location}: ` : '') + e.message);
  if (extra.length) s += ' (' + extra.join('; ') + ')';
  return s;
}

const listeners = new Set();
// onUnauthorized(fn): fn runs when any call answers 401 (session expired).
export function onUnauthorized(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export async function request(method, path, { body, headers = {}, signal, quiet401 = false } = {}) {
  const h = { Accept: 'application/json, application/problem+json', ...headers };
  let payload;
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(PREFIX + path, { method, headers: h, body: payload, credentials: 'same-origin', signal });
  const ct = res.headers.get('Content-Type') || '';
  let data = null;
  if (res.status !== 204) {
    if (ct.includes('json')) data = await res.json().catch(() => null);
    else data = await res.text();
  }
  if (!res.ok) {
    if (res.status === 401 && !quiet401) listeners.forEach((fn) => fn());
    throw new ApiError(res.status, data && typeof data === 'object' ? data : { detail: String(data || res.statusText) });
  }
  return { status: res.status, data, etag: res.headers.get('ETag') || '' };
}

const enc = encodeURIComponent;
const qs = (o) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o || {})) if (v !== undefined && v !== null && v !== '' && v !== false) p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
};

export const api = {
  // Session
  signIn: (username, password) => request('POST', '/session', { body: { username, password }, quiet401: true }),
  signOut: () => request('DELETE', '/session'),
  session: () => request('GET', '/session', { quiet401: true }),

  // Flows
  listFlows: (cursor) => request('GET', '/flows' + qs({ limit: 1000, cursor })),
  getFlow: (name) => request('GET', `/flows/${enc(name)}`),
  createFlow: (name, source) => request('POST', '/flows', { body: { name, source } }),
  saveDraft: (name, source, etag) =>
    request('PUT', `/flows/${enc(name)}/draft`, { body: { source }, headers: etag ? { 'If-Match': etag } : {} }),
  deleteDraft: (name, etag) =>
    request('DELETE', `/flows/${enc(name)}/draft`, { headers: etag ? { 'If-Match': etag } : {} }),
  validate: (source, name) => request('POST', '/flows/validate', { body: { source, name } }),
  graphOfSource: (source) => request('POST', '/flows/graph', { body: { source } }),
  graph: (name, version) => request('GET', `/flows/${enc(name)}/graph` + qs({ version })),
  diff: (name, from, to) => request('GET', `/flows/${enc(name)}/diff` + qs({ from, to })),
  publish: (name, etag, note) =>
    request('POST', `/flows/${enc(name)}/publish`, { body: { note }, headers: etag ? { 'If-Match': etag } : {} }),
  versions: (name) => request('GET', `/flows/${enc(name)}/versions?limit=1000`),
  version: (name, v) => request('GET', `/flows/${enc(name)}/versions/${v}`),
  rollback: (name, version) => request('POST', `/flows/${enc(name)}/rollback`, { body: { version } }),
  nodeTypes: () => request('GET', '/node-types'),

  // Numbers
  numbers: () => request('GET', '/numbers'),
  bindNumber: (number, flow) => request('PUT', `/numbers/${enc(number)}`, { body: { flow } }),
  unbindNumber: (number) => request('DELETE', `/numbers/${enc(number)}`),

  // Simulator
  simulate: (body) => request('POST', '/simulate', { body }),
  simInput: (id, input) => request('POST', `/simulate/${enc(id)}/input`, { body: { input } }),
  simEventsURL: (id) => `${PREFIX}/simulate/${enc(id)}/events`,

  // Operations
  calls: (filter) => request('GET', '/calls' + qs(filter)),
  stuck: (olderThan) => request('GET', '/calls/stuck' + qs({ older_than: olderThan })),
  call: (id) => request('GET', `/calls/${enc(id)}`),
  resetCall: (id, node, reason) => request('POST', `/calls/${enc(id)}/reset`, { body: { node, reason } }),
  terminateCall: (id, reason) => request('POST', `/calls/${enc(id)}/terminate`, { body: { reason } }),
  replayCall: (id) => request('POST', `/calls/${enc(id)}/replay`),
  cdrs: (filter) => request('GET', '/cdrs' + qs({ limit: 50, ...filter })),
  cdrExportURL: (filter, format) => `${PREFIX}/cdrs/export` + qs({ ...filter, format }),
  metrics: (flow, window) => request('GET', '/metrics/summary' + qs({ flow, window })),

  // Supervisor board (live: Server-Sent Events board, calls, history, problem)
  boardEventsURL: () => `${PREFIX}/board/events`,
  boardHistory: () => request('GET', '/board/history'),
};

// The flow language's JSON Schema, served beside the UI by WebHandler
// (beside this module: under /v/<build>/ it is cached for good).
let schemaPromise;
export function flowSchema() {
  if (!schemaPromise) {
    schemaPromise = fetch(new URL('./flow.schema.json', import.meta.url), { credentials: 'same-origin' }).then((r) => {
      if (!r.ok) throw new Error(`flow schema: HTTP ${r.status}`);
      return r.json();
    });
    schemaPromise.catch(() => (schemaPromise = undefined));
  }
  return schemaPromise;
}
