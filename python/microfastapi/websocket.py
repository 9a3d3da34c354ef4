"""WebSocket endpoints (RFC 6455): the handshake, the `WebSocket` a handler gets, keep-alive.

    @app.websocket("/ws")
    async def ws(websocket):
        await websocket.accept()
        async for msg in websocket:          # str (text) or bytes (binary) messages
            await websocket.send_text(msg)

The frames are read and written by `WsReader` / `ws_frame` (C in `_mfa`, else
microfastapi.wsframe): the server hands this module the raw bytes of an upgraded connection
(`srv.upgrade`, `recv`, `stream_send`, `readable`; docs/internals.md) and this module only
decides what to do with whole messages and control frames. A module of its own: an app
without WebSocket routes never imports it.
"""

try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from . import backend, log
from .exceptions import WebSocketDisconnect  # noqa: F401 (also websocket.WebSocketDisconnect)

# The frame layer: _mfa's (C, mfa_ws.c) or the pure-Python twin (wsframe.py), as backend.py
# chose.
from .backend import WsReader, WsError, ws_frame, ws_accept, WsAwait, ws_done

from .clock import ticks_ms as _ticks, ticks_diff as _ticks_diff

# opcodes (RFC 6455 5.2), as WsReader's event kinds
TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10

_CONNECTING, _OPEN, _CLOSED = 0, 1, 2
_CLOSE_WAIT_MS = 1000  # after our close frame, how long the peer's is waited for
_H = (("Content-Type", "text/plain; charset=utf-8"),)


def _token_in(value, token):
    """Whether a comma-separated header value holds `token` (case-insensitive)."""
    for part in (value or "").split(","):
        if part.strip().lower() == token:
            return True
    return False


def handshake_error(raw):
    """None when `raw` is a valid WebSocket opening handshake (RFC 6455 4.2.1), else
    (status, reason, headers) for the answer: 426 when the client must upgrade (no `Upgrade:
    websocket`, or a version other than 13), 400 for a malformed handshake."""
    up = (("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13"))
    if not _token_in(raw.header("upgrade"), "websocket"):
        return 426, "WebSocket upgrade required", up
    if raw.version != "1.1":
        return 400, "WebSocket needs HTTP/1.1", ()
    if not _token_in(raw.header("connection"), "upgrade"):
        return 400, "Connection header without upgrade", ()
    if (raw.header("sec-websocket-version") or "").strip() != "13":
        return 426, "unsupported Sec-WebSocket-Version (13 is)", up
    if ws_accept((raw.header("sec-websocket-key") or "").strip()) is None:
        return 400, "bad Sec-WebSocket-Key", ()
    return None


class WebSocket:
    """One WebSocket connection, given to the endpoint's handler (first argument).

    Before `accept()` it is still the HTTP request: path_params, query, headers, cookies,
    client, subprotocols (what the client offered). After it: receive()/receive_text()/
    receive_bytes()/receive_json(), `async for msg in websocket`, send()/send_text()/
    send_bytes()/send_json(), close(code, reason). A closed connection raises
    WebSocketDisconnect from receive and send (an `async for` just ends).
    """

    def __init__(self, app, raw, srv, request, max_message):
        self.app = app
        self.raw = raw
        self.srv = srv
        self.request = request
        self.max_message = max_message
        self.subprotocol = None
        self.close_code = None
        self.close_reason = ""
        self._state = _CONNECTING
        self._reader = None
        self._events = []
        self._close_sent = False
        self._flag = asyncio.Event()
        self._rx_at = _ticks()   # bytes last arrived (keep-alive, see tick())
        self._ping_at = None     # our unanswered keep-alive ping went out then

    # ---- the request it came as ---------------------------------------------------------

    @property
    def path_params(self):
        return self.request.path_params

    @property
    def query(self):
        return self.request.query

    @property
    def headers(self):
        return self.request.headers

    @property
    def cookies(self):
        return self.request.cookies

    @property
    def client(self):
        return self.request.client

    @property
    def state(self):
        return self.request.state

    @property
    def subprotocols(self):
        v = self.raw.header("sec-websocket-protocol")
        return [p.strip() for p in v.split(",") if p.strip()] if v else []

    # ---- opening ------------------------------------------------------------------------

    async def accept(self, subprotocol=None, headers=None):
        """Complete the handshake (101). `subprotocol`: one the client offered (else
        ValueError); `headers`: more (name, value) pairs for the 101 answer."""
        if self._state != _CONNECTING:
            raise RuntimeError("accept() called twice")
        key = self.raw.header("sec-websocket-key").strip()
        hs = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
              ("Sec-WebSocket-Accept", ws_accept(key))]
        if subprotocol is not None:
            if subprotocol not in self.subprotocols:
                raise ValueError("subprotocol %r was not offered by the client" % subprotocol)
            hs.append(("Sec-WebSocket-Protocol", subprotocol))
            self.subprotocol = subprotocol
        if headers:
            hs.extend(headers.items() if hasattr(headers, "items") else headers)
        self.srv.upgrade(self.raw, hs)
        self._reader = WsReader(self.max_message)
        if WsAwait is not None:  # (made once: a bound method is heap each time it is taken)
            self._steps = (self._receive_step, self._next_step)
        self._state = _OPEN
        self._rx_at = _ticks()

    # ---- receiving ----------------------------------------------------------------------

    # receive() and __anext__ hand out _receive's coroutine rather than awaiting it, and the
    # send methods _send_frame's: one coroutine object per message each way instead of two or
    # three (each one is heap, 100-200 bytes).
    def receive(self):
        """The next message: str (text) or bytes (binary). Pings are answered on the way.
        (Returns the awaitable: `await websocket.receive()`.)"""
        if WsAwait is not None and self._state == _OPEN:
            return WsAwait(self._steps[0])
        return self._receive(False)

    # On _mfa, receive() and __anext__ hand out a WsAwait (modmfa_ws.c) around these steps: the
    # common case, a whole message in one recv() (or nothing yet), without a coroutine; the
    # rest (control frames, errors, a closed connection) goes to _receive, awaited in its place.
    def _receive_step(self):
        return self._step(False)

    def _next_step(self):
        return self._step(True)

    def _step(self, stop):
        """A message, None once this task waits for bytes (the serve loop's wake() resumes
        it, as Event.wait would), or _receive's coroutine for everything else."""
        if self._state != _OPEN or self._events:
            return self._receive(stop)
        try:
            data = self.srv.recv(self.raw)
        except OSError:
            self._gone()
            return self._receive(stop)
        if data is None:
            self._gone()
            return self._receive(stop)
        if not data:
            f = self._flag
            f.state = False  # (Event.clear() and Event.wait(), without its generator)
            t = asyncio.core.cur_task
            f.waiting.push(t)
            t.data = f.waiting
            return None
        self._rx_at = _ticks()
        try:
            m = self._reader.feed_one(data)
        except WsError as e:
            return self._receive(stop, e)
        if type(m) is list:
            self._events = m
            return self._receive(stop)
        return m

    async def _receive(self, stop, err=None):
        """receive(); with `stop` (async for) StopAsyncIteration instead of
        WebSocketDisconnect."""
        if self._state == _CONNECTING:
            raise RuntimeError("accept() the WebSocket first")
        try:
            if err is not None:  # (from _step: what feed_one raised)
                await self._fail(err.args[0], err.args[1])
            while True:
                while self._events:
                    ev = self._events.pop(0)
                    kind = ev[0]
                    if kind == TEXT or kind == BINARY:
                        return ev[1]
                    if kind == PING:
                        await self._send_frame(PONG, ev[1])
                    elif kind == PONG:
                        self._ping_at = None
                    elif kind == CLOSE:
                        await self._peer_closed(ev[1], ev[2])
                if self._state == _CLOSED:
                    raise WebSocketDisconnect(self.close_code, self.close_reason)
                try:
                    data = self.srv.recv(self.raw)
                except OSError:
                    self._gone()
                    continue
                if data is None:  # the peer closed TCP without a close frame
                    self._gone()
                    continue
                if data:
                    self._rx_at = _ticks()
                    try:
                        self._events = self._reader.feed(data)
                    except WsError as e:
                        await self._fail(e.args[0], e.args[1])
                    continue
                self._flag.clear()
                await self._flag.wait()  # set by the serve loop (wake()) when bytes arrive
        except WebSocketDisconnect:
            if stop:
                raise StopAsyncIteration
            raise

    async def receive_text(self):
        m = await self._receive(False)
        if type(m) is not str:
            await self._fail(1003, "text message expected")
        return m

    async def receive_bytes(self):
        m = await self._receive(False)
        if type(m) is str:
            await self._fail(1003, "binary message expected")
        return m

    async def receive_json(self):
        """The next message parsed as JSON (ValueError when it is not JSON)."""
        return json.loads(await self._receive(False))

    def __aiter__(self):
        return self

    def __anext__(self):
        if WsAwait is not None and self._state == _OPEN:
            return WsAwait(self._steps[1])
        return self._receive(True)

    # ---- sending ------------------------------------------------------------------------

    def send_text(self, s):
        return self._send(TEXT, s)

    def send_bytes(self, b):
        return self._send(BINARY, b)

    def send(self, data):
        """A text message for a str, a binary message for bytes. (Returns the awaitable:
        `await websocket.send(data)`.)"""
        return self._send(TEXT if type(data) is str else BINARY, data)

    def send_json(self, obj):
        return self._send(TEXT, json.dumps(obj))

    def _send(self, opcode, payload):
        """On _mfa a frame the connection's queue takes at once is queued here and ws_done
        (already finished) handed out, instead of a coroutine; else _send_frame's."""
        if ws_done is not None and self._state == _OPEN and not self._close_sent:
            frame = ws_frame(opcode, payload)
            try:
                if self.srv.stream_send(self.raw, frame):
                    return ws_done
            except OSError:
                self._gone()
                return _lost()
            return self._send_frame(opcode, payload, frame)
        return self._send_frame(opcode, payload)

    async def _send_frame(self, opcode, payload, frame=None):
        """Queue one whole frame; while the connection's queue is full (the peer reads
        slowly) this waits, so a slow peer slows its sender instead of filling RAM."""
        if self._state != _OPEN or (self._close_sent and opcode != CLOSE):
            if self._state == _CONNECTING:
                raise RuntimeError("accept() the WebSocket first")
            raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)
        if frame is None:
            frame = ws_frame(opcode, payload)
        pause = 1
        while True:
            try:
                if self.srv.stream_send(self.raw, frame):
                    return
            except OSError:
                self._gone()
                raise WebSocketDisconnect(1006, "connection lost")
            await asyncio.sleep_ms(pause) if hasattr(asyncio, "sleep_ms") \
                else await asyncio.sleep(pause / 1000)
            if pause < 20:
                pause *= 2

    # ---- closing ------------------------------------------------------------------------

    async def close(self, code=1000, reason=""):
        """Close: before accept() the handshake is refused (403); after it a close frame
        with `code` and `reason` is sent and the peer's answer awaited (briefly)."""
        if self._state == _CONNECTING:
            self._state = _CLOSED
            self.close_code = code
            self.srv.respond(self.raw, 403, _H, "WebSocket refused")
            return
        if self._state == _CLOSED:
            return
        await self._send_close(code, reason)
        t0 = _ticks()
        while self._state != _CLOSED and _ticks_diff(_ticks(), t0) < _CLOSE_WAIT_MS:
            try:
                await asyncio.wait_for(self.receive(), _CLOSE_WAIT_MS / 1000)
            except WebSocketDisconnect:
                break
            except asyncio.TimeoutError:
                break
            except Exception:
                break
        self._end(code, reason)

    async def _send_close(self, code, reason):
        if self._close_sent or self._state != _OPEN:
            return
        payload = b"" if code is None else bytes((code >> 8, code & 255)) + reason.encode()
        try:
            await self._send_frame(CLOSE, payload)
        except WebSocketDisconnect:
            pass
        self._close_sent = True

    async def _peer_closed(self, code, reason):
        """The peer's close frame: echo it (RFC 6455 5.5.1), then close the connection."""
        if not self._close_sent:
            await self._send_close(1000 if code == 1005 else code, "")
        self._end(code, reason)

    async def _fail(self, code, reason):
        """A protocol error (1002, 1007, 1009) or a message the handler cannot take (1003):
        close with `code`, then WebSocketDisconnect to the handler."""
        log.info("%s: WebSocket closed %d: %s", self.request.path, code, reason)
        await self._send_close(code, reason)
        self._end(code, reason)
        raise WebSocketDisconnect(code, reason)

    def _end(self, code, reason):
        if self._state == _CLOSED:
            return
        self._state = _CLOSED
        self._events = []
        if self.close_code is None:
            self.close_code = code
            self.close_reason = reason
        try:
            self.srv.stream_end(self.raw)  # what is queued leaves, then the connection closes
        except Exception:
            pass
        self._flag.set()  # a task waiting in receive() sees the close

    def _gone(self):
        """The connection died (reset, or closed without a close frame): 1006."""
        if self._state != _CLOSED:
            self._state = _CLOSED
            self._events = []
            if self.close_code is None:
                self.close_code = 1006
            try:
                self.srv.abort(self.raw)
            except Exception:
                pass
            self._flag.set()

    # ---- driven by the app's serve loop ---------------------------------------------------

    def wake(self):
        """Bytes (or the EOF) arrived for this connection, or it may have gone."""
        self._flag.set()

    def tick(self, now, interval_ms, timeout_ms):
        """Keep-alive, from the serve loop's periodic check: after `interval_ms` without a
        byte from the peer a ping goes out; if still nothing comes within `timeout_ms`, the
        peer is taken for dead (its WiFi dropped, its browser tab was killed) and the
        connection reset, so its slot is free again."""
        if self._state != _OPEN or not interval_ms:
            return
        if self._ping_at is not None and _ticks_diff(now, self._ping_at) > timeout_ms and \
                _ticks_diff(now, self._rx_at) > timeout_ms:
            log.info("%s: WebSocket peer %s:%s silent, closed", self.request.path,
                     self.client[0], self.client[1])
            self._gone()
            self.wake()
            return
        if self._ping_at is None and _ticks_diff(now, self._rx_at) > interval_ms:
            try:
                if self.srv.stream_send(self.raw, ws_frame(PING, b"")):
                    self._ping_at = now
            except OSError:
                self._gone()
                self.wake()


async def _lost():
    raise WebSocketDisconnect(1006, "connection lost")


async def run(app, raw, srv, start):
    """The life of one WebSocket connection: check the handshake, run the handler, close."""
    try:
        try:
            err = handshake_error(raw)
        except Exception as e:  # (a bug here still answers, and names itself in the log)
            app._answer_500(raw, srv, e)
            return
        if err is not None:
            status, reason, headers = err
            srv.respond(raw, status, list(_H) + list(headers), reason)
            return
        ws = WebSocket(app, raw, srv, start.req, start.max_message)
        app._wss.append(ws)
        try:
            await _handle(ws, start)
        finally:
            app._wss.remove(ws)
    finally:
        app._task_done(raw, srv)


async def _handle(ws, start):
    try:
        await start.fn(ws, **start.params)
        if ws._state == _CONNECTING:
            await ws.close()  # the handler never accepted: 403
        elif ws._state == _OPEN:
            await ws.close(1000)
    except WebSocketDisconnect:
        if ws._state != _CLOSED:
            await ws.close(1000)
    except asyncio.CancelledError:
        ws._gone()
        raise
    except Exception as e:
        raw = ws.raw
        log.exception(e, "%s: WebSocket handler failed: %s: %s", raw.path, type(e).__name__, e)
        if ws._state == _CONNECTING:
            ws._state = _CLOSED
            ws.app._answer_500(raw, ws.srv, e)
        elif ws._state == _OPEN:
            await ws.close(1011, "internal error")
