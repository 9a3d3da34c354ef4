"""Response classes.

A handler may also return a plain value: dict/list -> JSON, str -> text/plain, bytes ->
application/octet-stream, None -> JSON null, or a tuple (body, status[, headers]). Those plain
values never build a Response object (see app.py); these classes are for when more is needed.

Headers are kept as a list of (name, value) str pairs, handed to the server as they are; the
server adds Content-Length / Transfer-Encoding / Connection.
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

try:
    import os
except ImportError:  # pragma: no cover
    import uos as os

from .exceptions import HTTPException
from .wire import check_status  # noqa: F401 (also for response.check_status users)

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
BYTES_TYPE = "application/octet-stream"


_INF = float("inf")


def check_json(v):
    """Raise TypeError (as CPython's json.dumps does) when `v` holds something JSON cannot
    represent, and ValueError for inf and nan (FastAPI's "Out of range float values are not
    JSON compliant": json.dumps writes them as `inf`/`Infinity`, which no JSON parser takes).
    Walks containers without allocating (no .items(), no tuples)."""
    t = type(v)
    if t is float:
        if v != v or v == _INF or v == -_INF:
            raise ValueError("Out of range float values are not JSON compliant: %r" % v)
        return
    if t is str or t is int or t is bool or v is None or t is bytes:
        return  # (MicroPython writes bytes as a JSON string)
    if isinstance(v, dict):
        for k in v:
            t = type(k)
            if not (t is str or t is int or t is float or t is bool or k is None):
                raise TypeError("keys must be str, int, float, bool or None, not %s"
                                % t.__name__)
            check_json(v[k])
        return
    if isinstance(v, (list, tuple)):
        for x in v:
            check_json(x)
        return
    raise TypeError("Object of type %s is not JSON serializable" % t.__name__)


class _Probe:
    pass


try:
    json.dumps(_Probe())
    _LAX = True  # MicroPython: unknown objects are printed with their repr, no error
except TypeError:
    _LAX = False


# The encoder and the check of its output (see dumps): _mfa's when the backend has them (not
# with MFA_BACKEND=pure), else json.dumps and substring scans.
from . import backend as _backend

_c = _backend._mfa
json_dumps = getattr(_c, "json_dumps", None) if _c is not None else None
json_suspect = getattr(_c, "json_suspect", None) if _c is not None else None


def dumps(v):
    """json.dumps that raises for values without a JSON form, on MicroPython too.

    MicroPython's json.dumps writes such values with their repr ('<Opaque object at ...>',
    "bytearray(b'..')", "frozenset(...)"), and both write non-finite floats as non-JSON words
    (MicroPython `inf`/`nan`, CPython `Infinity`/`NaN`). Valid JSON from dict/list/str/number/
    bool/None has none of those outside strings, so the output is scanned for them (_mfa's
    json_suspect looks outside string literals only; the pure build's substring scans may also
    hit inside strings) and only then are the values walked (check_json) to say what is wrong.
    Not caught: sets ('{1, 2}') and complex numbers, which print without any of them.
    With _mfa, json_dumps(v, True) writes json.dumps' text in C and says itself (None) when a
    value was not plain JSON, so a clean answer is not scanned at all. app.py inlines this on
    its fast path: keep the two alike."""
    if json_dumps is not None:
        s = json_dumps(v, True)
        if s is None:
            check_json(v)  # raises for what JSON has no form for
            s = json_dumps(v)  # bytes, non-str keys: json.dumps' text
        return s
    s = json.dumps(v)
    if json_suspect is not None:
        if json_suspect(s):
            check_json(v)
    elif _LAX:
        if "<" in s or "(" in s or "inf" in s or "nan" in s:
            check_json(v)
    elif "Infinity" in s or "NaN" in s:
        check_json(v)
    return s


def check_header(name, value):
    """Refuse header names/values that could split the response (CR, LF, NUL)."""
    for s in (name, value):
        if "\r" in s or "\n" in s or "\0" in s:
            raise ValueError("header %r contains CR, LF or NUL" % (name,))


def header_pairs(headers):
    """dict or list of pairs -> list of (str, str) pairs, checked."""
    if headers is None:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    out = []
    for k, v in items:
        v = str(v)
        check_header(k, v)
        out.append((k, v))
    return out


class Response:
    """A body (bytes or str), a status code and headers.

    `media_type` becomes the Content-Type header unless headers already have one.
    """

    media_type = None
    _status = 200

    def __init__(self, content=b"", status_code=200, headers=None, media_type=None):
        if status_code != 200:
            self._status = check_status(status_code)
        self.headers = header_pairs(headers)
        self.body = self.render(content)
        mt = media_type or self.media_type
        if mt is not None and self.get_header("content-type") is None:
            self.headers.append(("Content-Type", mt))

    def render(self, content):
        return content

    @property
    def status_code(self):
        return self._status

    @status_code.setter
    def status_code(self, code):
        self._status = check_status(code)

    def get_header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def set_header(self, name, value):
        """Replace (or add) a header."""
        value = str(value)
        check_header(name, value)
        low = name.lower()
        self.headers = [(k, v) for k, v in self.headers if k.lower() != low]
        self.headers.append((name, value))

    def append_header(self, name, value):
        value = str(value)
        check_header(name, value)
        self.headers.append((name, value))

    def set_cookie(self, key, value="", max_age=None, expires=None, path="/", domain=None,
                   secure=False, httponly=False, samesite="lax"):
        """Add a Set-Cookie header (Starlette's signature)."""
        parts = ["%s=%s" % (key, value)]
        if max_age is not None:
            parts.append("Max-Age=%d" % max_age)
        if expires is not None:
            parts.append("Expires=%s" % expires)
        if path:
            parts.append("Path=%s" % path)
        if domain:
            parts.append("Domain=%s" % domain)
        if secure:
            parts.append("Secure")
        if httponly:
            parts.append("HttpOnly")
        if samesite:
            parts.append("SameSite=%s" % samesite)
        self.append_header("Set-Cookie", "; ".join(parts))

    def delete_cookie(self, key, path="/", domain=None):
        self.set_cookie(key, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT",
                        path=path, domain=domain)

    def __repr__(self):
        return "<%s %d>" % (type(self).__name__, self.status_code)


class JSONResponse(Response):
    media_type = JSON_TYPE

    def render(self, content):
        return dumps(content)


class HTMLResponse(Response):
    media_type = HTML_TYPE


class PlainTextResponse(Response):
    media_type = TEXT_TYPE


class RedirectResponse(Response):
    """307 by default, like Starlette (keeps the method); pass 301/302/303/308 as needed."""

    def __init__(self, url, status_code=307, headers=None):
        Response.__init__(self, b"", status_code, headers)
        self.set_header("Location", url)


class StreamingResponse(Response):
    """A body produced piece by piece and sent with chunked transfer encoding.

    `content`: an iterable (a generator, a list, ...) or an async iterator (an object with
    `__aiter__`/`__anext__`; CPython async generators too). Items are str or bytes. The next
    piece is pulled only when the previous one was queued by the server, so a slow client slows
    the producer instead of filling RAM.
    """

    media_type = TEXT_TYPE

    def __init__(self, content, status_code=200, headers=None, media_type=None):
        Response.__init__(self, None, status_code, headers, media_type)
        self.content = content

    def iterator(self):
        """An iterator or async iterator over the body pieces (called once, when sending)."""
        c = self.content
        if hasattr(c, "__anext__"):
            return c
        if hasattr(c, "__aiter__"):
            return c.__aiter__()
        return iter(c)


_TYPES = {
    "html": HTML_TYPE, "htm": HTML_TYPE, "txt": TEXT_TYPE, "css": "text/css",
    "js": "application/javascript", "mjs": "application/javascript", "json": JSON_TYPE,
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "svg": "image/svg+xml", "ico": "image/x-icon", "webp": "image/webp", "csv": "text/csv",
    "xml": "application/xml", "pdf": "application/pdf", "wasm": "application/wasm",
    "gz": "application/gzip", "mp3": "audio/mpeg", "wav": "audio/wav", "bin": BYTES_TYPE,
    "md": "text/markdown", "woff": "font/woff", "woff2": "font/woff2",
}


def guess_type(path):
    i = path.rfind(".")
    if i < 0 or "/" in path[i:]:
        return BYTES_TYPE
    return _TYPES.get(path[i + 1:].lower(), BYTES_TYPE)


def _file_blocks(path, size, offset, length):
    f = open(path, "rb")
    try:
        if offset:
            f.seek(offset)
        buf = bytearray(size)
        mv = memoryview(buf)
        while length > 0:
            n = f.readinto(mv if length >= size else mv[:length])
            if not n:
                break  # (the file shrank: the server resets, the body being short)
            length -= n
            # One buffer is reused: the server copies each piece before asking for the next.
            yield mv[:n]
    finally:
        f.close()


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(t):
    """An IMF-fixdate ('Sun, 06 Nov 1994 08:49:37 GMT') for `t` seconds since 1970, by
    arithmetic (no time.gmtime or strftime; Howard Hinnant's civil_from_days)."""
    days, secs = divmod(int(t), 86400)
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y = yoe + era * 400 + (1 if m <= 2 else 0)
    return "%s, %02d %s %04d %02d:%02d:%02d GMT" % (
        _DAYS[(days + 3) % 7], d, MONTHS[m - 1], y, secs // 3600, secs // 60 % 60, secs % 60)


def _file_block():
    """The FileResponse block that fits the transport: on a board one TCP segment's worth
    (the C server's output buffer is 1,460 bytes there, and each block is heap), on a host
    16 KB (one block per kernel send: 3 MB leave as fast as a bytes answer; 1 KB blocks took
    7x as long on the unix build, 11x on the pure one; tests/bench/stream_bench.py)."""
    try:
        import sys
        if sys.platform in ("linux", "darwin", "win32", "cygwin"):
            return 16384
    except ImportError:  # pragma: no cover
        pass
    return 1024


_FILE_BLOCK = _file_block()


class FileResponse(StreamingResponse):
    """A file streamed in fixed-size blocks (one reused buffer of `chunk_size` bytes), with a
    Content-Length (so not chunked: the servers send the body unframed), `Last-Modified` (its
    mtime) and `ETag` (`"<mtime hex>-<size hex>"`, from the same os.stat).

    The content type comes from the extension unless `media_type` is given; `filename` adds a
    Content-Disposition attachment header. A missing file (or a directory, or a path holding
    NUL, where MicroPython would cut the path) raises HTTPException(404) when the response is
    made, in the handler, so the app's 404 handler and after_request hooks see it as any 404. It opens whatever `path` names: for a
    directory of files addressed by the URL, use staticfiles.StaticFiles, which refuses paths
    leaving the directory (and answers conditional, HEAD and Range requests).

    `size`, `mtime`: from os.stat. `offset`, `length`: the bytes sent (the whole file unless
    `select` picked a range; `length = 0` sends none, for HEAD).
    """

    chunk_size = _FILE_BLOCK

    def __init__(self, path, status_code=200, headers=None, media_type=None, filename=None,
                 chunk_size=None):
        if chunk_size:
            self.chunk_size = chunk_size
        self.path = path
        StreamingResponse.__init__(self, None, status_code, headers,
                                   media_type or guess_type(path))
        if filename:
            self.append_header("Content-Disposition", 'attachment; filename="%s"' % filename)
        st = self._stat()
        if st is None:
            raise HTTPException(404, "Not Found")
        self.size = st[6]
        self.mtime = int(st[8])
        self.offset = 0
        self.length = self.size
        self.etag = '"%x-%x"' % (self.mtime, self.size)
        self.last_modified = http_date(self.mtime)
        self.headers.append(("Content-Length", str(self.size)))
        if self.get_header("etag") is None:
            self.headers.append(("ETag", self.etag))
        if self.get_header("last-modified") is None:
            self.headers.append(("Last-Modified", self.last_modified))

    def _stat(self):
        if "\0" in self.path:
            return None  # MicroPython's os.stat would cut the path at the NUL
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return None if st[0] & 0o040000 else st  # not a directory

    def exists(self):
        return self._stat() is not None

    def select(self, start, stop):
        """Send bytes [start, stop) only: 206 Partial Content with its Content-Range."""
        self.offset = start
        self.length = stop - start
        self.status_code = 206
        self.set_header("Content-Length", str(self.length))
        self.set_header("Content-Range", "bytes %d-%d/%d" % (start, stop - 1, self.size))

    def iterator(self):
        if "\0" in self.path:
            raise ValueError("NUL in file path")
        return _file_blocks(self.path, self.chunk_size, self.offset, self.length)
