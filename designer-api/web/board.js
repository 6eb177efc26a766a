// Supervisor board: every queue's live figures, the agents by state and
// today's charts, fed by the server's board stream (Server-Sent Events,
// GET /api/v1/board/events): nothing here polls. Waits and times in state
// tick every second between two events. Supervisors and admins also get
// the alerts raised on live calls (a caller's strongly negative turn): a
// notice at the top and a badge on the agent's row holding the call.

import { api, request } from './api.js';
import { h, clear } from './ui.js';
import { stackedBars, lineChart } from './charts.js';
import { Supervisor, MODES, mayMonitor } from './monitor.js';

// SL_TARGET is the service-level target drawn on the board: the common
// "80/20" (80% of calls answered within the queue's threshold, 20 s by
// default). Queues have a threshold setting but no target one.
export const SL_TARGET = 0.8;

const STATES = [
  ['on_call', 'On call'], ['reserved', 'Ringing'], ['wrap_up', 'Wrap-up'],
  ['available', 'Available'], ['break', 'On break'], ['offline', 'Offline'],
];
const STATE_LABEL = Object.fromEntries(STATES);
const STATE_CHIP = { on_call: 'hot', reserved: 'warn', wrap_up: 'warn', available: 'ok', break: '', offline: '' };

// goDuration reads a Go duration ("1m5.2s", "350ms") as milliseconds.
export function goDuration(s) {
  if (!s) return 0;
  const unit = { h: 3600e3, m: 60e3, s: 1e3, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
  let ms = 0;
  for (const [, n, u] of String(s).matchAll(/([\d.]+)(h|ms|m|s|us|µs|ns)/g)) ms += parseFloat(n) * unit[u];
  return s.startsWith('-') ? -ms : ms;
}

// clock shows a span as m:ss or h:mm:ss.
export function clock(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

// spoken says a span in words: 45 s, 3 min 5 s, 1 h 2 min.
export function spoken(ms) {
  const t = Math.round(ms / 1000);
  if (t < 60) return `${t} s`;
  if (t < 3600) return `${Math.floor(t / 60)} min${t % 60 ? ` ${t % 60} s` : ''}`;
  return `${Math.floor(t / 3600)} h ${Math.floor((t % 3600) / 60)} min`;
}

const pct = (v) => `${Math.round(v * 100)}%`;

// ALERTS names the alert actions of the alerts events.
const ALERTS = { negative_sentiment: 'Negative sentiment' };

// ticker is an element showing base + the time since from, updated by tick().
function ticker(from, baseMs = 0) {
  const e = h('span.tick.mono', { 'data-from': from, 'data-base': String(baseMs) });
  tickOne(e);
  return e;
}

function tickOne(e) {
  const from = Date.parse(e.dataset.from);
  const elapsed = Number.isNaN(from) ? 0 : Math.max(0, Date.now() - from);
  e.textContent = clock(Number(e.dataset.base) + elapsed);
}

export async function boardView(main) {
  const status = h('span.stream-status', { role: 'status', 'aria-live': 'polite' }, 'Connecting…');
  const problems = h('div');
  const alertsBox = h('section.call-alerts', { 'aria-label': 'Alerts on live calls', 'aria-live': 'polite', hidden: true });
  const queues = h('div.queue-cards');
  const agents = h('div');
  const pick = h('select', { 'aria-label': 'Queue shown in the charts' });
  const charts = h('div.charts');
  const note = h('p.muted.small');
  main.appendChild(h('section.page.board-page',
    h('div.page-head',
      h('div', h('h1', 'Supervisor board'), h('p.muted', 'Queues and agents live from the router; counts and service levels cover its sliding window.')),
      status),
    problems,
    alertsBox,
    h('section', { 'aria-labelledby': 'board-queues' }, h('h2#board-queues', 'Queues'), queues),
    h('section', { 'aria-labelledby': 'board-agents' }, h('h2#board-agents', 'Agents'), agents),
    h('section', { 'aria-labelledby': 'board-today' },
      h('div.h3-row', h('h2#board-today', 'Today, per 15 minutes'), h('label.inline', 'Queue ', pick)), charts, note)));

  const st = { board: null, history: null, problems: {}, alerted: new Map() }; // alerted: call ID -> its newest alert
  const sup = mayMonitor() ? new Supervisor(() => st.board && drawAgents(agents, st.board, sup, st.alerted)) : null;
  pick.addEventListener('change', () => drawCharts(charts, note, st.history, pick.value));
  const es = new EventSource(api.boardEventsURL());
  es.addEventListener('open', () => { status.textContent = 'Live'; status.className = 'stream-status live'; });
  es.addEventListener('error', () => {
    status.textContent = es.readyState === EventSource.CLOSED ? 'Disconnected: reload the page' : 'Reconnecting…';
    status.className = 'stream-status down';
    if (es.readyState === EventSource.CLOSED) request('GET', '/session').catch(() => { /* a 401 there signs out */ });
  });
  es.addEventListener('board', (ev) => {
    st.board = JSON.parse(ev.data);
    drawQueues(queues, st.board);
    drawAgents(agents, st.board, sup, st.alerted);
    drawAlerts(alertsBox, st.alerts || [], st.board);
  });
  // Sent to supervisors and admins only, when the alerts changed.
  es.addEventListener('alerts', (ev) => {
    st.alerts = JSON.parse(ev.data).alerts || [];
    st.alerted = new Map();
    for (const a of st.alerts) if (!st.alerted.has(a.call_id)) st.alerted.set(a.call_id, a);
    drawAlerts(alertsBox, st.alerts, st.board);
    if (st.board) drawAgents(agents, st.board, sup, st.alerted);
  });
  es.addEventListener('history', (ev) => {
    st.history = JSON.parse(ev.data);
    fillPick(pick, st.history);
    drawCharts(charts, note, st.history, pick.value);
  });
  es.addEventListener('problem', (ev) => {
    const p = JSON.parse(ev.data);
    if (p.detail) st.problems[p.source] = p.detail;
    else delete st.problems[p.source];
    clear(problems).append(...Object.entries(st.problems).map(([src, d]) => h('div.alert.warn', { role: 'alert' }, `${src}: ${d}`)));
  });
  const t = setInterval(() => main.querySelectorAll('.tick').forEach(tickOne), 1000);
  return () => { clearInterval(t); es.close(); if (sup) sup.close(); };
}

function drawQueues(box, b) {
  if (!b.queues.length) {
    clear(box).appendChild(h('p.empty', 'No queue yet: define one (voxflow queues put NAME, or PUT /api/v1/queues/NAME).'));
    return;
  }
  clear(box).append(...b.queues.map((q) => queueCard(q, b.at, b.window)));
}

function queueCard(q, at, window) {
  const ok = q.service_level >= SL_TARGET;
  const id = `q-${q.name.replace(/[^\w-]/g, '_')}`;
  const est = q.estimated_wait ? h('dd.big', spoken(goDuration(q.estimated_wait))) : h('dd.big', '—');
  const longest = q.waiting ? ticker(at, goDuration(q.longest_wait)) : h('span.mono', '—');
  return h('article.queue-card', { class: ok ? 'sl-ok' : 'sl-bad', 'data-queue': q.name, 'aria-labelledby': id },
    h('h3.queue-name', { id }, q.name),
    h('dl.kpis',
      h('div', h('dt', 'Waiting'), h('dd.big', String(q.waiting)), q.offered_now ? h('dd.small.muted', `${q.offered_now} ringing an agent`) : null),
      h('div', h('dt', 'Longest wait'), h('dd.big', longest)),
      h('div', h('dt', 'Service level'), h('dd.big', pct(q.service_level), ' ',
        h('span.chip', { class: ok ? 'ok' : 'bad' }, ok ? `✓ ≥ ${pct(SL_TARGET)}` : `✗ < ${pct(SL_TARGET)}`)),
      h('dd.small.muted', `${ok ? 'on' : 'below'} target: answered within ${spoken(goDuration(q.sl_threshold))}`)),
      h('div', h('dt', 'Abandoned'), h('dd.big', String(q.abandoned)), h('dd.small.muted', `${q.answered} answered`)),
      h('div', h('dt', 'Agents'), h('dd.big', `${q.available}/${q.staffed}`), h('dd.small.muted', `${q.available} available of ${q.staffed} staffed`)),
      h('div', h('dt', 'Estimated wait'), est, q.estimated_wait ? null : h('dd.small.muted', 'nobody staffs the queue'))),
    h('p.small.muted', `Over the last ${spoken(goDuration(window))} · handle time ${spoken(goDuration(q.aht))} · average wait ${spoken(goDuration(q.avg_wait))}`));
}

// drawAlerts lists the live calls' alerts, newest first, each with the
// agent who has the call (when one has it) and a link to the call.
function drawAlerts(box, alerts, b) {
  box.hidden = !alerts.length;
  if (!alerts.length) { clear(box); return; }
  const agentOf = (id) => ((b && b.agents) || []).find((a) => (a.calls || []).includes(id));
  const calls = new Set(alerts.map((a) => a.call_id)).size;
  clear(box).append(
    h('h2.call-alerts-title', `⚠ ${calls === 1 ? 'A live call needs' : `${calls} live calls need`} attention`),
    h('ul', alerts.map((a) => {
      const agent = agentOf(a.call_id);
      return h('li', { 'data-alert-call': a.call_id, 'data-alert': a.action },
        h('span.chip.bad', ALERTS[a.action] || a.action), ' ',
        h('a.mono', { href: `/console/calls/${encodeURIComponent(a.call_id)}`, 'data-link': '' }, a.call_id.length > 13 ? a.call_id.slice(0, 13) + '…' : a.call_id),
        agent ? h('span', ' with ', h('strong', agent.name)) : h('span.muted', ' in the flow'),
        a.detail ? h('span', ' · “', a.detail, '”') : null,
        h('span.muted.small', ` · at ${new Date(a.at).toLocaleTimeString()}`));
    })));
}

function drawAgents(box, b, sup, alerted = new Map()) {
  if (!b.agents.length) {
    clear(box).appendChild(h('p.empty', 'No agent has signed in since the router started.'));
    return;
  }
  const order = (s) => { const i = STATES.findIndex(([k]) => k === s); return i < 0 ? STATES.length : i; };
  const rows = [...b.agents].sort((a, c) => order(a.state) - order(c.state) || a.name.localeCompare(c.name));
  const body = h('tbody');
  let group = null;
  for (const a of rows) {
    if (a.state !== group) {
      group = a.state;
      const n = rows.filter((x) => x.state === group).length;
      body.appendChild(h('tr.group', h('th', { colspan: sup ? 7 : 6, scope: 'colgroup' }, `${STATE_LABEL[group] || group} (${n})`)));
    }
    body.appendChild(h('tr', { 'data-agent': a.name, 'data-state': a.state },
      h('th', { scope: 'row' }, a.name),
      h('td', h('span.chip', { class: STATE_CHIP[a.state] || '' }, STATE_LABEL[a.state] || a.state), a.reason ? h('span.muted.small', ` ${a.reason}`) : null,
        a.alert ? h('span.chip.bad.alert', { role: 'status', title: `since ${new Date(a.alert_since).toLocaleTimeString()}` }, `⚠ ${a.alert}`) : null),
      h('td', a.since ? ticker(a.since) : '—'),
      h('td.small', (a.queues || []).join(', ') || '—'),
      h('td.small', a.calls.length ? `${a.calls.length} of ${a.capacity}` : `0 of ${a.capacity}`,
        ...a.calls.filter((id) => alerted.has(id)).map((id) => h('span.chip.bad.call-alert', {
          'data-alert-call': id, title: `Call ${id}: ${alerted.get(id).detail || ''}`,
        }, `⚠ ${ALERTS[alerted.get(id).action] || alerted.get(id).action}`))),
      h('td.small.muted', a.pending ? `then ${STATE_LABEL[a.pending] || a.pending}` : ''),
      sup ? h('td.small', ...(a.calls || []).map((id) => superviseCell(sup, a.name, id))) : null));
  }
  const cols = ['Agent', 'State', 'In state for', 'Queues', 'Calls', 'Next'].concat(sup ? ['Supervise'] : []);
  clear(box).append(
    sup && sup.error ? h('div.alert.error', { role: 'alert' }, sup.error) : '',
    h('table.table.agents-table', h('thead', h('tr', ...cols.map((c) => h('th', { scope: 'col' }, c)))), body));
}

// superviseCell has the listen, whisper and barge buttons for one call of
// agent (the one pressed shows as current), and leave once in.
function superviseCell(sup, agent, callID) {
  const mode = sup.modeOf(callID);
  const btn = (m, label) => h('button.btn.small', {
    type: 'button', 'data-monitor': m, 'data-call': callID, 'aria-pressed': String(mode === m),
    title: `${label}: ${agent}'s call ${callID}`, onclick: () => sup.set(callID, m).catch((e) => { sup.error = e.message; sup.changed(); }),
  }, label);
  return h('div.monitor', { role: 'group', 'aria-label': `Supervise ${agent}'s call` },
    ...MODES.map(([m, label]) => btn(m, label)),
    mode ? h('button.btn.small.danger', { type: 'button', 'data-monitor': 'leave', 'data-call': callID, onclick: () => sup.leave(callID) }, 'Leave') : null);
}

function fillPick(pick, hist) {
  const want = ['', ...hist.queues.map((q) => q.name)];
  const have = [...pick.options].map((o) => o.value);
  if (want.join('\n') === have.join('\n')) return;
  const keep = pick.value;
  clear(pick).append(...want.map((v) => h('option', { value: v, selected: v === keep }, v || 'All queues')));
}

// series sums the chosen queue's (or every queue's) intervals.
export function series(hist, queue) {
  const qs = hist.queues.filter((q) => !queue || q.name === queue);
  const n = Math.max(0, ...qs.map((q) => q.intervals.length));
  const out = [];
  for (let i = 0; i < n; i++) {
    const p = { start: null, answered: 0, abandoned: 0, timed_out: 0, other: 0, in: 0, waitMs: 0 };
    for (const q of qs) {
      const v = q.intervals[i];
      if (!v) continue;
      p.start = new Date(v.start);
      p.answered += v.answered; p.abandoned += v.abandoned; p.timed_out += v.timed_out; p.other += v.other;
      p.in += v.answered_in_threshold; p.waitMs += v.avg_wait_ms * v.answered;
    }
    p.avgWait = p.answered ? p.waitMs / p.answered / 1000 : null;
    p.sl = p.answered + p.abandoned ? p.in / (p.answered + p.abandoned) : null;
    out.push(p);
  }
  return out;
}

function drawCharts(box, note, hist, queue) {
  if (!hist) return;
  const pts = series(hist, queue);
  const labels = pts.map((p) => p.start);
  const what = queue ? `queue ${queue}` : 'all queues';
  const total = (k) => pts.reduce((n, p) => n + p[k], 0);
  const slPts = pts.filter((p) => p.sl != null);
  const under = slPts.filter((p) => p.sl < SL_TARGET).length;
  const threshold = queue ? hist.queues.find((q) => q.name === queue)?.sl_threshold : '';
  clear(box).append(
    stackedBars({
      title: `Calls per interval by outcome, ${what}`, labels,
      desc: `${pts.length} intervals of 15 minutes: ${total('answered')} answered, ${total('abandoned')} abandoned, ${total('timed_out')} timed out, ${total('other')} left otherwise.`,
      series: [
        { name: 'Answered', cls: 's-answered', pattern: 'solid', values: pts.map((p) => p.answered) },
        { name: 'Abandoned', cls: 's-abandoned', pattern: 'hatch', values: pts.map((p) => p.abandoned) },
        { name: 'Timed out', cls: 's-timeout', pattern: 'dots', values: pts.map((p) => p.timed_out) },
        { name: 'Left otherwise', cls: 's-other', pattern: 'cross', values: pts.map((p) => p.other) },
      ],
    }),
    lineChart({
      title: `Average wait of answered calls per interval, ${what}`, labels,
      desc: pts.some((p) => p.avgWait != null)
        ? `Longest interval average ${spoken(1000 * Math.max(...pts.map((p) => p.avgWait || 0)))}; intervals without an answered call are gaps.`
        : 'No call was answered yet.',
      fmt: (v) => (v < 60 ? `${Math.round(v * 10) / 10} s` : `${Math.round(v / 6) / 10} min`),
      series: [{ name: 'Average wait', cls: 's-wait', marker: 'square', values: pts.map((p) => p.avgWait) }],
    }),
    lineChart({
      title: `Service level through the day, ${what}`, labels, yMax: 1, fmt: pct,
      desc: slPts.length
        ? `${slPts.length} intervals with calls; ${under} below the ${pct(SL_TARGET)} target, latest ${pct(slPts[slPts.length - 1].sl)}.`
        : 'No call was answered or abandoned yet.',
      band: { from: SL_TARGET, to: 1, label: `Target ≥ ${pct(SL_TARGET)}${threshold ? ` within ${spoken(goDuration(threshold))}` : ''}` },
      series: [{ name: 'Service level', cls: 's-sl', marker: 'circle', values: pts.map((p) => p.sl) }],
    }));
  note.textContent = `Counted from call records at ${new Date(hist.at).toLocaleTimeString()}: a call counts in the interval its wait ended, once it has hung up.` +
    (hist.truncated ? ' Too many records: the oldest intervals are incomplete.' : '');
}
