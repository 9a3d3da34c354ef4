"""The WebSocket test app (tests/api/test_websocket.py): python ws_app.py PORT

    WS  /ws/echo            echoes every message (text as text, binary as binary)
    WS  /ws/json/{n:int}    one JSON message in, {"n": n, "got": ...} out, then close 4000 "bye"
    WS  /ws/sub             accepts subprotocol "chat" when offered
    WS  /ws/refuse          closes before accepting: 403
    WS  /ws/fail            raises before accepting: 500
    WS  /ws/crash           accepts, then raises: close 1011
    WS  /ws/small           echo with max_message=64 (1009 beyond)
    WS  /ws/big             echo with max_message=65536 (tests/ws/test_conformance.py, section 1)
    WS  /ws/text            receive_text: a binary message closes 1003
    WS  /ws/push?n=N&size=S sends N messages of S bytes as fast as the client takes them
    WS  /ws/hold            accepts and never reads (its client's messages pile up in TCP)
    GET /state              {"websockets": open WebSockets, "connections", "mem_alloc", ...}
    GET /events?n=N         server-sent events (an awaiting async iterator)
    GET /json               {"ok": true}
    WS  /ws/hub             subscribed to `hub` (broadcast.Broadcast, max_queue=4); what the
                            client sends is published as "echo: ..."
    GET /sse/hub            an event stream of `hub` (keep-alive comment every 300 ms)
    POST /publish?msg=M&n=N&times=T publishes M repeated T times (N times, with its number
                            appended when N > 1)
    GET /sse/kinds          one event of each kind (multi-line data, JSON, event/id/retry)
"""
import sys

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from microfastapi import MicroFastApi, StreamingResponse, WebSocketDisconnect
from microfastapi.pieces import AsyncPieces
from microfastapi.broadcast import Broadcast
from microfastapi.sse import EventSourceResponse, ServerSentEvent

app = MicroFastApi(title="ws test")
app.body_timeout_ms = 2000  # a client that stops reading is reset after 2 s (the write timeout)
app.ws_ping_interval_ms = 1500
app.ws_ping_timeout_ms = 1500


@app.websocket("/ws/echo")
async def echo(ws):
    await ws.accept()
    async for msg in ws:
        await ws.send(msg)


@app.websocket("/ws/json/{n:int}")
async def json_once(ws, n):
    await ws.accept()
    got = await ws.receive_json()
    await ws.send_json({"n": n, "got": got})
    await ws.close(4000, "bye")


@app.websocket("/ws/sub")
async def sub(ws):
    await ws.accept(subprotocol="chat" if "chat" in ws.subprotocols else None)
    await ws.send_text(ws.subprotocol or "none")
    await ws.receive()


@app.websocket("/ws/refuse")
async def refuse(ws):
    await ws.close()


@app.websocket("/ws/fail")
async def fail(ws):
    raise ValueError("handler failed before accept")


@app.websocket("/ws/crash")
async def crash(ws):
    await ws.accept()
    await ws.receive()
    raise ValueError("handler failed after accept")


@app.websocket("/ws/small", max_message=64)
async def small(ws):
    await ws.accept()
    async for msg in ws:
        await ws.send(msg)


@app.websocket("/ws/big", max_message=65536)
async def big(ws):
    await ws.accept()
    async for msg in ws:
        await ws.send(msg)


@app.websocket("/ws/text")
async def text_only(ws):
    await ws.accept()
    while True:
        await ws.send_text("got " + await ws.receive_text())


@app.websocket("/ws/push")
async def push(ws):
    n = int(ws.query.get("n", "100"))
    size = int(ws.query.get("size", "100"))
    await ws.accept()
    data = b"p" * size
    try:
        for i in range(n):
            await ws.send_bytes(data)
    except WebSocketDisconnect:
        return
    await ws.close(1000, "done")


@app.websocket("/ws/hold")
async def hold(ws):
    await ws.accept()
    try:
        while True:
            await asyncio.sleep(0.05)
            await ws.send_text("tick")
    except WebSocketDisconnect:
        pass


@app.get("/state")
def state(req):
    import gc
    gc.collect()
    st = dict(app.server.stats())
    st["websockets"] = len(app._wss)
    st["tasks"] = len(app._tasks)
    if hasattr(gc, "mem_alloc"):
        st["mem_alloc"] = gc.mem_alloc()
    return st


async def tick(i):
    await asyncio.sleep(0.01)
    return "data: %d\n\n" % i


@app.get("/events")
def events(req):
    return StreamingResponse(AsyncPieces(int(req.query.get("n", "3")), tick),
                             media_type="text/event-stream")


@app.get("/json")
def ok(req):
    return {"ok": True}


hub = Broadcast(max_queue=4)


@app.websocket("/ws/hub")
async def hub_ws(ws):
    await ws.accept()
    await hub.serve(ws, on_message=lambda m: hub.publish("echo: %s" % m))


@app.get("/sse/hub")
def hub_sse(req):
    return EventSourceResponse(hub.subscribe(), ping_ms=300)


@app.post("/publish")
def publish(req):
    msg = req.query.get("msg", "hi") * int(req.query.get("times", "1"))
    n = int(req.query.get("n", "1"))
    count = 0
    for i in range(n):
        count = hub.publish(msg if n == 1 else "%s %d" % (msg, i))
    return {"subscribers": count, "hub": len(hub)}


@app.get("/sse/kinds")
def kinds(req):
    return EventSourceResponse([
        "plain",
        "two\nlines",
        {"t": 21.5},
        ServerSentEvent({"on": True}, event="relay", id=7, retry=2000),
        {"sse": True, "data": "x", "event": "note", "comment": "hello"},
    ])


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]))
