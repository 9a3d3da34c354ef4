"""The Request handed to handlers: a thin, lazy view over the server's request object.

Nothing is decoded until asked for: `query`, `headers`, `cookies`, `json()` and `form()` build
their result on first access and keep it.
"""

try:
    import json
except ImportError:  # pragma: no cover
    import ujson as json

from . import backend
from .exceptions import HTTPException, RequestValidationError


def _surrogates(b):
    """Rewrite JSON `\\uD8xx\\uDCxx` escapes as the UTF-8 of the code point (and lone
    surrogates as U+FFFD): MicroPython's json.loads keeps the two halves, which would later be
    sent as invalid UTF-8. Only used where json.loads needs it."""
    out = None
    start = i = 0
    while True:
        j = b.find(b"\\u", i)
        if j < 0:
            break
        k = j
        while k > 0 and b[k - 1] == 92:
            k -= 1
        if (j - k) & 1:  # this backslash is itself escaped
            i = j + 1
            continue
        try:
            hi = int(b[j + 2:j + 6], 16)
        except ValueError:
            i = j + 2
            continue
        if hi < 0xD800 or hi > 0xDFFF:
            i = j + 6
            continue
        rep, n = b"\xef\xbf\xbd", 6
        if hi < 0xDC00 and b[j + 6:j + 8] == b"\\u":
            try:
                lo = int(b[j + 8:j + 12], 16)
            except ValueError:
                lo = 0
            if 0xDC00 <= lo <= 0xDFFF:
                rep, n = chr(0x10000 + ((hi - 0xD800) << 10) + lo - 0xDC00).encode(), 12
        if out is None:
            out = []
        out.append(b[start:j])
        out.append(rep)
        start = i = j + n
    if out is None:
        return b
    out.append(b[start:])
    return b"".join(out)


_FIX_SURROGATES = len(json.loads('"\\ud83d\\ude00"')) != 1


# _mfa's decoder when the backend has it: from the buffer, no byte-at-a-time stream reads, and
# CPython's results (surrogates included, so no _surrogates pass): docs/internals.md.
_c_loads = getattr(backend._mfa, "json_loads", None) if backend._mfa is not None else None


def json_loads(b):
    """json.loads of a request body, with CPython's result for surrogate-pair escapes on
    MicroPython too (see _surrogates). Raises ValueError for invalid JSON."""
    if _c_loads is not None:
        return _c_loads(b)
    if _FIX_SURROGATES and b"\\u" in b:
        b = _surrogates(bytes(b))
    return json.loads(b)


_HEX = "0123456789abcdefABCDEF"


def _form_unquote(s, field):
    """Strict percent-decoding of one form key or value (str): '+' is a space, every '%' must
    start a two-hex-digit escape and the decoded bytes must be UTF-8. Raises ValueError naming
    the problem (form() turns it into a 400)."""
    if "+" in s:
        s = s.replace("+", " ")
    if "%" not in s:
        return s
    out = bytearray()
    i = 0
    while True:
        j = s.find("%", i)
        if j < 0:
            out += s[i:].encode()
            break
        out += s[i:j].encode()
        h = s[j + 1:j + 3]
        if len(h) != 2 or h[0] not in _HEX or h[1] not in _HEX:
            raise ValueError("form field %r: invalid percent-escape %r" % (field, "%" + h))
        out.append(int(h, 16))
        i = j + 3
    try:
        return bytes(out).decode()
    except UnicodeError:
        raise ValueError("form field %r: percent-escapes are not UTF-8" % (field,))


def parse_form(body):
    """An application/x-www-form-urlencoded body (bytes) -> list of (key, value) str pairs,
    strictly: a body that is not UTF-8, a bad percent-escape, or escapes that decode to bytes
    that are not UTF-8 raise ValueError naming the problem."""
    try:
        s = body.decode()
    except UnicodeError:
        raise ValueError("form body is not valid UTF-8")
    out = []
    for piece in s.split("&"):
        if not piece:
            continue
        i = piece.find("=")
        if i < 0:
            k = _form_unquote(piece, piece)
            out.append((k, ""))
        else:
            k = _form_unquote(piece[:i], piece[:i])
            out.append((k, _form_unquote(piece[i + 1:], k)))
    return out


class MultiDict:
    """Dict-like over a list of (key, value) pairs: `d[k]`/`d.get(k)` give the first value,
    `d.getlist(k)` all of them, in order. Used for query strings and forms."""

    def __init__(self, pairs=None):
        self._pairs = pairs if pairs is not None else []

    def get(self, key, default=None):
        for k, v in self._pairs:
            if k == key:
                return v
        return default

    def getlist(self, key):
        return [v for k, v in self._pairs if k == key]

    def __getitem__(self, key):
        for k, v in self._pairs:
            if k == key:
                return v
        raise KeyError(key)

    def __contains__(self, key):
        for k, v in self._pairs:
            if k == key:
                return True
        return False

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self.keys())

    def keys(self):
        seen = []
        for k, v in self._pairs:
            if k not in seen:
                seen.append(k)
        return seen

    def values(self):
        return [self[k] for k in self.keys()]

    def items(self):
        return [(k, self[k]) for k in self.keys()]

    def multi_items(self):
        return list(self._pairs)

    def __eq__(self, other):
        if isinstance(other, MultiDict):
            return self._pairs == other._pairs
        return dict(self.items()) == other

    def __repr__(self):
        return "%s(%r)" % (type(self).__name__, self._pairs)


class QueryParams(MultiDict):
    """The query string as a MultiDict, decoded lazily.

    `get`/`[]`/`in` on a query string without '%' or '+' scan the raw string and slice out
    the value: no list of pairs is built for the common `req.query.get("q")`."""

    def __init__(self, qs):
        self._qs = qs
        self._plain = "%" not in qs and "+" not in qs
        self._p = None

    @property
    def _pairs(self):
        if self._p is None:
            self._p = backend.parse_qsl(self._qs) if self._qs else []
        return self._p

    def _find(self, key):
        qs = self._qs
        n = len(qs)
        kl = len(key)
        pos = 0
        while pos < n:
            end = qs.find("&", pos)
            if end < 0:
                end = n
            if end > pos and qs.startswith(key, pos) and (pos + kl == end or
                                                          qs[pos + kl] == "="):
                return qs[pos + kl + 1:end] if pos + kl < end else ""
            pos = end + 1
        return None

    def get(self, key, default=None):
        if self._p is None and self._plain:
            v = self._find(key)
            return default if v is None else v
        return MultiDict.get(self, key, default)

    def __getitem__(self, key):
        if self._p is None and self._plain:
            v = self._find(key)
            if v is None:
                raise KeyError(key)
            return v
        return MultiDict.__getitem__(self, key)

    def __contains__(self, key):
        if self._p is None and self._plain:
            return self._find(key) is not None
        return MultiDict.__contains__(self, key)


class Headers:
    """Case-insensitive, read-only view over the parser's header list (names lower-cased)."""

    def __init__(self, raw):
        self._raw = raw

    def get(self, name, default=None):
        return self._raw.header(name, default)

    def getlist(self, name):
        name = name.lower()
        return [v for k, v in self._raw.headers if k == name]

    def __getitem__(self, name):
        v = self._raw.header(name)
        if v is None:
            raise KeyError(name)
        return v

    def __contains__(self, name):
        return self._raw.header(name) is not None

    def __iter__(self):
        return iter(self.keys())

    def __len__(self):
        return len(self._raw.headers)

    def keys(self):
        return [k for k, v in self._raw.headers]

    def items(self):
        return list(self._raw.headers)

    def __repr__(self):
        return "Headers(%r)" % (self._raw.headers,)


class Request:
    """What a handler receives as its first argument.

    Attributes: method, path (raw, without query), query_string, version, path_params, client
    ((host, port)), app, state (a dict for middleware/handlers to share), user (the identity
    a route's security= accepted, else None), session (with microfastapi.sessions). Lazy: query, headers,
    cookies, body, json(), form(), url.
    """

    # Caches live as class-level defaults until first use, so a request that never asks
    # for them carries three instance attributes only.
    _query = None
    _cookies = None
    _json = None
    _form = None
    _uploads = None  # UploadFile objects of form(): their spool files go after the answer
    _state = None
    user = None  # the identity, set by a route's security= (microfastapi.security)

    def __init__(self, app, raw, path_params=None):
        self.app = app
        self._raw = raw
        self.path_params = path_params if path_params is not None else {}

    @property
    def method(self):
        return self._raw.method

    @property
    def path(self):
        return self._raw.path

    @property
    def query_string(self):
        return self._raw.query

    @property
    def version(self):
        return self._raw.version

    @property
    def client(self):
        return self._raw.client

    @property
    def raw(self):
        """The server's request object (parser head plus body and client)."""
        return self._raw

    @property
    def url(self):
        q = self._raw.query
        return self._raw.path + ("?" + q if q else "")

    @property
    def state(self):
        if self._state is None:
            self._state = {}
        return self._state

    @property
    def query(self):
        """MultiDict of the query string (percent-decoded, '+' as space, repeated keys kept)."""
        if self._query is None:
            self._query = QueryParams(self._raw.query)
        return self._query

    # FastAPI/Starlette spelling
    query_params = query

    @property
    def headers(self):
        return Headers(self._raw)

    def header(self, name, default=None):
        """Case-insensitive lookup of one header, without building a Headers object."""
        return self._raw.header(name, default)

    @property
    def content_type(self):
        return self._raw.header("content-type", "")

    @property
    def cookies(self):
        if self._cookies is None:
            c = {}
            for k, v in self._raw.headers:
                if k != "cookie":
                    continue
                for item in v.split(";"):
                    i = item.find("=")
                    if i < 0:
                        continue
                    name = item[:i].strip()
                    if name and name not in c:
                        val = item[i + 1:].strip()
                        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
                            val = val[1:-1]
                        c[name] = val
            self._cookies = c
        return self._cookies

    @property
    def body(self):
        b = self._raw.body
        if b is None:
            raise RuntimeError("the body of a stream_body=True route is read with req.stream(), "
                               "req.parts() or await req.form()")
        return b

    def text(self):
        return self.body.decode()

    def json(self):
        """The body parsed as JSON (cached). A missing or invalid body raises
        RequestValidationError, answered with FastAPI's 422 "json_invalid" detail."""
        if self._json is None:
            b = self.body
            try:
                self._json = json_loads(b)
            except ValueError:
                raise RequestValidationError([{
                    "type": "json_invalid", "loc": ["body", 0], "msg": "JSON decode error",
                    "input": {}}])
        return self._json

    def stream(self, size=None):
        """The body as an async iterator of pieces, pulled from the network as the handler
        asks: docs/uploads.md. Each piece is valid until the next one is asked for: without
        `size`, a read-only memoryview into the connection's input buffer (nothing copied or
        allocated per piece, at most about 4.5 KB each); with `size`, a memoryview into one
        buffer of `size` bytes the pieces are copied into (at most `size` bytes each). For a
        route declared with stream_body=True; on any other route the body is whole already
        and comes as one piece."""
        from .bodies import BodyStream
        return BodyStream(self, size)

    def parts(self, max_parts=64, max_header=1024):
        """The parts of a multipart/form-data body, one after another as they arrive:
        `async for part in req.parts()` (see microfastapi.uploads.Part)."""
        from .uploads import Parts
        return Parts(self, max_parts, max_header)

    async def form(self, max_parts=64, max_field=8192, spool=1024):
        """The form (cached): a FormData (a MultiDict) of str values, and for a
        multipart/form-data body UploadFile values for its files. An urlencoded body that
        cannot be decoded (not UTF-8, a '%' not followed by two hex digits, escapes that are
        not UTF-8) and a malformed multipart body are answered 400 naming the problem; limits
        (max_parts parts, max_field bytes per field, the route's max_body) 413. A file's
        content beyond `spool` bytes waits in a spool file (the app's upload_dir) until
        UploadFile.save() puts it in place; unsaved ones are removed after the answer."""
        f = self._form
        if f is not None:
            return f
        ct = self.content_type
        if ct[:19].lower() == "multipart/form-data":
            from .uploads import read_form
            f = await read_form(self, max_parts, max_field, spool)
        else:
            b = self._raw.body
            if b is None:
                b = await self.stream().readall()
            if not b:
                f = MultiDict([])
            else:
                try:
                    f = MultiDict(parse_form(b))
                except ValueError as e:
                    raise HTTPException(400, str(e))
        self._form = f
        return f

    def __repr__(self):
        return "<Request %s %s>" % (self.method, self.url)
