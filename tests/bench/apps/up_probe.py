# What both upload benchmark apps (up_mfa_app.py, up_microdot_app.py) measure and answer with,
# so that the two measure the same way: the heap sampler of a handler, its answer, a file's
# SHA-256, the idle heap taken by a task with no connection open, the heap now.
import asyncio
import gc
import time

EVERY = 16 * 1024
IDLE_MS = 100


def total():
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


def answer(n, t0, s):
    return {"size": n, "us": time.ticks_diff(time.ticks_us(), t0), "alloc_max": s.alloc_max,
            "free_min": s.free_min, "entry": s.entry}


def mem():
    gc.collect()
    return {"alloc": gc.mem_alloc(), "free": gc.mem_free(), "total": total()}


def sha(path):
    """The SHA-256 and size of the file at path (the check that an upload landed intact)."""
    import binascii
    import hashlib
    import os
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


def idle_start():
    """The idle heap, with no connection open: measured by a task IDLE_MS after this answer."""
    _idle.clear()
    asyncio.create_task(_measure_idle(IDLE_MS))
    return {"in_ms": IDLE_MS}


def idle_result():
    return _idle or {"ready": False}
