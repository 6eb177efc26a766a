// The designer's draft: validation as you type (POST /flows/validate and
// /flows/graph: diagnostics and the automatic layout), saving the draft
// (PUT with If-Match, so a concurrent edit is a conflict, not a loss) and
// the save status in the header.

import { api, ApiError } from './api.js';
import { h, clear, toast, debounce } from './ui.js';
import { navigate } from './app.js';

export function installDraft(d) {
  const { st, el, name } = d;

  let checkSeq = 0;
  d.check = debounce(async () => {
    const seq = ++checkSeq;
    const src = st.doc.text();
    try {
      const [g, v] = await Promise.all([
        st.doc.ok ? api.graphOfSource(src).catch((e) => e) : Promise.resolve(null),
        api.validate(src, name),
      ]);
      if (seq !== checkSeq) return;
      st.diags = v.data.diagnostics || [];
      if (g && !(g instanceof Error)) {
        st.auto = {};
        for (const n of g.data.nodes) if (n.placed === 'auto') st.auto[n.id] = { x: n.x, y: n.y };
      }
    } catch (e) {
      if (seq !== checkSeq) return;
      if (e instanceof ApiError && e.diagnostics.length) st.diags = e.diagnostics;
      else return;
    }
    d.renderGraph();
    d.renderProblems();
    d.markFieldErrors();
    if (st.tab === 'yaml') d.renderGutter();
  }, 250);

  let saving = null;
  d.save = debounce(async () => {
    if (saving) await saving.catch(() => {});
    saving = d.doSave();
    return saving;
  }, 600);

  d.doSave = async () => {
    if (st.conflict || st.saveState === 'saved') return;
    const src = st.doc.text();
    d.setSave('saving');
    try {
      const r = await api.saveDraft(name, src, st.etag);
      st.etag = r.etag || `"${r.data.etag}"`;
      st.revision = r.data.revision;
      st.hasDraft = true;
      d.setSave(st.doc.text() === src ? 'saved' : 'unsaved');
      if (st.doc.text() !== src) d.save();
    } catch (e) {
      if (e.status === 412 || e.status === 428) {
        st.conflict = true;
        d.setSave('conflict');
        el.banner.hidden = false;
        clear(el.banner).append('Someone else changed this draft: your edits were not saved. ',
          h('button.btn.small', { type: 'button', onclick: () => navigate(location.pathname, { replace: true }) }, 'Reload their version'));
      } else {
        d.setSave('error');
        toast(`Saving failed: ${e.message}`, 'error');
      }
    }
  };

  d.setSave = (s) => {
    st.saveState = s;
    const text = {
      saved: st.hasDraft ? `Draft r${st.revision} · saved` : st.latest ? `Published v${st.latest}` : 'Saved',
      unsaved: 'Unsaved changes', saving: 'Saving…', conflict: 'Conflict: not saved', error: 'Not saved',
    }[s];
    el.statusChip.textContent = text;
    el.statusChip.className = 'chip ' + ({ saved: st.hasDraft ? 'warn' : 'ok', unsaved: '', saving: '', conflict: 'bad', error: 'bad' }[s] || '');
  };

  // flush validates and saves now (before publishing, simulating, diffing).
  d.flush = async () => {
    d.check.cancel();
    await d.check.flush();
    if (st.saveState !== 'saved') {
      d.save.cancel();
      await (saving || Promise.resolve()).catch(() => {});
      await d.doSave();
    }
  };
}
