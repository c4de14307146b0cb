"""`citaplanner seed` on both databases (SPEC §5): idempotent, creates only
what is missing, never changes or deletes a row, the demo appointments once.

The checks of times use Python's zoneinfo (the system tz database), not the
program's own time-zone code, so the two check each other.  A fresh seed
hashes five bcrypt passwords: each test seeds a fresh database once."""
import datetime
import json
import re
import subprocess
import warnings
import zoneinfo


from conftest import BIN

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # deprecated, still in 3.11: an independent bcrypt (libxcrypt via Python)

MX = zoneinfo.ZoneInfo("America/Mexico_City")
PASSWORDS = {
    "admin@citaplanner.com": "admin123",
    "manager@citaplanner.com": "manager123",
    "pro1@citaplanner.com": "prof123",
    "pro2@citaplanner.com": "prof123",
    "recepcionista@citaplanner.com": "prof123",
}
COUNTS = {"tenants": 1, "branches": 1, "users": 5, "services": 6, "service_professionals": 6,
          "clients": 6, "working_hours": 6, "appointments": 6, "payments": 3}
LINE = re.compile(r"^(tenant|branch|user|service|assignment|client|working hours|appointment|"
                  r"payment|demo appointments) '.+': (created|already present)$")


def migrate(cp, db):
    r = cp(["migrate", "deploy"], database=db)
    assert r.returncode == 0, r.stderr


def seed(cp, db, *args):
    r = cp(["seed", *args], database=db)
    assert r.returncode == 0, r.stderr
    return r


def counts(db):
    return {t: db.count(t) for t in COUNTS}


def epoch(db, col):
    """SQL for an instant column as Unix seconds, whatever the session's zone."""
    if db.kind == "pg":
        return f"CAST(extract(epoch FROM {col}) AS BIGINT)"
    return f"CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER)"


def open_hours(db):
    """{weekday (0 = Sunday): [(start, end) minutes]} of the branch's default hours."""
    hours = {}
    for dow, start, end in db.query("SELECT day_of_week, start_time, end_time FROM working_hours "
                                    "WHERE user_id IS NULL"):
        mins = lambda s: int(s[:2]) * 60 + int(s[3:])
        hours.setdefault(int(dow), []).append((mins(start), mins(end)))
    return hours


def appointments(db):
    rows = db.query(
        f"SELECT a.id, {epoch(db, 'a.start_at')}, {epoch(db, 'a.end_at')}, a.status, "
        "a.price_cents, a.professional_id, s.duration_min, s.price_cents, "
        "(SELECT count(*) FROM service_professionals sp WHERE sp.service_id = a.service_id "
        " AND sp.user_id = a.professional_id) "
        "FROM appointments a JOIN services s ON s.id = a.service_id ORDER BY a.id")
    out = []
    for r in rows:
        start = datetime.datetime.fromtimestamp(int(r[1]), MX)
        end = datetime.datetime.fromtimestamp(int(r[2]), MX)
        out.append({"id": int(r[0]), "start": start, "end": end, "status": r[3],
                    "price": int(r[4]), "pro": int(r[5]), "duration": int(r[6]),
                    "service_price": int(r[7]), "offers": int(r[8])})
    return out


def shift_to_open(day, step, hours):
    """The SPEC's rule: a closed day moves to the nearest open day in its direction."""
    while (day.isoweekday() % 7) not in hours:
        day += datetime.timedelta(days=step)
    return day


def test_seed_ten_times_is_idempotent(cp, db):
    migrate(cp, db)
    first = seed(cp, db)
    lines = first.stdout.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert lines[0] == "tenant 'Bella Vita Spa & Wellness': created"
    assert all(line.endswith(": created") for line in lines)
    assert len(lines) == 35
    assert counts(db) == COUNTS

    second = seed(cp, db)
    again = second.stdout.splitlines()
    assert again, "the second run printed nothing"
    assert all(LINE.match(line) for line in again), again
    assert all(line.endswith(": already present") for line in again), again
    assert "demo appointments 'Bella Vita Spa & Wellness': already present" in again
    for _ in range(7):
        assert seed(cp, db).stdout == second.stdout
    out = json.loads(seed(cp, db, "--json").stdout)  # the tenth
    assert out["created"] == 0 and out["present"] == len(out["entities"]) == len(again)
    assert out["entities"][0] == {"entity": "tenant", "key": "Bella Vita Spa & Wellness",
                                  "result": "present"}
    assert {e["result"] for e in out["entities"]} == {"present"}
    assert counts(db) == COUNTS


def test_seed_data(cp, db):
    migrate(cp, db)
    today = datetime.datetime.now(MX).date()
    r = seed(cp, db, "--json")
    out = json.loads(r.stdout)
    assert out["created"] == 35 and out["present"] == 0
    assert [e["entity"] for e in out["entities"]].count("appointment") == 6
    assert "published passwords" in r.stderr

    # The hashes are standard bcrypt, cost 10, verified by another implementation.
    users = dict(db.query("SELECT email, password_hash FROM users"))
    assert set(users) == set(PASSWORDS)
    for email, pw in PASSWORDS.items():
        h = users[email]
        assert h.startswith("$2b$10$") and len(h) == 60
        assert crypt.crypt(pw, h) == h, email
        assert crypt.crypt(pw + "x", h) != h

    rows = db.query("SELECT name, duration_min, price_cents FROM services ORDER BY name")
    assert [[n, int(d), int(p)] for n, d, p in rows] == [
        ["Corte de Cabello", 45, 45000], ["Facial Hidratante", 60, 85000],
        ["Limpieza Facial Profunda", 75, 95000], ["Manicure y Pedicure", 120, 65000],
        ["Masaje Relajante", 90, 120000], ["Masaje Terapéutico", 60, 100000]]
    assert db.query("SELECT timezone, currency FROM tenants") == [["America/Mexico_City", "MXN"]]

    # Appointments: inside the branch's hours in Mexico City, never overlapping.
    hours = open_hours(db)
    assert hours == {1: [(540, 1080)], 2: [(540, 1080)], 3: [(540, 1080)], 4: [(540, 1080)],
                     5: [(540, 1080)], 6: [(600, 960)]}
    appts = appointments(db)
    assert len(appts) == 6
    for a in appts:
        assert a["start"].date() == a["end"].date()
        assert a["end"] - a["start"] == datetime.timedelta(minutes=a["duration"])
        assert a["price"] == a["service_price"] and a["offers"] == 1
        s = a["start"].hour * 60 + a["start"].minute
        e = a["end"].hour * 60 + a["end"].minute
        assert any(lo <= s and e <= hi for lo, hi in hours.get(a["start"].isoweekday() % 7, [])), a
    for a in appts:
        for b in appts:
            if a["id"] < b["id"] and a["pro"] == b["pro"]:
                assert a["end"] <= b["start"] or b["end"] <= a["start"], (a, b)

    # Days: today 1 CONFIRMED + 1 PENDING, tomorrow 1 CONFIRMED, 1-3 days ago 3 COMPLETED.
    if datetime.datetime.now(MX).date() == today:  # not across midnight in Mexico City
        day = lambda n, step: shift_to_open(today + datetime.timedelta(days=n), step, hours)
        got = sorted((a["start"].date(), a["status"]) for a in appts)
        want = sorted([(day(0, 1), "CONFIRMED"), (day(0, 1), "PENDING"),
                       (day(1, 1), "CONFIRMED"), (day(-1, -1), "COMPLETED"),
                       (day(-2, -1), "COMPLETED"), (day(-3, -1), "COMPLETED")])
        assert got == want

    # Payments: one per completed appointment, for its price, paid at its end.
    pays = db.query(
        f"SELECT p.amount_cents, a.price_cents, a.status, p.method, p.status, "
        f"{epoch(db, 'p.paid_at')}, {epoch(db, 'a.end_at')}, u.email "
        "FROM payments p JOIN appointments a ON a.id = p.appointment_id "
        "JOIN users u ON u.id = p.recorded_by")
    assert len(pays) == 3
    assert sorted(p[3] for p in pays) == ["CASH", "CREDIT_CARD", "TRANSFER"]
    for amount, price, status, _, pstatus, paid, end, email in pays:
        assert int(amount) == int(price) > 0
        assert status == "COMPLETED" and pstatus == "PAID"
        assert int(paid) == int(end)
        assert email == "recepcionista@citaplanner.com"


def test_seed_never_changes_existing_rows(cp, db):
    migrate(cp, db)
    seed(cp, db)
    new_hash = crypt.crypt("otra-clave", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    db.query(f"UPDATE users SET password_hash = '{new_hash}' "
             "WHERE email = 'admin@citaplanner.com'")
    db.query("DELETE FROM payments")
    db.query("DELETE FROM appointments")
    db.query("UPDATE services SET name = 'Corte Clásico' WHERE name = 'Corte de Cabello'")
    db.query("UPDATE services SET price_cents = 50000 WHERE name = 'Facial Hidratante'")

    lines = seed(cp, db).stdout.splitlines()
    # The changed password stays; the deleted appointments stay deleted.
    h = db.query("SELECT password_hash FROM users WHERE email = 'admin@citaplanner.com'")[0][0]
    assert h == new_hash and crypt.crypt("otra-clave", h) == h
    assert crypt.crypt("admin123", h) != h
    assert db.count("appointments") == 0 and db.count("payments") == 0
    assert "demo appointments 'Bella Vita Spa & Wellness': already present" in lines
    # Services are matched by (tenant, name): the renamed one stays and the demo
    # name is created again, with its assignment; a changed price stays.
    assert "service 'Corte de Cabello': created" in lines
    assert "assignment 'Corte de Cabello: pro2@citaplanner.com': created" in lines
    assert [line for line in lines if line.endswith(": created")] == [
        "service 'Corte de Cabello': created",
        "assignment 'Corte de Cabello: pro2@citaplanner.com': created"]
    assert db.count("services") == 7
    assert db.count("services", "WHERE name = 'Corte Clásico'") == 1
    assert int(db.scalar("SELECT price_cents FROM services WHERE name = 'Facial Hidratante'")) \
        == 50000
    assert db.count("users") == 5 and db.count("tenants") == 1


def test_seed_twice_at_once(cp, db):
    """Two seeds on a fresh database at the same time: one creates, the other
    finds everything present (PostgreSQL advisory lock, SQLite write lock)."""
    migrate(cp, db)
    env = {"PATH": "/usr/bin:/bin", "TZ": "UTC", "DATABASE_URL": db.url, "LOG_LEVEL": "warn"}
    procs = [subprocess.Popen([BIN, "seed", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    created = sorted(json.loads(o[0])["created"] for o in outs)
    assert created == [0, 35]
    assert counts(db) == COUNTS


def test_seed_before_migrate(cp, db):
    r = cp(["seed"], database=db)
    assert r.returncode == 4, (r.returncode, r.stderr)
    assert "citaplanner migrate deploy" in r.stderr
    assert r.stdout == ""


def test_seed_usage(cp, db):
    r = cp(["seed", "extra"], database=db)
    assert r.returncode == 2 and "seed" in r.stderr
    r = cp(["seed", "--bogus"], database=db)
    assert r.returncode == 2
    r = cp(["seed", "--help"])
    assert r.returncode == 0
    assert "already present" in r.stdout and "Exit status" in r.stdout
