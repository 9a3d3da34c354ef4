# Route lookup as an app grows (issue 18), in-process on unix MicroPython or on the emulated
# RP2040 (tests/bench/run.py sends `import routes_inproc; routes_inproc.main(...)`).
#
# The same request, GET /r99/items/42?q=hello, answered by an app with that one templated route
# and by an app with 100 ('/r0/items/{item_id:int}' ... '/r99/...', it is the last), with
# microfastapi's Router (the prefix tree) and with LinearRouter (the scan it replaced); plus
# 'shared': 100 templates with the same first literal part ('/items/{item_id:int}/f0' ...
# '/f99'), which the tree cannot tell apart (the last is asked for). Each app also has a
# static route, /s, asked for too: the lookup of a static path does not depend on the
# templates, so what it costs more in a bigger app is the heap's state, not the router.
# Each request is timed two ways: 'each', api_mem_bench.cost (a gc.collect() before every
# request, the GC off during it: the other benchmarks' way), and 'batch' (one gc.collect(),
# then the n requests with the GC off, timed together). They differ by the heap's state: after
# a collection MicroPython's allocator looks for every block longer than 16 bytes from the
# heap's first free block on (py/gc.c moves that start only for one-block allocations), past
# every hole the app's objects leave; in a batch the start has moved on.
# Also the heap the app holds: after registering, and the tree's bytes (built on the first
# request).
#
# Prints lines
#   ROUTES|impl|router|app|request|heap bytes per request|ns per request, each|ns, batch
#   ROUTEMEM|impl|router|app|routes|heap bytes held after registering|heap bytes of the index
# MicroPython 1.25 syntax, no annotations (this also runs on the RP2040).
import gc

import api_mem_bench as B
from microfastapi import MicroFastApi, backend
from microfastapi.routing import Router, LinearRouter

LAST = b"GET /r99/items/42?q=hello HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\n" \
    b"Accept: */*\r\n\r\n"
SHARED = b"GET /items/42/f99?q=hello HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\n" \
    b"Accept: */*\r\n\r\n"
STATIC = b"GET /s HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\nAccept: */*\r\n\r\n"
APPS = (("1", "/r%d/items/{item_id:int}", (99,), LAST),
        ("100", "/r%d/items/{item_id:int}", range(100), LAST),
        ("shared", "/items/{item_id:int}/f%d", range(100), SHARED))


def read_item(req, item_id):
    return {"item_id": item_id, "q": req.query.get("q")}


def static(req):
    return {"s": 1}


def make_app(router, template, numbers):
    app = MicroFastApi(openapi_url=None)
    app.router = router()
    app.add_route("/s", static)
    for i in numbers:
        app.add_route(template % i, read_item)
    return app


def held():
    gc.collect()
    gc.collect()
    return gc.mem_alloc()


def batch(step, n, warm, repeat):
    """Nanoseconds per call of step(), n calls after one collection with the GC off; the
    best of `repeat` batches (on a busy machine the others are the machine's noise)."""
    import time
    for _ in range(warm):
        step()
    best = None
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0 = time.ticks_us()
            for _ in range(n):
                step()
            t1 = time.ticks_us()
        finally:
            gc.enable()
        t = time.ticks_diff(t1, t0) * 1000 // n
        if best is None or t < best:
            best = t
    return best


def index_bytes(routes):
    """Heap bytes one tree of `routes` holds: four built and kept, the difference / 4 (one
    alone is within the noise of the collector's conservative stack scan)."""
    from microfastapi.routing import build_index
    a0 = held()
    trees = [build_index(routes) for _ in range(4)]
    a1 = held()
    trees = None
    return (a1 - a0) // 4


def measure(impl, rname, name, template, numbers, raw, framed, n, warm, repeat):
    router = Router if rname == "tree" else LinearRouter
    a0 = held()
    app = make_app(router, template, numbers)
    a1 = held()
    tree = index_bytes(app.router.dynamic) if rname == "tree" else 0
    print("ROUTEMEM|%s|%s|%s|%d|%d|%d" % (impl, rname, name, len(numbers), a1 - a0, tree))
    for what, req in (("templated", raw), ("static", STATIC)):
        step = B.mfa_step(app, req, framed)
        heap, us = B.cost(step, n, warm)
        print("ROUTES|%s|%s|%s|%s|%d|%d|%d" % (impl, rname, name, what, int(heap),
                                               int(us * 1000), batch(step, n, warm, repeat)))


def main(impl, n, warm, repeat=1, routers=("tree", "linear")):
    framed = backend.server_class()[1] != "_mfa"
    for rname in routers:
        for name, template, numbers, raw in APPS:
            measure(impl, rname, name, template, numbers, raw, framed, n, warm, repeat)
    print("ROUTES-DONE")
