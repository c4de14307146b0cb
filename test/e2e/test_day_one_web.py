"""The staff web app on day one (issue 16), in headless Chromium against a
real seeded server on both databases (the site fixture of test_web.py):
confirmations for what cannot be undone, the hash route as the state, the
session kept across tabs and reloads, every API error code translated, no
English or developer text in the Spanish pages, the phone layout, axe-core.
"""
import datetime as dt
import os
import re
import urllib.parse

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.by import By

from conftest import ROOT
from test_online_booking_web import axe_serious
from test_web import FACIAL, PRO1_ID, PRO2_ID, RECEP, browsers_clean, site, weekday_ahead  # noqa: F401

ADMIN = ("admin@citaplanner.com", "admin123")
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


def book(site, token, date, hhmm, pro=PRO1_ID, status=None):
    body = {"client_id": 1, "service_id": FACIAL, "professional_id": pro, "branch_id": 1,
            "start": f"{date}T{hhmm}:00-06:00"}
    if status:
        body["status"] = status
    st, _, a = site.api("POST", "/api/v1/appointments", body, token=token)
    assert st == 201, a
    return a


def shift_back_weeks(site, appt_id, weeks):
    """Move an appointment weeks back, straight in the database (it has started)."""
    if site.db.kind == "sqlite":
        shift = f"strftime('%Y-%m-%d %H:%M:%S', substr({{c}}, 1, 19), '-{7 * weeks} days') || '+00'"
        site.db.query(f"UPDATE appointments SET start_at = {shift.format(c='start_at')}, "
                      f"end_at = {shift.format(c='end_at')} WHERE id = ?", (appt_id,))
    else:
        site.db.query(f"UPDATE appointments SET start_at = start_at - interval '{7 * weeks} days', "
                      f"end_at = end_at - interval '{7 * weeks} days' WHERE id = {int(appt_id)}")


def login_at(b, email, password, fragment):
    """Log in from a fresh browser asking for fragment: the login comes first."""
    b.go(fragment)
    b.wait("#login-form")
    b.fill("#login-form input[name=email]", email)
    b.fill("#login-form input[name=password]", password)
    b.click("#login-form button[type=submit]")


def hash_params(b):
    frag = b.driver.execute_script("return location.hash")
    return frag, dict(urllib.parse.parse_qsl(frag.partition("?")[2]))


# ---- 1. what cannot be taken back asks first ------------------------------------------
def appt_page(site, date, hhmm, **kw):
    """A Facial booked by the receptionist, and her browser on its page."""
    recep = site.token(*RECEP)
    a = book(site, recep, date, hhmm, **kw)
    b = site.browser()
    login_at(b, *RECEP, f"#/appt/{a['id']}")
    return recep, a, b


def test_cancel_asks_for_a_reason_and_no_show_waits_for_the_start(site):
    recep, a, b = appt_page(site, weekday_ahead(3, 1), "10:00")
    b.wait("#act-cancel")
    assert not b.find_all("#act-noshow"), "no-show offered before the appointment started"
    b.click("#act-cancel")
    b.wait("#confirm-dialog #dlg-reason")
    b.click("#dlg-ok")  # no reason: refused in the dialog, nothing sent
    b.wait_text("#dlg-error", "motivo")
    b.click("#dlg-back")
    b.wait_until(lambda: not b.find_all("#confirm-dialog"))
    assert b.find("#appt-status").text == "Pendiente"
    st, _, now = site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)
    assert now["status"] == "PENDING"
    b.click("#act-cancel")
    b.fill("#dlg-reason", "La clienta llamó: está enferma")
    b.click("#dlg-ok")
    b.wait_text("#appt-status", "Cancelada")
    st, _, now = site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)
    assert now["status"] == "CANCELLED"


def test_no_show_is_confirmed_after_the_start(site):
    recep = site.token(*RECEP)
    a = book(site, recep, weekday_ahead(2, 4), "16:00", status="CONFIRMED")
    shift_back_weeks(site, a["id"], 3)  # staff cannot book in the past: the database can
    b = site.browser()
    login_at(b, *RECEP, f"#/appt/{a['id']}")
    b.click("#act-noshow")
    b.wait("#confirm-dialog #dlg-ok")
    b.click("#dlg-back")
    assert b.find("#appt-status").text == "Confirmada"
    b.click("#act-noshow")
    b.click("#dlg-ok")
    b.wait_text("#appt-status", "No asistió")


# ---- 2. the route is the state; the session survives tabs and reloads ----------------------
def test_route_survives_login_reload_back_and_new_tab(site):
    date = weekday_ahead(2, 3)
    want = f"#/agenda?date={date}&view=week&pro={PRO2_ID}&branch=1"
    b = site.browser()
    login_at(b, *RECEP, want)
    b.wait("#agenda .agenda-title")
    frag, p = hash_params(b)
    assert (p["date"], p["view"], p["pro"]) == (date, "week", str(PRO2_ID)), frag
    assert b.find("#agenda-view").get_attribute("value") == "week"
    assert b.find("#agenda-pro").get_attribute("value") == str(PRO2_ID)
    b.driver.refresh()
    b.wait("#agenda .agenda-title")
    assert hash_params(b)[1]["date"] == date
    assert b.find("#agenda-view").get_attribute("value") == "week"
    b.click("#agenda-next")
    nxt = (dt.date.fromisoformat(date) + dt.timedelta(days=7)).isoformat()
    b.wait_until(lambda: hash_params(b)[1].get("date") == nxt)
    assert b.focused("#agenda-next")
    b.driver.back()
    b.wait_until(lambda: hash_params(b)[1].get("date") == date)
    b.wait_until(lambda: b.find("#agenda-date").get_attribute("value") == date)
    # Back to #/login does not end the session: it goes on to the agenda.
    b.go("#/login")
    b.wait("#agenda .agenda-title")
    assert not b.find_all("#login-form")
    # A new tab (same cookie) opens the same route without a login.
    b.driver.switch_to.new_window("tab")
    b.go(want)
    b.wait("#agenda .agenda-title")
    assert b.find("#agenda-pro").get_attribute("value") == str(PRO2_ID)
    assert not b.find_all("#login-form")


def test_expired_session_says_so_and_returns_to_the_route(site):
    b = site.browser()
    login_at(b, *RECEP, "#/clients")
    b.wait("main h1")
    b.wait_until(lambda: b.driver.execute_script("return location.hash") == "#/clients")
    # The session ends on the server (as an expiry would); the page does not know yet.
    b.driver.execute_script(
        "const s = JSON.parse(localStorage.getItem('citaplanner.session'));"
        "return fetch('/api/v1/auth/logout', {method: 'POST', headers: {'X-CSRF-Token': s.csrf}}).then((r) => r.status);")
    b.allow("401")
    b.go("#/new")
    b.wait("#session-expired")
    assert "expiró" in b.find("#session-expired").text
    assert "next=" in b.driver.execute_script("return location.hash")
    b.fill("#login-form input[name=email]", RECEP[0])
    b.fill("#login-form input[name=password]", RECEP[1])
    b.click("#login-form button[type=submit]")
    b.wait("#booking-form")
    assert b.driver.execute_script("return location.hash") == "#/new"


# ---- 3. language: every code translated, no developer text ----------------------------------
def api_error_codes():
    """Every error code the API can return: src/api/error_codes.txt when it is
    there, and every literal code the C sources pass to the error replies."""
    codes = set()
    listed = os.path.join(ROOT, "src", "api", "error_codes.txt")
    if os.path.exists(listed):
        with open(listed, encoding="utf-8") as f:
            codes |= {x.strip() for x in f if x.strip() and not x.startswith("#")}
    call = re.compile(r"\b(http_reply_error|appt_refuse|refuse|pb_refuse)\s*\(([^;]*?)\)\s*;", re.S)
    fields = re.compile(r'"([a-z][a-z_]+)"')
    for d, _, files in os.walk(os.path.join(ROOT, "src")):
        for n in files:
            if n.endswith(".c"):
                with open(os.path.join(d, n), encoding="utf-8") as f:
                    for m in call.finditer(f.read()):
                        found = fields.findall(m.group(2))
                        if found:
                            codes.add(found[0])  # the code comes before the field
    return codes


def test_every_error_code_has_a_translation():
    with open(os.path.join(ROOT, "web", "assets", "errors.js"), encoding="utf-8") as f:
        src = f.read()
    es = src[src.index("  es: {"):src.index("  en: {")]
    en = src[src.index("  en: {"):src.index("// API field names")]
    key = re.compile(r"^\s+([a-z_]+): '", re.M)
    es_keys, en_keys = set(key.findall(es)), set(key.findall(en))
    codes = api_error_codes()
    assert len(codes) > 40, codes
    missing = sorted(c for c in codes if c not in es_keys or c not in en_keys)
    assert missing == [], missing
    assert es_keys == en_keys, es_keys ^ en_keys


ENGLISH = re.compile(r"\b(RECEPTIONIST|PROFESSIONAL|MANAGER|ADMIN|MASTER|PENDING|CONFIRMED|null|undefined|NaN|"
                     r"Failed to fetch|must be|cents|daily|weekly|monthly|premigrate|prerestore)\b|Cliente \?")


def spanish_text(b):
    return b.driver.execute_script("return document.body.innerText")


def test_api_errors_are_translated_and_formatted(site):
    b = site.browser()
    login_at(b, *ADMIN, "#/client/new")
    b.wait("main form")
    b.allow("400")
    b.fill("main form input[name=first_name]", "Ana")
    b.fill("main form input[name=last_name]", "Ríos")
    b.fill("main form input[name=phone]", "12ab")
    b.click("main form button[type=submit]")
    msg = b.wait("main .field-error[data-for=phone]:not(:empty)").text
    assert "Teléfono" in msg and "must" not in msg, msg
    # A number out of range names the bounds as money.
    b.go("#/catalogue")
    b.click("#service-new")
    b.fill("#service-form input[name=name]", "Masaje caro")
    b.fill("#service-form input[name=price_cents]", "9999999999999")
    b.click("#service-save")
    msg = b.wait("#service-form .field-error[data-for=price_cents]:not(:empty)").text
    assert "$" in msg and "cents" not in msg and "must" not in msg, msg
    assert not ENGLISH.search(msg), msg


@pytest.mark.parametrize("who", [RECEP, ADMIN])
def test_spanish_pages_hold_no_english_or_developer_text(site, who):
    recep = site.token(*RECEP)
    a = book(site, recep, weekday_ahead(4, 2), "12:00" if who == RECEP else "13:00")
    b = site.browser()
    login_at(b, *who, "#/agenda")
    b.wait("#agenda .agenda-title")
    pages = ["#/agenda", "#/new", f"#/appt/{a['id']}", "#/clients", "#/client/1", "#/client/new"]
    if who == ADMIN:
        pages += ["#/catalogue"]
    for frag in pages:
        b.go(frag)
        b.wait("main h1")
        b.wait_until(lambda: not b.driver.execute_script("return !document.getElementById('busy').hidden"))
        text = spanish_text(b)
        found = ENGLISH.search(text)
        assert not found, (frag, found.group(0), text[max(0, found.start() - 80):found.end() + 80])
    assert "Recepción" in b.find("#who").text or "Administrador" in b.find("#who").text


# ---- 9. data safety ---------------------------------------------------------------------


def master_login(b):
    b.go("#/admin-login")
    b.wait("#login-form")
    b.fill("#login-form input[name=password]", "master-pass-31337")
    b.click("#login-form button[type=submit]")
    b.wait("#tiers")


def daily_backup(site):
    from conftest import run
    p = run(["backup", "--tier", "daily"], database=site.db, env={"BACKUP_DIR": str(site.bdir)})
    assert p.returncode == 0, p.stderr


def damaged_backup(site):
    """A second daily backup, then damaged (its bytes changed, its name kept)."""
    before = set(site.bdir.rglob("*"))
    daily_backup(site)
    new = sorted(f for f in set(site.bdir.rglob("*")) - before if f.is_file() and not f.name.startswith(".")
                 and f.suffix not in (".sha256", ".json"))
    assert new, "no backup file written"
    f = max(new, key=lambda x: x.stat().st_size)
    data = bytearray(f.read_bytes())
    for i in range(len(data) // 2, min(len(data), len(data) // 2 + 64)):
        data[i] ^= 0x5A
    f.write_bytes(bytes(data))
    return f


def test_data_safety_banner_tiers_and_local_time(site):
    daily_backup(site)
    b = site.browser()
    b.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
    master_login(b)
    assert "green" in b.find("#overall").get_attribute("class")
    text = spanish_text(b)
    assert "Diario" in b.find("#tiers tr[data-tier='daily']").text
    for tier in ("monthly", "premigrate", "prerestore"):
        row = b.find(f"#tiers tr[data-tier='{tier}'] .age")
        assert "grey" in row.get_attribute("class") and row.text == "aún sin usar", (tier, row.text)
    assert not re.search(r"\b(daily|weekly|monthly|premigrate|prerestore|UTC)\b", text), text
    # Times in the browser's zone (Tokyo is 9 h ahead of UTC): the row's time is not UTC's.
    f = b.find("#backups tbody tr").get_attribute("data-file")
    stamp = re.search(r"(\d{8})_(\d{6})", f)
    if stamp:
        utc = dt.datetime.strptime("".join(stamp.groups()), "%Y%m%d%H%M%S")
        tokyo = utc + dt.timedelta(hours=9)
        row = b.find("#backups tbody tr").text
        assert any(f"{hh}:{tokyo.minute:02d}" in row for hh in (tokyo.hour, tokyo.hour % 12 or 12,
                                                                f"{tokyo.hour:02d}")), row
    # The chart has its axes' units and a legend.
    labels = [e.text for e in b.find_all("svg.chart text")]
    assert any(x.endswith(" s") for x in labels) or any("B" in x for x in labels), labels
    assert any("Diario" == x for x in labels), labels
    # A damaged backup turns the banner red after "Verificar todos".
    bad = damaged_backup(site)
    try:
        b.driver.refresh()
        b.wait("#verify-all")
        b.click("#verify-all")
        b.wait_until(lambda: "red" in b.find("#overall").get_attribute("class"), timeout=60)
        assert "dañado" in b.find("#overall").text
        assert b.find_all("#backups td.bad")
    finally:
        bad.unlink()


def test_verify_results_survive_a_reload(site):
    daily_backup(site)
    b = site.browser()
    master_login(b)
    b.click("#verify-all")
    b.wait_until(lambda: b.find_all("#backups td.ok"), timeout=60)
    b.driver.refresh()
    b.wait("#tiers")
    assert b.find_all("#backups td.ok")
    assert "Última verificación" in b.find("#overall").text


def test_cancel_reason_is_stored_and_shown(site):
    recep, a, b = appt_page(site, weekday_ahead(3, 2), "15:00")
    b.click("#act-cancel")
    b.fill("#dlg-reason", "Cambio de planes")
    b.click("#dlg-ok")
    b.wait_text("#appt-cancel-reason", "Cambio de planes")
    st, _, now = site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)
    assert now["cancel_reason"] == "Cambio de planes"


def test_a_manager_undoes_a_cancellation_the_receptionist_cannot(site):
    recep, a, b = appt_page(site, weekday_ahead(3, 3), "12:00")
    st, _, _ = site.api("POST", f"/api/v1/appointments/{a['id']}/cancel",
                        {"reason": "se equivocó de día"}, token=recep)
    assert st == 200
    b.go(f"#/appt/{a['id']}")
    b.wait_text("#appt-status", "Cancelada")
    assert not b.find_all("#act-uncancel"), "a receptionist was offered the undo"
    admin = site.browser()
    login_at(admin, *ADMIN, f"#/appt/{a['id']}")
    admin.click("#act-uncancel")
    admin.wait_text("#appt-status", "Pendiente")
    st, _, now = site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)
    assert now["status"] == "PENDING"


def test_a_manager_undoes_a_cancellation_from_the_agenda(site):
    recep = site.token(*RECEP)
    date = weekday_ahead(4, 3)
    a = book(site, recep, date, "11:00")
    old = book(site, recep, date, "15:00")
    for x in (a, old):
        st, _, _ = site.api("POST", f"/api/v1/appointments/{x['id']}/cancel", {"reason": "llamó para cancelar"}, token=recep)
        assert st == 200
    # old was cancelled yesterday: too late to undo
    col = "cancelled_at"
    if site.db.kind == "sqlite":
        site.db.query(f"UPDATE appointments SET {col} = strftime('%Y-%m-%d %H:%M:%S', substr({col}, 1, 19), '-1 day') || '+00' "
                      "WHERE id = ?", (old["id"],))
    else:
        site.db.query(f"UPDATE appointments SET {col} = {col} - interval '1 day' WHERE id = {int(old['id'])}")
    rb = site.browser()
    login_at(rb, *RECEP, f"#/agenda?date={date}")
    rb.wait(f".appt[data-id='{a['id']}']")
    assert not rb.find_all(".undo-cancel"), "a receptionist was offered the undo"
    b = site.browser()
    login_at(b, *ADMIN, f"#/agenda?date={date}")
    b.wait(f".appt[data-id='{old['id']}']")
    assert not b.find_all(f".undo-cancel[data-id='{old['id']}']"), "yesterday's cancellation was offered"
    undo = f".undo-cancel[data-id='{a['id']}']"
    b.driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", undo)
    b.click(undo)
    b.wait("#confirm-dialog")
    text = b.find("#confirm-dialog").text
    assert "llamó para cancelar" in text and "11:00–12:00" in text and "Pendiente" in text, text
    b.click("#dlg-back")
    b.wait_until(lambda: not b.find_all("#confirm-dialog"))
    assert site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["status"] == "CANCELLED"
    b.click(undo)
    b.click("#dlg-ok")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["status"] == "PENDING")
    b.wait(f".appt.st-PENDING[data-id='{a['id']}']")
    assert not b.find_all(undo)


# ---- 4. the agenda ----------------------------------------------------------------------
CONTRAST = """
const lum = (c) => { const m = c.match(/[\\d.]+/g).map(Number); const [r, g, b] = m.slice(0, 3).map((v) => {
  v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
const bg = (e) => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
  if (c && !c.startsWith('rgba(0, 0, 0, 0)') && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
return [...arguments[0].querySelectorAll('*')].filter((e) => e.childNodes.length && [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
  .map((e) => { const a = lum(getComputedStyle(e).color), b = lum(bg(e)); return [e.className, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
"""


def branch_open(site, token, date):
    st, _, wh = site.api("GET", "/api/v1/working-hours?branch_id=1", token=token)
    dow = (dt.date.fromisoformat(date).weekday() + 1) % 7
    rows = [w for w in wh["items"] if w["user_id"] is None and w["day_of_week"] == dow]
    return min(w["start_time"] for w in rows), max(w["end_time"] for w in rows)


def test_agenda_blocks_say_who_what_and_follow_the_hours(site):
    recep = site.token(*RECEP)
    date = weekday_ahead(5, 0)
    a = book(site, recep, date, "10:00")
    st, _, client = site.api("GET", "/api/v1/clients/1", token=recep)
    b = site.browser()
    login_at(b, *RECEP, f"#/agenda?date={date}")
    blk = b.wait(f".appt[data-id='{a['id']}']")
    text = blk.text
    assert client["first_name"] in text and "10:00–11:00" in text and "Pendiente" in text and "◷" in text, text
    assert "p. m." not in text and "a. m." not in text
    for cls, ratio in b.driver.execute_script(CONTRAST, blk):
        assert ratio >= 4.5, (cls, ratio)
    # The axis runs over the branch's hours that day, whole hours, 24 h.
    opens, closes = branch_open(site, recep, date)
    hours = [e.text for e in b.find_all(".hours .hour")]
    assert hours[0] == opens[:2] + ":00" and hours[-1] == f"{int(closes[:2]) - (closes[3:] == '00'):02d}:00", hours
    assert b.find_all(".col .closed") is not None
    # Today: the "now" line when now is inside the visible range.
    b.go("#/agenda")
    b.wait("#agenda .agenda-title")
    hours = [int(e.get_attribute("textContent")[:2]) for e in b.find_all(".hours .hour")]
    zone_now = b.driver.execute_script(
        "return new Intl.DateTimeFormat('en-GB', {timeZone: 'America/Mexico_City', hour: '2-digit', hourCycle: 'h23'}).format(new Date())")
    inside = hours and hours[0] <= int(zone_now) <= hours[-1]
    assert bool(b.find_all(".now-line")) == bool(inside), (hours, zone_now)


def test_agenda_click_empty_time_books_there(site):
    date = weekday_ahead(5, 3)
    b = site.browser()
    login_at(b, *RECEP, f"#/agenda?date={date}")
    click_free_time(b, None, PRO1_ID, "15:00")
    b.wait_until(lambda: b.driver.execute_script("return location.hash").startswith("#/new"))
    frag, p = hash_params(b)
    assert (p["date"], p["time"], p["pro"]) == (date, "15:00", str(PRO1_ID)), frag
    chosen = b.wait("#slots .slot.chosen")
    assert chosen.get_attribute("data-start").startswith(f"{date}T15:00")


def new_professional(site, admin, name):
    st, _, u = site.api("POST", "/api/v1/users", {"email": f"{name.lower()}.{os.getpid()}.{site.db.kind}@citaplanner.com",
                        "password": "Clave-de-prueba-123", "first_name": name, "role": "PROFESSIONAL", "branch_id": 1}, token=admin)
    assert st == 201, u
    return u


def test_agenda_shades_each_professionals_hours_breaks_and_time_off(site):
    admin = site.token(*ADMIN)
    date = weekday_ahead(7, 2)
    u = new_professional(site, admin, "Turno")
    dow = (dt.date.fromisoformat(date).weekday() + 1) % 7
    st, _, r = site.api("PUT", "/api/v1/working-hours", {"branch_id": 1, "user_id": u["id"], "hours": [
        {"day_of_week": dow, "start_time": "10:00", "end_time": "13:00"},
        {"day_of_week": dow, "start_time": "14:00", "end_time": "17:00"}]}, token=admin)
    assert st == 200, r
    st, _, r = site.api("POST", "/api/v1/time-off", {"user_id": u["id"], "start": f"{date}T15:00:00-06:00",
                        "end": f"{date}T16:00:00-06:00", "reason": "Curso de color"}, token=admin)
    assert st == 201, r
    b = site.browser()
    login_at(b, *RECEP, f"#/agenda?date={date}")
    col = f".col[data-pro='{u['id']}']"
    b.wait(f"{col} .un-time_off")
    spans = b.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' .closed')].map((z) => [z.dataset.kind, z.title])", col)
    kinds = [k for k, _ in spans]
    assert kinds.count("off") == 2 and kinds.count("break") == 1 and kinds.count("time_off") == 1, spans
    assert ["break", "Descanso"] in spans and ["time_off", "Ausencia · Curso de color"] in spans, spans
    assert "closed" not in kinds, spans  # the branch is open all day: this one is simply off
    # The other professional follows the branch: no break, no time off.
    others = b.driver.execute_script(
        "return [...document.querySelectorAll(arguments[0] + ' .closed')].map((z) => z.dataset.kind)", f".col[data-pro='{PRO1_ID}']")
    assert set(others) <= {"closed"}, others
    legend = b.find("#agenda-legend").text
    for word in ("Sucursal cerrada", "Fuera de su horario", "Descanso", "Ausencia"):
        assert word in legend, legend
    # Shaded time offers no booking; it says why.
    for hhmm, why in (("13:30", "Descanso"), ("15:15", "Ausencia"), ("09:00", "Fuera de su horario")):
        click_free_time(b, None, u["id"], hhmm)
        b.wait_text("#toast", why)
        assert b.driver.execute_script("return location.hash").startswith("#/agenda"), hhmm
    click_free_time(b, None, u["id"], "11:00")
    wait_hash(b, "#/new")
    frag, p = hash_params(b)
    assert (p["time"], p["pro"]) == ("11:00", str(u["id"])), frag
    # English too.
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'en')")
    b.go(f"#/agenda?date={date}")
    b.driver.refresh()
    b.wait(f"{col} .un-break")
    assert b.find(f"{col} .un-break").get_attribute("title") == "Break"
    assert "Time off" in b.find("#agenda-legend").text
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'es')")
    st, _, _ = site.api("PATCH", f"/api/v1/users/{u['id']}", {"active": False}, token=admin)
    assert st == 200  # out of the other tests' agendas


MEASURE = """
const [hash, n, done] = arguments;
performance.setResourceTimingBufferSize(2000);
performance.clearResourceTimings();
const t0 = performance.now();
location.hash = hash;
const tick = () => {
  const names = [...document.querySelectorAll('#agenda .appt-client')].map((e) => e.textContent);
  if (names.length >= n && names.every((x) => x.startsWith('Carga'))) {
    const t1 = performance.now();
    done([performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/v1/') && e.startTime >= t0).length, t1 - t0]);
  } else setTimeout(tick, 2);
};
tick();
"""


def test_agenda_draws_a_busy_day_in_one_read(site, capsys):
    """A day of 16 appointments (8 paid) for two professionals: the agenda
    reads them with their clients and money in one request, not one per block."""
    recep = site.token(*RECEP)
    date = weekday_ahead(12, 1)
    n = 0
    for hh in range(9, 17):
        for pro, svc in ((PRO1_ID, FACIAL), (PRO2_ID, 4)):
            st, _, c = site.api("POST", "/api/v1/clients", {"first_name": f"Carga{n}", "last_name": "Día",
                                "phone": f"55{os.getpid() % 10**4:04d}{n:04d}"}, token=recep)
            assert st == 201, c
            st, _, a = site.api("POST", "/api/v1/appointments", {"client_id": c["id"], "service_id": svc,
                                "professional_id": pro, "branch_id": 1, "start": f"{date}T{hh:02d}:00:00-06:00"}, token=recep)
            assert st == 201, a
            if n % 2:
                st, _, p = site.api("POST", "/api/v1/payments", {"appointment_id": a["id"], "amount_cents": a["price_cents"],
                                    "method": "CASH"}, token=recep)
                assert st == 201, p
            n += 1
    b = site.browser()
    login_at(b, *RECEP, f"#/agenda?date={weekday_ahead(12, 2)}")
    b.wait("#agenda .agenda-title")
    b.driver.set_script_timeout(60)
    requests, ms = b.driver.execute_async_script(MEASURE, f"#/agenda?date={date}", n)
    with capsys.disabled():
        print(f"\nagenda of {n} appointments: {requests} API requests, {ms:.0f} ms")
    assert len(b.find_all(".appt .pay-paid")) == n // 2
    assert requests <= 3, requests


def agenda_with_one(site, date):
    """A 10:00 Facial on date, and the receptionist's agenda of that day showing it."""
    recep = site.token(*RECEP)
    a = book(site, recep, date, "10:00")
    b = site.browser()
    login_at(b, *RECEP, f"#/agenda?date={date}")
    blk = b.wait(f".appt[data-id='{a['id']}']")
    b.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", blk)
    return recep, a, b, blk


def drag(b, el, dy):
    """Press, move past the 6 px threshold, on to dy pixels, release."""
    ActionChains(b.driver).click_and_hold(el).move_by_offset(0, 20).move_by_offset(0, dy - 20).release().perform()


def test_agenda_drag_and_keyboard_move_with_confirmation(site):
    date = weekday_ahead(5, 1)
    recep, a, b, blk = agenda_with_one(site, date)
    drag(b, blk, 72)  # 60 min at 1.2 px a minute
    b.wait("#confirm-dialog")
    assert "10:00–11:00" in b.find("#dlg-old").text and "11:00–12:00" in b.find("#dlg-new").text
    b.click("#dlg-back")  # going back changes nothing
    b.wait_until(lambda: not b.find_all("#confirm-dialog"))
    st, _, now = site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)
    assert now["start_at"].startswith(f"{date}T10:00")
    drag(b, b.wait(f".appt[data-id='{a['id']}']"), 72)
    b.click("#dlg-ok")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["start_at"].startswith(f"{date}T11:00"))
    # The keyboard: Alt+Down four times (15 min each), Enter, then confirm.
    from selenium.webdriver.common.keys import Keys
    sel = f".appt[data-id='{a['id']}']"
    # the agenda is drawn again after the move: wait for the block at its new
    # time, then focus it by its selector (an element found earlier may be gone)
    b.wait_until(lambda: b.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return !!e && e.textContent.includes('11:00–12:00')", sel))
    b.driver.execute_script("document.querySelector(arguments[0]).focus()", sel)
    for _ in range(4):
        ActionChains(b.driver).key_down(Keys.ALT).send_keys(Keys.ARROW_DOWN).key_up(Keys.ALT).perform()
    b.keys(Keys.ENTER)
    b.wait("#confirm-dialog")
    assert "12:00–13:00" in b.find("#dlg-new").text
    b.keys(Keys.ENTER)  # the dialog's focus is on its confirm button
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["start_at"].startswith(f"{date}T12:00"))


def test_agenda_resize_and_move_to_another_professional(site):
    date = weekday_ahead(6, 1)
    recep, a, b, blk = agenda_with_one(site, date)
    drag(b, blk.find_element(By.CSS_SELECTOR, ".resize"), 36)  # 30 min longer
    b.wait("#confirm-dialog")
    assert "10:00–11:30" in b.find("#dlg-new").text
    b.click("#dlg-ok")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["end_at"].startswith(f"{date}T11:30"))


# ---- 7. staff and hours -----------------------------------------------------------------
def test_staff_create_edit_deactivate_and_password(site):
    b = site.browser()
    login_at(b, *ADMIN, "#/staff")
    b.wait("#staff-list")
    assert "Recepción" in b.find("#staff-list").text and "RECEPTIONIST" not in b.find("#staff-list").text
    b.click("#staff-new")
    b.wait("#staff-form")
    email = f"nueva.{os.getpid()}.{site.db.kind}@citaplanner.com"
    b.fill("#staff-form input[name=first_name]", "Nueva")
    b.fill("#staff-form input[name=last_name]", "Estilista")
    b.fill("#staff-form input[name=email]", email)
    b.select("#staff-form select[name=role]", "PROFESSIONAL")
    b.fill("#staff-form input[name=password]", "Clave-segura-123")
    b.click("#staff-save")
    b.wait_until(lambda: re.match(r"#/staff/\d+$", b.driver.execute_script("return location.hash")))
    uid = int(b.driver.execute_script("return location.hash").rsplit("/", 1)[1])
    assert site.token(email, "Clave-segura-123")
    # Edit.
    b.wait("#staff-form")
    b.fill("#staff-form input[name=last_name]", "Estilista Senior")
    b.click("#staff-save")
    b.wait_text(f"#staff-list tr[data-id='{uid}']", "Estilista Senior")
    # Her weekly hours with a break (two intervals on Monday).
    b.wait("#pro-hours-form")
    b.click("#pro-hours-form .wh-add[data-day='1']")
    b.click("#pro-hours-form .wh-add[data-day='1']")
    ins = b.find_all("#pro-hours-form .wh-day[data-day='1'] input")
    for el, v in zip(ins, ["09:00", "14:00", "15:00", "19:00"]):
        b.driver.execute_script("arguments[0].value = arguments[1]", el, v)
    b.click("#pro-hours-save")
    admin = site.token(*ADMIN)
    b.wait_until(lambda: len([w for w in site.api("GET", f"/api/v1/working-hours?branch_id=1&user_id={uid}", token=admin)[2]["items"]
                              if w["day_of_week"] == 1]) == 2)
    # Deactivate, confirmed.
    b.go("#/staff")
    b.wait_until(lambda: not b.find_all("#staff-form"))  # the list alone: not the old page's button
    b.click(f".staff-toggle[data-id='{uid}']")
    b.wait("#confirm-dialog")
    b.click("#dlg-ok")
    b.wait_until(lambda: not site.api("GET", f"/api/v1/users/{uid}", token=admin)[2]["active"])


def test_password_reset_and_time_off(site):
    admin = site.token(*ADMIN)
    st, _, u = site.api("POST", "/api/v1/users", {"email": f"otra.{os.getpid()}.{site.db.kind}@citaplanner.com",
                        "password": "Clave-vieja-123", "first_name": "Otra", "role": "PROFESSIONAL", "branch_id": 1}, token=admin)
    assert st == 201, u
    b = site.browser()
    login_at(b, *ADMIN, f"#/staff/{u['id']}")
    b.fill("#password-form input[name=password]", "Clave-nueva-456")
    b.click("#password-save")
    b.wait_until(lambda: site.api("POST", "/api/v1/auth/login", {"email": u["email"], "password": "Clave-nueva-456"})[0] == 200)
    day = weekday_ahead(3, 2)
    b.set_value("#time-off-form input[name=start]", f"{day}T09:00")
    b.set_value("#time-off-form input[name=end]", f"{day}T18:00")
    b.fill("#time-off-form input[name=reason]", "Vacaciones")
    b.click("#time-off-save")
    b.wait_text("#time-off-list", "Vacaciones")
    st, _, _ = site.api("PATCH", f"/api/v1/users/{u['id']}", {"active": False}, token=admin)
    assert st == 200  # out of the other tests' agendas


# ---- 5. phone layout and accessibility ---------------------------------------------------
def settle(b):
    b.wait("main h1")
    b.wait_until(lambda: b.driver.execute_script("return document.getElementById('busy').hidden"))


def staff_pages(site, hhmm):
    recep = site.token(*RECEP)
    a = book(site, recep, weekday_ahead(7, 2), hhmm)
    return ["#/agenda", "#/new", f"#/appt/{a['id']}", "#/clients", "#/client/1", "#/catalogue", "#/staff",
            f"#/staff/{PRO1_ID}", "#/sales", "#/notify"]


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_fits_and_passes_axe(site, size):
    """No horizontal scrolling (scrollWidth <= innerWidth) and no serious or
    critical axe-core violation, on every page, in Spanish and in English."""
    b = site.browser()
    b.driver.set_window_size(*SIZES[size])
    b.go("#/login")
    b.wait("#login-form")
    found = {}
    for lang in ("es", "en"):
        b.driver.execute_script("localStorage.setItem('citaplanner.lang', arguments[0])", lang)
        b.driver.refresh()
        b.wait("#login-form")
        found[f"login-{lang}"] = axe_serious(b)
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'es')")
    login_at(b, *ADMIN, "#/agenda")
    b.wait("#agenda .agenda-title")
    wide = {}
    for frag in staff_pages(site, "11:00" if size == "phone" else "15:00"):
        for lang in ("es", "en"):
            b.driver.execute_script("localStorage.setItem('citaplanner.lang', arguments[0])", lang)
            b.go(frag)
            b.driver.refresh()
            settle(b)
            sw, iw = b.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            if sw > iw:
                wide[f"{frag}-{lang}"] = (sw, iw)
            name = frag.split("/")[1]
            if lang == "es" and name in ("agenda", "new", "appt", "staff", "client") and "?" not in frag:
                site.shot(b, f"{size}-{name}", size=SIZES[size])
            v = axe_serious(b)
            if v:
                found[f"{frag}-{lang}"] = v
    if size == "phone":
        b.go(f"#/agenda?date={weekday_ahead(7, 2)}")
        b.driver.refresh()
        settle(b)
        cols = [c for c in b.find_all("#agenda .col") if c.is_displayed()]
        assert len(cols) == 1, "one professional at a time on a phone"
        tabs = b.find_all(".pro-tab")
        assert len(tabs) >= 2
        tabs[1].click()
        shown = [c.get_attribute("data-pro") for c in b.find_all("#agenda .col") if c.is_displayed()]
        assert shown == [tabs[1].get_attribute("data-pro")]
        # The first hour is on the first screen: a compact header.
        top = b.driver.execute_script("return document.querySelector('.hours .hour').getBoundingClientRect().top")
        assert top < 844 * 0.6, top
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', 'es')")
    b.driver.refresh()
    b.wait("#logout")
    b.find("#logout").click()
    b.wait("#login-form")
    b.go("#/admin-login")
    b.wait("#login-form")
    b.fill("#login-form input[name=password]", "master-pass-31337")
    b.click("#login-form button[type=submit]")
    b.wait("#tiers")
    site.shot(b, f"{size}-data-safety", size=SIZES[size])
    sw, iw = b.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    if sw > iw:
        wide["#/safety"] = (sw, iw)
    v = axe_serious(b)
    if v:
        found["#/safety"] = v
    assert wide == {}, wide
    assert {k: v for k, v in found.items() if v} == {}, found


# ---- the day-one figures: clicks and keystrokes ------------------------------------------
def wait_hash(b, prefix):
    """Wait for the route to start with prefix; else fail with what the page says."""
    try:
        b.wait_until(lambda: b.driver.execute_script("return location.hash").startswith(prefix))
    except Exception:
        raise AssertionError(b.driver.execute_script("return location.hash + ' | ' + document.body.innerText"))


class Counted:
    """Drives a browser and counts what a person would do: clicks (a drag is
    one) and keystrokes (each character typed, each Tab/Enter)."""

    def __init__(self, b):
        self.b, self.clicks, self.keys = b, 0, 0

    def click(self, css):
        self.b.click(css)
        self.clicks += 1

    def type(self, text):
        self.b.keys(text)
        self.keys += len(text)

    def press(self, key):
        self.b.keys(key)
        self.keys += 1


def click_free_time(b, counted, pro, hhmm):
    """Click the agenda's column of pro at hhmm (counted: a Counted, or None)."""
    col = b.wait(f".col[data-pro='{pro}'] .col-inner")
    first = int(b.find(".hours .hour").text[:2])
    y = int((int(hhmm[:2]) * 60 + int(hhmm[3:]) - first * 60) * 1.2) + 3
    # the point itself in the middle of the window (a column may be taller than it)
    x, y = b.driver.execute_script(
        "const c = arguments[0]; c.scrollIntoView({block: 'center'}); let r = c.getBoundingClientRect();"
        "window.scrollBy(0, r.top + arguments[1] - innerHeight / 2); r = c.getBoundingClientRect();"
        "return [Math.round(r.left + 5), Math.round(r.top + arguments[1])]", col, y)
    ab = ActionBuilder(b.driver)
    ab.pointer_action.move_to_location(x, y).click()
    ab.perform()
    if counted:
        counted.clicks += 1


def test_day_one_clicks_and_keystrokes(site, capsys):
    from selenium.webdriver.common.keys import Keys
    recep = site.token(*RECEP)
    date = weekday_ahead(8, 0)
    st, _, cl = site.api("GET", "/api/v1/clients/2", token=recep)
    b = site.browser()
    login_at(b, *RECEP, f"#/agenda?date={date}")
    b.wait("#agenda .agenda-title")
    figures = {}
    # 1. An existing client: the free time on the agenda, the name, the result, book.
    c = Counted(b)
    click_free_time(b, c, PRO1_ID, "10:00")
    b.wait("#slots .slot.chosen")
    c.type(re.sub(r"\D", "", cl["phone"])[-8:])  # by phone: it finds one client
    c.press(Keys.ENTER)
    b.wait_text("#chosen-client", cl["first_name"])
    c.click("#book")
    wait_hash(b, "#/appt/")
    figures["existing client"] = (c.clicks, c.keys)
    assert c.clicks <= 5
    # 2. A new client: the free time, name, surname and phone in the new-client form, book.
    b.go(f"#/agenda?date={date}")
    b.wait("#agenda .agenda-title")
    c = Counted(b)
    click_free_time(b, c, PRO1_ID, "12:00")
    b.wait("#slots .slot.chosen")
    c.click("#new-client-form input[name=first_name]")
    c.type("Nueva")
    c.press(Keys.TAB)
    c.type("Clienta")
    c.press(Keys.TAB)
    c.type("55%08d" % (os.getpid() % 10**8))
    c.press(Keys.ENTER)
    b.wait_text("#chosen-client", "Nueva")
    c.click("#book")
    wait_hash(b, "#/appt/")
    figures["new client"] = (c.clicks, c.keys)
    assert c.clicks <= 8
    appt = int(b.driver.execute_script("return location.hash").rsplit("/", 1)[1])
    # 3. Move it one hour: a drag and the confirmation.
    b.go(f"#/agenda?date={date}")
    b.wait("#agenda .agenda-title")
    st, _, mine = site.api("GET", f"/api/v1/appointments/{appt}", token=recep)
    assert mine["start_at"].startswith(f"{date}T12:00"), mine
    b.wait_until(lambda: b.find_all(f".appt[data-id='{appt}']"), timeout=20)
    blk = b.find(f".appt[data-id='{appt}']")
    b.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", blk)
    c = Counted(b)
    drag(b, blk, 72)
    c.clicks += 1
    c.click("#dlg-ok")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{appt}", token=recep)[2]["start_at"].startswith(f"{date}T13:00"))
    figures["move one hour"] = (c.clicks, c.keys)
    # 4. A payment of the whole price: one click on its page.
    b.go(f"#/appt/{appt}")
    b.wait("#payment-form")
    c = Counted(b)
    c.click("#pay")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{appt}/money", token=recep)[2]["balance_cents"] == 0)
    figures["payment"] = (c.clicks, c.keys)
    with capsys.disabled():
        print("\nday-one figures (clicks, keystrokes):", figures)


# ---- 6. feedback ------------------------------------------------------------------------
def test_loading_indicator_and_failed_refresh(site):
    b = site.browser()
    login_at(b, *RECEP, "#/agenda")
    b.wait("#agenda .agenda-title")
    assert "actualizada a las" in b.find("#refresh-status").text
    b.driver.execute_cdp_cmd("Network.enable", {})
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1})
    b.driver.find_element(By.CSS_SELECTOR, "nav a[href='#/clients']").click()
    b.wait("#busy")  # shown while the page loads
    assert b.find("#busy").text == "Cargando…"
    b.wait_until(lambda: not b.find("#busy").is_displayed(), timeout=30)
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    b.go("#/agenda")
    b.wait("#agenda .agenda-title")
    # The server out of reach: the refresh says it failed, in Spanish.
    b.allow("ERR_INTERNET_DISCONNECTED")
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    b.click("#refresh")
    st = b.wait("#refresh-status.bad")
    assert "No se pudo actualizar" in st.text and "conexión" in st.text and "Failed" not in st.text, st.text
    b.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


# ---- 8. clients -------------------------------------------------------------------------
def test_book_for_this_client(site):
    recep = site.token(*RECEP)
    st, _, cl = site.api("GET", "/api/v1/clients/2", token=recep)
    b = site.browser()
    login_at(b, *RECEP, "#/client/2")
    b.click("#book-for-client")
    b.wait_text("#chosen-client", cl["first_name"])
    assert hash_params(b)[1]["client"] == "2"


def test_duplicate_phone_offers_the_existing_client_and_history_has_totals(site):
    recep = site.token(*RECEP)
    st, _, cl = site.api("POST", "/api/v1/clients", {"first_name": "Dup", "last_name": "Uno", "phone": "5511112222"}, token=recep)
    assert st == 201, cl
    a = book(site, recep, weekday_ahead(9, 0), "10:00")
    b = site.browser()
    b.allow("409")
    login_at(b, *RECEP, "#/client/new")
    b.fill("#client-form input[name=first_name]", "Dup")
    b.fill("#client-form input[name=last_name]", "Dos")
    b.fill("#client-form input[name=phone]", "+52 55 1111 2222")
    b.click("#client-form button[type=submit]")
    b.click("#use-existing")
    b.wait_until(lambda: b.driver.execute_script("return location.hash") == f"#/client/{cl['id']}")
    b.go("#/client/1")
    b.wait("#client-totals")
    b.wait(f"#client-history tr[data-id='{a['id']}'] .book-again")
    b.click(f"#client-history tr[data-id='{a['id']}'] .book-again")
    b.wait("#chosen-client")


def test_reschedule_on_the_appointment_page_is_confirmed(site):
    date = weekday_ahead(10, 1)
    recep, a, b = appt_page(site, date, "10:00")
    b.click(f"#slots button.slot[data-start^='{date}T14:00']")
    b.wait("#confirm-dialog")
    assert "14:00" in b.find("#dlg-new").text and "10:00" in b.find("#dlg-old").text
    b.click("#dlg-back")
    assert site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["start_at"].startswith(f"{date}T10:00")
    b.click(f"#slots button.slot[data-start^='{date}T14:00']")
    b.click("#dlg-ok")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["start_at"].startswith(f"{date}T14:00"))


def test_reschedule_onto_part_of_its_own_time(site):
    date = weekday_ahead(10, 2)
    recep, a, b = appt_page(site, date, "13:00")
    b.click(f"#slots button.slot[data-start^='{date}T13:30']")  # free once its own time is excluded
    b.click("#dlg-ok")
    b.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{a['id']}", token=recep)[2]["start_at"].startswith(f"{date}T13:30"))
