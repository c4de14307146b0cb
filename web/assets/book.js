// The public booking page /b/{tenant}/{branch}: a client books, then sees,
// moves or cancels the booking from the link it gets (#m=TOKEN, the fragment
// never reaches a server).  Spanish (es-MX) by default, English by choice.
// Steps: service -> professional (or anyone) -> day and time -> name and
// phone -> confirm.  Every text comes from STRINGS; error codes of the API
// are translated here.

const STRINGS = {
  es: {
    title: 'Reservar cita', lang: 'Idioma', step: 'Paso', of: 'de', service: 'Elige el servicio',
    pro: 'Elige con quién', anyone: 'Cualquiera disponible', anyone_sub: 'El primer horario libre',
    when: 'Elige día y hora', no_times: 'No hay horarios libres este día. Prueba otro día.',
    you: 'Tus datos', first_name: 'Nombre', last_name: 'Apellido', phone: 'Celular',
    phone_hint: 'Con lada si no es de México, p. ej. +1 415 555 0100', email: 'Correo (opcional)',
    confirm: 'Confirmar cita', sending: 'Enviando…', back: 'Atrás', min: 'min',
    booked: '¡Listo! Tu cita quedó reservada.', pending: 'El salón la confirmará pronto.',
    keep_link: 'Guarda este enlace para ver, cambiar o cancelar tu cita:', manage: 'Tu cita',
    cancel: 'Cancelar la cita', reschedule: 'Cambiar día u hora', cancelled: 'Tu cita fue cancelada.',
    moved: 'Tu cita fue cambiada.', confirm_cancel: 'Sí, cancelar', keep: 'No, conservarla',
    change_until: 'Puedes cambiarla o cancelarla hasta', no_change: 'Ya no se puede cambiar en línea: llama al salón.',
    hours: 'Horario', map: 'Ver en el mapa', call: 'Llamar', closed: 'Cerrado',
    weekday: ['Domingo', 'Lunes', 'Martes', 'Miércoles', 'Jueves', 'Viernes', 'Sábado'],
    status: { PENDING: 'Pendiente de confirmar', CONFIRMED: 'Confirmada', CANCELLED: 'Cancelada', COMPLETED: 'Realizada', NO_SHOW: 'No asistió' },
    err: {
      slot_taken: 'Alguien acaba de reservar ese horario. Estos son los horarios libres actualizados.',
      too_soon: 'Ese horario está demasiado cerca: elige uno más adelante.',
      too_far: 'Ese día está demasiado lejos para reservar en línea.',
      not_bookable: 'Este servicio no se puede reservar en línea.',
      rate_limited: 'Demasiados intentos. Espera un momento y vuelve a intentarlo.',
      server_busy: 'Hay demasiadas conexiones en este momento. Vuelve a intentarlo en unos segundos.',
      link_invalid: 'Este enlace no es válido.', link_expired: 'Este enlace ya expiró: la cita ya pasó.',
      cutoff_passed: 'Ya no se puede cambiar en línea: llama al salón.',
      not_open: 'Esta cita ya no se puede cambiar.', not_found: 'No hay reservas en línea en esta dirección.',
      invalid: 'Revisa el campo marcado.', rejected: 'No pudimos aceptar esta reserva.',
      network: 'Sin conexión. Vuelve a intentarlo.', other: 'Algo salió mal. Vuelve a intentarlo.',
    },
  },
  en: {
    title: 'Book an appointment', lang: 'Language', step: 'Step', of: 'of', service: 'Choose a service',
    pro: 'Choose who', anyone: 'Anyone available', anyone_sub: 'The first free time',
    when: 'Choose a day and time', no_times: 'No free times this day. Try another day.',
    you: 'Your details', first_name: 'First name', last_name: 'Last name', phone: 'Mobile number',
    phone_hint: 'With the country code if not from Mexico, e.g. +1 415 555 0100', email: 'Email (optional)',
    confirm: 'Confirm appointment', sending: 'Sending…', back: 'Back', min: 'min',
    booked: 'Done! Your appointment is booked.', pending: 'The salon will confirm it soon.',
    keep_link: 'Keep this link to see, change or cancel your appointment:', manage: 'Your appointment',
    cancel: 'Cancel the appointment', reschedule: 'Change day or time', cancelled: 'Your appointment was cancelled.',
    moved: 'Your appointment was changed.', confirm_cancel: 'Yes, cancel', keep: 'No, keep it',
    change_until: 'You can change or cancel it until', no_change: 'It can no longer be changed online: call the salon.',
    hours: 'Opening hours', map: 'See on the map', call: 'Call', closed: 'Closed',
    weekday: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    status: { PENDING: 'Waiting for confirmation', CONFIRMED: 'Confirmed', CANCELLED: 'Cancelled', COMPLETED: 'Done', NO_SHOW: 'No-show' },
    err: {
      slot_taken: 'Someone just booked that time. Here are the free times, updated.',
      too_soon: 'That time is too close: choose a later one.',
      too_far: 'That day is too far ahead to book online.',
      not_bookable: 'This service cannot be booked online.',
      rate_limited: 'Too many attempts. Wait a moment and try again.',
      server_busy: 'Too many connections right now. Try again in a few seconds.',
      link_invalid: 'This link is not valid.', link_expired: 'This link has expired: the appointment is over.',
      cutoff_passed: 'It can no longer be changed online: call the salon.',
      not_open: 'This appointment can no longer be changed.', not_found: 'There is no online booking at this address.',
      invalid: 'Check the highlighted field.', rejected: 'We could not accept this booking.',
      network: 'No connection. Try again.', other: 'Something went wrong. Try again.',
    },
  },
};

const params = new URLSearchParams(location.search);
let lang = params.get('lang') === 'en' ? 'en' : (localStorage.getItem('cp-book-lang') || 'es');
const T = () => STRINGS[lang];
const [, , tenant, branch] = location.pathname.split('/');
const BASE = `/api/v1/public/b/${encodeURIComponent(tenant || '')}/${encodeURIComponent(branch || '')}`;
const main = document.getElementById('main');
const state = { info: null, service: null, pro: null, day: null, start: null, token: null, booking: null, key: null };
let render = () => {};

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) if (k !== null && k !== undefined && k !== false) el.append(k);
  return el;
}

function say(text) { document.getElementById('msg').textContent = text || ''; }

async function api(method, path, body, headers) {
  const opts = { method, headers: Object.assign({ Accept: 'application/json' }, headers || {}) };
  if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
  let r;
  try { r = await fetch(path, opts); } catch (e) { return { status: 0, body: { error: { code: 'network' } } }; }
  let data = null;
  try { data = await r.json(); } catch (e) { data = null; }
  return { status: r.status, body: data };
}

function errText(res) {
  const code = res.body && res.body.error && res.body.error.code;
  return T().err[code] || T().err.other;
}

const locale = () => (lang === 'en' ? 'en-US' : 'es-MX');
const money = (cents) => new Intl.NumberFormat(locale(), { style: 'currency', currency: state.info.tenant.currency }).format(cents / 100);
const hhmm = (rfc) => rfc.slice(11, 16);
function dayLabel(iso, long) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Intl.DateTimeFormat(locale(), long ? { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' }
    : { weekday: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}
function todayIn(tz) { return new Intl.DateTimeFormat('en-CA', { timeZone: tz }).format(new Date()); }
function addDays(iso, n) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// The accent colour of the salon, with black or white text, whichever reads better.
function applyColour(hex) {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const L = 0.2126 * lin(n >> 16) + 0.7152 * lin((n >> 8) & 255) + 0.0722 * lin(n & 255);
  document.documentElement.style.setProperty('--accent', hex);
  document.documentElement.style.setProperty('--on-accent', (1.05 / (L + 0.05)) >= 4.5 ? '#fff' : '#000');
}

function stepTitle(n, total, text) {
  return [h('p', { class: 'step', text: `${T().step} ${n} ${T().of} ${total}` }), h('h2', { text, tabindex: '-1', id: 'step-title' })];
}
function focusTitle() { const t = document.getElementById('step-title'); if (t) t.focus(); }

function viewServices() {
  main.replaceChildren(...stepTitle(1, 4, T().service), h('ul', { class: 'list' },
    state.info.services.map((s) => h('li', {}, h('button', {
      type: 'button', class: 'choice', 'data-service': s.id,
      onclick: () => { state.service = s; state.pro = null; render = viewPros; render(); focusTitle(); },
    }, h('span', {}, s.name, h('br'), h('span', { class: 'sub', text: `${s.duration_min} ${T().min}` })),
      h('span', { text: money(s.price_cents) })))),
  ));
}

function viewPros() {
  const pros = state.info.professionals.filter((p) => p.service_ids.includes(state.service.id));
  const pick = (p) => { state.pro = p; state.day = null; render = viewTimes; render(); focusTitle(); };
  main.replaceChildren(...stepTitle(2, 4, T().pro), h('ul', { class: 'list' },
    h('li', {}, h('button', { type: 'button', class: 'choice', 'data-pro': 'any', onclick: () => pick(null) },
      h('span', {}, T().anyone, h('br'), h('span', { class: 'sub', text: T().anyone_sub })))),
    pros.map((p) => h('li', {}, h('button', { type: 'button', class: 'choice', 'data-pro': p.id, onclick: () => pick(p) },
      h('span', { text: `${p.first_name} ${p.last_initial}`.trim() }))))),
  h('button', { type: 'button', class: 'back', onclick: () => { render = viewServices; render(); }, text: T().back }));
}

// Day chips and the free times of the chosen day (the first day with times by default).
async function viewTimes(opts) {
  const o = opts || {};
  const tz = state.info.branch.timezone;
  const horizon = Math.min(state.info.rules.horizon_days, 28);
  const days = Array.from({ length: horizon + 1 }, (_, i) => addDays(todayIn(tz), i));
  const timesPath = (day) => {
    const q = `service_id=${state.service.id}&date=${day}` + (state.pro ? `&professional_id=${state.pro.id}` : '');
    return state.token ? `/api/v1/public/manage/times?${q}` : `${BASE}/times?${q}`;
  };
  const headers = state.token ? { 'X-Manage-Token': state.token } : undefined;
  let times = null;
  if (!state.day) {
    for (const d of days.slice(0, 14)) {
      const r = await api('GET', timesPath(d), undefined, headers);
      if (r.status !== 200) { say(errText(r)); return; }
      if (r.body.times.length) { state.day = d; times = r.body.times; break; }
    }
    if (!state.day) state.day = days[0];
  }
  if (!times) {
    const r = await api('GET', timesPath(state.day), undefined, headers);
    if (r.status !== 200) { say(errText(r)); return; }
    times = r.body.times;
  }
  const total = state.token ? 1 : 4;
  main.replaceChildren(...stepTitle(state.token ? 1 : 3, total, T().when),
    h('ul', { class: 'days', 'aria-label': T().when }, days.map((d) => h('li', {}, h('button', {
      type: 'button', class: 'day', 'data-day': d, 'aria-pressed': String(d === state.day),
      onclick: () => { state.day = d; viewTimes({ keepMsg: false }); },
    }, dayLabel(d, false))))),
    h('h3', { class: 'sr-only', text: dayLabel(state.day, true) }),
    times.length ? h('ul', { class: 'times', 'aria-label': dayLabel(state.day, true) }, times.map((t) => h('li', {}, h('button', {
      type: 'button', class: 'time', 'data-start': t.start,
      onclick: () => (state.token ? moveTo(t) : chooseTime(t)),
    }, hhmm(t.start))))) : h('p', { text: T().no_times }),
    h('button', { type: 'button', class: 'back', text: T().back,
      onclick: () => { say(''); render = state.token ? viewManage : viewPros; render(); } }));
  const pressed = main.querySelector('.day[aria-pressed="true"]');
  if (pressed) pressed.scrollIntoView({ block: 'nearest', inline: 'center' });
  if (!o.keepMsg) say('');
}

function chooseTime(t) {
  state.start = t.start;
  state.key = null;
  render = viewForm;
  render();
  say('');
  document.getElementById('first_name').focus();
}

function field(id, label, attrs, hint) {
  return h('label', { class: 'field', for: id }, label,
    h('input', Object.assign({ id, name: id, 'aria-describedby': hint ? `${id}-hint` : null }, attrs)),
    hint ? h('span', { id: `${id}-hint`, class: 'muted', text: hint }) : null);
}

function summary() {
  const pro = state.pro ? `${state.pro.first_name} ${state.pro.last_initial}` : T().anyone;
  return h('div', { class: 'summary' },
    h('p', {}, h('strong', { text: state.service.name }), ` · ${state.service.duration_min} ${T().min} · ${money(state.service.price_cents)}`),
    h('p', { text: `${dayLabel(state.start.slice(0, 10), true)}, ${hhmm(state.start)} · ${pro}` }));
}

function viewForm() {
  const saved = JSON.parse(sessionStorage.getItem('cp-book-you') || '{}');
  const form = h('form', { novalidate: true, onsubmit: submit },
    field('first_name', T().first_name, { required: true, autocomplete: 'given-name', maxlength: '100', value: saved.first_name || '' }),
    field('last_name', T().last_name, { required: true, autocomplete: 'family-name', maxlength: '100', value: saved.last_name || '' }),
    field('phone', T().phone, { required: true, type: 'tel', autocomplete: 'tel', inputmode: 'tel', maxlength: '40', value: saved.phone || '' }, T().phone_hint),
    field('email', T().email, { type: 'email', autocomplete: 'email', maxlength: '254', value: saved.email || '' }),
    h('div', { class: 'hp', 'aria-hidden': 'true' }, h('label', { for: 'website', text: 'Website' }, h('input', { id: 'website', name: 'website', tabindex: '-1', autocomplete: 'off' }))),
    state.info.rules.message ? h('p', { class: 'note', text: state.info.rules.message }) : null,
    h('button', { type: 'submit', class: 'primary', id: 'confirm', text: T().confirm }));
  main.replaceChildren(...stepTitle(4, 4, T().you), summary(), form,
    h('button', { type: 'button', class: 'back', text: T().back, onclick: () => { render = viewTimes; render(); } }));
}

async function submit(ev) {
  ev.preventDefault();
  const btn = document.getElementById('confirm');
  if (btn.disabled) return;
  const v = (id) => document.getElementById(id).value.trim();
  const body = { service_id: state.service.id, professional_id: state.pro ? state.pro.id : null, start: state.start,
    first_name: v('first_name'), last_name: v('last_name'), phone: v('phone'), email: v('email') || null,
    website: document.getElementById('website').value };
  for (const id of ['first_name', 'last_name', 'phone']) {
    const input = document.getElementById(id);
    input.removeAttribute('aria-invalid');
    if (!body[id]) { input.setAttribute('aria-invalid', 'true'); input.focus(); say(T().err.invalid); return; }
  }
  sessionStorage.setItem('cp-book-you', JSON.stringify({ first_name: body.first_name, last_name: body.last_name, phone: body.phone, email: body.email || '' }));
  // One key per submission: a double tap or a retry of the same answer books once.
  const sig = JSON.stringify(body);
  if (!state.key || state.keySig !== sig) { state.key = crypto.randomUUID(); state.keySig = sig; }
  btn.disabled = true;
  btn.textContent = T().sending;
  const r = await api('POST', `${BASE}/bookings`, body, { 'Idempotency-Key': state.key });
  btn.disabled = false;
  btn.textContent = T().confirm;
  if (r.status === 201 || r.status === 200) {
    state.token = r.body.manage_token;
    state.booking = r.body.booking;
    history.replaceState(null, '', `#m=${state.token}`);
    render = viewManage;
    render({ justBooked: true });
    focusTitle();
    return;
  }
  if (r.body && r.body.error && r.body.error.code === 'slot_taken') {
    state.start = null;
    render = viewTimes;
    await viewTimes({ keepMsg: true });
    say(T().err.slot_taken);
    focusTitle();
    return;
  }
  const f = r.body && r.body.error && r.body.error.field;
  if (f && document.getElementById(f)) { document.getElementById(f).setAttribute('aria-invalid', 'true'); document.getElementById(f).focus(); }
  say(errText(r));
}

function viewManage(opts) {
  const o = opts || {};
  const b = state.booking;
  const link = `${location.origin}${location.pathname}#m=${state.token}`;
  const kids = [h('h2', { text: o.justBooked ? T().booked : T().manage, tabindex: '-1', id: 'step-title' })];
  if (o.justBooked && b.status === 'PENDING') kids.push(h('p', { text: T().pending }));
  kids.push(h('div', { class: 'summary', id: 'booking' },
    h('p', {}, h('strong', { text: b.service.name }), ` · ${money(b.price_cents)}`),
    h('p', { text: `${dayLabel(b.start.slice(0, 10), true)}, ${hhmm(b.start)} · ${b.professional.first_name}` }),
    h('p', { id: 'booking-status', text: T().status[b.status] || b.status }),
    h('p', { class: 'muted', text: b.branch.name + (b.branch.address ? ` · ${b.branch.address}` : '') })));
  if (o.justBooked) kids.push(h('p', { text: T().keep_link }), h('p', {}, h('a', { href: link, id: 'manage-link', text: link })));
  if (b.can_change) {
    kids.push(h('p', { class: 'muted', text: `${T().change_until} ${dayLabel(b.change_until.slice(0, 10), true)}, ${hhmm(b.change_until)}` }),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', id: 'reschedule', text: T().reschedule, onclick: startMove }),
        h('button', { type: 'button', class: 'secondary', id: 'cancel', text: T().cancel, onclick: askCancel })));
  } else if (b.status === 'PENDING' || b.status === 'CONFIRMED') {
    kids.push(h('p', { text: T().no_change }));
  }
  main.replaceChildren(...kids);
}

function askCancel() {
  const actions = main.querySelector('.actions');
  actions.replaceChildren(
    h('button', { type: 'button', class: 'primary', id: 'cancel-yes', text: T().confirm_cancel, onclick: doCancel }),
    h('button', { type: 'button', class: 'secondary', id: 'cancel-no', text: T().keep, onclick: () => viewManage() }));
  document.getElementById('cancel-yes').focus();
}

async function doCancel() {
  const r = await api('POST', '/api/v1/public/manage/cancel', undefined, { 'X-Manage-Token': state.token });
  if (r.status !== 200) { say(errText(r)); return; }
  state.booking = r.body.booking;
  render = viewManage;
  viewManage();
  say(T().cancelled);
}

function startMove() {
  state.service = { id: state.booking.service.id };
  state.pro = { id: state.booking.professional.id };
  state.day = state.booking.start.slice(0, 10);
  render = viewTimes;
  viewTimes().then(focusTitle);
}

async function moveTo(t) {
  const r = await api('POST', '/api/v1/public/manage/reschedule', { start: t.start }, { 'X-Manage-Token': state.token });
  if (r.status === 409 && r.body.error.code === 'slot_taken') { await viewTimes({ keepMsg: true }); say(T().err.slot_taken); return; }
  if (r.status !== 200) { say(errText(r)); return; }
  state.booking = r.body.booking;
  render = viewManage;
  viewManage();
  say(T().moved);
  focusTitle();
}

function footer() {
  const i = state.info;
  const byDay = {};
  for (const r of i.branch.hours) (byDay[r.day] = byDay[r.day] || []).push(`${r.start}–${r.end}`);
  const foot = document.getElementById('info');
  foot.replaceChildren(
    i.branch.address ? h('p', {}, i.branch.address, ' · ', h('a', { href: i.branch.map_url, rel: 'noopener noreferrer', target: '_blank', text: T().map })) : null,
    i.branch.phone ? h('p', {}, h('a', { href: `tel:${i.branch.phone.replace(/[^+\d]/g, '')}`, text: `${T().call} ${i.branch.phone}` })) : null,
    h('h2', { text: T().hours }),
    h('ul', {}, [1, 2, 3, 4, 5, 6, 0].map((d) => h('li', { text: `${T().weekday[d]}: ${(byDay[d] || [T().closed]).join(', ')}` }))));
}

function texts() {
  document.documentElement.lang = lang === 'en' ? 'en' : 'es-MX';
  document.getElementById('lang-label').textContent = T().lang;
  document.getElementById('lang').value = lang;
  document.title = state.info ? `${T().title} · ${state.info.tenant.name}` : T().title;
  if (state.info) {
    document.getElementById('salon-name').textContent = state.info.tenant.name;
    document.getElementById('salon-branch').textContent = state.info.branch.name;
    footer();
  } else {
    document.getElementById('salon-name').textContent = T().title;
  }
}

async function start() {
  document.getElementById('lang').addEventListener('change', (ev) => {
    lang = ev.target.value === 'en' ? 'en' : 'es';
    localStorage.setItem('cp-book-lang', lang);
    texts();
    render();
  });
  texts();
  const m = /^#m=([A-Za-z0-9_-]{16,128})$/.exec(location.hash);
  const r = await api('GET', BASE);
  if (r.status === 200) {
    state.info = r.body;
    applyColour(r.body.rules.color);
  }
  if (m) {
    state.token = m[1];
    const v = await api('GET', '/api/v1/public/manage', undefined, { 'X-Manage-Token': state.token });
    if (v.status !== 200) { texts(); main.replaceChildren(h('h2', { text: errText(v) })); return; }
    state.booking = v.body.booking;
    if (!state.info) state.info = { tenant: { name: v.body.booking.branch.name, currency: v.body.booking.currency },
      branch: { name: '', hours: [], timezone: v.body.booking.timezone }, rules: { horizon_days: 60 }, services: [], professionals: [] };
    texts();
    render = viewManage;
    render();
    return;
  }
  if (r.status !== 200) { main.replaceChildren(h('h2', { text: errText(r) })); return; }
  texts();
  render = viewServices;
  render();
}

// Another link pasted over this one (only the fragment differs): start again.
window.addEventListener('hashchange', () => location.reload());
start();
