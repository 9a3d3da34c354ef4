"""Handlers that await, a live stream, and a log kept on flash (docs/concurrency.md,
docs/logging.md).

    ./build.sh serve python/examples/slow_sensor.py
    curl localhost:8000/reading & curl localhost:8000/uptime     # /uptime does not wait
    curl -N localhost:8000/live?n=5

A sensor that needs 200 ms per reading (a one-wire or I2C conversion, say) is awaited, so the
board answers other requests meanwhile; the log goes to the console and to a file capped at
8 KB (plus one older file of the same size).
"""
import time

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from microfastapi import MicroFastApi, StreamingResponse, HTTPException, log
from microfastapi.pieces import AsyncPieces

from _port import HOST, PORT

app = MicroFastApi(title="slow sensor")
log.sinks.append(log.FileSink("sensor-log.txt", max_bytes=8192))
T0 = time.time()


async def read_sensor():
    """Start a conversion, await its end, read the value (simulated here)."""
    await asyncio.sleep(0.2)
    return 21.5


@app.get("/reading")
async def reading(req):
    return {"celsius": await read_sensor()}


@app.get("/uptime")
def uptime(req):
    return {"s": int(time.time() - T0)}


async def reading_line(i):
    """Piece i of /live: one reading per line, as they come (it awaits the sensor)."""
    return "%.1f\n" % await read_sensor()


@app.get("/live")
def live(req):
    n = int(req.query.get("n", "10"))
    if not 0 < n <= 100:
        raise HTTPException(400, "n must be 1..100")
    return StreamingResponse(AsyncPieces(n, reading_line))


if __name__ == "__main__":
    app.run(HOST, PORT)
