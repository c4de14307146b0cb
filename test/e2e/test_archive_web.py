"""The continuous archive on the data-safety page (issue 20), in headless
Chromium: "recoverable to any moment from … to … (N s ago)" in the
browser's time zone with the archive's health as a banner, green when it
is up to date, amber/red when it lags or fails, grey "not used" when it is
off; in Spanish and English; no horizontal scrolling on a phone.  SQLite
runs the archiver inside serve (ARCHIVE_SQLITE=on); the PostgreSQL run
has archiving off (its archive on a replication-ready server is
test/archive/test_archive_status.py's)."""
import datetime as dt
import os
import re
import shutil

import pytest

from browser import Browser
from server import Server
from test_admin_api import MASTER_PASSWORD, prepare
from test_online_booking_web import axe_serious

PHONE = (390, 844)


@pytest.fixture
def site(db, tmp_path):
    prepare(db)
    bdir = tmp_path / "backups"
    env = {"BACKUP_DIR": str(bdir), "ARCHIVE_MAX_LAG": "2"}
    if db.kind == "sqlite":
        env.update(ARCHIVE_SQLITE="on", ARCHIVE_SQLITE_INTERVAL_MS="200")
    srv = Server(db, env=env)
    browsers = []
    try:
        srv.wait_ready()
        yield db, srv, bdir, browsers
    finally:
        problems = []
        for b in browsers:
            problems += b.problems()
            b.close()
        srv.stop()
        assert problems == [], problems


def page(b, lang):
    b.driver.execute_script("localStorage.setItem('citaplanner.lang', arguments[0])", lang)
    b.driver.refresh()
    b.wait("#archive-state")
    return b.find("#archive-state"), b.find("#archive").text


def fits(b):
    sw, iw = b.driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
    assert sw <= iw, (sw, iw)


def test_archive_range_and_health_on_the_data_safety_page(site):
    db, srv, bdir, browsers = site
    b = Browser(f"http://127.0.0.1:{srv.port}")
    browsers.append(b)
    b.driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
    b.driver.set_window_size(*PHONE)
    b.go("#/admin-login")
    b.wait("#login-form")
    b.fill("#login-form input[name=password]", MASTER_PASSWORD)
    b.click("#login-form button[type=submit]")
    b.wait("#tiers")
    if db.kind == "pg":
        for lang, words in (("es", "no se usa"), ("en", "not used")):
            state, text = page(b, lang)
            assert "grey" in state.get_attribute("class") and words in state.text, state.text
            assert "ARCHIVE=on" in text, text
            fits(b)
        assert axe_serious(b) == []
        return
    # SQLite: the archiver in serve ships what the login wrote; the page shows it up to date
    state, text = None, ""
    for _ in range(60):
        state, text = page(b, "es")
        if "green" in state.get_attribute("class") and "Se puede recuperar" in text:
            break
    assert "green" in state.get_attribute("class") and "al día" in state.text, text
    m = re.search(r"desde (.+) hasta (.+) \(hace (\d+) s\)", text)
    assert m, text
    # the browser's zone (Tokyo, UTC+9): the newest moment is Tokyo's hour, not UTC's
    tokyo = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=9)
    assert any(f"{h:02d}:" in m.group(2) for h in (tokyo.hour, (tokyo.hour - 1) % 24)), (m.group(2), tokyo)
    assert "UTC" not in text and "null" not in text and "undefined" not in text, text
    assert "generación" in text and "segmento" in text, text
    fits(b)
    state, text = page(b, "en")
    assert "green" in state.get_attribute("class") and "up to date" in state.text, text
    assert re.search(r"Recoverable to any moment from .+ to .+ \(\d+ s ago\)", text), text
    fits(b)
    assert axe_serious(b) == []
    # the archive cannot be written (its generation replaced by a file): amber while it
    # retries within ARCHIVE_MAX_LAG, red beyond, with what to do, in both languages
    gen = os.path.dirname(sorted((bdir / "wal-sqlite").glob("*/manifest"))[-1])
    shutil.move(gen, gen + ".aside")
    open(gen, "w").close()
    st, _, r = srv.request("POST", "/api/v1/auth/login", {"email": "admin@citaplanner.com", "password": "admin123"})
    assert st == 200, r
    auth = {"Authorization": "Bearer " + r["token"]}
    try:
        seen = set()
        for i in range(80):
            st, _, r = srv.request("POST", "/api/v1/clients", {"first_name": "Ana", "last_name": "Archivo %d" % i,
                                                               "phone": "55%08d" % i}, headers=auth)
            assert st == 201, r
            state, text = page(b, "es")
            cls = state.get_attribute("class")
            seen |= {c for c in ("amber", "red") if c in cls}
            if "red" in cls:
                break
        assert "red" in seen, text
        assert "falla" in state.text and "archivador" in state.text, state.text
        fits(b)
        state, text = page(b, "en")
        assert "red" in state.get_attribute("class") and "failing" in state.text and "archiver" in state.text, state.text
        fits(b)
    finally:
        os.unlink(gen)
        shutil.move(gen + ".aside", gen)
    for _ in range(60):
        state, text = page(b, "en")
        if "green" in state.get_attribute("class"):
            break
    assert "green" in state.get_attribute("class"), state.text
