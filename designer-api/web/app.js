// voxflow designer and operations console: router, session and the small
// screens (sign-in, flows, numbers). The designer is in designer.js, the
// console in console.js. Plain ES modules, no build step.

import { api, onUnauthorized, ApiError } from './api.js';
import { h, clear, toast, dialog, ago } from './ui.js';
import { flowData } from './flowdata.js';

const ROLES = ['agent', 'viewer', 'supervisor', 'designer', 'publisher', 'operator', 'admin'];
export const session = { user: null };

// can says whether the signed-in user has at least role min.
export function can(min) {
  const u = session.user;
  return !!u && ROLES.indexOf(u.role) >= ROLES.indexOf(min);
}

// [path, view loader, nav item, optional data loader (params, quiet401):
// requests started with the view's module, handed to the view]
const routes = [
  [/^\/signin$/, () => signInView, 'signin'],
  [/^\/flows\/?$/, () => flowsView, 'flows'],
  [/^\/flows\/([^/]+)$/, () => import('./designer.js').then((m) => m.designerView), 'flows', ([name], quiet) => flowData(name, quiet)],
  [/^\/numbers$/, () => numbersView, 'numbers'],
  [/^\/console$/, () => import('./console.js').then((m) => m.consoleView), 'console'],
  [/^\/console\/calls\/([^/]+)$/, () => import('./console.js').then((m) => m.callView), 'console'],
  [/^\/cdrs$/, () => import('./console.js').then((m) => m.cdrsView), 'cdrs'],
  [/^\/board$/, () => import('./board.js').then((m) => m.boardView), 'board'],
  [/^\/campaigns$/, () => import('./campaigns.js').then((m) => m.campaignsView), 'campaigns'],
  [/^\/campaigns\/([^/]+)$/, () => import('./campaigns.js').then((m) => m.campaignView), 'campaigns'],
  [/^\/agent$/, () => import('./agent.js').then((m) => m.agentView), 'agent'],
];

let cleanup = null;
let renderSeq = 0;

export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search && !replace) return route();
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  return route();
}

async function route() {
  const seq = ++renderSeq;
  const main = document.getElementById('main');
  let path = location.pathname;
  if (path === '/' || path === '/index.html') {
    history.replaceState(null, '', '/flows');
    path = '/flows';
  }
  let early = null;
  if (!session.user && path !== '/signin') {
    const checked = api.session();
    early = prefetch(path, true); // while the session is checked
    try {
      session.user = (await checked).data;
    } catch (e) {
      if (seq !== renderSeq) return;
      history.replaceState(null, '', '/signin?next=' + encodeURIComponent(location.pathname + location.search));
      path = '/signin';
      early = null;
    }
  }
  if (seq !== renderSeq) return;
  if (typeof cleanup === 'function') {
    try { cleanup(); } catch { /* a view's cleanup must not block navigation */ }
  }
  cleanup = null;
  const topbar = document.getElementById('topbar');
  topbar.hidden = !session.user || path === '/signin';
  if (session.user) document.getElementById('who').textContent = `${session.user.name} · ${session.user.role}`;
  for (const [re, load, nav] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    document.querySelectorAll('[data-nav]').forEach((a) => {
      if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
    const { data } = early || prefetch(path, false);
    const view = await load();
    if (seq !== renderSeq) return;
    clear(main);
    main.className = 'view-' + nav;
    try {
      cleanup = await view(main, m.slice(1).map(decodeURIComponent), new URLSearchParams(location.search), data);
    } catch (e) {
      main.appendChild(errorBox(e));
    }
    return;
  }
  clear(main).appendChild(h('section.page', h('h1', 'Not found'), h('p', h('a', { href: '/flows', 'data-link': '' }, 'Back to flows'))));
}

// prefetch starts loading the module of path's screen and requesting its
// data (quiet401: before the session is known); it returns {data}, the
// data loader's result, or null when no route matches.
function prefetch(path, quiet401) {
  for (const [re, load, , loadData] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    const data = loadData ? loadData(m.slice(1).map(decodeURIComponent), quiet401) : undefined;
    // The screen's modules (WebHandler lists them in the page, inert until
    // now so that the requests above go out first).
    const later = document.getElementById('vf-modules');
    if (later) later.replaceWith(later.content);
    Promise.resolve(load()).catch(() => { /* reported when route() loads it */ });
    return { data };
  }
  return null;
}

export function errorBox(e) {
  return h('div.alert.error', { role: 'alert' }, e instanceof ApiError ? e.message : String(e && e.message ? e.message : e));
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[data-link]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', route);
onUnauthorized(() => {
  if (location.pathname === '/signin') return;
  session.user = null;
  toast('Your session ended; please sign in again.', 'error');
  navigate('/signin?next=' + encodeURIComponent(location.pathname + location.search), { replace: true });
});
document.getElementById('signout').addEventListener('click', async () => {
  try { await api.signOut(); } catch { /* signed out either way */ }
  session.user = null;
  navigate('/signin', { replace: true });
});

// ---- sign-in ----

function signInView(main, _, q) {
  const err = h('div.alert.error', { role: 'alert', hidden: true });
  const user = h('input#username', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input#password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const btn = h('button.btn.primary.wide', { type: 'submit' }, 'Sign in');
  const form = h('form.signin-card', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      btn.disabled = true;
      err.hidden = true;
      try {
        session.user = (await api.signIn(user.value.trim(), pass.value)).data;
        const next = q.get('next');
        const home = session.user.role === 'agent' ? '/agent' : '/flows'; // agents take calls on the desk
        navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : home, { replace: true });
      } catch (e) {
        err.textContent = e.status === 401 ? 'Wrong username or password.' : e.message;
        err.hidden = false;
        pass.select();
      } finally {
        btn.disabled = false;
      }
    },
  },
  h('div.brand.big', h('span.logo', '〜'), h('span', 'voxflow')),
  h('h1', 'Sign in'),
  h('p.muted', 'Design, test and operate your contact flows.'),
  err,
  h('label.field', h('span', 'Username'), user),
  h('label.field', h('span', 'Password'), pass),
  btn,
  h('p.muted.small', 'voxflow dev prints the admin\'s first password when it starts.'));
  main.appendChild(h('div.signin-page', form));
  user.focus();
}

// ---- flows ----

const NEW_FLOW = (name) => `name: ${name}
description: ""
entry: start
nodes:
  start:
    type: play
    say: Hello, thanks for calling.
`;

async function flowsView(main) {
  const list = h('div.card-list');
  const filter = h('input.search', { type: 'search', placeholder: 'Filter flows…', 'aria-label': 'Filter flows' });
  main.appendChild(h('section.page',
    h('div.page-head',
      h('div', h('h1', 'Flows'), h('p.muted', 'Contact flows, their drafts and published versions.')),
      h('div.row', filter,
        can('designer') ? h('button.btn.primary#new-flow', { type: 'button', onclick: newFlow }, '+ New flow') : null)),
    list));
  let flows = [];
  let live = {};
  const draw = () => {
    const f = filter.value.trim().toLowerCase();
    const rows = flows.filter((x) => !f || x.name.toLowerCase().includes(f));
    clear(list);
    if (!rows.length) {
      list.appendChild(h('p.empty', flows.length ? 'No flow matches.' : 'No flows yet. Create one to start.'));
      return;
    }
    list.appendChild(h('table.table',
      h('thead', h('tr', h('th', 'Flow'), h('th', 'Published'), h('th', 'Draft'), h('th', 'Live calls'), h('th', 'Updated'))),
      h('tbody', rows.map((x) => h('tr',
        h('td', h('a.flow-link', { href: `/flows/${encodeURIComponent(x.name)}`, 'data-link': '' }, x.name)),
        h('td', x.latest_version ? h('span.chip.ok', `v${x.latest_version}`) : h('span.chip', 'never')),
        h('td', x.has_draft ? h('span.chip.warn', 'draft') : h('span.muted', '—')),
        h('td', live[x.name] ? h('span.chip.hot', `☎ ${live[x.name]}`) : h('span.muted', '0')),
        h('td.muted', ago(x.updated_at)))))));
  };
  filter.addEventListener('input', draw);
  try {
    flows = (await api.listFlows()).data.flows;
    draw();
  } catch (e) {
    list.appendChild(errorBox(e));
  }
  api.metrics().then((r) => {
    for (const f of r.data.flows || []) live[f.flow] = f.running;
    draw();
  }).catch(() => { /* calls need Temporal; the list stands without them */ });

  async function newFlow() {
    const v = await dialog({
      title: 'New flow', ok: 'Create',
      fields: [{ name: 'name', label: 'Name', placeholder: 'support-line', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,127}',
        help: 'Letters, digits, _ . and -; subflow nodes call flows by this name.' }],
    });
    if (!v || !v.name) return;
    try {
      await api.createFlow(v.name, NEW_FLOW(v.name));
      navigate(`/flows/${encodeURIComponent(v.name)}`);
    } catch (e) {
      toast(e.message, 'error');
    }
  }
}

// ---- numbers ----

async function numbersView(main) {
  const body = h('div');
  main.appendChild(h('section.page',
    h('div.page-head', h('div', h('h1', 'Numbers'), h('p.muted', 'Which published flow answers each dialled number (* catches every other number).'))),
    body));
  const draw = async () => {
    clear(body);
    let nums = [], flows = [];
    try {
      [nums, flows] = await Promise.all([api.numbers().then((r) => r.data.numbers || []), api.listFlows().then((r) => r.data.flows)]);
    } catch (e) {
      body.appendChild(errorBox(e));
      return;
    }
    const published = flows.filter((f) => f.latest_version > 0).map((f) => f.name);
    body.appendChild(h('table.table',
      h('thead', h('tr', h('th', 'Number'), h('th', 'Flow'), h('th', 'Updated'), h('th', ''))),
      h('tbody', nums.map((n) => h('tr',
        h('td.mono', n.number),
        h('td', h('a', { href: `/flows/${encodeURIComponent(n.flow)}`, 'data-link': '' }, n.flow)),
        h('td.muted', ago(n.updated_at)),
        h('td.right', can('publisher') ? h('button.btn.small.ghost', {
          type: 'button', onclick: async () => {
            try { await api.unbindNumber(n.number); toast(`${n.number} unbound`, 'ok'); draw(); } catch (e) { toast(e.message, 'error'); }
          },
        }, 'Unbind') : null))))));
    if (can('publisher')) body.appendChild(bindForm(published, draw));
  };
  await draw();
}

// bindForm binds a number to one of flows (a fixed flow when flows has one entry).
export function bindForm(flows, done) {
  const num = h('input', { name: 'number', placeholder: '+15550100 or *', required: true, 'aria-label': 'Number', pattern: '\\*|\\+?[A-Za-z0-9_.@\\-]{1,64}' });
  const sel = h('select', { name: 'flow', 'aria-label': 'Flow', hidden: flows.length < 2 }, flows.map((f) => h('option', { value: f }, f)));
  return h('form.inline-form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await api.bindNumber(num.value.trim(), sel.value);
        toast(`${num.value.trim()} → ${sel.value}`, 'ok');
        num.value = '';
        done && done();
      } catch (e) {
        toast(e.message, 'error');
      }
    },
  }, h('strong', 'Bind a number'), num, sel, flows.length > 1 ? null : h('span', '→ ', h('strong', flows[0] || '(publish a flow first)')), h('button.btn.primary', { type: 'submit', disabled: !flows.length }, 'Bind'));
}

route();
