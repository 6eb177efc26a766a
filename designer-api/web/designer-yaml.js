// The designer's YAML tab: the flow's text with a gutter that marks lines
// with problems, two-space Tab, and the switch between it and the graph.
// Typing here replaces the document; designer edits rewrite the text.

import { h, clear } from './ui.js';

export function installYaml(d) {
  const { st, el } = d;
  const { yamlArea, gutter } = el;

  d.setYaml = (text) => {
    if (yamlArea.value !== text) yamlArea.value = text;
    d.renderGutter();
  };

  d.renderGutter = () => {
    const lines = yamlArea.value.split('\n').length;
    const bad = new Map();
    for (const x of st.diags) if (!bad.has(x.line) || x.severity === 'error') bad.set(x.line, x.severity);
    clear(gutter);
    for (let i = 1; i <= lines; i++) {
      const s = bad.get(i);
      gutter.appendChild(s ? h('span', { class: s, title: st.diags.filter((x) => x.line === i).map((x) => x.message).join('\n') }, String(i)) : document.createTextNode(String(i)));
      gutter.appendChild(document.createTextNode('\n'));
    }
    gutter.scrollTop = yamlArea.scrollTop;
  };

  d.gotoLine = (line, col) => {
    const lines = yamlArea.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    pos += Math.max(0, col - 1);
    yamlArea.focus();
    yamlArea.setSelectionRange(pos, pos);
    yamlArea.scrollTop = Math.max(0, (line - 5) * 18);
  };

  yamlArea.addEventListener('scroll', () => { gutter.scrollTop = yamlArea.scrollTop; });
  yamlArea.addEventListener('input', () => {
    st.doc.load(yamlArea.value);
    d.renderGutter();
    d.setSave('unsaved');
    d.check();
    d.save();
  });
  yamlArea.addEventListener('keydown', (ev) => {
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey) {
      // Two spaces, as YAML wants; Escape then Tab leaves the editor.
      if (yamlArea.dataset.escaped === '1') { yamlArea.dataset.escaped = ''; return; }
      ev.preventDefault();
      yamlArea.setRangeText('  ', yamlArea.selectionStart, yamlArea.selectionEnd, 'end');
      yamlArea.dispatchEvent(new Event('input'));
    } else if (ev.key === 'Escape') {
      yamlArea.dataset.escaped = '1';
    }
  });

  d.showTab = (t) => {
    st.tab = t;
    el.tabDesign.setAttribute('aria-selected', String(t === 'design'));
    el.tabYaml.setAttribute('aria-selected', String(t === 'yaml'));
    const design = t === 'design';
    el.center.querySelector('.canvas-wrap').hidden = !design;
    el.yamlPane.hidden = design;
    el.palette.classList.toggle('disabled', !design);
    if (!design) {
      d.setYaml(st.doc.text());
      yamlArea.focus();
    } else {
      d.renderGraph();
      d.renderSide();
    }
  };
}
