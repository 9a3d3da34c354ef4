#!/usr/bin/env python3
"""JSON bodies on the emulated RP2040 (issue 18): cycles per call of json.loads against
_mfa.json_loads and json.dumps against _mfa.json_dumps on the echo app's 2 KB body (run.py's
body2k()), and the echo app's cycles and heap per request in-process (run.py's emu section,
echo only, MFA_PICO only).

    python tests/bench/json_emu.py [--firmware build/MFA_PICO/firmware.uf2] [--n 5]

Cycles are the simulated ticks_us x 125 (the chip's 125 MHz), as in run.py. A firmware
without _mfa.json_loads (before issue 18) prints its json figures and the echo only.
"""
import argparse
import os
import pathlib
import re
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import run  # noqa: E402

# On the chip: each function n times after a warm-up, the GC off while timed (api_mem_bench.cost).
DEVICE = """
import json, time, gc
import api_mem_bench as B
try:
    import _mfa
except ImportError:
    _mfa = None
body = %r
obj = json.loads(body)
tests = [("json.loads", lambda: json.loads(body)), ("json.dumps", lambda: json.dumps(obj))]
if _mfa is not None and hasattr(_mfa, "json_loads"):
    assert _mfa.json_loads(body) == obj and _mfa.json_dumps(obj) == json.dumps(obj)
    for f in [float(k) for k in range(-50, 50)] + [999999.0, -999999.0, 1e6, 123456.0, -0.0]:
        assert _mfa.json_dumps(f) == json.dumps(f), f  # the chip's own float formatting
    tests += [("_mfa.json_loads", lambda: _mfa.json_loads(body)),
              ("_mfa.json_dumps", lambda: _mfa.json_dumps(obj)),
              ("_mfa.json_dumps checked", lambda: _mfa.json_dumps(obj, True))]
for name, fn in tests:
    heap, us = B.cost(fn, %d, 2)
    print("JSON|%%s|%%d|%%d" %% (name, int(heap), int(us * 1000)))
print("JSON-DONE")
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--firmware", default=str(run.BUILD / "MFA_PICO" / "firmware.uf2"))
    ap.add_argument("--n", type=int, default=5)
    a = ap.parse_args(argv)
    from tests.emu.emulator import Emulator
    body = run.body2k()
    print("body: %d bytes; firmware: %s" % (len(body), a.firmware))
    tmp = tempfile.mkdtemp(prefix="mfa-json-emu-")
    with Emulator(a.firmware) as emu:
        run.put_files(emu, run.device_files(tmp, False))
        emu.run("import sys\nsys.path.append('/bench')")
        out = emu.run(DEVICE % (body, a.n), timeout=1200)
        for m in re.finditer(r"JSON\|([^|]+)\|(\d+)\|(\d+)", out):
            print("%-24s %9d cycles %6d B" % (m.group(1), round(int(m.group(3)) / 1000 * 125),
                                              int(m.group(2))))
        emu.soft_reset()
        emu.run("import sys\nsys.path.append('/bench')")
        script = "import inproc\ninproc.main('mfa', %d, %r, 2)\n" % (
            a.n, [("echo", run.raw_request("echo"))])
        for g in run.parse_results(emu.run(script, timeout=1200)):
            print("%-24s %9d cycles %6d B per request" % (
                "echo app", round(g["us"] * 125), g["heap_b"]))


if __name__ == "__main__":
    main()
