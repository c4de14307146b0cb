"""Exit statuses as documented (src/common/errors.def, README "Exit status";
issue 22, item 8): a rejected password during `backup` is 3, running out of
inodes is 9 like running out of bytes, and a damaged backup refused by
`restore` is 7 (test_verify checks that one for every kind of damage).
"""
import os
import subprocess
import urllib.parse

import pytest

from conftest import pg_admin_url, pg_url_for, run
from test_verify import benv, prepare


def test_a_wrong_password_during_backup_exits_3(tmp_path):
    url = pg_url_for("postgres", pg_admin_url())
    u = urllib.parse.urlsplit(url)
    wrong = u._replace(netloc=f"{u.username}:not-the-password@{u.hostname}:{u.port}").geturl()
    p = run(["backup"], env={"DATABASE_URL": wrong, "BACKUP_DIR": str(tmp_path / "bk")})
    assert p.returncode == 3, p.stdout + p.stderr
    assert "not-the-password" not in p.stdout + p.stderr


@pytest.fixture
def inodes(tmp_path):
    """A small tmpfs whose inodes can run out before its bytes (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256m,nr_inodes=64", "tmpfs", str(mnt)],
                   check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_running_out_of_inodes_exits_9(db, inodes):
    prepare(db)
    bdir = inodes / "bk"
    e = benv(bdir, CITAPLANNER_FAKE_NOW="2025-01-09T02:00:00")
    p = run(["backup"], database=db, env=e)
    assert p.returncode == 0, p.stderr
    # Every inode taken; bytes to spare.
    i = 0
    while True:
        try:
            open(inodes / f"f{i}", "w").close()
        except OSError:
            break
        i += 1
    st = os.statvfs(inodes)
    assert st.f_ffree == 0 and st.f_bavail > 1000, (st.f_ffree, st.f_bavail)
    e["CITAPLANNER_FAKE_NOW"] = "2025-01-09T03:00:00"
    p = run(["backup"], database=db, env=e)
    assert p.returncode == 9, p.stdout + p.stderr
    assert "no free inodes left" in p.stderr, p.stderr
    # Nothing half-made stays behind.
    assert not [n for n in os.listdir(bdir / "daily") if ".tmp." in n]
