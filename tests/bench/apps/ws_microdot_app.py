# The WebSocket benchmark app on Microdot 2.7 (microdot.websocket), the same behaviour as
# ws_mfa_app.py (see there). Microdot is loaded from the pip-installed package (MICROPYPATH on
# unix; uploaded to the emulated chip's filesystem by tests/bench/run.py).
import gc

import md_sha1  # noqa: F401 (before microdot.websocket: hashlib.sha1 on the unix build)
from microdot import Microdot
from microdot.websocket import with_websocket

app = Microdot()


@app.route("/ws")
@with_websocket
async def echo(req, ws):
    while True:
        msg = await ws.receive()
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
    # Microdot has no connection limit; max_conns is accepted for the same call signature.
    print("listening", port)
    app.run(host=host, port=port)
