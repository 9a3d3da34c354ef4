"""The complete apps among the code blocks of Microdot 2.7.0's documentation (docs/ in its
sdist, fetched by run_microdot_suite), with their `from microdot` lines pointed at the compat
layer, on CPython and both unix builds. Blocks that serve (app.run(), start_server()) are
started with the port changed (Microdot's 5000 is not ours to take in CI) and asked for /;
the others are run in-process: their own test coroutine if they have one, then `GET /` with
the compat test client. Fragments (`# ...` bodies) do not compile and are not apps; LEFT_OUT lists the apps that
need what the layer does not provide."""

import os
import pathlib
import re
import subprocess
import sys

import pytest
import requests

import run_microdot_suite as suite

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from tests.support import free_port, wait_listening  # noqa: E402

# what the layer does not provide (docs/migrating-from-microdot.md)
NOT_PROVIDED = ("microdot.asgi", "microdot.wsgi", "microdot.jinja", "microdot.utemplate")


def doc_blocks():
    """[(name, code)] of the literal blocks that import microdot, make a Microdot() and
    compile; and [(name, why)] of those left out for a missing extension."""
    apps, left = [], []
    docs = suite.unpacked() / "docs"
    for f in sorted(docs.rglob("*.rst")):
        text = f.read_text()
        for m in re.finditer(r"::\n\n((?:(?: {4}.*)?\n)+)", text):
            code = "\n".join(line[4:] for line in m.group(1).split("\n"))
            if "from microdot" not in code or "Microdot()" not in code:
                continue
            name = "%s:%d" % (f.relative_to(docs), text[:m.start()].count("\n") + 3)
            try:
                compile(code, name, "exec")
            except SyntaxError:
                continue  # a fragment
            missing = [x for x in NOT_PROVIDED if x in code]
            local = re.findall(r"^from (customers|orders) import", code, re.M)
            if missing:
                left.append((name, missing[0] + " is not provided"))
            elif local:  # (defining-routes.rst's main.py: its sub-apps are fragments)
                left.append((name, "imports %s, shown only as a fragment" % local[0]))
            else:
                apps.append((name, code.replace("from microdot", "from microfastapi.compat.microdot")))
    return apps, left


APPS, LEFT_OUT = doc_blocks()
SERVING = [(n, c) for n, c in APPS if "app.run(" in c or "start_server(" in c]
IN_PROCESS = [(n, c) for n, c in APPS if (n, c) not in SERVING]

CHECK = r'''
import asyncio
from microfastapi.compat.microdot.test_client import TestClient
BLOCKS = %r
for name, code in BLOCKS:
    ns = {"__name__": "docs_block"}
    exec(code, ns)
    app = ns["app"]
    if "test_app" in ns:
        asyncio.run(ns["test_app"]())
    c = TestClient(app)
    res = asyncio.run(c.get("/"))
    assert res.status_code < 500, (name, res.status_code)
    if "Logged in as" in code:  # the sessions page: a login round trip
        assert res.text == "Not logged in", res.text
        r = asyncio.run(c.post("/", headers={"Content-Type": "application/x-www-form-urlencoded"},
                               body="username=ada"))
        assert r.status_code == 302, r.status_code
        assert asyncio.run(c.get("/")).text == "Logged in as ada"
        asyncio.run(c.post("/logout"))
        assert asyncio.run(c.get("/")).text == "Not logged in"
    print("DOC OK", name)
'''


def test_blocks_found():
    # (a change of Microdot's docs, or of the extraction, shows here first)
    assert len(SERVING) == 2 and len(IN_PROCESS) == 4, ([n for n, c in APPS], LEFT_OUT)
    # production.rst's ASGI and WSGI apps, defining-routes.rst's main.py
    assert len(LEFT_OUT) == 3, LEFT_OUT


def _interp(kind, request):
    if kind == "cpython":
        return [sys.executable], {"PYTHONPATH": str(ROOT / "python")}
    binary = request.getfixturevalue("unix_mfa" if kind == "unix" else "unix_pure")
    return [str(binary)], {"MICROPYPATH": "%s:.frozen" % (ROOT / "python")}


@pytest.mark.parametrize("kind", ["cpython", "unix", "unix-pure"])
def test_docs_blocks_in_process(kind, request, tmp_path):
    argv, extra = _interp(kind, request)
    script = tmp_path / "check.py"
    script.write_text(CHECK % (IN_PROCESS,))
    env = dict(os.environ, **extra)
    env.pop("MFA_BACKEND", None)
    p = subprocess.run(argv + [str(script)], env=env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("DOC OK") == len(IN_PROCESS), p.stdout


@pytest.mark.parametrize("kind", ["cpython", "unix", "unix-pure"])
@pytest.mark.parametrize("block", [n for n, c in SERVING])
def test_docs_apps_serve(kind, block, request, tmp_path):
    code = dict(SERVING)[block]
    port = free_port()
    # the one change: the port (host and port are start_server's and run()'s keywords)
    code = code.replace("app.run()", "app.run(host='127.0.0.1', port=%d)" % port)
    code = code.replace("app.start_server()", "app.start_server(host='127.0.0.1', port=%d)" % port)
    assert str(port) in code
    (tmp_path / "app.py").write_text(code)
    argv, extra = _interp(kind, request)
    env = dict(os.environ, **extra)
    env.pop("MFA_BACKEND", None)
    proc = subprocess.Popen(argv + [str(tmp_path / "app.py")], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        why = wait_listening(proc, port)
        assert why is None, why + proc.stdout.read().decode(errors="replace")
        r = requests.get("http://127.0.0.1:%d/" % port, timeout=10)
        assert (r.status_code, r.text) == (200, "Hello, world!")
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
