# The three benchmark apps on Microdot 2.7, the same behaviour as mfa_app.py (see there).
# Microdot is loaded from the pip-installed package (MICROPYPATH on unix; uploaded to the
# emulated chip's filesystem by tests/bench/run.py); nothing of it lives in this repo.
import gc
import time

from microdot import Microdot

app = Microdot()


@app.get("/hello")
def hello(req):
    return {"hello": "world"}


@app.get("/items/<int:item_id>")
def read_item(req, item_id):
    return {"item_id": item_id, "q": req.args.get("q")}


@app.post("/echo")
def echo(req):
    return req.json


@app.get("/_t")
def ticks(req):
    return {"t": time.ticks_us()}


@app.get("/_heap")
def heap(req):
    gc.collect()
    return {"free": gc.mem_free(), "alloc": gc.mem_alloc()}


def serve(host, port, max_conns):
    # Microdot has no connection limit; max_conns is accepted for the same call signature.
    print("listening", port)
    app.run(host=host, port=port)
