"""A board on a home network: limits that keep slow and silent clients from starving the real
ones (docs/connections.md).

    ./build.sh serve python/examples/pool_limits.py   # then: curl localhost:8000/

The limits are class attributes of the app (or keyword arguments of app.run / app.start).
"""
from microfastapi import MicroFastApi

from _port import HOST, PORT


class App(MicroFastApi):
    max_conns = 6            # slots; a full pool takes back idle, silent and slow ones first
    header_timeout_ms = 8000  # a head must be complete within this, however fast it comes
    min_rate = 500           # bytes/s a head or body must keep up ...
    rate_grace_ms = 1500     # ... once it has run this long (a LAN-only board: short grace)


app = App(title="pool limits")


@app.get("/")
def index(req):
    return {"ok": True}


@app.post("/upload")
def upload(req):
    return {"bytes": len(req.body)}


if __name__ == "__main__":
    app.run(HOST, PORT)
