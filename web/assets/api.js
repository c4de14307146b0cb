// The JSON API, through the session cookie.  Writes carry the CSRF token
// that login returned (the cookie alone must not be enough: auth.h).
// Kept in localStorage, so that a new tab, a bookmark or a reload finds it;
// the cookie stays the proof (checked with /auth/me on every page load).
const KEY = 'citaplanner.session';

export const session = {
  load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch { return null; }
  },
  save(s) { localStorage.setItem(KEY, JSON.stringify(s)); },
  clear() { localStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || 'error';
    this.field = err.field || null;
    this.body = body;
    this.serverMessage = err.message || '';  // English, for developers: never shown (errors.js)
  }
}

// Requests in flight: the page shows a loading indicator (#busy) meanwhile.
let inflight = 0;
function busy(d) {
  inflight += d;
  const el = document.getElementById('busy');
  if (el) el.hidden = inflight === 0;
}

export async function api(method, path, body) {
  busy(1);
  try { return await call(method, path, body); } finally { busy(-1); }
}

async function call(method, path, body) {
  const s = session.load();
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && s && s.csrf) headers['X-CSRF-Token'] = s.csrf;
  const res = await fetch('/api/v1' + path, {
    method, headers, credentials: 'same-origin',
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
