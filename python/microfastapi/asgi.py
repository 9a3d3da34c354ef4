"""The app under an ASGI server on CPython (uvicorn, hypercorn, ...): the same routes, the same
answers as on the board, for when a project outgrows it (docs/deploying.md).

    from microfastapi.asgi import ASGIApp
    asgi_app = ASGIApp(app)          # uvicorn mymodule:asgi_app

The request head is rebuilt as HTTP/1.1 bytes and read by the same parser the board uses, so a
path, a query or a header means what it means there. The ASGI connection plays the server's part
of the contract (docs/internals.md): respond, stream_start/send/end, abort, gone. What the ASGI
server does itself (framing, keep-alive, timeouts, connection limits) replaces the board
server's limits; the body limits stay the app's (413).

WebSocket routes run too (asgi_ws.py translates between ASGI's messages and the frames the
app's WebSocket layer reads and writes). lifespan is accepted (there is nothing to start).
"""
import asyncio

from . import backend
from .wire import Request, check_headers, check_status, encode_body

# Bytes a streamed answer may have waiting for the ASGI server before stream_send says "full":
# the producer then waits, as on the board (a slow client slows the producer).
_HIGH_WATER = 65536

# Request headers the ASGI server has dealt with already (the body arrives decoded and whole;
# a WebSocket handshake keeps Connection, which the app checks).
BODY_HEADERS = (b"transfer-encoding", b"content-length")
_DROP = BODY_HEADERS + (b"expect", b"connection")


def head_bytes(method, target, headers, body_len, drop=_DROP):
    """An HTTP/1.1 request head for the board's parser, without the headers in `drop`."""
    lines = [("%s %s HTTP/1.1" % (method, target)).encode("latin-1")]
    host = False
    for k, v in headers:
        k = k.lower()
        if k not in drop:
            lines.append(k + b": " + v)
            host = host or k == b"host"
    if not host:
        # (HTTP/1.1 needs one, and a WSGI environ or an ASGI scope may carry none: the
        # server has accepted the request already)
        lines.append(b"host: localhost")
    if body_len is not None:
        lines.append(b"Content-Length: %d" % body_len)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def target_of(path, query):
    """The request target: the path as sent (percent-escapes kept) and the query."""
    if isinstance(path, str):
        path = path.encode("latin-1")
    t = path.decode("latin-1") or "/"
    if query:
        t += "?" + (query.decode("latin-1") if isinstance(query, bytes) else query)
    return t


class _Conn:
    """One request's connection, as the app sees a server: the answer is queued as ASGI
    messages, which the adapter sends."""

    def __init__(self):
        self.out = []             # ASGI messages not yet sent
        self.queued = 0           # body bytes in them
        self.wake = asyncio.Event()
        self.finished = False     # the whole answer is queued
        self.aborted = False
        self.disconnected = False
        self.started = False
        self.head_only = False    # HEAD: the answer's headers, no body

    def _put(self, msg, n=0):
        self.out.append(msg)
        self.queued += n
        self.wake.set()

    def _start(self, status, headers):
        check_status(status)
        check_headers(headers)
        self.started = True
        self._put({"type": "http.response.start", "status": status,
                   "headers": [(k.lower().encode("latin-1"), str(v).encode("latin-1"))
                               for k, v in headers]})  # (ASGI: names in lower case)

    def respond(self, req, status, headers, body):
        body = encode_body(body)
        headers = list(headers)
        if not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("Content-Length", str(len(body))))
        self._start(status, headers)
        self._put({"type": "http.response.body",
                   "body": b"" if self.head_only else bytes(body)}, len(body))
        self.finished = True

    def stream_start(self, req, status, headers):
        self._start(status, headers)

    def stream_send(self, req, data):
        if self.disconnected:
            raise OSError(104, "connection reset")
        if self.queued >= _HIGH_WATER:
            return False
        if not self.head_only:
            self._put({"type": "http.response.body", "body": bytes(data), "more_body": True},
                      len(data))
        return True

    def stream_end(self, req):
        self._put({"type": "http.response.body", "body": b""})
        self.finished = True

    def abort(self, req):
        self.aborted = True
        self.wake.set()

    def gone(self, req):
        return self.disconnected


class ASGIApp:
    """An ASGI 3 application serving a MicroFastApi app."""

    def __init__(self, app, on_startup=None, on_shutdown=None):
        """on_startup, on_shutdown: `async def f(scope)` run at the ASGI server's lifespan
        events (scope["state"] is the server's per-app state); an exception is reported to
        the server as startup.failed / shutdown.failed with its repr."""
        self.app = app
        self.on_startup = on_startup
        self.on_shutdown = on_shutdown

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await _lifespan(self.on_startup, scope, send, "lifespan.startup")
                elif msg["type"] == "lifespan.shutdown":
                    await _lifespan(self.on_shutdown, scope, send, "lifespan.shutdown")
                    return
        elif kind == "websocket":
            from .asgi_ws import serve_websocket
            await serve_websocket(self.app, scope, receive, send)

    async def _http(self, scope, receive, send):
        app = self.app
        app._loop = True  # (handlers may await: answers run here, streams in tasks of their own)
        target = target_of(scope.get("raw_path") or scope["path"].encode("utf-8"),
                           scope.get("query_string", b""))
        method = scope["method"]
        headers = scope.get("headers", [])
        client = tuple(scope.get("client") or ("asgi", 0))
        conn = _Conn()
        conn.head_only = method == "HEAD"
        try:
            head = backend.parse_request(head_bytes(method, target, headers, 0))
        except backend.ParseError as e:
            await _plain(send, e.args[0], e.args[1])
            return
        limit = app.body_limit(Request(head, b"", client))
        body = await self._read_body(receive, headers, limit)
        if body is None:
            await _plain(send, 413, "request body too large (limit %d)" % limit)
            return
        if body:
            head = backend.parse_request(head_bytes(method, target, headers, len(body)))
        raw = Request(head, body, client, conn)
        watch = asyncio.ensure_future(self._watch(receive, conn))
        try:
            co = app.handle(raw, conn)
            if co is not None:
                await co
            await self._forward(conn, send)
        finally:
            watch.cancel()
            if conn.disconnected:
                _cancel_tasks_of(app, raw)

    async def _read_body(self, receive, headers, limit):
        """The whole body (bytes), or None when it is over `limit`."""
        for k, v in headers:
            if k.lower() == b"content-length" and v.isdigit() and int(v) > limit:
                return None
        parts = []
        n = 0
        while True:
            msg = await receive()
            if not isinstance(msg, dict):
                return b"".join(parts)  # (not an ASGI message: nothing more to read)
            if msg["type"] == "http.disconnect":
                raise OSError(104, "client gone before its body arrived")
            chunk = msg.get("body", b"")
            n += len(chunk)
            if n > limit:
                return None
            parts.append(chunk)
            if not msg.get("more_body"):
                return b"".join(parts)

    async def _watch(self, receive, conn):
        """After the body: the next message can only be http.disconnect."""
        while True:
            msg = await receive()
            if not isinstance(msg, dict):
                return  # (not an ASGI message: a receive() that has nothing to say)
            if msg["type"] == "http.disconnect":
                conn.disconnected = True
                conn.wake.set()
                return

    async def _forward(self, conn, send):
        """Send the queued messages until the answer is complete (or aborted)."""
        while True:
            while conn.out:
                msg = conn.out.pop(0)
                conn.queued -= len(msg.get("body", b""))
                await send(msg)
            if conn.aborted:
                # No final empty body: the ASGI server drops the connection, so the client
                # sees a cut answer, not a complete one (as the board's server resets it).
                raise ConnectionAbortedError("the answer was aborted (a stream failed)")
            if conn.finished or conn.disconnected:
                return
            conn.wake.clear()
            await conn.wake.wait()


async def _lifespan(hook, scope, send, event):
    try:
        if hook is not None:
            await hook(scope)
    except Exception as e:
        await send({"type": event + ".failed", "message": repr(e)})
        return
    await send({"type": event + ".complete"})


def _cancel_tasks_of(app, raw):
    """The client has gone: cancel what still works on its answer (a stream waiting for its
    next piece), as the serve loop's reaper does on the board."""
    for t in list(app._tasks):
        if t[0] is raw:
            app._tasks.remove(t)
            t[1].cancel()


async def _plain(send, status, text):
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
