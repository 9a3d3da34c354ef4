"""Streaming responses: a generator sent chunked, server-sent events, a file in blocks.

    ./build.sh serve python/examples/streaming.py
    curl -N localhost:8000/count?n=5     curl -N localhost:8000/events     curl localhost:8000/self
"""
import time

from microfastapi import MicroFastApi, StreamingResponse, FileResponse
from microfastapi.pieces import AsyncPieces

from _port import HOST, PORT

app = MicroFastApi(title="streaming")


@app.get("/count")
def count(req):
    n = int(req.query.get("n", "10"))

    def numbers():
        for i in range(n):
            yield "%d\n" % i
    return StreamingResponse(numbers())


async def tick(i):
    """One server-sent event every half second; awaiting lets other tasks run meanwhile."""
    try:
        import asyncio
        await asyncio.sleep(0.5)
    except ImportError:
        pass
    return "data: %d\n\n" % time.time()


@app.get("/events")
def events(req):
    # AsyncPieces: an async iterator (MicroPython 1.25 has no async generators) of n ticks.
    return StreamingResponse(AsyncPieces(int(req.query.get("n", "5")), tick),
                             media_type="text/event-stream")


@app.get("/self")
def self_source(req):
    return FileResponse(__file__, media_type="text/plain")


if __name__ == "__main__":
    app.run(HOST, PORT)
