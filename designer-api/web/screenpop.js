// The screen-pop on the agent desk: what the flow knows of a call offered
// to the agent (platform.ScreenPop): its flow and the node the caller is
// at, the way they came, and the variables (a CRM record, an intent, the
// caller's choices; secrets come masked).

import { h } from './ui.js';

// popView shows a screen-pop: where the caller is in the flow, the way
// they came and what the flow learned about them.
export function popView(pop, c = {}) {
  const head = h('dl.pop-facts',
    h('div', h('dt', 'Caller'), h('dd', c.from || '—')),
    h('div', h('dt', 'Channel'), h('dd', c.channel || '—')),
    h('div', h('dt', 'Flow'), h('dd', pop ? `${pop.flow}${pop.version ? ` v${pop.version}` : ''}` : '—')),
    h('div', h('dt', 'Now at'), h('dd', { 'data-pop-node': pop ? pop.node : '' }, pop && pop.node ? pop.node : '—')));
  if (!pop) return h('div.pop', head, h('p.small.muted', 'No details from the flow for this call.'));
  const path = h('ol.pop-path', { 'aria-label': 'Path through the flow' }, (pop.path || []).map((s) => h('li',
    h('span.mono', s.node), s.exit ? h('span.muted.small', ` → ${s.exit}`) : null, s.input ? h('span.chip', s.input) : null)));
  const vars = Object.entries(pop.vars || {}).filter(([, v]) => v !== '' && v !== null && v !== undefined);
  return h('div.pop', head,
    h('h3', 'Path'), path,
    h('h3', 'What the flow knows'),
    vars.length ? h('dl.pop-vars', vars.map(([k, v]) => h('div', { 'data-var': k }, h('dt.mono', k), h('dd', varValue(v)))))
      : h('p.small.muted', 'Nothing yet.'));
}

function varValue(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return h('dl.pop-record', Object.entries(v).map(([k, x]) => h('div', h('dt', k), h('dd', typeof x === 'object' ? JSON.stringify(x) : String(x)))));
  }
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
