"""WebSocket routes under an ASGI server (microfastapi.asgi): the app's WebSocket layer runs on
the frames of a raw connection, and an ASGI server hands over whole messages instead. So each
way is translated at the edge: a message from the client becomes a (masked) client frame that
the app's frame reader takes as from a socket, and the frames the app sends are read back into
ASGI messages. Pings and pongs are the ASGI server's business: the app's are dropped.
"""
import asyncio

from . import backend
from .asgi import BODY_HEADERS, head_bytes, target_of
from .wire import Request, check_headers
from .wsframe import WsReader, ws_frame

TEXT, BINARY, CLOSE = 1, 2, 8
_ZERO_MASK = b"\0\0\0\0"  # (a client frame must be masked; a zero key leaves the bytes as they are)
_HIGH_WATER = 65536
_HANDSHAKE_OWN = ("upgrade", "connection", "sec-websocket-accept", "sec-websocket-protocol")


class WsConn:
    """The server's part of the contract for one ASGI WebSocket connection."""

    def __init__(self, app):
        self.app = app
        self.raw = None
        self.out = []             # ASGI messages not yet sent
        self.queued = 0
        self.wake = asyncio.Event()
        self.inbound = bytearray()  # client frames not yet taken by recv()
        self.eof = False          # the client is gone (websocket.disconnect)
        self.finished = False
        self.accepted = False
        self.reader = WsReader(1 << 30, client=True)  # the app's frames (it checks sizes)

    def _put(self, msg, n=0):
        self.out.append(msg)
        self.queued += n
        self.wake.set()

    # (the handshake, refused or accepted)
    def respond(self, req, status, headers, body):
        # Before the handshake: an ASGI server answers a close before accept with 403.
        self._put({"type": "websocket.close", "code": 1008})
        self.finished = True

    def upgrade(self, req, headers):
        check_headers(headers)
        msg = {"type": "websocket.accept", "headers": []}
        for k, v in headers:
            if k.lower() == "sec-websocket-protocol":
                msg["subprotocol"] = v
            elif k.lower() not in _HANDSHAKE_OWN:
                msg["headers"].append((k.lower().encode("latin-1"), str(v).encode("latin-1")))
        self.accepted = True
        self._put(msg)

    # (frames)
    def recv(self, req):
        if self.inbound:
            data = bytes(self.inbound)
            self.inbound = bytearray()
            return data
        return None if self.eof else b""

    def stream_send(self, req, data):
        if self.eof:
            raise OSError(104, "connection reset")
        if self.queued >= _HIGH_WATER:
            return False
        for ev in self.reader.feed(bytes(data)):
            if ev[0] == TEXT:
                self._put({"type": "websocket.send", "text": ev[1]}, len(ev[1]))
            elif ev[0] == BINARY:
                self._put({"type": "websocket.send", "bytes": ev[1]}, len(ev[1]))
            elif ev[0] == CLOSE:
                code = ev[1] if ev[1] not in (1005, 1006) else 1000
                self._put({"type": "websocket.close", "code": code, "reason": ev[2]})
        return True

    def stream_end(self, req):
        self.finished = True
        self.wake.set()

    def abort(self, req):
        if not self.finished:
            self._put({"type": "websocket.close", "code": 1011})
        self.finished = True

    def gone(self, req):
        return self.eof

    def readable(self):
        return None

    # (from the ASGI server)
    def message(self, msg):
        """A message from the client, as the frame the app's reader expects."""
        kind = msg["type"]
        if kind == "websocket.receive":
            if msg.get("text") is not None:
                self.inbound += ws_frame(TEXT, msg["text"], mask=_ZERO_MASK)
            else:
                self.inbound += ws_frame(BINARY, msg.get("bytes") or b"", mask=_ZERO_MASK)
        elif kind == "websocket.disconnect":
            code = msg.get("code", 1005)
            if code not in (1005, 1006):  # (the ASGI server did the closing handshake)
                self.inbound += ws_frame(CLOSE, bytes((code >> 8, code & 255)),
                                         mask=_ZERO_MASK)
            self.eof = True
        for ws in self.app._wss:
            if ws.raw is self.raw:
                ws.wake()


async def serve_websocket(app, scope, receive, send):
    """One WebSocket scope, from websocket.connect to the close."""
    msg = await receive()
    if msg["type"] != "websocket.connect":
        return
    conn = WsConn(app)
    target = target_of(scope.get("raw_path") or scope["path"].encode("utf-8"),
                       scope.get("query_string", b""))
    head = backend.parse_request(head_bytes("GET", target, scope.get("headers", []), None,
                                            BODY_HEADERS))
    conn.raw = raw = Request(head, b"", tuple(scope.get("client") or ("asgi", 0)), conn)
    app._loop = True
    co = app.handle(raw, conn)
    if co is not None:
        await co

    async def pump_in():
        while not conn.eof:
            conn.message(await receive())

    reader = asyncio.ensure_future(pump_in())
    try:
        while True:
            while conn.out:
                m = conn.out.pop(0)
                conn.queued -= len(m.get("text") or m.get("bytes") or b"")
                await send(m)
                if m["type"] == "websocket.close":
                    return
            if conn.finished or conn.eof:
                if conn.accepted and not conn.eof and not conn.out:
                    await send({"type": "websocket.close", "code": 1000})
                if not conn.out:
                    return
            conn.wake.clear()
            await conn.wake.wait()
    finally:
        reader.cancel()
