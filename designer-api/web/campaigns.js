// Outbound campaigns: the list with each campaign's progress and 30-day
// abandon rate, and a campaign's page with live figures from its stream
// (Server-Sent Events, GET /api/v1/campaigns/{id}/events: the stats at
// once, then every second; nothing here polls), the admin's buttons
// (start, pause, resume, stop) and a contacts CSV upload that shows what
// came of each row.

import { request, ApiError, PREFIX } from './api.js';
import { h, clear, toast, dialog, ago } from './ui.js';
import { can, errorBox, navigate } from './app.js';

// ABANDON_WARN is where an abandon rate turns red: under the usual 3% cap
// (47 CFR 64.1200(a)(7)) with some room to act.
export const ABANDON_WARN = 0.025;

const MODES = ['preview', 'progressive', 'predictive', 'agentless'];
const STATE_CHIP = { running: 'ok', paused: 'warn', draft: '', stopped: 'bad', completed: '' };
const CONTACT_STATES = [['pending', 'Pending'], ['dialing', 'Dialling'], ['done', 'Done'], ['skipped', 'Skipped']];
// ACTIONS are the admin's buttons and the states each shows in.
const ACTIONS = [
  ['start', 'Start', ['draft', 'stopped', 'completed'], 'primary'],
  ['pause', 'Pause', ['running'], ''],
  ['resume', 'Resume', ['paused'], 'primary'],
  ['stop', 'Stop', ['running', 'paused', 'draft'], 'danger'],
];

const enc = encodeURIComponent;

// pct writes a share as a percentage with one decimal: 2.5%.
export function pct(v) {
  const s = (Math.round((v || 0) * 1000) / 10).toFixed(1);
  return (s.endsWith('.0') ? s.slice(0, -2) : s) + '%';
}

// progressOf is how much of a list is finished: done and skipped over all.
export function progressOf(contacts) {
  const c = contacts || {};
  const total = Object.values(c).reduce((n, v) => n + v, 0);
  const finished = (c.done || 0) + (c.skipped || 0);
  return { total, finished, share: total ? finished / total : 0 };
}

function stateChip(state) {
  return h('span.chip', { class: STATE_CHIP[state] || '', 'data-state': state }, state);
}

function rateChip(rate, cap) {
  const bad = rate >= ABANDON_WARN || (cap && rate >= cap);
  return h('span.chip.abandon', { class: bad ? 'bad' : 'ok', 'data-abandon': bad ? 'high' : 'ok' }, pct(rate));
}

function progressCell(contacts) {
  const p = progressOf(contacts);
  if (!p.total) return h('span.muted', 'no contacts');
  return h('span.campaign-progress',
    h('progress', { max: String(p.total), value: String(p.finished), 'aria-label': `${p.finished} of ${p.total} contacts finished` }),
    h('span.small', ` ${pct(p.share)} (${p.finished}/${p.total})`));
}

// ---- the list ----

export async function campaignsView(main) {
  const body = h('div');
  main.appendChild(h('section.page.campaigns-page',
    h('div.page-head',
      h('div', h('h1', 'Campaigns'), h('p.muted', 'Outbound campaigns: progress over their lists and the abandon rate of the last 30 days.')),
      can('admin') ? h('button.btn.primary#new-campaign', { type: 'button', onclick: () => newCampaign() }, '+ New campaign') : null),
    body));
  try {
    const list = (await request('GET', '/campaigns')).data.campaigns;
    if (!list.length) {
      body.appendChild(h('p.empty', 'No campaign yet. Create one here, or with voxflow campaigns create.'));
      return;
    }
    body.appendChild(h('table.table.campaigns-table',
      h('thead', h('tr', ...['Campaign', 'Mode', 'State', 'Progress', 'Abandon 30 d', 'Flow', 'Created'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', list.map((c) => h('tr', { 'data-campaign': c.id },
        h('th', { scope: 'row' }, h('a', { href: `/campaigns/${enc(c.id)}`, 'data-link': '' }, c.name || c.id),
          c.name && c.name !== c.id ? h('span.muted.small', ` ${c.id}`) : null),
        h('td', c.mode),
        h('td', stateChip(c.state)),
        h('td', progressCell(c.contacts)),
        h('td', rateChip(c.abandon_30d, c.abandon_cap)),
        h('td', h('a', { href: `/flows/${enc(c.flow)}`, 'data-link': '' }, c.flow)),
        h('td.muted', ago(c.created_at)))))));
  } catch (e) {
    body.appendChild(errorBox(e));
  }
}

// newCampaign asks for the few settings a campaign needs; the others take
// their defaults (PUT /campaigns/{id} or the CLI change them).
async function newCampaign() {
  let flows = [];
  let queues = [];
  try {
    [flows, queues] = await Promise.all([
      request('GET', '/flows?limit=1000').then((r) => r.data.flows.filter((f) => f.latest_version > 0).map((f) => f.name)),
      request('GET', '/queues').then((r) => r.data.queues.map((q) => q.name)),
    ]);
  } catch (e) {
    toast(e.message, 'error');
    return;
  }
  if (!flows.length) {
    toast('Publish a flow first: each answered call runs one.', 'error');
    return;
  }
  const v = await dialog({
    title: 'New campaign', ok: 'Create',
    fields: [
      { name: 'id', label: 'ID', placeholder: 'spring-renewals', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}' },
      { name: 'flow', label: 'Flow (published)', options: flows },
      { name: 'mode', label: 'Mode', options: MODES, value: 'progressive' },
      { name: 'queue', label: 'Agents\' queue (not for agentless)', options: [{ value: '', label: '—' }, ...queues] },
      { name: 'region', label: 'Region of national numbers', value: 'US', placeholder: 'US' },
    ],
  });
  if (!v || !v.id) return;
  const body = { id: v.id.trim(), flow: v.flow, mode: v.mode, region: v.region.trim() };
  if (v.queue) body.queue = v.queue;
  try {
    await request('POST', '/campaigns', { body });
    navigate(`/campaigns/${enc(body.id)}`);
  } catch (e) {
    toast(e.message, 'error');
  }
}

// ---- one campaign ----

export async function campaignView(main, [id]) {
  const status = h('span.stream-status', { role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  const title = h('h1', id);
  const sub = h('p.muted');
  const actions = h('div.row.campaign-actions');
  const problems = h('div');
  const kpis = h('div.campaign-kpis');
  const contacts = h('div');
  const live = h('div');
  const upload = h('div');
  main.appendChild(h('section.page.campaign-page', { 'data-campaign': id },
    h('p', h('a', { href: '/campaigns', 'data-link': '' }, '← Campaigns')),
    h('div.page-head', h('div', title, sub), h('div.row', actions, status)),
    problems,
    h('section', { 'aria-labelledby': 'cmp-figures' }, h('h2#cmp-figures', 'Figures'), kpis),
    h('section', { 'aria-labelledby': 'cmp-live' }, h('h2#cmp-live', 'Pacing and agents'), live),
    h('section', { 'aria-labelledby': 'cmp-contacts' }, h('h2#cmp-contacts', 'Contacts'), contacts),
    can('admin') ? h('section', { 'aria-labelledby': 'cmp-upload' }, h('h2#cmp-upload', 'Add contacts'), upload) : null));

  let last = null;
  const draw = (st) => {
    last = st;
    const c = st.campaign;
    title.textContent = c.name || c.id;
    clear(sub).append(stateChip(c.state), ` ${c.mode} · flow `, h('a', { href: `/flows/${enc(c.flow)}`, 'data-link': '' }, c.flow),
      c.queue ? ` · queue ${c.queue}` : '', ` · window ${c.window.start}–${c.window.end} ${(c.window.days || []).join(',') || 'every day'}`);
    drawActions(actions, c, act);
    drawKpis(kpis, st);
    drawLive(live, st);
    drawContacts(contacts, st);
  };
  async function act(action) {
    try {
      const c = (await request('POST', `/campaigns/${enc(id)}/${action}`)).data;
      toast(`Campaign ${c.id}: ${c.state}`, 'ok');
      if (last) draw({ ...last, campaign: c });
    } catch (e) {
      toast(e.message, 'error');
    }
  }
  if (can('admin')) upload.appendChild(uploadForm(id));

  const es = new EventSource(`${PREFIX}/campaigns/${enc(id)}/events`);
  es.addEventListener('open', () => { status.textContent = 'Live'; status.className = 'stream-status live'; });
  es.addEventListener('error', () => {
    status.textContent = es.readyState === EventSource.CLOSED ? 'Disconnected: reload the page' : 'Reconnecting…';
    status.className = 'stream-status down';
    if (es.readyState === EventSource.CLOSED) {
      request('GET', `/campaigns/${enc(id)}`).catch((e) => clear(problems).appendChild(errorBox(e)));
    }
  });
  es.addEventListener('stats', (ev) => {
    clear(problems);
    draw(JSON.parse(ev.data));
  });
  es.addEventListener('problem', (ev) => {
    const p = JSON.parse(ev.data);
    clear(problems).appendChild(h('div.alert.warn', { role: 'alert' }, p.detail));
  });
  return () => es.close();
}

function drawActions(box, c, act) {
  if (!can('admin')) { clear(box); return; }
  clear(box).append(...ACTIONS.filter(([, , states]) => states.includes(c.state)).map(([action, label, , kind]) =>
    h(`button.btn${kind ? '.' + kind : ''}`, { type: 'button', 'data-action': action, onclick: () => act(action) }, label)));
}

function kpi(label, value, note, attrs) {
  return h('div', attrs || {}, h('dt', label), h('dd.big', value), note ? h('dd.small.muted', note) : null);
}

function drawKpis(box, st) {
  const d = st.today;
  const m = st.last_30d;
  const cap = st.campaign.abandon_cap;
  clear(box).appendChild(h('dl.kpis',
    kpi('Dials today', String(d.dials), `${m.dials} over 30 days`, { 'data-kpi': 'dials' }),
    kpi('Answered by a person', String(d.human), `answer rate ${pct(d.answer_rate)} today`, { 'data-kpi': 'human' }),
    kpi('Machine rate', pct(d.machine_rate), `of answers: ${d.machine} by a machine today; ${pct(m.machine_rate)} over 30 days`, { 'data-kpi': 'machine' }),
    kpi('Abandon rate, 30 days', rateChip(m.abandon_rate, cap), `${m.abandoned} of ${m.human} live answers; cap ${pct(cap)}`, { 'data-kpi': 'abandon-30d' }),
    kpi('Abandon rate today', rateChip(d.abandon_rate, cap), `${d.abandoned} of ${d.human} live answers`, { 'data-kpi': 'abandon-today' })));
}

function drawLive(box, st) {
  const l = st.live;
  if (!l) {
    clear(box).appendChild(h('p.muted', st.live_error ? `No live figures: ${st.live_error}.` : 'The campaign is not running.'));
    return;
  }
  clear(box).appendChild(h('dl.kpis',
    kpi('Pacing', l.pacing || '—', l.reason || (l.ratio ? `${l.ratio.toFixed(2)} lines per available agent` : 'dialling'), { 'data-kpi': 'pacing' }),
    kpi('Lines in flight', String(l.lines), 'dials not yet connected or ended', { 'data-kpi': 'lines' }),
    kpi('Agents', `${l.agents_available}/${l.agents_signed_in}`,
      `${l.agents_signed_in} signed in, ${l.agents_available} available, ${l.agents_busy} busy`, { 'data-kpi': 'agents' }),
    kpi('Occupancy', pct(l.occupancy), 'talk and wrap-up over signed-in time', { 'data-kpi': 'occupancy' })));
}

function drawContacts(box, st) {
  const p = progressOf(st.contacts);
  const skipped = Object.entries(st.skipped || {}).sort((a, b) => b[1] - a[1]);
  clear(box).append(...[
    h('p', progressCell(st.contacts)),
    h('table.table.kv-table.contact-counts',
      h('tbody', CONTACT_STATES.map(([k, label]) => h('tr', { 'data-contacts': k }, h('th', { scope: 'row' }, label), h('td', String(st.contacts[k] || 0)))),
        h('tr', h('th', { scope: 'row' }, 'Total'), h('td', String(p.total))))),
    skipped.length
      ? h('div', h('h3', 'Skipped, by reason'), h('ul.skipped-reasons', skipped.map(([r, n]) => h('li', { 'data-reason': r }, h('span.mono', r), ` ${n}`))))
      : null].filter(Boolean));
}

// uploadForm sends a CSV file as it is (the browser streams it) and shows
// the import's report.
function uploadForm(id) {
  const file = h('input', { type: 'file', name: 'contacts', accept: '.csv,text/csv', 'aria-label': 'Contacts CSV file', required: true });
  const btn = h('button.btn.primary', { type: 'submit' }, 'Upload');
  const result = h('div.import-report', { 'aria-live': 'polite' });
  return h('form.inline-form.campaign-upload', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const f = file.files && file.files[0];
      if (!f) return;
      btn.disabled = true;
      clear(result).appendChild(h('p.muted', `Uploading ${f.name}…`));
      try {
        const res = await fetch(`${PREFIX}/campaigns/${enc(id)}/contacts`, {
          method: 'POST', body: f, credentials: 'same-origin',
          headers: { 'Content-Type': 'text/csv', Accept: 'application/json, application/problem+json' },
        });
        const data = await res.json().catch(() => null);
        if (!res.ok) throw new ApiError(res.status, data || { detail: res.statusText });
        clear(result).appendChild(reportView(data));
        file.value = '';
      } catch (e) {
        clear(result).appendChild(errorBox(e));
      } finally {
        btn.disabled = false;
      }
    },
  }, h('span', 'A CSV with a header: the number in phone (or number, mobile…), optional timezone; other columns become the flow\'s variables.'), file, btn, result);
}

export function reportView(r) {
  return h('div',
    h('p.import-counts', { role: 'status' },
      h('strong', `${r.rows} rows: `), `${r.accepted} added, ${r.duplicates} already on the list, `,
      h('span', { class: r.rejected ? 'chip bad' : 'chip ok' }, `${r.rejected} rejected`)),
    r.errors && r.errors.length
      ? h('table.table.import-errors',
        h('thead', h('tr', ...['Row', 'Column', 'Value', 'Problem'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', r.errors.map((e) => h('tr', { 'data-row': String(e.row) },
          h('td.mono', String(e.row)), h('td', e.column || '—'), h('td.mono', e.value || ''), h('td', e.message)))))
      : null,
    r.truncated ? h('p.muted.small', `… and ${r.rejected - r.errors.length} more rejected rows.`) : null);
}
