# The upload benchmark app on microfastapi; up_microdot_app.py is the same on Microdot 2.7.
# tests/bench/upload_bench.py serves them on the unix build (serve.py up_mfa|up_microdot PORT)
# and on the emulated RP2040 over SLIP. MicroPython 1.25 syntax, no annotations.
#   POST /raw?to=PATH   the raw body (stream_body=True), `async for piece in req.stream()`,
#                       each piece written to PATH (no `to`: discarded, the link alone)
#   POST /mp?to=PATH    multipart/form-data: req.parts(), the file part saved by part.save(PATH)
#   ...&heap=1          instead of save(), the same loop by hand (`async for piece in part`),
#                       with gc.collect() and gc.mem_alloc()/mem_free() every 16 KB of content:
#                       the heap run (never the timed one)
# Each POST answers {"size": bytes written, "us": handler start to file closed (ticks_us),
# "alloc_max": highest gc.mem_alloc() sampled, "free_min": lowest gc.mem_free() sampled,
# "entry": [gc.mem_alloc(), gc.mem_free()] after gc.collect() at the handler's start}.
#   GET /_sha?path=P    {"sha256", "size"} of the file at P
#   GET /_idle          gc.collect() and gc.mem_alloc()/mem_free() IDLE_MS after the answer, by a
#                       task, when no connection is open (the idle server); GET /_idle_result
#                       then gives {"alloc", "free"} ({"ready": false} until it is taken)
#   GET /_mem           {"alloc", "free"} after gc.collect(), and micropython.mem_total()
#                       where the port counts it (bytes allocated so far), else null
import asyncio
import gc
import time

from microfastapi import MicroFastApi

app = MicroFastApi()
LIMIT = 8 * 1024 * 1024
EVERY = 16 * 1024
IDLE_MS = 100


def _total():
    try:
        import micropython
        return micropython.mem_total()
    except (ImportError, AttributeError):
        return None


class Sampler:
    def __init__(self, on):
        self.on = on
        self.next = 0
        self.alloc_max = 0
        self.free_min = None
        self.entry = None
        if on:  # at the handler's start: the request as handed out, no body read yet
            gc.collect()
            self.entry = (gc.mem_alloc(), gc.mem_free())

    def at(self, n):
        if self.on and n >= self.next:
            self.next = n + EVERY
            gc.collect()
            a, f = gc.mem_alloc(), gc.mem_free()
            if a > self.alloc_max:
                self.alloc_max = a
            if self.free_min is None or f < self.free_min:
                self.free_min = f


def _answer(n, t0, s):
    return {"size": n, "us": time.ticks_diff(time.ticks_us(), t0), "alloc_max": s.alloc_max,
            "free_min": s.free_min, "entry": s.entry}


@app.post("/raw", stream_body=True, max_body=LIMIT)
async def raw(req):
    t0 = time.ticks_us()
    s = Sampler(req.query.get("heap"))
    to = req.query.get("to")
    n = 0
    if to:
        with open(to, "wb") as f:
            async for piece in req.stream():
                s.at(n)
                f.write(piece)
                n += len(piece)
    else:
        async for piece in req.stream():
            s.at(n)
            n += len(piece)
    return _answer(n, t0, s)


@app.post("/mp", stream_body=True, max_body=LIMIT)
async def mp(req):
    t0 = time.ticks_us()
    s = Sampler(req.query.get("heap"))
    to = req.query.get("to")
    n = 0
    async for part in req.parts():
        if part.filename is None:
            continue
        if not s.on:
            n += await part.save(to)
            continue
        with open(to, "wb") as f:
            async for piece in part:
                s.at(n)
                f.write(piece)
                n += len(piece)
    return _answer(n, t0, s)


@app.get("/_mem")
def mem(req):
    gc.collect()
    return {"alloc": gc.mem_alloc(), "free": gc.mem_free(), "total": _total()}


@app.get("/_sha")
def sha(req):
    # the SHA-256 and size of the file at ?path= (the check that an upload landed intact)
    import binascii
    import hashlib
    import os
    path = req.query.get("path")
    h = hashlib.sha256()
    buf = bytearray(1024)
    with open(path, "rb") as f:
        while True:
            k = f.readinto(buf)
            if not k:
                break
            h.update(memoryview(buf)[:k])
    return {"sha256": binascii.hexlify(h.digest()).decode(), "size": os.stat(path)[6]}


_idle = {}


async def _measure_idle(ms):
    await asyncio.sleep_ms(ms)
    gc.collect()
    _idle["alloc"], _idle["free"] = gc.mem_alloc(), gc.mem_free()


@app.get("/_idle")
def idle(req):
    # the idle heap, with no connection open: measured by a task %d ms after this answer
    _idle.clear()
    asyncio.create_task(_measure_idle(IDLE_MS))
    return {"in_ms": IDLE_MS}


@app.get("/_idle_result")
def idle_result(req):
    return _idle or {"ready": False}


def serve(host, port, max_conns):
    app.run(host=host, port=port, max_conns=max_conns)
