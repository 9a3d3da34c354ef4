# The three benchmark apps on microfastapi; microdot_app.py is the same on Microdot 2.7.
# tests/bench/run.py serves them (unix build, emulated RP2040) and calls them in-process.
#   GET  /hello               tiny JSON GET         -> {"hello": "world"}
#   GET  /items/{id:int}?q=   path params + query   -> {"item_id": id, "q": q}
#   POST /echo                2 KB JSON POST echo   -> the same JSON, re-encoded
#   GET  /hello-const         hello's answer as a constant route (answered by the server in C:
#                             the floor beside the framework; not in microdot_app.py)
# Benchmark helpers (not measured): GET /_t -> {"t": ticks_us}, GET /_heap -> free heap after
# a collection. MicroPython 1.25 syntax, no annotations (this also runs on the RP2040).
import gc
import time

from microfastapi import MicroFastApi

app = MicroFastApi()


@app.get("/hello")
def hello(req):
    return {"hello": "world"}


app.add_constant_route("/hello-const", {"hello": "world"})


@app.get("/items/{item_id:int}")
def read_item(req, item_id):
    return {"item_id": item_id, "q": req.query.get("q")}


@app.post("/echo")
def echo(req):
    return req.json()


@app.get("/_t")
def ticks(req):
    return {"t": time.ticks_us()}


@app.get("/_heap")
def heap(req):
    gc.collect()
    return {"free": gc.mem_free(), "alloc": gc.mem_alloc()}


def serve(host, port, max_conns):
    app.run(host=host, port=port, max_conns=max_conns)
