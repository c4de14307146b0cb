#!/usr/bin/env python3
"""Print, for a shell's eval, the throwaway server's connection as PG*
variables (the password in the environment, never in argv) and the URL of
a benchmark database: bench_url (with DBNAME) or url_base (without).

Reads CITAPLANNER_TEST_PG_URL from the environment, so the password is on
no command line.  Usage: eval "$(python3 bench/pg_env.py [DBNAME])"
"""
import os
import shlex
import sys
import urllib.parse

u = urllib.parse.urlsplit(os.environ["CITAPLANNER_TEST_PG_URL"])
q = lambda s: urllib.parse.quote(s, safe="")
user, pw = urllib.parse.unquote(u.username), urllib.parse.unquote(u.password)
port = u.port or 5432
print(f"export PGHOST={shlex.quote(u.hostname)} PGPORT={port} "
      f"PGUSER={shlex.quote(user)} PGPASSWORD={shlex.quote(pw)}")
base = f"postgresql://{q(user)}:{q(pw)}@{u.hostname}:{port}"
if len(sys.argv) > 1:
    print(f"bench_url={shlex.quote(base + '/' + sys.argv[1])}")
else:
    print(f"url_base={shlex.quote(base)}")
