// Agent desk (/agent): the signed-in user's state (available, on break,
// offline: PUT /agents/{name}/state), a WebRTC softphone rung by queues
// over the desk socket (/api/v1/ws/agent: ring with the screen-pop,
// answer, connected, hold, transfer, consult, hang-up), the wrap-up form
// (POST /agents/{name}/wrap-up), web chats offered by queues
// (agent-chat.js) and the contacts of preview campaigns to call
// (agent-preview.js). The desk lives on while the user looks at other
// screens, and its socket reconnects after a network blip without
// dropping a call: the new hello lists the calls still up, which restart
// ICE. The router's view of the agent (reserved, on call, wrap-up, a break
// after a missed call) comes from the board stream.

import { api, request } from './api.js';
import { h, clear } from './ui.js';
import { session } from './app.js';
import { DeskCall } from './softphone.js';
import { ChatPanel } from './agent-chat.js';
import { popView } from './screenpop.js';
import { PreviewPanel } from './agent-preview.js';

const STATE_LABEL = {
  available: 'Available', break: 'On break', offline: 'Offline',
  reserved: 'Ringing', on_call: 'On call', wrap_up: 'Wrap-up',
};
const STATE_CHIP = { available: 'ok', reserved: 'warn', on_call: 'hot', wrap_up: 'warn' };
const BREAK_REASONS = ['Lunch', 'Coffee', 'Meeting', 'Training', 'Personal'];
const DISPOSITIONS = ['resolved', 'follow-up needed', 'escalated', 'callback requested', 'sale', 'wrong number'];

// SHORTCUTS are the desk's keys (with Alt), shown on the page.
export const SHORTCUTS = [
  ['KeyA', 'Alt+A', 'Answer the ringing call (or accept the offered chat)'],
  ['KeyX', 'Alt+X', 'Decline the ringing call'],
  ['KeyH', 'Alt+H', 'Hang up'],
  ['KeyM', 'Alt+M', 'Mute or unmute'],
  ['KeyO', 'Alt+O', 'Hold or resume'],
  ['KeyT', 'Alt+T', 'Transfer: to the number field'],
  ['KeyK', 'Alt+K', 'Keypad'],
  ['KeyR', 'Alt+R', 'Go available (ready)'],
  ['KeyB', 'Alt+B', 'Take a break'],
  ['KeyW', 'Alt+W', 'Wrap-up: to the disposition'],
  ['KeyC', 'Alt+C', 'Chat: to the message field'],
];

// clock shows a span as m:ss or h:mm:ss.
export function clock(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(t / 3600);
  const mm = Math.floor((t % 3600) / 60);
  const ss = String(t % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

// backoff is the wait before reconnection attempt n (1, 2, ...): 0.5 s
// doubling to 10 s, with jitter so a restarted server is not stormed.
export const backoff = (n) => Math.min(10_000, 500 * 2 ** (n - 1)) * (0.75 + Math.random() / 2);

let desk = null;

export function agentView(main) {
  const name = session.user && session.user.name;
  if (desk && desk.name !== name) {
    desk.close();
    desk = null;
  }
  if (!desk) desk = new Desk(name);
  desk.mount(main);
  return () => desk && desk.unmount();
}

class Desk {
  constructor(name) {
    this.name = name;
    this.calls = new Map(); // by call ID: DeskCall
    this.orphans = new Set(); // calls the server holds for us that this page has no media for
    this.errors = [];
    this.live = null; // the router's view of the agent (board stream)
    this.conn = 'connecting';
    this.tries = 0;
    this.iceServers = [];
    this.selected = '';
    this.lastCall = null;
    this.closed = false;
    this.view = null;
    this.chats = new ChatPanel({ send: (m) => this.send(m), changed: () => this.draw(), error: (t) => this.error(t) });
    this.preview = new PreviewPanel({ agent: name, changed: () => this.draw() });
    this.connect();
    this.watchBoard();
    this.onSignOut = () => this.close();
    document.getElementById('signout')?.addEventListener('click', this.onSignOut);
    this.onUnload = (ev) => {
      if ([...this.calls.values()].some((c) => c.state !== 'ringing')) ev.preventDefault();
    };
    window.addEventListener('beforeunload', this.onUnload);
    // A test hook and console aid: the desk's calls, and dropping its
    // socket as a network blip would.
    window.voxflowDesk = {
      calls: () => [...this.calls.values()],
      call: (id) => this.calls.get(id) || [...this.calls.values()].find((c) => c.state !== 'ended'),
      dropSocket: () => this.ws && this.ws.close(),
      send: (m) => this.send(m),
      get conn() { return desk ? desk.conn : 'closed'; },
      get hellos() { return desk ? desk.hellos : 0; }, // sockets greeted: 1 + reconnections
    };
  }

  // ---- socket ----

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws/agent`;
    const ws = new WebSocket(url);
    this.ws = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.conn = 'connected';
      this.draw();
    });
    ws.addEventListener('message', (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      this.onMessage(m).catch((e) => this.error(e.message || String(e)));
    });
    ws.addEventListener('close', () => {
      if (ws !== this.ws || this.closed || this.conn === 'replaced') return;
      this.conn = 'reconnecting';
      this.draw();
      // Refused before opening: maybe the session ended (a 401 there
      // sends the user to the sign-in page).
      if (!opened) request('GET', '/session').catch(() => {});
      this.tries++;
      setTimeout(() => { if (!this.closed) this.connect(); }, backoff(this.tries));
    });
  }

  send(m) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      this.error('Not connected to the server: reconnecting, try again in a moment.');
      return false;
    }
    this.ws.send(JSON.stringify(m));
    return true;
  }

  async onMessage(m) {
    const call = m.call_id ? this.calls.get(m.call_id) : null;
    switch (m.type) {
      case 'hello': return this.hello(m);
      case 'ring': return this.ring(m);
      case 'connected': if (call) await call.connected(m.sdp); break;
      case 'answer': if (call) await call.answered(m.sdp); break;
      case 'ring_cancelled': this.drop(m.call_id, false); break;
      case 'ended': this.drop(m.call_id, true); break;
      case 'held': if (call) call.held = !!m.on; break;
      case 'consulting': if (call) call.consult = { to: m.to || (call.consult && call.consult.to), up: true }; break;
      case 'consult_cancelled': if (call) call.consult = null; break;
      case 'transferred':
        if (call) call.transferred = m.to || (call.consult && call.consult.to) || 'another party';
        this.note(`Call from ${call ? call.from : m.call_id} transferred${m.to ? ' to ' + m.to : ''}.`);
        break;
      case 'replaced': this.conn = 'replaced'; break; // drawErrors offers to take it back
      case 'error':
        this.error(m.message || m.code, m.code);
        if (/^consult:/.test(m.message || '')) for (const c of this.calls.values()) if (c.consult && !c.consult.up) c.consult = null;
        for (const c of [...this.calls.values()]) { // a ring that ended while the socket was away
          if (m.code === 'not_yours' && (c.state === 'ringing' || c.state === 'answering') && (m.message || '').includes(`"${c.id}"`)) this.drop(c.id, false);
        }
        break;
      default:
        if (!this.chats.handle(m)) return;
    }
    this.draw();
  }

  // hello greets each new socket: calls the server still holds restart
  // ICE (the socket dropped, not the media); ours it no longer lists ended.
  async hello(m) {
    this.tries = 0; // backoff starts over once the server greets us
    this.hellos = (this.hellos || 0) + 1;
    this.iceServers = m.ice_servers || [];
    const up = new Set(m.calls || []);
    this.orphans = new Set();
    for (const c of this.calls.values()) {
      if (c.state === 'ringing') continue; // a new ring comes if it still rings
      if (up.has(c.id)) c.restart().catch((e) => this.error('Could not restore the call\'s audio: ' + e.message));
      else this.drop(c.id, c.state === 'connected');
    }
    for (const id of up) if (!this.calls.has(id)) this.orphans.add(id);
    this.chats.hello(m.chats || []);
    this.draw();
  }

  ring(m) {
    this.drop(m.call_id, false); // offered again
    const c = new DeskCall(m, { iceServers: this.iceServers, send: (x) => this.send(x), changed: () => this.draw() });
    this.calls.set(c.id, c);
    if (!this.selected || !this.calls.has(this.selected)) this.selected = c.id;
    this.draw();
    document.querySelector(`[data-call="${CSS.escape(c.id)}"] [data-action=answer]`)?.focus();
  }

  // drop removes a call; talked: it was connected, so wrap-up may follow.
  drop(id, talked) {
    const c = this.calls.get(id);
    if (!c) return;
    c.close();
    this.calls.delete(id);
    if (talked) this.lastCall = { id: c.id, from: c.from, channel: c.channel, flow: c.pop && c.pop.flow };
    if (this.selected === id) this.selected = this.calls.keys().next().value || '';
  }

  // note tells the agent something that went well (a status line).
  note(text) {
    this.notice = text;
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { this.notice = ''; this.draw(); }, 8000);
  }

  error(text, code) {
    this.errors.push({ text: code ? `${text} (${code})` : text, at: Date.now() });
    this.errors = this.errors.slice(-5);
    this.draw();
  }

  // ---- actions ----

  current() {
    return this.calls.get(this.selected) || [...this.calls.values()].find((c) => c.state === 'connected') || null;
  }

  ringing() { return [...this.calls.values()].find((c) => c.state === 'ringing') || null; }

  async answer(c) {
    try {
      this.selected = c.id;
      await c.answer();
    } catch (e) {
      this.error('Could not answer: ' + (e.message || e.name));
      this.send({ type: 'decline', call_id: c.id });
      this.drop(c.id, false);
      this.draw();
    }
  }

  decline(c) {
    this.send({ type: 'decline', call_id: c.id });
    this.drop(c.id, false);
    this.draw();
  }

  hangup(c) {
    if (this.send({ type: 'hangup', call_id: c.id })) c.state = 'hanging up';
    this.draw();
  }

  transfer(c, kind, to) {
    to = to.trim();
    if (!to) return this.error('Transfer: enter an agent (agent:NAME), a number or a SIP address.');
    if (kind === 'blind') return this.send({ type: 'transfer', call_id: c.id, to });
    if (this.send({ type: 'consult', call_id: c.id, to })) c.consult = { to, up: false };
    this.draw();
  }

  // endConsult completes the transfer or goes back to the caller; the
  // server's transferred or consult_cancelled confirms.
  endConsult(c, complete) {
    this.send({ type: complete ? 'complete' : 'cancel_consult', call_id: c.id });
  }

  async setState(state, reason) {
    try {
      const r = await request('PUT', `/agents/${encodeURIComponent(this.name)}/state`, { body: { state, reason } });
      this.live = r.data;
      this.draw();
    } catch (e) {
      this.error(e.status === 404 ? `${e.message} Ask an operator to set your skills and queues.` : e.message);
    }
  }

  async wrapUp(disposition, notes) {
    try {
      const r = await request('POST', `/agents/${encodeURIComponent(this.name)}/wrap-up`, { body: { disposition, notes } });
      this.live = r.data;
      this.lastCall = null;
      this.draw();
      return true;
    } catch (e) {
      this.error(e.message);
      return false;
    }
  }

  // watchBoard follows the router's view of this agent on the board stream.
  watchBoard() {
    this.board = new EventSource(api.boardEventsURL());
    this.board.addEventListener('board', (ev) => {
      const b = JSON.parse(ev.data);
      const me = (b.agents || []).find((a) => a.name === this.name);
      this.live = me || { name: this.name, state: 'offline', calls: [] };
      // The queues the agent serves (all, for an agent serving any).
      this.queues = (b.queues || []).filter((q) => !me || !(me.queues || []).length || me.queues.includes(q.name))
        .map((q) => ({ name: q.name, waiting: q.waiting }));
      this.draw();
    });
  }

  close() {
    this.closed = true;
    for (const c of this.calls.values()) c.close();
    this.calls.clear();
    this.chats.close();
    this.preview.close();
    if (this.ws) this.ws.close();
    if (this.board) this.board.close();
    document.getElementById('signout')?.removeEventListener('click', this.onSignOut);
    window.removeEventListener('beforeunload', this.onUnload);
    this.unmount();
    if (desk === this) desk = null;
  }

  // ---- page ----

  mount(main) {
    this.view = mountDesk(main, this);
    this.draw();
  }

  unmount() {
    if (!this.view) return;
    this.view.stop();
    this.view = null;
  }

  draw() {
    if (this.view) this.view.draw();
  }
}

// mountDesk builds the desk's page in main and returns {draw, stop}.
function mountDesk(main, d) {
  const parts = {
    conn: h('span.chip.desk-conn', { role: 'status', 'aria-live': 'polite' }),
    state: h('div.desk-state'),
    errors: h('div.desk-errors', { 'aria-live': 'assertive' }),
    calls: h('div.desk-calls'),
    wrap: h('div.desk-wrap'),
    pop: h('div.desk-pop'),
    chats: h('div.desk-chats'),
    preview: h('section.desk-preview', { 'aria-labelledby': 'desk-preview-h', hidden: true }),
  };
  main.appendChild(h('section.page.desk-page',
    h('div.desk-head',
      h('div', h('h1', 'Agent desk'), h('p.muted.small', `Signed in as ${d.name} `, parts.conn)),
      parts.state),
    parts.errors,
    h('div.desk-grid',
      h('section.desk-col', { 'aria-labelledby': 'desk-calls-h' }, h('h2#desk-calls-h', 'Calls'), parts.calls, parts.wrap, parts.preview),
      h('section.desk-col', { 'aria-labelledby': 'desk-pop-h' }, h('h2#desk-pop-h', 'Caller'), parts.pop),
      h('section.desk-col', { 'aria-labelledby': 'desk-chats-h' }, h('h2#desk-chats-h', 'Chats'), parts.chats)),
    shortcutsHelp()));
  const css = h('link', { rel: 'stylesheet', href: new URL('./desk.css', import.meta.url).href });
  document.head.appendChild(css);
  const onKey = (ev) => deskKey(d, ev);
  document.addEventListener('keydown', onKey);
  const tick = setInterval(() => main.querySelectorAll('[data-since]').forEach(tickOne), 1000);
  const draw = () => {
    keepFocus(main, () => {
      drawConn(parts.conn, d);
      changed(parts.state, [d.live, d.breakReason, d.queues], () => drawState(parts.state, d));
      drawErrors(parts.errors, d);
      changed(parts.calls, [[...d.calls.values()].map(callSig), [...d.orphans], d.selected, d.live && d.live.state],
        () => drawCalls(parts.calls, d));
      drawWrap(parts.wrap, d);
      changed(parts.preview, d.preview.sig(), () => d.preview.draw(parts.preview));
      const c = d.current() || d.ringing();
      changed(parts.pop, [c && c.id, c && c.pop], () => drawPop(parts.pop, d));
      d.chats.draw(parts.chats);
    });
    document.title = d.ringing() ? '☎ Ringing · voxflow desk' : 'voxflow desk';
  };
  return {
    draw,
    stop: () => {
      document.removeEventListener('keydown', onKey);
      clearInterval(tick);
      css.remove();
      document.title = 'voxflow';
    },
  };
}

// changed runs draw when what box shows (sig, JSON) changed since its
// last draw: a redraw must not replace a button under the agent's click.
function changed(box, sig, draw) {
  const s = JSON.stringify(sig);
  if (box.dataset.sig === s) return;
  box.dataset.sig = s;
  draw();
}

// callSig is what a call card shows.
function callSig(c) {
  return [c.id, c.state, c.muted, c.held, c.consult, c.restarting, c.pc && c.pc.connectionState, c.keypadOpen, c.transferred];
}

// keepFocus redraws and puts the focus back on the control that had it
// (same data-key), so a redraw never throws a keyboard user out. What
// the agent types is kept by the views (a chat's draft, a transfer's
// target), not here.
function keepFocus(main, redraw) {
  const a = document.activeElement;
  const key = a && main.contains(a) ? a.dataset.key : '';
  redraw();
  if (!key) return;
  const b = main.querySelector(`[data-key="${CSS.escape(key)}"]`);
  if (b && b !== document.activeElement) b.focus();
}

function tickOne(e) {
  e.textContent = clock(Date.now() - Number(e.dataset.since));
}

function since(ms) {
  const e = h('span.mono', { 'data-since': String(ms) });
  tickOne(e);
  return e;
}

function drawConn(box, d) {
  const label = { connecting: 'Connecting…', connected: 'Connected', reconnecting: 'Reconnecting…', replaced: 'Open in another tab' }[d.conn];
  box.textContent = label || d.conn;
  box.className = 'chip desk-conn ' + (d.conn === 'connected' ? 'ok' : 'bad');
  box.dataset.conn = d.conn;
}

function drawState(box, d) {
  const st = d.live ? d.live.state : '';
  const since0 = d.live && d.live.since ? Date.parse(d.live.since) : NaN;
  const picked = d.breakReason || (d.live && d.live.reason);
  const reason = h('select', { 'aria-label': 'Break reason', 'data-key': 'break-reason', onchange: (ev) => { d.breakReason = ev.target.value; } },
    BREAK_REASONS.map((r) => h('option', { value: r, selected: picked === r }, r)));
  const btn = (state, label, key, extra) => h('button.btn', {
    type: 'button', 'data-key': 'state-' + state, 'data-state': state, 'aria-pressed': String(st === state),
    class: st === state ? 'primary' : '', onclick: () => d.setState(state, extra ? extra() : undefined),
    title: key ? `${label} (${key})` : label,
  }, label);
  clear(box).append(
    h('div.desk-state-now', { 'data-agent-state': st || 'unknown' },
      h('span.chip', { class: STATE_CHIP[st] || '' }, STATE_LABEL[st] || (st ? st : 'Unknown')),
      d.live && d.live.reason ? h('span.muted.small', ` ${d.live.reason}`) : null,
      Number.isNaN(since0) ? null : h('span.muted.small', ' for ', since(since0)),
      d.live && d.live.pending ? h('span.muted.small', ` · then ${STATE_LABEL[d.live.pending] || d.live.pending}`) : null),
    (d.queues || []).length ? h('div.small.muted.desk-queues', 'Waiting: ', d.queues.map((q, i) => [i ? ', ' : '',
      h('span', { 'data-queue': q.name }, `${q.name} ${q.waiting}`)])) : null,
    h('div.row.desk-state-buttons', { role: 'group', 'aria-label': 'Your state' },
      btn('available', 'Available', 'Alt+R'), h('span.row', btn('break', 'Break', 'Alt+B', () => reason.value), reason),
      btn('offline', 'Offline')));
}

function drawErrors(box, d) {
  const takeBack = d.conn !== 'replaced' ? '' : h('div.alert.warn', { role: 'status' },
    h('span', 'This desk is open in another tab or window: calls ring there.'), ' ',
    h('button.btn.small', { type: 'button', 'data-key': 'take-back', onclick: () => { d.conn = 'connecting'; d.connect(); d.draw(); } }, 'Use this tab'));
  clear(box).append(takeBack, d.notice ? h('div.alert.ok', { role: 'status' }, d.notice) : '', ...d.errors.map((e, i) => h('div.alert.error', { role: 'alert' },
    h('span', e.text), ' ',
    h('button.btn.small.ghost', { type: 'button', 'data-key': 'dismiss-' + e.at, onclick: () => { d.errors.splice(i, 1); d.draw(); } }, 'Dismiss'))));
}

function drawCalls(box, d) {
  const list = [...d.calls.values()];
  const orphans = [...d.orphans].map((id) => h('div.alert.warn', { role: 'status' },
    `Call ${id} is still up on the server, but this page has no audio for it (the page was reloaded). `,
    h('button.btn.small', { type: 'button', 'data-key': 'orphan-' + id, onclick: () => { d.send({ type: 'hangup', call_id: id }); d.orphans.delete(id); d.draw(); } }, 'Hang it up')));
  if (!list.length) {
    const st = d.live && d.live.state;
    clear(box).append(...orphans, h('p.empty', st === 'available' ? 'Waiting for a call…' : 'Go available to take calls.'));
    return;
  }
  clear(box).append(...orphans, ...list.map((c) => callCard(d, c)));
}

function callCard(d, c) {
  const sel = d.selected === c.id;
  const card = h('article.call-card', {
    'data-call': c.id, 'data-call-state': c.state, class: sel ? 'selected' : '',
    'aria-label': `Call from ${c.from || 'unknown'}`, onclick: (ev) => {
      if (!sel && !ev.target.closest('button,input,select,textarea')) { d.selected = c.id; d.draw(); }
    },
  },
  h('header.call-head',
    h('div', h('strong.call-from', c.from || 'Unknown caller'), h('span.chip', c.channel || 'call'),
      c.held ? h('span.chip.warn', 'On hold') : null, c.muted ? h('span.chip.bad', 'Muted') : null),
    h('span.call-status', { 'data-call-status': c.state }, callStatus(c), ' ', c.state === 'connected' ? since(c.since) : null)),
  c.pop ? h('p.small.muted', `${c.pop.flow || ''}${c.pop.node ? ` · at ${c.pop.node}` : ''}${c.to ? ` · dialled ${c.to}` : ''}`) : null);
  if (c.state === 'ringing') {
    card.appendChild(h('div.row',
      h('button.btn.primary', { type: 'button', 'data-action': 'answer', 'data-key': 'answer-' + c.id, onclick: () => d.answer(c) }, 'Answer', h('kbd', 'Alt+A')),
      h('button.btn.danger-ghost', { type: 'button', 'data-action': 'decline', 'data-key': 'decline-' + c.id, onclick: () => d.decline(c) }, 'Decline', h('kbd', 'Alt+X'))));
  } else if (c.state === 'connected' || c.state === 'answering') {
    card.append(callControls(d, c), transferForm(d, c), keypad(d, c));
  }
  return card;
}

function callStatus(c) {
  if (c.state === 'connected' && c.restarting) return 'Restoring audio…';
  if (c.state === 'connected' && c.pc && c.pc.connectionState === 'failed') return 'Audio lost';
  return { ringing: 'Ringing', answering: 'Connecting…', connected: 'Connected', 'hanging up': 'Hanging up…' }[c.state] || c.state;
}

function callControls(d, c) {
  const live = c.state === 'connected';
  return h('div.row.call-controls', { role: 'group', 'aria-label': 'Call controls' },
    h('button.btn', { type: 'button', 'data-action': 'mute', 'data-key': 'mute-' + c.id, 'aria-pressed': String(c.muted), disabled: !live, onclick: () => c.mute() },
      c.muted ? 'Unmute' : 'Mute', h('kbd', 'Alt+M')),
    h('button.btn', { type: 'button', 'data-action': 'hold', 'data-key': 'hold-' + c.id, 'aria-pressed': String(c.held), disabled: !live, onclick: () => c.hold() },
      c.held ? 'Resume' : 'Hold', h('kbd', 'Alt+O')),
    h('button.btn.danger', { type: 'button', 'data-action': 'hangup', 'data-key': 'hangup-' + c.id, onclick: () => d.hangup(c) },
      'Hang up', h('kbd', 'Alt+H')));
}

function transferForm(d, c) {
  if (c.consult) {
    return h('div.row.consult', { role: 'group', 'aria-label': 'Consultation' },
      h('span.small', { role: 'status' }, c.consult.up ? `Talking to ${c.consult.to}; the caller is on hold.` : `Calling ${c.consult.to}…`),
      h('button.btn.primary', { type: 'button', 'data-action': 'complete', 'data-key': 'complete-' + c.id, onclick: () => d.endConsult(c, true) }, 'Complete transfer'),
      h('button.btn', { type: 'button', 'data-action': 'cancel-consult', 'data-key': 'cancel-' + c.id, onclick: () => d.endConsult(c, false) }, 'Back to caller'));
  }
  const to = h('input.transfer-to', {
    name: 'to', placeholder: 'agent:bob, 2000 or sip:…', 'aria-label': 'Transfer to', 'data-key': 'to-' + c.id, autocomplete: 'off',
    value: c.transferTo || '', oninput: (ev) => { c.transferTo = ev.target.value; },
  });
  return h('form.row.transfer', { onsubmit: (ev) => { ev.preventDefault(); d.transfer(c, ev.submitter?.value || 'blind', to.value); } },
    to,
    h('button.btn', { type: 'submit', value: 'blind', 'data-action': 'transfer', 'data-key': 'transfer-' + c.id }, 'Transfer', h('kbd', 'Alt+T')),
    h('button.btn', { type: 'submit', value: 'consult', 'data-action': 'consult', 'data-key': 'consult-' + c.id }, 'Consult'));
}

function keypad(d, c) {
  const press = (k) => {
    try { c.dtmf(k); } catch (e) { d.error(e.message); }
  };
  const pad = h('div.keypad', { role: 'group', 'aria-label': 'Keypad' },
    [...'123456789*0#'].map((k) => h('button.btn', { type: 'button', 'data-digit': k, 'data-key': `key-${c.id}-${k}`, disabled: c.state !== 'connected', onclick: () => press(k) }, k)));
  pad.addEventListener('keydown', (ev) => {
    if (/^[0-9*#]$/.test(ev.key) && !ev.altKey) { ev.preventDefault(); press(ev.key); }
  });
  return h('details.keypad-box', { open: c.keypadOpen, ontoggle: (ev) => { c.keypadOpen = ev.target.open; } },
    h('summary', { 'data-key': 'keypad-' + c.id }, 'Keypad ', h('kbd', 'Alt+K')), pad);
}

function drawWrap(box, d) {
  if (!d.live || d.live.state !== 'wrap_up') {
    clear(box);
    return;
  }
  if (box.querySelector('form')) return; // keep what the agent typed
  const disp = h('input#wrap-disposition', { name: 'disposition', list: 'wrap-dispositions', maxlength: '200', 'data-key': 'wrap-disposition', autocomplete: 'off' });
  const notes = h('textarea#wrap-notes', { name: 'notes', maxlength: '4000', rows: '4', 'data-key': 'wrap-notes' });
  const last = d.lastCall;
  clear(box).appendChild(h('form.wrap-form', {
    'aria-labelledby': 'wrap-h',
    onsubmit: async (ev) => {
      ev.preventDefault();
      if (await d.wrapUp(disp.value.trim(), notes.value.trim())) clear(box);
    },
  },
  h('h3#wrap-h', 'Wrap-up'),
  h('p.small.muted', last ? `Call from ${last.from || 'unknown'}${last.flow ? ` (${last.flow})` : ''}.` : 'After your last call.',
    ' Until you finish, or the queue\'s wrap-up time ends, no call rings.'),
  h('label.field', h('span', 'Disposition'), disp),
  h('datalist#wrap-dispositions', DISPOSITIONS.map((x) => h('option', { value: x }))),
  h('label.field', h('span', 'Notes'), notes),
  h('button.btn.primary', { type: 'submit', 'data-key': 'wrap-submit' }, 'Finish wrap-up')));
}

function drawPop(box, d) {
  const c = d.current() || d.ringing();
  if (!c) {
    clear(box).appendChild(h('p.empty', 'The caller\'s details show here when a call rings.'));
    return;
  }
  clear(box).appendChild(popView(c.pop, c));
}

function shortcutsHelp() {
  return h('details.desk-shortcuts',
    h('summary', 'Keyboard shortcuts'),
    h('dl', SHORTCUTS.map(([, keys, what]) => h('div', h('dt', h('kbd', keys)), h('dd', what)))),
    h('p.small.muted', 'Tab moves through every control; in the keypad, type 0-9, * and #.'));
}

// deskKey runs the desk's Alt shortcuts.
function deskKey(d, ev) {
  if (!ev.altKey || ev.ctrlKey || ev.metaKey) return;
  const s = SHORTCUTS.find(([code]) => code === ev.code);
  if (!s) return;
  ev.preventDefault();
  const c = d.current();
  const ring = d.ringing();
  const click = (sel) => document.querySelector(sel)?.click();
  const focus = (sel) => document.querySelector(sel)?.focus();
  const callSel = (id) => `[data-call="${CSS.escape(id)}"]`;
  switch (s[0]) {
    case 'KeyA': if (ring) d.answer(ring); else d.chats.acceptFirst(); break;
    case 'KeyX': if (ring) d.decline(ring); break;
    case 'KeyH': if (c && c.state !== 'ringing') d.hangup(c); break;
    case 'KeyM': if (c && c.state === 'connected') c.mute(); break;
    case 'KeyO': if (c && c.state === 'connected') c.hold(); break;
    case 'KeyT': if (c) focus(`${callSel(c.id)} .transfer-to`); break;
    case 'KeyK':
      if (c) {
        const box = document.querySelector(`${callSel(c.id)} details.keypad-box`);
        if (box) { box.open = true; c.keypadOpen = true; }
        focus(`${callSel(c.id)} [data-digit="1"]`);
      }
      break;
    case 'KeyR': click('[data-state=available]'); break;
    case 'KeyB': click('[data-state=break]'); break;
    case 'KeyW': focus('#wrap-disposition'); break;
    case 'KeyC': d.chats.focusInput(); break;
  }
}
