// The designer's node palette: one button per node type, in the groups
// and with the icons the API's node types give. Drag one onto the canvas,
// or press Enter on it, to add a node.

import { h } from './ui.js';

export function paletteView(d) {
  const { types, editable } = d;
  const item = (t) => {
    const el = h(`button.pal-item.g-${t.color}`, {
      type: 'button', draggable: editable ? 'true' : 'false', disabled: !editable, title: t.doc,
      'data-type': t.type, 'aria-label': `Add a ${t.type} node`,
      onclick: () => d.addNode(t.type),
    }, h('span.pal-icon', t.icon), h('span', t.type));
    el.addEventListener('dragstart', (ev) => {
      ev.dataTransfer.setData('application/x-voxflow-node', t.type);
      ev.dataTransfer.effectAllowed = 'copy';
    });
    return el;
  };
  const groups = types.palette();
  const grouped = new Set(groups.flatMap((g) => g.types.map((t) => t.type)));
  return h('aside.palette', { 'aria-label': 'Node palette' },
    h('h2', 'Nodes'),
    h('p.muted.small', editable ? 'Drag onto the canvas, or press Enter to add.' : 'Read only: your role cannot edit.'),
    groups.map((g) => h('div.pal-group', h('h3', g.title), g.types.map(item))),
    types.types.filter((t) => !grouped.has(t.type)).map(item));
}
