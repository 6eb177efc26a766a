// Small DOM helpers shared by the screens.

// h('div.card#x', {onclick, class, ...attrs}, children...) builds an element.
export function h(tag, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(tag);
  const e = document.createElement((m && m[1]) || 'div');
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') e.classList.add(part.slice(1));
      else e.id = part.slice(1);
    }
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = [e.className, v].filter(Boolean).join(' ');
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = !!v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(e) {
  e.replaceChildren();
  return e;
}

// toast shows a short message; kind is info, ok or error.
export function toast(msg, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) {
    box = h('div#toasts', { role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(box);
  }
  const t = h(`div.toast.${kind}`, msg);
  box.appendChild(t);
  setTimeout(() => t.classList.add('leaving'), kind === 'error' ? 6000 : 3000);
  setTimeout(() => t.remove(), kind === 'error' ? 6500 : 3500);
}

// dialog opens a modal with a form; resolves with the form's values or null.
export function dialog({ title, body, fields = [], ok = 'OK', danger = false }) {
  return new Promise((resolve) => {
    const inputs = fields.map((f) => {
      const id = 'dlg-' + f.name;
      const input = f.options
        ? h('select', { id, name: f.name }, f.options.map((o) => h('option', { value: o.value ?? o, selected: (o.value ?? o) === f.value }, o.label ?? o)))
        : h('input', { id, name: f.name, value: f.value || '', placeholder: f.placeholder || '', required: f.required, pattern: f.pattern, autocomplete: 'off' });
      return h('label.field', h('span', f.label), input, f.help ? h('small', f.help) : null);
    });
    const d = h('dialog.modal', { 'aria-label': title },
      h('form', { method: 'dialog' },
        h('h2', title),
        body ? h('p', body) : null,
        inputs,
        h('div.actions',
          h('button.btn', { type: 'button', value: 'cancel', onclick: () => d.close('cancel') }, 'Cancel'),
          h(`button.btn.${danger ? 'danger' : 'primary'}`, { type: 'submit', value: 'ok' }, ok))));
    document.body.appendChild(d);
    d.addEventListener('close', () => {
      const out = {};
      d.querySelectorAll('input,select').forEach((i) => (out[i.name] = i.value));
      d.remove();
      resolve(d.returnValue === 'ok' ? out : null);
    });
    d.showModal();
    const first = d.querySelector('input,select');
    if (first) first.focus();
  });
}

export function ago(t) {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d) || d.getFullYear() < 2000) return '';
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return d.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}

export function time(t) {
  if (!t) return '';
  const d = new Date(t);
  if (isNaN(d) || d.getFullYear() < 2000) return '';
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ms(n) {
  if (n == null) return '';
  if (n < 1000) return `${n} ms`;
  if (n < 60000) return `${(n / 1000).toFixed(1)} s`;
  return `${Math.floor(n / 60000)} min ${Math.round((n % 60000) / 1000)} s`;
}

export function debounce(fn, wait) {
  let t;
  const d = (...a) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...a), wait);
  };
  d.flush = (...a) => {
    clearTimeout(t);
    return fn(...a);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}
