# The upload benchmark app on Microdot 2.7, the same routes and answers as up_mfa_app.py (see
# there), each the way Microdot's documentation gives for a body larger than RAM:
#   POST /raw   the body is over Request.max_body_length (16 KB), so Microdot does not read it:
#               `await request.stream.read(4096)` until Content-Length bytes are read
#   POST /mp    microdot.multipart.FormDataIter (its streaming parser; with_form_data would copy
#               each file to a temporary file first), the file saved by FileUpload.save(PATH);
#               heap=1: save()'s own loop by hand (read(FormDataIter.buffer_size), write) with
#               the samples
# Request.max_content_length is raised to 8 MB (its default, 16 KB, refuses a larger body).
import asyncio
import gc
import time

from microdot import Microdot, Request
from microdot.multipart import FileUpload, FormDataIter

Request.max_content_length = 8 * 1024 * 1024
app = Microdot()
EVERY = 16 * 1024
IDLE_MS = 100
PIECE = 4096


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


@app.post("/raw")
async def raw(request):
    t0 = time.ticks_us()
    s = Sampler(request.args.get("heap"))
    to = request.args.get("to")
    left = request.content_length
    f = open(to, "wb") if to else None
    n = 0
    while left > 0:
        d = await request.stream.read(min(PIECE, left))
        if not d:
            break
        s.at(n)
        if f:
            f.write(d)
        n += len(d)
        left -= len(d)
    if f:
        f.close()
    return _answer(n, t0, s)


@app.post("/mp")
async def mp(request):
    t0 = time.ticks_us()
    s = Sampler(request.args.get("heap"))
    to = request.args.get("to")
    n = 0
    async for name, value in FormDataIter(request):
        if not isinstance(value, FileUpload):
            continue
        if not s.on:
            await value.save(to)
            continue
        with open(to, "wb") as f:
            while True:
                d = await value.read(FormDataIter.buffer_size)
                if not d:
                    break
                s.at(n)
                f.write(d)
                n += len(d)
    out = _answer(n, t0, s)
    if not s.on and to:  # (save() does not say how much it wrote)
        import os
        out["size"] = os.stat(to)[6]
    return out


@app.get("/_mem")
def mem(request):
    gc.collect()
    return {"alloc": gc.mem_alloc(), "free": gc.mem_free(), "total": _total()}


@app.get("/_sha")
def sha(request):
    # the SHA-256 and size of the file at ?path= (the check that an upload landed intact)
    import binascii
    import hashlib
    import os
    path = request.args.get("path")
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
def idle(request):
    # the idle heap, with no connection open: measured by a task %d ms after this answer
    _idle.clear()
    asyncio.create_task(_measure_idle(IDLE_MS))
    return {"in_ms": IDLE_MS}


@app.get("/_idle_result")
def idle_result(request):
    return _idle or {"ready": False}


def serve(host, port, max_conns):
    # Microdot has no connection limit; max_conns is accepted for the same call signature.
    print("listening", port)
    app.run(host=host, port=port)
