// The designer's versions: publish the draft, the list of versions with
// diffs (draft against live, each version against the one before),
// rollback, and the numbers bound to the flow.

import { api } from './api.js';
import { h, clear, toast, dialog, ago } from './ui.js';
import { can, bindForm, errorBox } from './app.js';

export function installVersions(d) {
  const { st, el, name } = d;

  d.publish = async () => {
    await d.flush();
    if (!st.hasDraft) {
      toast(st.latest ? `Nothing to publish: v${st.latest} is current. Edit the flow to make a draft.` : 'Nothing to publish', 'info');
      return;
    }
    if (st.diags.some((x) => x.severity === 'error')) {
      toast('Fix the errors before publishing (see Problems).', 'error');
      return;
    }
    const v = await dialog({
      title: `Publish ${name}`, ok: 'Publish',
      body: `The draft becomes version ${st.latest + 1}; new calls use it at once.`,
      fields: [{ name: 'note', label: 'Note (optional)', placeholder: 'What changed' }],
    });
    if (!v) return;
    try {
      const r = await api.publish(name, st.etag, v.note || undefined);
      const ver = r.data.version.version;
      st.latest = Math.max(st.latest, ver);
      if (!r.data.draft_kept) { st.hasDraft = false; st.etag = ''; }
      d.setSave('saved');
      toast(r.data.unchanged ? `Unchanged: v${ver} already has this source` : `Published v${ver}`, 'ok');
      if (st.side === 'history') d.renderSide();
      else d.showSide('history');
    } catch (e) {
      if (e.diagnostics && e.diagnostics.length) { st.diags = e.diagnostics; d.renderProblems(); d.renderGraph(); }
      toast(e.message, 'error');
    }
  };

  d.renderHistory = async () => {
    const box = h('div.history');
    el.sideBody.appendChild(box);
    let versions = [], numbers = [];
    try {
      [versions, numbers] = await Promise.all([
        api.versions(name).then((r) => r.data.versions).catch((e) => (e.status === 404 ? [] : Promise.reject(e))),
        api.numbers().then((r) => r.data.numbers || []),
      ]);
    } catch (e) {
      box.appendChild(errorBox(e));
      return;
    }
    if (st.side !== 'history') return;
    const diffBox = h('div.diff-box');
    const showDiff = async (from, to) => {
      clear(diffBox).appendChild(h('p.muted', 'Loading diff…'));
      try {
        await d.flush();
        const diff = (await api.diff(name, from, to)).data;
        clear(diffBox).append(h('div.diff-head', h('strong', `${diff.from} → ${diff.to}`),
          h('button.icon-btn', { type: 'button', 'aria-label': 'Close diff', onclick: () => clear(diffBox) }, '✕')),
        diff.identical ? h('p.muted', 'Identical.') : h('pre.diff', diff.unified.split('\n').map((l) => h('span', {
          class: l.startsWith('+++') || l.startsWith('---') ? 'meta' : l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : '',
        }, l + '\n'))));
      } catch (e) {
        clear(diffBox).appendChild(errorBox(e));
      }
    };
    box.append(h('div.hist-head', h('h2', 'Versions'),
      st.hasDraft && st.latest ? h('button.btn.small', { type: 'button', onclick: () => showDiff('latest', 'draft') }, 'Diff draft ↔ latest') : null));
    if (st.hasDraft) box.appendChild(h('div.version.draft', h('span.chip.warn', 'draft'), h('span', `revision ${st.revision}`), h('span.muted', 'not published')));
    if (!versions.length) box.appendChild(h('p.muted', 'Never published.'));
    box.appendChild(h('ol.versions', versions.map((v) => h('li.version', { dataset: { version: v.version } },
      h('div.v-line', h('span.chip', { class: v.version === st.latest ? 'ok' : '' }, `v${v.version}`),
        v.version === st.latest ? h('span.live-tag', 'live') : null,
        h('span.muted.small', `${ago(v.published_at)} by ${v.published_by}`)),
      v.note || v.rollback_of ? h('div.small', v.rollback_of ? `Rollback to v${v.rollback_of}` : '',
        v.note && !(v.rollback_of && /^roll ?back/i.test(v.note)) ? `${v.rollback_of ? ' · ' : ''}${v.note}` : '') : null,
      h('div.v-actions',
        h('button.btn.small.ghost', { type: 'button', onclick: () => showDiff(String(v.version), st.hasDraft ? 'draft' : 'latest') }, st.hasDraft ? 'Diff → draft' : 'Diff → live'),
        v.version > 1 ? h('button.btn.small.ghost', { type: 'button', onclick: () => showDiff(String(v.version - 1), String(v.version)) }, 'Changes') : null,
        can('publisher') && v.version !== st.latest ? h('button.btn.small.rollback', {
          type: 'button', 'data-rollback': v.version, onclick: async () => {
            const ok = await dialog({ title: `Roll back to v${v.version}?`, body: `Its source is published again as v${st.latest + 1}. Your draft is kept.`, ok: 'Roll back', danger: true });
            if (!ok) return;
            try {
              const r = await api.rollback(name, v.version);
              st.latest = Math.max(st.latest, r.data.version.version);
              toast(`Rolled back: v${r.data.version.version} has the source of v${v.version}`, 'ok');
              d.setSave(st.saveState);
              d.renderSide();
            } catch (e) { toast(e.message, 'error'); }
          },
        }, 'Roll back') : null)))));
    box.appendChild(diffBox);
    const mine = numbers.filter((n) => n.flow === name);
    box.append(h('h2', 'Numbers'),
      mine.length ? h('ul.numbers', mine.map((n) => h('li', h('span.mono', n.number), can('publisher') ? h('button.btn.small.ghost', {
        type: 'button', onclick: async () => { try { await api.unbindNumber(n.number); d.renderSide(); } catch (e) { toast(e.message, 'error'); } },
      }, 'Unbind') : null))) : h('p.muted.small', 'No number reaches this flow.'),
      can('publisher') && st.latest ? bindForm([name], () => d.renderSide()) : null);
  };
}
