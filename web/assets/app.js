// The staff web app: hash routes, one render function per screen, all data
// from the JSON API (api.js).  No inline script or style: blocks are placed
// through the CSSOM, which the Content-Security-Policy allows.
import { api, qs, session, ApiError } from './api.js';
import { t, setLang, lang, locale, money } from './i18n.js';
import { renderOnline } from './online.js';
import { paymentsPanel } from './money.js';
import { renderCash, renderCommissions, renderReports, renderSales } from './money_pages.js';
import { mt } from './money_i18n.js';
import { renderNotify, renderApptMessages } from './notify.js';
import { errorText } from './errors.js';
import { ask } from './dialog.js';
import { renderStaff } from './staff.js';

const main = document.getElementById('main');
const state = { date: null, branch: null, view: 'day', pro: null, source: '', verify: {}, ctx: null, expired: false };
let refreshTimer = null;
let pendingFocus = null;

// ---- small DOM helpers -------------------------------------------------
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined && kid !== false)
    el.append(kid instanceof Node ? kid : String(kid));
  return el;
}
function field(label, input, name) {
  const id = input.id || 'f-' + (name || Math.random().toString(36).slice(2));
  input.id = id;
  if (name) input.name = name;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input,
    h('p', { class: 'field-error', 'data-for': name || '', role: 'alert' }));
}
function showErrors(form, err) {
  form.querySelectorAll('.field-error').forEach((p) => { p.textContent = ''; });
  const box = form.querySelector('.form-error');
  if (box) box.textContent = '';
  const msg = err instanceof ApiError || err instanceof TypeError ? errorText(err) : String(err.message || err);
  const slot = err.field && form.querySelector(`.field-error[data-for="${err.field}"]`);
  if (slot) slot.textContent = msg;
  else if (box) box.textContent = msg;
  else toast(msg, true);
}
function toast(msg, bad) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.className = bad ? 'show bad' : 'show';
  setTimeout(() => { el.className = ''; }, 3000);
}
function clear(el) { while (el.firstChild) el.firstChild.remove(); }
// A page that finished loading after the route moved on (Back, a link) must not
// replace the page now asked for: each render checks before drawing.
function stale(name) { return parseHash().name !== name; }
function screenOf(name) { return (...a) => { if (!stale(name)) screen(...a); }; }
function screen(title, ...kids) {
  clear(main);
  main.append(h('h1', { text: title }), ...kids.filter((k) => k !== null && k !== undefined && k !== false));
  main.focus();
}

// ---- time in the branch's zone ------------------------------------------
function tz() {
  const b = state.ctx && state.ctx.branches.find((x) => x.id === state.branch);
  return (b && b.timezone) || (state.ctx && state.ctx.tenant.timezone) || 'UTC';
}
function todayIn(zone) { return new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date()); }
function addDays(day, n) {
  const [y, m, d] = day.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}
function weekday(day) { const [y, m, d] = day.split('-').map(Number); return new Date(Date.UTC(y, m - 1, d)).getUTCDay(); }
function minutesOf(iso, zone) {
  const p = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(new Date(iso));
  return Number(p.find((x) => x.type === 'hour').value) * 60 + Number(p.find((x) => x.type === 'minute').value);
}
// 24-hour times everywhere, as on the agenda's axis.
function fmtTime(iso, zone) { return new Intl.DateTimeFormat(locale(), { timeZone: zone || tz(), hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso)); }
function fmtDate(iso, zone) { return new Intl.DateTimeFormat(locale(), { timeZone: zone || tz(), dateStyle: 'full' }).format(new Date(iso)); }
function fmtDateTime(iso, zone) { return new Intl.DateTimeFormat(locale(), { timeZone: zone || tz(), dateStyle: 'medium', timeStyle: 'short', hourCycle: 'h23' }).format(new Date(iso)); }
function fmtDay(day) { return new Intl.DateTimeFormat(locale(), { timeZone: 'UTC', dateStyle: 'full' }).format(new Date(day + 'T12:00:00Z')); }
function bytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: 1 }).format(n) + ' ' + u[i];
}

// ---- the route: the hash holds the state ----------------------------------------
// #/agenda?date=2026-12-07&view=day&pro=3&branch=1: Back, Forward, a reload,
// a bookmark or a new tab show the same agenda.
function parseHash(hash) {
  const raw = (hash || location.hash || '#/agenda').slice(1);
  const q = raw.indexOf('?');
  const parts = (q < 0 ? raw : raw.slice(0, q)).split('/');
  return { name: parts[1] || 'agenda', arg: parts[2], params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}
function agendaHash(over) {
  const v = { date: state.date, view: state.view, pro: state.view === 'week' ? state.pro : null, branch: state.branch, source: state.source, ...over };
  return '#/agenda' + qs(v);
}
// Apply the agenda's params to the state (whatever is malformed is ignored).
function agendaFromParams(p) {
  const d = p.get('date');
  if (d && /^\d{4}-\d{2}-\d{2}$/.test(d) && !Number.isNaN(Date.parse(d))) state.date = d;
  if (['day', 'week'].includes(p.get('view'))) state.view = p.get('view');
  const br = Number(p.get('branch'));
  if (br && state.ctx.branches.some((b) => b.id === br)) state.branch = br;
  const pro = Number(p.get('pro'));
  if (pro && state.ctx.pros.some((x) => x.id === pro)) state.pro = pro;
  if (['', 'online', 'staff'].includes(p.get('source') || '')) state.source = p.get('source') || '';
}
// Go to the agenda with over changed; focus: the control to focus after drawing.
function goAgenda(over, focus) {
  const next = agendaHash(over);
  // The state changes now: a second control used before the hashchange event
  // arrives builds on this one, not on the old state.
  for (const k of ['date', 'view', 'pro', 'branch', 'source']) if (over[k] !== undefined && over[k] !== null) state[k] = over[k];
  pendingFocus = focus || null;
  if (location.hash === next) renderAgenda(focus);
  else location.hash = next;
}

// ---- session -------------------------------------------------------------
function isMaster() { const s = session.load(); return s && s.kind === 'master'; }
function role() { return state.ctx ? state.ctx.user.role : null; }
async function loadContext() {
  const me = await api('GET', '/auth/me');
  const s = session.load() || {};
  s.csrf = me.csrf_token; s.kind = 'staff';
  session.save(s);
  const branches = (await api('GET', '/branches')).items;
  const services = (await api('GET', '/services')).items;
  let pros = [];
  if (me.user.role === 'PROFESSIONAL') pros = [me.user];
  else pros = (await api('GET', '/users' + qs({ role: 'PROFESSIONAL' }))).items.filter((u) => u.role === 'PROFESSIONAL' && u.active);
  state.ctx = { user: me.user, tenant: me.tenant, branches, services, pros };
  if (!state.branch && branches.length) state.branch = me.user.branch_id || branches[0].id;
  if (!state.date) state.date = todayIn(tz());
}

function renderHeader() {
  const top = document.getElementById('top');
  const nav = document.getElementById('nav');
  clear(nav);
  const s = session.load();
  top.hidden = !s;
  document.getElementById('lang-label').textContent = t('lang');
  document.getElementById('logout').textContent = t('logout');
  if (!s) return;
  const links = isMaster() ? [['#/safety', 'safety']] : [[agendaHash(), 'agenda'], ['#/clients', 'clients']];
  if (!isMaster() && ['ADMIN', 'MANAGER', 'RECEPTIONIST'].includes(role())) links.splice(1, 0, ['#/new', 'new_appt']);
  if (!isMaster() && ['ADMIN', 'MANAGER'].includes(role())) links.push(['#/catalogue', 'catalogue'], ['#/staff', 'staff'], ['#/online', 'online_booking']);
  // money (issue 19): the cash close for the register, commissions, reports
  if (!isMaster() && ['ADMIN', 'MANAGER', 'RECEPTIONIST'].includes(role())) links.push(['#/sales', 'sales'], ['#/cash', 'cash_close']);
  if (!isMaster() && ['ADMIN', 'MANAGER', 'PROFESSIONAL'].includes(role())) links.push(['#/commissions', 'commissions']);
  if (!isMaster() && ['ADMIN', 'MANAGER'].includes(role())) links.push(['#/reports', 'reports']);
  if (!isMaster() && ['ADMIN', 'MANAGER', 'RECEPTIONIST'].includes(role())) links.push(['#/notify', 'notifications']);
  const here = parseHash().name;
  for (const [href, key] of links)
    nav.append(h('a', { href, 'aria-current': parseHash(href).name === here ? 'page' : null, text: mt(key) }));
  const who = document.getElementById('who');
  who.textContent = isMaster() ? `${t('role_MASTER')}`
    : `${state.ctx.user.first_name} ${state.ctx.user.last_name} · ${t('role_' + state.ctx.user.role)}`;
}

// ---- login ----------------------------------------------------------------
function renderLogin(master, next) {
  const form = h('form', { class: 'card narrow', id: 'login-form' });
  const email = h('input', { type: 'email', autocomplete: 'username', required: true });
  const pw = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  if (!master) form.append(field(t('email'), email, 'email'));
  form.append(field(t('password'), pw, 'password'), h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary', text: t('login') }),
    h('p', {}, h('a', { href: master ? '#/login' : '#/admin-login', text: master ? t('to_staff') : t('to_master') })));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      if (master) {
        const r = await api('POST', '/admin/login', { password: pw.value });
        session.save({ kind: 'master', csrf: r.csrf_token });
        location.hash = '#/safety';
      } else {
        const r = await api('POST', '/auth/login', { email: email.value, password: pw.value });
        session.save({ kind: 'staff', csrf: r.csrf_token });
        state.ctx = null; state.expired = false;
        location.hash = next && next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/agenda';
      }
    } catch (err) { showErrors(form, err); }
  });
  const note = state.expired ? h('p', { class: 'notice', id: 'session-expired', role: 'status', text: t('session_expired') }) : null;
  screen(master ? t('master_login') : t('staff_login'), note, form);
}

// ---- agenda ----------------------------------------------------------------
const PX = 1.2;
function serviceOf(id) { return state.ctx.services.find((s) => s.id === id) || { name: '?', color: '#999' }; }
function proName(id) { const p = state.ctx.pros.find((x) => x.id === id); return p ? `${p.first_name} ${p.last_name}` : `#${id}`; }

// focus: the id of the control that asked for this drawing; it gets the focus
// back, so that a keyboard user can press Next again without tabbing back to it.
async function renderAgenda(focus) {
  const c = state.ctx;
  if (role() === 'PROFESSIONAL') state.pro = c.user.id;
  const branchSel = h('select', { id: 'agenda-branch', onchange: (e) => goAgenda({ branch: Number(e.target.value) }, 'agenda-branch') },
    c.branches.map((b) => h('option', { value: b.id, selected: b.id === state.branch, text: b.name })));
  const dateIn = h('input', { type: 'date', id: 'agenda-date', value: state.date, onchange: (e) => { if (e.target.value) goAgenda({ date: e.target.value }, 'agenda-date'); } });
  const viewSel = h('select', { id: 'agenda-view', onchange: (e) => goAgenda({ view: e.target.value, pro: e.target.value === 'week' ? (state.pro || (c.pros[0] && c.pros[0].id)) : null }, 'agenda-view') },
    h('option', { value: 'day', selected: state.view === 'day', text: t('day') }),
    h('option', { value: 'week', selected: state.view === 'week', text: t('week') }));
  const proSel = h('select', { id: 'agenda-pro', onchange: (e) => goAgenda({ pro: Number(e.target.value) }, 'agenda-pro') },
    c.pros.map((p) => h('option', { value: p.id, selected: p.id === state.pro, text: `${p.first_name} ${p.last_name}` })));
  // Who booked: everyone, clients online, or the staff.
  const sourceSel = h('select', { id: 'agenda-source', onchange: (e) => goAgenda({ source: e.target.value }, 'agenda-source') },
    [['', 'source_all'], ['online', 'source_online'], ['staff', 'source_staff']].map(([v, k]) => h('option', { value: v, selected: state.source === v, text: t(k) })));
  const step = state.view === 'week' ? 7 : 1;
  const bar = h('div', { class: 'toolbar' },
    field(t('branch'), branchSel, 'branch'), field(t('date'), dateIn, 'date'), field(t('week') + '/' + t('day'), viewSel, 'view'),
    state.view === 'week' ? field(t('professional'), proSel, 'pro') : null,
    field(t('source'), sourceSel, 'source'),
    h('button', { type: 'button', id: 'agenda-prev', onclick: () => goAgenda({ date: addDays(state.date, -step) }, 'agenda-prev'), text: '‹ ' + t('prev') }),
    h('button', { type: 'button', id: 'agenda-today', onclick: () => goAgenda({ date: todayIn(tz()) }, 'agenda-today'), text: t('today') }),
    h('button', { type: 'button', id: 'agenda-next', onclick: () => goAgenda({ date: addDays(state.date, step) }, 'agenda-next'), text: t('next') + ' ›' }),
    h('button', { type: 'button', id: 'refresh', onclick: () => refreshAgenda(grid), text: t('refresh') }));
  const grid = h('div', { class: 'agenda', id: 'agenda' });
  screen(t('agenda'), bar, grid);
  const back = focus && document.getElementById(focus);
  if (back) back.focus();
  if (state.view === 'week' && !state.pro && c.pros.length) state.pro = c.pros[0].id;
  await drawAgenda(grid);
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { if (document.body.contains(grid)) refreshAgenda(grid); else clearInterval(refreshTimer); }, 30000);
}

// The 30 s refresh: a failure is shown (the agenda on screen may be old), an
// ended session goes to the login and comes back here.
async function refreshAgenda(grid) {
  try { await drawAgenda(grid); } catch (err) {
    if (err instanceof ApiError && err.status === 401) { route(); return; }
    const st = grid.querySelector('.refresh-status');
    if (st) {
      st.classList.add('bad');
      st.textContent = `${t('refresh_failed')} · ${errorText(err)}`;
    }
  }
}

// The visible range: the branch's hours on the days shown (whole hours), widened
// to hold any appointment outside them; 08:00-20:00 when the branch has none.
// All the rows of the branch: its own (user_id null) and its professionals'.
async function branchHours() {
  state.hours = state.hours || {};
  if (!state.hours[state.branch])
    state.hours[state.branch] = (await api('GET', '/working-hours' + qs({ branch_id: state.branch, limit: 200 }))).items;
  return state.hours[state.branch];
}
// A professional's intervals of a day, as availability takes them: its own
// rows at the branch if it has any (any day), else the branch's.
function proHours(wh, pro, day) {
  const own = pro && wh.some((w) => w.user_id === pro);
  return wh.filter((w) => w.user_id === (own ? pro : null) && w.day_of_week === weekday(day))
    .map((w) => [hm(w.start_time), hm(w.end_time)]).sort((x, y) => x[0] - y[0]);
}
// What cannot be booked in a column (a professional, a day), in minutes of
// that day: [from, to, kind, note]; kind closed (the branch), off (outside
// the professional's own hours), break (between two of its intervals),
// time_off (its time off, note: the reason).
function unavailable(wh, offs, pro, day, zone) {
  const own = pro && wh.some((w) => w.user_id === pro);
  const out = [];
  let at = 0;
  for (const [s, e] of proHours(wh, pro, day)) {
    if (s > at) out.push([at, s, at === 0 || !own ? (own ? 'off' : 'closed') : 'break']);
    at = Math.max(at, e);
  }
  if (at < 24 * 60) out.push([at, 24 * 60, own ? 'off' : 'closed']);
  const dayOf = (iso) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(iso));
  for (const o of offs.filter((x) => x.user_id === pro)) {
    const d0 = dayOf(o.start), d1 = dayOf(o.end);
    if (d0 > day || d1 < day) continue;
    const s = d0 < day ? 0 : minutesOf(o.start, zone), e = d1 > day ? 24 * 60 : minutesOf(o.end, zone);
    if (e > s) out.push([s, e, 'time_off', o.reason]);
  }
  return out;
}
const UNAVAIL = ['closed', 'off', 'break', 'time_off'];
function unavailText(kind, note) { return t('unavail_' + kind) + (note ? ` · ${note}` : ''); }
function hm(s) { const [a, b] = s.split(':').map(Number); return a * 60 + b; }
function hhmm(m) { return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`; }
// 24-hour times everywhere in the agenda, as on its axis.
function time24(iso, zone) { return hhmm(minutesOf(iso, zone)); }
const STATUS_ICON = { PENDING: '◷', CONFIRMED: '✓', COMPLETED: '★', CANCELLED: '✕', NO_SHOW: '⊘' };
const SNAP = 15;

async function drawAgenda(grid) {
  const zone = tz();
  const days = state.view === 'week' ? [0, 1, 2, 3, 4, 5, 6].map((i) => addDays(state.date, i - weekday(state.date))) : [state.date];
  // One request for the appointments, who is coming and what is paid.
  const { items } = await api('GET', '/agenda' + qs({ from: days[0], to: days[days.length - 1], branch_id: state.branch,
    professional_id: state.view === 'week' ? state.pro : null, source: state.source || null }));
  const wh = await branchHours();
  let offs = [];
  try { offs = (await api('GET', '/time-off' + qs({ from: days[0], to: days[days.length - 1] }))).items; } catch { /* shown without it */ }
  state.clientNames = state.clientNames || {};
  const paid = {};
  for (const a of items) { state.clientNames[a.client_id] = a.client_name; if (a.paid) paid[a.id] = a.paid; }
  const proIds = state.view === 'week' ? [state.pro] : state.ctx.pros.map((p) => p.id);
  let lo = Infinity, hi = -Infinity;
  for (const d of days) for (const p of [null, ...proIds]) for (const [s, e] of proHours(wh, p, d)) { lo = Math.min(lo, s); hi = Math.max(hi, e); }
  for (const a of items) { const s = minutesOf(a.start_at, zone); lo = Math.min(lo, s); hi = Math.max(hi, s + (new Date(a.end_at) - new Date(a.start_at)) / 60000); }
  if (!Number.isFinite(lo)) { lo = 8 * 60; hi = 20 * 60; }
  const start = Math.floor(lo / 60) * 60, end = Math.min(24 * 60, Math.ceil(hi / 60) * 60);
  const cols = state.view === 'week'
    ? days.map((d) => ({ key: d, day: d, pro: state.pro, title: fmtDay(d), match: (a) => new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(a.start_at)) === d }))
    : state.ctx.pros.map((p) => ({ key: p.id, day: state.date, pro: p.id, title: `${p.first_name} ${p.last_name}`, match: (a) => a.professional_id === p.id }));
  clear(grid);
  grid.append(h('p', { class: 'refresh-status', id: 'refresh-status', role: 'status',
    text: `${t('last_updated')} ${hhmm(minutesOf(new Date().toISOString(), zone))}` }));
  grid.append(h('h2', { class: 'agenda-title', text: state.view === 'week' ? `${proName(state.pro)} · ${fmtDay(days[0])} – ${fmtDay(days[6])}` : fmtDay(state.date) }));
  // The phone shows one professional at a time (day view): a switcher.
  if (state.view === 'day' && cols.length > 1) {
    const cur = cols.find((c) => c.pro === state.phonePro) || cols[0];
    state.phonePro = cur.pro;
    grid.append(h('div', { class: 'pro-switch', role: 'group', 'aria-label': t('professional') }, cols.map((c) => h('button', {
      type: 'button', class: 'pro-tab', 'data-pro': c.pro, 'aria-pressed': c.pro === cur.pro ? 'true' : 'false', text: c.title,
      onclick: () => { state.phonePro = c.pro; grid.querySelectorAll('.pro-tab').forEach((x) => x.setAttribute('aria-pressed', String(Number(x.dataset.pro) === c.pro)));
        grid.querySelectorAll('.col').forEach((x) => x.classList.toggle('phone-hidden', Number(x.dataset.pro) !== c.pro)); } }))));
  }
  const body = h('div', { class: 'agenda-body' });
  const height = (end - start) * PX;
  const hoursCol = h('div', { class: 'hours', 'aria-hidden': 'true' }, h('div', { class: 'col-head' }));
  const inner = h('div', { class: 'col-inner' });
  inner.style.height = `${height}px`;
  for (let m = start; m < end; m += 60) {
    const l = h('span', { class: 'hour', text: hhmm(m) });
    l.style.top = `${(m - start) * PX}px`;
    inner.append(l);
  }
  hoursCol.append(inner);
  body.append(hoursCol);
  const today = todayIn(zone);
  const nowMin = minutesOf(new Date().toISOString(), zone);
  for (const col of cols) {
    const colEl = h('div', { class: `col${state.view === 'day' && cols.length > 1 && col.pro !== state.phonePro ? ' phone-hidden' : ''}`, 'data-col': col.key, 'data-pro': col.pro, 'data-day': col.day },
      h('div', { class: 'col-head', text: col.title }));
    const area = h('div', { class: 'col-inner' });
    area.style.height = `${height}px`;
    // What this professional cannot be booked in, shaded, its kind in the
    // tooltip and the legend: the branch closed, off, a break, time off.
    const spans = unavailable(wh, offs, col.pro, col.day, zone);
    for (const [s, e, kind, note] of spans) {
      const a = Math.max(s, start), b = Math.min(e, end);
      if (b <= a) continue;
      const z = h('div', { class: `closed un-${kind}`, 'data-kind': kind, title: unavailText(kind, note) });
      z.style.top = `${(a - start) * PX}px`; z.style.height = `${(b - a) * PX}px`;
      area.append(z);
    }
    if (col.day === today && nowMin >= start && nowMin <= end) {
      const line = h('div', { class: 'now-line', id: cols.indexOf(col) === 0 || state.view === 'week' ? 'now-line' : null, title: t('now') });
      line.style.top = `${(nowMin - start) * PX}px`;
      area.append(line);
    }
    // A click on empty time books there (staff who book).
    // Shaded time offers no booking: it says why.
    if (role() !== 'PROFESSIONAL') area.addEventListener('click', (ev) => {
      if (ev.target.classList.contains('closed')) { toast(`${ev.target.title} · ${t('not_bookable')}`, true); return; }
      if (ev.target !== area) return;
      const m = start + Math.floor(ev.offsetY / PX / SNAP) * SNAP;
      const hit = spans.find(([s, e]) => m >= s && m < e);
      if (hit) { toast(`${unavailText(hit[2], hit[3])} · ${t('not_bookable')}`, true); return; }
      location.hash = '#/new' + qs({ date: col.day, time: hhmm(m), pro: col.pro });
    });
    for (const a of items.filter(col.match)) {
      area.append(apptBlock(a, { zone, start, paid: paid[a.id], col, cols }));
      if (undoable(a, zone)) area.append(undoCancel(a, zone, start));
    }
    colEl.append(area);
    body.append(colEl);
  }
  grid.append(body);
  grid.append(h('ul', { class: 'agenda-legend', id: 'agenda-legend', 'aria-label': t('legend') },
    UNAVAIL.map((k) => h('li', {}, h('span', { class: `swatch un-${k}`, 'aria-hidden': 'true' }), t('unavail_' + k)))));
  grid.append(h('p', { class: 'muted agenda-help', text: t('agenda_help') }));
  if (!items.length) grid.append(h('p', { class: 'muted', text: t('none') }));
  const now = grid.querySelector('.now-line');
  if (now && !state.scrolled) { state.scrolled = true; now.scrollIntoView({ block: 'center' }); }
}

// A cancellation ADMIN and MANAGER may undo from the agenda: made today (the
// branch's day), as on the appointment's page; the API has the last word.
function undoable(a, zone) {
  return a.status === 'CANCELLED' && ['ADMIN', 'MANAGER'].includes(role()) && a.cancelled_at && a.cancelled_from &&
    new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(a.cancelled_at)) === todayIn(zone);
}
function undoCancel(a, zone, start) {
  const s = serviceOf(a.service_id);
  const who = state.clientNames[a.client_id] || t('unknown_client');
  const when = `${fmtDay(new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(a.start_at)))} ${time24(a.start_at, zone)}–${time24(a.end_at, zone)}`;
  const b = h('button', { type: 'button', class: 'undo-cancel', 'data-id': a.id, title: t('uncancel'), 'aria-label': `${t('uncancel')}: ${who} · ${when}`, text: `↶ ${t('undo')}`,
    onclick: async () => {
      const ok = await ask(h, { title: t('ask_uncancel'), ok: t('uncancel'), lines: [`${who} · ${s.name} · ${when}`,
        a.cancel_reason ? `${t('cancel_reason')}: ${a.cancel_reason}` : null, `→ ${t(a.cancelled_from)}`].filter(Boolean) });
      if (!ok) return;
      try { await api('POST', `/appointments/${a.id}/uncancel`, {}); toast(t('saved')); } catch (err) { toast(errorText(err), true); }
      drawAgenda(document.getElementById('agenda'));
    } });
  b.style.top = `${(minutesOf(a.start_at, zone) - start) * PX + 2}px`;
  return b;
}

// One appointment on the grid: who, what, when, status (colour and icon),
// paid or not; drag to move, drag the lower edge to resize; with the
// keyboard Alt+arrows move (up/down 15 min, left/right professional),
// Alt+Shift+up/down resize, Enter asks, Escape drops.
function apptBlock(a, { zone, start, paid, col, cols }) {
  const s = serviceOf(a.service_id);
  const top = minutesOf(a.start_at, zone) - start;
  const len = Math.max(15, (new Date(a.end_at) - new Date(a.start_at)) / 60000);
  const online = a.source === 'online';
  const who = state.clientNames[a.client_id] || t('unknown_client');
  const when = `${time24(a.start_at, zone)}–${time24(a.end_at, zone)}`;
  const movable = ['PENDING', 'CONFIRMED'].includes(a.status) && role() !== 'PROFESSIONAL';
  const b = h('button', { type: 'button', class: `appt st-${a.status}${online ? ' online' : ''}`, 'data-id': a.id, 'data-source': a.source },
    h('span', { class: 'appt-line' }, h('span', { class: 'appt-time', text: when }), h('span', { class: 'st-icon', 'aria-hidden': 'true', text: STATUS_ICON[a.status] || '' }),
      h('span', { class: 'status', text: t(a.status) }), paid ? h('span', { class: `pay pay-${paid}`, text: t('pay_' + paid) }) : null),
    h('strong', { class: 'appt-client', text: who }), h('span', { class: 'appt-svc', text: s.name }),
    online ? h('span', { class: 'src-online', text: t('source_online') }) : null,
    movable ? h('span', { class: 'sr-only', text: ` · ${t('agenda_keys')}` }) : null,
    movable ? h('span', { class: 'resize', 'aria-hidden': 'true' }) : null);
  b.style.top = `${top * PX}px`;
  b.style.height = `${len * PX - 2}px`;
  b.style.borderLeftColor = s.color || '#999';
  let dragged = false;
  b.addEventListener('click', () => { if (dragged) { dragged = false; return; } location.hash = `#/appt/${a.id}`; });
  if (!movable) return b;
  const base = { startMin: top + start, len, col };
  const propose = async (dStart, dLen, newCol) => {
    const ns = base.startMin + dStart, nl = Math.max(SNAP, base.len + dLen);
    const target = newCol || col;
    if (dStart === 0 && dLen === 0 && target === col) return;
    const oldTxt = `${fmtDay(col.day)} ${when} · ${proName(a.professional_id)}`;
    const newTxt = `${fmtDay(target.day)} ${hhmm(ns)}–${hhmm(ns + nl)} · ${proName(target.pro)}`;
    const ok = await ask(h, { title: dLen ? t('ask_resize') : t('ask_move'), ok: t('confirm'),
      lines: [`${who} · ${s.name}`, h('p', { class: 'dlg-line old', id: 'dlg-old', text: oldTxt }), h('p', { class: 'dlg-line', id: 'dlg-new', text: `→ ${newTxt}` })] });
    if (!ok) { drawAgenda(document.getElementById('agenda')); return; }
    const body = {};
    const offset = a.start_at.slice(19);  // the branch's UTC offset that day, as the API wrote it
    if (dStart || target.day !== col.day) body.start = `${target.day}T${hhmm(ns)}:00${offset}`;
    if (dLen) body.end = `${target.day}T${hhmm(ns + nl)}:00${offset}`;
    if (target.pro !== a.professional_id) body.professional_id = target.pro;
    try { await api('PATCH', `/appointments/${a.id}`, body); toast(t('saved')); } catch (err) { toast(errorText(err), true); }
    drawAgenda(document.getElementById('agenda'));
  };
  // Pointer: move, or resize from the lower edge; 15-minute steps.
  b.addEventListener('pointerdown', (ev) => {
    if (ev.button !== 0) return;
    const resize = ev.target.classList.contains('resize');
    const y0 = ev.clientY;
    let dy = 0, over = col, moved = false;
    const onMove = (e) => {
      dy = Math.round((e.clientY - y0) / PX / SNAP) * SNAP;
      if (!moved && Math.abs(e.clientY - y0) < 6) return;
      moved = true;
      b.classList.add('dragging');
      if (resize) b.style.height = `${Math.max(SNAP, base.len + dy) * PX - 2}px`;
      else {
        b.style.transform = `translateY(${dy * PX}px)`;
        const el = document.elementsFromPoint(e.clientX, e.clientY).find((x) => x.classList && x.classList.contains('col'));
        if (el && !resize) over = cols.find((c) => String(c.key) === el.dataset.col) || col;
      }
    };
    const onUp = () => {
      document.removeEventListener('pointermove', onMove);
      document.removeEventListener('pointerup', onUp);
      if (!moved) return;
      dragged = true;
      b.classList.remove('dragging');
      if (resize) propose(0, dy, null); else propose(dy, 0, over !== col ? over : null);
    };
    document.addEventListener('pointermove', onMove);
    document.addEventListener('pointerup', onUp);
    ev.preventDefault();
  });
  let kStart = 0, kLen = 0, kCol = col;
  b.addEventListener('keydown', (ev) => {
    const arrows = { ArrowUp: -SNAP, ArrowDown: SNAP };
    if (ev.altKey && ev.key in arrows) {
      ev.preventDefault();
      if (ev.shiftKey) kLen = Math.max(SNAP - base.len, kLen + arrows[ev.key]); else kStart += arrows[ev.key];
      b.style.transform = `translateY(${kStart * PX}px)`;
      b.style.height = `${(base.len + kLen) * PX - 2}px`;
      b.classList.add('dragging');
    } else if (ev.altKey && (ev.key === 'ArrowLeft' || ev.key === 'ArrowRight') && state.view === 'day') {
      ev.preventDefault();
      const i = cols.indexOf(kCol) + (ev.key === 'ArrowLeft' ? -1 : 1);
      if (i >= 0 && i < cols.length) kCol = cols[i];
      b.dataset.target = kCol.title;
      b.classList.add('dragging');
    } else if (ev.key === 'Enter' && (kStart || kLen || kCol !== col)) {
      ev.preventDefault();
      const [s1, l1, c1] = [kStart, kLen, kCol];
      kStart = 0; kLen = 0; kCol = col;
      propose(s1, l1, c1 !== col ? c1 : null);
    } else if (ev.key === 'Escape') {
      kStart = 0; kLen = 0; kCol = col;
      b.style.transform = ''; b.style.height = `${base.len * PX - 2}px`; b.classList.remove('dragging');
    }
  });
  return b;
}

// ---- new appointment --------------------------------------------------------
function clientLabel(c) {
  const name = `${c.first_name || ''} ${c.last_name || ''}`.trim() || t('unknown_client');
  const reach = c.phone || c.email;
  return reach ? `${name} · ${reach}` : name;
}

function clientPicker(onPick) {
  const box = h('div', { class: 'client-picker' });
  const q = h('input', { type: 'search', placeholder: t('search_client') });
  const results = h('ul', { class: 'results' });
  const doSearch = async () => {
    const r = await api('GET', '/clients' + qs({ q: q.value, limit: 8 }));
    clear(results);
    for (const c of r.items) results.append(h('li', {}, h('button', { type: 'button', onclick: () => onPick(c), text: clientLabel(c) })));
    if (!r.items.length) results.append(h('li', { class: 'muted', text: t('none') }));
  };
  const form = h('form', { class: 'inline-form', id: 'new-client-form' });
  const fn = h('input', { required: true }), ln = h('input'), ph = h('input', { type: 'tel' }), em = h('input', { type: 'email' });
  form.append(h('h3', { text: t('new_client') }), field(t('first_name'), fn, 'first_name'), field(t('last_name'), ln, 'last_name'),
    field(t('phone'), ph, 'phone'), field(t('email'), em, 'email'), h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit', text: t('create') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { first_name: fn.value, last_name: ln.value };
    if (ph.value) body.phone = ph.value;
    if (em.value) body.email = em.value;
    const old = form.querySelector('#duplicate-offer');
    if (old) old.remove();
    try { onPick(await api('POST', '/clients', body)); } catch (err) {
      showErrors(form, err);
      const o = duplicateOffer(err, (ex) => { form.querySelector('#duplicate-offer').remove(); onPick(ex); });
      if (o) form.append(o);
    }
  });
  box.append(h('div', { class: 'row' }, field(t('search_client'), q, 'q'), h('button', { type: 'button', id: 'client-search', onclick: doSearch, text: t('search') })), results, form);
  // Results as one types; Enter searches, and picks the client when only one matches.
  let timer = null;
  q.addEventListener('input', () => { clearTimeout(timer); if (q.value.trim().length >= 2) timer = setTimeout(doSearch, 250); });
  q.addEventListener('keydown', async (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault(); clearTimeout(timer);
    await doSearch();
    const only = results.querySelectorAll('button');
    if (only.length === 1) only[0].click();
  });
  return box;
}

// exclude: the appointment being moved (its own time counts as free).
function slotPicker({ serviceId, proId, date, onPick, exclude }) {
  const box = h('div', { class: 'slots', id: 'slots' });
  const load = async () => {
    clear(box);
    box.append(h('h3', { text: t('free_times') }));
    const r = await api('GET', '/availability' + qs({ service_id: serviceId, branch_id: state.branch, from: date, to: date, professional_id: proId || null,
      exclude_appointment_id: exclude || null }));
    let n = 0;
    for (const p of r.professionals) {
      if (proId && p.professional_id !== proId) continue;
      const row = h('div', { class: 'slot-row' }, h('span', { class: 'slot-pro', text: `${p.first_name} ${p.last_name}` }));
      for (const s of p.slots) {
        n++;
        row.append(h('button', { type: 'button', class: 'slot', 'data-start': s, 'data-pro': p.professional_id,
          onclick: (ev) => { box.querySelectorAll('.slot').forEach((x) => x.classList.remove('chosen')); ev.target.classList.add('chosen'); onPick(s, p.professional_id); },
          text: fmtTime(s, r.timezone) }));
      }
      box.append(row);
    }
    if (!n) box.append(h('p', { class: 'muted', text: t('no_times') }));
  };
  box.reload = load;
  return box;
}

// params (from the agenda's empty time, a client's page): date, time, pro, client, service.
async function renderNew(params = new URLSearchParams()) {
  const c = state.ctx;
  const pick = { client: null, start: null, pro: null };
  const form = h('form', { class: 'card', id: 'booking-form' });
  const chosen = h('p', { class: 'chosen-client', id: 'chosen-client' });
  const svc = h('select', { required: true }, c.services.filter((s) => s.active).map((s) => h('option', { value: s.id, text: `${s.name} · ${s.duration_min} min · ${money(s.price_cents)}` })));
  const pro = h('select');
  const want = { date: params.get('date'), time: params.get('time'), pro: Number(params.get('pro')) || null,
    client: Number(params.get('client')) || null, service: Number(params.get('service')) || null };
  if (want.service && c.services.some((x) => x.id === want.service && x.active)) svc.value = String(want.service);
  const date = h('input', { type: 'date', value: want.date && /^\d{4}-\d{2}-\d{2}$/.test(want.date) ? want.date : state.date < todayIn(tz()) ? todayIn(tz()) : state.date });
  const notes = h('textarea', { rows: 2 });
  // A walk-in (the client is here): booked CONFIRMED, ready to complete and pay.
  const walkIn = h('input', { type: 'checkbox', id: 'walk-in' });
  const slotsWrap = h('div');
  const alertBox = h('p', { class: 'conflict', role: 'alert', id: 'conflict' });
  let slots = null;
  const loadPros = async () => {
    const r = await api('GET', `/services/${svc.value}/professionals`);
    clear(pro);
    pro.append(h('option', { value: '', text: t('any_pro') }), ...r.items.filter((p) => p.active).map((p) => h('option', { value: p.user_id, text: `${p.first_name} ${p.last_name}` })));
    if (want.pro && r.items.some((p) => p.user_id === want.pro && p.active)) pro.value = String(want.pro);
  };
  const loadSlots = async () => {
    pick.start = null;
    slots = slotPicker({ serviceId: Number(svc.value), proId: pro.value ? Number(pro.value) : null, date: date.value,
      onPick: (s, p) => { pick.start = s; pick.pro = p; } });
    clear(slotsWrap); slotsWrap.append(slots);
    await slots.reload();
    // Asked for a time (a click on the agenda): chosen when it is free.
    if (want.time) {
      const hit = [...slots.querySelectorAll('.slot')].find((x) => x.dataset.start.slice(11, 16) === want.time && (!want.pro || Number(x.dataset.pro) === want.pro));
      if (hit) hit.click();
      want.time = null;
    }
  };
  svc.addEventListener('change', async () => { await loadPros(); await loadSlots(); });
  pro.addEventListener('change', loadSlots);
  date.addEventListener('change', loadSlots);
  const choose = (cl) => { pick.client = cl; chosen.textContent = `${t('client')}: ${clientLabel(cl)}`; };
  const picker = clientPicker(choose);
  if (want.client) { try { choose(await api('GET', `/clients/${want.client}`)); } catch { /* the search stays */ } }
  form.append(h('fieldset', {}, h('legend', { text: t('client') }), picker, chosen, h('p', { class: 'field-error', 'data-for': 'client_id' })),
    h('fieldset', {}, h('legend', { text: t('service') }), field(t('service'), svc, 'service_id'), field(t('professional'), pro, 'professional_id'),
      field(t('date'), date, 'date'), slotsWrap, h('p', { class: 'field-error', 'data-for': 'start' }), field(t('notes'), notes, 'notes'),
      h('label', { for: 'walk-in', class: 'check' }, walkIn, ` ${t('walk_in')}`)),
    alertBox, h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', class: 'primary', id: 'book', text: t('confirm_booking') }));
  form.addEventListener('submit', async (ev) => {
    if (ev.target !== form) return;
    ev.preventDefault();
    alertBox.textContent = '';
    try {
      if (!pick.client) throw Object.assign(new Error(t('pick_client')), { field: 'client_id' });
      if (!pick.start) throw Object.assign(new Error(t('pick_time')), { field: 'start' });
      const body = { client_id: pick.client.id, service_id: Number(svc.value), professional_id: pick.pro, branch_id: state.branch, start: pick.start };
      if (notes.value) body.notes = notes.value;
      if (walkIn.checked) body.status = 'CONFIRMED';
      const a = await api('POST', '/appointments', body);
      toast(t('booked'));
      location.hash = `#/appt/${a.id}`;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'slot_taken') {
        alertBox.textContent = t('slot_taken');
        await loadSlots();
      } else showErrors(form, err);
    }
  });
  if (stale('new')) return;
  screen(t('new_appt'), form);
  await loadPros();
  await loadSlots();
  // Come from the agenda's free time: the time is chosen, the client is next.
  if (want.date && !pick.client) form.querySelector('.client-picker input[type=search]').focus();
}

// ---- appointment detail -------------------------------------------------------
async function renderAppt(id) {
  const a = await api('GET', `/appointments/${id}`);
  const zone = a.timezone || tz();
  const s = serviceOf(a.service_id);
  let client = null;
  try { client = await api('GET', `/clients/${a.client_id}`); } catch { client = null; }
  const r = role();
  const canPay = ['ADMIN', 'MANAGER', 'RECEPTIONIST'].includes(r);
  const open = ['PENDING', 'CONFIRMED'].includes(a.status);
  const act = async (fn) => { try { await fn(); toast(t('saved')); await renderAppt(id); } catch (err) { toast(errorText(err), true); } };
  const actions = h('div', { class: 'actions' });
  const patch = (body) => api('PATCH', `/appointments/${id}`, body);
  // The life cycle of SPEC §7: PENDING -> CONFIRMED -> COMPLETED; a professional only completes or marks a no-show.
  // Staff may complete a pending one directly (a walk-in: book, complete, pay).
  // What cannot be taken back asks first: cancel (with its reason) and no-show;
  // no-show is offered only once the appointment has started.
  const when = `${fmtDate(a.start_at, zone)} ${fmtTime(a.start_at, zone)}`;
  const who = client ? `${client.first_name} ${client.last_name}`.trim() : t('unknown_client');
  if (a.status === 'PENDING' && r !== 'PROFESSIONAL') actions.append(h('button', { type: 'button', id: 'act-confirm', onclick: () => act(() => patch({ status: 'CONFIRMED' })), text: t('confirm') }));
  if (open) {
    if (a.status === 'CONFIRMED' || r !== 'PROFESSIONAL') actions.append(h('button', { type: 'button', id: 'act-complete', class: 'primary', onclick: () => act(() => patch({ status: 'COMPLETED' })), text: t('complete') }));
    if (new Date(a.start_at) <= new Date()) actions.append(h('button', { type: 'button', id: 'act-noshow', text: t('no_show'),
      onclick: async () => {
        const ok = await ask(h, { title: t('ask_no_show'), lines: [`${who} · ${s.name} · ${when}`, t('no_undo')], ok: t('no_show'), danger: true });
        if (ok) act(() => patch({ status: 'NO_SHOW' }));
      } }));
    if (r !== 'PROFESSIONAL') actions.append(h('button', { type: 'button', id: 'act-cancel', class: 'danger', text: t('cancel_appt'),
      onclick: async () => {
        const ok = await ask(h, { title: t('ask_cancel'), lines: [`${who} · ${s.name} · ${when}`], reason: true, ok: t('cancel_appt'), danger: true });
        if (ok) act(() => api('POST', `/appointments/${id}/cancel`, { reason: ok.reason }));
      } }));
  }
  if (a.status === 'CANCELLED' && ['ADMIN', 'MANAGER'].includes(r)) actions.append(h('button', { type: 'button', id: 'act-uncancel', text: t('uncancel'),
    onclick: () => act(() => api('POST', `/appointments/${id}/uncancel`, {})) }));
  const info = h('dl', { class: 'facts' },
    h('dt', { text: t('status') }), h('dd', { id: 'appt-status', class: `badge st-${a.status}`, text: t(a.status) }),
    h('dt', { text: t('client') }), h('dd', {}, client ? h('a', { href: `#/client/${client.id}`, text: clientLabel(client) }) : t('unknown_client')),
    h('dt', { text: t('service') }), h('dd', { text: s.name }),
    h('dt', { text: t('professional') }), h('dd', { text: proName(a.professional_id) }),
    h('dt', { text: t('date') }), h('dd', { text: `${fmtDate(a.start_at, zone)} ${fmtTime(a.start_at, zone)}–${fmtTime(a.end_at, zone)}` }),
    h('dt', { text: t('price') }), h('dd', { text: money(a.price_cents) }),
    h('dt', { text: t('source') }), h('dd', { id: 'appt-source', text: t(a.source === 'online' ? 'source_online' : 'source_staff') }),
    a.cancel_reason ? h('dt', { text: t('cancel_reason') }) : null, a.cancel_reason ? h('dd', { id: 'appt-cancel-reason', text: a.cancel_reason }) : null);
  const kids = [info, actions];
  if (r !== 'PROFESSIONAL') {
    const nf = h('form', { class: 'inline-form' });
    const notes = h('textarea', { rows: 2 });
    notes.value = a.notes || '';
    nf.append(field(t('notes'), notes, 'notes'), h('button', { type: 'submit', text: t('save') }));
    nf.addEventListener('submit', (ev) => { ev.preventDefault(); act(() => patch({ notes: notes.value || null })).catch((err) => showErrors(nf, err)); });
    kids.push(nf);
  }
  if (open && r !== 'PROFESSIONAL') {
    const rs = h('div', { class: 'inline-form' }, h('h3', { text: t('reschedule') }));
    const d = h('input', { type: 'date', value: new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date(a.start_at)) });
    const holder = h('div');
    // Who does it: anyone offering the service (a change of professional is part of the move).
    const offering = (await api('GET', `/services/${a.service_id}/professionals`)).items.filter((p) => p.active);
    const proSel = h('select', { id: 'resched-pro' }, offering.map((p) => h('option', { value: p.user_id, selected: p.user_id === a.professional_id, text: `${p.first_name} ${p.last_name}` })));
    const load = async () => {
      const sp = slotPicker({ serviceId: a.service_id, proId: Number(proSel.value) || a.professional_id, date: d.value, exclude: a.id,
        onPick: async (start, pro) => {
          const ok = await ask(h, { title: t('ask_move'), ok: t('confirm'), lines: [`${who} · ${s.name}`,
            h('p', { class: 'dlg-line old', id: 'dlg-old', text: `${when} · ${proName(a.professional_id)}` }),
            h('p', { class: 'dlg-line', id: 'dlg-new', text: `→ ${fmtDate(start, zone)} ${fmtTime(start, zone)} · ${proName(pro)}` })] });
          if (!ok) { load(); return; }
          act(() => patch(pro !== a.professional_id ? { start, professional_id: pro } : { start }));
        } });
      clear(holder); holder.append(sp); await sp.reload();
    };
    d.addEventListener('change', load);
    proSel.addEventListener('change', load);
    rs.append(h('div', { class: 'row' }, field(t('date'), d, 'start'), field(t('professional'), proSel, 'professional_id')), holder);
    kids.push(rs);
    load();
  }
  if (r !== 'PROFESSIONAL') {
    const msgs = await renderApptMessages(h, id, toast);
    if (msgs) kids.push(msgs);
  }
  if (canPay) kids.push(await paymentsPanel({ h, field, toast, showErrors, fmtDateTime, zone, appt: a, rerender: () => renderAppt(id) }));
  if (stale('appt')) return;
  screen(`${t('appointment')} #${a.id}`, ...kids);
}

// ---- clients -------------------------------------------------------------------
async function renderClients(cursorStack = [null], q = '') {
  const r = await api('GET', '/clients' + qs({ q, limit: 20, cursor: cursorStack[cursorStack.length - 1] }));
  const search = h('input', { type: 'search', value: q });
  const sf = h('form', { class: 'toolbar' }, field(t('search_client'), search, 'q'), h('button', { type: 'submit', text: t('search') }));
  sf.addEventListener('submit', (ev) => { ev.preventDefault(); renderClients([null], search.value); });
  const table = h('table', { class: 'list' }, h('thead', {}, h('tr', {}, h('th', { text: t('first_name') }), h('th', { text: t('phone') }), h('th', { text: t('email') }), h('th'))),
    h('tbody', {}, r.items.map((c) => h('tr', {}, h('td', { text: `${c.first_name} ${c.last_name}` }), h('td', { text: c.phone || '' }), h('td', { text: c.email || '' }),
      h('td', {}, h('a', { href: `#/client/${c.id}`, text: t('edit') }))))));
  const pager = h('div', { class: 'toolbar' },
    cursorStack.length > 1 ? h('button', { type: 'button', onclick: () => renderClients(cursorStack.slice(0, -1), q), text: '‹ ' + t('prev') }) : null,
    r.next_cursor ? h('button', { type: 'button', onclick: () => renderClients([...cursorStack, r.next_cursor], q), text: t('next') + ' ›' }) : null,
    h('a', { href: '#/client/new', class: 'button', text: t('new_client') }));
  if (stale('clients')) return;
  screen(t('clients'), sf, table, pager);
}

// A 409 duplicate names the existing client (existing_id): offer to use it.
function duplicateOffer(err, onUse) {
  const id = err && err.code === 'duplicate' && err.body && err.body.error && err.body.error.existing_id;
  if (!id) return null;
  return h('div', { class: 'notice', id: 'duplicate-offer' }, h('p', { text: t('duplicate_client') }),
    h('button', { type: 'button', id: 'use-existing', class: 'primary', text: t('use_existing'), onclick: async () => onUse(await api('GET', `/clients/${id}`)) }));
}

async function renderClient(id) {
  const c = id === 'new' ? { first_name: '', last_name: '', phone: '', email: '', notes: '' } : await api('GET', `/clients/${id}`);
  const form = h('form', { class: 'card', id: 'client-form' });
  const inputs = {};
  for (const [k, type] of [['first_name', 'text'], ['last_name', 'text'], ['phone', 'tel'], ['email', 'email'], ['notes', 'text']]) {
    inputs[k] = h('input', { type });
    inputs[k].value = c[k] || '';
    form.append(field(t(k), inputs[k], k));
  }
  const offer = h('div');
  form.append(offer, h('p', { class: 'form-error', role: 'alert' }), h('button', { type: 'submit', class: 'primary', text: t('save') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const k of Object.keys(inputs)) body[k] = inputs[k].value === '' && ['phone', 'email', 'notes'].includes(k) ? null : inputs[k].value;
    clear(offer);
    try {
      const saved = id === 'new' ? await api('POST', '/clients', body) : await api('PATCH', `/clients/${id}`, body);
      toast(t('saved')); location.hash = `#/client/${saved.id}`;
    } catch (err) {
      showErrors(form, err);
      const o = duplicateOffer(err, (ex) => { location.hash = `#/client/${ex.id}`; });
      if (o) offer.append(o);
    }
  });
  const kids = [];
  if (id !== 'new' && role() !== 'PROFESSIONAL')
    kids.push(h('div', { class: 'actions' }, h('a', { class: 'button primary', id: 'book-for-client', href: '#/new' + qs({ client: c.id }), text: t('book_for_client') })));
  kids.push(form);
  if (id !== 'new') kids.push(...await clientHistory(c));
  if (stale('client')) return;
  screen(id === 'new' ? t('new_client') : `${c.first_name} ${c.last_name}`.trim() || t('unknown_client'), ...kids);
}

// Every appointment of the client, newest first, with totals (GET /clients/{id}/history).
async function clientHistory(c) {
  let r;
  try { r = await api('GET', `/clients/${c.id}/history`); } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
    // A server without the history endpoint: the last 90 days and the next 2.
    const today = todayIn(tz());
    const items = (await api('GET', '/appointments' + qs({ client_id: c.id, from: addDays(today, -90), to: addDays(today, 2), limit: 200 }))).items;
    r = { appointments: items.reverse(), totals: null };
  }
  const list = r.appointments || [];
  const out = [h('h2', { text: t('history') })];
  const T = r.totals;
  if (T) out.push(h('dl', { class: 'facts', id: 'client-totals' },
    h('dt', { text: t('visits') }), h('dd', { text: String(T.visits) }),
    h('dt', { text: t('COMPLETED') }), h('dd', { text: String(T.completed) }),
    h('dt', { text: t('NO_SHOW') }), h('dd', { text: String(T.no_shows) }),
    h('dt', { text: t('CANCELLED') }), h('dd', { text: String(T.cancelled) }),
    h('dt', { text: t('spent') }), h('dd', { id: 'client-spent', text: money(T.spent_cents || 0) }),
    h('dt', { text: t('last_visit') }), h('dd', { text: T.last_visit ? fmtDateTime(T.last_visit) : '—' })));
  const rows = list.map((a) => h('tr', { 'data-id': a.id },
    h('td', {}, h('a', { href: `#/appt/${a.id}`, text: fmtDateTime(a.start_at, a.timezone) })),
    h('td', { text: a.service_name || serviceOf(a.service_id).name }), h('td', { text: a.professional_name || proName(a.professional_id) }),
    h('td', { text: t(a.status) }), h('td', { text: a.price_cents !== undefined ? money(a.price_cents) : '' }),
    h('td', {}, role() !== 'PROFESSIONAL' ? h('a', { class: 'button book-again', href: '#/new' + qs({ client: c.id, service: a.service_id, pro: a.professional_id }), text: t('book_again') }) : null)));
  out.push(list.length ? h('table', { class: 'list', id: 'client-history' }, h('thead', {}, h('tr', {}, [t('date'), t('service'), t('professional'), t('status'), t('price'), ''].map((x) => h('th', { text: x })))), h('tbody', {}, rows))
    : h('p', { class: 'muted', text: t('none') }));
  return out;
}

// ---- catalogue -------------------------------------------------------------------
// ADMIN and MANAGER edit services (with who offers them, and their commission)
// and the branch's working hours; the others only read.  An API error names a
// field ("price_cents", "professionals[1].commission_pct", "hours[2].end_time"):
// it is shown beside the input that field came from.
function canEditCatalogue() { return ['ADMIN', 'MANAGER'].includes(role()); }

// Show err beside the input its field names; fields maps an API field name to
// the data-for of its slot (for the indexed names of arrays).
function showMapped(form, err, fields) {
  if (err && err.field && fields[err.field]) err = Object.assign(err, { apiField: err.field, field: fields[err.field] });
  showErrors(form, err);
}

async function serviceForm(svc, onSaved) {
  const assigned = svc ? (await api('GET', `/services/${svc.id}/professionals`)).items : [];
  // novalidate: the API is the one judge, and its answer is shown beside the field.
  const form = h('form', { class: 'card', id: 'service-form', 'data-id': svc ? svc.id : 'new', novalidate: true });
  const name = h('input', { required: true, maxlength: 200 });
  const duration = h('input', { type: 'number', min: 1, max: 1440, step: 1, required: true });
  const price = h('input', { type: 'number', min: 0, step: '0.01', required: true });
  const color = h('input', { type: 'color' });
  const active = h('input', { type: 'checkbox' });
  name.value = svc ? svc.name : '';
  duration.value = svc ? svc.duration_min : 60;
  price.value = svc ? (svc.price_cents / 100).toFixed(2) : '';
  color.value = svc && /^#[0-9a-fA-F]{6}$/.test(svc.color || '') ? svc.color : '#a78bfa';
  // A new service left at the default colour gets the next of the server's palette.
  let colorTouched = !!svc;
  for (const ev of ['input', 'change']) color.addEventListener(ev, () => { colorTouched = true; });
  active.checked = svc ? svc.active : true;
  const pros = h('fieldset', { id: 'service-pros' }, h('legend', { text: `${t('professionals')} (${t('commission')} %)` }));
  const picks = state.ctx.pros.map((p) => {
    const a = assigned.find((x) => x.user_id === p.id);
    const on = h('input', { type: 'checkbox', id: `sp-on-${p.id}`, 'data-pro': p.id });
    const pct = h('input', { type: 'number', min: 0, max: 100, step: 1, id: `sp-pct-${p.id}`, 'data-pro': p.id });
    on.checked = !!a;
    pct.value = a ? a.commission_pct : 40;
    pros.append(h('div', { class: 'row' },
      h('label', { for: on.id, class: 'check' }, on, ` ${p.first_name} ${p.last_name}`),
      h('div', { class: 'field' }, h('label', { for: pct.id, text: `${t('commission')} % · ${p.first_name} ${p.last_name}` }), pct,
        h('p', { class: 'field-error', 'data-for': `sp-${p.id}`, role: 'alert' }))));
    return { id: p.id, on, pct };
  });
  form.append(h('h2', { text: svc ? `${t('edit')}: ${svc.name}` : t('new_service') }),
    field(t('name'), name, 'name'), field(t('duration_min'), duration, 'duration_min'),
    field(t('price_mxn'), price, 'price_cents'), field(t('color'), color, 'color'),
    h('div', { class: 'field' }, h('label', { for: 'svc-active', class: 'check' }, Object.assign(active, { id: 'svc-active' }), ` ${t('active')}`),
      h('p', { class: 'field-error', 'data-for': 'active', role: 'alert' })),
    pros, h('p', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', id: 'service-save', text: t('save') }),
      h('button', { type: 'button', id: 'service-close', onclick: () => onSaved(null), text: t('cancel') })));
  let id = svc ? svc.id : null;
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = picks.filter((p) => p.on.checked);
    const fields = {};
    chosen.forEach((p, i) => { fields[`professionals[${i}].commission_pct`] = `sp-${p.id}`; fields[`professionals[${i}].user_id`] = `sp-${p.id}`; fields[`professionals[${i}]`] = `sp-${p.id}`; });
    const body = { name: name.value.trim(), duration_min: Number(duration.value), color: colorTouched || id ? color.value : undefined, active: active.checked,
      price_cents: price.value === '' ? -1 : Math.round(Number(price.value) * 100) };
    try {
      const saved = id ? await api('PATCH', `/services/${id}`, body) : await api('POST', '/services', body);
      id = saved.id;
      form.dataset.id = id;
      await api('PUT', `/services/${id}/professionals`, { professionals: chosen.map((p) => ({ user_id: p.id, commission_pct: Number(p.pct.value) })) });
      toast(t('saved'));
      onSaved(saved);
    } catch (err) { showMapped(form, err, fields); }
  });
  return form;
}

function hoursForm(wh, onSaved) {
  const form = h('form', { class: 'card', id: 'hours-form', novalidate: true });
  const rows = [];
  const table = h('div', { class: 'hours-days' });
  const addRow = (box, day, from, to) => {
    const n = rows.length;
    const start = h('input', { type: 'time', value: from, 'aria-label': `${t('weekday')[day]} · ${t('from')}`, 'data-day': day, class: 'wh-start' });
    const end = h('input', { type: 'time', value: to, 'aria-label': `${t('weekday')[day]} · ${t('to')}`, 'data-day': day, class: 'wh-end' });
    const row = { day, start, end, key: `wh-${n}` };
    const el = h('div', { class: 'row wh-row', 'data-day': day }, start, '–', end,
      h('button', { type: 'button', class: 'wh-remove', 'aria-label': `${t('remove')} · ${t('weekday')[day]}`, text: '✕',
        onclick: () => { rows.splice(rows.indexOf(row), 1); el.remove(); } }),
      h('p', { class: 'field-error', 'data-for': row.key, role: 'alert' }));
    rows.push(row);
    box.append(el);
  };
  for (const d of [1, 2, 3, 4, 5, 6, 0]) {
    const box = h('div', { class: 'wh-list' });
    table.append(h('div', { class: 'wh-day', 'data-day': d }, h('strong', { text: t('weekday')[d] }), box,
      h('button', { type: 'button', class: 'wh-add', 'data-day': d, 'aria-label': `${t('add_interval')} · ${t('weekday')[d]}`, text: '+ ' + t('add_interval'),
        onclick: () => addRow(box, d, '09:00', '18:00') })));
    for (const w of wh.filter((x) => x.day_of_week === d)) addRow(box, d, w.start_time, w.end_time);
  }
  form.append(table, h('p', { class: 'muted', text: t('empty_closed') }), h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit', class: 'primary', id: 'hours-save', text: t('save') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fields = {};
    rows.forEach((r, i) => { for (const f of ['', '.start_time', '.end_time', '.day_of_week']) fields[`hours[${i}]${f}`] = r.key; });
    try {
      await api('PUT', '/working-hours', { branch_id: state.branch, user_id: null,
        hours: rows.map((r) => ({ day_of_week: r.day, start_time: r.start.value, end_time: r.end.value })) });
      toast(t('saved'));
      onSaved();
    } catch (err) { showMapped(form, err, fields); }
  });
  return form;
}

async function renderCatalogue(editing) {
  const c = state.ctx;
  const edit = canEditCatalogue();
  // The list in the context is what booking offers: refresh it after an edit.
  c.services = (await api('GET', '/services')).items;
  const svcRows = [];
  for (const s of c.services) {
    const ps = (await api('GET', `/services/${s.id}/professionals`)).items;
    const sw = h('span', { class: 'swatch' });
    sw.style.backgroundColor = s.color || '#999';
    svcRows.push(h('tr', { 'data-id': s.id, class: s.active ? null : 'inactive' }, h('td', {}, sw, s.name, s.active ? '' : ` (${t('inactive')})`),
      h('td', { text: `${s.duration_min} min` }), h('td', { text: money(s.price_cents) }),
      h('td', { text: ps.map((p) => `${p.first_name} ${p.last_name} (${p.commission_pct}%)`).join(', ') }),
      edit ? h('td', {}, h('button', { type: 'button', class: 'svc-edit', 'data-id': s.id, 'aria-label': `${t('edit')}: ${s.name}`, text: t('edit'),
        onclick: () => renderCatalogue(s.id) })) : null));
  }
  const users = (await api('GET', '/users')).items;
  const wh = (await api('GET', '/working-hours' + qs({ branch_id: state.branch }))).items.filter((w) => w.user_id === null);
  const hoursRows = [1, 2, 3, 4, 5, 6, 0].map((d) => {
    const w = wh.filter((x) => x.day_of_week === d);
    return h('tr', {}, h('td', { text: t('weekday')[d] }), h('td', { text: w.length ? w.map((x) => `${x.start_time}–${x.end_time}`).join(', ') : t('closed') }));
  });
  // After a save the form closes and the focus goes to the saved row's Edit button.
  const done = (saved) => renderCatalogue().then(() => {
    const row = saved && document.querySelector(`tr[data-id="${saved.id}"] .svc-edit`);
    if (row) row.focus();
  });
  let formEl = null;
  if (edit && editing !== undefined)
    formEl = await serviceForm(editing === 'new' ? null : c.services.find((s) => s.id === editing), done);
  const branch = c.branches.find((b) => b.id === state.branch);
  if (stale('catalogue')) return;
  screen(t('catalogue'),
    h('h2', { text: t('services') }),
    h('table', { class: 'list', id: 'services' }, h('thead', {}, h('tr', {}, [t('service'), t('duration'), t('price'), `${t('professionals')} (${t('commission')})`, edit ? '' : null]
      .filter((x) => x !== null).map((x) => h('th', { text: x })))), h('tbody', {}, svcRows)),
    edit ? h('div', { class: 'actions' }, h('button', { type: 'button', id: 'service-new', onclick: () => renderCatalogue('new'), text: '+ ' + t('new_service') })) : null,
    formEl,
    h('h2', { text: t('staff') }),
    h('table', { class: 'list' }, h('thead', {}, h('tr', {}, [t('first_name'), t('email'), t('role')].map((x) => h('th', { text: x })))),
      h('tbody', {}, users.map((u) => h('tr', {}, h('td', { text: `${u.first_name} ${u.last_name}` }), h('td', { text: u.email }), h('td', { text: t('role_' + u.role) }))))),
    h('h2', { text: `${t('hours')}${branch ? ' · ' + branch.name : ''}` }), h('table', { class: 'list', id: 'hours' }, h('tbody', {}, hoursRows)),
    edit ? h('h3', { text: t('edit_hours') }) : null,
    edit ? hoursForm(wh, () => renderCatalogue()) : null);
  if (formEl) formEl.querySelector('input').focus();
}

// ---- data safety (master admin) ------------------------------------------------------
const TIER_SLACK_H = { daily: 0, weekly: 7 * 24, monthly: 31 * 24 };
// The daily tier is required; the others are optional: never used yet is grey, not red.
function ageClass(tier, ageS, maxH) {
  if (ageS === null || ageS === undefined) return tier === 'daily' ? 'red' : 'grey';
  if (!(tier in TIER_SLACK_H)) return 'grey';
  const limit = (maxH + TIER_SLACK_H[tier]) * 3600;
  return ageS > limit ? 'red' : ageS > limit * 0.75 ? 'amber' : 'green';
}
function ageText(s, tier) {
  if (s === null || s === undefined) return tier && tier !== 'daily' ? t('not_used_yet') : t('never');
  return s >= 3600 ? `${Math.floor(s / 3600)} ${t('hours_ago')} ${Math.floor((s % 3600) / 60)} ${t('minutes_ago')}` : `${Math.floor(s / 60)} ${t('minutes_ago')}`;
}

// The master's own time zone (the browser's), for every time on this page.
function localZone() { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; }
function tierName(x) { const v = t('tier_' + x); return v === 'tier_' + x ? x : v; }

// Sizes as bars (left axis, bytes) and durations as dots (right axis, seconds),
// one per backup in time order (bottom axis, local time), with a legend.
function chart(items, durations) {
  const NS = 'http://www.w3.org/2000/svg';
  const W = 640, H = 240, L = 64, R = 56, T = 16, B = 56;
  const svg = document.createElementNS(NS, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('chart'));
  const el = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text) e.textContent = text; svg.append(e); return e; };
  const pts = items.slice().sort((a, b) => a.time.localeCompare(b.time));
  const y0 = H - B, ih = H - B - T, iw = W - L - R;
  el('line', { x1: L, y1: y0, x2: W - R, y2: y0, class: 'axis' });
  el('line', { x1: L, y1: T, x2: L, y2: y0, class: 'axis' });
  el('line', { x1: W - R, y1: T, x2: W - R, y2: y0, class: 'axis' });
  if (!pts.length) { el('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, t('none')); return svg; }
  const maxB = Math.max(...pts.map((p) => p.size_bytes), 1);
  const known = pts.filter((p) => durations[p.file] !== undefined);
  const maxD = Math.max(...known.map((p) => durations[p.file]), 0.01);
  for (const f of [0, 0.5, 1]) {
    const y = y0 - f * ih;
    el('text', { x: L - 4, y: y + 4, 'text-anchor': 'end', class: 'tick' }, bytes(maxB * f));
    if (known.length) el('text', { x: W - R + 4, y: y + 4, class: 'tick' }, `${(maxD * f).toFixed(maxD < 10 ? 1 : 0)} s`);
  }
  el('text', { x: 4, y: T - 4, class: 'legend' }, t('size'));
  if (known.length) el('text', { x: W - 4, y: T - 4, 'text-anchor': 'end', class: 'legend' }, t('duration_s'));
  const step = iw / pts.length;
  const bw = Math.max(3, step - 4);
  pts.forEach((p, i) => {
    const x = L + 2 + i * step;
    const bh = (p.size_bytes / maxB) * ih;
    const r = el('rect', { x, y: y0 - bh, width: bw, height: bh, class: `bar tier-${p.tier}` });
    const tt = document.createElementNS(NS, 'title'); tt.textContent = `${p.file}: ${bytes(p.size_bytes)}`; r.append(tt);
    if (durations[p.file] !== undefined) el('circle', { cx: x + bw / 2, cy: y0 - (durations[p.file] / maxD) * ih, r: 3.5, class: 'dot' });
  });
  const fmt = (p) => fmtDateTime(p.time + 'Z', localZone());
  el('text', { x: L, y: y0 + 16, class: 'tick' }, fmt(pts[0]));
  if (pts.length > 1) el('text', { x: W - R, y: y0 + 16, 'text-anchor': 'end', class: 'tick' }, fmt(pts[pts.length - 1]));
  // The legend: one swatch per tier present, and the dot.
  let lx = L;
  for (const tr of [...new Set(pts.map((p) => p.tier))]) {
    el('rect', { x: lx, y: H - 18, width: 10, height: 10, class: `bar tier-${tr}` });
    el('text', { x: lx + 14, y: H - 9, class: 'legend' }, tierName(tr));
    lx += 24 + tierName(tr).length * 6.5;
  }
  el('circle', { cx: lx + 5, cy: H - 13, r: 3.5, class: 'dot' });
  el('text', { x: lx + 14, y: H - 9, class: 'legend' }, t('duration_s'));
  return svg;
}

async function pollJob(id, progress) {
  for (;;) {
    const j = (await api('GET', `/admin/backups/jobs/${id}`)).job;
    if (j.status !== 'running') return j;
    progress.textContent = t('running');
    await new Promise((r) => setTimeout(r, 300));
  }
}

// The continuous archive (GET /admin/backups "archive"): its range in the browser's time,
// with seconds, and its health: green ok, amber lagging, red failing, grey not used.
const ARCHIVE_CLASS = { ok: 'green', lagging: 'amber', failing: 'red', off: 'grey' };
function fmtMoment(iso) { return new Intl.DateTimeFormat(locale(), { timeZone: localZone(), dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' }).format(new Date(iso)); }
function archiveSection(a) {
  if (!a) return null;
  const fill = (s, v) => Object.entries(v).reduce((x, [k, y]) => x.replace(`{${k}}`, y), s);
  const code = a.code ? t('archive_code_' + a.code) : null;
  const state = h('p', { id: 'archive-state', class: `banner ${ARCHIVE_CLASS[a.health] || 'grey'}`, 'data-health': a.health,
    text: [t('archive_' + a.health), code && !code.startsWith('archive_code_') ? code : a.code].filter(Boolean).join(' · ') });
  const range = a.from ? fill(t('archive_range'), { from: fmtMoment(a.from), to: fmtMoment(a.to), n: a.seconds_ago }) : t('archive_none');
  return h('section', { id: 'archive', 'data-kind': a.kind }, h('h2', { text: t('archive') }), state,
    a.health === 'off' && !a.from ? h('p', { class: 'muted', text: t('archive_off_help') }) : null,
    h('p', { id: 'archive-range', text: range }),
    a.from ? h('p', { class: 'muted', id: 'archive-counts', text: fill(t('archive_counts_' + a.kind), { b: a.bases, s: a.segments }) }) : null,
    a.health !== 'off' ? h('p', { class: 'muted', id: 'archive-lag', text: fill(t('archive_lag'), { n: Math.round(a.lag_seconds), max: a.max_lag_seconds })
      + (a.reported ? ` · ${t('archive_reported')}: ${fmtMoment(a.reported)}` : '') }) : null);
}

async function renderSafety() {
  const stats = await api('GET', '/admin/stats');
  const list = await api('GET', '/admin/backups');
  const b = stats.backups;
  const maxH = b.max_age_hours;
  const durations = {};
  for (const tr of Object.values(b.tiers)) for (const k of ['newest', 'newest_good']) if (tr[k]) durations[tr[k].file] = tr[k].duration_seconds;
  const tiers = h('table', { class: 'list', id: 'tiers' }, h('thead', {}, h('tr', {}, [t('tier'), t('file'), t('age'), t('size')].map((x) => h('th', { text: x })))),
    h('tbody', {}, Object.entries(b.tiers).map(([name, tr]) => {
      const n = tr.newest;
      const cls = ageClass(name, n ? n.age_seconds : null, maxH);
      return h('tr', { 'data-tier': name }, h('td', { text: tierName(name) }), h('td', { text: n ? n.file : '—' }),
        h('td', {}, h('span', { class: `age ${cls}`, 'data-age': n ? n.age_seconds : '', text: ageText(n ? n.age_seconds : null, name) })),
        h('td', { text: n ? bytes(n.size_bytes) : '—' }));
    })));
  // The banner says the worst of: overdue, and the latest verification (stored by
  // the server, so it survives a reload) finding damaged backups.
  const lv = list.last_verify || null;
  const seen = list.items.map((it) => it.verify || state.verify[it.file]).filter(Boolean);
  const damaged = lv ? lv.damaged : seen.filter((v) => !v.ok).length;
  const bad = b.stale || !b.newest_good || damaged > 0;
  const bannerText = [b.stale || !b.newest_good ? t('stale') : t('fresh'), `${t('max_age')}: ${maxH} h`];
  if (damaged > 0) bannerText.unshift(t('damaged_n').replace('{n}', damaged));
  if (lv && lv.at) bannerText.push(`${t('last_verify')}: ${fmtDateTime(lv.at, localZone())}${damaged ? '' : ' · ' + t('all_ok')}`);
  const overall = h('p', { id: 'overall', class: `banner ${bad ? 'red' : 'green'}`, text: bannerText.join(' · ') });
  const vol = b.volume;
  const space = vol ? h('p', { id: 'free-space' }, `${t('free_space')}: ${bytes(vol.free_bytes)} / ${bytes(vol.total_bytes)}`,
    h('meter', { min: 0, max: vol.total_bytes, value: vol.free_bytes, low: vol.total_bytes * 0.1, optimum: vol.total_bytes })) : null;
  const cmd = h('pre', { id: 'restore-cmd', class: 'cmd' });
  const progress = h('p', { id: 'progress', role: 'status' });
  const rows = list.items.map((it) => {
    const v = it.verify || state.verify[it.file];
    return h('tr', { 'data-file': it.file }, h('td', {}, h('label', {}, h('input', { type: 'radio', name: 'pick', onchange: () => { cmd.textContent = `citaplanner backup restore ${it.path}`; } }), ' ', it.file)),
      h('td', { text: tierName(it.tier) }), h('td', { class: 'origin', text: t(`origin_${(it.origin || 'citaplanner').replace(' ', '_')}`) }),
      h('td', { text: bytes(it.size_bytes) }), h('td', { text: fmtDateTime(it.time + 'Z', localZone()) }),
      h('td', { class: v === undefined ? 'muted' : v.ok ? 'ok' : 'bad', title: v && !v.ok && v.error ? v.error : null, text: (v === undefined ? t('not_verified') : v.ok ? t('ok') : t('failed'))
        + (v && v.at ? ` · ${fmtDateTime(v.at, localZone())}` : '') }));
  });
  const run = async (path, body) => {
    progress.textContent = t('running');
    try {
      const r = await api('POST', path, body);
      const j = await pollJob(r.job.id, progress);
      if (j.result && Array.isArray(j.result.files)) for (const f of j.result.files) state.verify[f.file] = f;
      progress.textContent = j.status === 'succeeded' ? t('job_done') : `${t('failed')}: ${j.error}`;
      await renderSafety();
      document.getElementById('progress').textContent = progress.textContent;
    } catch (err) { progress.textContent = errorText(err); }
  };
  if (['login', 'admin-login'].includes(parseHash().name)) return;
  screen(t('safety'), overall,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'backup-now', onclick: () => run('/admin/backups'), text: t('backup_now') }),
      h('button', { type: 'button', id: 'verify-all', onclick: () => run('/admin/backups/verify', {}), text: t('verify_all') })), progress,
    archiveSection(list.archive),
    h('h2', { text: t('newest_backup') }), tiers, space,
    h('h2', { text: t('chart') }), chart(list.items, durations),
    h('h2', { text: `${t('backups')} (${list.count})` }),
    h('table', { class: 'list', id: 'backups' }, h('thead', {}, h('tr', {}, [t('file'), t('tier'), t('origin'), t('size'), t('time'), t('verified')].map((x) => h('th', { text: x })))), h('tbody', {}, rows)),
    h('h2', { text: t('restore_cmd') }), h('p', { class: 'muted', text: t('restore_help') }), cmd,
    h('h2', { text: t('database') }), h('p', { text: `${stats.database.kind} · ${stats.database.server_version} · ${bytes(stats.database.size_bytes)}` }));
}

// ---- router -------------------------------------------------------------------------
async function route() {
  const { name, arg, params } = parseHash();
  const s = session.load();
  try {
    if (name === 'admin-login') { renderHeader(); return renderLogin(true); }
    if (name === 'login') {
      // #/login never ends a session: with a good cookie it goes on to where it was asked to.
      const next = params.get('next');
      if (s && s.kind === 'master') { location.hash = '#/safety'; return undefined; }
      if (s) {
        try {
          if (!state.ctx) await loadContext();
          location.hash = next && next.startsWith('#/') && !next.startsWith('#/login') ? next : agendaHash();
          return undefined;
        } catch (err) {
          if (!(err instanceof ApiError && err.status === 401)) throw err;
          session.clear(); state.ctx = null; state.expired = true;
        }
      }
      renderHeader();
      return renderLogin(false, next);
    }
    if (!s) {
      location.hash = '#/login' + (name !== 'agenda' || params.toString() ? '?next=' + encodeURIComponent(location.hash) : '');
      return undefined;
    }
    if (s.kind === 'master') {
      renderHeader();
      return await renderSafety();
    }
    if (!state.ctx) await loadContext();
    renderHeader();
    if (name === 'new') return await renderNew(params);
    if (name === 'appt') return await renderAppt(Number(arg));
    if (name === 'clients') return await renderClients();
    if (name === 'client') return await renderClient(arg);
    if (name === 'catalogue') return await renderCatalogue();
    if (name === 'staff') return await renderStaff({ h, field, screen: screenOf('staff'), toast, showErrors, ctx: state.ctx, branch: state.branch, zone: tz(), id: arg,
      fmtDateTime: (iso) => fmtDateTime(iso), reload: () => { state.ctx = null; },
      go: (hash) => { if (location.hash === hash) route(); else location.hash = hash; } });
    if (name === 'online') return await renderOnline({ h, field, screen: screenOf('online'), toast, showErrors, role: role() });
    if (name === 'sales') return await renderSales({ h, field, screen: screenOf('sales'), toast, showErrors, ctx: state.ctx, role: role() });
    if (name === 'cash') return await renderCash({ h, field, screen: screenOf('cash'), toast, showErrors, ctx: state.ctx, date: arg });
    if (name === 'commissions') return await renderCommissions({ h, field, screen: screenOf('commissions'), toast, showErrors, ctx: state.ctx, role: role() });
    if (name === 'reports') return await renderReports({ h, field, screen: screenOf('reports'), toast, ctx: state.ctx });
    if (name === 'notify') return await renderNotify({ h, field, screen: screenOf('notify'), toast, showErrors, role: role() });
    agendaFromParams(params);
    const focus = pendingFocus;
    pendingFocus = null;
    return await renderAgenda(focus);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      // The session ended (expired, or ended elsewhere): say so, and come back here after the login.
      const master = s && s.kind === 'master';
      state.expired = !!s;
      session.clear(); state.ctx = null;
      location.hash = master ? '#/admin-login' : '#/login?next=' + encodeURIComponent(location.hash || '#/agenda');
      return undefined;
    }
    screen(t('error_title'), h('p', { class: 'form-error', role: 'alert', text: errorText(err) }),
      h('button', { type: 'button', id: 'retry', onclick: () => route(), text: t('retry') }));
    return undefined;
  }
}

document.getElementById('lang').value = lang();
document.getElementById('busy').textContent = t('loading');
setLang(lang());
document.getElementById('lang').addEventListener('change', (e) => { setLang(e.target.value); document.getElementById('busy').textContent = t('loading'); route(); });
document.getElementById('logout').addEventListener('click', async () => {
  const master = isMaster();
  try { await api('POST', master ? '/admin/logout' : '/auth/logout', {}); } catch { /* the session may be gone already */ }
  session.clear(); state.ctx = null; state.expired = false;
  location.hash = master ? '#/admin-login' : '#/login';
});
window.addEventListener('hashchange', route);
route();
