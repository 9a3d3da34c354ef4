"""Helpers for test_openapi*.py / test_validation*.py: serve openapi_app.py on a unix binary."""
import contextlib
import json
import os
import pathlib
import subprocess

import requests

from tests.support import free_port, wait_listening

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYDIR = ROOT / "python"
EXAMPLES = PYDIR / "examples"


def mp_env(*extra):
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    env["MICROPYPATH"] = ":".join([str(PYDIR), str(HERE)] + [str(x) for x in extra] +
                                  [".frozen"])
    return env


def run_mp(binary, code, *extra, timeout=120):
    """Run `code` in a unix binary with python/ and tests/api on the path; stdout as text."""
    out = subprocess.run([str(binary), "-c", code], env=mp_env(*extra), capture_output=True,
                         text=True, timeout=timeout, cwd=str(HERE))
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def run_mp_json(binary, code, *extra):
    """`code` prints one JSON line after the marker `@@`; return it parsed."""
    out = run_mp(binary, code, *extra)
    return json.loads(out.split("@@", 1)[1])


@contextlib.contextmanager
def served(binary, app="openapi_app.py"):
    """Serve tests/api/`app` on `binary` at a free port; yields the base URL; kills it after."""
    port = free_port()
    proc = subprocess.Popen([str(binary), str(HERE / app), str(port)], env=mp_env(),
                            cwd=str(ROOT), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        why = wait_listening(proc, port)
        if why:
            raise AssertionError("server %s: %s" % (why, proc.stdout.read().decode("replace")))
        yield "http://127.0.0.1:%d" % port
    finally:
        proc.kill()
        proc.wait(5)
        proc.stdout.close()


class HTTPClient:
    """The TestClient's `request` surface over real HTTP (requests)."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def request(self, method, path, json=None, content=None, headers=None):
        return self.session.request(method, self.base + path, json=json, data=content,
                                    headers=headers, timeout=10, allow_redirects=False)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


def normalize(x):
    """Order-insensitive form of a JSON document (MicroPython's dicts are unordered, so lists
    built from them, e.g. parameters or required names, may come in another order)."""
    if isinstance(x, dict):
        return {k: normalize(v) for k, v in x.items()}
    if isinstance(x, list):
        return sorted((normalize(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
    return x
