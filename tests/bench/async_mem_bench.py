#!/usr/bin/env python3
"""Heap bytes per request of an async handler under the event loop (issue 19): as a task of its
own (what serve() does now) versus awaited inline (what serve() did before), in-process.

    python3 tests/bench/async_mem_bench.py            # unix _mfa build, and MFA_PICO in rp2040py

Inside MicroPython: GC off, gc.mem_alloc() before and after N dispatches of `GET /a` to
`async def a(req): return {"x": 1}` through app.handle(), answered into a sink that keeps
nothing. "task": app._dispatch() (a task per answer) then one asyncio.sleep(0); "inline": the
coroutine awaited in the caller.
"""
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent

SCRIPT = r"""
import gc, sys
import asyncio
from microfastapi import MicroFastApi, backend
from microfastapi.testclient import _Raw
N = 20 if sys.platform == "rp2" else 200
app = MicroFastApi(openapi_url=None)

@app.get("/a")
async def a(req):
    return {"x": 1}

class Sink:
    def respond(self, req, st, h, b):
        pass
    def poll(self):
        return None
srv = Sink()
head = backend.parse_request(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
raws = [_Raw(head, b"", ("c", 1)) for i in range(N)]

async def main(mode):
    app._loop = True
    for k in range(2):  # the first pass warms up (first-use allocations)
        gc.collect()
        gc.disable()
        m0 = gc.mem_alloc()
        for raw in raws:
            if mode == "task":
                app._dispatch(raw, srv)
                await asyncio.sleep(0)
            else:
                await app.handle(raw, srv)
        m1 = gc.mem_alloc()
        gc.enable()
    print(mode, (m1 - m0) // N)

for mode in ("inline", "task"):
    asyncio.run(main(mode))
"""


def main():
    env = dict(os.environ, MICROPYPATH="%s:.frozen" % (ROOT / "python"))
    out = subprocess.run([str(ROOT / "build" / "unix" / "micropython"), "-c", SCRIPT], env=env,
                         capture_output=True, text=True, timeout=120)
    print("unix (_mfa, 64-bit):", out.stdout.strip().replace("\n", ", "), "bytes per request")
    uf2 = ROOT / "build" / "MFA_PICO" / "firmware.uf2"
    if uf2.exists():
        sys.path.insert(0, str(ROOT))
        from tests.emu.emulator import Emulator
        with Emulator(str(uf2)) as emu:
            res = emu.run(SCRIPT, timeout=300).strip()
        print("RP2040 (MFA_PICO, emulated):", res.replace("\n", ", "), "bytes per request")


if __name__ == "__main__":
    main()
