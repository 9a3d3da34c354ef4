"""Streaming responses: a generator sent chunked, server-sent events, a file in blocks.

    ./build.sh serve python/examples/streaming.py
    curl -N localhost:8000/count?n=5     curl -N localhost:8000/events     curl localhost:8000/self
"""
import time

from microfastapi import MicroFastApi, StreamingResponse, FileResponse

from _port import HOST, PORT

app = MicroFastApi(title="streaming")


@app.get("/count")
def count(req):
    n = int(req.query.get("n", "10"))

    def numbers():
        for i in range(n):
            yield "%d\n" % i
    return StreamingResponse(numbers())


class Ticks:
    """Server-sent events from an async iterator (MicroPython 1.25 has no async generators,
    but any object with __aiter__/__anext__ works); awaiting lets other tasks run."""

    def __init__(self, n):
        self.n = n

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.n <= 0:
            raise StopAsyncIteration
        self.n -= 1
        try:
            import asyncio
            await asyncio.sleep(0.5)
        except ImportError:
            pass
        return "data: %d\n\n" % time.time()


@app.get("/events")
def events(req):
    return StreamingResponse(Ticks(int(req.query.get("n", "5"))), media_type="text/event-stream")


@app.get("/self")
def self_source(req):
    return FileResponse(__file__, media_type="text/plain")


if __name__ == "__main__":
    app.run(HOST, PORT)
