"""The app of tests/api/test_adapters.py: a small body limit, a stream that fails, an endless
stream that counts how often a client left it."""
import asyncio

from microfastapi import MicroFastApi, StreamingResponse

app = MicroFastApi()
GONE = {"gone": 0}


@app.post("/small", max_body=50)
def small(req):
    return {"len": len(req.body)}


@app.get("/ok")
def ok(req):
    return {"ok": True}


@app.get("/broken-stream")
def broken_stream(req):
    def pieces():
        yield "first piece\n" * 100
        raise OSError(5, "the sensor went away")
    return StreamingResponse(pieces(), media_type="text/plain")


class Ticks:
    def __aiter__(self):
        return self

    def __init__(self, pause):
        self.pause = pause
        self.n = 0

    async def __anext__(self):
        # (after three ticks, the next one takes long: the stream then notices the client's
        # going only if the adapter cancels it)
        self.n += 1
        await asyncio.sleep(self.pause if self.n > 3 else 0.02)
        return "tick\n"

    def close(self):
        GONE["gone"] += 1  # (the stream closes its iterator when the client has gone)


@app.get("/endless")
def endless(req):
    return StreamingResponse(Ticks(float(req.query.get("pause", "0.02"))),
                             media_type="text/plain")


@app.get("/gone-count")
def gone_count(req):
    return GONE


@app.websocket("/ws", max_message=1000)
async def echo(ws):
    await ws.accept(subprotocol="echo" if "echo" in ws.subprotocols else None)
    async for msg in ws:
        if msg == "close please":
            await ws.close(4001, "asked to")
            return
        await ws.send(msg)


@app.websocket("/ws-refuse")
async def refuse(ws):
    await ws.close()  # before accept: the handshake is refused
