// Strings of the money screens (issue 19), Spanish (es-MX) and English, and
// the text of every error code the money API answers.  Kept apart from
// i18n.js; mt() falls back to its strings.
import { t, lang, locale } from './i18n.js';
import { errorText } from './errors.js';

const STRINGS = {
  es: {
    sales_list: 'Ventas registradas', sale: 'Venta', when: 'Fecha y hora', concepts: 'Conceptos', concept: 'Concepto',
    methods: 'Formas de pago', who: 'Registró', open: 'Ver', close: 'Cerrar', unit_price: 'Precio unitario', amount_plain: 'Importe',
    SERVICE: 'Servicio', PRODUCT: 'Producto', add_service: 'Agregar servicio', appts_of_day: 'Citas del día', appointment: 'Cita',
    no_appts: 'No hay citas ese día', remove: 'Quitar',
    money_settings: 'Ajustes de cobro', limits_note: 'Descuento máximo por rol, en porcentaje del precio; administración y gerencia no tienen límite.',
    limit_PROFESSIONAL: 'Descuento máximo de profesionales (%)', limit_RECEPTIONIST: 'Descuento máximo de recepción (%)',
    allow_negative_stock: 'Permitir existencias negativas', yes: 'Sí', no: 'No',
    sales: 'Ventas', stock: 'Existencias', new_product: 'Nuevo producto', cost: 'Costo (MXN)', receipt: 'Entrada de mercancía',
    ticket: 'Ticket', add_line: 'Agregar', charge: 'Cobrar', price: 'Precio', amount: 'Monto (MXN)',
    cash_close: 'Corte de caja', opening_float: 'Fondo inicial', cash_in: 'Efectivo del día',
    expected_cash: 'Efectivo esperado', counted_cash: 'Efectivo contado', difference: 'Diferencia',
    close_day: 'Cerrar el día', print: 'Imprimir', net: 'Neto', method: 'Método', branch: 'Sucursal',
    date: 'Fecha', refresh: 'Actualizar', commissions: 'Comisiones', products: 'Productos',
    services: 'Servicios', commission: 'Comisión', total: 'Total', status: 'Estado', mark_paid: 'Marcar pagada',
    paid: 'Pagada', unpaid: 'Pendiente', reports: 'Reportes', report: 'Reporte', group: 'Agrupar por',
    group_day: 'Día', group_week: 'Semana', group_month: 'Mes', all_branches: 'Todas las sucursales',
    export_csv: 'Exportar CSV', chart_of: 'Gráfica de', from: 'Desde', to: 'Hasta', professional: 'Profesional',
    rep_sales: 'Ventas por periodo', rep_by_service: 'Ventas por servicio', rep_top_services: 'Servicios más vendidos',
    rep_by_professional: 'Ventas por profesional', rep_by_method: 'Por forma de pago', rep_top_products: 'Productos más vendidos',
    rep_attendance: 'Cancelaciones e inasistencias', rep_retention: 'Retención de clientes (90 días)',
    col_period: 'Periodo', col_payments_cents: 'Cobrado', col_refunds_cents: 'Reembolsos', col_net_cents: 'Neto',
    col_tips_cents: 'Propinas', col_payments: 'Pagos', col_service: 'Servicio', col_appointments: 'Citas',
    col_revenue_cents: 'Ingresos', col_professional: 'Profesional', col_method: 'Forma de pago', col_movements: 'Movimientos',
    col_sku: 'SKU', col_product: 'Producto', col_quantity: 'Cantidad', col_completed: 'Completadas',
    col_cancelled: 'Canceladas', col_no_show: 'No asistió', col_cancellation_rate_pct: 'Tasa de cancelación',
    col_no_show_rate_pct: 'Tasa de inasistencia', col_clients: 'Clientes', col_returned_within_90_days: 'Volvieron en 90 días',
    col_retention_pct: 'Retención',
    tip: 'Propina (MXN)', tips: 'Propinas', discount: 'Descuento', deposit: 'Anticipo',
    kind: 'Tipo', PAYMENT: 'Pago', DEPOSIT: 'Anticipo', REFUND: 'Reembolso',
    AMOUNT: 'Monto fijo (MXN)', PERCENT: 'Porcentaje (%)', value: 'Valor', reason: 'Motivo',
    give_discount: 'Aplicar descuento', refund: 'Reembolsar', refund_deposit: 'Reembolsar anticipo',
    retain_deposit: 'Retener anticipo', retained: 'Retenido', refunded: 'Reembolsado',
    due: 'A pagar', balance: 'Saldo', paid_total: 'Pagado',
    closed_note: 'La cita fue cancelada o el cliente no asistió: solo se puede reembolsar o retener el anticipo.',
    record_deposit: 'Registrar anticipo', record_payment: 'Registrar pago',
    err_overpayment: 'El pago excede lo que falta por pagar de la cita.',
    err_appointment_closed: 'La cita está cancelada o el cliente no asistió: solo se puede reembolsar o retener el anticipo.',
    err_deposit_too_late: 'El anticipo se toma antes de la cita.',
    err_over_refund: 'El reembolso excede lo que queda de ese pago.',
    err_not_refundable: 'Un reembolso no se puede reembolsar.',
    err_already_discounted: 'La cita ya tiene un descuento.',
    err_discount_exceeds_price: 'El descuento es mayor que el precio.',
    err_discount_below_paid: 'Con ese descuento el precio quedaría por debajo de lo ya pagado; reembolsa primero.',
    err_discount_over_limit: 'Tu rol no puede dar un descuento tan grande.',
    err_not_a_deposit: 'Solo se retiene un anticipo.',
    err_appointment_not_cancelled: 'El anticipo se retiene solo si la cita se canceló o el cliente no asistió.',
    err_nothing_to_retain: 'El anticipo ya fue reembolsado o retenido.',
    err_day_closed: 'El corte de caja de ese día ya se hizo: registra la corrección en otro día.',
    err_insufficient_stock: 'No hay existencias suficientes del producto.',
    err_stock_negative: 'Con ese movimiento las existencias del producto quedarían en {stock} el {at}: movimientos posteriores las necesitan.',
    err_payment_mismatch: 'Los pagos no suman el total de la venta.',
    err_already_closed: 'Ese corte de caja ya se hizo.',
    err_already_paid: 'Esa comisión ya se marcó como pagada.',
    err_duplicate: 'Ya existe.', err_forbidden: 'Tu rol no puede hacer esto.',
    err_not_found: 'No existe.', err_invalid: 'Dato inválido.', err_nothing_due: 'La cita ya está pagada.',
  },
  en: {
    // the list of sales and a sale's detail
    sales_list: 'Recorded sales', sale: 'Sale', when: 'Date and time', concepts: 'Items', concept: 'Item', methods: 'Payment methods',
    who: 'Recorded by', open: 'View', close: 'Close', unit_price: 'Unit price', amount_plain: 'Amount', SERVICE: 'Service', PRODUCT: 'Product',
    // the ticket's services
    add_service: 'Add service', appts_of_day: 'Appointments of the day', appointment: 'Appointment', no_appts: 'No appointments that day',
    remove: 'Remove',
    // the settings
    money_settings: 'Payment settings',
    limits_note: 'Largest discount per role, as a percentage of the price; admins and managers have no limit.',
    limit_PROFESSIONAL: 'Largest discount by professionals (%)', limit_RECEPTIONIST: 'Largest discount by reception (%)', allow_negative_stock: 'Allow negative stock',
    yes: 'Yes', no: 'No',
    sales: 'Sales', stock: 'Stock', new_product: 'New product', cost: 'Cost (MXN)', receipt: 'Goods received',
    ticket: 'Ticket', add_line: 'Add', charge: 'Charge', price: 'Price', amount: 'Amount (MXN)',
    cash_close: 'Cash close', opening_float: 'Opening float', cash_in: 'Cash of the day',
    expected_cash: 'Expected cash', counted_cash: 'Counted cash', difference: 'Difference',
    close_day: 'Close the day', print: 'Print', net: 'Net', method: 'Method', branch: 'Branch',
    date: 'Date', refresh: 'Refresh', commissions: 'Commissions', products: 'Products',
    services: 'Services', commission: 'Commission', total: 'Total', status: 'Status', mark_paid: 'Mark paid',
    paid: 'Paid', unpaid: 'Unpaid', reports: 'Reports', report: 'Report', group: 'Group by',
    group_day: 'Day', group_week: 'Week', group_month: 'Month', all_branches: 'All branches',
    export_csv: 'Export CSV', chart_of: 'Chart of', from: 'From', to: 'To', professional: 'Professional',
    rep_sales: 'Sales by period', rep_by_service: 'Sales by service', rep_top_services: 'Top services',
    rep_by_professional: 'Sales by professional', rep_by_method: 'By payment method', rep_top_products: 'Top products',
    rep_attendance: 'Cancellations and no-shows', rep_retention: 'Client retention (90 days)',
    col_period: 'Period', col_payments_cents: 'Taken', col_refunds_cents: 'Refunds', col_net_cents: 'Net',
    col_tips_cents: 'Tips', col_payments: 'Payments', col_service: 'Service', col_appointments: 'Appointments',
    col_revenue_cents: 'Revenue', col_professional: 'Professional', col_method: 'Payment method', col_movements: 'Movements',
    col_sku: 'SKU', col_product: 'Product', col_quantity: 'Quantity', col_completed: 'Completed',
    col_cancelled: 'Cancelled', col_no_show: 'No-show', col_cancellation_rate_pct: 'Cancellation rate',
    col_no_show_rate_pct: 'No-show rate', col_clients: 'Clients', col_returned_within_90_days: 'Came back within 90 days',
    col_retention_pct: 'Retention',
    tip: 'Tip (MXN)', tips: 'Tips', discount: 'Discount', deposit: 'Deposit',
    kind: 'Kind', PAYMENT: 'Payment', DEPOSIT: 'Deposit', REFUND: 'Refund',
    AMOUNT: 'Fixed amount (MXN)', PERCENT: 'Percentage (%)', value: 'Value', reason: 'Reason',
    give_discount: 'Give discount', refund: 'Refund', refund_deposit: 'Refund deposit',
    retain_deposit: 'Retain deposit', retained: 'Retained', refunded: 'Refunded',
    due: 'Due', balance: 'Balance', paid_total: 'Paid',
    closed_note: 'The appointment was cancelled or a no-show: only its deposit can be refunded or retained.',
    record_deposit: 'Record deposit', record_payment: 'Record payment',
    err_overpayment: 'The payment is more than what is left to pay for the appointment.',
    err_appointment_closed: 'The appointment is cancelled or a no-show: only its deposit can be refunded or retained.',
    err_deposit_too_late: 'A deposit is taken before the appointment.',
    err_over_refund: 'The refund is more than what is left of that payment.',
    err_not_refundable: 'A refund cannot be refunded.',
    err_already_discounted: 'The appointment has a discount already.',
    err_discount_exceeds_price: 'The discount is more than the price.',
    err_discount_below_paid: 'With that discount the price would be below what was paid; refund first.',
    err_discount_over_limit: 'Your role may not give such a discount.',
    err_not_a_deposit: 'Only a deposit is retained.',
    err_appointment_not_cancelled: 'A deposit is retained only after a cancellation or a no-show.',
    err_nothing_to_retain: 'The deposit was refunded or retained already.',
    err_day_closed: 'That day\'s cash close is done: record the correction on another day.',
    err_insufficient_stock: 'Not enough stock of the product.',
    err_stock_negative: 'With that movement the product\'s stock would be {stock} on {at}: later movements need it.',
    err_payment_mismatch: 'The payments do not add up to the sale\'s total.',
    err_already_closed: 'That cash close is done already.',
    err_already_paid: 'That commission was marked paid already.',
    err_duplicate: 'It exists already.', err_forbidden: 'Your role may not do this.',
    err_not_found: 'It does not exist.', err_invalid: 'Invalid value.', err_nothing_due: 'The appointment is paid already.',
  },
};

export function mt(key) {
  const v = STRINGS[lang()][key];
  return v === undefined ? t(key) : v;
}

// The text of an API error in the interface's language: the money screens'
// own wording of a code, else the common one (errors.js), never the server's.
export function errText(err) {
  const v = err && err.code !== 'invalid' ? STRINGS[lang()]['err_' + err.code] : undefined;
  if (v === undefined) return errorText(err);
  // The details some codes carry (stock_negative: the moment and the stock then).
  const d = (err && err.body && err.body.error) || {};
  return v.replace('{stock}', String(d.stock))
    .replace('{at}', d.at ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(d.at)) : '');
}

export function cents(input) { return Math.round(Number(input.value || 0) * 100); }
