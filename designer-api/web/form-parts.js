// Controls shared by the generated forms (forms.js) and the AI nodes'
// editors (forms-ai.js).

import { h } from './ui.js';

export const isObj = (v) => v && typeof v === 'object' && !Array.isArray(v);

// labelFor is a field's label: its name, a required mark, its help.
export function labelFor(field, p, required) {
  return h('span.field-label', field, required ? h('abbr.req', { title: 'required' }, '*') : null,
    p && p.description ? h('span.help', { title: p.description, 'aria-hidden': 'true' }, '?') : null);
}

// refSelect picks a node of the flow (or none); a target that is not a
// node stays listed as missing.
export function refSelect(id, value, ctx, onChange, label) {
  const ids = ctx.nodeIds;
  const sel = h('select', { id, 'aria-label': label },
    h('option', { value: '' }, '— not connected —'),
    ids.map((n) => h('option', { value: n, selected: n === value }, n)),
    value && !ids.includes(value) ? h('option', { value, selected: true }, `${value} (missing)`) : null);
  sel.addEventListener('change', () => onChange(sel.value));
  return sel;
}

export function splitList(s) {
  return s.split(',').map((x) => x.trim()).filter(Boolean);
}
