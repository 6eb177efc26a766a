// Web chats on the agent desk, over the desk's socket: a queue offers a
// chat ({"type":"chat_offer","call_id","from","to","screen_pop"}), the
// agent accepts (chat_accept) or declines (chat_decline); then the
// customer's lines arrive as chat_message, the agent's go out as
// chat_message with text, chat_end finishes it and chat_ended says the
// chat left the desk (the customer went, or the offer was withdrawn). The
// offer carries the conversation so far (transcript), shown on accepting.
// Several chats at once, one tab each.

import { h, clear } from './ui.js';
import { popView } from './screenpop.js';

const MAX_TEXT = 2000;

export class ChatPanel {
  // send(msg) writes to the desk's socket, changed() redraws the desk,
  // error(text) shows a problem.
  constructor({ send, changed, error }) {
    this.send = send;
    this.changed = changed;
    this.error = error;
    this.offers = new Map(); // call ID -> offer message
    this.chats = new Map(); // call ID -> {id, from, pop, lines, ended, unread, draft}
    this.active = '';
  }

  // handle takes a chat message of the socket; false for any other message.
  handle(m) {
    switch (m.type) {
      case 'chat_offer':
        this.offers.set(m.call_id, m);
        return true;
      case 'chat_cancelled':
      case 'chat_offer_cancelled':
        this.offers.delete(m.call_id);
        return true;
      case 'chat_message': {
        if (m.from === 'agent' && !m.echo) return true; // our own line, shown when sent
        const c = this.chat(m.call_id, m);
        c.lines.push({ from: m.from || 'customer', text: m.text || '', at: m.at ? Date.parse(m.at) : Date.now() });
        if (this.active !== c.id) c.unread++;
        return true;
      }
      case 'chat_ended': {
        this.offers.delete(m.call_id);
        const c = this.chats.get(m.call_id);
        if (c) c.ended = true;
        return true;
      }
    }
    return false;
  }

  // hello takes the chats the server still holds for the desk (a new
  // socket's hello): ours it no longer lists ended meanwhile; those this
  // page does not know (it was reloaded) come back without their history.
  hello(ids = []) {
    const up = new Set(ids);
    for (const c of this.chats.values()) if (!up.has(c.id)) c.ended = true;
    for (const id of up) {
      if (this.chats.has(id)) continue;
      const c = this.chat(id);
      c.lines.push({ from: 'note', text: 'Chat taken up again after a reload: earlier messages are not shown here.', at: Date.now() });
    }
  }

  chat(id, m = {}) {
    let c = this.chats.get(id);
    if (!c) {
      const offer = this.offers.get(id) || {};
      const lines = (offer.transcript || []).map((l) => ({ from: l.from, text: l.text, at: l.at ? Date.parse(l.at) : Date.now() }));
      c = { id, from: offer.from || 'customer', pop: offer.screen_pop || null, lines, ended: false, unread: 0, draft: '' };
      this.chats.set(id, c);
      if (!this.active) this.active = id;
    }
    return c;
  }

  accept(id) {
    if (!this.send({ type: 'chat_accept', call_id: id })) return;
    const c = this.chat(id);
    this.offers.delete(id);
    this.active = id;
    this.changed();
    this.focusInput();
    return c;
  }

  acceptFirst() {
    const id = this.offers.keys().next().value;
    if (id) this.accept(id);
  }

  decline(id) {
    this.send({ type: 'chat_decline', call_id: id });
    this.offers.delete(id);
    this.changed();
  }

  write(c, text) {
    text = text.trim();
    if (!text) return false;
    if (text.length > MAX_TEXT) {
      this.error(`A message holds at most ${MAX_TEXT} characters.`);
      return false;
    }
    if (!this.send({ type: 'chat_message', call_id: c.id, text })) return false;
    c.lines.push({ from: 'agent', text, at: Date.now() });
    c.draft = '';
    this.changed();
    return true;
  }

  end(c) {
    if (!c.ended) this.send({ type: 'chat_end', call_id: c.id });
    c.ended = true;
    this.changed();
  }

  closeTab(c) {
    this.chats.delete(c.id);
    if (this.active === c.id) this.active = this.chats.keys().next().value || '';
    this.changed();
  }

  select(id) {
    this.active = id;
    const c = this.chats.get(id);
    if (c) c.unread = 0;
    this.changed();
  }

  focusInput() {
    requestAnimationFrame(() => document.querySelector('.chat-panel textarea')?.focus());
  }

  close() {
    this.offers.clear();
    this.chats.clear();
  }

  draw(box) {
    const offers = [...this.offers.values()].map((o) => this.offerCard(o));
    if (!this.chats.size) {
      clear(box).append(...offers, offers.length ? null : h('p.empty', 'Chats a queue offers you show here.'));
      return;
    }
    const active = this.chats.get(this.active) || this.chats.values().next().value;
    this.active = active.id;
    active.unread = 0;
    clear(box).append(...offers, this.tabs(active), this.panel(active));
    const log = box.querySelector('.chat-log');
    if (log) log.scrollTop = log.scrollHeight;
  }

  offerCard(o) {
    return h('article.chat-offer', { 'data-chat-offer': o.call_id, 'aria-label': `Chat offered from ${o.from || 'a customer'}` },
      h('p', h('strong', 'Chat offered'), ` from ${o.from || 'a customer'}`,
        o.screen_pop && o.screen_pop.flow ? h('span.small.muted', ` · ${o.screen_pop.flow}${o.screen_pop.node ? ' at ' + o.screen_pop.node : ''}`) : null),
      h('div.row',
        h('button.btn.primary', { type: 'button', 'data-action': 'chat-accept', 'data-key': 'chat-accept-' + o.call_id, onclick: () => this.accept(o.call_id) }, 'Accept'),
        h('button.btn.danger-ghost', { type: 'button', 'data-action': 'chat-decline', 'data-key': 'chat-decline-' + o.call_id, onclick: () => this.decline(o.call_id) }, 'Decline')));
  }

  tabs(active) {
    const list = [...this.chats.values()];
    const bar = h('div.chat-tabs', { role: 'tablist', 'aria-label': 'Chats' }, list.map((c) => h('button.chat-tab', {
      type: 'button', role: 'tab', id: 'chat-tab-' + c.id, 'aria-controls': 'chat-panel', 'aria-selected': String(c === active),
      tabindex: c === active ? '0' : '-1', 'data-key': 'chat-tab-' + c.id, 'data-chat-tab': c.id, onclick: () => this.select(c.id),
    }, c.from, c.ended ? ' (ended)' : '', c.unread ? h('span.chip.hot', String(c.unread)) : null)));
    bar.addEventListener('keydown', (ev) => { // arrow keys move between tabs
      if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
      const i = list.indexOf(active) + (ev.key === 'ArrowRight' ? 1 : -1);
      const next = list[(i + list.length) % list.length];
      this.select(next.id);
      requestAnimationFrame(() => document.getElementById('chat-tab-' + next.id)?.focus());
    });
    return bar;
  }

  panel(c) {
    const input = h('textarea', {
      name: 'text', rows: '2', maxlength: String(MAX_TEXT), 'aria-label': `Message to ${c.from}`, 'data-key': 'chat-text-' + c.id,
      disabled: c.ended, value: c.draft, oninput: (ev) => { c.draft = ev.target.value; },
    });
    const form = h('form.chat-form', { onsubmit: (ev) => { ev.preventDefault(); if (this.write(c, input.value)) input.value = ''; } },
      input, h('button.btn.primary', { type: 'submit', disabled: c.ended, 'data-key': 'chat-send-' + c.id }, 'Send'));
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey) { ev.preventDefault(); form.requestSubmit(); }
    });
    const who = { customer: c.from, agent: 'You', flow: 'Flow', note: 'Note' };
    return h('div.chat-panel#chat-panel', { role: 'tabpanel', 'aria-labelledby': 'chat-tab-' + c.id, 'data-chat': c.id, 'data-chat-ended': String(c.ended) },
      h('ol.chat-log', { 'aria-live': 'polite', 'aria-label': `Conversation with ${c.from}` }, c.lines.map((l) => h('li', { class: 'from-' + l.from, 'data-from': l.from },
        h('span.small.muted', `${who[l.from] || l.from} · ${new Date(l.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`), h('div', l.text)))),
      c.ended ? h('p.small.muted', 'This chat has ended.') : null,
      form,
      h('div.row',
        c.ended
          ? h('button.btn', { type: 'button', 'data-action': 'chat-close', 'data-key': 'chat-close-' + c.id, onclick: () => this.closeTab(c) }, 'Close tab')
          : h('button.btn.danger-ghost', { type: 'button', 'data-action': 'chat-end', 'data-key': 'chat-end-' + c.id, onclick: () => this.end(c) }, 'End chat')),
      c.pop ? h('details.chat-pop', h('summary', 'Details from the flow'), popView(c.pop, { from: c.from, channel: 'chat' })) : null);
  }
}
