# The WebSocket benchmark app on microfastapi; ws_microdot_app.py is the same on Microdot 2.7.
# tests/bench/ws_bench.py serves them on the unix build (serve.py ws_mfa|ws_microdot PORT) and
# drives them in-process (ws_inproc.py, unix and the emulated RP2040).
#   WS  /ws        echoes every message (text as text)
# Benchmark helpers (not measured), each a plain GET answered with JSON:
#   /_mem          {"alloc": gc.mem_alloc(), "free": gc.mem_free()} after a gc.collect()
#   /_gc_off       gc.collect(), then gc.disable(); {"alloc": gc.mem_alloc()}
#   /_gc_on        {"alloc": gc.mem_alloc()} taken first, then gc.enable()
# MicroPython 1.25 syntax, no annotations (this also runs on the RP2040).
import gc

from microfastapi import MicroFastApi

app = MicroFastApi()


@app.websocket("/ws")
async def echo(ws):
    await ws.accept()
    async for msg in ws:
        await ws.send(msg)


@app.get("/_mem")
def mem(req):
    gc.collect()
    return {"alloc": gc.mem_alloc(), "free": gc.mem_free()}


@app.get("/_gc_off")
def gc_off(req):
    gc.collect()
    gc.disable()
    return {"alloc": gc.mem_alloc()}


@app.get("/_gc_on")
def gc_on(req):
    a = gc.mem_alloc()
    gc.enable()
    return {"alloc": a}


def serve(host, port, max_conns):
    app.run(host=host, port=port, max_conns=max_conns)
