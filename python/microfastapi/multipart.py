"""Pure-Python multipart/form-data scanner: the twin of `_mfa.MultipartReader` and
`_mfa.MultipartError` (cmodules/mfa/mfa_multipart.c), and `multipart_boundary`, which both
backends share.

Both implement the contract in docs/internals.md ("Multipart bodies") and take the same
decisions with the same (status, message); tests/multipart runs one case table through both and
compares them with python-multipart. Runs on MicroPython 1.25 and CPython 3.11 (no annotations,
no `re`).

    r = MultipartReader(boundary, max_parts=64, max_header=1024)
    r.feed(data)  -> [(1, name, filename, content_type, headers) | (2, data) | (3,) | (4,), ...]
    r.finish()    -> None, or MultipartError(400, "multipart: missing final boundary")

Rules (mfa_multipart.h says the same, with the reasons behind them), as the bytes arrive:

1. The body starts with "--boundary" or "\\r\\n--boundary" (no other preamble). After a
   delimiter: "--" (the end; the epilogue is ignored), or SP/HT padding then CRLF (a part);
   anything else: bad delimiter. The part number max_parts + 1: 413.
2. Header bytes one at a time: past max_header bytes (the block, its empty line and CRLFs
   counted): 413; a CR without LF or LF without CR: bad part headers.
3. The complete block: `name: value` lines (token names, no obs-fold; values visible ASCII,
   SP, HT and UTF-8), one Content-Disposition (form-data, with a name) and at most one
   Content-Type.

Errors are sticky.
"""

try:
    # One exception class per process: on a build with _mfa, multipart_boundary (here) and
    # _mfa.MultipartReader raise the same one.
    from _mfa import MultipartError
except ImportError:
    class MultipartError(ValueError):
        """A bad or too large body: args == (HTTP status, message)."""

MP_PART = 1
MP_DATA = 2
MP_PART_END = 3
MP_END = 4

MAX_BOUNDARY = 70

# (status, message), as in mfa_multipart.h's MFA_MP_ERRORS.
E_NO_BOUNDARY = (400, "multipart: no boundary")
E_BAD_BOUNDARY = (400, "multipart: bad boundary")
E_NO_START = (400, "multipart: body does not start with the boundary")
E_DELIMITER = (400, "multipart: bad delimiter")
E_HEADERS = (400, "multipart: bad part headers")
E_NO_NAME = (400, "multipart: part without a Content-Disposition form-data name")
E_TOO_MANY_PARTS = (413, "multipart: too many parts")
E_HEADER_TOO_LARGE = (413, "multipart: part headers too large")
E_MISSING_END = (400, "multipart: missing final boundary")

_TCHAR = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BCHAR = b"'()+_,-./:=? 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

# states (as in mfa_multipart.c)
_START = 0
_FIRST = 1
_AFTER = 2
_DASH = 3
_PAD = 4
_LF = 5
_HDR = 6
_DATA = 7
_FINAL = 8
_END = 9
_ERROR = 10


def _is_token(b):
    if not b:
        return False
    for c in b:
        if c not in _TCHAR:
            return False
    return True


def _utf8_ok(b):
    """Strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), as
    mfa_http_utf8_seq_len; MicroPython's decoder lets overlongs and surrogates through."""
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c < 0x80:
            i += 1
            continue
        if 0xc2 <= c <= 0xdf:
            k, lo, hi = 1, 0x80, 0xbf
        elif 0xe0 <= c <= 0xef:
            k = 2
            lo = 0xa0 if c == 0xe0 else 0x80
            hi = 0x9f if c == 0xed else 0xbf
        elif 0xf0 <= c <= 0xf4:
            k = 3
            lo = 0x90 if c == 0xf0 else 0x80
            hi = 0x8f if c == 0xf4 else 0xbf
        else:
            return False
        if i + k >= n:
            return False
        if not lo <= b[i + 1] <= hi:
            return False
        for j in range(i + 2, i + k + 1):
            if not 0x80 <= b[j] <= 0xbf:
                return False
        i += k + 1
    return True


def _value_ok(b):
    for c in b:
        if c < 0x20 and c != 9 or c == 0x7f:
            return False
    return _utf8_ok(b)


def _strip(b):
    return b.strip(b" \t")


def _unescape(b):
    out = bytearray()
    i = 0
    n = len(b)
    while i < n:
        c = b[i]
        if c == 0x5c and i + 1 < n and b[i + 1] in b'"\\':
            i += 1
            c = b[i]
        out.append(c)
        i += 1
    return bytes(out)


def _params(v, i, n, out):
    """The `;key=value` parameters of v[i:n] (v[i] is ';') into out (lower-cased key ->
    value bytes, escapes undone), keys with '*' left out. A bad one: raises E_HEADERS.
    Returns a repeated name or filename key (None when there is none)."""
    again = None
    while i < n:
        i += 1
        while i < n and v[i] in b" \t":
            i += 1
        if i == n or v[i] == 0x3b:
            continue
        ks = i
        while i < n and v[i] not in b"=; \t":
            i += 1
        key = v[ks:i]
        while i < n and v[i] in b" \t":
            i += 1
        if i == n or v[i] != 0x3d:
            raise MultipartError(*E_HEADERS)
        i += 1
        while i < n and v[i] in b" \t":
            i += 1
        if i < n and v[i] == 0x22:
            i += 1
            vs = i
            esc = False
            while True:
                if i == n:
                    raise MultipartError(*E_HEADERS)
                c = v[i]
                if c == 0x5c and i + 1 < n and v[i + 1] in b'"\\':
                    esc = True
                    i += 2
                elif c == 0x22:
                    break
                else:
                    i += 1
            val = v[vs:i]
            if esc:
                val = _unescape(val)
            i += 1
            while i < n and v[i] in b" \t":
                i += 1
            if i < n and v[i] != 0x3b:
                raise MultipartError(*E_HEADERS)
        else:
            vs = i
            while i < n and v[i] != 0x3b:
                if v[i] == 0x22:
                    raise MultipartError(*E_HEADERS)
                i += 1
            val = v[vs:i].rstrip(b" \t")
        if not _is_token(key):
            raise MultipartError(*E_HEADERS)
        if b"*" in key:
            continue
        key = key.lower()
        if key in out and key in (b"name", b"filename"):
            again = key
        out[key] = val
    return again


def _disposition(v):
    """(name, filename or None) of a Content-Disposition value (bytes, trimmed)."""
    n = len(v)
    i = v.find(b";")
    if i < 0:
        i = n
    if _strip(v[:i]).lower() != b"form-data":
        raise MultipartError(*E_NO_NAME)
    p = {}
    if _params(v, i, n, p):
        raise MultipartError(*E_HEADERS)     # a second name or filename
    if b"name" not in p:
        raise MultipartError(*E_NO_NAME)
    f = p.get(b"filename")
    return p[b"name"].decode(), None if f is None else f.decode()


def _block(h):
    """The PART event of a complete header block h (bytes, ending in the empty line)."""
    headers = []
    cd = ct = None
    lines = h[:-2].split(b"\r\n")
    lines.pop()     # after the last CRLF
    for line in lines:
        c = line.find(b":")
        if c <= 0:
            raise MultipartError(*E_HEADERS)
        name = line[:c]
        if not _is_token(name):
            raise MultipartError(*E_HEADERS)
        value = _strip(line[c + 1:])
        if not _value_ok(value):
            raise MultipartError(*E_HEADERS)
        name = name.lower()
        if name == b"content-disposition":
            if cd is not None:
                raise MultipartError(*E_HEADERS)
            cd = value
        elif name == b"content-type":
            if ct is not None:
                raise MultipartError(*E_HEADERS)
            ct = value
        headers.append((name.decode(), value.decode()))
    if cd is None:
        raise MultipartError(*E_NO_NAME)
    name, filename = _disposition(cd)
    return (MP_PART, name, filename, None if ct is None else ct.decode(), headers)


class MultipartReader:
    """Incremental multipart/form-data reader; see the module's docstring."""

    def __init__(self, boundary, max_parts=64, max_header=1024):
        if max_parts < 0 or max_header < 0:
            raise ValueError("max_parts and max_header must be >= 0")
        if isinstance(boundary, str):
            boundary = boundary.encode()
        boundary = bytes(boundary)
        ok = 1 <= len(boundary) <= MAX_BOUNDARY and boundary[-1] != 0x20
        for c in boundary:
            if c not in _BCHAR:
                ok = False
        if not ok:
            raise MultipartError(*E_BAD_BOUNDARY)
        self._delim = b"\r\n--" + boundary
        self._max_parts = max_parts
        self._max_header = max_header
        self._state = _START
        self._match = 0
        self._parts = 0
        self._in_part = False
        self._h = bytearray()
        self._error = None

    def _fail(self, err):
        if err[0] == 413:
            limit = self._max_parts if err is E_TOO_MANY_PARTS else self._max_header
            err = (413, "%s (limit %d)" % (err[1], limit))
        self._error = err
        self._state = _ERROR
        raise MultipartError(*err)

    def finish(self):
        if self._state == _ERROR:
            raise MultipartError(*self._error)
        if self._state not in (_FINAL, _END):
            self._fail(E_MISSING_END)

    def feed(self, data):
        if self._state == _ERROR:
            raise MultipartError(*self._error)
        if type(data) is not bytes:
            # find/startswith need bytes (MicroPython's bytearray has neither): one copy,
            # then the content comes out as memoryview slices of it.
            data = bytes(data)
        out = []
        try:
            self._feed(data, out)
        except MultipartError as e:
            if self._state != _ERROR:   # raised below without _fail: becomes sticky here
                self._error = e.args
                self._state = _ERROR
            raise
        return out

    def _feed(self, data, out):
        n = len(data)
        i = 0
        delim = self._delim
        dlen = len(delim)
        mv = None
        while True:
            st = self._state
            if st == _END:
                return
            if st == _FINAL:
                self._state = _END
                out.append((MP_END,))
                continue
            if st == _DATA:
                m = self._match
                if m:
                    # Continuing a delimiter held back from an earlier feed.
                    while i < n and m < dlen and data[i] == delim[m]:
                        m += 1
                        i += 1
                    if m == dlen:
                        self._match = 0
                        self._state = _AFTER
                        continue
                    if i == n:
                        self._match = m
                        return
                    out.append((MP_DATA, delim[:m]))
                    self._match = 0
                k = data.find(delim, i)
                if k >= 0:
                    if k > i:
                        if mv is None:
                            mv = memoryview(data)
                        out.append((MP_DATA, mv[i:k]))
                    i = k + dlen
                    self._state = _AFTER
                    continue
                # No whole delimiter: the tail may hold the start of one (from its CR, the
                # only CR a delimiter has).
                end = n
                cr = data.rfind(b"\r", max(i, n - dlen + 1), n)
                if cr >= 0 and delim.startswith(data[cr:n]):
                    end = cr
                    self._match = n - cr
                if end > i:
                    if mv is None:
                        mv = memoryview(data)
                    out.append((MP_DATA, mv[i:end]))
                return
            if i == n:
                return
            c = data[i]
            if st == _START:
                self._match = 0 if c == 0x0d else 2
                self._state = _FIRST
                continue
            if st == _FIRST:
                m = self._match
                while i < n and m < dlen:
                    if data[i] != delim[m]:
                        raise MultipartError(*E_NO_START)
                    m += 1
                    i += 1
                if m == dlen:
                    self._match = 0
                    self._state = _AFTER
                else:
                    self._match = m
                continue
            if st == _HDR:
                i = self._header_bytes(data, i, n, out)
                continue
            if st == _AFTER:
                if c == 0x2d:
                    self._state = _DASH
                elif c in b" \t":
                    self._state = _PAD
                elif c == 0x0d:
                    self._state = _LF
                else:
                    raise MultipartError(*E_DELIMITER)
            elif st == _PAD:
                if c == 0x0d:
                    self._state = _LF
                elif c not in b" \t":
                    raise MultipartError(*E_DELIMITER)
            elif st == _DASH:
                if c != 0x2d:
                    raise MultipartError(*E_DELIMITER)
                self._state = _FINAL
                if self._in_part:
                    self._in_part = False
                    out.append((MP_PART_END,))
            elif st == _LF:
                if c != 0x0a:
                    raise MultipartError(*E_DELIMITER)
                self._parts += 1
                if self._parts > self._max_parts:
                    self._fail(E_TOO_MANY_PARTS)
                self._state = _HDR
                self._h = bytearray()
                if self._in_part:
                    self._in_part = False
                    out.append((MP_PART_END,))
            i += 1

    def _header_bytes(self, data, i, n, out):
        """Header bytes from data[i:] (rule 2), up to the end of the block or of data. Returns
        the index after the bytes taken. Only CR and LF need a look; the bytes between them go
        in at once (as many as fit)."""
        h = self._h
        cap = self._max_header
        while i < n:
            k = len(h)
            if k == cap:
                self._fail(E_HEADER_TOO_LARGE)
            if k == 0 or h[k - 1] != 0x0d:
                lim = min(n, i + cap - k)
                j = data.find(b"\r", i, lim)
                if j < 0:
                    j = lim
                lf = data.find(b"\n", i, j)
                if lf >= 0:
                    j = lf
                if j > i:
                    h.extend(data[i:j])
                    i = j
                    continue
            c = data[i]
            h.append(c)
            i += 1
            if c == 0x0a:
                if k == 0 or h[k - 1] != 0x0d:
                    raise MultipartError(*E_HEADERS)
                if k == 1 or (k >= 3 and h[k - 2] == 0x0a):
                    out.append(_block(bytes(h)))
                    self._state = _DATA
                    self._in_part = True
                    self._match = 0
                    return i
            elif k > 0 and h[k - 1] == 0x0d:
                raise MultipartError(*E_HEADERS)
        return i


def _ct_params(value):
    """(media type lower-cased, {key: value}) of a Content-Type value (str)."""
    v = value.encode() if isinstance(value, str) else bytes(value)
    v = _strip(v)
    i = v.find(b";")
    if i < 0:
        i = len(v)
    p = {}
    _params(v, i, len(v), p)
    return _strip(v[:i]).lower(), p


def multipart_boundary(content_type):
    """The boundary (bytes) of a Content-Type value such as 'multipart/form-data;
    boundary=----x', or MultipartError(400, "multipart: no boundary") when there is none (or
    the parameters do not parse). The reader checks the boundary's characters."""
    try:
        mtype, p = _ct_params(content_type)
    except MultipartError:
        raise MultipartError(*E_NO_BOUNDARY)
    b = p.get(b"boundary")
    if not b:
        raise MultipartError(*E_NO_BOUNDARY)
    return b
