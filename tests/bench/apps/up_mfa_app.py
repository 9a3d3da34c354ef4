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
import time

import up_probe

from microfastapi import MicroFastApi

app = MicroFastApi()
LIMIT = 8 * 1024 * 1024


@app.post("/raw", stream_body=True, max_body=LIMIT)
async def raw(req):
    t0 = time.ticks_us()
    s = up_probe.Sampler(req.query.get("heap"))
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
    return up_probe.answer(n, t0, s)


@app.post("/mp", stream_body=True, max_body=LIMIT)
async def mp(req):
    t0 = time.ticks_us()
    s = up_probe.Sampler(req.query.get("heap"))
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
    return up_probe.answer(n, t0, s)


@app.get("/_mem")
def mem(req):
    return up_probe.mem()


@app.get("/_sha")
def sha(req):
    return up_probe.sha(req.query.get("path"))


@app.get("/_idle")
def idle(req):
    return up_probe.idle_start()


@app.get("/_idle_result")
def idle_result(req):
    return up_probe.idle_result()


def serve(host, port, max_conns):
    app.run(host=host, port=port, max_conns=max_conns)
