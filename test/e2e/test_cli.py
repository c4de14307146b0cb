"""The command line itself (SPEC §2, §3): help, version, --help on every
command, usage errors, and configuration validation, run through the real
binary.  Configuration is validated before any command runs, so most of these
need no database: every invalid value must stop the program with exit 2 and
a message naming the variable, before anything else happens.
"""
import json
import os
import re

import pytest

from conftest import run

SECRET = "Sup3rS3cretPw"

# Every variable of SPEC §3 (and the aliases the guide uses).
VARIABLES = ["DATABASE_URL", "LISTEN", "PUBLIC_URL", "NEXTAUTH_URL", "SESSION_SECRET",
             "NEXTAUTH_SECRET", "MASTER_PASSWORD_HASH", "CITAPLANNER_ENV", "DB_CONNECT_TIMEOUT",
             "SEED_ON_BOOT", "BACKUP_DIR", "BACKUP_SCHEDULE", "BACKUP_KEEP_DAILY",
             "BACKUP_KEEP_WEEKLY", "BACKUP_KEEP_MONTHLY", "BACKUP_WEEKLY_DAY",
             "BACKUP_MONTHLY_DAY", "BACKUP_MAX_AGE_HOURS", "BACKUP_ALERT_WEBHOOK",
             "BACKUP_ALERT_COMMAND", "LOG_LEVEL"]


def commands():
    """The command names listed by `citaplanner help` (the command table)."""
    p = run(["help"])
    assert p.returncode == 0, p.stderr
    section = p.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in section.splitlines() if line.strip()]
    assert names, p.stdout
    return names


def assert_exit_status_table(text):
    assert "Exit status:" in text, text
    for code in range(10):
        assert re.search(rf"^\s+{code}\s+\S", text, re.M), f"exit status {code} missing:\n{text}"


def sandbox_env(tmp_path, **extra):
    """A valid SQLite database inside tmp_path, so that a value wrongly
    accepted cannot touch anything outside the test's directory."""
    env = {"DATABASE_URL": f"sqlite:{tmp_path}/data/citaplanner.db",
           "BACKUP_DIR": str(tmp_path / "backups")}
    env.update(extra)
    return env


# --- help and version ----------------------------------------------------

def test_help_lists_commands_variables_and_exit_statuses():
    p = run(["help"])
    assert p.returncode == 0, p.stderr
    names = commands()
    for expected in ["serve", "migrate", "seed", "admin", "version", "help"]:
        assert expected in names, p.stdout
    for var in VARIABLES:
        assert var in p.stdout, f"{var} missing from help:\n{p.stdout}"
    # The configuration lines show flags, and none for secrets.
    assert "--database-url" in p.stdout
    assert "--listen" in p.stdout
    assert "--session-secret" not in p.stdout
    assert "--master-password-hash" not in p.stdout
    assert "sqlite:data/citaplanner.db" in p.stdout
    assert_exit_status_table(p.stdout)


def test_help_flag_and_no_arguments():
    p = run(["--help"])
    assert p.returncode == 0
    assert "Commands:" in p.stdout
    # Without a command: the help on stderr, and a usage error.
    p = run([])
    assert p.returncode == 2
    assert p.stdout == ""
    assert "Commands:" in p.stderr


def test_help_command():
    p = run(["help", "migrate"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("citaplanner migrate"), p.stdout
    assert "deploy" in p.stdout and "status" in p.stdout
    assert "Options:" in p.stdout
    assert "--help" in p.stdout
    assert_exit_status_table(p.stdout)


def test_help_unknown_command():
    p = run(["help", "frobnicate"])
    assert p.returncode == 2
    assert "frobnicate" in p.stderr
    assert p.stdout == ""


def test_version():
    p = run(["version"])
    assert p.returncode == 0, p.stderr
    assert re.fullmatch(r"citaplanner \d+\.\d+\.\d+\S*\n", p.stdout), p.stdout
    j = run(["version", "--json"])
    assert j.returncode == 0
    obj = json.loads(j.stdout)
    assert obj["name"] == "citaplanner"
    assert p.stdout.strip() == "citaplanner " + obj["version"]
    assert run(["--version"]).stdout == p.stdout


def test_help_and_version_need_no_valid_configuration():
    env = {"DATABASE_URL": "mysql://x", "LOG_LEVEL": "nonsense"}
    assert run(["help"], env=env).returncode == 0
    assert run(["version"], env=env).returncode == 0
    assert run(["migrate", "--help"], env=env).returncode == 0


def test_every_command_has_help(tmp_path):
    for name in commands():
        for flag in ["--help", "-h"]:
            p = run([name, flag], env=sandbox_env(tmp_path), cwd=tmp_path)
            assert p.returncode == 0, f"{name} {flag}: {p.returncode} {p.stderr}"
            assert p.stdout.startswith(f"citaplanner {name}"), p.stdout
            assert "Options:" in p.stdout and "--help" in p.stdout, p.stdout
            assert_exit_status_table(p.stdout)
            # --help is the same text as `help NAME`
            assert p.stdout == run(["help", name]).stdout


def test_help_comes_before_configuration(tmp_path):
    # --help must work even when the configuration is broken.
    p = run(["migrate", "status", "--help"], env={"DATABASE_URL": "mysql://u:pw@h/db"})
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("citaplanner migrate")


# --- usage errors ----------------------------------------------------------

def test_unknown_command():
    p = run(["frobnicate"])
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 2, p.stderr
    assert "unknown command 'frobnicate'" in lines[0]
    assert "help" in lines[1]


@pytest.mark.parametrize("args", [["migrate", "--no-such-flag"], ["migrate", "--no-such-flag=1"],
                                  ["seed", "-x"], ["version", "--frobnicate"]])
def test_unknown_flag(args, tmp_path):
    p = run(args, env=sandbox_env(tmp_path), cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 2, p.stderr
    assert "unknown option" in lines[0] and args[1].split("=")[0] in lines[0]
    assert f"citaplanner {args[0]} --help" in lines[1]


def test_flag_value_errors(tmp_path):
    env = sandbox_env(tmp_path)
    # A command flag that needs a value, given none.
    p = run(["migrate", "resolve", "--applied"], env=env, cwd=tmp_path)
    assert p.returncode == 2
    assert "needs a value" in p.stderr
    # A flag without value, given one.
    p = run(["migrate", "reset", "--force=yes"], env=env, cwd=tmp_path)
    assert p.returncode == 2
    assert "takes no value" in p.stderr
    # A configuration flag at the end, without its value.
    p = run(["migrate", "status", "--database-url"], env=env, cwd=tmp_path)
    assert p.returncode == 2


@pytest.mark.parametrize("flag", ["session-secret", "master-password-hash",
                                  "backup-alert-webhook", "backup-alert-command"])
def test_secrets_have_no_flag(flag, tmp_path):
    # A secret on a command line is visible to every user through ps.
    value = "$2b$10$" + "a" * 53 if flag == "master-password-hash" else SECRET + "x" * 32
    for args in [[f"--{flag}", value], [f"--{flag}={value}"]]:
        p = run(["migrate", "status"] + args, env=sandbox_env(tmp_path), cwd=tmp_path)
        assert p.returncode == 2, p.stderr
        assert "unknown option" in p.stderr
        assert value not in p.stderr and value not in p.stdout


# --- configuration errors ---------------------------------------------------

BAD_VALUES = [
    ("LISTEN", "3000", "HOST:PORT"),
    ("LISTEN", "127.0.0.1:99999", "1-65535"),
    ("PUBLIC_URL", "ftp://citas.example.com", "http"),
    ("NEXTAUTH_URL", "citas.example.com", "http"),
    ("CITAPLANNER_ENV", "staging", "development or production"),
    ("DB_CONNECT_TIMEOUT", "forever", "0-3600"),
    ("DB_CONNECT_TIMEOUT", "3601", "0-3600"),
    ("SEED_ON_BOOT", "always", "auto or never"),
    ("BACKUP_SCHEDULE", "0 2 * *", "cron"),
    ("BACKUP_SCHEDULE", "0 25 * * *", "cron"),
    ("BACKUP_KEEP_DAILY", "0", "1-1000"),
    ("BACKUP_KEEP_WEEKLY", "1001", "1-1000"),
    ("BACKUP_KEEP_MONTHLY", "-6", "1-1000"),
    ("BACKUP_WEEKLY_DAY", "7", "0-6"),
    ("BACKUP_MONTHLY_DAY", "31", "1-28"),
    ("BACKUP_MAX_AGE_HOURS", "0", "1-8760"),
    ("LOG_LEVEL", "verbose", "debug, info, warn or error"),
    ("DATABASE_URL", "sqlite:", "empty"),
]


@pytest.mark.parametrize("var,value,form", BAD_VALUES, ids=[f"{v}={x}" for v, x, _ in BAD_VALUES])
def test_invalid_variable_exits_2_naming_it(var, value, form, tmp_path):
    env = sandbox_env(tmp_path)
    env[var] = value
    p = run(["migrate", "status"], env=env, cwd=tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert f"invalid {var}" in lines[0], lines[0]
    assert f"'{value}'" in lines[0], lines[0]
    assert form in lines[0], lines[0]
    # Nothing ran: no database file was created.
    assert not (tmp_path / "data").exists()


@pytest.mark.parametrize("var,value", [
    ("MASTER_PASSWORD_HASH", SECRET),
    ("MASTER_PASSWORD_HASH", "$2b$03$" + SECRET + "a" * (53 - len(SECRET))),
    ("BACKUP_ALERT_WEBHOOK", "hooks.example.com/" + SECRET),
])
def test_invalid_secret_is_named_not_shown(var, value, tmp_path):
    env = sandbox_env(tmp_path)
    env[var] = value
    p = run(["migrate", "status"], env=env, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert f"invalid {var}" in p.stderr
    assert SECRET not in p.stderr and SECRET not in p.stdout


def test_production_requires_a_long_session_secret(tmp_path):
    env = sandbox_env(tmp_path, CITAPLANNER_ENV="production")
    p = run(["migrate", "status"], env=env, cwd=tmp_path)
    assert p.returncode == 2
    assert "SESSION_SECRET" in p.stderr and "32" in p.stderr
    env["SESSION_SECRET"] = SECRET  # 13 bytes
    p = run(["migrate", "status"], env=env, cwd=tmp_path)
    assert p.returncode == 2
    assert "invalid SESSION_SECRET" in p.stderr
    assert SECRET not in p.stderr
    # The guide's NextAuth name counts too, and a long enough one passes validation.
    del env["SESSION_SECRET"]
    env["NEXTAUTH_SECRET"] = SECRET * 3
    p = run(["migrate", "status"], env=env, cwd=tmp_path)
    assert "SESSION_SECRET" not in p.stderr, p.stderr
    assert p.returncode != 2, p.stderr


MALFORMED_URLS = [
    f"postgresql://app:{SECRET}@db:99999/citas",
    f"postgresql://app:{SECRET}@db:0/citas",
    f"postgresql://app:{SECRET}@db:port/citas",
    f"postgres://app:{SECRET}%zz@db/citas",
    f"postgresql://app:{SECRET}%00@db/citas",
    f"postgresql://app:{SECRET}@db/citas/extra",
    f"postgresql://app:{SECRET}@::1/citas",
    f"postgresql://app:{SECRET}@db/citas?SSLMODE=require",
    f"postgresql://app@db/citas?password={SECRET}",
    f"mysql://app:{SECRET}@db/citas",
    f"http://app:{SECRET}@db/citas",
    f"app:{SECRET}@db/citas",
    "sqlite://relative.db",
    "not a url",
]


@pytest.mark.parametrize("url", MALFORMED_URLS)
def test_malformed_database_url_never_echoes_the_password(url, tmp_path):
    p = run(["migrate", "status"], env={"DATABASE_URL": url}, cwd=tmp_path)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "invalid DATABASE_URL" in p.stderr, p.stderr
    assert SECRET not in p.stderr and SECRET not in p.stdout, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    # The same through the flag.
    p = run(["migrate", "status", "--database-url", url], cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert "invalid DATABASE_URL" in p.stderr
    assert SECRET not in p.stderr and SECRET not in p.stdout


def test_unsupported_scheme_lists_accepted_forms(tmp_path):
    p = run(["migrate", "status"], env={"DATABASE_URL": f"mysql://root:{SECRET}@db/app"},
            cwd=tmp_path)
    assert p.returncode == 2
    assert "unsupported scheme 'mysql'" in p.stderr
    assert "mysql://root:***@db/app" in p.stderr
    for form in ["postgresql://", "postgres://", "sqlite:PATH", "sqlite:///ABS/PATH"]:
        assert form in p.stderr, p.stderr


def test_flag_overrides_variable_on_error(tmp_path):
    # Valid variable, invalid flag: the flag is what counts, so exit 2.
    env = sandbox_env(tmp_path, LISTEN="127.0.0.1:3000")
    p = run(["migrate", "status", "--listen", "nowhere"], env=env, cwd=tmp_path)
    assert p.returncode == 2
    assert "invalid LISTEN (--listen) 'nowhere'" in p.stderr
    p = run(["migrate", "status", "--log-level=loud"], env=env, cwd=tmp_path)
    assert p.returncode == 2
    assert "LOG_LEVEL" in p.stderr and "'loud'" in p.stderr
    p = run(["migrate", "status", "--database-url", f"mysql://u:{SECRET}@h/d"], env=env,
            cwd=tmp_path)
    assert p.returncode == 2
    assert "unsupported scheme 'mysql'" in p.stderr
    assert SECRET not in p.stderr
    # Invalid variable, valid flag: the variable is never looked at.
    env = sandbox_env(tmp_path, LOG_LEVEL="loud")
    p = run(["migrate", "status", "--log-level", "error"], env=env, cwd=tmp_path)
    assert "LOG_LEVEL" not in p.stderr, p.stderr
    assert p.returncode != 2, p.stderr


def test_database_url_flag_overrides_variable(db, tmp_path):
    """--database-url wins over DATABASE_URL: with the variable pointing at a
    malformed URL, the command runs on the flag's database."""
    env = {"DATABASE_URL": f"postgresql://u:{SECRET}@h:99999/x"}
    for args in [["--database-url", db.url], [f"--database-url={db.url}"]]:
        p = run(["migrate", "status", "--json"] + args, env=env, cwd=tmp_path)
        assert "invalid DATABASE_URL" not in p.stderr, p.stderr
        # A fresh database: the migrations are pending (exit 4).
        assert p.returncode == 4, (p.returncode, p.stderr)
        obj = json.loads(p.stdout)
        assert obj["up_to_date"] is False
        assert SECRET not in p.stderr
    if db.kind == "sqlite":
        assert os.path.exists(db.path)


def test_empty_variable_counts_as_unset(tmp_path):
    # DATABASE_URL= (empty, as compose files write it) means the default
    # sqlite:data/citaplanner.db, relative to the working directory.
    env = {v: "" for v in VARIABLES}
    env["BACKUP_DIR"] = str(tmp_path / "backups")
    p = run(["migrate", "status"], env=env, cwd=tmp_path)
    assert "invalid" not in p.stderr, p.stderr
    assert p.returncode != 2, p.stderr
    assert "sqlite:data/citaplanner.db" in p.stderr, p.stderr
    assert (tmp_path / "data" / "citaplanner.db").exists()
