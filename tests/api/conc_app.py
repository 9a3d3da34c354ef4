"""The app of test_concurrency.py (issue 19): handlers that await, streams that fail or await,
status codes out of range, bodies that cannot be decoded, and a log sink the tests can read.

    conc_app.py PORT [quiet]      (quiet: log.level = WARNING)

Runs on CPython and both unix MicroPython binaries; also imported in-process (TestClient).
"""
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from microfastapi import MicroFastApi, StreamingResponse, Response, HTTPException
from microfastapi import log
from microfastapi.pieces import AsyncPieces

app = MicroFastApi(title="conc")
app.max_conns = 6
app.header_timeout_ms = 1000
app.body_timeout_ms = 1000
state = {"started": 0, "finished": 0, "cancelled": 0, "running": 0, "peak": 0}


@app.get("/json")
def json_route(req):
    return {"ok": True}


@app.get("/state")
def get_state(req):
    d = dict(state)
    d["tasks"] = len(app._tasks)
    srv = app.server
    if srv is not None:
        d["connections"] = srv.stats()["connections"]
    return d


@app.get("/sleep")
async def sleep(req):
    ms = int(req.query.get("ms", "100"))
    await asyncio.sleep(ms / 1000)
    return {"slept": ms, "tag": req.query.get("tag")}


_event = None


@app.get("/wait")
async def wait(req):
    """Answered only once /set has been: if handlers ran one at a time this would never end."""
    global _event
    if _event is None:
        _event = asyncio.Event()
    await _event.wait()
    return {"waited": True}


@app.get("/set")
def set_event(req):
    global _event
    if _event is None:
        _event = asyncio.Event()
    _event.set()
    return {"set": True}


@app.get("/hang")
async def hang(req):
    """Awaits (nearly) forever; counts how it ends."""
    state["started"] += 1
    state["running"] += 1
    if state["running"] > state["peak"]:
        state["peak"] = state["running"]
    try:
        await asyncio.sleep(600)
        state["finished"] += 1
        return {"hung": True}
    except asyncio.CancelledError:
        state["cancelled"] += 1
        raise
    finally:
        state["running"] -= 1


@app.get("/boom")
def boom(req):
    def gen():
        yield "one\n"
        yield "two\n"
        raise ValueError("generator failed")
    return StreamingResponse(gen())


@app.get("/badpiece")
def badpiece(req):
    def gen():
        yield "one\n"
        yield 5  # not bytes or str: the server cannot send it
    return StreamingResponse(gen())


def tick_stream(n, ms):
    """A stream that really awaits: "tick n-1" down to "tick 0", one every `ms` ms."""
    async def tick(i):
        await asyncio.sleep(ms / 1000)
        return "tick %d\n" % (n - 1 - i)
    return StreamingResponse(AsyncPieces(n, tick))


@app.get("/ticks")
def ticks(req):
    return tick_stream(int(req.query.get("n", "3")), int(req.query.get("ms", "50")))


@app.get("/async-ticks")
async def async_ticks(req):
    await asyncio.sleep(0.01)
    return tick_stream(3, 20)


@app.get("/forever")
def forever(req):
    def gen():
        block = "x" * 1000 + "\n"
        while True:
            yield block
    return StreamingResponse(gen())


@app.get("/status/{code}")
def status(req, code):
    return Response(b"", status_code=int(code))


@app.get("/tuple-status/{code}")
def tuple_status(req, code):
    return {"a": 1}, int(code)


@app.get("/http-exc/{code}")
def http_exc(req, code):
    raise HTTPException(int(code), "custom")


@app.post("/form")
async def form(req):
    f = await req.form()
    return {"form": f.items()}


@app.post("/json")
def json_body(req):
    return {"json": req.json()}


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "quiet":
        log.level = log.WARNING
    app.run("127.0.0.1", int(sys.argv[1]))
