"""Heap bytes allocated per request for a typical JSON GET, inside MicroPython.

    python3 tests/bench/api_mem_bench.py            # drives both unix binaries, prints a table
    MICROPYPATH=python build/unix/micropython tests/bench/api_mem_bench.py mfa   # one row

Run under CPython, this file starts itself under build/unix/micropython (with _mfa),
build/unix-pure/micropython (without) and, for Microdot 2.7, the pure binary with Microdot's
installed package directory on MICROPYPATH (nothing of Microdot is copied into the repo).

Under MicroPython it measures, with the GC disabled, gc.mem_alloc() before and after N
requests of

    GET /items/42?q=hello HTTP/1.1 / Host / User-Agent / Accept
    handler: lambda req, item_id: {"item_id": item_id, "q": req.query.get("q")}

dispatched in-process (no sockets) the way the server does it:
  microfastapi, "dispatch": parse_request(raw bytes) -> server request object -> app.handle()
      -> srv.respond(status, headers, body) into a sink that keeps nothing. This is the
      Python-side cost when the C server frames and sends the response.
  microfastapi, "framed": the same plus the pure-Python server's response framing
      (status line + headers + body bytes), i.e. the whole cost of the pure build.
  microfastapi, "app-only": "dispatch" without the parse (the head is parsed once, outside
      the loop): what the package itself allocates per request.
  Microdot: Request.create() from an in-memory stream -> dispatch_request() -> Response.write()
      into a writer that keeps nothing (its whole per-request path, without sockets).
"""
import sys

# requests per measurement (the GC is off meanwhile: fewer on a 264 KB RP2040)
N = 20 if sys.platform == "rp2" else 200
RAW = (b"GET /items/42?q=hello HTTP/1.1\r\nHost: pico.local\r\nUser-Agent: bench/1.0\r\n"
       b"Accept: */*\r\n\r\n")


def _run(coro):
    try:
        coro.send(None)
    except StopIteration as e:
        return e.value
    raise RuntimeError("suspended")


def measure(step, n=N):
    import gc
    for _ in range(10):
        step()
    gc.collect()
    gc.disable()
    try:
        a0 = gc.mem_alloc()
        for _ in range(n):
            step()
        a1 = gc.mem_alloc()
    finally:
        gc.enable()
    return (a1 - a0) // n


def cost(step, n=N, warm=3):
    """(heap bytes, microseconds) per call of step(), averaged over n calls. Each call runs
    after a gc.collect() with the GC disabled, so neither figure includes a collection and a
    small heap (the RP2040's) never fills up. Used by tests/bench/run.py, on unix and on the
    emulated RP2040 (where ticks_us is the simulated clock: cycles = us x 125)."""
    import gc
    import time
    for _ in range(warm):
        step()
    heap = us = 0
    for _ in range(n):
        gc.collect()
        gc.disable()
        try:
            a0 = gc.mem_alloc()
            t0 = time.ticks_us()
            step()
            t1 = time.ticks_us()
            a1 = gc.mem_alloc()
        finally:
            gc.enable()
        heap += a1 - a0
        us += time.ticks_diff(t1, t0)
    return heap / n, us / n


def mfa_step(app, raw=RAW, framed=False, preparsed=False):
    """A function answering `raw` (request bytes, body included) through `app` in-process,
    the way the server does it (see the module docstring for framed/preparsed). Checks that
    the answer is a 2xx."""
    from microfastapi import backend
    from microfastapi.pyserver import Server
    from microfastapi.wire import Request, encode_body

    class Conn:
        keep_alive = True
        close_after = False
        closed = False
        defer = False  # (Server._head_bytes reads these since streamed bodies, issue 14)
        pull = 0
        dbuf = None

    conn = Conn()

    class Sink:
        _hc = (0, None, "")  # the server's last-head cache (Server._head_bytes keeps it)

        def respond(self, req, status, headers, body):
            if framed:
                head, keep = Server._head_bytes(self, req, status, headers,
                                                "Content-Length: %d\r\n" % len(body))
                encode_body(body)
            self.status = status

    sink = Sink()
    client = ("192.168.4.2", 50000)
    parse = backend.parse_request

    def step():
        head = parse(raw)
        hl = head.header_len
        req = Request(head, raw[hl:] if hl < len(raw) else b"", client, conn)
        app.handle(req, sink)

    if preparsed:
        head0 = parse(raw)
        body0 = raw[head0.header_len:]

        def step():
            app.handle(Request(head0, body0, client, conn), sink)

    step()
    if not 200 <= sink.status < 300:
        raise RuntimeError("status %d for %r" % (sink.status, raw[:40]))
    return step


def bench_mfa(framed, preparsed=False):
    from microfastapi import MicroFastApi, backend

    app = MicroFastApi()

    @app.get("/items/{item_id:int}")
    def read_item(req, item_id):
        return {"item_id": item_id, "q": req.query.get("q")}

    return measure(mfa_step(app, RAW, framed, preparsed)), backend.describe()


class _Reader:
    """An in-memory stream with the reader methods Microdot's Request.create awaits."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    async def readline(self):
        i = self.data.find(b"\n", self.pos) + 1
        line = self.data[self.pos:i]
        self.pos = i
        return line

    async def read(self, n=-1):
        out = self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    async def readexactly(self, n):
        return await self.read(n)


class _Writer:
    """A writer that keeps nothing (only the last chunk, to check the status line)."""

    async def awrite(self, data):
        self.last = data
        if self.first is None:
            self.first = data

    async def aclose(self):
        pass

    def get_extra_info(self, name):
        return ("192.168.4.2", 50000)


def microdot_step(app, raw=RAW):
    """A function answering `raw` through the Microdot `app` in-process: Request.create() from
    an in-memory stream -> dispatch_request() -> Response.write(). Checks for a 2xx."""
    writer = _Writer()

    def step():
        _run(app.handle_request(_Reader(raw), writer))

    writer.first = None
    step()
    if bytes(writer.first[9:10]) != b"2":
        raise RuntimeError("microdot answered %r" % bytes(writer.first[:40]))
    return step


def bench_microdot():
    from microdot import Microdot

    app = Microdot()

    @app.get("/items/<int:item_id>")
    def read_item(req, item_id):
        return {"item_id": item_id, "q": req.args.get("q")}

    return measure(microdot_step(app, RAW)), "microdot"


def mp_main(which):
    if which == "microdot":
        per, desc = bench_microdot()
        print("RESULT microdot %d %s" % (per, desc))
        return
    per, desc = bench_mfa(False, True)
    print("RESULT app-only %d %s" % (per, desc))
    per, desc = bench_mfa(False)
    print("RESULT dispatch %d %s" % (per, desc))
    per, desc = bench_mfa(True)
    print("RESULT framed %d %s" % (per, desc))


def host_main():
    import os
    import pathlib
    import subprocess
    root = pathlib.Path(__file__).resolve().parent.parent.parent
    build = pathlib.Path(os.environ.get("MFA_BUILD", root / "build"))
    import microdot
    mdir = str(pathlib.Path(microdot.__file__).resolve().parent.parent)
    runs = [("C build (unix, _mfa)", build / "unix" / "micropython", "mfa", str(root / "python")),
            ("pure build (unix-pure)", build / "unix-pure" / "micropython", "pure",
             str(root / "python")),
            ("Microdot 2.7 (unix-pure)", build / "unix-pure" / "micropython", "microdot", mdir)]
    rows = []
    for label, binary, which, path in runs:
        env = dict(os.environ, MICROPYPATH=path + ":.frozen")
        out = subprocess.run([str(binary), "-X", "heapsize=8M", __file__, which], env=env,
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            sys.exit("%s failed:\n%s%s" % (label, out.stdout, out.stderr))
        for line in out.stdout.splitlines():
            if line.startswith("RESULT "):
                _, kind, per, desc = line.split(" ", 3)
                rows.append((label, kind, int(per), desc))
    md = [r[2] for r in rows if r[1] == "microdot"][0]
    print("heap bytes allocated per request, JSON GET, N=%d, gc.mem_alloc deltas" % N)
    for label, kind, per, desc in rows:
        print("  %-26s %-9s %6d B  %5.1f%% of Microdot  [%s]" % (label, kind, per,
                                                             100.0 * per / md, desc))


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        mp_main(sys.argv[1] if len(sys.argv) > 1 else "pure")
    else:
        host_main()
