"""Network-loop benchmark on the unix build: requests/s and p50/p99 latency with wrk.

    python tests/bench/server_bench.py [--seconds N] [--binary build/unix/micropython]

Servers, all on the same unix MicroPython binary, all answering GET / with {"hello": "world"}:
  _mfa.Server       tests/net/mfa_server_app.py (C loop, C parser)
  pyserver          microfastapi.pyserver.Server (pure Python loop, same contract)
  Microdot 2.7      microdot from the pip-installed package (loaded via MICROPYPATH, not copied)
Each with 1 and 16 connections, keep-alive and Connection: close. Figures, no assertions.
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tests.support import free_port  # noqa: E402

PYSERVER_APP = """
import sys
from microfastapi.pyserver import Server
srv = Server("127.0.0.1", int(sys.argv[1]), max_conns=32)
print("listening", srv.port)
J = [("Content-Type", "application/json")]
while True:
    r = srv.poll()
    if r is None:
        srv.wait(1000)
        continue
    srv.respond(r, 200, J, b'{"hello": "world"}')
"""

MICRODOT_APP = """
import sys
from microdot import Microdot
app = Microdot()

@app.get("/")
async def index(req):
    return {"hello": "world"}

print("listening", sys.argv[1])
app.run(host="127.0.0.1", port=int(sys.argv[1]))
"""


def microdot_path():
    try:
        import microdot
    except ImportError:
        return None
    return os.path.dirname(os.path.dirname(os.path.abspath(microdot.__file__)))


def start(binary, kind, tmp):
    port = free_port()
    env = dict(os.environ)
    if kind == "_mfa.Server":
        args = [binary, os.path.join(ROOT, "tests/net/mfa_server_app.py"), "port=%d" % port,
                "max_conns=32"]
    elif kind == "pyserver":
        path = os.path.join(tmp, "pyserver_app.py")
        open(path, "w").write(PYSERVER_APP)
        env["MICROPYPATH"] = ".frozen:" + os.path.join(ROOT, "python")
        args = [binary, path, str(port)]
    else:
        path = os.path.join(tmp, "microdot_app.py")
        open(path, "w").write(MICRODOT_APP)
        env["MICROPYPATH"] = ".frozen:" + microdot_path()
        args = [binary, path, str(port)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening"):
        p.kill()
        raise RuntimeError("%s did not start: %s%s" % (kind, line, p.stdout.read()))
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return p, port


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        return float("nan")
    v = float(m.group(1))
    return v * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[m.group(2)]


def wrk(port, conns, close, seconds, path="/", script=None, threads=1):
    """One wrk run against 127.0.0.1:port; returns (req/s, p50 ms, p99 ms, errors str).
    `script`: a wrk Lua file (e.g. a POST body). Non-2xx answers count as errors."""
    args = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--latency",
            "--timeout", "5s"]
    if close:
        args += ["-H", "Connection: close"]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + ["http://127.0.0.1:%d%s" % (port, path)], capture_output=True,
                         text=True, timeout=seconds + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    # anchored: the Thread Stats lines end in e.g. "95.50%", which an unanchored "50%" matches
    m50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    m99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    p50 = to_ms(m50.group(1)) if m50 else float("nan")
    p99 = to_ms(m99.group(1)) if m99 else float("nan")
    errs = re.search(r"Socket errors: (.*)", out)
    errs = errs.group(1) if errs else ""
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errs = (errs + ", " if errs else "") + "non-2xx %s" % non2xx.group(1)
    return rps, p50, p99, errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--binary", default=os.path.join(os.environ.get("MFA_BUILD", os.path.join(ROOT, "build")), "unix/micropython"))
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print("wrk not installed")
        return 1
    import tempfile
    tmp = tempfile.mkdtemp()
    kinds = ["_mfa.Server", "pyserver"] + (["Microdot 2.7"] if microdot_path() else [])
    print("%-14s %5s %-10s %12s %9s %9s  %s" % ("server", "conns", "mode", "req/s", "p50 ms", "p99 ms", "errors"))
    results = {}
    for kind in kinds:
        p, port = start(a.binary, kind, tmp)
        try:
            for close in (False, True):
                for conns in (1, 16):
                    rps, p50, p99, errs = wrk(port, conns, close, a.seconds)
                    mode = "close" if close else "keep-alive"
                    results[(kind, conns, mode)] = rps
                    print("%-14s %5d %-10s %12.0f %9.3f %9.3f  %s" % (kind, conns, mode, rps, p50, p99, errs), flush=True)
        finally:
            p.kill()
            p.wait()
    if "Microdot 2.7" in kinds:
        for conns in (1, 16):
            for mode in ("keep-alive", "close"):
                print("_mfa.Server / Microdot, %2d conns, %-10s: %.1fx" % (
                    conns, mode, results[("_mfa.Server", conns, mode)] / results[("Microdot 2.7", conns, mode)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
