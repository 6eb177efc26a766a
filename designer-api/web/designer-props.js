// The designer's side panel: its tabs (properties, simulator, versions)
// and the properties form of the selected node (generated from the JSON
// Schema), or of the flow when no node is selected.

import { nodeForm, flowForm } from './forms.js';
import { h, clear, toast } from './ui.js';

export function installProps(d) {
  const { st, el } = d;

  d.showSide = (k) => {
    st.side = k;
    for (const [key, b] of Object.entries(el.sideTabs)) b.setAttribute('aria-selected', String(key === k));
    d.renderSide();
  };

  d.renderSide = () => {
    if (st.side !== 'sim') d.stopSimUI();
    clear(el.sideBody);
    if (st.side === 'sim') return d.renderSim();
    if (st.side === 'history') return d.renderHistory();
    renderProps();
  };

  function renderProps() {
    const id = st.selected;
    const node = id && st.doc.node(id);
    const ctx = {
      schema: d.schema, nodeIds: st.doc.nodeIds(),
      onChange: (field, value, structural) => d.edit(() => st.doc.setField(id, field, value), structural || ['options', 'when', 'split'].includes(field)),
      onEdge: (field, target) => d.edit(() => st.doc.setEdge(id, field, target), true),
      onIn: (path, value, structural) => d.edit(() => st.doc.setIn(id, path, value), structural),
      onRename: (path, to) => {
        let ok = false;
        d.edit(() => { ok = st.doc.renameKey(id, path, to); }, true);
        return ok;
      },
      onFlow: (field, value) => d.edit(() => st.doc.setFlowField(field, value), field === 'entry' || field === 'on_hangup'),
      onSetting: (field, value) => d.edit(() => st.doc.setSetting(field, value)),
    };
    const form = h('form.props', { onsubmit: (e) => e.preventDefault(), 'aria-label': node ? `Node ${id}` : 'Flow settings' });
    if (!node) {
      form.append(h('div.props-head', h('h2', 'Flow'), h('p.muted.small', 'Select a node to edit it.')), h('div.node-errors'), ...flowForm(st.doc.js(), ctx));
    } else {
      form.append(...nodeHead(id, node), ...nodeForm(node, ctx));
      if (!d.editable) form.querySelectorAll('input,select,textarea,button').forEach((e) => (e.disabled = true));
    }
    el.sideBody.appendChild(form);
    d.markFieldErrors();
  }

  // nodeHead is the top of a node's form: type, delete, doc and the ID
  // (renaming a node renames every reference to it).
  function nodeHead(id, node) {
    const info = d.types.info(node.type);
    const idInput = h('input.mono#f-id', { value: id, pattern: '[A-Za-z0-9_\\-]+', autocomplete: 'off', readonly: !d.editable });
    idInput.addEventListener('change', () => {
      const to = idInput.value.trim();
      if (!to || to === id) return;
      if (!/^[A-Za-z0-9_-]+$/.test(to)) { toast('Node IDs use letters, digits, _ and -', 'error'); idInput.value = id; return; }
      let ok = false;
      d.edit(() => { ok = st.doc.renameNode(id, to); });
      if (!ok) { toast(`A node ${to} already exists`, 'error'); idInput.value = id; return; }
      st.selected = to;
      d.renderSide();
    });
    return [
      h('div.props-head',
        h('span.type-badge', { class: `g-${info.color}` }, info.icon || '', ' ', node.type),
        d.editable ? h('button.btn.small.danger-ghost', { type: 'button', onclick: () => d.removeNode(id) }, 'Delete') : null),
      h('p.muted.small', info.doc),
      h('div.field', h('label', { for: 'f-id' }, h('span.field-label', 'id')), idInput),
      h('div.node-errors'),
    ];
  }
}
