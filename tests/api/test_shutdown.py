"""app.shutdown() while serving (issue 12): from a task beside serve(), from inside a sync or
an async handler under run(), and in a start()+poll() loop, on CPython and both unix binaries.
The answer in flight arrives whole, serve()/run() return without an exception, the port is free.
"""
import subprocess

import pytest
import requests

from api_util import HERE, spawn
from tests.support import app_argv, free_port

INTERPRETERS = ["cpython", "unix-pure", "unix"]


@pytest.mark.parametrize("mode,path", [("task", "/go"), ("handler", "/stop"),
                                       ("async-handler", "/astop"), ("poll", "/go")])
@pytest.mark.parametrize("interp", INTERPRETERS)
def test_shutdown_while_serving(request, interp, mode, path):
    binary = None
    if interp != "cpython":
        binary = request.getfixturevalue("unix_mfa" if interp == "unix" else "unix_pure")
    argv, env = app_argv(interp, HERE / "shutdown_app.py", binary, [HERE])
    port = free_port()
    proc = spawn(interp, argv + [str(port), mode], env, port)
    try:
        r = requests.get("http://127.0.0.1:%d%s" % (port, path), timeout=10)
        assert r.status_code == 200
        if path != "/go":
            assert r.json()["stopping"] is True and len(r.json()["body"]) == 20000
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    text = out.decode(errors="replace")
    assert proc.returncode == 0, text
    assert "Traceback" not in text and "returned\nport free" in text.replace("\r", ""), text
