// The agent desk's WebRTC softphone: one DeskCall per call on the desk.
// The server (media/browser) does not trickle candidates, so every offer
// is sent once ICE gathering completed. The desk's socket carries the
// signalling (agent.js): answer -> connected, restart -> answer.

// gathered resolves once pc has gathered its candidates, or after limit ms
// with what it has (a slow STUN server must not hold a call up).
export function gathered(pc, limit = 5000) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((ok) => {
    const t = setTimeout(done, limit);
    function done() {
      clearTimeout(t);
      pc.removeEventListener('icegatheringstatechange', check);
      ok();
    }
    function check() { if (pc.iceGatheringState === 'complete') done(); }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

// audioBox holds the calls' <audio> elements outside the views, so a call
// keeps playing while the page redraws or shows another screen.
function audioBox() {
  let box = document.getElementById('desk-audio');
  if (!box) {
    box = document.createElement('div');
    box.id = 'desk-audio';
    box.hidden = true;
    document.body.appendChild(box);
  }
  return box;
}

// DeskCall is one call offered to or connected on the desk.
export class DeskCall {
  // ring is the server's ring message; send(msg) writes to the desk's
  // socket; changed() redraws.
  constructor(ring, { iceServers, send, changed }) {
    this.id = ring.call_id;
    this.from = ring.from || '';
    this.to = ring.to || '';
    this.channel = ring.channel || '';
    this.pop = ring.screen_pop || null;
    this.iceServers = iceServers || [];
    this.send = send;
    this.changed = changed;
    this.state = 'ringing'; // ringing, answering, connected, ended
    this.muted = false;
    this.held = false;
    this.consult = null; // {to, up}: up once the consulted party answered
    this.transferred = '';
    this.since = Date.now();
    this.pc = null;
    this.mic = null;
    this.stream = null;
    this.audio = null;
    this.restarting = null;
  }

  // answer takes the microphone, offers and sends the answer message; the
  // server's connected message completes it (connected()).
  async answer() {
    this.state = 'answering';
    this.changed();
    this.mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    for (const t of this.mic.getAudioTracks()) pc.addTrack(t, this.mic);
    pc.addEventListener('track', (ev) => this.play(ev.streams[0] || new MediaStream([ev.track])));
    pc.addEventListener('connectionstatechange', () => this.changed());
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    if (this.state === 'ended') return;
    this.send({ type: 'answer', call_id: this.id, sdp: pc.localDescription.sdp });
  }

  play(stream) {
    this.stream = stream;
    if (!this.audio) {
      this.audio = document.createElement('audio');
      this.audio.autoplay = true;
      this.audio.dataset.call = this.id;
      audioBox().appendChild(this.audio);
    }
    this.audio.srcObject = stream;
    this.audio.play().catch(() => { /* autoplay: the answer click allows it */ });
  }

  async connected(sdp) {
    if (!this.pc) return; // closed meanwhile
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.state = 'connected';
    this.since = Date.now();
    this.changed();
  }

  // restart restarts ICE after the desk's socket came back (or the network
  // changed): a new offer with fresh ICE credentials, answered by the
  // server's answer message (answered()).
  async restart() {
    const pc = this.pc;
    if (!pc || this.state === 'ended') return;
    if (pc.signalingState === 'have-local-offer') await pc.setLocalDescription({ type: 'rollback' });
    if (pc.restartIce) pc.restartIce();
    await pc.setLocalDescription(await pc.createOffer({ iceRestart: true }));
    await gathered(pc);
    this.restarting = Date.now();
    this.restarts = (this.restarts || 0) + 1;
    this.send({ type: 'restart', call_id: this.id, sdp: pc.localDescription.sdp });
  }

  async answered(sdp) {
    if (!this.pc || this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    this.restarting = null;
    this.changed();
  }

  mute(on = !this.muted) {
    this.muted = on;
    if (this.mic) for (const t of this.mic.getAudioTracks()) t.enabled = !on;
    this.changed();
  }

  // hold asks the server to hold or resume the caller; its held message
  // says when it did (agent.js sets held).
  hold(on = !this.held) {
    this.send({ type: 'hold', call_id: this.id, on });
  }

  // dtmf sends key presses (RFC 4733 in the media).
  dtmf(keys) {
    const s = this.pc && this.pc.getSenders().find((x) => x.track && x.track.kind === 'audio');
    if (!s || !s.dtmf) throw new Error('this browser cannot send key presses on the call');
    s.dtmf.insertDTMF(keys, 120, 80);
  }

  // stats sums the call's audio RTP: packets received and sent.
  async stats() {
    const out = { packetsReceived: 0, packetsSent: 0, bytesReceived: 0, bytesSent: 0 };
    if (!this.pc) return out;
    (await this.pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out.packetsReceived += r.packetsReceived || 0;
        out.bytesReceived += r.bytesReceived || 0;
      }
      if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        out.packetsSent += r.packetsSent || 0;
        out.bytesSent += r.bytesSent || 0;
      }
    });
    return out;
  }

  // close ends the call's media (the server was told, or told us).
  close() {
    this.state = 'ended';
    if (this.pc) this.pc.close();
    if (this.mic) this.mic.getTracks().forEach((t) => t.stop());
    if (this.audio) {
      this.audio.srcObject = null;
      this.audio.remove();
    }
    this.pc = null;
    this.mic = null;
  }
}
