"""Uploads of up to 16 KB on a small heap (docs/memory.md).

Each body is in RAM only while its handler runs. When the heap has no room for one more (many
large uploads at once), the server answers that request 503 and goes on; a body over max_body
is answered 413. Clients retry a 503 later.

    ./build.sh serve python/examples/upload.py
    curl --data-binary @some-file http://127.0.0.1:8000/upload
"""
import gc

from microfastapi import MicroFastApi

from _port import HOST, PORT

app = MicroFastApi(title="upload")
app.max_body = 16384       # bigger bodies: 413
app.max_conns = 8          # each open upload may hold up to max_body bytes of heap
totals = {"uploads": 0, "bytes": 0}


@app.post("/upload")
def upload(req):
    body = memoryview(req.body)  # slices of a memoryview are views, not copies
    n = len(body)
    s = 0
    for i in range(0, n, 1024):  # a checksum, standing in for writing the data to flash
        s = (s + sum(body[i:i + 1024])) & 0xFFFF
    totals["uploads"] += 1
    totals["bytes"] += n
    return {"received": n, "sum16": s}


@app.get("/totals")
def get_totals(req):
    f = getattr(gc, "mem_free", None)
    if f:
        gc.collect()
    return {"uploads": totals["uploads"], "bytes": totals["bytes"],
            "mem_free": f() if f else None}


if __name__ == "__main__":
    app.run(HOST, PORT)
