"""Microdot's test client (microdot.test_client) on microfastapi's TestClient: the request is
rendered to bytes, parsed by the server's parser and dispatched through the app's core in
the running event loop, so what a test sees is what our server sends (status, headers, body),
read back into Microdot's TestResponse shape.

    client = TestClient(app)
    res = await client.get('/')
    assert res.status_code == 200 and res.text == 'hi'
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

try:
    import asyncio
except ImportError:  # pragma: no cover
    import uasyncio as asyncio

from ...testclient import TestClient as _NativeClient, TestResponse as _NativeResponse
from .core import NoCaseDict

__all__ = ["TestClient", "TestResponse"]


class TestResponse:
    """status_code, reason, headers (a NoCaseDict, Set-Cookie as a list), body (bytes),
    text, json, events (the parsed events of an SSE answer)."""

    __test__ = False

    def __init__(self):
        self.status_code = None
        self.reason = None
        self.headers = {}
        self.body = None
        self.text = None
        self.json = None
        self.events = None

    @classmethod
    def _from_native(cls, r, head, length=None):
        t = cls()
        t.status_code = r.status_code
        h = NoCaseDict()
        for k, v in r.header_list:
            if k.lower() == "set-cookie":
                h.setdefault("Set-Cookie", []).append(v)
            else:
                h[k] = v
        if not r.chunked and "Content-Length" not in h:
            # (what our server adds on the wire; for HEAD the length of the body not sent)
            h["Content-Length"] = str(len(r.content) if length is None else length)
        t.headers = h
        if head:
            return t
        t.body = r.content
        try:
            t.text = t.body.decode()
        except ValueError:
            pass
        ct = h.get("Content-Type", "").split(";")[0]
        if ct == "application/json" and t.text is not None:
            t.json = json.loads(t.text)
        elif ct == "text/event-stream":
            t.events = _sse_events(t.body)
        return t


def _sse_events(body):
    events = []
    for chunk in body.split(b"\n\n"):
        data = event = event_id = retry = None
        for line in chunk.split(b"\n"):
            if line.startswith(b"data:"):
                data = line[5:].strip()
            elif line.startswith(b"event:"):
                event = line[6:].strip().decode()
            elif line.startswith(b"id:"):
                event_id = line[3:].strip().decode()
            elif line.startswith(b"retry:"):
                retry = int(line[6:].strip()) / 1000
        if data:
            try:
                dj = json.loads(data)
            except ValueError:
                dj = None
            events.append({"data": data, "data_json": dj, "event": event,
                           "event_id": event_id, "retry": retry})
    return events


class TestClient:
    """An async client for a Microdot app: `await client.get(path, headers=...)`,
    post/put/patch/delete/query/request(method, path, headers, body). Cookies the app sets
    are kept and sent back (`cookies`: a dict, or name -> (value, path))."""

    __test__ = False

    def __init__(self, app, cookies=None, scheme=None, host=None):
        self.app = app
        self.cookies = cookies or {}
        self.scheme = scheme
        self.host = host or "example.com:1234"
        self._native = _NativeClient(app.core, client=("127.0.0.1", 1234), cookies=False)

    def _render(self, method, path, headers, body, version="1.0"):
        if body is None:
            body = b""
        elif isinstance(body, (dict, list)):
            body = json.dumps(body)
            if "Content-Type" not in headers:
                headers["Content-Type"] = "application/json"
        if isinstance(body, str):
            body = body.encode()
        if body and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(body))
        ck = []
        for name, value in self.cookies.items():
            if isinstance(value, tuple):
                value, cpath = value
                if not path.startswith(cpath):
                    continue
            ck.append(name + "=" + value)
        if ck:
            ck = "; ".join(ck)
            headers["Cookie"] = headers["Cookie"] + "; " + ck if "Cookie" in headers else ck
        lines = ["%s %s HTTP/%s" % (method, path, version)]
        if "Host" not in headers:
            lines.append("Host: " + self.host)
        for k, v in headers.items():
            # (a value cannot hold a line break on the wire: trimmed, as HTTP clients do)
            lines.append("%s: %s" % (k, str(v).strip()))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _update_cookies(self, res):
        for cookie in res.headers.get("Set-Cookie", []):
            name, rest = cookie.split("=", 1)
            opts = rest.split(";")
            path = "/"
            delete = False
            for o in opts[1:]:
                o = o.strip().lower()
                if o.startswith("max-age="):
                    try:
                        delete = int(o[8:]) <= 0
                    except ValueError:
                        delete = True
                elif o.startswith("expires="):
                    if "1 jan 1970" in o:
                        delete = True
                elif o.startswith("path="):
                    path = o[5:]
            if delete:
                if name in self.cookies:
                    v = self.cookies[name]
                    if path == (v[1] if isinstance(v, tuple) else "/"):
                        del self.cookies[name]
            elif path == "/":
                self.cookies[name] = opts[0]
            else:
                self.cookies[name] = (opts[0], path)

    async def request(self, method, path, headers=None, body=None, sock=None):
        headers = NoCaseDict(headers or {})
        buf = self._render(method, path, headers, body)
        nc = self._native
        raw = nc.parse_raw(buf)
        if isinstance(raw, _NativeResponse):  # our parser refused it: the server's answer
            return TestResponse._from_native(raw, False)
        if self.scheme:
            raw.scheme = self.scheme
        await nc._drive(raw)
        length = len(nc._resp[2]) if nc._resp is not None else 0  # (before HEAD empties it)
        r = nc.take_response(raw)
        if r is None:  # the app sent nothing itself (Response.already_handled)
            return TestResponse()
        res = TestResponse._from_native(r, method == "HEAD", length)
        self._update_cookies(res)
        return res

    async def get(self, path, headers=None):
        return await self.request("GET", path, headers=headers)

    async def post(self, path, headers=None, body=None):
        return await self.request("POST", path, headers=headers, body=body)

    async def put(self, path, headers=None, body=None):
        return await self.request("PUT", path, headers=headers, body=body)

    async def patch(self, path, headers=None, body=None):
        return await self.request("PATCH", path, headers=headers, body=body)

    async def delete(self, path, headers=None):
        return await self.request("DELETE", path, headers=headers)

    async def query(self, path, headers=None, body=None):
        return await self.request("QUERY", path, headers=headers, body=body)

    async def websocket(self, path, client, headers=None):
        """Open a WebSocket to `path` and drive it with `client`, a generator function (sync
        or async): each message it yields is sent, and the server's answer is sent back into
        it, until it ends or the server closes. Returns a TestResponse with body None once
        the connection is up (the handshake's error answer otherwise)."""
        hdrs = NoCaseDict({"Upgrade": "websocket", "Connection": "Upgrade",
                           "Sec-WebSocket-Version": "13",
                           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
        hdrs.update(headers or {})
        nc = self._native
        raw = nc.parse_raw(self._render("GET", path, hdrs, None, "1.1"))
        if isinstance(raw, _NativeResponse):
            return TestResponse._from_native(raw, False)
        pipe = _Pipe(raw)
        core = self.app.core
        nc._ws = pipe
        core._loop = True
        try:
            core._dispatch(raw, nc)
            await pipe.until(core, lambda: nc._resp is not None)
            r = nc._resp
            if r is None or r[0] != 101:
                while any(t[0] is raw for t in core._tasks):
                    await asyncio.sleep(0.001)
                r = nc.take_response(raw)
                return TestResponse._from_native(r, False) if r else TestResponse()
            await pipe.converse(core, client())
        finally:
            for t in list(core._tasks):
                if t[0] is raw:
                    t[1].cancel()
            await asyncio.sleep(0)
            core._loop = False
            nc._ws = None
        return TestResponse()


class _Pipe:
    """The test's end of one upgraded connection, in the shape microfastapi's TestClient
    serves a WebSocket through (to_server, from_server, the close flags)."""

    def __init__(self, raw):
        from ...backend import WsReader
        self.raw = raw
        self.upgraded = False
        self.to_server = bytearray()
        self.from_server = bytearray()
        self.eof = self.gone = self.closed_by_server = self.reset = False
        self.reader = WsReader(1 << 24, True)
        self.events = []
        self.mask = 0x2545F491

    def _alive(self, core):
        return any(t[0] is self.raw for t in core._tasks)

    async def until(self, core, done, limit_ms=5000):
        t = 0
        while not done() and self._alive(core) and t < limit_ms:
            await asyncio.sleep(0.001)
            t += 1

    def _frame(self, opcode, payload):
        from ...backend import ws_frame
        self.mask = (self.mask * 1103515245 + 12345) & 0xFFFFFFFF
        m = self.mask
        return ws_frame(opcode, payload, True, bytes(((m >> 24) & 255, (m >> 16) & 255,
                                                      (m >> 8) & 255, m & 255)))

    def _send(self, core, frame):
        self.to_server += frame
        for ws in core._wss:
            if ws.raw is self.raw:
                ws.wake()

    def _message(self):
        """The next text/binary message the server sent, None if none yet; False once it
        closed."""
        if self.from_server:
            data = bytes(self.from_server)
            self.from_server = bytearray()
            self.events.extend(self.reader.feed(data))
        while self.events:
            ev = self.events.pop(0)
            if ev[0] == 1 or ev[0] == 2:
                return ev[1]
            if ev[0] == 8:
                return False
        return False if self.closed_by_server else None

    async def converse(self, core, gen):
        reply = None
        while True:
            try:
                msg = await gen.asend(reply) if hasattr(gen, "asend") else gen.send(reply)
            except (StopIteration, StopAsyncIteration):
                break
            self._send(core, self._frame(1 if isinstance(msg, str) else 2, msg))
            got = []

            def answered():
                m = self._message()
                if m is not None:
                    got.append(m)
                return bool(got)
            await self.until(core, answered)
            if not got or got[0] is False:
                break  # the server closed (or the handler ended): the client stops here
            reply = got[0]
        if not self.closed_by_server:
            self._send(core, self._frame(8, b"\x03\xe8"))  # close 1000
            await self.until(core, lambda: self.closed_by_server, 1000)
