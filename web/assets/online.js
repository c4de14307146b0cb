// The settings of online booking (issue 18): on/off, the slugs of the link,
// the rules, the services bookable online, and per branch the link, its QR
// code (an SVG made by the server) and the snippets for the salon's website.
// ADMIN edits; MANAGER sees.
import { api } from './api.js';
import { t } from './i18n.js';

export async function renderOnline({ h, field, screen, toast, showErrors, role }) {
  const s = await api('GET', '/online-booking');
  const ro = role !== 'ADMIN';
  const num = (id, value, min, max) => h('input', { id, type: 'number', min: String(min), max: String(max), value: String(value), disabled: ro });
  const enabled = h('input', { id: 'ob-enabled', type: 'checkbox', checked: s.enabled, disabled: ro });
  const tslug = h('input', { id: 'ob-tenant-slug', value: s.tenant_slug || '', maxlength: '50', disabled: ro, autocomplete: 'off' });
  const bslugs = s.branches.map((b) => h('input', { id: `ob-branch-slug-${b.id}`, 'data-branch': b.id, value: b.slug || '', maxlength: '50', disabled: ro, autocomplete: 'off' }));
  const services = h('ul', { class: 'ob-services' }, s.services.filter((x) => x.active).map((x) => h('li', {},
    h('label', {}, h('input', { type: 'checkbox', class: 'ob-service', value: String(x.id), checked: x.online_bookable, disabled: ro }), ` ${x.name}`))));
  const notice = num('ob-notice', s.min_notice_min, 0, 43200);
  const horizon = num('ob-horizon', s.horizon_days, 1, 366);
  const step = h('select', { id: 'ob-step', disabled: ro }, [5, 10, 15, 20, 30, 60].map((m) => h('option', { value: String(m), selected: m === s.step_min, text: String(m) })));
  const initial = h('select', { id: 'ob-initial', disabled: ro }, ['PENDING', 'CONFIRMED'].map((v) => h('option', { value: v, selected: v === s.initial_status, text: t(v) })));
  const cutoff = num('ob-cutoff', s.cancel_cutoff_min, 0, 43200);
  const message = h('textarea', { id: 'ob-message', rows: 2, maxlength: '1000', disabled: ro });
  message.value = s.message || '';
  const color = h('input', { id: 'ob-color', type: 'color', value: s.color, disabled: ro });
  const frames = h('textarea', { id: 'ob-frames', rows: 2, disabled: ro });
  frames.value = s.frame_ancestors.join('\n');
  const country = h('input', { id: 'ob-country', value: s.default_country, maxlength: '3', inputmode: 'numeric', disabled: ro });
  const form = h('form', { id: 'online-form', class: 'inline-form' },
    h('div', { class: 'field' }, h('label', { for: 'ob-enabled' }, enabled, ' ', t('ob_enabled'))),
    field(t('ob_tenant_slug'), tslug, 'tenant_slug'),
    s.branches.map((b, i) => field(`${t('ob_branch_slug')}: ${b.name}`, bslugs[i], 'branches')),
    h('fieldset', {}, h('legend', { text: t('ob_services') }), services),
    field(t('ob_notice'), notice, 'min_notice_min'), field(t('ob_horizon'), horizon, 'horizon_days'),
    field(t('ob_step'), step, 'step_min'), field(t('ob_initial'), initial, 'initial_status'),
    field(t('ob_cutoff'), cutoff, 'cancel_cutoff_min'), field(t('ob_message'), message, 'message'),
    field(t('ob_color'), color, 'color'), field(t('ob_frames'), frames, 'frame_ancestors'),
    field(t('ob_country'), country, 'default_country'),
    h('p', { class: 'form-error', role: 'alert' }),
    ro ? h('p', { class: 'muted', text: t('ob_readonly') }) : h('button', { type: 'submit', id: 'ob-save', class: 'primary', text: t('save') }));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      enabled: enabled.checked, tenant_slug: tslug.value.trim() || null,
      branches: bslugs.map((el) => ({ id: Number(el.dataset.branch), slug: el.value.trim() || null })),
      online_service_ids: [...form.querySelectorAll('.ob-service:checked')].map((el) => Number(el.value)),
      min_notice_min: Number(notice.value), horizon_days: Number(horizon.value), step_min: Number(step.value),
      initial_status: initial.value, cancel_cutoff_min: Number(cutoff.value), message: message.value.trim() || null,
      color: color.value, frame_ancestors: frames.value.split(/\s+/).filter(Boolean), default_country: country.value.trim(),
    };
    try {
      await api('PUT', '/online-booking', body);
      toast(t('saved'));
      await renderOnline({ h, field, screen, toast, showErrors, role });
    } catch (err) { showErrors(form, err); }
  });
  const links = h('section', { id: 'ob-links' }, h('h2', { text: t('ob_links') }), s.branches.map((b) => {
    if (!b.url) return h('p', { class: 'muted', text: `${b.name}: ${t('ob_no_link')}` });
    const button = `<a href="${b.url}" target="_blank" rel="noopener">${t('ob_button')}</a>`;
    const iframe = `<iframe src="${b.url}" title="${t('ob_button')}" width="100%" height="760" loading="lazy"></iframe>`;
    const snippet = h('textarea', { class: 'ob-snippet', id: `ob-snippet-${b.id}`, rows: 4, readonly: true });
    snippet.value = `${button}\n\n${iframe}`;
    return h('div', { class: 'ob-branch', 'data-branch': b.id },
      h('h3', { text: b.name }),
      h('p', {}, `${t('ob_link')}: `, h('a', { href: b.url, target: '_blank', rel: 'noopener', class: 'ob-url', text: b.url })),
      h('img', { class: 'ob-qr', src: `/api/v1/online-booking/qr.svg?branch_id=${b.id}`, alt: `QR: ${b.url}` }),
      field(t('ob_embed'), snippet, `snippet-${b.id}`), h('p', { class: 'muted', text: t('ob_embed_help') }));
  }));
  screen(t('online_booking'), form, links);
}
