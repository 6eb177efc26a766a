// Node and flow forms generated from the flow language's JSON Schema
// (GET /flow.schema.json, flows.Schema on the server). Each control writes
// through onChange(field, value) as the user types.

import { h } from './ui.js';
import { nodeProps, nodeRequired } from './flowdoc.js';
import { isObj, labelFor, refSelect, splitList } from './form-parts.js';
import { intentsEditor, toolsEditor } from './forms-ai.js';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '*', '#'];
const LONG_TEXT = new Set(['say', 'prompt', 'body', 'no_input_prompt', 'invalid_prompt', 'system']);

function refName(p) {
  return p && p.$ref ? p.$ref.replace('#/$defs/', '') : '';
}

// nodeForm builds the fields of node (plain data) of the given id.
// ctx: {schema, nodeIds, onChange(field, value), onEdge(field, target), idOf}
export function nodeForm(node, ctx) {
  const props = nodeProps(ctx.schema, node.type);
  const req = nodeRequired(ctx.schema, node.type);
  const out = [];
  for (const [field, p] of Object.entries(props)) {
    if (field === 'type') continue;
    out.push(fieldControl(field, p, node[field], req.has(field), ctx));
  }
  const unknown = Object.keys(node).filter((k) => k !== 'type' && !props[k]);
  if (unknown.length) {
    out.push(h('p.field-note', `Not part of a ${node.type} node: ${unknown.join(', ')} (remove in the YAML tab).`));
  }
  return out;
}

function fieldControl(field, p, value, required, ctx) {
  const kind = refName(p);
  const id = `f-${field}`;
  const wrap = (control, extra) => h('div.field', { dataset: { field } },
    h('label', { for: id }, labelFor(field, p, required)), control, extra || null,
    p && p.description ? h('small.desc', p.description) : null,
    h('div.field-error', { role: 'alert', dataset: { errorFor: field } }));

  if (kind === 'nodeRef') return wrap(refSelect(id, value, ctx, (v) => ctx.onEdge(field, v)));
  if (field === 'options') return optionsEditor(value, ctx, id);
  if (field === 'intents') return intentsEditor(value, p, required, ctx);
  if (field === 'tools') return toolsEditor(value, p, ctx);
  if (field === 'when') return listEditor(field, value, ctx, id, [['if', 'condition', 'vars.tier == "gold"']]);
  if (field === 'split') return listEditor(field, value, ctx, id, [['percent', 'number', '50']]);
  if (kind === 'assignments' || kind === 'inputs' || field === 'headers') return kvEditor(field, p, value, ctx, id, required);
  if (kind === 'schedule') return kvEditor(field, p, value, ctx, id, required, { list: true, keyPh: 'mon-fri', valPh: '09:00-17:00, 13:30-18:00' });
  if (p.type === 'array') {
    const input = h('input', { id, value: Array.isArray(value) ? value.join(', ') : '', placeholder: 'comma-separated', autocomplete: 'off' });
    input.addEventListener('input', () => ctx.onChange(field, splitList(input.value)));
    return wrap(input);
  }
  if (p.enum) {
    const sel = h('select', { id },
      h('option', { value: '' }, p.default !== undefined ? `(default: ${p.default})` : '—'),
      p.enum.map((v) => h('option', { value: v, selected: v === value }, v)));
    sel.addEventListener('change', () => ctx.onChange(field, sel.value));
    return wrap(sel);
  }
  if (p.type === 'boolean') {
    const cur = value === true ? 'true' : value === false ? 'false' : '';
    const sel = h('select', { id },
      h('option', { value: '' }, `(default: ${p.default === undefined ? 'no' : p.default ? 'yes' : 'no'})`),
      h('option', { value: 'true', selected: cur === 'true' }, 'yes'),
      h('option', { value: 'false', selected: cur === 'false' }, 'no'));
    sel.addEventListener('change', () => ctx.onChange(field, sel.value === '' ? '' : sel.value === 'true'));
    return wrap(sel);
  }
  if (p.type === 'integer' || p.type === 'number') return wrap(numberInput(id, p, value, (v) => ctx.onChange(field, v)));
  const isCode = kind === 'expression' || kind === 'condition' || kind === 'varName';
  const text = value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const input = LONG_TEXT.has(field)
    ? h('textarea', { id, rows: 2, placeholder: kind === 'template' ? 'Text, with {{ expressions }}' : '' }, text)
    : h('input', { id, value: text, class: isCode ? 'mono' : '', autocomplete: 'off', spellcheck: 'false',
      placeholder: kind === 'duration' ? (p.default || 'e.g. 5s') : kind === 'varName' ? 'variable' : p.default !== undefined ? String(p.default) : '' });
  input.addEventListener('input', () => ctx.onChange(field, input.value));
  return wrap(input);
}

// numberInput edits an integer or a number (min_confidence: 0 to 1 in
// steps of 0.05); what is not a number yet is written as typed, so the
// validator names the problem.
function numberInput(id, p, value, onChange) {
  const step = p.type === 'integer' ? '1' : p.maximum === 1 ? '0.05' : 'any';
  const input = h('input', { id, type: 'number', min: p.minimum, max: p.maximum, step, value: value ?? '',
    placeholder: p.default !== undefined ? String(p.default) : '' });
  const ok = (n) => (p.type === 'integer' ? Number.isInteger(n) : Number.isFinite(n));
  input.addEventListener('input', () => onChange(input.value === '' ? '' : ok(+input.value) ? +input.value : input.value));
  return input;
}

function optionsEditor(value, ctx, id) {
  const opts = isObj(value) ? value : {};
  const rows = Object.keys(opts).sort((a, b) => KEYS.indexOf(a) - KEYS.indexOf(b)).map((k) => {
    const o = opts[k];
    const target = isObj(o) ? o.next : o;
    const phrases = h('input', { value: isObj(o) && Array.isArray(o.phrases) ? o.phrases.join(', ') : '', placeholder: 'spoken phrases', 'aria-label': `Phrases of option ${k}` });
    phrases.addEventListener('change', () => {
      const list = splitList(phrases.value);
      const next = { ...opts };
      next[k] = list.length ? { next: isObj(o) ? o.next : o, phrases: list } : (isObj(o) ? o.next : o);
      ctx.onChange('options', next);
    });
    return h('div.list-row.option-row', { dataset: { option: k } },
      h('span.key-chip', k),
      refSelect(`${id}-${k}`, target, ctx, (v) => ctx.onEdge(`options.${k}.next`, v), `Option ${k} goes to`),
      phrases,
      h('button.icon-btn', { type: 'button', title: `Remove option ${k}`, 'aria-label': `Remove option ${k}`, onclick: () => ctx.onEdge(`options.${k}.next`, '') }, '✕'));
  });
  const free = KEYS.filter((k) => !(k in opts));
  const keySel = h('select', { 'aria-label': 'New option key' }, free.map((k) => h('option', { value: k }, k)));
  const tgtSel = h('select', { 'aria-label': 'New option goes to' }, ctx.nodeIds.map((n) => h('option', { value: n }, n)));
  const add = h('div.list-row.add-row', keySel, tgtSel,
    h('button.btn.small', { type: 'button', onclick: () => tgtSel.value && ctx.onEdge(`options.${keySel.value}.next`, tgtSel.value) }, '+ Add option'));
  return h('div.field', { dataset: { field: 'options' } },
    h('span.field-label', 'options', h('abbr.req', { title: 'required' }, '*')),
    h('small.desc', 'Keys 0-9, *, # → the node taken.'),
    rows, free.length ? add : null,
    h('div.field-error', { role: 'alert', dataset: { errorFor: 'options' } }));
}

function listEditor(field, value, ctx, id, cols) {
  const items = Array.isArray(value) ? value : [];
  const rows = items.map((it, i) => {
    const row = h('div.list-row', h('span.key-chip', String(i)));
    for (const [k, type, ph] of cols) {
      const input = h('input', { value: isObj(it) && it[k] != null ? String(it[k]) : '', placeholder: ph, class: type === 'condition' ? 'mono grow' : 'narrow', type: type === 'number' ? 'number' : 'text', 'aria-label': `${field} ${i} ${k}` });
      input.addEventListener('input', () => {
        const next = items.map((x) => ({ ...x }));
        next[i][k] = type === 'number' && input.value !== '' ? +input.value : input.value;
        ctx.onChange(field, next);
      });
      row.appendChild(input);
    }
    row.appendChild(refSelect(`${id}-${i}`, isObj(it) ? it.next : '', ctx, (v) => ctx.onEdge(`${field}[${i}].next`, v), `${field} ${i} goes to`));
    row.appendChild(h('button.icon-btn', { type: 'button', 'aria-label': `Remove ${field} ${i}`, onclick: () => ctx.onChange(field, items.filter((_, j) => j !== i)) }, '✕'));
    return row;
  });
  const add = h('button.btn.small', {
    type: 'button', onclick: () => {
      const blank = {};
      for (const [k, type, ph] of cols) blank[k] = type === 'number' ? 0 : ph;
      blank.next = ctx.nodeIds[0] || '';
      ctx.onChange(field, [...items, blank], true);
    },
  }, `+ Add ${field === 'when' ? 'condition' : 'share'}`);
  return h('div.field', { dataset: { field } },
    h('span.field-label', field, h('abbr.req', { title: 'required' }, '*')),
    h('small.desc', field === 'when' ? 'The first true condition is taken, else default.' : 'Percent of calls per branch; sums to 100.'),
    rows, add, h('div.field-error', { role: 'alert', dataset: { errorFor: field } }));
}

function kvEditor(field, p, value, ctx, id, required, { list = false, keyPh = 'name', valPh = 'expression' } = {}) {
  const obj = isObj(value) ? value : {};
  const entries = Object.entries(obj);
  const box = h('div.kv');
  const emit = (structural) => {
    const next = {};
    box.querySelectorAll('.list-row').forEach((r) => {
      const [k, v] = r.querySelectorAll('input');
      if (k.value.trim()) next[k.value.trim()] = list ? splitList(v.value) : v.value;
    });
    ctx.onChange(field, Object.keys(next).length ? next : '', structural);
  };
  const row = (k, v) => {
    const ki = h('input.narrow.mono', { value: k, placeholder: keyPh, 'aria-label': `${field} name` });
    const vi = h('input.grow', { value: list && Array.isArray(v) ? v.join(', ') : v == null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v), placeholder: valPh, class: list ? '' : 'mono', 'aria-label': `${field} value` });
    ki.addEventListener('input', () => emit(false));
    vi.addEventListener('input', () => emit(false));
    const r = h('div.list-row', ki, h('span.arrow', list ? ':' : '←'), vi,
      h('button.icon-btn', { type: 'button', 'aria-label': `Remove ${field} entry`, onclick: () => { r.remove(); emit(true); } }, '✕'));
    return r;
  };
  entries.forEach(([k, v]) => box.appendChild(row(k, v)));
  return h('div.field', { dataset: { field } },
    h('span.field-label', field, required ? h('abbr.req', { title: 'required' }, '*') : null),
    p && p.description ? h('small.desc', p.description) : null,
    box,
    h('button.btn.small', { type: 'button', onclick: () => { const r = row('', ''); box.appendChild(r); r.querySelector('input').focus(); } }, '+ Add'),
    h('div.field-error', { role: 'alert', dataset: { errorFor: field } }));
}

// flowForm builds the flow-level form: description, entry, on_hangup, settings.
export function flowForm(flow, ctx) {
  const props = (ctx.schema && ctx.schema.properties) || {};
  const settingsProps = (ctx.schema && ctx.schema.$defs && ctx.schema.$defs.settings && ctx.schema.$defs.settings.properties) || {};
  const out = [];
  out.push(h('div.field', h('span.field-label', 'name'), h('div.readonly.mono', String(flow.name ?? '')), h('small.desc', 'A stored flow keeps its name.'),
    h('div.field-error', { role: 'alert', dataset: { errorFor: 'name' } })));
  const desc = h('textarea#f-description', { rows: 2 }, flow.description ?? '');
  desc.addEventListener('input', () => ctx.onFlow('description', desc.value));
  out.push(h('div.field', { dataset: { field: 'description' } }, h('label', { for: 'f-description' }, labelFor('description', props.description)), desc,
    h('div.field-error', { role: 'alert', dataset: { errorFor: 'description' } })));
  for (const f of ['entry', 'on_hangup']) {
    out.push(h('div.field', { dataset: { field: f } }, h('label', { for: `f-${f}` }, labelFor(f, props[f], f === 'entry')),
      refSelect(`f-${f}`, flow[f] ?? '', ctx, (v) => ctx.onFlow(f, v)),
      h('small.desc', props[f] ? props[f].description : ''),
      h('div.field-error', { role: 'alert', dataset: { errorFor: f } })));
  }
  if (props.sensitive) {
    out.push(h('div.field', { dataset: { field: 'sensitive' } }, h('label', { for: 'f-sensitive' }, labelFor('sensitive', props.sensitive)),
      settingControl('f-sensitive', props.sensitive, flow.sensitive, (v) => ctx.onFlow('sensitive', v)),
      h('div.field-error', { role: 'alert', dataset: { errorFor: 'sensitive' } })));
  }
  out.push(h('h3.section', 'Settings'));
  const settings = isObj(flow.settings) ? flow.settings : {};
  for (const [f, p] of Object.entries(settingsProps)) {
    out.push(h('div.field', { dataset: { field: `settings.${f}` } }, h('label', { for: `s-${f}` }, labelFor(f, p)),
      settingControl(`s-${f}`, p, settings[f], (v) => ctx.onSetting(f, v)),
      h('div.field-error', { role: 'alert', dataset: { errorFor: `settings.${f}` } })));
  }
  const vars = isObj(flow.variables) ? Object.keys(flow.variables) : [];
  out.push(h('h3.section', 'Variables'), h('p.muted.small', vars.length ? vars.join(', ') : 'None declared.', ' Edit variables in the YAML tab.'));
  return out;
}

// settingControl edits one flow setting: yes/no, a comma-separated list, a
// number or text.
function settingControl(id, p, value, onChange) {
  if (p.type === 'boolean') {
    const sel = h('select', { id },
      h('option', { value: '' }, `(default: ${p.default ? 'yes' : 'no'})`),
      h('option', { value: 'true', selected: value === true }, 'yes'),
      h('option', { value: 'false', selected: value === false }, 'no'));
    sel.addEventListener('change', () => onChange(sel.value === '' ? '' : sel.value === 'true'));
    return sel;
  }
  if (p.type === 'integer' || p.type === 'number') return numberInput(id, p, value, onChange);
  const list = p.type === 'array';
  const input = h('input', { id, value: list && Array.isArray(value) ? value.join(', ') : value ?? '', autocomplete: 'off',
    placeholder: list ? 'comma-separated' : p.default !== undefined ? String(p.default) : '' });
  input.addEventListener('input', () => onChange(list ? (splitList(input.value).length ? splitList(input.value) : '') : input.value));
  return input;
}
