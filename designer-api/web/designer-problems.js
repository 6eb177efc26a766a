// The designer's problems: the list under the canvas (each one jumps to
// its node, or to its line in the YAML tab) and the errors shown beside
// the fields of the selected node's form.

import { nodeProps } from './flowdoc.js';
import { h, clear } from './ui.js';

export function installProblems(d) {
  const { st, el, schema } = d;

  d.renderProblems = () => {
    const errs = st.diags.filter((x) => x.severity === 'error');
    const warns = st.diags.filter((x) => x.severity !== 'error');
    el.problemsCount.textContent = errs.length ? `${errs.length} error${errs.length > 1 ? 's' : ''}` : warns.length ? `${warns.length} warning${warns.length > 1 ? 's' : ''}` : 'Valid';
    el.problemsCount.className = 'chip ' + (errs.length ? 'bad' : warns.length ? 'warn' : 'ok');
    clear(el.problems);
    el.problems.appendChild(h('div.problems-head', h('strong', 'Problems'),
      h('span.muted', st.diags.length ? `${errs.length} error(s), ${warns.length} warning(s)` : 'No problems: the flow is valid.')));
    if (!st.diags.length) return;
    el.problems.appendChild(h('ul', st.diags.map((x) => h('li', h('button.problem', {
      type: 'button', class: x.severity, 'data-node': x.node || '',
      onclick: () => {
        if (st.tab === 'yaml') return d.gotoLine(x.line, x.column);
        if (x.node) { st.selected = x.node; d.graph.select(x.node); d.showSide('props'); d.graph.focusNode(x.node); }
        else { st.selected = null; d.showSide('props'); }
      },
    }, h('span.sev', x.severity === 'error' ? '●' : '▲'), h('span.pos.mono', `${x.line}:${x.column}`),
    x.node ? h('span.node-ref', x.node) : null, h('span.msg', x.message))))));
  };

  // fieldOf maps a diagnostic's YAML path to the form field it concerns.
  function fieldOf(x) {
    const f = x.field || '';
    if (x.node) {
      const rest = f.slice(`$.nodes.${x.node}`.length).replace(/^\./, '');
      const f0 = rest.split(/[.[]/)[0];
      if (f0) return f0;
      const m = /missing required field (\w+)/.exec(x.message);
      if (m) return m[1];
      return fieldAtLine(x.node, x.line);
    }
    const m = /^\$\.([a-z_]+)(?:\.([a-z_]+))?/.exec(f);
    if (!m) return '';
    return m[1] === 'settings' && m[2] ? `settings.${m[2]}` : m[1];
  }

  // fieldAtLine finds the node field written at (or, for nested values,
  // above) a line of the YAML: some diagnostics point at the node only.
  function fieldAtLine(nodeId, line) {
    const n = st.doc.node(nodeId);
    if (!n || !line) return '';
    const props = nodeProps(schema, n.type);
    const lines = st.doc.text().split('\n');
    let indent = Infinity;
    for (let i = line - 1; i >= 0 && i < lines.length; i--) {
      const m = /^(\s*)(?:- )?"?([A-Za-z_][\w]*)"?\s*:/.exec(lines[i]);
      if (!m || m[1].length >= indent) continue;
      indent = m[1].length;
      if (props[m[2]]) return m[2];
      if (m[2] === nodeId) return '';
    }
    return '';
  }

  // errorSlot finds where a diagnostic shows in the form: the card of its
  // intent or tool, else its field's place.
  function errorSlot(body, x) {
    const f = fieldOf(x);
    if (!f) return null;
    const m = x.node && /^\$\.nodes\.[^.]+\.(intents|tools)\.([^.[]+)/.exec(x.field || '');
    const item = m && body.querySelector(`[data-error-for="${CSS.escape(`${m[1]}.${m[2]}`)}"]`);
    return item || body.querySelector(`[data-error-for="${CSS.escape(f)}"]`);
  }

  d.markFieldErrors = () => {
    const body = el.sideBody;
    body.querySelectorAll('[data-error-for]').forEach((e) => { e.textContent = ''; });
    body.querySelectorAll('.field.invalid').forEach((e) => e.classList.remove('invalid'));
    const nodeBox = body.querySelector('.node-errors');
    if (nodeBox) clear(nodeBox);
    for (const x of st.diags) {
      if ((x.node || null) !== (st.selected || null) && !(st.selected === null && !x.node)) continue;
      if (st.selected && x.node !== st.selected) continue;
      const slot = errorSlot(body, x);
      const text = `${x.severity === 'error' ? '' : 'warning: '}${x.message} (line ${x.line}, column ${x.column})`;
      if (slot) {
        slot.textContent = slot.textContent ? slot.textContent + '\n' + text : text;
        slot.closest('.field').classList.add('invalid');
      } else if (nodeBox) {
        nodeBox.appendChild(h('div.alert', { class: x.severity === 'error' ? 'error' : 'warn' }, text));
      }
    }
  };
}
