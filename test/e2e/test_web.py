"""The staff web app and the data-safety page (issue 11), in a real browser:
headless Debian Chromium driven by Selenium (browser.py), against a real
seeded `citaplanner serve`, on both databases.

One server per backend serves the module.  Every browser is checked at the
end for console errors (a CSP violation is one) and for requests that left
loopback.  The SQLite run takes a screenshot of each screen (so that drawing
every screen is exercised); with SAVE_SCREENSHOTS=1 they replace the ones in
docs/screenshots/ (shown in the README), otherwise they go to a temporary
directory and the work tree stays clean.
"""
import datetime as dt
import os
import urllib.request
import uuid

import pytest
from selenium.webdriver.common.keys import Keys

from browser import Browser
from conftest import ROOT, Database, pg_admin_url, pg_url_for, psql, run
from server import Server

MASTER_PASSWORD = "master-pass-31337"
RECEP = ("recepcionista@citaplanner.com", "prof123")
PRO1 = ("pro1@citaplanner.com", "prof123")
PRO1_ID, PRO2_ID, FACIAL = 3, 4, 1
SHOTS = (os.path.join(ROOT, "docs", "screenshots") if os.environ.get("SAVE_SCREENSHOTS") == "1"
         else os.path.join(os.environ.get("TMPDIR", "/tmp"), f"citaplanner-shots-{os.getpid()}"))


def weekday_ahead(weeks, weekday):
    """A date weeks weeks or more ahead falling on weekday (0 = Monday): the seeded
    branch is open Monday to Saturday."""
    d = dt.date.today() + dt.timedelta(weeks=weeks)
    return (d + dt.timedelta(days=(weekday - d.weekday()) % 7)).isoformat()


class Site:
    def __init__(self, db, srv, bdir, shots):
        self.db, self.srv, self.bdir, self.shots = db, srv, bdir, shots
        self.base = f"http://127.0.0.1:{srv.port}"
        self.browsers = []

    def browser(self):
        b = Browser(self.base)
        self.browsers.append(b)
        return b

    def shot(self, b, name, size=(1366, 768)):
        """Save the page as docs/screenshots/name.png with a viewport of
        exactly size (width, height), the page's own viewport given back after."""
        if self.shots:
            os.makedirs(SHOTS, exist_ok=True)
            b.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
            b.driver.execute_script("return new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
            b.shot(os.path.join(SHOTS, name + ".png"))
            b.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    def api(self, method, path, body=None, token=None):
        h = {"Authorization": "Bearer " + token} if token else {}
        return self.srv.request(method, path, body, headers=h)

    def token(self, email, password):
        st, _, r = self.api("POST", "/api/v1/auth/login", {"email": email, "password": password})
        assert st == 200, r
        return r["token"]


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def site(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    name = None
    if request.param == "sqlite":
        path = tmp / "data" / "citaplanner.db"
        db = Database("sqlite", f"sqlite:{path}", str(path))
    else:
        admin = pg_admin_url()
        name = "t_" + uuid.uuid4().hex[:16]
        psql(admin, f'CREATE DATABASE "{name}"')
        db = Database("pg", pg_url_for(name, admin))
    for args in (["migrate", "deploy"], ["seed"]):
        p = run(args, database=db)
        assert p.returncode == 0, p.stderr
    p = run(["admin", "master-password"], database=db, input=MASTER_PASSWORD + "\n")
    assert p.returncode == 0, p.stderr
    bdir = tmp / "backups"
    srv = Server(db, env={"BACKUP_DIR": str(bdir)})
    s = Site(db, srv, bdir, shots=request.param == "sqlite")
    try:
        srv.wait_ready()
        yield s
    finally:
        for b in s.browsers:
            b.close()
        srv.stop()
        if name is not None:
            psql(pg_admin_url(), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


@pytest.fixture(autouse=True)
def browsers_clean(site):
    """After each test: its browsers logged no console error (CSP violations
    included) and asked nothing of any host but loopback; then they close."""
    yield
    problems = []
    for b in site.browsers:
        problems += b.problems()
        b.close()
    site.browsers.clear()
    assert problems == [], problems


def test_static_files_headers(site):
    """Served from the binary with ETag/304, Cache-Control, a strict CSP, nosniff."""
    with urllib.request.urlopen(site.base + "/") as r:
        body = r.read().decode()
        h = r.headers
    assert '<script type="module" src="/assets/app.js">' in body
    csp = h["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Cache-Control"] == "no-cache" and h["ETag"].startswith('"')
    req = urllib.request.Request(site.base + "/assets/app.js", headers={"If-None-Match": "*"})
    with urllib.request.urlopen(site.base + "/assets/app.js") as r:
        assert r.headers["Content-Type"].startswith("text/javascript")
        etag = r.headers["ETag"]
    req = urllib.request.Request(site.base + "/assets/app.js", headers={"If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as ex:
        urllib.request.urlopen(req)
    assert ex.value.code == 304
    st, _, _ = site.srv.request("GET", "/assets/missing.js")
    assert st == 404


def book_through_ui(b, site, date, client_name, hhmm):
    """Fill the booking form: client, Facial with Lucía, the date; pick hhmm."""
    b.go("#/new")
    b.wait("#booking-form")
    b.fill("#new-client-form input[name=first_name]", client_name)
    b.fill("#new-client-form input[name=last_name]", "Prueba")
    b.fill("#new-client-form input[name=phone]", "+52 55 %08d" % (uuid.uuid4().int % 10**8))
    b.click("#new-client-form button[type=submit]")
    b.wait_text("#chosen-client", client_name)
    b.select("#booking-form select[name=service_id]", FACIAL)
    b.wait(f"#booking-form select[name=professional_id] option[value='{PRO1_ID}']", visible=False)
    b.select("#booking-form select[name=professional_id]", PRO1_ID)
    b.set_value("#booking-form input[name=date]", date)
    slot = f"#slots button.slot[data-start^='{date}T{hhmm}'][data-pro='{PRO1_ID}']"
    b.click(slot)
    return slot


def test_receptionist_books_and_professional_completes(site):
    date = weekday_ahead(1, 0)
    b = site.browser()
    b.go("")
    b.wait("#login-form")
    assert b.find("#login-form button[type=submit]").text == "Iniciar sesión"  # es-MX by default
    site.shot(b, "login")
    b.login(*RECEP)
    assert "Recepción" in b.find("#who").text  # the role translated (issue 16)
    site.shot(b, "agenda")

    book_through_ui(b, site, date, "Ximena", "10:00")
    site.shot(b, "new-appointment")
    b.click("#book")
    b.wait("#appt-status")
    appt_id = int(b.driver.current_url.rsplit("/", 1)[1])
    assert b.find("#appt-status").text == "Pendiente"
    recep = site.token(*RECEP)
    st, _, a = site.api("GET", f"/api/v1/appointments/{appt_id}", token=recep)
    assert st == 200 and a["professional_id"] == PRO1_ID and a["start_at"].startswith(f"{date}T10:00")
    b.click("#act-confirm")
    b.wait_text("#appt-status", "Confirmada")

    # Record its payment (the form proposes the outstanding amount).
    b.select("#payment-form select[name=method]", "CASH")
    b.click("#pay")
    b.wait_text("#payments", "850")
    b.driver.execute_script("arguments[0].scrollIntoView()", b.find("#money"))
    site.shot(b, "appointment")
    st, _, pays = site.api("GET", f"/api/v1/payments?appointment_id={appt_id}", token=recep)
    assert st == 200 and [p["amount_cents"] for p in pays["items"]] == [85000]

    # It is in the agenda of that day, in Lucía's column.
    b.go("#/agenda")
    b.set_value("#agenda-date, input[name=date]", date)
    blk = b.wait(f"#agenda .col[data-col='{PRO1_ID}'] .appt[data-id='{appt_id}']")
    assert "Facial" in blk.text

    # Clients: the new client is found by name, with the appointment in its history.
    b.go("#/clients")
    b.fill("input[name=q]", "Ximena")
    b.click("form.toolbar button[type=submit]")
    b.wait_text("table.list tbody", "Ximena")
    site.shot(b, "clients")

    # A professional sees only their own appointments and completes one.
    pro2_appt = site.api("POST", "/api/v1/appointments", {
        "client_id": 1, "service_id": 2, "professional_id": PRO2_ID, "branch_id": 1,
        "start": f"{date}T12:00:00-06:00"}, token=recep)
    assert pro2_appt[0] == 201, pro2_appt
    p = site.browser()
    p.login(*PRO1)
    p.set_value("input[name=date]", date)
    p.wait(f".appt[data-id='{appt_id}']")
    ids = {int(e.get_attribute("data-id")) for e in p.find_all(".appt")}
    assert appt_id in ids and pro2_appt[2]["id"] not in ids
    assert [e.get_attribute("data-col") for e in p.find_all("#agenda .col")] == [str(PRO1_ID)]
    p.click(f".appt[data-id='{appt_id}']")
    p.click("#act-complete")
    p.wait_text("#appt-status", "Completada")
    st, _, a = site.api("GET", f"/api/v1/appointments/{appt_id}", token=recep)
    assert a["status"] == "COMPLETED"

    # English is selectable.
    p.select("#lang", "en")
    p.wait_text("#logout", "Log out")


def test_two_browsers_book_the_same_time(site):
    date = weekday_ahead(2, 1)
    one, two = site.browser(), site.browser()
    for b in (one, two):
        b.login(*RECEP)
    slot1 = book_through_ui(one, site, date, "Primera", "11:00")
    slot2 = book_through_ui(two, site, date, "Segunda", "11:00")
    assert slot1 == slot2
    one.click("#book")
    one.wait("#appt-status")
    two.allow("/api/v1/appointments - Failed to load resource: the server responded with a status of 409")
    two.click("#book")
    msg = two.wait_text("#conflict", "reservado")
    assert "horarios libres" in msg.text
    # The free times were refreshed: 11:00 is gone, other times remain.
    # (the list is emptied while the new one loads: wait for both)
    two.wait_until(lambda: not two.find_all(slot2) and two.find_all("#slots button.slot"))
    site.shot(two, "slot-taken")
    recep = site.token(*RECEP)
    st, _, r = site.api("GET", f"/api/v1/appointments?from={date}&to={date}&professional_id={PRO1_ID}",
                        token=recep)
    assert st == 200 and len([a for a in r["items"] if a["start_at"].startswith(f"{date}T11:00")]) == 1
    # The winner reschedules through availability: 11:00 -> 12:00.
    appt_id = int(one.driver.current_url.rsplit("/", 1)[1])
    one.click(f"#slots button.slot[data-start^='{date}T12:00']")
    one.click("#dlg-ok")  # the move is confirmed, old -> new (issue 16)
    one.wait_until(lambda: site.api("GET", f"/api/v1/appointments/{appt_id}", token=recep)[2]
                   ["start_at"].startswith(f"{date}T12:00"))
    one.wait("dl.facts")


def test_master_admin_data_safety(site):
    # One backup before: its age shows, green against BACKUP_MAX_AGE_HOURS.
    p = run(["backup", "--tier", "daily"], database=site.db,
            env={"BACKUP_DIR": str(site.bdir)})
    assert p.returncode == 0, p.stderr
    b = site.browser()
    b.go("#/admin-login")
    b.wait("#login-form")
    assert b.unlabelled() == []
    b.fill("#login-form input[name=password]", MASTER_PASSWORD)
    b.click("#login-form button[type=submit]")
    b.wait("#tiers")
    daily = b.find("#tiers tr[data-tier='daily'] .age")
    assert "green" in daily.get_attribute("class")
    assert int(daily.get_attribute("data-age")) < 600
    assert "grey" in b.find("#tiers tr[data-tier='monthly'] .age").get_attribute("class")  # optional, not used yet (issue 16)
    assert "Administrador maestro" in b.find("#who").text  # translated (issue 16)
    before = len(b.find_all("#backups tbody tr"))
    assert before == 1
    assert b.find("#free-space").text
    b.click("#backup-now")
    b.wait_until(lambda: len(b.find_all("#backups tbody tr")) > before, timeout=60)
    b.wait_text("#progress", "Terminado", timeout=60)
    b.click("#verify-all")
    b.wait_until(lambda: b.find_all("#backups td.ok") and
                 len(b.find_all("#backups td.ok")) == len(b.find_all("#backups tbody tr")), timeout=60)
    b.click("#backups tbody tr input[type=radio]")
    assert b.find("#restore-cmd").text.startswith("citaplanner backup restore " + str(site.bdir))
    assert b.find_all("svg.chart rect.bar")
    assert b.unlabelled() == []
    site.shot(b, "data-safety")


def test_data_safety_shows_where_a_backup_came_from(site):
    """Issue 15: a backup of the original CitaPlanner's pg_backup.sh (gzip,
    a sha256sum sidecar naming its absolute path, no manifest) is listed as
    another tool's, ours as CitaPlanner's."""
    import gzip
    import hashlib
    daily = site.bdir / "daily"
    daily.mkdir(parents=True, exist_ok=True)
    p = run(["backup", "--tier", "daily"], database=site.db, env={"BACKUP_DIR": str(site.bdir)})
    assert p.returncode == 0, p.stderr
    theirs = daily / "citaplanner_daily_20250101_020000.sql.gz"
    theirs.write_bytes(gzip.compress(b"SET statement_timeout = 0;\n-- PostgreSQL database dump complete\n"))
    digest = hashlib.sha256(theirs.read_bytes()).hexdigest()
    (daily / (theirs.name + ".sha256")).write_text(f"{digest}  {theirs}\n")
    try:
        b = site.browser()
        b.go("#/admin-login")
        b.wait("#login-form")
        b.fill("#login-form input[name=password]", MASTER_PASSWORD)
        b.click("#login-form button[type=submit]")
        b.wait(f"#backups tr[data-file='{theirs.name}']")
        assert b.find(f"#backups tr[data-file='{theirs.name}'] td.origin").text == \
            "Otra herramienta (sin manifiesto)"
        ours = [c.text for c in b.find_all("#backups td.origin")]
        assert ours.count("CitaPlanner") == len(ours) - 1, ours
    finally:
        theirs.unlink()
        (daily / (theirs.name + ".sha256")).unlink()


def test_catalogue(site):
    b = site.browser()
    b.login("admin@citaplanner.com", "admin123")
    b.go("#/catalogue")
    b.wait_text("main", "Lucía Navarro (40%)")
    assert "09:00–18:00" in b.find("main").text
    site.shot(b, "catalogue")
    # The week view of one professional: a booking on Wednesday sits in Wednesday's column.
    date = weekday_ahead(3, 2)
    st, _, a = site.api("POST", "/api/v1/appointments", {
        "client_id": 2, "service_id": FACIAL, "professional_id": PRO1_ID, "branch_id": 1,
        "start": f"{date}T09:00:00-06:00"}, token=site.token("admin@citaplanner.com", "admin123"))
    assert st == 201, a
    b.go("#/agenda")
    b.select("select[name=view]", "week")
    b.select("select[name=pro]", PRO1_ID)
    b.set_value("input[name=date]", date)
    b.wait(f"#agenda .col[data-col='{date}'] .appt[data-id='{a['id']}']")
    assert len(b.find_all("#agenda .col")) == 7
    site.shot(b, "agenda-week")


def test_keyboard_only_login_and_booking(site):
    """Issue 11, keyboard operable: log in and book with Tab, Enter, arrow keys and
    typing only, and the focused control is always visibly marked."""
    b = site.browser()
    b.go("#/login")
    b.wait("#login-form")
    b.tab_to("#login-form input[name=email]")
    assert b.focus_visible()
    b.keys(RECEP[0])
    b.tab_to("#login-form input[name=password]")
    b.keys(RECEP[1], Keys.ENTER)
    b.wait("#agenda .agenda-title")
    # To a Thursday at least a week ahead (no other test books Thursdays) with Next.
    start = dt.date.fromisoformat(b.find("input[name=date]").get_attribute("value"))
    target = start + dt.timedelta(days=7)
    target += dt.timedelta(days=(3 - target.weekday()) % 7)
    b.tab_to("#agenda-next")
    assert b.focus_visible()
    day = start
    while day < target:
        day += dt.timedelta(days=1)
        b.keys(Keys.ENTER)  # the focus comes back to Next after each drawing
        b.wait_until(lambda: b.driver.execute_script("return document.querySelector('input[name=date]').value")
                     == day.isoformat() and b.focused("#agenda-next"))
    # Back up to the menu, to "Nueva cita".
    b.tab_to("nav a[href='#/new']", back=True)
    assert b.focus_visible()
    b.keys(Keys.ENTER)
    b.wait(f"#booking-form select[name=professional_id] option[value='{PRO1_ID}']", visible=False)
    b.tab_to("#new-client-form input[name=first_name]")
    b.keys("Teclado")
    b.tab_to("#new-client-form input[name=last_name]")
    b.keys("Solo")
    b.tab_to("#new-client-form input[name=phone]")
    b.keys("+52 55 %08d" % (uuid.uuid4().int % 10**8), Keys.ENTER)
    b.wait_text("#chosen-client", "Teclado")
    b.tab_to("#booking-form select[name=service_id]")
    assert b.find("#booking-form select[name=service_id]").get_attribute("value") == str(FACIAL)
    b.tab_to("#booking-form select[name=professional_id]")
    assert b.focus_visible()
    b.keys(Keys.ARROW_DOWN)  # "Cualquiera" -> the first professional, Lucía
    assert b.find("#booking-form select[name=professional_id]").get_attribute("value") == str(PRO1_ID)
    first = f"#slots button.slot[data-pro='{PRO1_ID}'][data-start^='{target.isoformat()}']"
    b.wait(first)
    b.wait_until(lambda: not b.find_all(f"#slots button.slot:not([data-pro='{PRO1_ID}'])"))
    slot = b.tab_to("#slots button.slot")
    start_at = slot.get_attribute("data-start")
    assert start_at.startswith(target.isoformat()) and b.focus_visible()
    b.keys(Keys.ENTER)
    assert "chosen" in slot.get_attribute("class")
    b.tab_to("#book")
    assert b.focus_visible()
    b.keys(Keys.ENTER)
    b.wait("#appt-status")
    appt_id = int(b.driver.current_url.rsplit("/", 1)[1])
    st, _, a = site.api("GET", f"/api/v1/appointments/{appt_id}", token=site.token(*RECEP))
    assert st == 200 and a["professional_id"] == PRO1_ID and a["service_id"] == FACIAL
    assert dt.datetime.fromisoformat(a["start_at"].replace("Z", "+00:00")) == \
        dt.datetime.fromisoformat(start_at.replace("Z", "+00:00"))


def test_every_field_is_labelled(site):
    """Issue 11, labelled form fields: every input, select and textarea of every
    staff screen has a <label> or an aria-label (the master's screens are checked
    in test_master_admin_data_safety)."""
    admin = site.token("admin@citaplanner.com", "admin123")
    st, _, a = site.api("POST", "/api/v1/appointments", {
        "client_id": 3, "service_id": FACIAL, "professional_id": PRO1_ID, "branch_id": 1,
        "start": f"{weekday_ahead(4, 4)}T10:00:00-06:00"}, token=admin)
    assert st == 201, a
    b = site.browser()
    b.allow("/history")  # the client's full history: a 404 before the API side of issue 16
    b.go("#/login")
    b.wait("#login-form")
    seen = {"login": b.unlabelled()}
    b.login("admin@citaplanner.com", "admin123")
    seen["agenda"] = b.unlabelled()
    b.select("select[name=view]", "week")
    b.wait("select[name=pro]")
    seen["agenda-week"] = b.unlabelled()
    for name, frag, ready in [("new", "#/new", "#slots h3"), ("appointment", f"#/appt/{a['id']}", "#payment-form"),
                              ("clients", "#/clients", "table.list"), ("client", "#/client/1", "#client-history, #client-form ~ p.muted"),
                              ("client-new", "#/client/new", "form.card"), ("catalogue", "#/catalogue", "#hours-form")]:
        b.go(frag)
        b.wait(ready)
        seen[name] = b.unlabelled()
    b.click("#service-new")
    b.wait("#service-form")
    seen["service-form"] = b.unlabelled()
    assert len(seen) == 10 and all(v == [] for v in seen.values()), seen
    # The check itself finds a field without a label.
    b.driver.execute_script("document.getElementById('main').append(document.createElement('input'))")
    assert len(b.unlabelled()) == 1


def test_catalogue_editing(site):
    """ADMIN edits the catalogue: a new service with its professionals and their
    commissions, then the branch's hours; the API's refusals show beside the
    field they name."""
    admin = site.token("admin@citaplanner.com", "admin123")
    b = site.browser()
    b.login("admin@citaplanner.com", "admin123")
    b.go("#/catalogue")
    b.click("#service-new")
    b.wait("#service-form")
    b.fill("#service-form input[name=name]", "Facial Hidratante")  # taken
    b.fill("#service-form input[name=duration_min]", "45")
    b.fill("#service-form input[name=price_cents]", "350.50")
    b.set_value("#service-form input[name=color]", "#22aa66")
    b.click(f"#sp-on-{PRO1_ID}")
    b.fill(f"#sp-pct-{PRO1_ID}", "35")
    b.click(f"#sp-on-{PRO2_ID}")
    b.fill(f"#sp-pct-{PRO2_ID}", "150")  # over 100
    b.allow("/api/v1/services - Failed to load resource: the server responded with a status of 409")
    b.click("#service-save")
    b.wait_until(lambda: b.find("#service-form .field-error[data-for='name']").text)
    assert b.find(f"#service-form .field-error[data-for='sp-{PRO2_ID}']").text == ""
    name = "Masaje " + uuid.uuid4().hex[:6]
    b.fill("#service-form input[name=name]", name)
    b.allow("/professionals - Failed to load resource: the server responded with a status of 400")
    b.click("#service-save")
    err = b.wait_until(lambda: b.find(f"#service-form .field-error[data-for='sp-{PRO2_ID}']").text)
    assert "Comisión" in err and "100" in err and "commission_pct" not in err  # translated (issue 16)
    assert b.find("#service-form .field-error[data-for='name']").text == ""
    b.fill(f"#sp-pct-{PRO2_ID}", "30")
    b.click("#service-save")
    row = b.wait_text("#services tbody", name)
    b.wait_until(lambda: not b.find_all("#service-form"))  # saved: the form closes
    st, _, svcs = site.api("GET", "/api/v1/services?limit=200", token=admin)
    svc = [s for s in svcs["items"] if s["name"] == name]
    assert len(svc) == 1, svc
    svc = svc[0]
    assert (svc["duration_min"], svc["price_cents"], svc["color"], svc["active"]) == (45, 35050, "#22aa66", True)
    st, _, ps = site.api("GET", f"/api/v1/services/{svc['id']}/professionals", token=admin)
    assert [(p["user_id"], p["commission_pct"]) for p in ps["items"]] == [(PRO1_ID, 35), (PRO2_ID, 30)]
    assert "Lucía Navarro (35%)" in row.text

    # Edit it again: inactive now, one professional fewer.
    b.click(f".svc-edit[data-id='{svc['id']}']")
    b.wait(f"#service-form[data-id='{svc['id']}']")
    assert b.find("#service-form input[name=price_cents]").get_attribute("value") == "350.50"
    b.click("#svc-active")
    b.click(f"#sp-on-{PRO2_ID}")
    b.click("#service-save")
    b.wait_until(lambda: not b.find_all("#service-form"))
    st, _, s2 = site.api("GET", f"/api/v1/services/{svc['id']}", token=admin)
    assert s2["active"] is False
    st, _, ps = site.api("GET", f"/api/v1/services/{svc['id']}/professionals", token=admin)
    assert [p["user_id"] for p in ps["items"]] == [PRO1_ID]

    # Hours: open on Sunday 14:00-16:00 (no other test books a Sunday).
    b.click("#hours-form .wh-add[data-day='0']")
    row = ".wh-day[data-day='0'] .wh-row:last-child"
    b.set_value(f"{row} input.wh-start", "14:00")
    b.set_value(f"{row} input.wh-end", "10:00")
    b.allow("/api/v1/working-hours - Failed to load resource: the server responded with a status of 400")
    b.click("#hours-save")
    err = b.wait_until(lambda: b.find(f"{row} .field-error").text)
    assert "Fin" in err and "posterior" in err and "end_time" not in err  # translated (issue 16)
    b.set_value(f"{row} input.wh-end", "16:00")
    b.click("#hours-save")
    b.wait_text("#hours", "14:00–16:00")
    st, _, wh = site.api("GET", "/api/v1/working-hours?branch_id=1&branch_default=true", token=admin)
    days = {(w["day_of_week"], w["start_time"], w["end_time"]) for w in wh["items"] if w["user_id"] is None}
    assert (0, "14:00", "16:00") in days and (1, "09:00", "18:00") in days and len(days) == 7
