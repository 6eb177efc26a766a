// Supervising live calls from the board: listen (the supervisor hears the
// caller and the agent, nobody hears the supervisor), whisper (the agent
// hears the supervisor, the caller does not) and barge (a three-way call),
// over the supervisor socket (GET /api/v1/ws/supervisor). The server
// allows it to supervisors and admins only and keeps every join, change
// and leave in the call's timeline.

import { PREFIX } from './api.js';
import { session } from './app.js';
import { gathered } from './softphone.js';

export const MODES = [['listen', 'Listen'], ['whisper', 'Whisper'], ['barge', 'Barge in']];

// mayMonitor mirrors the server's rule (designer-api Role.MayMonitor).
export function mayMonitor() {
  const r = session.user && session.user.role;
  return r === 'supervisor' || r === 'admin';
}

// Supervisor is one board's supervisor socket and the calls it monitors.
export class Supervisor {
  // changed() is called whenever a call's mode changes or an error comes.
  constructor(changed) {
    this.changed = changed;
    this.calls = new Map(); // call ID -> {mode, pc, mic, audio, pending}
    this.error = '';
    this.ws = null;
    this.hello = null;
  }

  // open connects once; it resolves with the server's hello.
  open() {
    if (this.hello) return this.hello;
    this.hello = new Promise((ok, fail) => {
      const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      const ws = new WebSocket(`${proto}//${location.host}${PREFIX}/ws/supervisor`);
      this.ws = ws;
      ws.addEventListener('message', (ev) => {
        const m = JSON.parse(ev.data);
        if (m.type === 'hello') { this.ice = m.ice_servers || []; ok(m); return; }
        this.onMessage(m);
      });
      ws.addEventListener('close', () => {
        this.hello = null;
        for (const id of [...this.calls.keys()]) this.drop(id);
        fail(new Error('the supervisor socket closed'));
      });
    });
    return this.hello;
  }

  modeOf(callID) { const c = this.calls.get(callID); return c ? c.mode : ''; }

  // set joins callID in mode, or switches to mode when already in.
  async set(callID, mode) {
    this.error = '';
    await this.open();
    const c = this.calls.get(callID);
    if (c) {
      c.pending = mode;
      this.ws.send(JSON.stringify({ type: 'mode', call_id: callID, mode }));
      return;
    }
    const pc = new RTCPeerConnection({ iceServers: this.ice });
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    mic.getTracks().forEach((t) => pc.addTrack(t, mic));
    const audio = document.createElement('audio');
    audio.autoplay = true;
    audio.dataset.monitor = callID;
    document.body.appendChild(audio);
    pc.addEventListener('track', (ev) => { audio.srcObject = ev.streams[0] || new MediaStream([ev.track]); });
    this.calls.set(callID, { mode: '', pending: mode, pc, mic, audio });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    this.ws.send(JSON.stringify({ type: 'monitor', call_id: callID, mode, sdp: pc.localDescription.sdp }));
    this.changed();
  }

  leave(callID) {
    if (this.ws && this.calls.has(callID)) this.ws.send(JSON.stringify({ type: 'leave', call_id: callID }));
  }

  async onMessage(m) {
    const c = this.calls.get(m.call_id);
    switch (m.type) {
      case 'monitoring':
        if (!c) return;
        await c.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
        c.mode = m.mode;
        break;
      case 'mode':
        if (c) c.mode = m.mode;
        break;
      case 'ended':
        this.drop(m.call_id);
        break;
      case 'error':
        this.error = m.message || m.code;
        // A refused join leaves nothing behind; a refused change keeps the mode.
        for (const [id, x] of this.calls) if (!x.mode) this.drop(id);
        break;
      default:
        return;
    }
    this.changed();
  }

  drop(callID) {
    const c = this.calls.get(callID);
    if (!c) return;
    this.calls.delete(callID);
    c.pc.close();
    c.mic.getTracks().forEach((t) => t.stop());
    c.audio.remove();
    this.changed();
  }

  close() {
    if (this.ws) this.ws.close();
  }
}
