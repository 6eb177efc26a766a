// The designer's simulator panel: a call of the current draft on the text
// channel (POST /simulate, events over Server-Sent Events), a keypad and
// free text as the caller, the transcript with what intent and llm nodes
// understood or replied, and the path highlighted on the graph.

import { api } from './api.js';
import { h, clear, toast } from './ui.js';

export function installSim(d) {
  const { st, el, name } = d;

  d.renderSim = () => {
    const sim = st.sim;
    const log = h('div.transcript#transcript', { 'aria-live': 'polite' });
    const input = h('input#sim-text', { placeholder: 'Type digits or words, Enter to send', autocomplete: 'off', 'aria-label': 'Caller input' });
    const from = h('input#sim-from', { value: (sim && sim.from) || '+15550100', 'aria-label': 'Caller number' });
    const startBtn = h('button.btn.primary#sim-start', { type: 'button', onclick: startSim }, sim && !sim.done ? 'Restart' : 'Start call');
    const send = (text) => sendSim(text);
    const keypad = h('div.keypad', { role: 'group', 'aria-label': 'Keypad' }, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'].map((k) =>
      h('button.key', { type: 'button', 'data-key': k, onclick: () => pressKey(k) }, k)));
    input.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); send(input.value); input.value = ''; } });
    const status = h('div.sim-status#sim-status');
    el.sideBody.append(h('div.sim',
      h('div.sim-head', h('label.inline', 'Caller ', from), h('span.spacer'), startBtn),
      status, log,
      h('div.sim-controls', keypad,
        h('div.sim-send', input,
          h('button.btn#sim-send', { type: 'button', onclick: () => { send(input.value); input.value = ''; } }, 'Send'),
          h('button.btn.ghost', { type: 'button', onclick: () => send('') }, 'No input'),
          h('button.btn.danger-ghost', { type: 'button', onclick: () => send('hangup') }, 'Hang up')))));
    st.simUI = { log, status, input, from };
    if (sim) for (const e of sim.events) drawSimEvent(e);
    updateSimStatus();

    // pressKey sends a key; a gather collects keys until its terminator
    // or max_digits, as a phone would send them.
    function pressKey(k) {
      const s = st.sim;
      if (!s || s.done) { toast('Start a call first', 'info'); return; }
      const n = s.listening && st.doc.node(s.listening);
      if (n && n.type === 'gather') {
        s.buffer = (s.buffer || '') + k;
        input.value = s.buffer;
        if (n.terminator === k || (n.max_digits && s.buffer.replace(/[#*]$/, '').length >= n.max_digits)) { send(s.buffer); s.buffer = ''; input.value = ''; }
        return;
      }
      send(k);
    }
  };

  d.stopSimUI = () => {
    st.simUI = null;
  };

  async function startSim() {
    if (st.sim && st.sim.es) st.sim.es.close();
    const from = st.simUI ? st.simUI.from.value : '+15550100';
    st.sim = { events: [], path: [], done: false, listening: '', from };
    d.graph.setHighlight([], '');
    if (st.simUI) clear(st.simUI.log);
    updateSimStatus('Starting…');
    try {
      await d.flush();
      const r = await api.simulate({ flow: name, source: st.doc.text(), from });
      const sim = st.sim;
      sim.id = r.data.call_id;
      const es = new EventSource(r.data.events_url);
      sim.es = es;
      for (const kind of ['prompt', 'listen', 'input', 'node', 'transfer', 'record', 'hangup', 'ai', 'end']) {
        es.addEventListener(kind, (m) => {
          if (st.sim !== sim) return;
          const e = JSON.parse(m.data);
          if (sim.events.some((x) => x.id === e.id)) return;
          sim.events.push(e);
          onSimEvent(sim, e);
        });
      }
      es.onerror = () => { if (sim.done) es.close(); };
      updateSimStatus();
    } catch (e) {
      st.sim.done = true;
      if (e.diagnostics && e.diagnostics.length) { st.diags = e.diagnostics; d.renderProblems(); d.renderGraph(); }
      updateSimStatus(e.message);
    }
  }

  function onSimEvent(sim, e) {
    if (e.kind === 'node') {
      sim.path.push(e.node);
      sim.current = e.node;
    } else if (e.kind === 'listen') {
      sim.listening = e.node;
    } else if (e.kind === 'input') {
      sim.listening = '';
    } else if (e.kind === 'end') {
      sim.done = true;
      sim.listening = '';
      sim.current = '';
      sim.outcome = e.outcome;
      if (e.path && e.path.length) sim.path = e.path.filter((p) => !p.includes('/'));
      if (sim.es) sim.es.close();
    }
    d.graph.setHighlight(sim.path, sim.current);
    drawSimEvent(e);
    updateSimStatus();
  }

  function drawSimEvent(e) {
    const ui = st.simUI;
    if (!ui) return;
    let row = null;
    if (e.kind === 'prompt') row = h('div.msg.bot', h('span.who', e.node || 'flow'), e.text);
    else if (e.kind === 'input') row = h('div.msg.caller', h('span.who', 'caller'), callerText(e.text));
    else if (e.kind === 'node') row = h('div.sys', `→ ${e.node}`);
    else if (e.kind === 'transfer') row = h('div.sys', `Transferred to ${e.text}`);
    else if (e.kind === 'record') row = h('div.sys', `Recorded ${e.text}`);
    else if (e.kind === 'hangup') row = h('div.sys', `Hung up${e.text ? ': ' + e.text : ''}`);
    else if (e.kind === 'ai') row = aiTurnView(e);
    else if (e.kind === 'end') row = h('div.sys.end', `Call ended: ${e.outcome || 'done'}${e.error ? ' — ' + e.error : ''}`);
    if (row) {
      ui.log.appendChild(row);
      ui.log.scrollTop = ui.log.scrollHeight;
    }
  }

  // aiTurnView shows what an intent or llm node made of the caller's
  // turn: the intent, its confidence and slots, or the reply and tool,
  // and where the answer came from (a model or the offline matcher).
  function aiTurnView(e) {
    let t;
    try { t = JSON.parse(e.text || '{}') || {}; } catch { t = { error: `unreadable turn: ${e.text}` }; }
    const llm = !!(t.reply || t.tool);
    const scored = !llm && !(t.error && !t.intent); // a classification, with a confidence
    const head = h('div.ai-line',
      llm ? null : h('span.ai-intent', t.intent ? `intent ${t.intent}` : t.error ? 'no answer' : 'no intent'),
      scored ? h('span.ai-conf', { title: 'confidence' }, percent(t.confidence)) : null,
      scored ? h('meter', { min: '0', max: '1', value: String(t.confidence || 0), 'aria-label': 'confidence' }) : null,
      t.source ? h('span.chip.ai-source', t.source) : null,
      t.model ? h('span.chip.ai-model', t.model) : null);
    const slots = Object.entries(t.slots || {});
    return h('div.ai-turn', { dataset: { node: e.node || '', intent: t.intent || '' } },
      h('span.who', `${e.node || 'flow'} · understood`),
      head,
      slots.length ? h('ul.ai-slots', slots.map(([k, v]) => h('li', h('code', k), ' = ', typeof v === 'object' ? JSON.stringify(v) : String(v)))) : null,
      t.reply ? h('div.ai-reply', t.reply) : null,
      t.tool ? h('div.ai-tool', 'called tool ', h('code', t.tool)) : null,
      t.error ? h('div.ai-error', t.error) : null);
  }

  function percent(c) {
    return `${Math.round((Number(c) || 0) * 100)}%`;
  }

  function callerText(t) {
    if (!t || t === 'timeout') return '(silence)';
    if (t.startsWith('dtmf:')) return `pressed ${t.slice(5)}`;
    if (t.startsWith('speech:')) return `“${t.slice(7)}”`;
    return t;
  }

  function updateSimStatus(text) {
    const ui = st.simUI;
    if (!ui) return;
    const s = st.sim;
    const t = text || (!s ? 'Start a call to test the flow: prompts appear here and the graph highlights the path.'
      : s.done ? `Ended: ${s.outcome || 'done'} · path ${s.path.join(' → ')}`
        : s.listening ? `Waiting for the caller at ${s.listening}` : s.current ? `In ${s.current}` : 'Connecting…');
    ui.status.textContent = t;
    ui.status.className = 'sim-status' + (s && s.listening ? ' listening' : '') + (s && s.done ? ' ended' : '');
  }

  async function sendSim(text) {
    const s = st.sim;
    if (!s || !s.id || s.done) { toast('Start a call first', 'info'); return; }
    try {
      await api.simInput(s.id, text.trim());
    } catch (e) {
      toast(e.message, 'error');
    }
  }
}
