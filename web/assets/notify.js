// Notifications to clients (issue 17): the settings (channels, credentials
// that are only ever "set"/"not set", reminder times, quiet hours), the
// templates with a preview, and the log of messages with a resend button.
// ADMIN edits; MANAGER sees; RECEPTIONIST sees the log.  Also the message
// history of one appointment (renderApptMessages, used by app.js).
import { api, qs } from './api.js';
import { t } from './i18n.js';
import { errorText as errText } from './errors.js';

function messageRows(h, items, onResend) {
  return h('table', { class: 'nt-log' },
    h('thead', {}, h('tr', {}, ['nt_when', 'nt_channel', 'nt_kind', 'status', 'nt_attempts', 'nt_provider_id', 'nt_error', '']
      .map((k) => h('th', { text: k ? t(k) : '' })))),
    h('tbody', {}, items.map((m) => h('tr', { 'data-id': m.id, class: `nt-${m.status}` },
      h('td', { text: new Date(m.send_at).toLocaleString() }), h('td', { text: t(`ch_${m.channel}`) }),
      h('td', { text: t(`kind_${m.kind}`) }), h('td', { class: 'nt-status', text: t(`ms_${m.status}`) }),
      h('td', { text: String(m.attempts) }), h('td', { text: m.provider_id || '' }), h('td', { text: m.error || '' }),
      h('td', {}, ['sent', 'failed', 'void'].includes(m.status) && onResend
        ? h('button', { type: 'button', class: 'nt-resend', onclick: () => onResend(m), text: t('nt_resend') }) : null)))));
}

export async function renderApptMessages(h, id, toast) {
  const box = h('section', { id: 'appt-messages' }, h('h3', { text: t('nt_history') }));
  try {
    const r = await api('GET', '/notifications/messages' + qs({ appointment_id: id }));
    const resend = async (m) => {
      try { await api('POST', `/notifications/messages/${m.id}/resend`, {}); toast(t('nt_resent')); } catch (err) { toast(errText(err), true); }
    };
    box.append(r.items.length ? messageRows(h, r.items, resend) : h('p', { class: 'muted', text: t('none') }));
  } catch { return null; /* a role that may not read the log sees nothing */ }
  return box;
}

export async function renderNotify({ h, field, screen, toast, showErrors, role }) {
  const admin = role === 'ADMIN';
  const parts = [];
  if (role === 'ADMIN' || role === 'MANAGER') {
    const s = await api('GET', '/notifications/settings');
    const ro = !admin;
    const cb = (id, v) => h('input', { id, type: 'checkbox', checked: v, disabled: ro });
    const txt = (id, v, type = 'text') => h('input', { id, type, value: v || '', disabled: ro, autocomplete: 'off' });
    const secret = (id, state) => h('input', { id, type: 'password', placeholder: t(state === 'set' ? 'nt_set' : 'nt_not_set'), disabled: ro, autocomplete: 'new-password' });
    const el = {
      email: cb('nt-email', s.email_enabled), wa: cb('nt-whatsapp', s.whatsapp_enabled), sms: cb('nt-sms', s.sms_enabled),
      lang: h('select', { id: 'nt-lang', disabled: ro }, ['es', 'en'].map((l) => h('option', { value: l, selected: l === s.language, text: t(`lang_${l}`) }))),
      offsets: txt('nt-offsets', s.reminder_offsets_min.map((m) => m / 60).join(', ')),
      qs: txt('nt-quiet-start', s.quiet_start, 'time'), qe: txt('nt-quiet-end', s.quiet_end, 'time'),
      giveup: txt('nt-giveup', String(s.give_up_min), 'number'),
      waId: txt('nt-wa-id', s.whatsapp_phone_number_id), waToken: secret('nt-wa-token', s.whatsapp_token),
      waSecret: secret('nt-wa-secret', s.whatsapp_app_secret),
      twSid: txt('nt-tw-sid', s.twilio_account_sid), twToken: secret('nt-tw-token', s.twilio_auth_token), twFrom: txt('nt-tw-from', s.twilio_from),
    };
    const form = h('form', { id: 'notify-form', class: 'inline-form' },
      h('fieldset', {}, h('legend', { text: t('nt_channels') }),
        h('label', {}, el.wa, ' WhatsApp'), ' ', h('label', {}, el.sms, ' SMS'), ' ', h('label', {}, el.email, ` ${t('email')}`)),
      field(t('nt_language'), el.lang, 'language'), field(t('nt_offsets'), el.offsets, 'reminder_offsets_min'),
      field(t('nt_quiet_start'), el.qs, 'quiet_start'), field(t('nt_quiet_end'), el.qe, 'quiet_end'),
      field(t('nt_giveup'), el.giveup, 'give_up_min'),
      h('fieldset', {}, h('legend', { text: 'WhatsApp Cloud API' }), field(t('nt_wa_id'), el.waId, 'whatsapp_phone_number_id'),
        field(`${t('nt_wa_token')} (${t(s.whatsapp_token === 'set' ? 'nt_set' : 'nt_not_set')})`, el.waToken, 'whatsapp_token'),
        field(`${t('nt_wa_secret')} (${t(s.whatsapp_app_secret === 'set' ? 'nt_set' : 'nt_not_set')})`, el.waSecret, 'whatsapp_app_secret')),
      h('fieldset', {}, h('legend', { text: 'Twilio (SMS)' }), field(t('nt_tw_sid'), el.twSid, 'twilio_account_sid'),
        field(`${t('nt_tw_token')} (${t(s.twilio_auth_token === 'set' ? 'nt_set' : 'nt_not_set')})`, el.twToken, 'twilio_auth_token'),
        field(t('nt_tw_from'), el.twFrom, 'twilio_from')),
      h('p', { class: 'form-error', role: 'alert' }),
      ro ? h('p', { class: 'muted', text: t('ob_readonly') }) : h('button', { type: 'submit', id: 'nt-save', class: 'primary', text: t('save') }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {
        email_enabled: el.email.checked, whatsapp_enabled: el.wa.checked, sms_enabled: el.sms.checked, language: el.lang.value,
        reminder_offsets_min: el.offsets.value.split(/[,\s]+/).filter(Boolean).map((x) => Math.round(Number(x) * 60)),
        quiet_start: el.qs.value || null, quiet_end: el.qe.value || null, give_up_min: Number(el.giveup.value),
        whatsapp_phone_number_id: el.waId.value.trim() || null, twilio_account_sid: el.twSid.value.trim() || null,
        twilio_from: el.twFrom.value.trim() || null,
      };
      // a credential is sent only when typed: empty keeps the stored one
      if (el.waToken.value) body.whatsapp_token = el.waToken.value;
      if (el.waSecret.value) body.whatsapp_app_secret = el.waSecret.value;
      if (el.twToken.value) body.twilio_auth_token = el.twToken.value;
      try {
        await api('PUT', '/notifications/settings', body);
        toast(t('saved'));
        await renderNotify({ h, field, screen, toast, showErrors, role });
      } catch (err) { err.message = errText(err); showErrors(form, err); }
    });
    parts.push(form);

    // one template at a time: pick channel, kind and language; preview before saving
    const pick = (id, values, prefix) => h('select', { id }, values.map((v) => h('option', { value: v, text: t(`${prefix}${v}`) })));
    const ch = pick('tp-channel', ['whatsapp', 'sms', 'email'], 'ch_');
    const kind = pick('tp-kind', ['confirmation', 'reminder', 'reschedule', 'cancellation'], 'kind_');
    const tl = pick('tp-lang', ['es', 'en'], 'lang_');
    const subject = h('input', { id: 'tp-subject', disabled: ro });
    const body = h('textarea', { id: 'tp-body', rows: 4, disabled: ro });
    const preview = h('pre', { id: 'tp-preview', class: 'nt-preview' });
    const current = () => s.templates.find((x) => x.channel === ch.value && x.kind === kind.value && x.language === tl.value);
    const load = () => { const x = current(); subject.value = x.subject || ''; body.value = x.body; preview.textContent = ''; };
    [ch, kind, tl].forEach((x) => x.addEventListener('change', load));
    const tform = h('form', { id: 'template-form', class: 'inline-form' }, h('h2', { text: t('nt_templates') }),
      field(t('nt_channel'), ch, 'channel'), field(t('nt_kind'), kind, 'kind'), field(t('nt_language'), tl, 'language'),
      field(t('nt_subject'), subject, 'subject'), field(t('nt_body'), body, 'body'),
      h('p', { class: 'muted', text: `${t('nt_variables')}: ${s.variables.map((v) => `{{${v}}}`).join(' ')}` }),
      h('p', { class: 'form-error', role: 'alert' }),
      h('button', { type: 'button', id: 'tp-preview-btn', text: t('nt_preview'), onclick: async () => {
        try {
          const p = await api('POST', '/notifications/preview', { channel: ch.value, kind: kind.value, language: tl.value, body: body.value, subject: subject.value || null });
          preview.textContent = (p.subject ? `${p.subject}\n\n` : '') + p.body;
        } catch (err) { err.message = errText(err); showErrors(tform, err); }
      } }),
      ro ? null : h('button', { type: 'submit', id: 'tp-save', class: 'primary', text: t('save') }), preview);
    tform.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const r = await api('PUT', '/notifications/templates', { channel: ch.value, kind: kind.value, language: tl.value, body: body.value, subject: subject.value || null });
        s.templates = r.templates;
        toast(t('saved'));
      } catch (err) { err.message = errText(err); showErrors(tform, err); }
    });
    load();
    parts.push(tform);
  }
  const log = h('section', { id: 'nt-log' }, h('h2', { text: t('nt_log') }));
  const fill = async () => {
    const r = await api('GET', '/notifications/messages' + qs({ limit: 200 }));
    while (log.childNodes.length > 1) log.lastChild.remove();
    log.append(r.items.length ? messageRows(h, r.items.reverse(), async (m) => {
      try { await api('POST', `/notifications/messages/${m.id}/resend`, {}); toast(t('nt_resent')); await fill(); } catch (err) { toast(errText(err), true); }
    }) : h('p', { class: 'muted', text: t('none') }));
  };
  await fill();
  parts.push(log);
  screen(t('notifications'), ...parts);
}
