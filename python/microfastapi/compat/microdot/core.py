"""Microdot 2.7's core API (Microdot, Request, Response, URLPattern, abort, redirect,
send_file) on microfastapi. Written from Microdot's documented behaviour and its test suite;
the network, the HTTP parser and the framing are microfastapi's (`_mfa` when present).

How it plugs in: a Microdot app owns a MicroFastApi app (`app.core`, no routes of its own)
whose per-request entry `handle(raw, srv)` is replaced by this module's dispatcher, so every
request the server parses goes through Microdot's rules (its URL patterns, hooks, error
handlers, return values) and the answer goes back through the core's send path (fixed bodies
framed by the server, iterators streamed chunked).
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

import re

from ... import backend
from ...app import MicroFastApi
from ...response import Response as _NativeResponse, StreamingResponse as _NativeStream
from ...wire import REASONS

try:
    _StopAsync = StopAsyncIteration
except NameError:  # pragma: no cover
    _StopAsync = StopIteration


def iscoroutine(r):
    """True for what an `async def` call returns (a generator object on MicroPython)."""
    return hasattr(r, "send") and hasattr(r, "throw")


async def invoke_handler(fn, *args, **kwargs):
    """Call a sync or async handler and return its result. (Microdot on CPython runs sync
    handlers in a thread pool; here they run in the event loop, as Microdot does on
    MicroPython: a sync handler that blocks holds up the other connections.)"""
    r = fn(*args, **kwargs)
    if iscoroutine(r):
        r = await r
    return r


def _print_exception(e):
    try:
        from sys import print_exception
    except ImportError:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__)
        return
    print_exception(e)


# ---- URL encoding ---------------------------------------------------------------------------

def urldecode(s):
    """'+' is a space, %XX a byte; the result is decoded as UTF-8 (str or bytes in)."""
    if isinstance(s, str):
        s = s.encode()
    s = s.replace(b"+", b" ")
    if b"%" not in s:
        return s.decode()
    out = bytearray()
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == 37 and i + 3 <= n:
            try:
                out.append(int(s[i + 1:i + 3], 16))
                i += 3
                continue
            except ValueError:
                pass  # (not an escape: the '%' stays)
        out.append(c)
        i += 1
    return bytes(out).decode()


def urlencode(s):
    """Microdot's form/query encoding of one value: the characters that would change its
    meaning in a query string are escaped, a space becomes '+'."""
    return s.replace("+", "%2B").replace(" ", "+").replace("%", "%25").replace(
        "?", "%3F").replace("#", "%23").replace("&", "%26").replace("=", "%3D")


# ---- dictionaries ---------------------------------------------------------------------------

class NoCaseDict(dict):
    """A dict with case-insensitive str keys that keeps the spelling a key was first set
    with (headers)."""

    def __init__(self, initial_dict=None):
        super().__init__()
        self.keymap = {}  # lower-case key -> the stored spelling
        if initial_dict:
            for k, v in initial_dict.items():
                self[k] = v

    def _key(self, key):
        return self.keymap.get(key.lower(), key)

    def __setitem__(self, key, value):
        low = key.lower()
        stored = self.keymap.get(low)
        if stored is None:
            self.keymap[low] = stored = key
        super().__setitem__(stored, value)

    def __getitem__(self, key):
        return super().__getitem__(self._key(key))

    def __delitem__(self, key):
        low = key.lower()
        super().__delitem__(self.keymap.get(low, key))
        self.keymap.pop(low, None)

    def __contains__(self, key):
        return self._key(key) in self.keys()

    def get(self, key, default=None):
        return super().get(self._key(key), default)

    def pop(self, key, *default):
        low = key.lower()
        k = self.keymap.pop(low, key)
        return super().pop(k, *default)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, other_dict):
        for k, v in other_dict.items():
            self[k] = v


class MultiDict(dict):
    """A dict whose keys may hold several values: d[k] and get() give the first, getlist()
    all of them; setting a key adds a value."""

    def __init__(self, initial_dict=None):
        super().__init__()
        if initial_dict:
            for k, v in initial_dict.items():
                self[k] = v

    def __setitem__(self, key, value):
        if key not in self:
            super().__setitem__(key, [])
        super().__getitem__(key).append(value)

    def __getitem__(self, key):
        return super().__getitem__(key)[0]

    def get(self, key, default=None, type=None):
        if key not in self:
            return default
        v = self[key]
        return v if type is None else type(v)

    def getlist(self, key, type=None):
        if key not in self:
            return []
        vs = super().__getitem__(key)
        return list(vs) if type is None else [type(v) for v in vs]


def _parse_urlencoded(data):
    """A query string or form body (str or bytes) as a MultiDict of decoded str."""
    d = MultiDict()
    if not data:
        return d
    amp, eq = ("&", "=") if isinstance(data, str) else (b"&", b"=")
    for pair in data.split(amp):
        if not pair:
            continue
        kv = pair.split(eq, 1)
        d[urldecode(kv[0])] = urldecode(kv[1]) if len(kv) > 1 else ""
    return d


class AsyncBytesIO:
    """An in-memory byte stream with the async read methods of an asyncio StreamReader."""

    def __init__(self, data):
        self._data = bytes(data)
        self._pos = 0

    def _take(self, n):
        d = self._data
        if n is None or n < 0:
            n = len(d) - self._pos
        r = d[self._pos:self._pos + n]
        self._pos += len(r)
        return r

    async def read(self, n=-1):
        return self._take(n)

    async def readline(self):
        i = self._data.find(b"\n", self._pos)
        return self._take(len(self._data) - self._pos if i < 0 else i + 1 - self._pos)

    async def readexactly(self, n):
        return self._take(n)

    async def readuntil(self, separator=b"\n"):
        i = self._data.find(separator, self._pos)
        if i < 0:
            return self._take(-1)
        return self._take(i + len(separator) - self._pos)

    async def awrite(self, data):
        self._data = self._data[:self._pos] + bytes(data)
        self._pos = len(self._data)

    async def aclose(self):
        pass


def _title(name):
    """'content-type' -> 'Content-Type'. Our parsers hand header names over lower-cased;
    Microdot keeps them as sent, which for nearly every client is this spelling."""
    if "-" not in name:
        return name[:1].upper() + name[1:]
    return "-".join(p[:1].upper() + p[1:] for p in name.split("-"))


# ---- the request ----------------------------------------------------------------------------

class Request:
    """What a Microdot handler receives: method, url, path, query_string, args, headers,
    cookies, content_length, content_type, body, stream, json, form, files, g, scheme,
    client_addr, url_prefix, subapp, route; after_request() for this request only."""

    max_content_length = 16 * 1024  # larger bodies are answered 413
    max_body_length = 16 * 1024     # (bodies are always whole here: see the migration guide)
    max_readline = 2 * 1024         # the longest request or header line Request.create reads

    class G:
        pass

    def __init__(self, app, client_addr, method, url, http_version, headers, body=None,
                 stream=None, sock=None, url_prefix="", subapp=None, scheme=None, route=None):
        self.app = app
        self.client_addr = client_addr
        self.method = method
        self.scheme = scheme or "http"
        self.url = url
        self.url_prefix = url_prefix
        self.subapp = subapp
        self.route = route
        self.path = url
        self.query_string = None
        self.args = MultiDict()
        if not isinstance(headers, NoCaseDict):
            headers = NoCaseDict(headers)
        self.headers = headers
        self.cookies = {}
        self.content_length = 0
        self.content_type = None
        self.g = Request.G()
        self.http_version = http_version
        self.url_args = None
        if "?" in url:
            self.path, self.query_string = url.split("?", 1)
            self.args = _parse_urlencoded(self.query_string)
        cl = headers.get("Content-Length")
        if cl is not None:
            self.content_length = int(cl)
        self.content_type = headers.get("Content-Type")
        ck = headers.get("Cookie")
        if ck:
            for c in ck.split(";"):
                kv = c.strip().split("=", 1)
                self.cookies[kv[0]] = kv[1] if len(kv) > 1 else ""
        self._body = body if body is not None else b""
        self._stream = stream
        self.body_used = False
        self.sock = sock
        self._json = None
        self._form = None
        self._files = None
        self.after_request_handlers = []

    @classmethod
    def _from_raw(cls, app, raw):
        """The Request for a request our server (or TestClient) parsed."""
        headers = NoCaseDict()
        for k, v in raw.headers:
            k = _title(k)
            if k in headers:  # a repeated header: the values joined, as HTTP allows
                headers[k] = headers[k] + ", " + v
            else:
                headers[k] = v
        url = raw.path
        if raw.query:
            url += "?" + raw.query
        body = raw.body
        # (Microdot's own server says "1.1", its ASGI and WSGI adapters "HTTP/1.1")
        version = getattr(app, "http_version_prefix", "") + raw.version
        return cls(app, raw.client, raw.method, url, version, headers,
                   bytes(body) if body is not None else b"", scheme=getattr(raw, "scheme", None))

    @staticmethod
    async def create(app, client_reader, client_writer, client_addr, scheme=None):
        """Read one request from an asyncio stream pair (Microdot's own entry; our servers
        parse with microfastapi's parser instead, which this uses too). None at EOF."""
        head = bytearray()
        first = True
        while True:
            line = await client_reader.readline()
            if len(line) > Request.max_readline:
                raise ValueError("line too long")
            if first:
                if not line.strip():
                    return None
                first = False
            head += line
            if not line.strip():
                break
        buf = bytes(head)
        if b"\r\n" not in buf:  # (bare LF lines, as Microdot's test client writes them)
            buf = buf.replace(b"\n", b"\r\n")
        h = backend.parse_request(buf)
        if h is None:
            raise ValueError("incomplete request")
        headers = NoCaseDict()
        for k, v in h.headers:
            headers[_title(k)] = v
        n = h.content_length or 0
        body = b""
        stream = None
        if n and n <= Request.max_body_length:
            body = await client_reader.readexactly(n)
        elif n:
            stream = client_reader
        url = h.path + ("?" + h.query if h.query else "")
        return Request(app, client_addr, h.method, url, h.version, headers, body=body,
                       stream=stream, sock=(client_reader, client_writer), scheme=scheme)

    @property
    def body(self):
        return self._body

    @property
    def stream(self):
        if self._stream is None:
            self._stream = AsyncBytesIO(self._body)
        return self._stream

    def _mime(self):
        ct = self.content_type
        return None if ct is None else ct.split(";")[0].strip()

    @property
    def json(self):
        """The body parsed as JSON when the Content-Type says so, else None."""
        if self._json is None:
            if self._mime() != "application/json":
                return None
            try:
                self._json = json.loads(self.body.decode())
            except ValueError:  # (Microdot: a 500; the client's mistake is a 400)
                raise HTTPException(400, "Invalid JSON body")
        return self._json

    @property
    def form(self):
        """The urlencoded form body as a MultiDict (a multipart body with
        microdot.multipart.with_form_data), else None."""
        if self._form is None:
            if self._mime() != "application/x-www-form-urlencoded":
                return None
            try:
                self._form = _parse_urlencoded(self.body)
            except ValueError:  # (bad UTF-8 after decoding: as for JSON, a 400)
                raise HTTPException(400, "Invalid form body")
        return self._form

    @property
    def files(self):
        return self._files

    def after_request(self, f):
        """Decorator: f(req, res) runs after this request's handler (may return a new
        response)."""
        self.after_request_handlers.append(f)
        return f


# ---- the response ---------------------------------------------------------------------------

class _BodyIter:
    """The async iterator over a response body: bytes/str once, a sync iterator's items, a
    file-like object in send_file_buffer_size reads; aclose() closes what has close()."""

    def __init__(self, res):
        self.res = res
        self.kind = 0 if res.body else -1  # 0: not looked at yet, -1: ended

    def __aiter__(self):
        return self

    async def __anext__(self):
        res = self.res
        body = res.body
        if self.kind == -1:
            await self.aclose()
            raise _StopAsync
        if self.kind == 0:
            if hasattr(body, "read"):
                self.kind = 2
            elif hasattr(body, "__next__"):
                self.kind = 1
            elif hasattr(body, "__iter__") and not isinstance(body, (bytes, bytearray, str)):
                res.body = body = iter(body)
                self.kind = 1
            else:
                self.kind = -1
                return body
        if self.kind == 1:
            try:
                return next(body)
            except StopIteration:
                await self.aclose()
                raise _StopAsync
        buf = body.read(res.send_file_buffer_size)
        if iscoroutine(buf):
            buf = await buf
        if len(buf) < res.send_file_buffer_size:
            self.kind = -1
        return buf

    async def aclose(self):
        body = self.res.body
        if hasattr(body, "close"):
            r = body.close()
            if iscoroutine(r):
                await r


class _Closing:
    """An async body iterator that calls the body's aclose() once it ends (our stream sender
    only iterates; Microdot's contract is that the body is closed after the last piece)."""

    def __init__(self, it):
        self.it = it

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return await self.it.__anext__()
        except _StopAsync:
            if hasattr(self.it, "aclose"):
                await self.it.aclose()
            raise


class Response:
    """A Microdot response: body (str, bytes, dict/list as JSON, an iterator, an async
    iterator or a file-like object), status_code, headers (a NoCaseDict; Set-Cookie is a list),
    reason."""

    types_map = {
        "css": "text/css",
        "gif": "image/gif",
        "html": "text/html",
        "jpg": "image/jpeg",
        "js": "application/javascript",
        "json": "application/json",
        "png": "image/png",
        "txt": "text/plain",
        "svg": "image/svg+xml",
    }
    send_file_buffer_size = 1024
    default_content_type = "text/plain"
    default_send_file_max_age = None
    already_handled = None  # set below: an answer the handler sent itself (a WebSocket)

    def __init__(self, body=b"", status_code=200, headers=None, reason=None):
        if body is None and status_code == 200:
            body = ""
            status_code = 204
        self.status_code = status_code
        self.headers = NoCaseDict(headers or {})
        self.reason = reason
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            self.headers["Content-Type"] = "application/json; charset=UTF-8"
        if isinstance(body, str):
            body = body.encode()
        self.body = body
        self.is_head = False

    def set_cookie(self, cookie, value, path=None, domain=None, expires=None, max_age=None,
                   secure=False, http_only=False, partitioned=False):
        if ";" in value:
            raise ValueError("invalid cookie value")
        c = cookie + "=" + value
        if path:
            c += "; Path=" + path
        if domain:
            c += "; Domain=" + domain
        if expires:
            if isinstance(expires, str):
                c += "; Expires=" + expires
            else:
                import time
                c += "; Expires=" + time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                                  expires.timetuple())
        if max_age is not None:
            c += "; Max-Age=" + str(max_age)
        if secure:
            c += "; Secure"
        if http_only:
            c += "; HttpOnly"
        if partitioned:
            c += "; Partitioned"
        if "\r" in c or "\n" in c:
            raise ValueError("invalid cookie")
        if "Set-Cookie" in self.headers:
            self.headers["Set-Cookie"].append(c)
        else:
            self.headers["Set-Cookie"] = [c]

    def delete_cookie(self, cookie, **kwargs):
        kwargs.pop("expires", None)
        kwargs.pop("max_age", None)
        self.set_cookie(cookie, "", expires="Thu, 01 Jan 1970 00:00:01 GMT", max_age=0,
                        **kwargs)

    def complete(self):
        """Add the Content-Length (fixed bodies) and Content-Type headers Microdot adds."""
        if isinstance(self.body, bytes) and "Content-Length" not in self.headers:
            self.headers["Content-Length"] = str(len(self.body))
        if "Content-Type" not in self.headers:
            ct = self.default_content_type
            if "charset=" not in ct:
                ct += "; charset=UTF-8"
            self.headers["Content-Type"] = ct

    def body_iter(self):
        if hasattr(self.body, "__anext__"):
            return self.body
        return _BodyIter(self)

    def _header_pairs(self, framed):
        """(name, value) pairs for our server; `framed`: the server frames the (fixed) body
        itself, so the app's Content-Length is left out."""
        out = []
        for k, v in self.headers.items():
            if framed and k.lower() == "content-length":
                continue
            for x in (v if isinstance(v, list) else (v,)):
                out.append((k, str(x)))
        return out

    async def write(self, stream):
        """Write the whole answer as HTTP/1.0 to an asyncio-style stream with awrite()."""
        self.complete()
        reason = self.reason if self.reason is not None else (
            "OK" if self.status_code == 200 else "N/A")
        await stream.awrite(("HTTP/1.0 %d %s\r\n" % (self.status_code, reason)).encode())
        for k, v in self._header_pairs(False):
            await stream.awrite(("%s: %s\r\n" % (k, v)).encode())
        await stream.awrite(b"\r\n")
        if not self.is_head:
            it = self.body_iter()
            async for piece in it:
                if isinstance(piece, str):
                    piece = piece.encode()
                await stream.awrite(piece)
            if hasattr(it, "aclose"):
                await it.aclose()

    @classmethod
    def redirect(cls, location, status_code=302):
        if "\r" in location or "\n" in location:
            raise ValueError("invalid redirect URL")
        return cls(status_code=status_code, headers={"Location": location})

    @classmethod
    def send_file(cls, filename, status_code=200, content_type=None, stream=None,
                  max_age=None, compressed=False, file_extension=""):
        if content_type is None:
            name = filename[:-3] if compressed and filename.endswith(".gz") else filename
            content_type = Response.types_map.get(name.split(".")[-1],
                                                  "application/octet-stream")
        headers = {"Content-Type": content_type}
        if max_age is None:
            max_age = cls.default_send_file_max_age
        if max_age is not None:
            headers["Cache-Control"] = "max-age=%d" % max_age
        if compressed:
            headers["Content-Encoding"] = compressed if isinstance(compressed, str) else "gzip"
        f = stream or open(filename + file_extension, "rb")
        return cls(body=f, status_code=status_code, headers=headers)


Response.already_handled = Response()


# ---- URL patterns ---------------------------------------------------------------------------

class URLPattern:
    """'/users/<int:id>/<path:rest>': segments `<name>` (one segment), `<int:name>`,
    `<path:name>` (the rest, slashes included), `<re:REGEX:name>`, and types added with
    register_type()."""

    segment_patterns = {
        "string": "/([^/]+)",
        "int": "/(-?[0-9]+)",
        "path": "/(.+)",
    }
    segment_parsers = {
        "int": int,
    }

    @classmethod
    def register_type(cls, type_name, pattern="[^/]+", parser=None):
        cls.segment_patterns[type_name] = "/(" + pattern + ")"
        cls.segment_parsers[type_name] = parser

    def __init__(self, url_pattern):
        self.url_pattern = url_pattern
        self.segments = []
        self.regex = None

    def compile(self):
        pattern = ""
        segments = []
        for seg in self.url_pattern.lstrip("/").split("/"):
            if seg and seg[0] == "<":
                if seg[-1] != ">":
                    raise ValueError("invalid URL pattern")
                seg = seg[1:-1]
                if ":" in seg:
                    type_, name = seg.rsplit(":", 1)
                else:
                    type_, name = "string", seg
                parser = None
                if type_.startswith("re:"):
                    pattern += "/(" + type_[3:] + ")"
                else:
                    if type_ not in self.segment_patterns:
                        raise ValueError("invalid URL segment type")
                    pattern += self.segment_patterns[type_]
                    parser = self.segment_parsers.get(type_)
                segments.append((name, parser))
            else:
                pattern += "/" + seg
        self.segments = segments
        self.regex = re.compile("^" + pattern + "$")
        return self.regex

    def match(self, path):
        """The arguments (a dict) when `path` matches, else None."""
        m = (self.regex or self.compile()).match(path)
        if not m:
            return None
        args = {}
        i = 1
        for name, parser in self.segments:
            v = m.group(i)
            if parser is not None:
                try:
                    v = parser(v)
                except ValueError:
                    return None
                if v is None:
                    return None
            args[name] = v
            i += 1
        return args

    def __repr__(self):
        return "URLPattern: " + self.url_pattern


# ---- errors ---------------------------------------------------------------------------------

class HTTPException(Exception):
    def __init__(self, status_code, reason=None):
        super().__init__(status_code, reason)
        self.status_code = status_code
        self.reason = reason or str(status_code) + " error"

    def __repr__(self):
        return "HTTPException: %d" % self.status_code


def _class_chain(cls):
    """cls and its base classes, nearest first (MicroPython has no __mro__)."""
    mro = getattr(cls, "__mro__", None)
    if mro is not None:
        return list(mro)
    out = []
    todo = [cls]
    while todo:
        c = todo.pop(0)
        if c not in out:
            out.append(c)
            todo.extend(getattr(c, "__bases__", ()))
    return out


# ---- the application ------------------------------------------------------------------------

class Microdot:
    """A Microdot application served by microfastapi (`core`: the MicroFastApi underneath)."""

    def __init__(self):
        self.url_map = []  # (methods, URLPattern, handler, url_prefix, subapp)
        self.before_request_handlers = []
        self.after_request_handlers = []
        self.after_error_request_handlers = []
        self.error_handlers = {}
        self.options_handler = self.default_options_handler
        self.ssl = False
        self.debug = False
        self.server = None
        core = MicroFastApi(openapi_url=None, docs_url=None)
        core.handle = self._handle  # every request through Microdot's dispatch (an instance attribute)
        self.core = core

    # ---- registration -------------------------------------------------------------------

    def route(self, url_pattern, methods=None):
        def decorated(f):
            self.url_map.append(([m.upper() for m in (methods or ["GET"])],
                                 URLPattern(url_pattern), f, "", None))
            return f
        return decorated

    def get(self, url_pattern):
        return self.route(url_pattern, methods=["GET"])

    def post(self, url_pattern):
        return self.route(url_pattern, methods=["POST"])

    def put(self, url_pattern):
        return self.route(url_pattern, methods=["PUT"])

    def patch(self, url_pattern):
        return self.route(url_pattern, methods=["PATCH"])

    def delete(self, url_pattern):
        return self.route(url_pattern, methods=["DELETE"])

    def query(self, url_pattern):
        return self.route(url_pattern, methods=["QUERY"])

    def before_request(self, f):
        self.before_request_handlers.append(f)
        return f

    def after_request(self, f):
        self.after_request_handlers.append(f)
        return f

    def after_error_request(self, f):
        self.after_error_request_handlers.append(f)
        return f

    def errorhandler(self, status_code_or_exception_class):
        def decorated(f):
            self.error_handlers[status_code_or_exception_class] = f
            return f
        return decorated

    def mount(self, subapp, url_prefix="", local=False):
        """Add `subapp`'s routes under `url_prefix`. Its hooks and error handlers become this
        app's unless `local` (then they apply to its own routes only)."""
        for methods, pattern, handler, prefix, sub in subapp.url_map:
            self.url_map.append((methods, URLPattern(url_prefix + pattern.url_pattern),
                                 handler, url_prefix + prefix, sub or subapp))
        if not local:
            for name in ("before_request_handlers", "after_request_handlers",
                         "after_error_request_handlers"):
                getattr(self, name).extend(getattr(subapp, name))
                setattr(subapp, name, [])
            self.error_handlers.update(subapp.error_handlers)
            subapp.error_handlers = {}

    @staticmethod
    def abort(status_code, reason=None):
        raise HTTPException(status_code, reason)

    # ---- dispatch -----------------------------------------------------------------------

    def find_route(self, req):
        """(handler, or 404/405, or an OPTIONS answer's headers; url_prefix; subapp)."""
        method = req.method.upper()
        if method == "OPTIONS" and self.options_handler:
            return self.options_handler(req), "", None
        if method == "HEAD":
            method = "GET"
        f, prefix, sub = 404, "", None
        for methods, pattern, handler, url_prefix, subapp in self.url_map:
            args = pattern.match(req.path)
            if args is not None:
                req.url_args = args
                prefix, sub = url_prefix, subapp
                if method in methods:
                    f = handler
                    break
                f = 405
        return f, prefix, sub

    def default_options_handler(self, req):
        allow = []
        for methods, pattern, _, _, _ in self.url_map:
            if pattern.match(req.path) is not None:
                allow.extend(methods)
        if "GET" in allow:
            allow.append("HEAD")
        allow.append("OPTIONS")
        return {"Allow": ", ".join(allow)}

    def get_request_handlers(self, req, attr, local_first=True):
        handlers = getattr(self, attr + "_handlers")
        local = getattr(req.subapp, attr + "_handlers") if req and req.subapp else []
        return local + handlers if local_first else handlers + local

    async def error_response(self, req, status_code, reason=None):
        if req and req.subapp and status_code in req.subapp.error_handlers:
            return await invoke_handler(req.subapp.error_handlers[status_code], req)
        if status_code in self.error_handlers:
            return await invoke_handler(self.error_handlers[status_code], req)
        return reason or "N/A", status_code

    def _exception_handler(self, req, exc):
        sub = req.subapp.error_handlers if req.subapp else {}
        for c in _class_chain(type(exc)):
            if c in sub:
                return sub[c]
            if c in self.error_handlers:
                return self.error_handlers[c]
        return None

    @staticmethod
    def _make_response(res):
        """A handler's return value as a Response (Microdot's rules for tuples and ints)."""
        if isinstance(res, int) and not isinstance(res, bool):
            res = "", res
        if isinstance(res, tuple):
            if isinstance(res[0], int):
                res = ("", res[0], res[1] if len(res) > 1 else {})
            body = res[0]
            if len(res) > 1 and isinstance(res[1], int):
                status, headers = res[1], (res[2] if len(res) > 2 else {})
            else:
                status, headers = 200, (res[1] if len(res) > 1 else {})
            return Response(body, status, headers)
        if not isinstance(res, Response):
            return Response(res)
        return res

    async def dispatch_request(self, req):
        """The Response for `req` (None: a request that could not be parsed, answered 400)."""
        after_done = False
        if req:
            if req.content_length > req.max_content_length:
                res = await self.error_response(req, 413, "Payload too large")
            else:
                f, req.url_prefix, req.subapp = self.find_route(req)
                try:
                    res = None
                    if callable(f):
                        req.route = f
                        for h in self.get_request_handlers(req, "before_request", False):
                            res = await invoke_handler(h, req)
                            if res:
                                break
                        if res is None:
                            res = await invoke_handler(f, req, **(req.url_args or {}))
                        res = self._make_response(res)
                        for h in self.get_request_handlers(req, "after_request", True):
                            res = await invoke_handler(h, req, res) or res
                        for h in req.after_request_handlers:
                            res = await invoke_handler(h, req, res) or res
                        after_done = True
                    elif isinstance(f, dict):
                        res = Response(headers=f)
                    else:
                        res = await self.error_response(req, f, "Not found")
                except HTTPException as exc:
                    res = await self.error_response(req, exc.status_code, exc.reason)
                except Exception as exc:
                    _print_exception(exc)
                    res = None
                    h = self._exception_handler(req, exc)
                    if h is not None:
                        try:
                            res = await invoke_handler(h, req, exc)
                        except Exception as exc2:
                            _print_exception(exc2)
                    if res is None:
                        res = await self.error_response(req, 500, "Internal server error")
        else:
            res = await self.error_response(req, 400, "Bad request")
        if isinstance(res, tuple):
            res = Response(*res)
        elif not isinstance(res, Response):
            res = Response(res)
        if not after_done:
            for h in self.get_request_handlers(req, "after_error_request", True):
                res = await invoke_handler(h, req, res) or res
        res.is_head = bool(req and req.method == "HEAD")
        if req and hasattr(req.g, "_vary"):
            vary = req.g._vary
            if res.headers.get("Vary"):
                vary = set(h.strip() for h in res.headers["Vary"].split(","))
                vary.update(req.g._vary)
            res.headers["Vary"] = ", ".join(list(vary))
        return res

    # ---- the server side ----------------------------------------------------------------

    def _handle(self, raw, srv):
        """core.handle(): answer `raw` through dispatch_request (always a coroutine: Microdot
        handlers and hooks may be async)."""
        return self._answer(raw, srv)

    async def _answer(self, raw, srv):
        core = self.core
        try:
            try:
                req = Request._from_raw(self, raw)
            except Exception as e:  # (a Content-Length or header Microdot cannot read)
                _print_exception(e)
                req = None
            res = await self.dispatch_request(req)
            if self.debug and req:
                print("%s %s %d" % (req.method, req.path, res.status_code))
            self._send(raw, srv, res, req)
        except Exception as e:
            core._answer_500(raw, srv, e)
        if core._loop:
            core._task_done(raw, srv)

    def _send(self, raw, srv, res, req=None):
        core = self.core
        if res is Response.already_handled:
            start = getattr(req, "_ws_start", None)
            if start is not None:  # @with_websocket: our WebSocket takes the connection
                core._start_websocket(raw, srv, start(raw))
                return
            srv.abort(raw)  # (Microdot closes the connection without an answer)
            return
        res.complete()
        body = res.body
        if isinstance(body, (bytes, bytearray)) or res.is_head:
            if not isinstance(body, (bytes, bytearray)):
                body = b""  # HEAD of a streamed body: the headers only
            # (HEAD of a fixed body: the server sends its Content-Length and drops the body)
            core.send(raw, srv, _NativeResponse(bytes(body), res.status_code,
                                                res._header_pairs(True)))
            return
        # A streamed body keeps the app's Content-Length, as Microdot sends it: the servers
        # then send it unframed (and cut a body that comes out shorter).
        core.send(raw, srv, _NativeStream(_Closing(res.body_iter()), res.status_code,
                                          res._header_pairs(False)))

    def _limits(self):
        self.core.max_body = Request.max_content_length

    async def start_server(self, host="0.0.0.0", port=5000, debug=False, ssl=None):
        """Serve until shutdown() (a coroutine for an asyncio program of one's own)."""
        if ssl:
            raise NotImplementedError("TLS is not available in microfastapi's server")
        self.debug = debug
        self._limits()
        self.server = self.core
        await self.core.serve(host, port)

    def run(self, host="0.0.0.0", port=5000, debug=False, ssl=None):
        """Serve forever (blocking) on `port` (5000, as Microdot)."""
        if ssl:
            raise NotImplementedError("TLS is not available in microfastapi's server")
        self.debug = debug
        self._limits()
        self.server = self.core
        self.core.run(host, port)

    def shutdown(self):
        """Stop serving: the answers in flight go out and run()/start_server() return."""
        self.core.shutdown()


abort = Microdot.abort
redirect = Response.redirect
send_file = Response.send_file
