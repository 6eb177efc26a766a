// Editors of the AI nodes' mappings: an intent node's intents (description,
// examples, typed slots, next) and an llm node's tools (description,
// parameters, and a next node or an activity). Each control writes one
// value through ctx.onIn(path, value, structural) or renames one key
// through ctx.onRename(path, to), so the rest of the YAML is left as it
// was; a next goes through ctx.onEdge like a port of the graph. Slot and
// parameter types come from the flow language's JSON Schema.

import { h, toast } from './ui.js';
import { isObj, labelFor, refSelect, splitList } from './form-parts.js';

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

// intentsEditor edits an intent node's intents, one card each.
export function intentsEditor(value, p, required, ctx) {
  const intents = isObj(value) ? value : {};
  const types = schemaEnum(ctx.schema, ['slot', 'properties', 'type', 'enum']);
  const cards = Object.keys(intents).map((name) => intentCard(name, isObj(intents[name]) ? intents[name] : {}, ctx, types));
  const add = addRow({ what: 'intent', placeholder: 'new intent', re: VAR_NAME, taken: intents, onAdd: (name) => ctx.onIn(['intents', name], {}, true) });
  return section('intents', p, required, cards, add);
}

// toolsEditor edits an llm node's tools, one card each.
export function toolsEditor(value, p, ctx) {
  const tools = isObj(value) ? value : {};
  const types = schemaEnum(ctx.schema, ['tool', 'properties', 'params', 'additionalProperties', 'enum']);
  const cards = Object.keys(tools).map((name) => toolCard(name, isObj(tools[name]) ? tools[name] : {}, ctx, types));
  const add = addRow({ what: 'tool', placeholder: 'new tool', re: TOOL_NAME, taken: tools, onAdd: (name) => ctx.onIn(['tools', name], {}, true) });
  return section('tools', p, false, cards, add);
}

function section(field, p, required, cards, add) {
  return h('div.field.ai-field', { dataset: { field } },
    h('span.field-label', labelFor(field, p, required)),
    p && p.description ? h('small.desc', p.description) : null,
    cards, add,
    h('div.field-error', { role: 'alert', dataset: { errorFor: field } }));
}

function intentCard(name, it, ctx, slotTypes) {
  const path = ['intents', name];
  const text = (key, ph) => textInput(it[key], ph, `${key} of intent ${name}`, (v) => ctx.onIn([...path, key], v));
  return h('div.ai-item', { dataset: { intent: name } },
    h('div.list-row.ai-head',
      keyInput(name, `Name of intent ${name}`, VAR_NAME, (to) => ctx.onRename(path, to)),
      h('span.arrow', '→'),
      refSelect(`f-intents-${name}-next`, it.next, ctx, (v) => ctx.onEdge(`intents.${name}.next`, v), `Intent ${name} goes to`),
      removeButton(`Remove intent ${name}`, () => ctx.onIn(path, null, true))),
    h('div.list-row', text('description', 'What it means, for the model')),
    h('div.ai-sub', h('span.sub-label', 'examples'),
      stringList(it.examples, 'Something a caller might say', `Example of intent ${name}`, (list) => ctx.onIn([...path, 'examples'], list.length ? list : null))),
    slotsEditor(name, it.slots, ctx, slotTypes),
    h('div.field-error', { role: 'alert', dataset: { errorFor: `intents.${name}` } }));
}

function slotsEditor(intent, value, ctx, types) {
  const path = ['intents', intent, 'slots'];
  const slots = isObj(value) ? value : {};
  const rows = Object.keys(slots).map((name) => slotRow([...path, name], isObj(slots[name]) ? slots[name] : {}, ctx, types));
  const add = addRow({ what: `slot of intent ${intent}`, placeholder: 'new slot', re: VAR_NAME, types, taken: slots,
    onAdd: (name, type) => ctx.onIn([...path, name], { type }, true) });
  return h('div.ai-sub', h('span.sub-label', 'slots'), rows, add);
}

function slotRow(path, s, ctx, types) {
  const name = path[path.length - 1];
  const set = (key, structural) => (v) => ctx.onIn([...path, key], v, structural);
  const type = selectOf(types, s.type, `Type of slot ${name}`, (v) => {
    if (v !== 'enum' && s.values) ctx.onIn([...path, 'values'], null);
    set('type', true)(v);
  });
  const req = h('input', { type: 'checkbox', checked: s.required === true, 'aria-label': `Slot ${name} is required` });
  req.addEventListener('change', () => set('required')(req.checked ? true : null));
  const values = s.type === 'enum'
    ? h('div.list-row', textInput((s.values || []).join(', '), 'Values, comma-separated', `Values of slot ${name}`, (v) => set('values')(splitList(v).length ? splitList(v) : null)))
    : null;
  return h('div.slot', { dataset: { slot: name } },
    h('div.list-row',
      keyInput(name, `Name of slot ${name}`, VAR_NAME, (to) => ctx.onRename(path, to)),
      type, removeButton(`Remove slot ${name}`, () => ctx.onIn(path, null, true))),
    h('div.list-row', h('label.check', req, 'required'),
      textInput(s.ask, 'Question when it is missing', `Question for slot ${name}`, set('ask'))),
    values,
    h('div.list-row', textInput(s.description, 'What it is, for the model', `Description of slot ${name}`, set('description'))));
}

function toolCard(name, t, ctx, paramTypes) {
  const path = ['tools', name];
  const activity = textInput(t.activity, 'registered activity, e.g. crm.Balance', `Activity of tool ${name}`, null);
  activity.classList.add('mono');
  activity.addEventListener('change', () => {
    const v = activity.value.trim();
    if (v && t.next) ctx.onEdge(`tools.${name}.next`, '');
    ctx.onIn([...path, 'activity'], v, true);
  });
  const next = refSelect(`f-tools-${name}-next`, t.next, ctx, (v) => {
    if (v && t.activity) ctx.onIn([...path, 'activity'], null);
    ctx.onEdge(`tools.${name}.next`, v);
  }, `Tool ${name} goes to`);
  return h('div.ai-item', { dataset: { tool: name } },
    h('div.list-row.ai-head',
      keyInput(name, `Name of tool ${name}`, TOOL_NAME, (to) => ctx.onRename(path, to)),
      removeButton(`Remove tool ${name}`, () => ctx.onIn(path, null, true))),
    h('div.list-row', textInput(t.description, 'When the model should call it', `Description of tool ${name}`, (v) => ctx.onIn([...path, 'description'], v))),
    h('div.list-row.tool-does', h('span.sub-label', 'next'), next),
    h('div.list-row.tool-does', h('span.sub-label', 'or activity'), activity),
    paramsEditor(path, t.params, ctx, paramTypes),
    h('div.field-error', { role: 'alert', dataset: { errorFor: `tools.${name}` } }));
}

function paramsEditor(tool, value, ctx, types) {
  const path = [...tool, 'params'];
  const params = isObj(value) ? value : {};
  const label = `tool ${tool[1]}`;
  const rows = Object.keys(params).map((name) => h('div.list-row', { dataset: { param: name } },
    keyInput(name, `Name of parameter ${name} of ${label}`, VAR_NAME, (to) => ctx.onRename([...path, name], to)),
    selectOf(types, params[name], `Type of parameter ${name} of ${label}`, (v) => ctx.onIn([...path, name], v)),
    removeButton(`Remove parameter ${name} of ${label}`, () => ctx.onIn([...path, name], null, true))));
  const add = addRow({ what: `parameter of ${label}`, placeholder: 'new param', re: VAR_NAME, types, taken: params,
    onAdd: (name, type) => ctx.onIn([...path, name], type, true) });
  return h('div.ai-sub', h('span.sub-label', 'params'), rows, add);
}

// ---- small controls ----

function textInput(value, placeholder, label, onInput) {
  const input = h('input', { value: value == null ? '' : String(value), placeholder, 'aria-label': label, autocomplete: 'off' });
  if (onInput) input.addEventListener('input', () => onInput(input.value));
  return input;
}

// keyInput renames a key when left (or on Enter); a bad or taken name is
// refused and put back.
function keyInput(name, label, re, onRename) {
  const input = h('input.narrow.mono.key-input', { value: name, 'aria-label': label, autocomplete: 'off', spellcheck: 'false' });
  input.addEventListener('change', () => {
    const to = input.value.trim();
    if (to === name) return;
    if (!re.test(to)) { toast(`${to || 'An empty name'} is not a valid name`, 'error'); input.value = name; return; }
    if (!onRename(to)) { toast(`${to} already exists`, 'error'); input.value = name; }
  });
  return input;
}

function selectOf(options, value, label, onChange) {
  const sel = h('select', { 'aria-label': label },
    value && !options.includes(value) ? h('option', { value, selected: true }, `${value} (unknown)`) : null,
    options.map((o) => h('option', { value: o, selected: o === value }, o)));
  sel.addEventListener('change', () => onChange(sel.value));
  return sel;
}

function removeButton(label, onclick) {
  return h('button.icon-btn', { type: 'button', title: label, 'aria-label': label, onclick }, '✕');
}

// addRow is a name (and, with types, a type) and an add button; the name
// must match re and not be a key of taken.
function addRow({ what, placeholder, re, types = null, taken, onAdd }) {
  const name = h('input.narrow.mono', { placeholder, 'aria-label': `Name of the new ${what}`, autocomplete: 'off', spellcheck: 'false' });
  const type = types ? selectOf(types, types.includes('text') ? 'text' : types[0], `Type of the new ${what}`, () => {}) : null;
  const add = () => {
    const n = name.value.trim();
    if (!re.test(n)) { toast(`Name the ${what} with letters, digits and _${re === TOOL_NAME ? ' or -' : ', not starting with a digit'}`, 'error'); return; }
    if (Object.hasOwn(taken, n)) { toast(`There is already a ${what.split(' ')[0]} ${n}`, 'error'); return; }
    onAdd(n, type && type.value);
  };
  name.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); add(); } });
  return h('div.list-row.add-row', name, type, h('button.btn.small', { type: 'button', onclick: add }, `+ Add ${what.split(' ')[0]}`));
}

// stringList edits a list of texts, one input each.
function stringList(values, placeholder, label, onChange) {
  const box = h('div.str-list');
  const emit = () => onChange([...box.querySelectorAll('input')].map((i) => i.value.trim()).filter(Boolean));
  const row = (v) => {
    const input = textInput(v, placeholder, label, emit);
    const r = h('div.list-row', input, removeButton(`Remove ${label.toLowerCase()}`, () => { r.remove(); emit(); }));
    return r;
  };
  for (const v of Array.isArray(values) ? values : []) box.appendChild(row(String(v)));
  const add = h('button.btn.small', { type: 'button', onclick: () => { const r = row(''); box.appendChild(r); r.querySelector('input').focus(); } }, '+ Add');
  return h('div', box, add);
}

function schemaEnum(schema, path) {
  let v = schema && schema.$defs;
  for (const k of path) v = v && v[k];
  return Array.isArray(v) ? v : [];
}
