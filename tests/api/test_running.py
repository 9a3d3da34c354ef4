"""app.start()+poll(), await app.serve() beside other tasks, app.run(); on CPython and both
unix binaries. Also: the server sleeps while idle (CPU time stays near zero)."""
import os
import time

import pytest
import requests

from api_util import HERE, PYDIR, free_port, spawn, stop
import sys

INTERPRETERS = ["cpython", "unix-pure", "unix"]


@pytest.fixture(params=INTERPRETERS)
def interp(request):
    env = dict(os.environ)
    if request.param == "cpython":
        env["PYTHONPATH"] = "%s:%s" % (PYDIR, HERE)
        return request.param, sys.executable, env
    binary = request.getfixturevalue("unix_mfa" if request.param == "unix" else "unix_pure")
    env["MICROPYPATH"] = "%s:%s:.frozen" % (PYDIR, HERE)
    return request.param, str(binary), env


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("mode", ["poll", "serve", "run"])
def test_modes(interp, mode):
    name, exe, env = interp
    port = free_port()
    proc = spawn(name, [exe, str(HERE / "run_modes_app.py"), str(port), mode], env, port)
    try:
        base = "http://127.0.0.1:%d" % port
        r = requests.get(base + "/repr", timeout=5)
        text = r.json()["app"]
        assert "modes" in text and "127.0.0.1:%d" % port in text
        assert "http://127.0.0.1:%d/" % port in text
        assert "backend:" in text and "parser:" in text
        s1 = requests.get(base + "/state", timeout=5).json()
        if mode != "poll":
            r = requests.get(base + "/sleepy", timeout=5)
            assert r.json() == {"slept": True}
        # idle: the loop must sleep, not spin
        c0 = cpu_seconds(proc.pid)
        time.sleep(1.0)
        c1 = cpu_seconds(proc.pid)
        assert c1 - c0 < 0.3, "busy while idle: %.2f s CPU in 1 s" % (c1 - c0)
        s2 = requests.get(base + "/state", timeout=5).json()
        if mode == "serve":
            assert s2["ticks"] - s1["ticks"] >= 10  # the other task kept running
        if mode == "poll":
            assert s2["loops"] > s1["loops"]
    finally:
        stop(proc)
