// voxflow web widget: one classic script, no dependencies, that any site
// embeds to let its visitors call or chat with a voxflow flow:
//
//   <script src="https://VOXFLOW_HOST/widget.js" data-number="1000" async></script>
//
// It adds a floating button and a panel (in a shadow root, so the site's
// styles and the widget's do not mix) and talks to the origin it was loaded
// from: click to call over WebRTC (socket /api/v1/ws/call: offer, answer,
// call with a resume token kept in sessionStorage; a keypad sends RFC 4733
// key presses; a dropped socket reconnects and resumes with an ICE restart)
// and web chat (socket /api/v1/ws/chat: start, or resume with the token
// kept in localStorage so a reload picks the chat up again). Attributes:
// data-number (required), data-label, data-title, data-voice="false",
// data-chat="false", data-color, data-from (the visitor's name as the flow
// sees it in call.from). docs/channels.md has the messages.
(function () {
  'use strict';
  const script = document.currentScript;
  if (!script || document.getElementById('voxflow-widget')) return;
  const ds = script.dataset;
  const origin = new URL(script.src, location.href).origin;
  const cfg = {
    number: (ds.number || '').trim(),
    label: ds.label || 'Call us · Chat',
    title: ds.title || 'Talk to us',
    voice: ds.voice !== 'false' && !!window.RTCPeerConnection,
    chat: ds.chat !== 'false',
    color: ds.color || '#0f766e',
    from: ds.from || '',
  };
  const wsBase = origin.replace(/^http/, 'ws') + '/api/v1/ws/';
  const callKey = `voxflow-call:${origin}:${cfg.number}`;
  const chatKey = `voxflow-chat:${origin}:${cfg.number}`;
  const MAX_TEXT = 2000;

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.vf { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #111827; }
button { font: inherit; cursor: pointer; border-radius: 8px; border: 1px solid #cbd5e1; background: #fff; color: #111827; padding: 7px 12px; }
button:disabled { opacity: .5; cursor: not-allowed; }
button:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
.launch { background: var(--vf-color); border: none; color: #fff; border-radius: 999px; padding: 12px 18px; font-weight: 600; box-shadow: 0 6px 20px rgba(0,0,0,.25); }
.panel { position: absolute; right: 0; bottom: 58px; width: 340px; max-width: calc(100vw - 40px); background: #fff; border-radius: 12px; box-shadow: 0 12px 40px rgba(0,0,0,.28); overflow: hidden; display: flex; flex-direction: column; max-height: min(560px, calc(100vh - 100px)); }
.panel[hidden] { display: none; }
.head { background: var(--vf-color); color: #fff; padding: 10px 14px; display: flex; align-items: center; justify-content: space-between; gap: 8px; }
.head h2 { margin: 0; font-size: 16px; }
.head button { background: transparent; border: none; color: #fff; padding: 2px 8px; font-size: 20px; line-height: 1; }
.body { padding: 12px 14px; overflow: auto; display: flex; flex-direction: column; gap: 10px; }
.choices { display: flex; gap: 8px; }
.choices button { flex: 1; padding: 10px; font-weight: 600; }
.primary { background: var(--vf-color); color: #fff; border-color: var(--vf-color); }
.danger { background: #b91c1c; color: #fff; border-color: #b91c1c; }
.status { font-size: 14px; color: #374151; min-height: 1.4em; }
.error { color: #b91c1c; font-size: 14px; margin: 10px 14px 0; }
.error:empty { display: none; }
.keypad { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px; }
.keypad button { padding: 9px 0; font-size: 17px; font-weight: 600; }
.row { display: flex; gap: 8px; flex-wrap: wrap; }
.row button { flex: 1; }
.log { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 6px; min-height: 120px; max-height: 300px; overflow-y: auto; }
.log li { padding: 6px 10px; border-radius: 10px; max-width: 85%; white-space: pre-wrap; word-wrap: break-word; }
.log li.from-you { align-self: flex-end; background: var(--vf-color); color: #fff; }
.log li.from-flow, .log li.from-agent { align-self: flex-start; background: #f1f5f9; }
.log li.note { align-self: center; background: none; color: #64748b; font-size: 13px; }
.who { display: block; font-size: 11px; opacity: .75; }
form { display: flex; gap: 6px; }
textarea { flex: 1; font: inherit; resize: none; border: 1px solid #cbd5e1; border-radius: 8px; padding: 6px 8px; height: 40px; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

  // el builds an element: el('button.primary', {type: 'button', onclick}, 'text').
  function el(tag, attrs, ...kids) {
    if (attrs instanceof Node || typeof attrs === 'string') {
      kids.unshift(attrs);
      attrs = null;
    }
    const [name, ...classes] = tag.split('.');
    const e = document.createElement(name);
    if (classes.length) e.className = classes.join(' ');
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const k of kids) if (k != null) e.append(k);
    return e;
  }

  // store reads and writes a storage without failing where it is blocked.
  function store(kind) {
    let s = null;
    try { s = window[kind]; } catch { /* third-party storage blocked */ }
    return {
      get: (k) => { try { return s ? s.getItem(k) : null; } catch { return null; } },
      set: (k, v) => { try { if (s) s.setItem(k, v); } catch { /* full or blocked */ } },
      del: (k) => { try { if (s) s.removeItem(k); } catch { /* blocked */ } },
    };
  }
  const session = store('sessionStorage');
  const local = store('localStorage');

  // ---- the frame: launcher and panel ----

  const host = el('div', { id: 'voxflow-widget' });
  const root = host.attachShadow({ mode: 'open' });
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS); // not subject to the site's style-src
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(el('style', { text: CSS }));
  }
  const wrap = el('div.vf', { part: 'widget' });
  wrap.style.setProperty('--vf-color', cfg.color);
  const panelId = 'vf-panel';
  const launch = el('button.launch', { type: 'button', 'aria-expanded': 'false', 'aria-controls': panelId, onclick: () => toggle() }, cfg.label);
  const errorBox = el('div.error', { role: 'alert' });
  const body = el('div.body');
  const closeBtn = el('button', { type: 'button', 'aria-label': 'Close', onclick: () => toggle(false) }, '×');
  const panel = el('div.panel', { id: panelId, role: 'dialog', 'aria-label': cfg.title, hidden: true },
    el('div.head', el('h2', { text: cfg.title }), closeBtn), errorBox, body);
  const audio = el('audio', { autoplay: true });
  wrap.append(panel, launch, audio);
  root.append(wrap);

  function toggle(open = panel.hidden) {
    panel.hidden = !open;
    launch.setAttribute('aria-expanded', String(open));
    if (open) (body.querySelector('button,textarea') || closeBtn).focus();
    else launch.focus();
  }
  panel.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') toggle(false); });

  function showError(msg) { errorBox.textContent = msg || ''; }

  function home() {
    if (!cfg.number) {
      body.replaceChildren(el('p', { text: 'This widget has no number to call (data-number).' }));
      return;
    }
    const choices = el('div.choices');
    if (cfg.voice) choices.append(el('button.primary', { type: 'button', 'data-action': 'call', onclick: () => voice.start() }, 'Call us'));
    if (cfg.chat) choices.append(el('button', { type: 'button', 'data-action': 'chat', onclick: () => chat.start() }, 'Chat'));
    body.replaceChildren(el('p', { text: 'Talk to us from your browser: no phone needed.' }), choices);
  }

  // backoff is the wait before reconnection attempt n (1, 2, ...).
  const backoff = (n) => Math.min(8000, 500 * 2 ** (n - 1)) * (0.75 + Math.random() / 2);

  // socket opens a signalling socket; on(msg) gets each message, onDrop()
  // a close the page did not ask for.
  function socket(path, on, onDrop) {
    const ws = new WebSocket(wsBase + path);
    let mine = false;
    ws.addEventListener('message', (ev) => {
      let m;
      try { m = JSON.parse(ev.data); } catch { return; }
      on(m);
    });
    ws.addEventListener('close', () => { if (!mine) onDrop(); });
    return {
      ws,
      send: (m) => { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m)); },
      opened: new Promise((ok, fail) => {
        ws.addEventListener('open', ok, { once: true });
        ws.addEventListener('error', () => fail(new Error('cannot reach the server')), { once: true });
      }),
      close: () => { mine = true; ws.close(); },
      drop: () => ws.close(), // a test hook: as if the network dropped it
    };
  }

  // gathered resolves once pc has gathered its candidates (the server does
  // not trickle), or after 5 s with what it has.
  function gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((ok) => {
      const t = setTimeout(done, 5000);
      function done() {
        clearTimeout(t);
        pc.removeEventListener('icegatheringstatechange', check);
        ok();
      }
      function check() { if (pc.iceGatheringState === 'complete') done(); }
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  async function offer(pc, opts) {
    await pc.setLocalDescription(await pc.createOffer(opts));
    await gathered(pc);
    return pc.localDescription.sdp;
  }

  // ---- voice ----

  const voice = {
    pc: null, mic: null, sock: null, token: '', callId: '', tries: 0, muted: false, started: 0, timer: 0, gen: 0,
    status: el('p.status', { role: 'status', 'aria-live': 'polite' }),

    async start() {
      showError('');
      session.del(callKey); // a call cut off by a reload cannot be resumed: its media went with the page
      this.waiting('Asking for your microphone…');
      const gen = ++this.gen;
      let mic;
      try {
        mic = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (e) {
        showError('The call needs your microphone: ' + (e.message || e.name));
        return home();
      }
      if (gen !== this.gen) return mic.getTracks().forEach((t) => t.stop()); // cancelled meanwhile
      this.mic = mic;
      this.pc = new RTCPeerConnection({ iceServers: [] });
      for (const t of this.mic.getAudioTracks()) this.pc.addTrack(t, this.mic);
      this.pc.addEventListener('track', (ev) => { audio.srcObject = ev.streams[0] || new MediaStream([ev.track]); });
      this.setStatus('Calling…');
      const sdp = await offer(this.pc);
      if (gen === this.gen) this.connect({ type: 'offer', sdp });
    },

    connect(first) {
      const q = `call?number=${encodeURIComponent(cfg.number)}` + (cfg.from ? `&from=${encodeURIComponent(cfg.from)}` : '');
      this.sock = socket(q, (m) => this.message(m), () => this.dropped());
      this.sock.opened.then(() => this.sock.send(first), () => { /* dropped() retries */ });
    },

    async message(m) {
      switch (m.type) {
        case 'answer':
          if (this.pc) await this.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp }).catch((e) => showError('The call\'s audio: ' + e.message));
          break;
        case 'call':
          this.tries = 0;
          this.callId = m.call_id;
          this.token = m.token;
          session.set(callKey, m.token);
          if (!this.started) this.talking();
          else this.setStatus('Connected');
          break;
        case 'ended':
          this.end('The call has ended.');
          break;
        case 'error':
          showError(m.message || m.code);
          if (!this.callId || m.code === 'not_found') this.end('');
          break;
      }
    },

    // dropped reconnects a live call's lost socket with backoff and resumes
    // it with an ICE restart; the server keeps the call for 30 s.
    async dropped() {
      if (!this.pc) return;
      if (!this.token) return this.end('The connection was lost.');
      this.tries++;
      if (this.tries > 8) return this.end('The connection was lost.');
      this.setStatus('Reconnecting…');
      await new Promise((ok) => setTimeout(ok, backoff(this.tries)));
      if (!this.pc) return;
      try {
        const sdp = await offer(this.pc, { iceRestart: true });
        this.connect({ type: 'resume', token: this.token, sdp });
      } catch (e) {
        this.end('The connection was lost: ' + e.message);
      }
    },

    talking() {
      this.started = Date.now();
      this.setStatus('Connected');
      const keys = el('div.keypad', { role: 'group', 'aria-label': 'Keypad' },
        ...'123456789*0#'.split('').map((k) => el('button', { type: 'button', 'data-key': k, onclick: () => this.press(k) }, k)));
      const mute = el('button', { type: 'button', 'aria-pressed': 'false', onclick: () => this.mute(mute) }, 'Mute');
      const hang = el('button.danger', { type: 'button', 'data-action': 'hangup', onclick: () => this.hangup() }, 'Hang up');
      const clock = el('span.status', { 'aria-hidden': 'true' });
      this.timer = setInterval(() => {
        const s = Math.floor((Date.now() - this.started) / 1000);
        clock.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      }, 1000);
      body.replaceChildren(this.status, clock, keys, el('div.row', mute, hang));
      keys.addEventListener('keydown', (ev) => { if (/^[0-9*#]$/.test(ev.key)) { ev.preventDefault(); this.press(ev.key); } });
      hang.focus();
    },

    press(k) {
      const sender = this.pc && this.pc.getSenders().find((s) => s.track && s.track.kind === 'audio');
      if (!sender || !sender.dtmf) return showError('Key presses are not supported by this browser.');
      sender.dtmf.insertDTMF(k, 120, 80);
      this.setStatus(`Sent ${k}`);
    },

    mute(btn) {
      this.muted = !this.muted;
      for (const t of this.mic.getAudioTracks()) t.enabled = !this.muted;
      btn.setAttribute('aria-pressed', String(this.muted));
      btn.textContent = this.muted ? 'Unmute' : 'Mute';
    },

    hangup() {
      if (this.sock) this.sock.send({ type: 'hangup' });
      this.end('You hung up.');
    },

    end(msg) {
      this.gen++;
      clearInterval(this.timer);
      if (this.sock) this.sock.close();
      if (this.pc) this.pc.close();
      if (this.mic) this.mic.getTracks().forEach((t) => t.stop());
      session.del(callKey);
      Object.assign(this, { pc: null, mic: null, sock: null, token: '', callId: '', tries: 0, muted: false, started: 0 });
      audio.srcObject = null;
      home();
      if (msg) body.prepend(el('p.status', { role: 'status' }, msg));
    },

    // waiting shows text and a way out until the call is connected.
    waiting(text) {
      this.setStatus(text);
      body.replaceChildren(this.status, el('div.row', el('button', { type: 'button', onclick: () => this.end('') }, 'Cancel')));
    },

    setStatus(t) {
      this.status.textContent = t;
      this.statuses = [...(this.statuses || []).slice(-19), t];
    },
  };

  // ---- chat ----

  const chat = {
    sock: null, token: local.get(chatKey) || '', callId: '', tries: 0, ended: false,
    log: el('ul.log', { role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' }),
    status: el('p.status', { role: 'status' }),

    start() {
      showError('');
      this.ended = false;
      this.view();
      this.connect();
    },

    connect() {
      this.sock = socket(`chat?number=${encodeURIComponent(cfg.number)}`, (m) => this.message(m), () => this.dropped());
      const first = this.token ? { type: 'resume', token: this.token } : { type: 'start' };
      this.setStatus(this.token ? 'Reconnecting…' : 'Connecting…');
      this.sock.opened.then(() => this.sock.send(first), () => { /* dropped() retries */ });
    },

    message(m) {
      switch (m.type) {
        case 'chat':
          this.tries = 0;
          this.callId = m.call_id;
          this.token = m.token;
          local.set(chatKey, m.token);
          this.setStatus('Connected');
          break;
        case 'message':
          this.catchingUp = false;
          this.line(m.from, m.text, m.at, m.name);
          break;
        case 'transcript': // a resumed chat: the conversation so far
          this.catchingUp = true;
          this.log.replaceChildren();
          for (const x of m.messages || []) this.line(x.from, x.text, x.at, x.name);
          break;
        case 'listen':
          this.setStatus('Your turn: type your answer.');
          this.input.focus();
          break;
        case 'agent':
          if (!this.catchingUp) this.note(`${m.name || 'An agent'} joined the chat.`);
          this.setStatus(`Chatting with ${m.name || 'an agent'}`);
          break;
        case 'agent_left':
          this.note(`${m.name || 'The agent'} left the chat.`);
          this.setStatus('Connected');
          break;
        case 'replaced':
          this.ended = true; // the chat went on in another tab: do not take it back
          if (this.sock) this.sock.close();
          this.setStatus('This chat is open in another tab or window.');
          break;
        case 'ended':
          this.finish('The chat has ended.');
          break;
        case 'error':
          showError(m.message || m.code);
          if (m.code === 'not_found') { this.token = ''; local.del(chatKey); this.finish(''); }
          break;
      }
    },

    async dropped() {
      if (this.ended) return;
      this.tries++;
      if (this.tries > 8 || !this.token) return this.finish('The connection was lost.');
      this.setStatus('Reconnecting…');
      await new Promise((ok) => setTimeout(ok, backoff(this.tries)));
      if (!this.ended) this.connect();
    },

    send(text) {
      text = text.trim();
      if (!text || !this.sock) return;
      if (text.length > MAX_TEXT) return showError(`A message holds at most ${MAX_TEXT} characters.`);
      showError('');
      this.sock.send({ type: 'message', text });
    },

    hangup() {
      if (this.sock) this.sock.send({ type: 'hangup' });
      this.finish('You ended the chat.');
    },

    finish(msg) {
      this.ended = true;
      if (this.sock) this.sock.close();
      this.sock = null;
      this.token = '';
      local.del(chatKey);
      this.input.disabled = true;
      this.endBtn.hidden = true;
      this.setStatus(msg);
      body.append(el('div.row', el('button', { type: 'button', onclick: () => home() }, 'Back')));
    },

    view() {
      this.log.replaceChildren();
      this.input = el('textarea', { name: 'message', maxlength: String(MAX_TEXT), 'aria-label': 'Your message', placeholder: 'Type a message…', rows: '1' });
      const form = el('form', { onsubmit: (ev) => { ev.preventDefault(); this.send(this.input.value); this.input.value = ''; } },
        this.input, el('button.primary', { type: 'submit' }, 'Send'));
      this.input.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
      });
      this.endBtn = el('button', { type: 'button', 'data-action': 'end-chat', onclick: () => this.hangup() }, 'End chat');
      body.replaceChildren(this.status, this.log, form, el('div.row', this.endBtn));
      this.input.focus();
    },

    line(from, text, at, name) {
      const who = from === 'you' ? 'You' : from === 'agent' ? (name || 'Agent') : 'Assistant';
      const when = at ? new Date(at) : new Date();
      const li = el('li', { class: 'from-' + from, 'data-from': from },
        el('span.who', { text: `${who} · ${when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` }), text);
      this.log.append(li);
      this.log.scrollTop = this.log.scrollHeight;
    },

    note(text) { this.log.append(el('li.note', { text })); },
    setStatus(t) { this.status.textContent = t; },
  };

  // A test hook and a small API for the page: state, and dropping the
  // sockets as a network blip would.
  host.voxflow = {
    get call() {
      return { id: voice.callId, token: voice.token, connected: !!voice.started, status: voice.status.textContent, statuses: voice.statuses || [] };
    },
    get chat() { return { id: chat.callId, token: chat.token, status: chat.status.textContent }; },
    pc: () => voice.pc,
    dropSockets() {
      if (voice.sock) voice.sock.drop();
      if (chat.sock) chat.sock.drop();
    },
  };

  home();
  (document.body || document.documentElement).append(host);
  if (chat.token && cfg.chat) { // a reload: pick the chat up again
    toggle(true);
    chat.start();
  }
})();
