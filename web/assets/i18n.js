// Strings of the interface: Spanish (es-MX) by default, English selectable.
const STRINGS = {
  es: {
    lang: 'Idioma', login: 'Iniciar sesión', email: 'Correo electrónico', password: 'Contraseña',
    staff_login: 'Acceso del personal', master_login: 'Acceso del administrador maestro',
    to_master: 'Administrador maestro', to_staff: 'Personal', logout: 'Cerrar sesión',
    agenda: 'Agenda', new_appt: 'Nueva cita', clients: 'Clientes', catalogue: 'Catálogo',
    safety: 'Seguridad de datos', branch: 'Sucursal', date: 'Fecha', day: 'Día', week: 'Semana',
    prev: 'Anterior', next: 'Siguiente', today: 'Hoy', refresh: 'Actualizar', professional: 'Profesional',
    any_pro: 'Cualquiera', client: 'Cliente', service: 'Servicio', search: 'Buscar',
    search_client: 'Buscar por nombre o teléfono', new_client: 'Nuevo cliente',
    first_name: 'Nombre', last_name: 'Apellido', phone: 'Teléfono', notes: 'Notas', save: 'Guardar',
    create: 'Crear', free_times: 'Horarios libres', no_times: 'No hay horarios libres ese día',
    confirm_booking: 'Confirmar cita', booked: 'Cita creada', choose: 'Elegir',
    slot_taken: 'Ese horario acaba de ser reservado por alguien más. Estos son los horarios libres actualizados.',
    status: 'Estado', PENDING: 'Pendiente', CONFIRMED: 'Confirmada', COMPLETED: 'Completada',
    CANCELLED: 'Cancelada', NO_SHOW: 'No asistió', confirm: 'Confirmar', complete: 'Completar',
    cancel: 'Cancelar', no_show: 'No asistió', reschedule: 'Reprogramar', price: 'Precio',
    payments: 'Pagos', record_payment: 'Registrar pago', amount: 'Monto (MXN)', method: 'Método',
    CASH: 'Efectivo', CREDIT_CARD: 'Tarjeta de crédito', DEBIT_CARD: 'Tarjeta de débito',
    TRANSFER: 'Transferencia', OTHER: 'Otro', paid: 'Pagado', saved: 'Guardado', appointment: 'Cita',
    history: 'Historial de citas', edit: 'Editar', more: 'Más', none: 'Nada que mostrar',
    services: 'Servicios', staff: 'Personal', role: 'Rol', hours: 'Horario de la sucursal',
    duration: 'Duración', commission: 'Comisión', professionals: 'Profesionales',
    weekday: ['Domingo', 'Lunes', 'Martes', 'Miércoles', 'Jueves', 'Viernes', 'Sábado'],
    closed: 'Cerrado', newest_backup: 'Respaldo más reciente por nivel', tier: 'Nivel', age: 'Antigüedad',
    backups: 'Respaldos', file: 'Archivo', size: 'Tamaño', time: 'Fecha', verified: 'Verificación',
    not_verified: 'sin verificar', ok: 'correcto', failed: 'falló', free_space: 'Espacio libre en el volumen de respaldos',
    backup_now: 'Respaldar ahora', verify_all: 'Verificar todos', running: 'En curso…',
    restore_cmd: 'Comando para restaurar', restore_help: 'La restauración se hace en la línea de comandos y pide confirmación.',
    chart: 'Tamaño y duración de los respaldos', max_age: 'Antigüedad máxima', never: 'nunca',
    database: 'Base de datos', job_done: 'Terminado', of: 'de', hours_ago: 'h', minutes_ago: 'min',
    stale: 'Respaldo vencido', fresh: 'Respaldo al día', duration_s: 'Duración (s)',
    name: 'Nombre', duration_min: 'Duración (min)', price_mxn: 'Precio (MXN)', color: 'Color',
    active: 'Activo', inactive: 'inactivo', new_service: 'Nuevo servicio', from: 'desde', to: 'hasta',
    remove: 'Quitar', add_interval: 'Agregar horario', edit_hours: 'Editar el horario',
    empty_closed: 'Un día sin horario queda cerrado.',
    online_booking: 'Reservas en línea', source: 'Origen', source_all: 'Todas', source_online: 'En línea',
    source_staff: 'Personal', ob_enabled: 'Aceptar reservas en línea', ob_tenant_slug: 'Identificador del salón en el enlace',
    ob_branch_slug: 'Identificador de la sucursal', ob_services: 'Servicios que se pueden reservar en línea',
    ob_notice: 'Anticipación mínima (minutos)', ob_horizon: 'Con cuántos días de anticipación como máximo',
    ob_step: 'Intervalo entre horarios (minutos)', ob_initial: 'Las reservas en línea empiezan como',
    ob_cutoff: 'Límite para cambiar o cancelar (minutos antes)', ob_message: 'Mensaje antes de confirmar',
    ob_color: 'Color del salón', ob_frames: 'Sitios que pueden mostrar la página en un iframe (uno por línea, https://…)',
    ob_country: 'Lada del país por omisión', ob_links: 'Enlaces y código QR', ob_link: 'Enlace',
    ob_embed: 'Para tu sitio web', ob_embed_help: 'El iframe solo se muestra en los sitios de la lista de arriba.',
    ob_no_link: 'Define los identificadores del salón y de la sucursal para obtener el enlace.',
    ob_button: 'Reservar cita', ob_readonly: 'Solo un ADMIN puede cambiar estos ajustes.',
  },
  en: {
    lang: 'Language', login: 'Log in', email: 'Email', password: 'Password',
    staff_login: 'Staff login', master_login: 'Master admin login',
    to_master: 'Master admin', to_staff: 'Staff', logout: 'Log out',
    agenda: 'Agenda', new_appt: 'New appointment', clients: 'Clients', catalogue: 'Catalogue',
    safety: 'Data safety', branch: 'Branch', date: 'Date', day: 'Day', week: 'Week',
    prev: 'Previous', next: 'Next', today: 'Today', refresh: 'Refresh', professional: 'Professional',
    any_pro: 'Any', client: 'Client', service: 'Service', search: 'Search',
    search_client: 'Search by name or phone', new_client: 'New client',
    first_name: 'First name', last_name: 'Last name', phone: 'Phone', notes: 'Notes', save: 'Save',
    create: 'Create', free_times: 'Free times', no_times: 'No free times that day',
    confirm_booking: 'Confirm appointment', booked: 'Appointment booked', choose: 'Choose',
    slot_taken: 'Someone else has just booked that time. Here are the free times, refreshed.',
    status: 'Status', PENDING: 'Pending', CONFIRMED: 'Confirmed', COMPLETED: 'Completed',
    CANCELLED: 'Cancelled', NO_SHOW: 'No-show', confirm: 'Confirm', complete: 'Complete',
    cancel: 'Cancel', no_show: 'No-show', reschedule: 'Reschedule', price: 'Price',
    payments: 'Payments', record_payment: 'Record payment', amount: 'Amount (MXN)', method: 'Method',
    CASH: 'Cash', CREDIT_CARD: 'Credit card', DEBIT_CARD: 'Debit card',
    TRANSFER: 'Transfer', OTHER: 'Other', paid: 'Paid', saved: 'Saved', appointment: 'Appointment',
    history: 'Appointment history', edit: 'Edit', more: 'More', none: 'Nothing to show',
    services: 'Services', staff: 'Staff', role: 'Role', hours: 'Branch working hours',
    duration: 'Duration', commission: 'Commission', professionals: 'Professionals',
    weekday: ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'],
    closed: 'Closed', newest_backup: 'Newest backup per tier', tier: 'Tier', age: 'Age',
    backups: 'Backups', file: 'File', size: 'Size', time: 'Time', verified: 'Verification',
    not_verified: 'not verified', ok: 'ok', failed: 'failed', free_space: 'Free space on the backup volume',
    backup_now: 'Back up now', verify_all: 'Verify all', running: 'Running…',
    restore_cmd: 'Command to restore', restore_help: 'Restoring is done on the command line and asks for confirmation.',
    chart: 'Backup size and duration', max_age: 'Maximum age', never: 'never',
    database: 'Database', job_done: 'Done', of: 'of', hours_ago: 'h', minutes_ago: 'min',
    stale: 'Backup overdue', fresh: 'Backups up to date', duration_s: 'Duration (s)',
    name: 'Name', duration_min: 'Duration (min)', price_mxn: 'Price (MXN)', color: 'Colour',
    active: 'Active', inactive: 'inactive', new_service: 'New service', from: 'from', to: 'to',
    remove: 'Remove', add_interval: 'Add hours', edit_hours: 'Edit the hours',
    empty_closed: 'A day without hours is closed.',
    online_booking: 'Online booking', source: 'Source', source_all: 'All', source_online: 'Online',
    source_staff: 'Staff', ob_enabled: 'Take online bookings', ob_tenant_slug: 'Salon name in the link',
    ob_branch_slug: 'Branch name in the link', ob_services: 'Services bookable online',
    ob_notice: 'Minimum notice (minutes)', ob_horizon: 'How many days ahead at most',
    ob_step: 'Time between slots (minutes)', ob_initial: 'Online bookings start as',
    ob_cutoff: 'Change or cancel until (minutes before)', ob_message: 'Message before confirming',
    ob_color: 'Salon colour', ob_frames: 'Sites that may show the page in an iframe (one per line, https://…)',
    ob_country: 'Default country calling code', ob_links: 'Links and QR code', ob_link: 'Link',
    ob_embed: 'For your website', ob_embed_help: 'The iframe shows only on the sites listed above.',
    ob_no_link: 'Set the salon and branch names for the link to get it.',
    ob_button: 'Book an appointment', ob_readonly: 'Only an ADMIN can change these settings.',
  },
};

let current = localStorage.getItem('citaplanner.lang') === 'en' ? 'en' : 'es';

export function lang() { return current; }
export function locale() { return current === 'en' ? 'en-US' : 'es-MX'; }
export function setLang(l) {
  current = l === 'en' ? 'en' : 'es';
  localStorage.setItem('citaplanner.lang', current);
  document.documentElement.lang = locale();
}
export function t(key) {
  const v = STRINGS[current][key];
  return v === undefined ? key : v;
}
export function money(cents) {
  return new Intl.NumberFormat(locale(), { style: 'currency', currency: 'MXN' }).format(cents / 100);
}
