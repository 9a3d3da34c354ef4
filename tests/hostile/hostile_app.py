"""The app the hostile-client, fault and soak tests run against. CPython and MicroPython.

    <python or micropython> hostile_app.py PORT [name=value ...]

name=value pairs are server limits (max_conns, max_body, header_timeout_ms, body_timeout_ms,
idle_timeout_ms; integers). MICROPYPATH / sys.path must hold python/ and this directory.

Routes (every standard method on "/" so the corpus can use any of them):
  /            {"ok": true}
  /echo        POST/PUT: {"len": <body bytes>}
  /_debug      server stats and heap: {"stats": {...}, "mem_free": int|null, "mem_alloc": ...,
               "low_free": lowest gc.mem_free() seen by the loop, "served": n}
  /raise       a handler that raises (500)
  /unserialisable, /unserialisable2   return values the app cannot encode (500)
  /slow?ms=N   a handler that blocks the loop for N ms
  /big?n=N     N bytes of body (a response a client can abandon halfway)
  /stream?n=N  a chunked response of N 1 KiB pieces
  /static/...  StaticFiles(directory=STATIC_ROOT) mounted at /static
  /naive/{path:path}    FileResponse(STATIC_ROOT + "/" + path): a user route without the
               helper (traversal is the user's problem there; NUL is refused by FileResponse)
"""
import gc
import sys

try:
    import time
    sleep_ms = time.sleep_ms
except AttributeError:
    def sleep_ms(ms):
        time.sleep(ms / 1000)

from microfastapi import MicroFastApi, FileResponse, StreamingResponse
from microfastapi.staticfiles import StaticFiles

app = MicroFastApi(title="hostile")
STATIC_ROOT = "tests/hostile/static"
HOST = "127.0.0.1"  # soak_emu.py serves on 0.0.0.0
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_state = {"low_free": None, "served": 0}


def mem_free():
    f = getattr(gc, "mem_free", None)
    return f() if f else None


def mem_alloc():
    f = getattr(gc, "mem_alloc", None)
    return f() if f else None


@app.route("/", methods=_METHODS)
def root(req):
    return {"ok": True}


@app.route("/echo", methods=("POST", "PUT"))
def echo(req):
    return {"len": len(req.body)}


@app.get("/_debug")
def debug(req):
    gc.collect()
    return {"stats": app.server.stats(), "mem_free": mem_free(), "mem_alloc": mem_alloc(),
            "low_free": _state["low_free"], "served": _state["served"],
            "impl": sys.implementation.name, "backend": app.backend}


@app.get("/raise")
def boom(req):
    raise RuntimeError("handler failed on purpose")


@app.get("/oom")
def oom(req):
    # A real allocation failure (more than any heap has), not a raised MemoryError.
    return bytearray(sys.maxsize // 2)


class Opaque:
    pass


@app.get("/unserialisable")
def unserialisable(req):
    return Opaque()


@app.get("/unserialisable2")
def unserialisable2(req):
    return {"x": Opaque()}


@app.get("/slow")
def slow(req):
    sleep_ms(int(req.query.get("ms", "100")))
    return {"slow": True}


@app.get("/big")
def big(req):
    return b"x" * int(req.query.get("n", "100000"))


@app.get("/stream")
def stream(req):
    n = int(req.query.get("n", "64"))
    piece = b"y" * 1024

    def gen():
        for _ in range(n):
            yield piece
    return StreamingResponse(gen())


@app.get("/naive/{path:path}")
def naive(req, path):
    return FileResponse(STATIC_ROOT + "/" + path)


# check_dir=False: soak_emu.py runs this app on a board, which has no such directory.
app.mount("/static", StaticFiles(directory=STATIC_ROOT, check_dir=False))


def main():
    argv = getattr(sys, "argv", None) or []
    port = int(argv[1]) if len(argv) > 1 else 80  # on a board: port 80, limits as set here
    limits = {}
    for a in argv[2:]:
        k, v = a.split("=")
        limits[k] = int(v)
    app.start(host=HOST, port=port, **limits)
    print(app)
    srv = app.server
    st = _state
    n = 0
    # A hand-written loop (the documented app.start()/app.poll() way) that also records the
    # lowest free heap seen, sampled every 64 steps (mem_free walks the allocation table).
    while True:
        if app.poll():
            st["served"] += 1
        else:
            srv.wait(10 if app._streams else 50)
        n += 1
        if n & 63 == 0:
            f = mem_free()
            if f is not None and (st["low_free"] is None or f < st["low_free"]):
                st["low_free"] = f


main()
