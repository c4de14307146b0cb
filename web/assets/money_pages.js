// The money pages of the staff app (issue 19): the cash close of a day
// (printable), commissions, and reports with an SVG chart, a table and a
// CSV link.  Rendered through the helpers app.js passes in.
import { api, qs } from './api.js';
import { money, locale } from './i18n.js';
import { mt, errText, cents } from './money_i18n.js';

const METHODS = ['CASH', 'CREDIT_CARD', 'DEBIT_CARD', 'TRANSFER', 'OTHER'];
const REPORTS = ['sales', 'by_service', 'top_services', 'by_professional', 'by_method', 'top_products', 'attendance', 'retention'];

// Today in the salon's time zone (the browser's may be a day ahead or behind).
let zone;
function localDay(offsetDays = 0) {
  const d = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat('en-CA', zone ? { timeZone: zone } : {}).format(d);
}
function fail(form, err, showErrors) { showErrors(form, Object.assign(err, { message: errText(err) })); }

// ---- cash close -------------------------------------------------------------------------
export async function renderCash({ h, field, screen, toast, showErrors, ctx, date }) {
  const branches = ctx.branches || [];
  zone = (branches[0] && branches[0].timezone) || (ctx.tenant && ctx.tenant.timezone) || undefined;
  const day = date || localDay();
  const branchSel = h('select', { id: 'cash-branch' }, branches.map((b) => h('option', { value: String(b.id), text: b.name })));
  const dateIn = h('input', { id: 'cash-date', type: 'date', value: day });
  const bar = h('form', { class: 'toolbar no-print', id: 'cash-bar' }, field(mt('branch'), branchSel, 'branch_id'), field(mt('date'), dateIn, 'date'),
    h('button', { type: 'submit', text: mt('refresh') }));
  const holder = h('div', { id: 'cash-body' });
  const load = async () => {
    const d = await api('GET', '/cash-close' + qs({ branch_id: branchSel.value, date: dateIn.value }));
    holder.replaceChildren(cashBody(d));
  };
  const cashBody = (d) => {
    const c = d.close;
    const table = h('table', { class: 'list', id: 'cash-methods' },
      h('thead', {}, h('tr', {}, [mt('method'), mt('paid_total'), mt('tips'), mt('refunded'), mt('net')].map((x) => h('th', { text: x })))),
      h('tbody', {}, METHODS.map((m) => { const x = (c ? c.by_method : d.by_method)[m]; return h('tr', { 'data-method': m }, h('td', { text: mt(m) }), h('td', { text: money(x.payments_cents) }), h('td', { text: money(x.tips_cents) }), h('td', { text: money(x.refunds_cents) }), h('td', { text: money(x.net_cents) })); })));
    const kids = [h('h2', { text: `${mt('cash_close')} · ${d.date}` }), table];
    if (c) {
      kids.push(h('dl', { class: 'facts', id: 'cash-closed' },
        h('dt', { text: mt('opening_float') }), h('dd', { text: money(c.opening_float_cents) }),
        h('dt', { text: mt('cash_in') }), h('dd', { text: money(c.cash_in_cents) }),
        h('dt', { text: mt('expected_cash') }), h('dd', { text: money(c.expected_cash_cents) }),
        h('dt', { text: mt('counted_cash') }), h('dd', { text: money(c.counted_cash_cents) }),
        h('dt', { text: mt('difference') }), h('dd', { id: 'cash-difference', class: c.difference_cents < 0 ? 'neg' : '', text: money(c.difference_cents) }),
        h('dt', { text: mt('notes') }), h('dd', { text: c.note || '—' })),
      h('p', { class: 'no-print actions' },
        h('button', { type: 'button', id: 'cash-print', onclick: () => window.print(), text: mt('print') }),
        h('a', { class: 'button', href: `/api/v1/cash-closes/${c.id}?format=csv`, download: '', text: 'CSV' })));
      return h('div', {}, ...kids);
    }
    const f = h('form', { class: 'inline-form no-print', id: 'cash-form' });
    const float = h('input', { type: 'number', min: '0', step: '0.01', value: '0' });
    const counted = h('input', { type: 'number', min: '0', step: '0.01' });
    const note = h('textarea', { rows: 2, maxlength: '2000' });
    f.append(h('p', { text: `${mt('cash_in')}: ${money(d.cash_in_cents)}` }), field(mt('opening_float'), float, 'opening_float_cents'),
      field(mt('counted_cash'), counted, 'counted_cash_cents'), field(mt('notes'), note, 'note'),
      h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', id: 'cash-submit', class: 'primary', text: mt('close_day') }));
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await api('POST', '/cash-closes', { branch_id: Number(branchSel.value), date: dateIn.value, opening_float_cents: cents(float), counted_cash_cents: cents(counted), note: note.value || null });
        toast(mt('saved')); await load();
      } catch (err) { fail(f, err, showErrors); }
    });
    kids.push(f);
    return h('div', {}, ...kids);
  };
  bar.addEventListener('submit', (ev) => { ev.preventDefault(); load().catch((err) => toast(errText(err), true)); });
  screen(mt('cash_close'), bar, holder);
  await load();
}

// ---- commissions ------------------------------------------------------------------------
export async function renderCommissions({ h, field, screen, toast, showErrors, ctx, role }) {
  const from = h('input', { id: 'com-from', type: 'date', value: localDay(-30) });
  const to = h('input', { id: 'com-to', type: 'date', value: localDay() });
  const bar = h('form', { class: 'toolbar no-print', id: 'com-bar' }, field(mt('from'), from, 'from'), field(mt('to'), to, 'to'), h('button', { type: 'submit', text: mt('refresh') }));
  const holder = h('div', { id: 'com-body' });
  const proName = (id) => { const p = (ctx.pros || []).find((x) => x.id === id); return p ? `${p.first_name} ${p.last_name}` : `#${id}`; };
  const load = async () => {
    const r = await api('GET', '/commissions' + qs({ from: from.value, to: to.value }));
    const rows = r.items.map((i) => h('tr', { 'data-pro': String(i.professional_id) },
      h('td', { text: proName(i.professional_id) }), h('td', { text: money(i.services_cents) }), h('td', { text: money(i.service_commission_cents) }),
      h('td', { text: money(i.product_commission_cents) }), h('td', { text: money(i.tips_cents) }), h('td', { class: 'total', text: money(i.total_cents) }),
      h('td', {}, i.paid ? mt('paid')
        : ['ADMIN', 'MANAGER'].includes(role) ? h('button', { type: 'button', class: 'mark-paid', onclick: async () => {
          try { await api('POST', '/commissions/pay', { professional_id: i.professional_id, from: from.value, to: to.value }); toast(mt('saved')); await load(); } catch (err) { toast(errText(err), true); }
        }, text: mt('mark_paid') }) : mt('unpaid'))));
    holder.replaceChildren(h('table', { class: 'list', id: 'com-table' },
      h('thead', {}, h('tr', {}, [mt('professional'), mt('services'), mt('commission'), mt('products'), mt('tips'), mt('total'), mt('status')].map((x) => h('th', { text: x })))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: '7', text: mt('none') })))));
  };
  bar.addEventListener('submit', (ev) => { ev.preventDefault(); load().catch((err) => toast(errText(err), true)); });
  screen(mt('commissions'), bar, holder);
  await load();
}

// ---- reports ----------------------------------------------------------------------------
function barChart(h, columns, rows) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 640, H = 220, P = 40;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  const el = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; svg.append(e); return e; };
  // The first numeric column is charted (money when its name ends in _cents).
  const vi = columns.findIndex((c, i) => i > 0 && rows.length && typeof rows[0][i] === 'number');
  const idx = vi < 0 ? 0 : vi;
  svg.setAttribute('aria-label', `${mt('chart_of')} ${mt('col_' + columns[idx])}`);
  el('line', { x1: P, y1: H - P, x2: W - P / 2, y2: H - P, class: 'axis' });
  if (!rows.length || vi < 0) { el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, mt('none')); return svg; }
  const vals = rows.map((r) => Number(r[idx]));
  const max = Math.max(...vals.map((v) => Math.abs(v)), 1);
  const step = (W - 1.5 * P) / rows.length;
  rows.forEach((r, i) => {
    const v = vals[i];
    const bh = (Math.abs(v) / max) * (H - 1.6 * P);
    const rect = el('rect', { x: P + 2 + i * step, y: H - P - bh, width: Math.max(2, step - 3), height: bh, class: 'bar' });
    const tt = document.createElementNS(NS, 'title');
    tt.textContent = `${r[0]}: ${columns[idx].endsWith('_cents') ? money(v) : v}`;
    rect.append(tt);
  });
  el('text', { x: P, y: 14, class: 'legend' }, `${mt('col_' + columns[idx])} ≤ ${columns[idx].endsWith('_cents') ? money(max) : max}`);
  el('text', { x: P, y: H - 10, class: 'legend' }, String(rows[0][0]));
  el('text', { x: W - P / 2, y: H - 10, 'text-anchor': 'end', class: 'legend' }, String(rows[rows.length - 1][0]));
  return svg;
}

function cell(col, v) {
  if (col.endsWith('_cents')) return money(v);
  if (col.endsWith('_pct')) return `${v.toLocaleString(locale())} %`;
  if (['CASH', 'CREDIT_CARD', 'DEBIT_CARD', 'TRANSFER', 'OTHER'].includes(v)) return mt(v);
  return String(v);
}

export async function renderReports({ h, field, screen, toast, ctx }) {
  const name = h('select', { id: 'rep-name' }, REPORTS.map((r) => h('option', { value: r, text: mt('rep_' + r) })));
  const group = h('select', { id: 'rep-group' }, ['day', 'week', 'month'].map((g) => h('option', { value: g, text: mt('group_' + g) })));
  const branch = h('select', { id: 'rep-branch' }, [h('option', { value: '', text: mt('all_branches') })].concat((ctx.branches || []).map((b) => h('option', { value: String(b.id), text: b.name }))));
  const from = h('input', { id: 'rep-from', type: 'date', value: localDay(-30) });
  const to = h('input', { id: 'rep-to', type: 'date', value: localDay() });
  const bar = h('form', { class: 'toolbar', id: 'rep-bar' }, field(mt('report'), name, 'name'), field(mt('group'), group, 'group'), field(mt('branch'), branch, 'branch_id'),
    field(mt('from'), from, 'from'), field(mt('to'), to, 'to'), h('button', { type: 'submit', text: mt('refresh') }));
  const holder = h('div', { id: 'rep-body' });
  const load = async () => {
    const params = { from: from.value, to: to.value, branch_id: branch.value, group: name.value === 'sales' ? group.value : undefined };
    const r = await api('GET', `/reports/${name.value}` + qs(params));
    const table = h('table', { class: 'list', id: 'rep-table' },
      h('thead', {}, h('tr', {}, r.columns.map((c) => h('th', { text: mt('col_' + c) })))),
      h('tbody', {}, r.rows.length ? r.rows.map((row) => h('tr', {}, row.map((v, i) => h('td', { text: cell(r.columns[i], v) }))))
        : h('tr', {}, h('td', { colspan: String(r.columns.length), text: mt('none') }))));
    const csvLink = h('a', { class: 'button', id: 'rep-csv', href: `/api/v1/reports/${name.value}` + qs({ ...params, format: 'csv' }), download: '', text: mt('export_csv') });
    holder.replaceChildren(barChart(h, r.columns, r.rows), table, h('p', {}, csvLink));
  };
  bar.addEventListener('submit', (ev) => { ev.preventDefault(); load().catch((err) => toast(errText(err), true)); });
  name.addEventListener('change', () => { group.disabled = name.value !== 'sales'; });
  screen(mt('reports'), bar, holder);
  await load();
}

// ---- sales (ticket) and products --------------------------------------------------------
export async function renderSales({ h, field, screen, toast, showErrors, ctx, role }) {
  const branchId = (ctx.user.branch_id || (ctx.branches[0] || {}).id);
  const [prods, stock] = await Promise.all([api('GET', '/products' + qs({ active: true, limit: 200 })),
    api('GET', '/stock' + qs({ branch_id: branchId }))]);
  const qty = Object.fromEntries(stock.items.map((s) => [s.product_id, s]));
  const table = h('table', { class: 'list', id: 'products-table' },
    h('thead', {}, h('tr', {}, ['SKU', mt('col_product'), mt('price'), mt('stock')].map((x) => h('th', { text: x })))),
    h('tbody', {}, prods.items.map((p) => h('tr', { 'data-sku': p.sku, class: qty[p.id] && qty[p.id].low ? 'low' : '' },
      h('td', { text: p.sku }), h('td', { text: p.name }), h('td', { text: money(p.price_cents) }),
      h('td', { class: 'qty', text: String(qty[p.id] ? qty[p.id].quantity : 0) })))));
  const kids = [table];
  if (['ADMIN', 'MANAGER'].includes(role)) {
    const pf = h('form', { class: 'inline-form', id: 'product-form' });
    const sku = h('input', { maxlength: '64' }), name = h('input', { maxlength: '200' });
    const price = h('input', { type: 'number', min: '0', step: '0.01' }), cost = h('input', { type: 'number', min: '0', step: '0.01', value: '0' });
    pf.append(h('h3', { text: mt('new_product') }), field('SKU', sku, 'sku'), field(mt('col_product'), name, 'name'), field(mt('price'), price, 'price_cents'),
      field(mt('cost'), cost, 'cost_cents'), h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', id: 'product-save', text: mt('save') }));
    pf.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api('POST', '/products', { sku: sku.value, name: name.value, price_cents: cents(price), cost_cents: cents(cost) }); toast(mt('saved')); await renderSales({ h, field, screen, toast, showErrors, ctx, role }); } catch (err) { fail(pf, err, showErrors); }
    });
    const rf = h('form', { class: 'inline-form', id: 'receipt-form' });
    const rp = h('select', {}, prods.items.map((p) => h('option', { value: String(p.id), text: `${p.sku} · ${p.name}` })));
    const rq = h('input', { type: 'number', min: '1', step: '1', value: '1' });
    rf.append(h('h3', { text: mt('receipt') }), field(mt('col_product'), rp, 'product_id'), field(mt('col_quantity'), rq, 'quantity'),
      h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', id: 'receipt-save', text: mt('save') }));
    rf.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api('POST', '/stock-movements', { branch_id: branchId, product_id: Number(rp.value), kind: 'RECEIPT', quantity: Number(rq.value) }); toast(mt('saved')); await renderSales({ h, field, screen, toast, showErrors, ctx, role }); } catch (err) { fail(rf, err, showErrors); }
    });
    kids.push(pf, rf);
  }
  // The ticket: product lines and up to two payment methods that add up to its total.
  const tf = h('form', { class: 'inline-form', id: 'ticket-form' });
  const lines = h('ul', { id: 'ticket-lines' });
  const items = [];
  const totalEl = h('p', { id: 'ticket-total', text: `${mt('total')}: ${money(0)}` });
  const total = () => items.reduce((n, x) => n + x.price * x.q, 0);
  const sp = h('select', { id: 'ticket-product' }, prods.items.map((p) => h('option', { value: String(p.id), text: `${p.sku} · ${p.name}` })));
  const sq = h('input', { id: 'ticket-qty', type: 'number', min: '1', step: '1', value: '1' });
  const payRows = [0, 1].map((i) => ({ method: h('select', { id: `ticket-method-${i}` }, METHODS.map((m) => h('option', { value: m, text: mt(m) }))),
    amount: h('input', { id: `ticket-amount-${i}`, type: 'number', min: '0', step: '0.01', value: '0' }) }));
  const add = h('button', { type: 'button', id: 'ticket-add', text: mt('add_line'), onclick: () => {
    const p = prods.items.find((x) => x.id === Number(sp.value));
    if (!p) return;
    items.push({ id: p.id, q: Number(sq.value) || 1, price: p.price_cents, label: `${p.sku} · ${p.name}` });
    lines.replaceChildren(...items.map((x) => h('li', { text: `${x.q} × ${x.label} · ${money(x.q * x.price)}` })));
    totalEl.textContent = `${mt('total')}: ${money(total())}`;
    payRows[0].amount.value = (total() / 100).toFixed(2);
  } });
  tf.append(h('h3', { text: mt('ticket') }), field(mt('col_product'), sp, 'product'), field(mt('col_quantity'), sq, 'quantity'), add, lines, totalEl,
    ...payRows.flatMap((r, i) => [field(`${mt('method')} ${i + 1}`, r.method, `payments[${i}].method`), field(`${mt('amount')} ${i + 1}`, r.amount, `payments[${i}].amount_cents`)]),
    h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', id: 'ticket-submit', class: 'primary', text: mt('charge') }));
  tf.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const payments = payRows.map((r) => ({ method: r.method.value, amount_cents: cents(r.amount) })).filter((p) => p.amount_cents > 0);
    try {
      await api('POST', '/sales', { branch_id: branchId, lines: items.map((x) => ({ product_id: x.id, quantity: x.q })), payments });
      toast(mt('saved')); await renderSales({ h, field, screen, toast, showErrors, ctx, role });
    } catch (err) { fail(tf, err, showErrors); }
  });
  kids.push(tf);
  screen(mt('sales'), ...kids);
}
