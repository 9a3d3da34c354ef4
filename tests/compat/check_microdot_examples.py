"""Smoke check of Microdot's example apps (the examples/ directory of its repository, not in
the PyPI sdist) on the compat layer: each app's directory is copied, its `from microdot`
imports pointed at microfastapi.compat.microdot (nothing else changed), the app started and
`GET /` sent to the port it listens on. Not part of the test suite (it needs a checkout);
the results are listed in docs/migrating-from-microdot.md.

    python tests/compat/check_microdot_examples.py MICRODOT_CHECKOUT/examples build/unix/micropython
"""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
PORTS = (5000, 5001, 8000)  # Microdot's default, and the two examples that choose their own


def listening():
    for port in PORTS:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return port
        except OSError:
            pass
    return None


def check(app, examples, interp, tmp):
    work = pathlib.Path(tmp) / app.parent.relative_to(examples)
    shutil.copytree(app.parent, work)
    for f in work.glob("*.py"):
        f.write_text(f.read_text().replace("from microdot", "from microfastapi.compat.microdot"))
    env = dict(os.environ, MICROPYPATH="%s:%s:.frozen" % (ROOT / "python", work),
               PYTHONPATH="%s:%s" % (ROOT / "python", work))
    argv = [sys.executable if interp == "cpython" else str(pathlib.Path(interp).resolve()),
            app.name]
    p = subprocess.Popen(argv, cwd=work, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    port = None
    t0 = time.time()
    while time.time() - t0 < 30 and p.poll() is None:  # (pbkdf2 examples hash at start)
        port = listening()
        if port:
            break
        time.sleep(0.05)
    result = None
    if port:
        try:
            r = urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5)
            result = "GET / -> %d" % r.status
        except urllib.error.HTTPError as e:
            result = "GET / -> %d" % e.code
        except OSError as e:
            result = "GET / failed: %s" % e
    p.kill()
    out = p.communicate()[0].decode(errors="replace").strip().splitlines()
    while listening():
        time.sleep(0.1)
    return result or "did not start: " + (out[-1] if out else "no output")


def main():
    examples = pathlib.Path(sys.argv[1]).resolve()
    interp = sys.argv[2] if len(sys.argv) > 2 else "cpython"
    apps = sorted(p for p in examples.rglob("*.py")
                  if "benchmark" not in p.parts and "Microdot(" in p.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for i, app in enumerate(apps):
            print("%-40s %s" % (app.relative_to(examples),
                                check(app, examples, interp, os.path.join(tmp, str(i)))),
                  flush=True)


if __name__ == "__main__":
    main()
