"""Servers and raw-socket helpers for the hostile-client, corpus and fault tests.

A module of its own (not conftest.py) so test files import it by a name no other directory uses.

Servers run tests/hostile/hostile_app.py on three backends: CPython (pyserver), the pure unix
MicroPython build (pyserver) and the unix build with _mfa (its Server when it has one). They
listen on 127.0.0.1 on a free port, with short timeouts so slow clients are cut off quickly.
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest

from tests.support import app_argv, exchange, free_port, wait_listening

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYDIR = ROOT / "python"
sys.path[:0] = [str(HERE), str(PYDIR)]

BACKENDS = ["cpython", "unix-pure", "unix"]
# Server limits for every test server (the fault tests rely on them).
LIMITS = {"max_conns": 8, "max_body": 16384, "header_timeout_ms": 1000,
          "body_timeout_ms": 1000, "idle_timeout_ms": 1000}
IO_TIMEOUT = 5.0


def server_argv(name, binary=None, app=None):
    return app_argv(name, app or HERE / "hostile_app.py", binary, [HERE])


class Server:
    """A running test server and a few helpers to talk to it."""

    def __init__(self, name, argv, env, limits=None):
        self.name = name
        self.port = free_port()
        lim = dict(LIMITS)
        lim.update(limits or {})
        self.log = open(os.devnull, "wb") if os.environ.get("MFA_QUIET") else None
        self.proc = subprocess.Popen(
            argv + [str(self.port)] + ["%s=%d" % kv for kv in sorted(lim.items())],
            env=env, cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = b""
        why = wait_listening(self.proc, self.port, timeout=20)
        if why:
            out = self.proc.stdout.read().decode(errors="replace")
            pytest.fail("%s server %s:\n%s" % (name, why, out))
        # Drain the server's output in the background so a chatty server never blocks.
        import threading
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self):
        for line in self.proc.stdout:
            self.output = (self.output + line)[-20000:]

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def connect(self, timeout=IO_TIMEOUT):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def exchange(self, raw, timeout=IO_TIMEOUT, half_close=True):
        """Send raw bytes on a new connection, half-close, read until the server closes.
        Returns (bytes received, how it ended: 'closed', 'reset' or 'timeout')."""
        return exchange(("127.0.0.1", self.port), raw, timeout, half_close)

    def get(self, path="/", timeout=IO_TIMEOUT):
        """One GET with Connection: close; returns (status, headers dict, body)."""
        raw = ("GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path).encode()
        data, end = self.exchange(raw, timeout, half_close=False)
        resps, rest = parse_responses(data)
        assert resps and not rest, "%s: bad answer to GET %s (%s): %r" % (
            self.name, path, end, data[:300])
        return resps[0]

    def get_ok(self, path="/", within=3.0):
        """GET that retries while the server answers 503 (its pool transiently full of
        connections it has not reaped yet, e.g. right after a burst of aborted clients)."""
        deadline = time.time() + within
        while True:
            r = self.get(path)
            if r[0] != 503 or time.time() > deadline:
                return r
            time.sleep(0.05)

    def debug(self):
        status, _, body = self.get_ok("/_debug")
        assert status == 200, body
        return json.loads(body)

    def settle(self, timeout=5.0):
        """Wait until only our own /_debug connection is open and nothing is pending; return
        the debug document."""
        deadline = time.time() + timeout
        while True:
            d = self.debug()
            st = d["stats"]
            if st.get("connections", 0) <= 1 and not st.get("ready"):
                return d
            if time.time() > deadline:
                return d
            time.sleep(0.05)

    def check_healthy(self, baseline=None, tolerance=4096):
        """The server answers, its pool is empty again, its heap is back near `baseline`."""
        assert self.alive(), "%s server died:\n%s" % (self.name, self.output.decode(
            errors="replace"))
        status, _, body = self.get_ok("/")
        assert status == 200 and json.loads(body) == {"ok": True}, (status, body)
        d = self.settle()
        st = d["stats"]
        assert st.get("connections", 0) <= 1, "%s: connections left open: %r" % (self.name, st)
        if baseline is not None and d["mem_free"] is not None:
            gc_free = d["mem_free"]
            assert gc_free >= baseline - tolerance, (
                "%s: heap not back: mem_free %d, baseline %d (tolerance %d)"
                % (self.name, gc_free, baseline, tolerance))
        return d

    def heap_baseline(self):
        """Free heap after a warm-up (every kind of request once, so lazy caches are filled)."""
        for path in ("/", "/_debug", "/nope", "/raise", "/unserialisable", "/big?n=10",
                     "/stream?n=1"):
            self.get(path)
        return self.settle()["mem_free"]


def parse_responses(data):
    """Split a byte stream into HTTP/1.1 responses (status, headers, body), skipping 1xx.
    Bodies framed by Content-Length or chunked. Returns (list, unparsed rest)."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            return out, data
        lines = data[:end].split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            return out, data
        status = int(parts[1])
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            headers[k.strip().lower().decode()] = v.strip().decode()
        rest = data[end + 4:]
        if 100 <= status < 200:
            data = rest
            continue
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                i = rest.find(b"\r\n")
                if i < 0:
                    return out, data
                n = int(rest[:i].split(b";")[0], 16)
                if len(rest) < i + 2 + n + 2:
                    return out, data
                body += rest[i + 2:i + 2 + n]
                rest = rest[i + 2 + n + 2:]
                if n == 0:
                    break
        else:
            n = int(headers.get("content-length", "0"))
            if len(rest) < n:
                return out, data
            body = rest[:n]
            rest = rest[n:]
        out.append((status, headers, body))
        data = rest
    return out, b""
