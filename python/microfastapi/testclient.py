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
    json(), chunked (True when the app streamed it), aborted (True when the server reset the
    connection instead of ending the answer: a streamed body whose iterator raised)."""

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

    # ---- the server surface the app talks to ------------------------------------------

    def respond(self, req, status, headers, body):
        check_status(status)
        check_headers(headers)
        body = encode_body(body)
        self._resp = [status, list(headers), body, False]

    def stream_start(self, req, status, headers):
        check_status(status)
        self._resp = [status, list(headers), bytearray(), True]

    def stream_send(self, req, data):
        self._resp[2] += data
        return True

    def stream_end(self, req):
        self._resp[2] = bytes(self._resp[2])

    def gone(self, req):
        return False  # the test is always there

    def abort(self, req):
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
                params=None, content=None):
        if content is not None:
            body = content
        hdrs = list(headers.items()) if hasattr(headers, "items") else list(headers or ())
        if json is not None:
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
        raw = Request(head, body, self.client)
        self._resp = None
        self._aborted = False
        self._dispatch(raw)
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
