// The API's error codes in the interface's language (es-MX first, English).
// The server's own message is English for developers: it is never shown.
// What it carries that a person needs (the bounds of a number, the length of
// a text) is read from it and formatted here; a code this file does not know
// gives a generic sentence and the code, never the raw message.
import { lang, locale, money, t } from './i18n.js';

const CODES = {
  es: {
    invalid: 'El valor de «{field}» no es válido.',
    invalid_empty: '«{field}» no puede quedar vacío.',
    invalid_range: '«{field}» debe estar entre {min} y {max}.',
    invalid_length: '«{field}» debe tener de {min} a {max} caracteres.',
    invalid_phone: '«{field}» debe ser un teléfono de 8 a 15 dígitos (con + opcional).',
    invalid_time: '«{field}» debe ser una hora HH:MM de 00:00 a 23:59.',
    invalid_date: '«{field}» debe ser una fecha válida.',
    invalid_order: '«{field}» debe ser posterior al inicio.',
    invalid_json: 'La solicitud no se pudo leer. Vuelve a intentarlo.',
    required: 'Falta «{field}».',
    not_found: 'No se encontró. Quizá alguien más lo borró.',
    forbidden: 'Tu rol no puede hacer esto.',
    unauthorized: 'Tu sesión terminó. Inicia sesión de nuevo.',
    invalid_credentials: 'Correo o contraseña incorrectos.',
    csrf: 'Tu sesión cambió en otra pestaña. Vuelve a cargar la página.',
    rate_limited: 'Demasiados intentos. Espera un momento y vuelve a intentarlo.',
    server_busy: 'El servidor está ocupado. Vuelve a intentarlo en unos segundos.',
    internal: 'Error interno del servidor. Vuelve a intentarlo; si se repite, avisa al administrador.',
    unavailable: 'El servicio no está disponible en este momento.',
    payload_too_large: 'Lo que enviaste es demasiado grande.',
    bad_request: 'El servidor no entendió la solicitud. Recarga la página e inténtalo de nuevo.',
    expectation_failed: 'El servidor no entendió la solicitud. Recarga la página e inténtalo de nuevo.',
    headers_too_large: 'La solicitud es demasiado grande. Recarga la página e inténtalo de nuevo.',
    http_version_not_supported: 'El servidor no entendió la solicitud. Recarga la página e inténtalo de nuevo.',
    not_implemented: 'El servidor no admite esta operación.',
    stock_negative: 'Con ese movimiento las existencias quedarían negativas en un momento posterior.',
    uri_too_long: 'La dirección es demasiado larga. Acorta la búsqueda e inténtalo de nuevo.',
    request_timeout: 'La solicitud tardó demasiado en llegar. Revisa tu conexión e inténtalo de nuevo.',
    unsupported_media_type: 'Formato de solicitud no admitido.',
    method_not_allowed: 'Esa acción no está permitida aquí.',
    duplicate: 'Ya existe un registro con ese dato.',
    duplicate_phone: 'Ya existe un cliente con ese teléfono.',
    conflict: 'Alguien más cambió esto al mismo tiempo. Vuelve a cargar.',
    inactive: 'Está desactivado.',
    invalid_transition: 'La cita no puede pasar a ese estado desde el actual.',
    slot_taken: 'Ese horario acaba de ser reservado por alguien más.',
    overlap: 'Se empalma con otra cita del profesional.',
    outside_working_hours: 'Ese horario está fuera del horario de trabajo.',
    not_offered: 'Ese profesional no ofrece ese servicio en esta sucursal.',
    professional_unavailable: 'El profesional no está disponible en ese horario (no ofrece el servicio o tiene tiempo libre).',
    appointments_outside_hours: 'Hay citas que quedarían fuera del horario.',
    no_show_before_start: 'Solo se marca «No asistió» después de la hora de inicio.',
    uncancel_expired: 'Una cancelación solo se deshace el mismo día.',
    too_soon: 'Ese horario es demasiado pronto para reservar.',
    too_far: 'Ese horario está demasiado lejos para reservar.',
    not_bookable: 'Ese servicio no se puede reservar en línea.',
    not_open: 'Las reservas en línea están cerradas.',
    cutoff_passed: 'Ya pasó el límite para cambiar o cancelar.',
    link_invalid: 'El enlace no es válido.',
    link_expired: 'El enlace caducó.',
    no_link: 'No hay enlace para esta cita.',
    idempotency_key_reused: 'Esa operación ya se envió con otros datos.',
    job_running: 'Ya hay una tarea en curso. Espera a que termine.',
    in_progress: 'Ya hay una tarea en curso.',
    secrets_key_unavailable: 'Falta la llave para guardar secretos en el servidor.',
    overpayment: 'El pago excede lo que falta por pagar ({due}).',
    nothing_due: 'La cita ya está pagada.',
    appointment_closed: 'La cita está cancelada o el cliente no asistió.',
    deposit_too_late: 'El anticipo se toma antes de la cita.',
    over_refund: 'El reembolso excede lo que queda de ese pago.',
    not_refundable: 'Un reembolso no se puede reembolsar.',
    already_discounted: 'La cita ya tiene un descuento.',
    discount_exceeds_price: 'El descuento es mayor que el precio.',
    discount_below_paid: 'Con ese descuento el precio quedaría por debajo de lo pagado.',
    discount_over_limit: 'Tu rol no puede dar un descuento tan grande.',
    not_a_deposit: 'Solo se retiene un anticipo.',
    appointment_not_cancelled: 'El anticipo se retiene solo si la cita se canceló o el cliente no asistió.',
    nothing_to_retain: 'El anticipo ya fue reembolsado o retenido.',
    day_closed: 'El corte de caja de ese día ya se hizo.',
    insufficient_stock: 'No hay existencias suficientes del producto.',
    payment_mismatch: 'Los pagos no suman el total de la venta.',
    already_closed: 'Ese corte de caja ya se hizo.',
    already_paid: 'Esa comisión ya se marcó como pagada.',
    template_unknown_variable: 'La plantilla usa una variable que no existe.',
    template_syntax: 'A la plantilla le falta un "{{" o un "}}".',
    template_variable_unavailable: 'La plantilla usa {{manage_link}}, pero las reservas en línea están apagadas.',
    message_in_flight: 'Ese mensaje todavía está en espera de envío.',
    signature_invalid: 'La firma de la solicitud no es válida.',
    rejected: 'No se pudo aceptar esta reserva.',
    network: 'No hay conexión con el servidor. Revisa la red y vuelve a intentarlo.',
    generic: 'Algo salió mal',
  },
  en: {
    invalid: 'The value of "{field}" is not valid.',
    invalid_empty: '"{field}" must not be empty.',
    invalid_range: '"{field}" must be between {min} and {max}.',
    invalid_length: '"{field}" must be {min} to {max} characters long.',
    invalid_phone: '"{field}" must be a phone number of 8 to 15 digits (optionally after +).',
    invalid_time: '"{field}" must be a time HH:MM from 00:00 to 23:59.',
    invalid_date: '"{field}" must be a valid date.',
    invalid_order: '"{field}" must be after the start.',
    invalid_json: 'The request could not be read. Try again.',
    required: '"{field}" is missing.',
    not_found: 'Not found. Someone else may have deleted it.',
    forbidden: 'Your role may not do this.',
    unauthorized: 'Your session has ended. Log in again.',
    invalid_credentials: 'Wrong email or password.',
    csrf: 'Your session changed in another tab. Reload the page.',
    rate_limited: 'Too many attempts. Wait a moment and try again.',
    server_busy: 'The server is busy. Try again in a few seconds.',
    internal: 'Internal server error. Try again; if it happens again, tell the administrator.',
    unavailable: 'The service is unavailable right now.',
    payload_too_large: 'What you sent is too large.',
    bad_request: 'The server did not understand the request. Reload the page and try again.',
    expectation_failed: 'The server did not understand the request. Reload the page and try again.',
    headers_too_large: 'The request is too large. Reload the page and try again.',
    http_version_not_supported: 'The server did not understand the request. Reload the page and try again.',
    not_implemented: 'The server does not support this operation.',
    stock_negative: 'With that movement the stock would fall below zero at a later moment.',
    uri_too_long: 'The address is too long. Shorten the search and try again.',
    request_timeout: 'The request took too long to arrive. Check your connection and try again.',
    unsupported_media_type: 'Unsupported request format.',
    method_not_allowed: 'That action is not allowed here.',
    duplicate: 'A record with that value exists already.',
    duplicate_phone: 'A client with that phone number exists already.',
    conflict: 'Someone else changed this at the same time. Reload.',
    inactive: 'It is deactivated.',
    invalid_transition: 'The appointment cannot go to that status from the current one.',
    slot_taken: 'Someone else has just booked that time.',
    overlap: 'It overlaps another appointment of the professional.',
    outside_working_hours: 'That time is outside the working hours.',
    not_offered: 'That professional does not offer that service at this branch.',
    professional_unavailable: 'The professional is not available then (does not offer the service or is off).',
    appointments_outside_hours: 'Some appointments would fall outside the hours.',
    no_show_before_start: 'A no-show is marked only after the start time.',
    uncancel_expired: 'A cancellation can be undone on the same day only.',
    too_soon: 'That time is too soon to book.',
    too_far: 'That time is too far ahead to book.',
    not_bookable: 'That service cannot be booked online.',
    not_open: 'Online booking is closed.',
    cutoff_passed: 'The time limit to change or cancel has passed.',
    link_invalid: 'The link is not valid.',
    link_expired: 'The link has expired.',
    no_link: 'There is no link for this appointment.',
    idempotency_key_reused: 'That operation was sent already with other data.',
    job_running: 'A task is running already. Wait for it to finish.',
    in_progress: 'A task is running already.',
    secrets_key_unavailable: 'The server lacks the key to store secrets.',
    overpayment: 'The payment is more than what is left to pay ({due}).',
    nothing_due: 'The appointment is paid already.',
    appointment_closed: 'The appointment is cancelled or a no-show.',
    deposit_too_late: 'A deposit is taken before the appointment.',
    over_refund: 'The refund is more than what is left of that payment.',
    not_refundable: 'A refund cannot be refunded.',
    already_discounted: 'The appointment has a discount already.',
    discount_exceeds_price: 'The discount is more than the price.',
    discount_below_paid: 'With that discount the price would be below what was paid.',
    discount_over_limit: 'Your role may not give such a discount.',
    not_a_deposit: 'Only a deposit is retained.',
    appointment_not_cancelled: 'A deposit is retained only after a cancellation or a no-show.',
    nothing_to_retain: 'The deposit was refunded or retained already.',
    day_closed: 'That day\'s cash close is done.',
    insufficient_stock: 'Not enough stock of the product.',
    payment_mismatch: 'The payments do not add up to the sale\'s total.',
    already_closed: 'That cash close is done already.',
    already_paid: 'That commission was marked paid already.',
    template_unknown_variable: 'The template uses a variable that does not exist.',
    template_syntax: 'The template lacks a "{{" or a "}}".',
    template_variable_unavailable: 'The template uses {{manage_link}}, but online booking is off.',
    message_in_flight: 'That message is still waiting to be sent.',
    signature_invalid: 'The request\'s signature is not valid.',
    rejected: 'This booking cannot be accepted.',
    network: 'No connection to the server. Check the network and try again.',
    generic: 'Something went wrong',
  },
};

// API field names to the labels the forms show (i18n keys).
const FIELDS = {
  price_cents: 'price', duration_min: 'duration_min', service_id: 'service', professional_id: 'professional',
  branch_id: 'branch', client_id: 'client', amount_cents: 'amount', commission_pct: 'commission', user_id: 'professional',
  start: 'start_time', end: 'end_time', start_time: 'start_time', end_time: 'end_time', day_of_week: 'weekday_one',
  first_name: 'first_name', last_name: 'last_name', phone: 'phone', email: 'email', notes: 'notes', name: 'name',
  color: 'color', status: 'status', password: 'password', reason: 'reason', role: 'role', date: 'date',
  timezone: 'timezone', active: 'active', tip_cents: 'tip', discount_cents: 'discount',
};

export function fieldLabel(f) {
  if (!f) return '';
  const last = String(f).split('.').pop().replace(/\[\d+\]$/, '');
  const k = FIELDS[last];
  const v = k ? t(k) : last;
  return typeof v === 'string' ? v : last;
}

function num(s, field) {
  const n = Number(s);
  if (/_cents$/.test(field || '')) return money(n);
  return new Intl.NumberFormat(locale()).format(n);
}

function fill(tpl, vars) { return tpl.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? vars[k] : m)); }

// The key and values of an "invalid" answer, from the shape of its message.
function invalidKey(err, field) {
  const m = String(err.serverMessage !== undefined ? err.serverMessage : err.message || '');
  let r = m.match(/between (-?\d+) and (-?\d+)/);
  if (r) return ['invalid_range', { min: num(r[1], field), max: num(r[2], field) }];
  r = m.match(/must be (\d+) to (\d+) characters/);
  if (r) return ['invalid_length', { min: num(r[1]), max: num(r[2]) }];
  if (/must not be empty/.test(m)) return ['invalid_empty', {}];
  if (/after|later than|before/.test(m)) return ['invalid_order', {}];
  if (/phone number/.test(m)) return ['invalid_phone', {}];
  if (/time of day/.test(m)) return ['invalid_time', {}];
  if (/date|RFC 3339/.test(m)) return ['invalid_date', {}];
  return ['invalid', {}];
}

export function hasCode(code) { return code in CODES.es && code in CODES.en; }

// The sentence for err (an ApiError, a TypeError of fetch, anything).
export function errorText(err) {
  const S = CODES[lang()];
  if (!err) return S.generic;
  if (!err.code || err.code === 'error') {
    if (err.name === 'TypeError' || /fetch|network/i.test(String(err.message))) return S.network;
    return `${S.generic} (${err.status ? 'HTTP ' + err.status : 'error'})`;
  }
  const field = err.apiField || err.field || '';
  const vars = { field: fieldLabel(field) };
  let key = err.code;
  if (key === 'invalid') {
    const [k, v] = invalidKey(err, field);
    key = k; Object.assign(vars, v);
  } else if (key === 'duplicate' && field === 'phone') key = 'duplicate_phone';
  const body = err.body && err.body.error;
  if (body && body.due_cents !== undefined) vars.due = money(body.due_cents);
  const tpl = S[key];
  if (tpl === undefined) return `${S.generic} (${err.code})`;
  return fill(tpl, vars).replace(/ ?\(\{\w+\}\)/g, '').replace(/«»|""/g, '').replace(/\s+\./g, '.');
}
