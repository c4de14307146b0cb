// A modal confirmation (<dialog>) for what cannot be taken back with one
// click: cancel (with its reason), no-show, a move or resize of an
// appointment (old -> new), a change of hours that leaves appointments out.
// Resolves to false (the person went back) or { reason }.
import { t } from './i18n.js';

export function ask(h, { title, lines = [], reason = false, ok, danger = false }) {
  return new Promise((resolve) => {
    const old = document.getElementById('confirm-dialog');
    if (old) old.remove();
    const why = reason ? h('textarea', { id: 'dlg-reason', rows: 2, maxlength: '500', 'aria-required': 'true' }) : null;
    const err = h('p', { class: 'field-error', id: 'dlg-error', role: 'alert' });
    const form = h('form', { method: 'dialog', class: 'dlg-form' },
      h('h2', { id: 'dlg-title', text: title }),
      ...lines.map((l) => (l instanceof Node ? l : h('p', { class: 'dlg-line', text: l }))),
      why ? h('div', { class: 'field' }, h('label', { for: 'dlg-reason', text: t('reason') }), why) : null, err,
      h('div', { class: 'actions' },
        h('button', { type: 'button', id: 'dlg-back', value: 'back', text: t('go_back') }),
        h('button', { type: 'submit', id: 'dlg-ok', class: danger ? 'primary danger-fill' : 'primary', text: ok })));
    const dlg = h('dialog', { id: 'confirm-dialog', 'aria-labelledby': 'dlg-title' }, form);
    let done = false;
    const finish = (v) => { if (done) return; done = true; if (dlg.open) dlg.close(); dlg.remove(); resolve(v); };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (why && !why.value.trim()) { err.textContent = t('reason_required'); why.focus(); return; }
      finish({ reason: why ? why.value.trim() : null });
    });
    dlg.querySelector('#dlg-back').addEventListener('click', () => finish(false));
    dlg.addEventListener('cancel', (ev) => { ev.preventDefault(); finish(false); });
    document.body.append(dlg);
    dlg.showModal();
    (why || dlg.querySelector('#dlg-ok')).focus();
  });
}
