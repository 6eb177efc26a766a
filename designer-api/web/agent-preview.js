// Preview dialling on the agent desk (/agent): the "Campaign calls" panel,
// shown while a running preview campaign uses one of the agent's queues
// (GET /agents/{name}/preview-campaigns, polled). The agent takes the next
// contact (POST /campaigns/{id}/preview/next), reads its record (the CSV
// row's columns and the attempts so far), then calls it (.../dial: the
// campaign dials, and once they answer the call rings this desk, or the
// agent's phone, like any queue call) or passes it over (.../skip: back to
// the list, or never again with a reason). A reloaded desk offers again
// the contact the agent held (the list names it).

import { request } from './api.js';
import { h, clear } from './ui.js';

// REFRESH_MS is how often the list is read: campaigns start and stop, and
// their pending counts move, without telling the desk.
const REFRESH_MS = 15_000;

const enc = encodeURIComponent;

const OUTCOME = {
  answered_human: 'answered', answered_machine: 'answering machine', busy: 'busy', no_answer: 'no answer',
  failed: 'failed', invalid_number: 'invalid number', dnc: 'do not call', abandoned: 'abandoned',
};

// attemptsText says how often contact k was called before the dial in
// hand (its claim counted one attempt already).
export function attemptsText(k) {
  const before = Math.max(0, (k.attempts || 0) - 1);
  if (!before) return 'Not called before.';
  const last = k.last_outcome ? ` (last: ${OUTCOME[k.last_outcome] || k.last_outcome})` : '';
  return `Called ${before} time${before > 1 ? 's' : ''} before${last}.`;
}

// timeText is an instant as the agent's wall clock shows it.
function timeText(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export class PreviewPanel {
  // agent: the desk's agent; changed: redraw the desk.
  constructor({ agent, changed }) {
    this.agent = agent;
    this.changed = changed;
    this.campaigns = []; // PreviewCampaign: id, name, queue, pending, due, next_due, held
    this.chosen = ''; // the campaign picked, when there are several
    this.contact = null; // the contact in hand
    this.campaignOf = ''; // its campaign
    this.phase = ''; // '' (none in hand), 'offered' or 'called'
    this.busy = ''; // the request in flight: next, call or skip
    this.status = ''; // what happened last, in words
    this.problem = ''; // what went wrong last, in words
    this.listProblem = ''; // why the list could not be read
    this.skipOpen = false;
    this.skipReason = '';
    this.skipFinal = false;
    this.closed = false;
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  close() {
    this.closed = true;
    clearInterval(this.timer);
  }

  async refresh() {
    try {
      const r = await request('GET', `/agents/${enc(this.agent)}/preview-campaigns`);
      if (this.closed) return;
      this.campaigns = (r.data && r.data.campaigns) || [];
      this.listProblem = '';
      if (!this.contact && !this.busy) this.adoptHeld();
    } catch (e) {
      if (this.closed) return;
      this.listProblem = `The campaign list could not be read: ${e.message}`;
    }
    this.changed();
  }

  // adoptHeld takes in hand a contact the agent claimed earlier (before a
  // reload) and has not dialled.
  adoptHeld() {
    const c = this.campaigns.find((x) => (x.held || []).length);
    if (!c) return;
    this.take(c.held[0], c.id, 'offered');
    this.status = 'You still hold this contact: call it or skip it.';
  }

  take(contact, campaign, phase) {
    this.contact = contact;
    this.campaignOf = campaign;
    this.phase = phase;
    this.skipOpen = false;
    this.skipReason = '';
    this.skipFinal = false;
  }

  drop() {
    this.contact = null;
    this.campaignOf = '';
    this.phase = '';
    this.skipOpen = false;
  }

  // current is the campaign the next contact comes from: the one picked,
  // else the first with a contact due, else the first.
  current() {
    return this.campaigns.find((c) => c.id === this.chosen) || this.campaigns.find((c) => c.due) || this.campaigns[0] || null;
  }

  // act runs one request with the panel busy; a refusal is shown, and a
  // contact no longer ours (409 on it) is dropped.
  async act(kind, fn) {
    if (this.busy) return;
    this.busy = kind;
    this.problem = '';
    this.changed();
    try {
      await fn();
    } catch (e) {
      this.problem = e.message || String(e);
      if (e.status === 409 && kind !== 'next' && /not offered|was dialled/.test(this.problem)) this.drop();
    } finally {
      this.busy = '';
    }
    await this.refresh();
  }

  next() {
    const c = this.current();
    if (!c) return Promise.resolve();
    return this.act('next', async () => {
      const r = await request('POST', `/campaigns/${enc(c.id)}/preview/next`);
      this.status = '';
      if (r.status === 204 || !r.data) {
        this.drop();
        this.status = `No contact of ${c.name} is due now.`;
        return;
      }
      this.take(r.data, c.id, 'offered');
    });
  }

  call() {
    const k = this.contact;
    if (!k || this.phase !== 'offered') return Promise.resolve();
    return this.act('call', async () => {
      await request('POST', `/campaigns/${enc(this.campaignOf)}/preview/${k.id}/dial`);
      this.phase = 'called';
      this.skipOpen = false;
      this.status = `Calling ${k.number}… When they answer, the call rings here (or on your phone).`;
    });
  }

  skip() {
    const k = this.contact;
    if (!k || this.phase !== 'offered') return Promise.resolve();
    const body = { reason: this.skipReason.trim(), final: this.skipFinal };
    return this.act('skip', async () => {
      const r = await request('POST', `/campaigns/${enc(this.campaignOf)}/preview/${k.id}/skip`, { body });
      this.drop();
      this.status = r.data && r.data.state === 'skipped'
        ? `${k.number} will not be called again (${r.data.skip_reason}).`
        : `${k.number} is back in the list.`;
    });
  }

  // sig is what the panel shows: the desk redraws it when this changes
  // (what the agent types in the skip form is kept here, not in it).
  sig() {
    // While the agent writes a reason, a new count does not redraw the form.
    const list = this.skipOpen ? null : this.campaigns;
    return [list, this.chosen, this.contact, this.phase, this.busy, this.status, this.problem, this.listProblem, this.skipOpen];
  }

  // draw fills box, hidden while no preview campaign needs the agent.
  draw(box) {
    const show = this.campaigns.length > 0 || !!this.contact;
    box.hidden = !show;
    clear(box);
    if (!show) return;
    box.append(...[
      h('h3#desk-preview-h', 'Campaign calls'),
      this.campaignLine(),
      this.listProblem ? h('div.alert.warn', { role: 'status' }, this.listProblem) : null,
      this.problem ? h('div.alert.error', { role: 'alert', 'data-preview-problem': '' }, this.problem) : null,
      this.status ? h('p.small.preview-status', { role: 'status', 'data-preview-status': this.phase || 'none' }, this.status) : null,
      this.contact ? contactCard(this.contact, this.phase) : null,
      this.buttons(),
    ].flat().filter(Boolean)); // DOM append would write null as text
  }

  campaignLine() {
    const c = this.current();
    if (!c) return h('p.small.muted', 'No preview campaign runs on your queues now.');
    const due = c.due ? '' : c.next_due ? ` · next due at ${timeText(c.next_due)}` : ' · none due';
    const facts = (x) => `${x.pending} pending${x === c ? due : ''}`;
    if (this.campaigns.length === 1) {
      return h('p.small.preview-campaign', { 'data-preview-campaign': c.id },
        h('strong', c.name || c.id), ` (queue ${c.queue}) · `, h('span', { 'data-preview-pending': String(c.pending) }, facts(c)));
    }
    return h('label.field.preview-campaign', { 'data-preview-campaign': c.id }, h('span', 'Campaign'),
      h('select', {
        'data-key': 'preview-campaign', disabled: !!this.contact && this.phase === 'offered',
        onchange: (ev) => { this.chosen = ev.target.value; this.changed(); },
      }, this.campaigns.map((x) => h('option', { value: x.id, selected: x === c }, `${x.name || x.id} (${x.queue}) · ${facts(x)}`))));
  }

  buttons() {
    const busy = (kind, idle, doing) => (this.busy === kind ? doing : idle);
    if (this.phase !== 'offered') {
      return h('div.row.preview-actions',
        h('button.btn.primary', {
          type: 'button', 'data-action': 'preview-next', 'data-key': 'preview-next', disabled: !!this.busy || !this.current(),
          onclick: () => this.next(),
        }, busy('next', 'Next contact', 'Getting a contact…')));
    }
    const actions = h('div.row.preview-actions',
      h('button.btn.primary', {
        type: 'button', 'data-action': 'preview-call', 'data-key': 'preview-call', disabled: !!this.busy, onclick: () => this.call(),
      }, busy('call', `Call ${this.contact.number}`, 'Calling…')),
      h('button.btn', {
        type: 'button', 'data-action': 'preview-skip', 'data-key': 'preview-skip', disabled: !!this.busy, 'aria-expanded': String(this.skipOpen),
        onclick: () => { this.skipOpen = !this.skipOpen; this.changed(); },
      }, 'Skip'));
    return [actions, this.skipOpen ? this.skipForm() : null];
  }

  skipForm() {
    return h('form.preview-skip', {
      'aria-label': 'Skip this contact', onsubmit: (ev) => { ev.preventDefault(); this.skip(); },
    },
    h('label.field', h('span', 'Reason (optional)'), h('input', {
      name: 'reason', maxlength: '200', autocomplete: 'off', 'data-key': 'preview-reason', value: this.skipReason,
      placeholder: 'wrong number, asked not to be called…', oninput: (ev) => { this.skipReason = ev.target.value; },
    })),
    h('label.preview-final', h('input', {
      type: 'checkbox', name: 'final', 'data-key': 'preview-final', checked: this.skipFinal,
      onchange: (ev) => { this.skipFinal = ev.target.checked; },
    }), ' Don\'t call again'),
    h('div.row',
      h('button.btn.danger-ghost', { type: 'submit', 'data-action': 'preview-skip-confirm', 'data-key': 'preview-skip-confirm', disabled: !!this.busy },
        this.busy === 'skip' ? 'Skipping…' : 'Skip contact'),
      h('button.btn.ghost', { type: 'button', 'data-key': 'preview-skip-cancel', onclick: () => { this.skipOpen = false; this.changed(); } }, 'Cancel')));
  }
}

// contactCard shows the contact's number, record and attempts so far.
function contactCard(k, phase) {
  const vars = Object.entries(k.vars || {}).sort(([a], [b]) => a.localeCompare(b));
  return h('article.preview-contact', { 'data-preview-contact': String(k.id), 'data-preview-phase': phase, 'aria-label': `Contact ${k.number}` },
    h('header.call-head',
      h('strong.call-from', k.number),
      h('span.chip', { class: phase === 'called' ? 'hot' : 'warn' }, phase === 'called' ? 'Called' : 'Not called yet')),
    h('p.small.muted', attemptsText(k), k.timezone ? ` Time zone ${k.timezone}.` : ''),
    vars.length
      ? h('dl.preview-vars', vars.map(([name, value]) => h('div', { 'data-var': name }, h('dt', name), h('dd', value))))
      : h('p.small.muted', 'No other columns.'));
}
