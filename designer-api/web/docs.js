// A self-contained reader for /openapi.json: voxflow dev runs offline, so
// the API reference cannot load a renderer from a CDN.
const main = document.getElementById('docs');

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// resolve follows a local $ref ("#/components/schemas/X") once.
function resolve(spec, s) {
  if (!s || !s.$ref) return s;
  return s.$ref.split('/').slice(1).reduce((o, k) => (o ? o[k] : undefined), spec);
}

function schemaName(s) {
  if (!s) return '';
  if (s.$ref) return s.$ref.split('/').pop();
  if (s.type === 'array') return `${schemaName(s.items)}[]`;
  return s.type || '';
}

function operation(spec, method, path, op) {
  const body = el('div', { class: 'body' });
  if (op.description && op.description !== op.summary) body.append(el('p', {}, op.description));
  const params = op.parameters || [];
  if (params.length) {
    const t = el('table', {}, el('tr', {}, el('th', {}, 'parameter'), el('th', {}, 'in'), el('th', {}, 'type'), el('th', {}, 'description')));
    for (const p of params.map((x) => resolve(spec, x))) {
      t.append(el('tr', {}, el('td', {}, el('code', {}, p.name + (p.required ? ' *' : ''))), el('td', {}, p.in),
        el('td', {}, schemaName(p.schema)), el('td', {}, p.description || '')));
    }
    body.append(t);
  }
  const rb = op.requestBody && resolve(spec, op.requestBody);
  if (rb && rb.content) {
    for (const [ct, media] of Object.entries(rb.content)) {
      const s = resolve(spec, media.schema);
      body.append(el('p', {}, 'Request body ', el('code', {}, ct), ': ', schemaName(media.schema)));
      if (s) body.append(el('pre', {}, JSON.stringify(s, null, 2)));
    }
  }
  const rt = el('table', {}, el('tr', {}, el('th', {}, 'status'), el('th', {}, 'response')));
  for (const [code, r] of Object.entries(op.responses || {})) {
    const res = resolve(spec, r);
    const types = Object.entries(res.content || {}).map(([ct, m]) => `${ct} ${schemaName(m.schema)}`).join(', ');
    rt.append(el('tr', {}, el('td', {}, code), el('td', {}, [res.description, types].filter(Boolean).join(' — '))));
  }
  body.append(rt);
  const role = op['x-min-role'] ? `role: ${op['x-min-role']}` : '';
  return el('details', {},
    el('summary', {}, el('span', { class: `method ${method}` }, method), el('span', { class: 'path' }, path),
      el('span', {}, op.summary || ''), el('span', { class: 'role' }, role)),
    body);
}

async function render() {
  const resp = await fetch('/openapi.json');
  if (!resp.ok) throw new Error(`GET /openapi.json: ${resp.status}`);
  const spec = await resp.json();
  const byTag = new Map();
  for (const [path, item] of Object.entries(spec.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const tag = (op.tags && op.tags[0]) || 'other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(spec, method, path, op));
    }
  }
  main.replaceChildren(el('h1', {}, spec.info.title, ' ', el('small', {}, spec.info.version)),
    el('p', {}, spec.info.description || ''));
  for (const tag of [...byTag.keys()].sort()) {
    main.append(el('h2', {}, tag), ...byTag.get(tag));
  }
}

render().catch((err) => { main.replaceChildren(el('p', {}, `Could not load the API description: ${err.message}`)); });
