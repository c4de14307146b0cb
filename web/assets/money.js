// The payments panel of an appointment (issue 19): what it costs, its
// discount, deposits, payments with tips, refunds; a cancelled or no-show
// appointment offers only its deposit's refund or retention.  Everything
// comes from GET /appointments/{id}/money, whose "actions" say what may be
// done now.
import { api, qs } from './api.js';
import { money } from './i18n.js';
import { mt, errText, cents } from './money_i18n.js';

const METHODS = ['CASH', 'CREDIT_CARD', 'DEBIT_CARD', 'TRANSFER', 'OTHER'];

function fail(form, err, showErrors) {
  showErrors(form, Object.assign(err, { message: errText(err) }));
}

export async function paymentsPanel({ h, field, toast, showErrors, fmtDateTime, zone, appt, rerender }) {
  const [m, pays] = await Promise.all([
    api('GET', `/appointments/${appt.id}/money`),
    api('GET', '/payments' + qs({ appointment_id: appt.id, limit: 200 })),
  ]);
  const has = (a) => m.actions.includes(a);
  const panel = h('section', { id: 'money', class: 'inline-form' });
  const done = async () => { toast(mt('saved')); await rerender(); };
  const methodSel = (value) => h('select', {}, METHODS.map((x) => h('option', { value: x, selected: x === value, text: mt(x) })));
  panel.append(h('h3', { text: mt('payments') }),
    h('dl', { class: 'facts', id: 'money-facts' },
      h('dt', { text: mt('price') }), h('dd', { text: money(m.price_cents) }),
      h('dt', { text: mt('discount') }), h('dd', { id: 'money-discount', text: m.discount ? `${money(m.discount.amount_cents)} · ${m.discount.reason}` : '—' }),
      h('dt', { text: mt('due') }), h('dd', { text: money(m.due_cents) }),
      h('dt', { text: mt('paid_total') }), h('dd', { id: 'money-paid', text: money(m.paid_cents) }),
      h('dt', { text: mt('balance') }), h('dd', { id: 'money-balance', text: money(m.balance_cents) }),
      h('dt', { text: mt('tips') }), h('dd', { id: 'money-tips', text: money(m.tips_cents) })));
  const list = h('ul', { id: 'payments' });
  for (const p of pays.items) {
    const li = h('li', { 'data-kind': p.kind },
      `${mt(p.kind)} · ${money(p.amount_cents)}${p.tip_cents ? ` + ${mt('tips').toLowerCase()} ${money(p.tip_cents)}` : ''} · ${mt(p.method)} · ${fmtDateTime(p.paid_at, zone)}${p.reason ? ` · ${p.reason}` : ''}`);
    if (p.kind === 'PAYMENT' && p.amount_cents + p.tip_cents > 0 && !['CANCELLED', 'NO_SHOW'].includes(m.status)) {
      li.append(' ', h('button', { type: 'button', class: 'link refund-open', onclick: () => li.append(refundForm(p, false)), text: mt('refund') }));
    }
    list.append(li);
  }
  panel.append(list);

  function refundForm(p, depositOnly) {
    const f = h('form', { class: 'inline-form refund-form' });
    const dep = m.deposits.find((d) => d.payment_id === p.id);
    const amount = h('input', { type: 'number', min: '0', step: '0.01', value: ((dep ? dep.available_cents : p.amount_cents) / 100).toFixed(2) });
    const tip = h('input', { type: 'number', min: '0', step: '0.01', value: '0' });
    const reason = h('input', { maxlength: '500', required: true });
    f.append(field(mt('amount'), amount, 'amount_cents'));
    if (!depositOnly && p.tip_cents > 0) f.append(field(mt('tip'), tip, 'tip_cents'));
    f.append(field(mt('reason'), reason, 'reason'), h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'submit', class: 'refund-submit', text: depositOnly ? mt('refund_deposit') : mt('refund') }));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', `/payments/${p.id}/refunds`, { amount_cents: cents(amount), tip_cents: cents(tip), reason: reason.value });
        await done();
      } catch (err) { fail(f, err, showErrors); }
    });
    return f;
  }

  if (['CANCELLED', 'NO_SHOW'].includes(m.status)) {
    panel.append(h('p', { id: 'money-closed', text: mt('closed_note') }));
    for (const d of m.deposits.filter((x) => x.available_cents > 0)) {
      const p = pays.items.find((x) => x.id === d.payment_id);
      const box = h('div', { class: 'actions deposit-actions' }, `${mt('deposit')} ${money(d.available_cents)}`);
      const retain = h('form', { class: 'inline-form retain-form' });
      const why = h('input', { maxlength: '500' });
      retain.append(field(mt('reason'), why, 'reason'), h('p', { class: 'form-error', role: 'alert' }),
        h('button', { type: 'submit', id: `retain-${d.payment_id}`, text: mt('retain_deposit') }));
      retain.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        try { await api('POST', `/payments/${d.payment_id}/retain`, { reason: why.value || null }); await done(); } catch (err) { fail(retain, err, showErrors); }
      });
      box.append(refundForm(p, true), retain);
      panel.append(box);
    }
    return panel;
  }

  if (has('pay')) {
    const pf = h('form', { class: 'inline-form', id: 'payment-form' });
    const amount = h('input', { type: 'number', min: '0', step: '0.01', value: (m.balance_cents / 100).toFixed(2) });
    const tip = h('input', { type: 'number', min: '0', step: '0.01', value: '0', id: 'pay-tip' });
    const method = methodSel('CASH');
    const kind = h('select', { id: 'pay-kind' }, ['PAYMENT'].concat(has('deposit') ? ['DEPOSIT'] : []).map((k) => h('option', { value: k, text: mt(k) })));
    pf.append(field(mt('kind'), kind, 'kind'), field(mt('amount'), amount, 'amount_cents'), field(mt('tip'), tip, 'tip_cents'),
      field(mt('method'), method, 'method'), h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'submit', id: 'pay', text: mt('record_payment') }));
    kind.addEventListener('change', () => { tip.disabled = kind.value === 'DEPOSIT'; });
    pf.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { appointment_id: appt.id, amount_cents: cents(amount), method: method.value, kind: kind.value };
      if (kind.value === 'PAYMENT') body.tip_cents = cents(tip);
      try { await api('POST', '/payments', body); await done(); } catch (err) { fail(pf, err, showErrors); }
    });
    panel.append(pf);
  }
  if (has('discount')) {
    const df = h('form', { class: 'inline-form', id: 'discount-form' });
    const kind = h('select', {}, ['PERCENT', 'AMOUNT'].map((k) => h('option', { value: k, text: mt(k) })));
    const value = h('input', { type: 'number', min: '0', step: '0.01' });
    const reason = h('input', { maxlength: '500', required: true });
    df.append(h('h4', { text: mt('discount') }), field(mt('kind'), kind, 'kind'), field(mt('value'), value, 'value'),
      field(mt('reason'), reason, 'reason'), h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'submit', id: 'give-discount', text: mt('give_discount') }));
    df.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const v = kind.value === 'PERCENT' ? Math.round(Number(value.value)) : cents(value);
      try { await api('POST', `/appointments/${appt.id}/discount`, { kind: kind.value, value: v, reason: reason.value }); await done(); } catch (err) { fail(df, err, showErrors); }
    });
    panel.append(df);
  }
  return panel;
}
