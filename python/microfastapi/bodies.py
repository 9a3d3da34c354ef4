"""Streamed request bodies: `req.stream()` for a route declared with `stream_body=True`.

The server hands out such a request at once, its body still on the wire (docs/internals.md,
"Streamed request bodies"). Iterating `req.stream()` pulls the body through one bounded
buffer: each piece is valid until the next piece is asked for, so a body of any size needs
a bounded amount of RAM, and the client is slowed (its TCP window closes) while the handler is
busy with a piece. By default that buffer is the connection's own input buffer: a piece is what
the server's body_view lends of it (a read-only memoryview on `_mfa`), nothing is copied or
allocated per piece but the view. With a `size`, pieces are copied into a buffer of that many
bytes (body_read), for a handler that wants pieces of a bounded size. A body that arrived whole with its head (or any body
under the TestClient) is one piece, as it is.
"""

from .exceptions import ClientDisconnect

try:
    import asyncio
except ImportError:  # (stock MicroPython builds without asyncio: app.poll() loops)
    asyncio = None


class BodyStream:
    """Async iterator over the pieces of one request's body (see the module docstring)."""

    def __init__(self, req, size=None):
        self._req = req
        self._raw = raw = req.raw
        self._whole = raw.body   # None: on the wire
        self._size = size
        self._buf = None         # size given: the buffer pieces are copied into
        self._pulled = False
        self._flag = None
        self._done = False
        self.received = 0        # body bytes handed out so far

    def __aiter__(self):
        return self

    async def __anext__(self):
        p = await self.read()
        if p is None:
            raise StopAsyncIteration
        return p

    async def read(self):
        """The next piece (memoryview or bytes), or None at the end of the body."""
        if self._done:
            return None
        if self._whole is not None:
            # Whole already (it came with its head, or a TestClient request): one piece (held to
            # the route's limit by app._handle_bodies, as any whole body).
            self._done = True
            b = self._whole
            self._whole = None
            self.received = len(b)
            return b if b else None
        app = self._req.app
        srv = app.server
        raw = self._raw
        if not self._pulled:
            self._pulled = True
            if self._size:
                self._buf = bytearray(self._size)
            if not srv.body_pull(raw, app.body_limit(raw)):
                self._done = True
                raise ClientDisconnect("request body too large")  # (answered 413)
        buf = self._buf
        while True:
            try:
                p = srv.body_view(raw) if buf is None else srv.body_read(raw, buf)
            except OSError:
                self._done = True
                raise ClientDisconnect()
            if p is None:
                self._done = True
                return None
            if p:
                if buf is None:
                    self.received += len(p)
                    return p
                self.received += p
                return memoryview(buf)[:p]
            await self._wait(app)

    async def _wait(self, app):
        # Woken by the serve loop when the server lists this request in readable() (bytes, an
        # EOF), or when its client has gone (then body_read raises).
        if self._flag is None:
            if asyncio is None or not app._loop:
                raise RuntimeError("a streamed body needs an event loop: serve with app.run() "
                                   "or await app.serve()")
            self._flag = asyncio.Event()
        self._flag.clear()
        app._wss.append(self)
        try:
            await self._flag.wait()
        finally:
            app._wss.remove(self)

    # The serve loop's side (the same as a WebSocket's, see app._ws_notes and app._ws_tick).
    @property
    def raw(self):
        return self._raw

    def wake(self):
        self._flag.set()

    def tick(self, now, interval_ms, timeout_ms):
        pass  # (the server keeps a streamed body's timeout itself)

    async def readall(self):
        """The rest of the body as bytes (the route's max_body bounds it)."""
        out = bytearray()
        while True:
            p = await self.read()
            if p is None:
                return bytes(out)
            out += p
