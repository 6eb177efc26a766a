// Operations console: live calls per flow and per node (heat on the
// graph, fed by the board stream's calls events), stuck calls with
// reset-to-node and terminate, a call's timeline (with what intent and llm
// nodes understood, and the alerts raised on it), its insights and
// transcript, and call records (CDRs) with search and export.

import { api, request } from './api.js';
import { loadNodeTypes } from './nodetypes.js';
import { FlowDoc } from './flowdoc.js';
import { GraphView } from './graph.js';
import { h, clear, toast, dialog, ago, time, ms } from './ui.js';
import { can, errorBox } from './app.js';

// ALERT_ACTIONS are the call events that are alerts (the board's too).
const ALERT_ACTIONS = { negative_sentiment: 'negative sentiment' };

const callLink = (id) => h('a.mono', { href: `/console/calls/${encodeURIComponent(id)}`, 'data-link': '' }, id.length > 13 ? id.slice(0, 13) + '…' : id);

export async function consoleView(main) {
  const flowsBox = h('ul.flow-rows');
  const right = h('div');
  const summary = h('span.muted.small');
  main.appendChild(h('div.console-grid',
    h('section.panel', { 'aria-label': 'Live calls per flow' }, h('h2', 'Live calls'), h('p.summary', summary), flowsBox),
    h('section.panel', right)));
  const types = await loadNodeTypes();
  let selected = '';
  let graph = null;
  let graphFlow = '';
  const st = { metrics: null, alerted: new Map() }; // call ID -> its newest alert (supervisors and admins)

  const callsBox = h('div');
  const stuckBox = h('div');
  const graphBox = h('div.mini-graph', { hidden: true });
  const olderThan = h('select', { 'aria-label': 'Stuck after' }, ['30s', '2m', '10m', '1h'].map((d) => h('option', { value: d, selected: d === '2m' }, d)));
  olderThan.addEventListener('change', () => refresh());
  right.append(
    h('h2', h('span#console-title', 'All flows')), graphBox,
    h('h3', 'Running calls'), callsBox,
    h('div.h3-row', h('h3', 'Stuck calls'), h('label.inline', 'in one node longer than ', olderThan)), stuckBox);

  async function drawGraph(flow, heat) {
    if (!flow) { graphBox.hidden = true; return; }
    graphBox.hidden = false;
    if (graphFlow !== flow) {
      graphFlow = flow;
      clear(graphBox);
      graph = new GraphView(graphBox, {}, { readOnly: true, types });
      try {
        const g = (await api.graph(flow, 'latest')).data;
        const src = (await api.getFlow(flow)).data.published;
        graph.doc = new FlowDoc(src ? src.source : '', types);
        graph.base = g;
      } catch (e) {
        graphBox.replaceChildren(errorBox(e));
        graph = null;
        return;
      }
    }
    if (!graph || !graph.base) return;
    const g = graph.base;
    graph.render({
      nodes: g.nodes.map((n) => ({ ...n, entry: n.entry, onHangup: n.on_hangup, heat: heat[n.id] || 0, ports: graph.doc.exits(n.id) })),
      edges: g.edges,
    });
    if (!graph.fitted) { graph.fit(); graph.fitted = true; }
  }

  // The flows list and the heat come from the board stream's calls
  // events (sent when the summary changed), not from polling.
  function drawSummary() {
    const m = st.metrics;
    if (!m) return;
    summary.textContent = `${m.running} running · ${m.ended} ended in the last hour`;
    const flows = [...(m.flows || [])].sort((a, b) => b.running - a.running || a.flow.localeCompare(b.flow));
    clear(flowsBox).append(
      h('li', h('button', { type: 'button', 'aria-pressed': String(!selected), onclick: () => select('') }, h('strong', 'All flows'), h('span.chip', String(m.running)))),
      ...flows.map((f) => h('li', h('button', { type: 'button', 'aria-pressed': String(selected === f.flow), 'data-flow': f.flow, onclick: () => select(f.flow) },
        h('span', f.flow, h('br'), h('span.muted.small', `${f.ended} ended · ${Object.entries(f.outcomes || {}).map(([k, v]) => `${k} ${v}`).join(', ')}`)),
        h('span.chip', { class: f.running ? 'hot' : '' }, `☎ ${f.running}`)))));
    document.getElementById('console-title').textContent = selected ? `Flow ${selected}` : 'All flows';
    const heat = {};
    const fm = (m.flows || []).find((f) => f.flow === selected);
    for (const n of (fm && fm.nodes) || []) heat[n.node] = n.running;
    drawGraph(selected, heat);
  }

  function select(flow) {
    selected = flow;
    drawSummary();
    refresh();
  }

  // refresh reloads the running and stuck calls of the selected flow: when
  // the summary changes, on a selection, after an action.
  async function refresh() {
    try {
      const calls = (await api.calls({ flow: selected, running: true, limit: 200 })).data.calls;
      clear(callsBox).appendChild(calls.length ? callTable(calls) : h('p.muted', 'No running call.'));
    } catch (e) {
      clear(callsBox).appendChild(errorBox(e));
    }
    await refreshStuck();
  }

  async function refreshStuck() {
    try {
      const stuck = (await api.stuck(olderThan.value)).data.calls.filter((c) => !selected || c.flow === selected);
      clear(stuckBox).appendChild(stuck.length ? callTable(stuck, true) : h('p.muted', 'No stuck call.'));
    } catch (e) {
      clear(stuckBox).appendChild(errorBox(e));
    }
  }

  function callTable(calls, stuck) {
    return h('table.table',
      h('thead', h('tr', h('th', 'Call'), h('th', 'Flow'), h('th', 'Node'), h('th', 'In node since'), stuck ? h('th', 'Reason') : h('th', 'Started'), h('th', ''))),
      h('tbody', calls.map((c) => h('tr', { 'data-call': c.call_id },
        h('td', callLink(c.call_id), alertChip(st.alerted.get(c.call_id))),
        h('td', c.flow, c.version ? h('span.muted', ` v${c.version}`) : null),
        h('td.mono', c.node || '—'),
        h('td.muted', ago(c.node_since)),
        h('td.muted', stuck ? c.reason : ago(c.started_at)),
        h('td.right', callActions(c, refresh))))));
  }

  const es = new EventSource(api.boardEventsURL());
  es.addEventListener('calls', (ev) => {
    st.metrics = JSON.parse(ev.data);
    drawSummary();
    refresh();
  });
  // Only supervisors and admins get alerts events: a badge on the call.
  es.addEventListener('alerts', (ev) => {
    st.alerted = new Map();
    for (const a of JSON.parse(ev.data).alerts || []) if (!st.alerted.has(a.call_id)) st.alerted.set(a.call_id, a);
    refresh();
  });
  es.addEventListener('problem', (ev) => {
    const p = JSON.parse(ev.data);
    if (p.source === 'calls' && p.detail) clear(flowsBox).appendChild(errorBox(new Error(p.detail)));
  });
  es.addEventListener('error', () => {
    if (es.readyState !== EventSource.CLOSED) return; // the browser reconnects by itself
    clear(flowsBox).appendChild(errorBox(new Error('The live-calls stream closed: reload the page.')));
    request('GET', '/session').catch(() => { /* a 401 there signs out */ });
  });
  await refresh();
  // A call becomes stuck by staying put, which changes no summary: the
  // stuck list alone is read again every 30 s.
  const t = setInterval(refreshStuck, 30_000);
  return () => { clearInterval(t); es.close(); };
}

function callActions(c, done, nodes) {
  if (!can('operator')) return null;
  return h('span.row',
    h('button.btn.small', {
      type: 'button', onclick: async () => {
        let choices = nodes;
        if (!choices) {
          try { choices = [...new Set((await api.call(c.call_id)).data.timeline.map((s) => s.node))]; } catch { choices = [c.node]; }
        }
        const v = await dialog({
          title: `Reset call ${c.call_id.slice(0, 8)}…`, ok: 'Reset',
          body: 'The call goes back to the last time it entered the node, with the state it had then.',
          fields: [{ name: 'node', label: 'Node', options: choices, value: c.node }, { name: 'reason', label: 'Reason', placeholder: 'optional' }],
        });
        if (!v) return;
        try { const r = (await api.resetCall(c.call_id, v.node, v.reason || undefined)).data; toast(`Reset to ${r.node} (run ${r.run_id.slice(0, 8)}…)`, 'ok'); done && done(); } catch (e) { toast(e.message, 'error'); }
      },
    }, 'Reset…'),
    h('button.btn.small.danger-ghost', {
      type: 'button', onclick: async () => {
        const v = await dialog({ title: 'Terminate this call?', body: 'It ends at once; no hangup path runs.', ok: 'Terminate', danger: true, fields: [{ name: 'reason', label: 'Reason', placeholder: 'optional' }] });
        if (!v) return;
        try { await api.terminateCall(c.call_id, v.reason || undefined); toast('Call terminated', 'ok'); done && done(); } catch (e) { toast(e.message, 'error'); }
      },
    }, 'Terminate'));
}

export async function callView(main, [id]) {
  const page = h('section.page');
  main.appendChild(page);
  const types = await loadNodeTypes();
  let graph = null;
  const draw = async () => {
    let c;
    try {
      c = (await api.call(id)).data;
    } catch (e) {
      clear(page).append(h('p', h('a', { href: '/console', 'data-link': '' }, '← Operations')), errorBox(e));
      return false;
    }
    const nodes = [...new Set(c.timeline.map((s) => s.node))];
    const graphBox = h('div.mini-graph');
    const alerts = (c.events || []).filter((e) => ALERT_ACTIONS[e.action]);
    clear(page).append(
      h('p', h('a', { href: '/console', 'data-link': '' }, '← Operations')),
      h('div.call-head', h('h1.mono', id),
        h('span.chip', { class: c.ended ? (c.outcome === 'failed' ? 'bad' : 'ok') : 'hot' }, c.ended ? c.outcome || 'ended' : `in ${c.node}`),
        alertChip(alerts[alerts.length - 1]),
        h('span.muted', `${c.flow} ${c.flow_version ? 'v' + c.flow_version : '(unsaved source)'} · ${c.steps} steps · ${c.origin === 'live' ? 'live from the engine' : 'from the call record'}`),
        c.workflow_id ? h('span.muted.small', 'Temporal workflow ', h('code', c.workflow_id), c.run_id ? h('span', ' run ', h('code', c.run_id)) : null,
          can('operator') ? h('span', ' · ', h('a', { href: `/api/v1/calls/${encodeURIComponent(id)}/history`, target: '_blank', rel: 'noopener' }, 'Temporal history (JSON)')) : null) : null,
        !c.ended ? callActions({ call_id: id, node: c.node }, () => draw(), nodes) : null),
      graphBox,
      c.insights ? insightsCard(c.insights) : null,
      h('div.two-col',
        h('div.panel', h('h2', 'Timeline'), h('ol.timeline', timelineItems(c))),
        h('div.side-panels',
          c.transcript && c.transcript.length ? transcriptPanel(c.transcript) : null,
          h('div.panel', h('h2', 'Variables'), c.vars && Object.keys(c.vars).length
            ? h('table.kv-table', h('tbody', Object.entries(c.vars).map(([k, v]) => h('tr', h('td', k), h('td.mono', typeof v === 'object' ? JSON.stringify(v) : String(v))))))
            : h('p.muted', 'No variables.')))));
    try {
      const [g, f] = await Promise.all([api.graph(c.flow, String(c.flow_version || 'latest')), api.version(c.flow, c.flow_version).catch(() => null)]);
      const doc = new FlowDoc(f ? f.data.source : '', types);
      graph = new GraphView(graphBox, {}, { readOnly: true, types });
      graph.render({ nodes: g.data.nodes.map((n) => ({ ...n, onHangup: n.on_hangup, ports: doc.exits(n.id) })), edges: g.data.edges });
      graph.setHighlight(c.timeline.filter((s) => !s.flow || s.flow === c.flow).map((s) => s.node), c.ended ? '' : c.node);
      graph.fit();
    } catch {
      graphBox.hidden = true;
    }
    return !c.ended;
  };
  let live = await draw();
  const t = setInterval(async () => { if (live) live = await draw(); }, 3000);
  return () => clearInterval(t);
}

export async function cdrsView(main) {
  const flow = h('input', { name: 'flow', placeholder: 'Flow', 'aria-label': 'Flow' });
  const from = h('input', { name: 'from', placeholder: 'Caller number', 'aria-label': 'Caller number' });
  const outcome = h('select', { name: 'outcome', 'aria-label': 'Outcome' }, ['', 'completed', 'caller_hangup', 'transferred', 'max_steps', 'failed'].map((o) => h('option', { value: o }, o || 'Any outcome')));
  const sentiment = h('select', { name: 'sentiment', 'aria-label': 'Sentiment' }, ['', 'negative', 'neutral', 'positive'].map((o) => h('option', { value: o }, o || 'Any sentiment')));
  const disposition = h('input', { name: 'disposition', placeholder: 'Disposition', 'aria-label': 'Disposition' });
  const after = h('input', { name: 'after', type: 'datetime-local', 'aria-label': 'Started after' });
  const results = h('div');
  const more = h('button.btn', { type: 'button', hidden: true }, 'Load more');
  const exportLinks = h('span.row');
  const filter = () => ({ flow: flow.value.trim(), from: from.value.trim(), outcome: outcome.value, sentiment: sentiment.value,
    disposition: disposition.value.trim(), started_after: after.value ? new Date(after.value).toISOString() : '' });
  let cursor = '';
  let rows = [];
  const search = async (append) => {
    try {
      const r = (await api.cdrs({ ...filter(), cursor: append ? cursor : '' })).data;
      rows = append ? rows.concat(r.cdrs) : r.cdrs;
      cursor = r.next_cursor || '';
      more.hidden = !cursor;
      clear(results).appendChild(rows.length ? h('table.table',
        h('thead', h('tr', h('th', 'Call'), h('th', 'Flow'), h('th', 'From'), h('th', 'To'), h('th', 'Started'), h('th', 'Duration'), h('th', 'Outcome'), h('th', 'Insights'), h('th', 'Path'))),
        h('tbody', rows.map((c) => h('tr',
          h('td', callLink(c.call_id)), h('td', c.flow, h('span.muted', c.flow_version ? ` v${c.flow_version}` : ' (simulated draft)')), h('td.mono', c.from), h('td.mono', c.to),
          h('td.muted', time(c.started_at)), h('td', ms(Math.round((c.duration || 0) / 1e6))),
          h('td', h('span.chip', { class: c.outcome === 'failed' ? 'bad' : c.outcome === 'completed' ? 'ok' : '' }, c.outcome)),
          h('td.cdr-insights', sentimentChip(c.insights), c.insights && c.insights.disposition ? h('span.muted.small', ` ${c.insights.disposition}`) : null),
          h('td.muted.small', (c.path || []).map((p) => p.node).join(' → ')))))) : h('p.empty', 'No call record matches.'));
      const f = filter();
      clear(exportLinks).append('Export: ', h('a', { href: api.cdrExportURL(f, 'csv'), download: 'cdrs.csv' }, 'CSV'), ' · ', h('a', { href: api.cdrExportURL(f, 'json'), download: 'cdrs.json' }, 'JSON'));
    } catch (e) {
      clear(results).appendChild(errorBox(e));
    }
  };
  more.addEventListener('click', () => search(true));
  main.appendChild(h('section.page',
    h('div.page-head', h('div', h('h1', 'Call records'), h('p.muted', 'Every finished call: path, outcome, duration, and the summary\'s sentiment and disposition where the flow asked for one.')), exportLinks),
    h('form.filters', { onsubmit: (e) => { e.preventDefault(); search(false); } }, flow, from, outcome, sentiment, disposition, h('label.inline', 'Started after ', after),
      h('button.btn.primary', { type: 'submit' }, 'Search')),
    results, more));
  await search(false);
}

// timelineItems are the call's nodes, each with what an intent or llm
// node understood, and what people did to the call (a supervisor
// listening, whispering, barging in) or the alerts raised on it in
// between, by time.
function timelineItems(c) {
  const items = c.timeline.map((s, i) => ({ at: Date.parse(s.entered_at), el: h('li', { class: (s.error ? 'err' : '') + (!c.ended && i === c.timeline.length - 1 ? ' now' : '') },
    h('div.tl-head', h('strong.mono', s.flow && s.flow !== c.flow ? `${s.flow}/${s.node}` : s.node), h('span.chip', s.type), h('span.tl-meta', ms(s.duration_ms))),
    h('div.tl-meta', time(s.entered_at), s.exit ? ` · exit ${s.exit}` : '', s.input ? ` · input “${s.input}”` : ''),
    s.error ? h('div.alert.error', s.error) : null,
    s.ai && s.ai.length ? aiTurns(s.ai) : null) }));
  for (const e of c.events || []) {
    const alert = ALERT_ACTIONS[e.action];
    items.push({ at: Date.parse(e.at), el: h('li.tl-event', { class: alert ? 'tl-alert' : '', 'data-event': e.action, role: alert ? 'note' : null },
      h('div.tl-head', h('strong', e.actor === 'ai' ? 'AI' : e.actor), alert
        ? h('span.chip.bad', `⚠ ${alert}`)
        : h('span.chip.hot', e.action === 'leave' ? 'left' : e.action)),
      h('div.tl-meta', time(e.at), e.detail ? ` · ${e.detail}` : '')) });
  }
  items.sort((x, y) => x.at - y.at);
  return items.map((x) => x.el);
}

// aiTurns shows an intent or llm node's turns: what the caller said ->
// the intent (confidence), its slots; or the reply and the tool called.
function aiTurns(turns) {
  return h('ul.tl-ai', { 'aria-label': 'AI turns' }, turns.map((t) => {
    const slots = Object.entries(t.slots || {});
    return h('li',
      t.utterance || t.intent ? h('div.tl-ai-line',
        t.utterance ? h('q', t.utterance) : null,
        t.utterance ? h('span.muted', ' → ') : null,
        t.intent ? h('strong.mono', t.intent) : h('span.muted', 'no intent'),
        t.intent || t.confidence ? h('span.muted', ` (${Math.round((t.confidence || 0) * 100)}%)`) : null,
        t.sentiment ? h('span', ' ', sentimentChip({ sentiment: t.sentiment, sentiment_label: scoreLabel(t.sentiment) })) : null) : null,
      slots.length ? h('ul.tl-ai-slots', slots.map(([k, v]) => h('li', h('span.mono', k), ' = ', typeof v === 'object' ? JSON.stringify(v) : String(v)))) : null,
      t.reply ? h('div.tl-ai-reply', '↳ ', t.reply) : null,
      t.tool ? h('div.tl-ai-line', 'tool ', h('code', t.tool)) : null,
      t.error ? h('div.tl-ai-error', t.error) : null,
      t.source || t.model ? h('div.tl-meta', [t.source, t.model].filter(Boolean).join(' · ')) : null);
  }));
}

// scoreLabel names a turn's sentiment as the summary's labels do.
const scoreLabel = (v) => (v <= -0.3 ? 'negative' : v >= 0.3 ? 'positive' : 'neutral');
const signed = (v) => (v > 0 ? '+' : v < 0 ? '−' : '') + Math.abs(v || 0).toFixed(2);

// sentimentChip is a sentiment as a coloured badge: its label and score
// (-1 very unhappy .. 1 very happy); null without one.
export function sentimentChip(ins) {
  if (!ins || !ins.sentiment_label) return null;
  const cls = { positive: 'ok', negative: 'bad' }[ins.sentiment_label] || '';
  return h('span.chip.sentiment', { class: cls, 'data-sentiment': ins.sentiment_label, title: `Sentiment ${signed(ins.sentiment)} on a scale from −1 to +1` },
    `${ins.sentiment_label} ${signed(ins.sentiment)}`);
}

// alertChip marks a call that has an alert (a strongly negative turn).
function alertChip(a) {
  if (!a) return null;
  return h('span.chip.bad.call-alert', { 'data-alert': a.action, title: a.detail || '' }, `⚠ ${ALERT_ACTIONS[a.action] || a.action}`);
}

// insightsCard is the call's post-call summary, disposition, sentiment
// and key facts, and where they came from.
function insightsCard(ins) {
  const facts = Object.entries(ins.key_facts || {});
  const from = ins.source === 'llm' ? `from the model${ins.model ? ' ' + ins.model : ''}` : ins.source === 'offline' ? 'from the offline summariser' : ins.source || '';
  return h('section.panel.insights', { 'aria-labelledby': 'insights-title' },
    h('h2#insights-title', 'Insights', h('span.muted.small', from)),
    ins.error ? h('div.alert.warn', `The summary failed: ${ins.error}`) : null,
    ins.summary ? h('p.insights-summary', ins.summary) : ins.error ? null : h('p.muted', 'No summary.'),
    h('div.insights-tags',
      ins.disposition ? h('span', 'Disposition ', h('span.chip.disposition', ins.disposition)) : null,
      ins.sentiment_label ? h('span', 'Sentiment ', sentimentChip(ins)) : null),
    facts.length ? h('table.kv-table.key-facts', { 'aria-label': 'Key facts' },
      h('tbody', facts.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => h('tr', h('td', k), h('td', v))))) : null);
}

const SPEAKER = { flow: 'Flow', customer: 'Caller', agent: 'Agent' };

// transcriptPanel is the conversation: a web chat's messages, or what a
// voice call's intent and llm nodes said and heard.
function transcriptPanel(lines) {
  return h('section.panel', { 'aria-labelledby': 'transcript-title' },
    h('h2#transcript-title', 'Transcript', h('span.muted.small', `${lines.length} lines`)),
    h('ol.call-transcript', lines.map((l) => h('li', { 'data-from': l.from },
      h('div.tl-head', h('strong', l.name ? `${SPEAKER[l.from] || l.from} ${l.name}` : SPEAKER[l.from] || l.from), h('span.tl-meta', time(l.at))),
      h('div', l.text)))));
}
