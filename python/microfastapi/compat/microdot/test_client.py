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

    def _render(self, method, path, headers, body):
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
        lines = ["%s %s HTTP/1.0" % (method, path)]
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
