"""Microdot's example apps (the examples/ directory of its repository, not in the PyPI sdist)
run unchanged on the compat layer: each app's directory is copied (utemplate writes its
compiled templates beside them, the TLS app wants its certificate there), the app started
with `import microdot` resolving to tests/compat/shim/microdot (the compat layer), and a
real client exchange made with it: `GET /` for all, and per app what it is for (a form POST
rendered by a template, a WebSocket echo, two SSE events, HTTPS). The ASGI variants are
served by uvicorn and the WSGI ones by the standard library's wsgiref on CPython; on
MicroPython those whose `__main__` calls `app.run()` run as they are (our server).
The results are listed in docs/migrating-from-microdot.md; test_microdot_examples.py holds
them where MICRODOT_EXAMPLES names the examples directory (it is not in the PyPI sdist).

    python tests/compat/check_microdot_examples.py EXAMPLES_DIR [INTERPRETER [NAME...]]

EXAMPLES_DIR: Microdot's examples/; INTERPRETER: cpython (the default) or a micropython
binary such as build/unix/micropython; NAMEs: only the apps whose path contains one.

Prints one line per app: app, result (ok / FAIL / skip) and the reason or what was checked.
"""

import os
import pathlib
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import templates_support  # noqa: E402 - the pinned utemplate

PORTS = (5000, 5001, 8000, 4443)  # Microdot's default, and those the examples choose
WSGI_SERVER = ("import importlib, sys\n"
               "from wsgiref.simple_server import make_server\n"
               "make_server('127.0.0.1', 5000, importlib.import_module(sys.argv[1]).app)"
               ".serve_forever()\n")


def listening():
    for port in PORTS:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return port
        except OSError:
            pass
    return None


def fetch(port, path="/", data=None, tls=False):
    """(status, body text) of one request."""
    url = "%s://127.0.0.1:%d%s" % ("https" if tls else "http", port, path)
    ctx = None
    if tls:  # the app's own self-signed certificate
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    try:
        r = urllib.request.urlopen(url, data, timeout=5, context=ctx)
        return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def exchange(rel, port):
    """What the app is for, asked of it: a reason string, raising AssertionError on a wrong
    answer."""
    tls = rel.startswith("tls/")
    status, body = fetch(port, tls=tls)
    done = ["GET / %d" % status]
    if "auth/" in rel:  # no credentials: 401 is the right answer
        assert status == 401, done
    else:
        assert status == 200, (done, body[:200])
    if rel.startswith("templates/"):
        if "bootstrap" in rel:
            status, body = fetch(port, "/page2")
            assert status == 200 and "This is Page 2" in body, (status, body[:200])
            done.append("GET /page2 rendered")
        else:
            status, body = fetch(port, "/", b"name=%3Cmicro%3E")
            assert status == 200, (status, body[:200])
            # utemplate does not escape; Jinja's select_autoescape does, for .html
            assert ("<b>&lt;micro&gt;</b>" in body if "jinja" in rel
                    else "<b><micro></b>" in body), body[:400]
            done.append("POST / rendered the name")
    elif rel.startswith("websocket/"):
        from websockets.sync.client import connect
        with connect("ws://127.0.0.1:%d/echo" % port, open_timeout=5) as ws:
            for msg in ("hello", "x" * 300):
                ws.send(msg)
                assert ws.recv(timeout=5) == msg
        done.append("WebSocket echo of 2 messages")
    elif rel == "sse/counter.py":
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        got = b""
        t0 = time.time()
        while b'"counter": 2' not in got and time.time() - t0 < 5:
            got += s.recv(1000)
        s.close()
        assert b"text/event-stream" in got and b'"counter": 2' in got, got
        done.append("2 SSE events")
    elif tls:
        done[0] = "HTTPS " + done[0]
    return ", ".join(done)


def command(rel, app, interp):
    """The argv that serves `app`, or a reason string why this interpreter cannot."""
    cpython = interp == "cpython"
    if rel.endswith(("_asgi.py", "_wsgi.py")):
        if cpython and rel.endswith("_asgi.py"):
            return [sys.executable, "-m", "uvicorn", "--port", "5000", app.stem + ":app"]
        if cpython:
            return [sys.executable, "-c", WSGI_SERVER, app.stem]
        # On MicroPython, as the app's own `__main__` block has it: app.run()
        if "app.run()" not in app.read_text():
            return "skip: ASGI/WSGI application, its __main__ says to use a CPython server"
    if rel == "gpio/gpio.py" and cpython:
        return "skip: imports `machine` (a board app)"
    return [sys.executable if cpython else str(pathlib.Path(interp).resolve()), app.name]


def make_cert(work, cpython):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-out",
                    "cert.pem", "-keyout", "key.pem", "-days", "2", "-subj", "/CN=localhost"],
                   cwd=work, check=True, capture_output=True)
    if not cpython:
        subprocess.run(["openssl", "x509", "-in", "cert.pem", "-out", "cert.der", "-outform",
                        "DER"], cwd=work, check=True, capture_output=True)
        subprocess.run(["openssl", "rsa", "-in", "key.pem", "-out", "key.der", "-outform",
                        "DER"], cwd=work, check=True, capture_output=True)


def check(app, examples, interp, tmp):
    rel = str(app.relative_to(examples))
    argv = command(rel, app, interp)
    if isinstance(argv, str):
        return argv
    work = pathlib.Path(tmp) / app.parent.relative_to(examples)
    shutil.copytree(app.parent, work)
    if rel.startswith("tls/"):
        make_cert(work, interp == "cpython")
    path = ":".join(str(p) for p in (ROOT / "python", HERE / "shim",
                                     templates_support.utemplate_dir(), work))
    env = dict(os.environ, MICROPYPATH=path + ":.frozen", PYTHONPATH=path)
    p = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    port = None
    t0 = time.time()
    while time.time() - t0 < 90 and p.poll() is None:  # (pbkdf2 examples hash at start)
        port = listening()
        if port:
            break
        time.sleep(0.05)
    result = None
    if port:
        try:
            result = "ok: " + exchange(rel, port)
        except AssertionError as e:
            result = "FAIL: wrong answer: %s" % (e,)
        except Exception as e:
            result = "FAIL: %s: %s" % (type(e).__name__, e)
    p.kill()
    out = p.communicate()[0].decode(errors="replace").strip().splitlines()
    while listening():
        time.sleep(0.1)
    return result or "FAIL: did not start: " + (out[-1] if out else "no output")


def apps(examples):
    """The example apps: files that make a Microdot app (the benchmark's are not examples,
    and subapps/subapp.py is a module of subapps/app.py)."""
    return sorted(p for p in examples.rglob("*.py")
                  if "benchmark" not in p.parts and p.name != "subapp.py"
                  and "Microdot(" in p.read_text())


def run_all(examples, interp, names=()):
    """[(app path relative to examples, result)] of the apps (those whose path contains one
    of `names`, when given)."""
    examples = pathlib.Path(examples).resolve()
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, app in enumerate(apps(examples)):
            if names and not any(n in str(app) for n in names):
                continue
            rel = str(app.relative_to(examples))
            out.append((rel, check(app, examples, interp, os.path.join(tmp, str(i)))))
    return out


def main():
    interp = sys.argv[2] if len(sys.argv) > 2 else "cpython"
    counts = {}
    for rel, result in run_all(sys.argv[1], interp, sys.argv[3:]):
        kind = result.split(":")[0]
        counts[kind] = counts.get(kind, 0) + 1
        print("%-40s %s" % (rel, result), flush=True)
    print("%s: %s" % (interp, ", ".join("%s %d" % kv for kv in sorted(counts.items()))))


if __name__ == "__main__":
    main()
