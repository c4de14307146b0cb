"""Deployment files: deploy/Dockerfile, deploy/docker-compose.yml,
deploy/systemd/*, .env.example, and the container's start exercised without
Docker (the binary run with the image's and the compose file's environment
against the test PostgreSQL).

No Docker engine is needed: the files are parsed and checked for the points
an operator relies on (volumes, mounts, healthchecks, non-root user, the
guide's /app/scripts/pg_backup.sh), and the start is the same command with
the same environment the image would run.
"""
import json
import os
import re
import secrets
import shutil
import subprocess
import uuid

import pytest
import yaml

from conftest import BIN, ROOT, Database, pg_admin_url, pg_parts, pg_url_for, psql
from server import Server, free_port

DEPLOY = os.path.join(ROOT, "deploy")
DOCKERFILE = os.path.join(DEPLOY, "Dockerfile")
COMPOSE = os.path.join(DEPLOY, "docker-compose.yml")
ENV_EXAMPLE = os.path.join(ROOT, ".env.example")
UNITS = os.path.join(DEPLOY, "systemd")
VOLUME_PATH = "/backup-citaplanner"

# Filled in by the operator before the first start (.env.example says so).
REQUIRED_BLANKS = ("POSTGRES_PASSWORD", "SESSION_SECRET")
SECRETS = ("POSTGRES_PASSWORD", "SESSION_SECRET", "NEXTAUTH_SECRET", "MASTER_PASSWORD_HASH")


# --- parsers ---------------------------------------------------------------

def parse_env_file(path):
    """NAME=value lines of an env file (compose's and systemd's common
    subset): comments and blank lines skipped, one pair of surrounding quotes
    removed.  Returns (values, names also shown commented as '# NAME=')."""
    values, commented = {}, set()
    with open(path) as f:
        for line in f:
            line = line.strip()
            m = re.match(r"#\s*([A-Z][A-Z0-9_]*)=", line)
            if m:
                commented.add(m.group(1))
                continue
            if not line or line.startswith("#"):
                continue
            name, sep, value = line.partition("=")
            assert sep and re.fullmatch(r"[A-Z][A-Z0-9_]*", name), f"bad line in {path}: {line!r}"
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[name] = value
    return values, commented


class Unset(Exception):
    pass


def interpolate(text, env):
    """Compose's variable substitution: $$, ${V}, ${V:-d}, ${V-d}, ${V:?m}, ${V?m}."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1), m.group(2), m.group(3) or ""
        val = env.get(name)
        empty = val is None or (val == "" and op and op.startswith(":"))
        if op in (":-", "-"):
            return arg if empty else val
        if op in (":?", "?"):
            if empty:
                raise Unset(f"{name}: {arg}")
            return val
        return val or ""
    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}", sub, text)


def dockerfile_stages():
    """[(FROM args, [(INSTRUCTION, args)...])...], continuation lines joined."""
    with open(DOCKERFILE) as f:
        text = f.read()
    logical, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if cur and s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        logical.append(cur + s)
        cur = ""
    stages = []
    for line in logical:
        word, _, args = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stages.append((args.strip(), []))
        else:
            assert stages, f"instruction before FROM: {line}"
            stages[-1][1].append((word, args.strip()))
    return stages


def instr(stage, word):
    return [a for w, a in stage[1] if w == word]


def runtime_packages():
    final = dockerfile_stages()[-1]
    pkgs = set()
    for run in instr(final, "RUN"):
        m = re.search(r"apt-get install ((?:\s*-\S+)*)(.*?)(?:&&|$)", run)
        if m:
            pkgs.update(p for p in m.group(2).split() if not p.startswith("-"))
    return pkgs


def parse_unit(path):
    """{section: [(key, value)...]}: unit files repeat keys, so no dict."""
    sections, cur = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                cur = sections.setdefault(line.strip("[]"), [])
                continue
            k, _, v = line.partition("=")
            cur.append((k.strip(), v.strip()))
    return sections


def unit_values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


def compose():
    with open(COMPOSE) as f:
        return yaml.safe_load(f)


def help_variables():
    """Primary names of the variables `citaplanner help` lists."""
    p = subprocess.run([BIN, "help"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    names = re.findall(r"^\s+(?:--\S+(?: \S+)?|\(no flag\))\s+([A-Z][A-Z0-9_]+)(?:\|[A-Z0-9_]+)?\s",
                       p.stdout, re.M)
    assert len(names) >= 15, p.stdout
    return names


def image_env():
    env = {}
    for args in instr(dockerfile_stages()[-1], "ENV"):
        for k, v in re.findall(r"([A-Z][A-Z0-9_]*)=(\S+)", args):
            env[k] = v
    return env


def operator_env(fill=True):
    """What `cp .env.example deploy/.env` gives, with the REQUIRED blanks
    filled as an operator would (random values, never a fixed secret)."""
    values, _ = parse_env_file(ENV_EXAMPLE)
    if fill:
        values["POSTGRES_PASSWORD"] = secrets.token_hex(24)
        values["SESSION_SECRET"] = secrets.token_hex(32)
    return values


def app_environment(dotenv):
    """The app container's environment: image ENV, then env_file (.env),
    then the compose file's `environment:` (interpolated from .env), in the
    order Docker applies them."""
    app = compose()["services"]["app"]
    env = dict(image_env())
    env.update({k: v for k, v in dotenv.items()})
    for k, v in app["environment"].items():
        env[k] = interpolate(str(v), dotenv)
    # An empty variable counts as unset for the program; drop them as noise.
    return {k: v for k, v in env.items() if v != ""}


def base_env():
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
            "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")}


# --- the compose file --------------------------------------------------------

def test_compose_names_services_volumes_mounts_and_healthchecks():
    c = compose()
    services = c["services"]
    assert set(services) == {"postgres", "app"}
    pg, app = services["postgres"], services["app"]

    # Named volumes with fixed names (the guide's Easypanel names), mounted
    # where the data and the backups live.
    assert c["volumes"]["postgres_data"]["name"] == "citaplanner-postgres-data"
    assert c["volumes"]["citaplanner_backups"]["name"] == "citaplanner-backups"
    assert "postgres_data:/var/lib/postgresql/data" in pg["volumes"]
    assert f"citaplanner_backups:{VOLUME_PATH}" in app["volumes"]
    assert app["environment"]["BACKUP_DIR"] == VOLUME_PATH
    # the default SECRETS_KEY_FILE with PostgreSQL (data/secrets.key) survives too
    assert c["volumes"]["citaplanner_data"]["name"] == "citaplanner-data"
    assert "citaplanner_data:/app/data" in app["volumes"]

    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    assert app["depends_on"]["postgres"]["condition"] == "service_healthy"
    for svc in (pg, app):
        assert svc["restart"] in ("always", "unless-stopped")
    assert app["env_file"] in (".env", [".env"])

    # The image is built from the repository with this Dockerfile, and the
    # container port is the one the image exposes.
    ctx = os.path.normpath(os.path.join(DEPLOY, app["build"]["context"]))
    assert os.path.samefile(os.path.join(ctx, app["build"]["dockerfile"]), DOCKERFILE)
    assert any(str(p).endswith(":3000") for p in app["ports"])

    # pg_dump refuses a server newer than itself: the server's major version
    # (POSTGRES_VERSION, 17 by default; 13 to 17 supported) must not be above
    # the image's postgresql-client.
    clients = [int(m.group(1)) for p in runtime_packages()
               for m in [re.fullmatch(r"postgresql-client-(\d+)", p)] if m]
    assert clients == [17], clients
    assert interpolate(pg["image"], {}) == "postgres:17-bookworm", pg["image"]
    for major in range(13, 18):
        image = interpolate(pg["image"], {"POSTGRES_VERSION": str(major)})
        assert image == f"postgres:{major}-bookworm" and clients[0] >= major, image


def test_compose_interpolation_needs_the_required_blanks_filled():
    # As shipped, .env.example leaves the password empty: compose refuses
    # (`:?`) instead of starting a database with a placeholder password.
    with pytest.raises(Unset, match="POSTGRES_PASSWORD"):
        app_environment(operator_env(fill=False))
    dotenv = operator_env()
    env = app_environment(dotenv)
    assert env["DATABASE_URL"] == (f"postgresql://citaplanner:{dotenv['POSTGRES_PASSWORD']}"
                                   "@postgres:5432/citaplanner")
    assert env["LISTEN"] == "0.0.0.0:3000" and env["BACKUP_DIR"] == VOLUME_PATH
    pg_env = {k: interpolate(str(v), dotenv)
              for k, v in compose()["services"]["postgres"]["environment"].items()}
    assert pg_env["POSTGRES_PASSWORD"] == dotenv["POSTGRES_PASSWORD"]


# --- the Dockerfile ----------------------------------------------------------

def test_dockerfile_is_multistage_non_root_and_runs_serve():
    stages = dockerfile_stages()
    assert len(stages) >= 2
    for base, _ in stages:
        assert re.match(r"debian:13(\b|-)", base), base
    build, final = stages[0], stages[-1]
    assert build[0].endswith(" AS build")

    users = instr(final, "USER")
    assert users and users[-1] not in ("root", "0"), users
    assert instr(final, "EXPOSE") == ["3000"]
    health = instr(final, "HEALTHCHECK")
    assert len(health) == 1 and "/healthz" in health[0] and " CMD " in f" {health[0]}"
    assert [json.loads(a) for a in instr(final, "ENTRYPOINT")] == [["citaplanner"]]
    assert [json.loads(a) for a in instr(final, "CMD")] == [["serve"]]
    assert [json.loads(a) for a in instr(final, "VOLUME")] == [[VOLUME_PATH]]
    assert image_env()["BACKUP_DIR"] == VOLUME_PATH

    # The guide's cron line `0 2 * * * /app/scripts/pg_backup.sh` works as
    # written: the script is copied there, executable, and finds the binary.
    copies = instr(final, "COPY")
    assert "scripts/pg_backup.sh /app/scripts/pg_backup.sh" in copies
    assert any("/app/scripts/pg_backup.sh" in r and "chmod" in r for r in instr(final, "RUN"))
    assert os.access(os.path.join(ROOT, "scripts", "pg_backup.sh"), os.X_OK)
    with open(os.path.join(ROOT, "scripts", "pg_backup.sh")) as f:
        assert "/usr/local/bin/citaplanner" in f.read()
    assert any(c.startswith("--from=build ") and c.endswith(" /usr/local/bin/citaplanner")
               for c in copies), copies

    # Runtime stage: the client tools, no compiler, no -dev package.
    pkgs = runtime_packages()
    assert any(re.fullmatch(r"postgresql-client-\d+", p) for p in pkgs), pkgs
    assert {"tzdata", "libical3t64", "ca-certificates", "curl"} <= pkgs
    assert not [p for p in pkgs if p.endswith("-dev") or p in ("build-essential", "meson")]


def test_dockerignore_keeps_secrets_out_and_lets_the_build_inputs_in():
    with open(os.path.join(ROOT, ".dockerignore")) as f:
        rules = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    assert rules[0] == "*"  # everything out, then the few inputs back in
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    assert not any(".env" in a for a in allowed)
    for stage in dockerfile_stages():
        for c in instr(stage, "COPY"):
            if c.startswith("--from="):
                continue
            for src in c.split()[:-1]:
                top = src.rstrip("/").split("/")[0]
                assert top in allowed, f"COPY {src}: excluded by .dockerignore"
                assert os.path.exists(os.path.join(ROOT, src)), src


def test_runtime_stage_installs_every_library_the_binary_links():
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                        subprocess.run(["readelf", "-d", BIN], capture_output=True, text=True,
                                       check=True).stdout)
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", subprocess.run(
        ["ldd", BIN], capture_output=True, text=True, check=True).stdout, re.M))
    # in every debian image.  The image is Debian 13, this machine may be 12:
    # a library's package is the same but for trixie's "t64" suffix (64-bit time_t).
    pkgs = {p.removesuffix("t64") for p in runtime_packages()} | {"libc6", "libgcc-s1"}
    assert len(needed) >= 8, needed
    missing = []
    for lib in needed:
        if re.match(r"lib(asan|ubsan|lsan|tsan)\.", lib):
            continue  # the sanitizer build only
        # dpkg knows each file under one spelling: /lib or /usr/lib (merged
        # /usr), the soname link or the file it points to.
        path = paths[lib]
        candidates = []
        for p in (path, os.path.realpath(path)):
            candidates += [p, "/usr" + p if p.startswith("/lib/") else p.removeprefix("/usr")]
        owner = None
        for candidate in candidates:
            p = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if p.returncode == 0:
                owner = p.stdout.split(":")[0]
                break
        assert owner, f"no Debian package owns {candidates}"
        if owner.removesuffix("t64") not in pkgs:
            missing.append(f"{lib} ({owner})")
    assert not missing, f"runtime stage lacks: {missing}"


# --- .env.example ------------------------------------------------------------

def test_env_example_names_every_variable_and_holds_no_secret():
    values, commented = parse_env_file(ENV_EXAMPLE)
    with open(ENV_EXAMPLE) as f:
        text = f.read()
    shown = set(values) | commented
    missing = [v for v in help_variables() if v not in shown]
    assert not missing, f".env.example lacks {missing}"
    # Every variable the compose file interpolates is there too.
    with open(COMPOSE) as f:
        used = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", f.read()))
    assert used <= set(values), used - set(values)
    for name in SECRETS:
        assert values.get(name, "") == "", f"{name} must be empty in .env.example"
    for name in REQUIRED_BLANKS:
        assert re.search(rf"REQUIRED.*\n{name}=\n", text), name
    assert not re.search(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}", text)  # no bcrypt hash


def test_env_example_as_shipped_refuses_to_start_without_a_session_secret(tmp_path):
    # Production mode with SESSION_SECRET left empty: exit 2 at the first
    # step, naming the variable, before touching any database.
    env = base_env()
    env.update(image_env())
    env.update({k: v for k, v in operator_env(fill=False).items() if v != ""})
    env["DATABASE_URL"] = f"sqlite:{tmp_path}/never.db"
    env["BACKUP_DIR"] = str(tmp_path / "backups")
    p = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "SESSION_SECRET" in p.stderr
    assert not (tmp_path / "never.db").exists()


# --- systemd -----------------------------------------------------------------

def test_systemd_units_pass_verify_and_are_hardened(tmp_path):
    service = parse_unit(os.path.join(UNITS, "citaplanner.service"))
    backup = parse_unit(os.path.join(UNITS, "citaplanner-backup.service"))
    timer = parse_unit(os.path.join(UNITS, "citaplanner-backup.timer"))
    for unit in (service, backup):
        assert unit_values(unit, "Service", "User") == ["citaplanner"]
        assert unit_values(unit, "Service", "StateDirectory") == ["citaplanner"]
        assert unit_values(unit, "Service", "ProtectSystem") == ["strict"]
        assert unit_values(unit, "Service", "NoNewPrivileges") == ["yes"]
        assert unit_values(unit, "Service", "EnvironmentFile") == ["-/etc/citaplanner/citaplanner.env"]
        assert unit_values(unit, "Service", "Environment") == [
            "BACKUP_DIR=/var/lib/citaplanner/backups"]
    assert unit_values(service, "Service", "ExecStart") == ["/usr/local/bin/citaplanner serve"]
    assert unit_values(backup, "Service", "Type") == ["oneshot"]
    assert unit_values(backup, "Service", "ExecStart")[0].startswith("/usr/local/bin/citaplanner backup")
    assert unit_values(timer, "Timer", "Unit") == ["citaplanner-backup.service"]
    assert unit_values(timer, "Timer", "OnCalendar") == ["*-*-* 02:00:00"]

    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed")
    # verify insists that ExecStart exists: point it at the built binary.
    for name in os.listdir(UNITS):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read().replace("/usr/local/bin/citaplanner", BIN)
        (tmp_path / name).write_text(text)
    p = subprocess.run([tool, "verify", *sorted(str(x) for x in tmp_path.iterdir())],
                       capture_output=True, text=True, timeout=120)
    # verify exits 0 on settings it ignores; any line naming our units counts.
    ours = [line for line in (p.stdout + p.stderr).splitlines() if "citaplanner" in line]
    assert p.returncode == 0 and not ours, p.stdout + p.stderr


# --- the container's start, without Docker --------------------------------------

@pytest.fixture
def pg_db():
    admin = pg_admin_url()
    name = "t_" + uuid.uuid4().hex[:16]
    psql(admin, f'CREATE DATABASE "{name}"')
    try:
        yield Database("pg", pg_url_for(name, admin))
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)


def test_container_start_boots_seeds_serves_healthz_and_backs_up_into_the_volume(pg_db, tmp_path):
    # The empty volume as the image creates it: an existing directory, 0700.
    volume = tmp_path / "backup-citaplanner"
    volume.mkdir(mode=0o700)
    port = free_port()
    env = app_environment(operator_env())
    assert env["DATABASE_URL"].startswith("postgresql://citaplanner:")
    # Only what cannot be the same outside a container: the database host
    # (the test server instead of `postgres`), the volume path, the port.
    # The scheduler is off so that the one backup here is the one we take.
    env.update(DATABASE_URL=pg_db.url, BACKUP_DIR=str(volume), LISTEN=f"127.0.0.1:{port}",
               BACKUP_SCHEDULE="off")
    healthcheck = instr(dockerfile_stages()[-1], "HEALTHCHECK")[0].split(" CMD ", 1)[1]

    # First boot in production: the demo data is seeded, and serve stops
    # (exit 2) naming each account that keeps a published demo password and
    # the command that changes it; the operator runs it (the README's step).
    with Server(pg_db, env, port=port) as s:
        assert s.wait_exit(120) == 2, s.log
    assert "demo data seeded" in s.log, s.log
    assert pg_db.count("users") == 5
    demo = re.findall(r"change it with 'citaplanner admin user-password ([^']+)'", s.log)
    assert len(demo) == 5, s.log
    for i, email in enumerate(demo):
        p = subprocess.run([BIN, "admin", "user-password", email], env=dict(base_env(), **env),
                           input=f"Clave-de-produccion-{i}\n", capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr

    with Server(pg_db, env, port=port) as s:
        s.wait_ready()
        assert f"ready on http://127.0.0.1:{port}" in s.log
        assert "seed skipped" in s.log, s.log
        assert pg_db.count("users") == 5
        status, _, body = s.request("GET", "/healthz")
        assert (status, body) == (200, {"status": "ok"})
        assert s.request("GET", "/readyz")[0] == 200

        # The image's HEALTHCHECK command, run by a shell as Docker does.
        hc = subprocess.run(["/bin/sh", "-c", healthcheck], env=dict(base_env(), LISTEN=env["LISTEN"]),
                            capture_output=True, text=True, timeout=30)
        assert hc.returncode == 0, hc.stderr
        hc = subprocess.run(["/bin/sh", "-c", healthcheck],
                            env=dict(base_env(), LISTEN=f"0.0.0.0:{free_port()}"),
                            capture_output=True, text=True, timeout=30)
        assert hc.returncode != 0

        # The guide's `/app/scripts/pg_backup.sh`, with the app's environment.
        job_env = dict(base_env())
        job_env.update(env, CITAPLANNER_BIN=BIN)
        p = subprocess.run([os.path.join(ROOT, "scripts", "pg_backup.sh")], env=job_env,
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert s.stop() == 0, s.log

    daily = volume / "daily"
    dumps = sorted(daily.glob("citaplanner_daily_*.sql.gz"))
    assert len(dumps) == 1, list(volume.rglob("*"))
    for suffix in (".sha256", ".json"):
        assert dumps[0].with_name(dumps[0].name + suffix).is_file()
    sha = subprocess.run(["sha256sum", "-c", dumps[0].name + ".sha256"], cwd=daily,
                         capture_output=True, text=True)
    assert sha.returncode == 0, sha.stdout + sha.stderr
    sql = subprocess.run(f"gunzip -c '{dumps[0]}' | tail -n 5", shell=True, capture_output=True,
                         text=True)
    assert "PostgreSQL database dump complete" in sql.stdout

    # The README's manual restore: `gunzip -c FILE | psql` into an empty
    # database, in one transaction, gives the same rows.
    admin = pg_admin_url()
    name = "t_" + uuid.uuid4().hex[:16]
    psql(admin, f'CREATE DATABASE "{name}"')
    try:
        user, password, host, port_, _ = pg_parts(admin)
        penv = dict(base_env(), PGUSER=user, PGPASSWORD=password, PGHOST=host, PGPORT=str(port_),
                    PGDATABASE=name)
        r = subprocess.run(f"gunzip -c '{dumps[0]}' | psql -X -q -v ON_ERROR_STOP=1 --single-transaction",
                           shell=True, env=penv, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        restored = Database("pg", pg_url_for(name, admin))
        for table in ("users", "appointments", "clients", "payments"):
            assert restored.count(table) == pg_db.count(table) > 0, table
    finally:
        psql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', check=False)
