"""In-process test client: builds raw request bytes, parses them with the same parser the
server uses (`_mfa.parse_request` when present, else microfastapi.parser) and dispatches them
through the app, with the TestClient standing in for the network server.

    from microfastapi.testclient import TestClient
    client = TestClient(app)
    r = client.get("/items/3?q=x")
    assert r.status_code == 200 and r.json() == {"item_id": 3, "q": "x"}
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from . import backend
from .wire import REASONS, Request, check_headers, check_status, encode_body

try:
    import asyncio
except ImportError:  # pragma: no cover
    asyncio = None


def _in_loop():
    """True when called from inside a running event loop (then no new one can be run)."""
    try:
        asyncio.current_task()
    except RuntimeError:
        return False
    except AttributeError:  # pragma: no cover (an asyncio without current_task)
        return False
    return True




class TestResponse:
    """What the client received: status_code, headers (case-insensitive get), content, text,
    json(), chunked (True when the app streamed it without a Content-Length), aborted (True when
    the server reset the connection instead of ending the answer: a streamed body whose
    iterator raised, or one shorter than its Content-Length)."""

    def __init__(self, status_code, headers, content, chunked=False, aborted=False):
        self.aborted = aborted
        self.status_code = status_code
        self.header_list = headers
        self.content = content
        self.chunked = chunked
        self.reason = REASONS.get(status_code, "")

    @property
    def headers(self):
        return _CIHeaders(self.header_list)

    @property
    def text(self):
        return self.content.decode()

    def json(self):
        return json.loads(self.content)

    def __repr__(self):
        return "<TestResponse %d>" % self.status_code


class _CIHeaders:
    def __init__(self, pairs):
        self._pairs = pairs

    def get(self, name, default=None):
        name = name.lower()
        for k, v in self._pairs:
            if k.lower() == name:
                return v
        return default

    def getlist(self, name):
        name = name.lower()
        return [v for k, v in self._pairs if k.lower() == name]

    def __getitem__(self, name):
        v = self.get(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name):
        return self.get(name) is not None


def _quote(s):
    out = []
    for ch in str(s):
        if ch.isalpha() and ord(ch) < 128 or ch.isdigit() or ch in "-_.~":
            out.append(ch)
        else:
            for b in ch.encode():
                out.append("%%%02X" % b)
    return "".join(out)


def urlencode(params):
    items = params.items() if hasattr(params, "items") else params
    return "&".join(_quote(k) + "=" + _quote(v) for k, v in items)


def _verb(method):
    """A client method for one HTTP method: (self, path, **kw) -> self.request(method, ...)."""
    def call(self, path, **kw):
        return self.request(method, path, **kw)
    return call


class TestClient:
    """Dispatch requests to `app` in-process. Cookies set by responses are sent back."""

    __test__ = False  # not a pytest test class

    def __init__(self, app, client=("testclient", 50000), cookies=True):
        self.app = app
        self.client = client
        self.cookies = {} if cookies else None
        self._resp = None
        self._left = None  # a stream with the app's Content-Length: bytes still owed
        self._ws = None  # the open websocket_connect() session

    # ---- the server surface the app talks to ------------------------------------------

    def respond(self, req, status, headers, body):
        check_status(status)
        check_headers(headers)
        body = encode_body(body)
        self._resp = [status, list(headers), body, False]

    def stream_start(self, req, status, headers):
        check_status(status)
        check_headers(headers)
        # The app's Content-Length (a file): unframed, as the servers send it (not chunked);
        # more bytes than it says are dropped, fewer abort (see stream_end).
        length = None
        for k, v in headers:
            if k.lower() == "content-length":
                if not v.isdigit():
                    raise ValueError("bad Content-Length %r" % (v,))
                length = int(v)
        self._left = length
        self._resp = [status, list(headers), bytearray(), length is None]

    def stream_send(self, req, data):
        ws = self._ws
        if ws is not None and ws.raw is req and ws.upgraded:
            if ws.gone or ws.closed_by_server:
                raise OSError(104, "connection reset")
            ws.from_server += data
            return True
        left = self._left
        if left is not None:
            data = data[:left]
            self._left = left - len(data)
        self._resp[2] += data
        return True

    def stream_end(self, req):
        ws = self._ws
        if ws is not None and ws.raw is req and ws.upgraded:
            ws.closed_by_server = True
            return
        if self._left and self._resp[0] not in (204, 304) and self._resp[0] >= 200 and \
                req.method != "HEAD":
            self._aborted = True  # fewer bytes than the Content-Length: a server resets
        self._resp[2] = bytes(self._resp[2])

    def gone(self, req):
        ws = self._ws
        return ws is not None and ws.raw is req and ws.gone  # the test is always there

    # (an upgraded connection: websocket_connect)
    def upgrade(self, req, headers):
        check_headers(headers)
        self._resp = [101, list(headers), b"", False]
        self._ws.upgraded = True

    def recv(self, req):
        ws = self._ws
        if ws.gone:
            raise OSError(104, "connection reset")
        if not ws.to_server:
            return None if ws.eof else b""
        data = bytes(ws.to_server)
        ws.to_server = bytearray()
        return data

    def readable(self):
        return None  # (the session wakes the app's WebSocket itself)

    def abort(self, req):
        ws = self._ws
        if ws is not None and ws.raw is req and ws.upgraded:
            ws.closed_by_server = ws.reset = True
            return
        if self._resp is not None:
            self._aborted = True

    # ---- running the app --------------------------------------------------------------

    def _dispatch(self, raw):
        """Answer `raw` like app.serve() does: in an event loop (asyncio.run), so async
        handlers and async stream iterators may really await. Inside a running loop (a test
        that is itself async) no loop can be started: then async handlers must not suspend,
        as under app.poll()."""
        app = self.app
        if asyncio is None or _in_loop():
            app.handle_sync(raw, self)
            while app._streams:
                app._pump_all()
            return
        asyncio.run(self._drive(raw))

    async def _drive(self, raw):
        app = self.app
        app._loop = True
        try:
            app._dispatch(raw, self)
            while app._tasks:  # the answer's task, then its stream's task, if any
                entry = app._tasks[0]
                try:
                    await entry[1]
                except (Exception, asyncio.CancelledError):
                    pass  # (the app answered the error already)
                if app._tasks and app._tasks[0] is entry:
                    app._tasks.pop(0)
        finally:
            app._loop = False

    # ---- requests ---------------------------------------------------------------------

    def build(self, method, path, headers=None, body=b"", params=None):
        """The raw request bytes."""
        if params:
            path = path + ("&" if "?" in path else "?") + urlencode(params)
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: testserver"]
        have = set()
        items = headers.items() if hasattr(headers, "items") else (headers or ())
        for k, v in items:
            lines.append("%s: %s" % (k, v))
            have.add(k.lower())
        if self.cookies and "cookie" not in have:
            lines.append("Cookie: " + "; ".join("%s=%s" % kv for kv in self.cookies.items()))
        if body and "transfer-encoding" not in have:
            lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def request(self, method, path, headers=None, body=None, json=None, data=None,
                params=None, content=None, files=None):
        """`files` as in requests: {name: content} or {name: (filename, content[,
        content_type])}, sent multipart/form-data with the fields of `data`."""
        if content is not None:
            body = content
        hdrs = list(headers.items()) if hasattr(headers, "items") else list(headers or ())
        if files is not None:
            body, ct = encode_multipart(data or {}, files)
            hdrs.append(("Content-Type", ct))
        elif json is not None:
            body = _dumps(json).encode()
            hdrs.append(("Content-Type", "application/json"))
        elif data is not None:
            if isinstance(data, (bytes, str)):
                body = data
            else:
                body = urlencode(data)
                hdrs.append(("Content-Type", "application/x-www-form-urlencoded"))
        if body is None:
            body = b""
        elif isinstance(body, str):
            body = body.encode()
        return self.send_raw(self.build(method.upper(), path, hdrs, body))

    def send_raw(self, buf):
        """Parse raw request bytes like the server does and dispatch them; a parse error is
        answered as the server would (status from ParseError, Connection: close)."""
        raw = self.parse_raw(buf)
        if isinstance(raw, TestResponse):
            return raw
        self._dispatch(raw)
        return self.take_response(raw)

    def parse_raw(self, buf):
        """The server's request object for raw request bytes (or the TestResponse of a
        parse error). send_raw's first half; an async client awaits _drive(raw) and then
        calls take_response(raw) (microfastapi.compat.microdot.test_client)."""
        try:
            head = backend.parse_request(buf)
        except backend.ParseError as e:
            st, reason = e.args
            return TestResponse(st, [("Content-Type", "text/plain"), ("Connection", "close")],
                                reason.encode())
        if head is None:
            raise ValueError("incomplete request")
        body = bytes(buf[head.header_len:])
        if head.chunked:
            dec = backend.chunked_decoder()
            body, used = dec.feed(body)
            if not dec.done:
                raise ValueError("incomplete chunked body")
        elif head.content_length is not None:
            body = body[:head.content_length]
        self._resp = None
        self._aborted = False
        return Request(head, body, self.client)

    def take_response(self, raw):
        """The TestResponse of the request just dispatched (None when the app answered
        nothing: it aborted the connection); keeps its cookies."""
        if self._resp is None:
            return None
        head = raw._head
        st, hdrs, content, chunked = self._resp
        if head.method == "HEAD":
            content = b""
        r = TestResponse(st, hdrs, bytes(content), chunked, self._aborted)
        if self.cookies is not None:
            for v in r.headers.getlist("set-cookie"):
                kv = v.split(";", 1)[0]
                i = kv.find("=")
                if i > 0:
                    k, val = kv[:i].strip(), kv[i + 1:].strip()
                    if "Max-Age=0" in v:
                        self.cookies.pop(k, None)
                    else:
                        self.cookies[k] = val
        return r

    def websocket_connect(self, path, subprotocols=None, headers=None):
        """Open a WebSocket to the app's endpoint at `path`; use it as a context manager:

            with client.websocket_connect("/ws") as ws:
                ws.send_text("hi")
                assert ws.receive_text() == "hi"

        Raises WebSocketRejected (with .response) when the app answers the handshake with
        anything but 101 (400/426 for a bad handshake, 403 when the handler closes before
        accepting, 404, ...)."""
        return WebSocketSession(self, path, subprotocols, headers)

    # client.get(path, **kw) is client.request("GET", path, **kw); likewise for the others.
    get = _verb("GET")
    post = _verb("POST")
    put = _verb("PUT")
    patch = _verb("PATCH")
    delete = _verb("DELETE")
    head = _verb("HEAD")
    options = _verb("OPTIONS")


def _dumps(obj):
    return json.dumps(obj)


class WebSocketTimeout(Exception):
    """The WebSocket handler did not do what a session call waited for (within 5 s)."""


class WebSocketRejected(Exception):
    """websocket_connect(): the app did not accept the handshake; `response` is its answer."""

    def __init__(self, response):
        Exception.__init__(self, response.status_code, response.content)
        self.response = response


class WebSocketSession:
    """The test's side of one WebSocket (TestClient.websocket_connect). Every call runs the
    app's event loop until the handler has done what the call waits for. Methods:
    send_text/send_bytes/send_json/send_ping, receive()/receive_text()/receive_bytes()/
    receive_json() (the next message; WebSocketDisconnect once the server closed), close(),
    and after the close `close_code`/`close_reason`. `subprotocol`: what the app accepted."""

    __test__ = False

    def __init__(self, client, path, subprotocols, headers):
        self.client = client
        self.path = path
        self.subprotocols = subprotocols
        self.headers = headers
        self.raw = None
        self.upgraded = False
        self.to_server = bytearray()
        self.from_server = bytearray()
        self.eof = False            # the test half-closed (close())
        self.gone = False           # the test "dropped" the connection (drop())
        self.closed_by_server = False
        self.reset = False
        self.close_code = None
        self.close_reason = ""
        self.subprotocol = None
        self.response = None
        self._events = []
        self._reader = None
        self._loop = None
        self._mask = 0

    # ---- opening and closing ------------------------------------------------------------

    def __enter__(self):
        c = self.client
        if c._ws is not None:
            raise RuntimeError("one websocket_connect() at a time")
        hdrs = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13")]
        if self.subprotocols:
            hdrs.append(("Sec-WebSocket-Protocol", ", ".join(self.subprotocols)))
        items = self.headers.items() if hasattr(self.headers, "items") else (self.headers or ())
        hdrs.extend(items)
        buf = c.build("GET", self.path, hdrs)
        head = backend.parse_request(buf)
        self.raw = Request(head, b"", c.client)
        c._ws = self
        c._resp = None
        app = c.app
        self._loop = asyncio.new_event_loop()
        app._loop = True

        async def start():
            app._dispatch(self.raw, c)  # (tasks are made inside the loop: CPython needs it)
        self._loop.run_until_complete(start())
        self._run(lambda: c._resp is not None)
        st, hdrs, content, chunked = c._resp
        self.response = TestResponse(st, hdrs, bytes(content), chunked)
        if st != 101:
            self._finish()
            raise WebSocketRejected(self.response)
        self.subprotocol = self.response.headers.get("sec-websocket-protocol")
        from .websocket import WsReader
        self._reader = WsReader(1 << 24, True)
        return self

    def __exit__(self, *exc):
        try:
            if not self.closed_by_server and not self.gone:
                self.close()
        finally:
            self._finish()
        return False

    def _finish(self):
        c = self.client
        app = c.app
        try:
            for raw, task, what in list(app._tasks):
                if raw is self.raw:
                    task.cancel()
            self._run(lambda: not app._tasks or all(t[0] is not self.raw for t in app._tasks),
                      quiet=True)
        finally:
            app._loop = False
            c._ws = None

    def _run(self, done, quiet=False, limit_ms=5000):
        """Run the app's loop until done() (or the handler task ended, or limit_ms)."""
        async def until():
            t = 0
            while not done():
                if not any(e[0] is self.raw for e in self.client.app._tasks) and not quiet:
                    return  # the handler ended: nothing more will come
                await asyncio.sleep(0.001)
                t += 1
                if t > limit_ms:
                    raise WebSocketTimeout("the WebSocket handler did not answer in time")
        self._loop.run_until_complete(until())

    def _wake(self):
        for ws in self.client.app._wss:
            if ws.raw is self.raw:
                ws.wake()

    # ---- sending ------------------------------------------------------------------------

    def _send(self, opcode, payload, fin=True):
        if self.eof or self.gone:
            raise RuntimeError("the WebSocket is closed")
        self._mask = (self._mask + 0x9E3779B1) & 0xFFFFFFFF
        mask = bytes(((self._mask >> 24) & 255, (self._mask >> 16) & 255,
                      (self._mask >> 8) & 255, self._mask & 255))
        from .websocket import ws_frame
        self.send_raw(ws_frame(opcode, payload, fin, mask))

    def send_raw(self, data):
        """Bytes as they are onto the connection (a hand-made frame, half a frame, ...)."""
        self.to_server += data
        self._wake()
        self._run(lambda: not self.to_server)

    def send_text(self, s):
        self._send(1, s)

    def send_bytes(self, b):
        self._send(2, b)

    def send_json(self, obj):
        self._send(1, _dumps(obj))

    def send_ping(self, payload=b""):
        self._send(9, payload)

    def send_close(self, code=1000, reason=""):
        self._send(8, bytes((code >> 8, code & 255)) + reason.encode())

    # ---- receiving ----------------------------------------------------------------------

    def _take(self):
        if self.from_server:
            data = bytes(self.from_server)
            self.from_server = bytearray()
            self._events.extend(self._reader.feed(data))

    def receive_event(self):
        """The next frame event from the server as WsReader gives it: (1, str), (2, bytes),
        (9, ping), (10, pong) or (8, code, reason)."""
        self._run(lambda: self.from_server or self._events or self.closed_by_server)
        self._take()
        if not self._events:
            if self.closed_by_server or self.reset:
                from .websocket import WebSocketDisconnect
                raise WebSocketDisconnect(self.close_code or 1006, self.close_reason)
            raise WebSocketTimeout("no message from the WebSocket handler")
        return self._events.pop(0)

    def receive(self):
        """The next text (str) or binary (bytes) message; WebSocketDisconnect at a close."""
        from .websocket import WebSocketDisconnect
        while True:
            ev = self.receive_event()
            if ev[0] == 1 or ev[0] == 2:
                return ev[1]
            if ev[0] == 8:
                self.close_code, self.close_reason = ev[1], ev[2]
                if not self.eof:
                    self._send(8, b"" if ev[1] == 1005 else bytes((ev[1] >> 8, ev[1] & 255)))
                    self.eof = True
                raise WebSocketDisconnect(ev[1], ev[2])

    def receive_text(self):
        m = self.receive()
        if type(m) is not str:
            raise TypeError("expected a text message, got %r" % (m,))
        return m

    def receive_bytes(self):
        m = self.receive()
        if type(m) is str:
            raise TypeError("expected a binary message, got %r" % (m,))
        return m

    def receive_json(self):
        return json.loads(self.receive())

    def close(self, code=1000, reason=""):
        """Send a close frame and wait for the server's; close_code is then the server's."""
        from .websocket import WebSocketDisconnect
        if self.eof or self.gone or self.closed_by_server and not self.from_server:
            return
        self.send_close(code, reason)
        self.eof = True
        try:
            while True:
                ev = self.receive_event()
                if ev[0] == 8:
                    self.close_code, self.close_reason = ev[1], ev[2]
                    return
        except (WebSocketDisconnect, WebSocketTimeout):
            return

    def drop(self):
        """Vanish without a close frame (a client whose WiFi dropped)."""
        self.gone = True
        self._wake()
        self._run(lambda: False)


_BOUNDARY = "mfa-testclient-7d41a0c3b2e9"


def encode_multipart(data, files):
    """(body, content type) of a multipart/form-data body: the fields of `data` (str values,
    or lists of them), then `files` ({name: content | (filename, content[, type])})."""
    out = []
    b = _BOUNDARY.encode()

    def part(disp, ctype, content):
        out.append(b"--" + b + b"\r\nContent-Disposition: form-data; " + disp.encode())
        if ctype:
            out.append(b"\r\nContent-Type: " + ctype.encode())
        out.append(b"\r\n\r\n")
        out.append(content if isinstance(content, (bytes, bytearray)) else str(content).encode())
        out.append(b"\r\n")

    for k, v in (data.items() if hasattr(data, "items") else data):
        for x in (v if isinstance(v, (list, tuple)) else [v]):
            part('name="%s"' % _q(k), None, x)
    for k, v in (files.items() if hasattr(files, "items") else files):
        if isinstance(v, (tuple, list)):
            fname, content = v[0], v[1]
            ctype = v[2] if len(v) > 2 else "application/octet-stream"
        else:
            fname, content, ctype = k, v, "application/octet-stream"
        if hasattr(content, "read"):
            content = content.read()
        part('name="%s"; filename="%s"' % (_q(k), _q(fname)), ctype, content)
    out.append(b"--" + b + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=" + _BOUNDARY


def _q(s):
    # (what browsers do with a quote or a line break in a name: percent-encoded)
    return s.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
