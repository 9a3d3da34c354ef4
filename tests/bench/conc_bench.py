#!/usr/bin/env python3
"""Handlers that await do not hold up the others (issue 19): figures, not assertions.

    python3 tests/bench/conc_bench.py [--unix unix,unix-pure,cpython] [--emu] [-n 40]

8 keep-alive clients at once. 4 "fast" clients each send N `GET /json` one after the other; 4
"slow" clients meanwhile loop on `GET /sleep` (a handler that awaits asyncio.sleep(0.1)). The
idle run is the same with the 4 slow clients connected but not sending. Printed: p50 and p90
latency of the fast requests in both runs, their ratio (the goal: loaded p50 within 2x of idle),
and the p50 of the slow requests (about 100 ms when the awaiting really overlaps).

- unix: the app runs on build/unix/micropython (_mfa), build/unix-pure/micropython (pyserver)
  or CPython, on loopback; latency is wall time at the client.
- --emu (root: network namespace + TUN): the MFA_PICO firmware in the rp2040py emulator over
  SLIP (tests/net/slip_bridge.py); latency is the chip's simulated time from the request's first
  byte entering the chip to the answer's last byte leaving it (the packet tap of
  emu_net_bench.py), so it is what a real board would show, not how slow the emulator is.
"""
import argparse
import json
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))
from tests.support import free_port, script, wait_listening  # noqa: E402

APP = """
try:
    import asyncio
except ImportError:
    import uasyncio as asyncio
from microfastapi import MicroFastApi
try:
    from microfastapi import log
    log.level = log.WARNING
except ImportError:  # (an older package, for a before figure)
    pass
app = MicroFastApi()

@app.get("/json")
def j(req):
    return {"ok": True}

@app.get("/sleep")
async def s(req):
    await asyncio.sleep(0.1)
    return {"slept": 100}

app.run("{host}", {port})
"""

# Runs with CPython (on the host, or inside the namespace for --emu). Prints one JSON line.
CLIENT = script(r"""
import json, socket, sys, threading, time
from tests.support import read_response
addr, port, n, loaded = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"

def connect():
    for i in range(300):
        try:
            s = socket.create_connection((addr, port), timeout=120)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return s
        except ConnectionRefusedError:
            time.sleep(0.1)
    raise ConnectionRefusedError(addr)

def get(s, path, buf):
    s.sendall(("GET %s HTTP/1.1\r\nHost: b\r\n\r\n" % path).encode())
    head, _, rest = read_response(s, buf)
    assert head[9:12] == b"200", head
    return rest

fast, slow = [], []
done = threading.Event()
start = threading.Barrier(8)

def fast_client():
    s = connect()
    buf = get(s, "/json", b"")  # warm up, connection open
    start.wait()
    for i in range(n):
        t = time.perf_counter()
        buf = get(s, "/json", buf)
        fast.append(time.perf_counter() - t)
    s.close()

def slow_client():
    s = connect()
    buf = get(s, "/json", b"")
    start.wait()
    while loaded and not done.is_set():
        t = time.perf_counter()
        buf = get(s, "/sleep", buf)
        slow.append(time.perf_counter() - t)
    done.wait()
    s.close()

fs = [threading.Thread(target=fast_client) for _ in range(4)]
ss = [threading.Thread(target=slow_client) for _ in range(4)]
for t in fs + ss:
    t.start()
for t in fs:
    t.join()
done.set()
for t in ss:
    t.join()
print(json.dumps({"fast": fast, "slow": slow}))
""")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))] if xs else None


def summary(idle, loaded, slow, unit):
    i50, l50 = pct(idle, 0.5), pct(loaded, 0.5)
    return {"idle_p50": i50, "idle_p90": pct(idle, 0.9), "loaded_p50": l50,
            "loaded_p90": pct(loaded, 0.9), "ratio_p50": round(l50 / i50, 2) if i50 else None,
            "slow_p50": pct(slow, 0.5), "n_fast": len(loaded), "n_slow": len(slow), "unit": unit}


# ---- unix -------------------------------------------------------------------------------------

def run_unix(kind, n, pydir):
    port = free_port()
    src = APP.replace("{host}", "127.0.0.1").replace("{port}", str(port))
    env = dict(os.environ)
    env.pop("MFA_BACKEND", None)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(src)
    if kind == "cpython":
        argv = [sys.executable, f.name]
        env["PYTHONPATH"] = str(pydir)
    else:
        argv = [str(ROOT / "build" / kind / "micropython"), f.name]
        env["MICROPYPATH"] = "%s:.frozen" % pydir
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        why = wait_listening(proc, port)
        if why:
            raise RuntimeError("%s server %s" % (kind, why))
        res = {}
        for loaded in ("0", "1"):
            r = subprocess.run([sys.executable, "-c", CLIENT, "127.0.0.1", str(port), str(n),
                                loaded], capture_output=True, text=True, timeout=600)
            if r.returncode:
                raise RuntimeError(r.stderr)
            res[loaded] = json.loads(r.stdout)
        ms = lambda xs: [round(x * 1000, 3) for x in xs]  # noqa: E731
        return summary(ms(res["0"]["fast"]), ms(res["1"]["fast"]), ms(res["1"]["slow"]), "ms")
    finally:
        proc.kill()
        proc.wait()
        os.unlink(f.name)


# ---- emulated board ---------------------------------------------------------------------------

def device_times(log):
    """(path, us) per request from emu_net_bench's packet tap: first request byte in to the
    answer's last byte out, per client connection."""
    from tests.bench.emu_net_bench import connections, exchanges
    return [(head.split(b" ", 2)[1].decode(), (t_out - t_in) / 1000.0)
            for evs in connections(log) for head, t_in, t_out in exchanges(evs, (b"GET ",))]


def run_emu(n, firmware=None):
    from tests.bench.emu_net_bench import FIRMWARE, _tapped_pico
    pico = _tapped_pico(firmware or FIRMWARE["mfa"])
    try:
        src = APP.replace("{host}", "0.0.0.0").replace("{port}", "80")
        pico.start_app(src, ready="http://", timeout=120)
        res = {}
        for loaded in ("w", "0", "1"):  # w: a warm-up pass (first-use allocations)
            pico.bridge.log = []
            r = pico.ns.run([sys.executable, "-c", CLIENT, pico.addr, "80",
                             str(4 if loaded == "w" else n), "0" if loaded == "w" else loaded],
                            timeout=1800)
            if r.returncode:
                raise RuntimeError("client failed: %s\nchip:\n%s" % (r.stderr,
                                                                   pico.emu.output()[-2000:]))
            log = pico.emu.call(lambda: list(pico.bridge.log))
            res[loaded] = device_times(log)
        ms = lambda xs: [round(us / 1000, 3) for us in xs]  # noqa: E731
        # (the warm-up request of each connection is excluded: it comes before the barrier)
        fast = lambda rs: ms([t for p, t in rs if p == "/json"][8:])  # noqa: E731
        slow = ms([t for p, t in res["1"] if p == "/sleep"])
        return summary(fast(res["0"]), fast(res["1"]), slow, "ms (simulated)")
    finally:
        pico.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unix", default="unix,unix-pure,cpython")
    ap.add_argument("--emu", action="store_true", help="also the emulated MFA_PICO over SLIP")
    ap.add_argument("-n", type=int, default=40, help="requests per fast client")
    ap.add_argument("--json", help="write the figures here too")
    ap.add_argument("--pydir", default=str(ROOT / "python"),
                    help="the microfastapi package to run on unix (e.g. an older checkout's "
                         "python/ directory, for a before/after figure)")
    ap.add_argument("--firmware", help="--emu: this MFA_PICO image instead of build/'s")
    a = ap.parse_args()
    out = {}
    for kind in [k for k in a.unix.split(",") if k]:
        out[kind] = run_unix(kind, a.n, a.pydir)
    if a.emu:
        out["emu MFA_PICO"] = run_emu(min(a.n, 20), a.firmware)
    print("%-14s %10s %10s %10s %10s %8s %10s %6s" % ("server", "idle p50", "idle p90",
                                                      "load p50", "load p90", "ratio",
                                                      "slow p50", "n"))
    for k, f in out.items():
        print("%-14s %10s %10s %10s %10s %8s %10s %6s  (%s)" % (
            k, f["idle_p50"], f["idle_p90"], f["loaded_p50"], f["loaded_p90"], f["ratio_p50"],
            f["slow_p50"], f["n_fast"], f["unit"]))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
