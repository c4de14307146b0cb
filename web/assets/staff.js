// The staff page (issue 16): who works here (create, edit, deactivate,
// password reset by an ADMIN), and for a professional the weekly hours at
// the branch (several intervals a day: the gaps are breaks) and time off.
// A change that leaves booked appointments outside lists them and asks.
import { api, qs, ApiError } from './api.js';
import { t } from './i18n.js';
import { errorText } from './errors.js';
import { ask } from './dialog.js';

const ROLES = ['ADMIN', 'MANAGER', 'RECEPTIONIST', 'PROFESSIONAL'];
const DAYS = [1, 2, 3, 4, 5, 6, 0];

// Send body; on 409 appointments_outside_hours list them, ask, and send again with confirm.
async function withConfirm(h, send, fmtDateTime) {
  try { return await send(false); } catch (err) {
    if (!(err instanceof ApiError && err.code === 'appointments_outside_hours')) throw err;
    const list = (err.body && err.body.appointments) || [];
    const ok = await ask(h, { title: t('outside_title'), ok: t('apply_anyway'), danger: true,
      lines: [t('outside_text'), h('ul', { id: 'outside-list' }, list.map((a) => h('li', { 'data-id': a.id,
        text: `${fmtDateTime(a.start)} · ${a.client_name || t('unknown_client')} · ${a.service_name || ''}` })))] });
    if (!ok) return null;
    return send(true);
  }
}

export async function renderStaff(env) {
  const { h, screen, toast, ctx, id } = env;
  const admin = ctx.user.role === 'ADMIN';
  const users = (await api('GET', '/users' + qs({ limit: 200 }))).items;
  const branchName = (bid) => { const b = ctx.branches.find((x) => x.id === bid); return b ? b.name : t('all_branches'); };
  const editing = id === 'new' ? {} : id ? users.find((u) => u.id === Number(id)) : null;
  const rows = users.map((u) => h('tr', { 'data-id': u.id, class: u.active ? null : 'inactive' },
    h('td', {}, h('a', { href: `#/staff/${u.id}`, text: `${u.first_name} ${u.last_name || ''}`.trim() })),
    h('td', { text: u.email }), h('td', { text: t('role_' + u.role) }), h('td', { text: branchName(u.branch_id) }),
    h('td', { text: u.active ? t('active') : t('inactive') }),
    h('td', {}, admin && u.id !== ctx.user.id ? h('button', { type: 'button', class: u.active ? 'danger staff-toggle' : 'staff-toggle', 'data-id': u.id,
      text: u.active ? t('deactivate') : t('activate'),
      onclick: async () => {
        if (u.active) {
          const ok = await ask(h, { title: t('ask_deactivate'), lines: [`${u.first_name} ${u.last_name || ''} · ${u.email}`, t('deactivate_text')], ok: t('deactivate'), danger: true });
          if (!ok) return;
        }
        try { await api('PATCH', `/users/${u.id}`, { active: !u.active }); toast(t('saved')); env.reload(); await renderStaff(env); } catch (err) { toast(errorText(err), true); }
      } }) : null)));
  const kids = [
    h('table', { class: 'list', id: 'staff-list' }, h('thead', {}, h('tr', {}, [t('name'), t('email'), t('role'), t('branch'), t('status'), ''].map((x) => h('th', { text: x })))), h('tbody', {}, rows)),
    admin ? h('div', { class: 'actions' }, h('a', { class: 'button', id: 'staff-new', href: '#/staff/new', text: '+ ' + t('new_staff') })) : null,
  ];
  if (editing) kids.push(...await staffDetail({ ...env, u: editing, admin }));
  else if (id) kids.push(h('p', { class: 'form-error', role: 'alert', text: errorText({ code: 'not_found' }) }));
  screen(t('staff'), ...kids);
  const first = document.querySelector('#staff-form input');
  if (first && id) first.focus();
}

async function staffDetail(env) {
  const { h, field, toast, showErrors, ctx, u, admin } = env;
  const isNew = !u.id;
  const out = [];
  const form = h('form', { class: 'card', id: 'staff-form', novalidate: true });
  const inputs = {};
  for (const [k, type] of [['first_name', 'text'], ['last_name', 'text'], ['email', 'email'], ['phone', 'tel']]) {
    inputs[k] = h('input', { type, disabled: !admin });
    inputs[k].value = u[k] || '';
    form.append(field(t(k), inputs[k], k));
  }
  const roleSel = h('select', { disabled: !admin }, ROLES.map((r) => h('option', { value: r, selected: (u.role || 'PROFESSIONAL') === r, text: t('role_' + r) })));
  const branchSel = h('select', { disabled: !admin }, h('option', { value: '', text: t('all_branches') }),
    ctx.branches.map((b) => h('option', { value: b.id, selected: u.branch_id === b.id, text: b.name })));
  form.append(field(t('role'), roleSel, 'role'), field(t('branch'), branchSel, 'branch_id'));
  const pw = h('input', { type: 'password', autocomplete: 'new-password' });
  if (isNew) form.append(field(t('password'), pw, 'password'));
  form.append(h('p', { class: 'form-error', role: 'alert' }));
  if (admin) form.append(h('button', { type: 'submit', class: 'primary', id: 'staff-save', text: t('save') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { first_name: inputs.first_name.value.trim(), last_name: inputs.last_name.value.trim(), email: inputs.email.value.trim(),
      phone: inputs.phone.value.trim() || null, role: roleSel.value, branch_id: branchSel.value ? Number(branchSel.value) : null };
    if (isNew) body.password = pw.value;
    try {
      const saved = isNew ? await api('POST', '/users', body) : await api('PATCH', `/users/${u.id}`, body);
      toast(t('saved'));
      env.reload();  // the agenda's list of professionals is read again
      env.go(`#/staff/${saved.id}`);
    } catch (err) { showErrors(form, err); }
  });
  out.push(h('h2', { text: isNew ? t('new_staff') : `${u.first_name} ${u.last_name || ''}`.trim() }), form);
  if (isNew) return out;
  if (admin) {
    const pf = h('form', { class: 'inline-form', id: 'password-form', novalidate: true });
    const npw = h('input', { type: 'password', autocomplete: 'new-password' });
    pf.append(h('h3', { text: t('reset_password') }), h('p', { class: 'muted', text: t('reset_password_help') }), field(t('new_password'), npw, 'password'),
      h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', id: 'password-save', text: t('reset_password') }));
    pf.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try { await api('POST', `/users/${u.id}/password`, { password: npw.value }); npw.value = ''; toast(t('password_set')); } catch (err) { showErrors(pf, err); }
    });
    out.push(pf);
  }
  if (u.role === 'PROFESSIONAL' && ['ADMIN', 'MANAGER'].includes(ctx.user.role)) {
    out.push(await hoursEditor(env));
    out.push(await timeOff(env));
  }
  return out;
}

async function hoursEditor({ h, toast, showErrors, branch, fmtDateTime, u }) {
  const all = (await api('GET', '/working-hours' + qs({ branch_id: branch }))).items;
  const own = all.filter((w) => w.user_id === u.id);
  const form = h('form', { class: 'card', id: 'pro-hours-form', novalidate: true });
  const rows = [];
  const table = h('div', { class: 'hours-days' });
  const addRow = (box, day, from, to) => {
    const start = h('input', { type: 'time', value: from, class: 'wh-start', 'data-day': day, 'aria-label': `${t('weekday')[day]} · ${t('from')}` });
    const end = h('input', { type: 'time', value: to, class: 'wh-end', 'data-day': day, 'aria-label': `${t('weekday')[day]} · ${t('to')}` });
    const row = { day, start, end };
    const el = h('div', { class: 'row wh-row', 'data-day': day }, start, '–', end,
      h('button', { type: 'button', class: 'wh-remove', 'aria-label': `${t('remove')} · ${t('weekday')[day]}`, text: '✕', onclick: () => { rows.splice(rows.indexOf(row), 1); el.remove(); } }));
    rows.push(row);
    box.append(el);
  };
  for (const d of DAYS) {
    const box = h('div', { class: 'wh-list' });
    table.append(h('div', { class: 'wh-day', 'data-day': d }, h('strong', { text: t('weekday')[d] }), box,
      h('button', { type: 'button', class: 'wh-add', 'data-day': d, 'aria-label': `${t('add_interval')} · ${t('weekday')[d]}`, text: '+ ' + t('add_interval'), onclick: () => addRow(box, d, '09:00', '14:00') })));
    for (const w of own.filter((x) => x.day_of_week === d).sort((a, b) => a.start_time.localeCompare(b.start_time))) addRow(box, d, w.start_time, w.end_time);
  }
  form.append(h('h3', { text: t('pro_hours') }), h('p', { class: 'muted', text: own.length ? t('breaks_help') : t('pro_hours_default') }), table,
    h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', class: 'primary', id: 'pro-hours-save', text: t('save') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const hours = rows.map((r) => ({ day_of_week: r.day, start_time: r.start.value, end_time: r.end.value }));
    try {
      const r = await withConfirm(h, (confirm) => api('PUT', '/working-hours' + (confirm ? '?confirm=1' : ''),
        { branch_id: branch, user_id: u.id, hours, ...(confirm ? { confirm: true } : {}) }), fmtDateTime);
      if (r !== null) toast(t('saved'));
    } catch (err) { showErrors(form, err); }
  });
  return form;
}

// The UTC offset ("-06:00") of zone at the wall time local ("2026-12-07T10:00").
function offsetAt(zone, local) {
  const guess = Date.parse(local + ':00Z');
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
    .formatToParts(new Date(guess)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
  const min = Math.round((wall - guess) / 60000);
  const a = Math.abs(min);
  return `${min < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

async function timeOff({ h, field, toast, showErrors, fmtDateTime, u, zone }) {
  const box = h('section', { class: 'card', id: 'time-off' }, h('h3', { text: t('time_off') }));
  const list = h('ul', { class: 'history', id: 'time-off-list' });
  const load = async () => {
    list.replaceChildren();
    let items = [];
    try { items = (await api('GET', '/time-off' + qs({ user_id: u.id }))).items || []; } catch (err) { list.append(h('li', { class: 'form-error', text: errorText(err) })); return; }
    for (const x of items) list.append(h('li', { 'data-id': x.id }, `${fmtDateTime(x.start_at || x.start)} – ${fmtDateTime(x.end_at || x.end)}${x.reason ? ' · ' + x.reason : ''} `,
      h('button', { type: 'button', class: 'danger time-off-del', 'data-id': x.id, text: t('remove'), onclick: async () => {
        const ok = await ask(h, { title: t('ask_remove_time_off'), lines: [`${fmtDateTime(x.start_at || x.start)} – ${fmtDateTime(x.end_at || x.end)}`], ok: t('remove'), danger: true });
        if (!ok) return;
        try { await api('DELETE', `/time-off/${x.id}`); toast(t('saved')); await load(); } catch (err) { toast(errorText(err), true); }
      } })));
    if (!items.length) list.append(h('li', { class: 'muted', text: t('none') }));
  };
  const form = h('form', { class: 'inline-form', id: 'time-off-form', novalidate: true });
  const from = h('input', { type: 'datetime-local' }), to = h('input', { type: 'datetime-local' }), reason = h('input', { maxlength: '200' });
  form.append(field(t('from_when'), from, 'start'), field(t('to_when'), to, 'end'), field(t('reason'), reason, 'reason'),
    h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', id: 'time-off-save', text: t('add_time_off') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    // datetime-local is the branch's wall time; the API takes it with the branch's offset.
    const off = (v) => (v ? `${v.slice(0, 16)}:00${offsetAt(zone, v.slice(0, 16))}` : '');
    try {
      const r = await withConfirm(h, (confirm) => api('POST', '/time-off' + (confirm ? '?confirm=1' : ''),
        { user_id: u.id, start: off(from.value), end: off(to.value), reason: reason.value.trim() || null, ...(confirm ? { confirm: true } : {}) }), fmtDateTime);
      if (r !== null) { toast(t('saved')); from.value = ''; to.value = ''; reason.value = ''; await load(); }
    } catch (err) { showErrors(form, err); }
  });
  box.append(list, form);
  await load();
  return box;
}
