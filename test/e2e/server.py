"""Start `citaplanner serve` for a test and talk to it over HTTP."""
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

from conftest import BIN


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A running `citaplanner serve`; its stderr is collected in .log."""

    def __init__(self, database, env=None, port=None, args=()):
        self.port = port or free_port()
        e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "TZ": os.environ.get("TZ", "UTC"),
             "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "detect_leaks=1"),
             "UBSAN_OPTIONS": os.environ.get("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
             "LISTEN": f"127.0.0.1:{self.port}",
             "BACKUP_SCHEDULE": "off",
             "DATABASE_URL": database.url}
        if env:
            e.update(env)
        self.lines = []
        self.ready = threading.Event()
        self.proc = subprocess.Popen([BIN, "serve", *args], env=e, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)
            if "ready on http://" in line:
                self.ready.set()

    @property
    def log(self):
        return "".join(self.lines)

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.ready.wait(0.1):
                return self
            if self.proc.poll() is not None:
                self._reader.join(5)
                raise AssertionError(f"serve exited {self.proc.returncode} before ready:\n{self.log}")
        raise AssertionError(f"serve not ready after {timeout} s:\n{self.log}")

    def wait_exit(self, timeout=60):
        try:
            rc = self.proc.wait(timeout)
        finally:
            self._reader.join(5)
        return rc

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.wait_exit(timeout)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, headers=None, timeout=30):
        """Returns (status, headers, parsed JSON or raw text)."""
        data = body
        h = dict(headers or {})
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            data = body.encode()
        req = urllib.request.Request(self.url(path), data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, hdrs, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as err:
            status, hdrs, raw = err.code, err.headers, err.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return status, hdrs, payload

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
