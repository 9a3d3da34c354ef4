"""Helpers for the API suite (a module of its own, so test files import it by a name no other
directory uses). Backends: the same tests run in-process (TestClient on CPython) and over
real HTTP against the app served by CPython (pyserver) and by both unix MicroPython binaries.
"""
import pathlib
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.support import app_argv, free_port, wait_listening

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYDIR = ROOT / "python"
EXAMPLES_DIR = PYDIR / "examples"
sys.path[:0] = [str(PYDIR), str(HERE)]
from microfastapi.testclient import TestClient  # noqa: E402

HTTP_BACKENDS = ["cpython", "unix-pure", "unix"]
BACKENDS = ["testclient"] + HTTP_BACKENDS
# The app on CPython behind its adapters (issue 20): uvicorn with microfastapi.asgi, wsgiref with
# microfastapi.wsgi. The API cases run there too; the protocol tests (HTTP_BACKENDS) do not,
# since those servers do the HTTP themselves.
ADAPTERS = ["asgi", "wsgi"]


class HTTPClient:
    """requests-based client with the TestClient's surface."""

    def __init__(self, name, proc, port):
        self.name = name
        self.proc = proc
        self.host = "127.0.0.1"
        self.port = port
        self.base = "http://127.0.0.1:%d" % port
        self.session = requests.Session()

    def request(self, method, path, **kw):
        kw.setdefault("timeout", 10)
        kw.setdefault("allow_redirects", False)
        if "content" in kw:
            kw["data"] = kw.pop("content")
        return self.session.request(method, self.base + path, **kw)

    # The TestClient's get/post/... (each calls self.request(METHOD, path, **kw)).
    get, post, put, patch = TestClient.get, TestClient.post, TestClient.put, TestClient.patch
    delete, head, options = TestClient.delete, TestClient.head, TestClient.options

    def raw(self, data, timeout=5.0, until_close=True):
        """Send raw bytes on a new connection; return everything received until the server
        closes (or the timeout)."""
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            s.sendall(data)
            out = b""
            deadline = time.time() + timeout
            while time.time() < deadline:
                try:
                    x = s.recv(65536)
                except socket.timeout:
                    break
                if not x:
                    break
                out += x
            return out
        finally:
            s.close()


def spawn(name, argv, env, port):
    proc = subprocess.Popen(argv, env=env, cwd=str(ROOT), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    why = wait_listening(proc, port)
    if why:
        out = proc.stdout.read().decode(errors="replace")
        pytest.fail("%s server %s:\n%s" % (name, why, out))
    return proc


def stop(proc):
    proc.kill()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        pass
    if proc.stdout:
        proc.stdout.close()


def unix_binary(request, name):
    """The unix MicroPython binary for backend `name` ("unix", "unix-pure"; None for
    "cpython"), from its session fixture."""
    if name == "cpython":
        return None
    return request.getfixturevalue("unix_mfa" if name == "unix" else "unix_pure")


def serve_on_first_use(request, app=HERE / "apitest_app.py", env=None, setup=None):
    """The body of a fixture (`yield from` it): yields get(name), which starts `app` on backend
    `name` the first time it is asked for (with `env` added to its environment) and returns
    its HTTPClient, given to `setup(client)` first if set; stops them all at the end."""
    running = {}

    def get(name):
        if name not in running:
            if name in ADAPTERS:
                argv, e = app_argv("cpython", HERE / "adapter_serve.py", None, [HERE])
                argv[2:2] = [name, str(app)]
            else:
                argv, e = app_argv(name, app, unix_binary(request, name), [HERE])
            e.update(env or {})
            port = free_port()
            c = HTTPClient(name, spawn(name, argv + [str(port)], e, port), port)
            if setup:
                setup(c)
            running[name] = c
        return running[name]
    yield get
    for c in running.values():
        c.session.close()
        stop(c.proc)


def run_checks_script(request, interp, script, *args, at_least=1):
    """Run a checklib script (tests/api/checklib.py) on an interpreter ("cpython", "unix-pure",
    "unix") and assert that it ran to the end with no FAIL line and at least `at_least` checks.
    (MicroPython prints the tracebacks of deliberate 500s to stdout: only FAIL lines count.)"""
    argv, env = app_argv(interp, HERE / script, unix_binary(request, interp), [HERE])
    out = subprocess.run(argv + [str(a) for a in args], env=env, capture_output=True,
                         text=True, timeout=60)
    lines = out.stdout.splitlines()
    assert out.returncode == 0, out.stdout + out.stderr
    failed = [l for l in lines if l.startswith("FAIL ")]
    assert not failed, "\n".join(failed)
    done = [l for l in lines if l.startswith("done ")]
    assert done and int(done[0].split()[1]) == sum(l.startswith("ok ") for l in lines)
    assert int(done[0].split()[1]) >= at_least, out.stdout
