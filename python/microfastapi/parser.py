"""Pure-Python HTTP/1.x request parser: the twin of `_mfa.parse_request` (cmodules/mfa/mfa_http.c).

Both implement the contract in docs/internals.md and take the same accept/reject decisions with
the same (status, reason); tests/parser runs one case table through both. Runs on MicroPython
1.25 and CPython 3.11 (no annotations, no `re`).

Rules (the C header mfa_http.h says the same, with the reasons behind them):

- The head is everything up to the first empty line. Until that line has arrived (and while
  the buffer is shorter than MAX_HEAD) the result is None, whatever the bytes so far; the result
  depends only on `buf`, `last_len` only saves re-scanning for the end of the head.
- No empty line within the first MAX_HEAD bytes: 414 if not even the request line ended there,
  else the request line's own error if it has one, else 431.
- Every line ends with CRLF (bare LF, bare CR: 400). Request line: exactly
  `method SP target SP HTTP/d.d`; the method a token; the target origin-form (starts with '/')
  or `*` for OPTIONS, visible ASCII only, at most MAX_TARGET bytes (else 414); absolute-form is
  not accepted. Versions other than 1.0 and 1.1: 505. Up to MAX_EMPTY_LINES empty lines (CRLF)
  before the request line are skipped and counted in header_len (RFC 9112 2.2); more: 400.
- Header lines: no obs-fold, a token name directly followed by ':', a value without control
  characters (HTAB allowed) that is valid UTF-8. At most MAX_HEADERS lines (431).
- Content-Length: digits only, <= 2**63-1, duplicates must have the same value.
  Transfer-Encoding: only `chunked`, once (anything else 501); not in HTTP/1.0; not together
  with Content-Length (400). HTTP/1.1 needs exactly one Host, no version allows two.
"""

try:
    from micropython import const
except ImportError:  # CPython
    def const(x):
        return x

# Limits: keep equal to the #ifndef defaults in cmodules/mfa/mfa_http.h.
MAX_HEAD = 4096     # request line + headers + empty line, bytes
MAX_TARGET = 2048   # request target, bytes
MAX_HEADERS = 32    # header lines
MAX_CHUNK_LINE = 256  # chunk-size line incl. extensions, without CRLF
MAX_EMPTY_LINES = 4   # CRLFs skipped before a request line
MAX_CHUNK_OVERHEAD = 1024  # chunked framing bytes allowed beyond the data bytes (else 413)
# 2**63-1, built at run time: a big-int literal cannot be frozen into firmware whose
# mpy-cross long-int settings differ.
MAX_CONTENT_LENGTH = int("9223372036854775807")
_MAX_CHUNK_SIZE_DIV16 = MAX_CONTENT_LENGTH >> 4

# Reasons, in the C enum's order (mfa_http_err_t); status per reason.
E_LF = (400, "LF without CR")
E_CR = (400, "bare CR")
E_REQUEST_LINE = (400, "malformed request line")
E_METHOD = (400, "invalid method")
E_TARGET = (400, "invalid request target")
E_TARGET_TOO_LONG = (414, "request target too long")
E_VERSION = (400, "invalid HTTP version")
E_VERSION_UNSUPPORTED = (505, "HTTP version not supported")
E_OBS_FOLD = (400, "obsolete line folding")
E_HEADER_LINE = (400, "malformed header line")
E_HEADER_NAME = (400, "invalid header name")
E_HEADER_SPACE = (400, "whitespace before colon")
E_HEADER_VALUE = (400, "invalid header value")
E_TOO_MANY_HEADERS = (431, "too many headers")
E_HEAD_TOO_LARGE = (431, "request header fields too large")
E_CONTENT_LENGTH = (400, "invalid Content-Length")
E_CONTENT_LENGTH_CONFLICT = (400, "conflicting Content-Length")
E_TE = (400, "invalid Transfer-Encoding")
E_TE_UNSUPPORTED = (501, "unsupported Transfer-Encoding")
E_TE_HTTP10 = (400, "Transfer-Encoding in HTTP/1.0")
E_CL_AND_TE = (400, "Content-Length with Transfer-Encoding")
E_HOST_MISSING = (400, "missing Host header")
E_HOST_MULTIPLE = (400, "multiple Host headers")
E_CHUNK_SIZE = (400, "invalid chunk size")
E_CHUNK_EXT = (400, "invalid chunk extension")
E_CHUNK_LINE_TOO_LONG = (400, "chunk extension too long")
E_CHUNK_DATA = (400, "missing CRLF after chunk data")
E_TRAILER = (400, "invalid trailer")
E_TRAILER_TOO_LARGE = (431, "trailer section too large")
E_CHUNK_OVERHEAD = (413, "chunked framing overhead too large")


class ParseError(ValueError):
    """args == (status, reason): the HTTP status to answer with and a short phrase."""


def _err(e):
    return ParseError(e[0], e[1])


# tchar (RFC 9110 5.6.2): 1 for bytes allowed in a token.
_TCHAR = bytearray(256)
for _c in b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
    _TCHAR[_c] = 1
_TCHAR = bytes(_TCHAR)


def _is_token(b):
    if not b:
        return False
    t = _TCHAR
    for c in b:
        if not t[c]:
            return False
    return True


def _utf8_len(b, i, n):
    """Length of the valid UTF-8 sequence starting at b[i] (RFC 3629: no overlongs, no
    surrogates, <= U+10FFFF), or 0."""
    c = b[i]
    if c < 0x80:
        return 1
    if c < 0xC2:
        return 0
    if c < 0xE0:
        need, lo, hi = 1, 0x80, 0xBF
    elif c < 0xF0:
        need = 2
        lo = 0xA0 if c == 0xE0 else 0x80
        hi = 0x9F if c == 0xED else 0xBF
    elif c < 0xF5:
        need = 3
        lo = 0x90 if c == 0xF0 else 0x80
        hi = 0x8F if c == 0xF4 else 0xBF
    else:
        return 0
    if i + need >= n:
        return 0
    d = b[i + 1]
    if d < lo or d > hi:
        return 0
    for k in range(i + 2, i + need + 1):
        d = b[k]
        if d < 0x80 or d > 0xBF:
            return 0
    return need + 1


def _value_ok(v):
    """Field value (OWS already stripped): no CTL but HTAB, no DEL, valid UTF-8."""
    if not v:
        return True
    if min(v) >= 0x20 and max(v) < 0x7F:
        return True
    n = len(v)
    i = 0
    while i < n:
        c = v[i]
        if c < 0x80:
            if (c < 0x20 and c != 9) or c == 0x7F:
                return False
            i += 1
        else:
            k = _utf8_len(v, i, n)
            if not k:
                return False
            i += k
    return True


def _strip_ows(b):
    i = 0
    j = len(b)
    while i < j and (b[i] == 32 or b[i] == 9):
        i += 1
    while j > i and (b[j - 1] == 32 or b[j - 1] == 9):
        j -= 1
    return b[i:j]


def _find_end(buf, start, stop):
    """Index just past the first empty line (LF followed by LF or CRLF) in buf[start:stop],
    or -1. `start` may point anywhere: the empty line is searched as LF [CR] LF."""
    a = buf.find(b"\n\n", start, stop)
    b = buf.find(b"\n\r\n", start, stop)
    if a < 0:
        return -1 if b < 0 else b + 3
    if b < 0 or a < b:
        return a + 2
    return b + 3


def _parse_request_line(line):
    """line: the first line including its CR (without LF). Returns (method, target, minor) or
    raises."""
    if not line or line[-1] != 13:
        raise _err(E_LF)
    line = line[:-1]
    if b"\r" in line:
        raise _err(E_CR)
    parts = line.split(b" ")
    if len(parts) != 3 or not parts[0] or not parts[1] or not parts[2]:
        raise _err(E_REQUEST_LINE)
    method, target, version = parts
    if not _is_token(method):
        raise _err(E_METHOD)
    if len(target) > MAX_TARGET:
        raise _err(E_TARGET_TOO_LONG)
    if min(target) < 0x21 or max(target) > 0x7E:
        raise _err(E_TARGET)
    if target[0] != 47 and not (target == b"*" and method == b"OPTIONS"):
        raise _err(E_TARGET)
    if (len(version) != 8 or version[:5] != b"HTTP/" or version[6] != 46
            or not (48 <= version[5] <= 57) or not (48 <= version[7] <= 57)):
        raise _err(E_VERSION)
    if version[5] != 49 or version[7] > 49:
        raise _err(E_VERSION_UNSUPPORTED)
    return method, target, version[7] - 48


def _parse_content_length(v):
    if not v:
        raise _err(E_CONTENT_LENGTH)
    n = 0
    for c in v:
        if c < 48 or c > 57:
            raise _err(E_CONTENT_LENGTH)
        n = n * 10 + (c - 48)
        if n > MAX_CONTENT_LENGTH:
            raise _err(E_CONTENT_LENGTH)
    return n


def _header_line(line):
    """Validate one header line (with its CR, without LF): returns (name, value) bytes, name
    as on the wire, value without surrounding OWS."""
    if line[-1] != 13:
        raise _err(E_LF)
    line = line[:-1]
    if b"\r" in line:
        raise _err(E_CR)
    c = line[0]
    if c == 32 or c == 9:
        raise _err(E_OBS_FOLD)
    i = line.find(b":")
    if i < 0:
        raise _err(E_HEADER_LINE)
    if i == 0:
        raise _err(E_HEADER_NAME)
    c = line[i - 1]
    if c == 32 or c == 9:
        raise _err(E_HEADER_SPACE)
    name = line[:i]
    if not _is_token(name):
        raise _err(E_HEADER_NAME)
    value = _strip_ows(line[i + 1:])
    if not _value_ok(value):
        raise _err(E_HEADER_VALUE)
    return name, value


class RequestHead:
    """What parse_request returns; attributes as in docs/internals.md."""

    def __init__(self, method, path, query, version, header_len, content_length, chunked,
                 keep_alive, expect_continue, headers):
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.header_len = header_len
        self.content_length = content_length
        self.chunked = chunked
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.headers = headers

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def __repr__(self):
        return "<RequestHead %s %s%s HTTP/%s>" % (
            self.method, self.path, "?" + self.query if self.query else "", self.version)


def _limit_error(buf):
    lf = buf.find(b"\n", 0, MAX_HEAD)
    if lf < 0:
        return _err(E_TARGET_TOO_LONG)
    try:
        _parse_request_line(buf[:lf])
    except ParseError as e:
        return e
    return _err(E_HEAD_TOO_LARGE)


def parse_request(buf, last_len=0, lead=True):
    """Parse the head of an HTTP/1.x request at the start of `buf` (bytes, bytearray or
    memoryview). Returns None while the head is incomplete, a RequestHead when complete, and
    raises ParseError(status, reason) when invalid. `last_len`: length of `buf` at a previous
    call that returned None (the search for the end of the head resumes there). `lead`: skip
    empty lines before the request line (False only from _after_empty_lines)."""
    if not isinstance(buf, bytes):
        buf = bytes(buf)
    if buf and buf[0] == 13 and lead:
        return _after_empty_lines(buf, last_len)
    n = len(buf)
    start = last_len - 3 if last_len > 3 else 0
    if start > n:
        start = n
    end = _find_end(buf, start, MAX_HEAD if n > MAX_HEAD else n)
    if end < 0:
        if n >= MAX_HEAD:
            raise _limit_error(buf)
        return None

    lines = buf[:end].split(b"\n")
    # lines[-1] is b"" (the head ends with LF); lines[-2] is the empty line (b"" or b"\r").
    method, target, minor = _parse_request_line(lines[0])

    headers = []
    clen = None
    chunked = False
    te_seen = False
    conn_close = False
    conn_keep_alive = False
    expect = False
    hosts = 0
    last = len(lines) - 2
    i = 1
    while i < last:
        if i > MAX_HEADERS:
            raise _err(E_TOO_MANY_HEADERS)
        name, value = _header_line(lines[i])
        i += 1
        lname = name.lower()
        if lname == b"content-length":
            v = _parse_content_length(value)
            if clen is not None and v != clen:
                raise _err(E_CONTENT_LENGTH_CONFLICT)
            clen = v
        elif lname == b"transfer-encoding":
            if minor == 0:
                raise _err(E_TE_HTTP10)
            te_seen = True
            nonempty = False
            for el in value.split(b","):
                el = _strip_ows(el)
                if not el:
                    continue
                nonempty = True
                if el.lower() != b"chunked":
                    raise _err(E_TE_UNSUPPORTED)
                if chunked:
                    raise _err(E_TE)
                chunked = True
            if not nonempty:
                raise _err(E_TE)
        elif lname == b"connection":
            for el in value.split(b","):
                el = _strip_ows(el).lower()
                if el == b"close":
                    conn_close = True
                elif el == b"keep-alive":
                    conn_keep_alive = True
        elif lname == b"expect":
            if value.lower() == b"100-continue":
                expect = True
        elif lname == b"host":
            hosts += 1
            if hosts > 1:
                raise _err(E_HOST_MULTIPLE)
        headers.append((lname.decode(), value.decode()))
    if lines[last] != b"\r":
        raise _err(E_LF)
    if te_seen and clen is not None:
        raise _err(E_CL_AND_TE)
    if minor == 1 and hosts == 0:
        raise _err(E_HOST_MISSING)

    q = target.find(b"?")
    if q < 0:
        path = target.decode()
        query = ""
    else:
        path = target[:q].decode()
        query = target[q + 1:].decode()
    if minor == 1:
        keep_alive = not conn_close
        version = "1.1"
    else:
        keep_alive = conn_keep_alive and not conn_close
        version = "1.0"
        expect = False  # RFC 9110 10.1.1: ignore 100-continue in an HTTP/1.0 request
    return RequestHead(method.decode(), path, query, version, end, None if chunked else clen,
                       chunked, keep_alive, expect, headers)


# ---- helpers -------------------------------------------------------------------------------


def _after_empty_lines(buf, last_len):
    """Empty lines (CRLF) before the request line, RFC 9112 2.2: up to MAX_EMPTY_LINES are
    skipped and counted in header_len; the rest is parsed as if they were not there (a further
    empty line is then a malformed request line). Off the common path on purpose: a call per
    request costs on the RP2040."""
    skip = 0
    while skip < 2 * MAX_EMPTY_LINES and len(buf) > skip + 1 and buf[skip] == 13 \
            and buf[skip + 1] == 10:
        skip += 2
    if not skip:
        return parse_request(buf, last_len, False)  # a bare CR: the parser's own answer
    head = parse_request(buf[skip:], last_len - skip if last_len > skip else 0, False)
    if head is not None:
        head.header_len += skip
    return head

def _hexval(c):
    if 48 <= c <= 57:
        return c - 48
    c |= 0x20
    if 97 <= c <= 102:
        return c - 87
    return -1


def _utf8_decode_replace(b):
    """Decode UTF-8; every byte that does not start a valid sequence becomes U+FFFD (the C
    twin does the same, so both agree on any input)."""
    n = len(b)
    if not n or (min(b) < 0x80 and max(b) < 0x80):
        return b.decode()
    out = []
    i = 0
    s = 0
    while i < n:
        k = _utf8_len(b, i, n)
        if k:
            i += k
        else:
            out.append(b[s:i].decode())
            out.append("\ufffd")
            i += 1
            s = i
    out.append(b[s:i].decode())
    return "".join(out)


def _unquote_bytes(b, plus):
    if b.find(b"%") < 0 and not (plus and b.find(b"+") >= 0):
        return _utf8_decode_replace(b)
    out = bytearray()
    n = len(b)
    i = 0
    while i < n:
        c = b[i]
        if c == 37 and i + 2 < n:
            h = _hexval(b[i + 1])
            l = _hexval(b[i + 2])
            if h >= 0 and l >= 0:
                out.append(h * 16 + l)
                i += 3
                continue
        if c == 43 and plus:
            c = 32
        out.append(c)
        i += 1
    return _utf8_decode_replace(bytes(out))


def unquote(s):
    """Percent-decode a str or bytes (a path segment, say) into a str. `%` not followed by two
    hex digits stays as it is; bytes that are not valid UTF-8 after decoding become U+FFFD."""
    if isinstance(s, str):
        s = s.encode()
    elif not isinstance(s, bytes):
        s = bytes(s)
    return _unquote_bytes(s, False)


def parse_qsl(qs):
    """Split a query string into a list of (key, value) str pairs: '&'-separated, '+' is a
    space, percent-decoded, blank values kept ('a&b=' -> [('a', ''), ('b', '')]), empty
    pieces skipped."""
    if isinstance(qs, str):
        qs = qs.encode()
    elif not isinstance(qs, bytes):
        qs = bytes(qs)
    out = []
    for piece in qs.split(b"&"):
        if not piece:
            continue
        i = piece.find(b"=")
        if i < 0:
            out.append((_unquote_bytes(piece, True), ""))
        else:
            out.append((_unquote_bytes(piece[:i], True), _unquote_bytes(piece[i + 1:], True)))
    return out


# ---- chunked body ---------------------------------------------------------------------------

# Decoder states (the C decoder has the same ones). const(): MicroPython puts these in the code
# and leaves them out of the module's globals, which every global lookup in the parser probes.
_S_SIZE0 = const(0)      # first hex digit of a chunk size
_S_SIZE = const(1)       # further hex digits
_S_EXT_BWS = const(2)    # BWS after the size or a value: only more BWS or ';' may follow
_S_EXT_NAME0 = const(3)  # after ';' (BWS allowed) before the extension name
_S_EXT_NAME = const(4)   # in the name
_S_EXT_EQ_BWS = const(5)  # after '=' (BWS allowed) before the value
_S_EXT_VAL = const(6)    # token value
_S_EXT_QS = const(7)     # quoted-string value
_S_EXT_QP = const(8)     # after backslash in a quoted string
_S_EXT_AFTER = const(9)  # BWS after a name: more BWS, '=' or ';'
_S_EXT_QEND = const(10)  # after the closing quote: ';', CR or BWS
_S_SIZE_LF = const(11)   # CR seen at the end of the size line
_S_DATA = const(12)
_S_DATA_CR = const(13)
_S_DATA_LF = const(14)
_S_TR_START = const(15)  # start of a trailer line (or the final CRLF)
_S_TR_NAME = const(16)
_S_TR_VALUE = const(17)
_S_TR_LF = const(18)     # CR seen at the end of a trailer line
_S_END_LF = const(19)    # CR seen at the start of a line: the final one
_S_DONE = const(20)


class ChunkedDecoder:
    """Incremental decoder for a chunked request body (RFC 9112 7.1), strict like the head
    parser: hex size (<= 2**63-1), chunk extensions allowed but validated (`;name[=token or
    quoted-string]`, BWS around ';' and '='), the size line at most MAX_CHUNK_LINE bytes,
    CRLF everywhere (no bare LF), trailer fields validated like header lines and dropped, the
    trailer section at most MAX_HEAD bytes; framing more than MAX_CHUNK_OVERHEAD bytes beyond
    the data: 413.

    feed(data) -> (payload bytes, consumed): decodes as much of `data` as it can. Until the
    message ends, consumed == len(data); once the final CRLF is read, `done` is True and
    consumed stops there (the rest belongs to the next request). Errors raise ParseError and
    are sticky."""

    def __init__(self):
        self.done = False
        self._state = _S_SIZE0
        self._size = 0
        self._line = 0
        self._error = None
        self._data = 0     # payload bytes so far
        self._framing = 0  # framing bytes so far (size lines, CRLFs; not the trailer)

    def feed(self, data):
        if self._error is not None:
            raise _err(self._error)
        try:
            return self._feed(data)
        except ParseError as e:
            self._error = e.args
            raise

    def _feed(self, data):
        if not isinstance(data, bytes):
            data = bytes(data)
        out = []
        n = len(data)
        i = 0
        st = self._state
        while i < n and st != _S_DONE:
            c = data[i]
            if st == _S_DATA:
                take = n - i
                if take > self._size:
                    take = self._size
                out.append(data[i:i + take])
                i += take
                self._size -= take
                self._data += take
                if self._size == 0:
                    st = _S_DATA_CR
                continue
            i += 1
            if st <= _S_DATA_LF:
                self._framing += 1
                if self._framing > self._data + MAX_CHUNK_OVERHEAD:
                    raise _err(E_CHUNK_OVERHEAD)
            if st <= _S_SIZE_LF:
                st = self._size_line(st, c)
            elif st == _S_DATA_CR or st == _S_DATA_LF:
                # the CRLF that ends a chunk's data
                if c != (13 if st == _S_DATA_CR else 10):
                    raise _err(E_CHUNK_DATA)
                st = _S_DATA_LF if st == _S_DATA_CR else _S_SIZE0
            else:
                st = self._trailer(st, c)
        self._state = st
        if st == _S_DONE:
            self.done = True
        if not out:
            return b"", i
        if len(out) == 1:
            return out[0], i
        return b"".join(out), i

    def _size_line(self, st, c):
        """One byte of a chunk-size line: the hex size, its extensions, the LF after the CR
        (mfa_http.c's size_line_step)."""
        if st != _S_SIZE_LF:
            self._line += 1
            if self._line > MAX_CHUNK_LINE and c != 13:
                raise _err(E_CHUNK_LINE_TOO_LONG)
        t = _TCHAR
        if st == _S_SIZE0 or st == _S_SIZE:
            h = _hexval(c)
            if h >= 0 and self._size <= _MAX_CHUNK_SIZE_DIV16:
                self._size = self._size * 16 + h
                return _S_SIZE
            if h >= 0 or st == _S_SIZE0:
                raise _err(E_CHUNK_SIZE)  # too large, or no digit
            try:
                return _ext_end(c, _S_EXT_BWS)  # the size ends: CR, ';' or BWS
            except ParseError:
                raise _err(E_CHUNK_SIZE)
        if st == _S_EXT_BWS:
            if c == 59:
                return _S_EXT_NAME0
        elif st == _S_EXT_NAME0:
            if t[c]:
                return _S_EXT_NAME
        elif st == _S_EXT_NAME:
            if t[c]:
                return st
            return _S_EXT_EQ_BWS if c == 61 else _ext_end(c, _S_EXT_AFTER)
        elif st == _S_EXT_EQ_BWS:
            if t[c]:
                return _S_EXT_VAL
            if c == 34:
                return _S_EXT_QS
        elif st == _S_EXT_VAL:
            if t[c]:
                return st
            return _ext_end(c, _S_EXT_BWS)
        elif st == _S_EXT_QS:
            if c == 34:
                return _S_EXT_QEND
            if c == 92:
                return _S_EXT_QP
            if (c < 0x20 and c != 9) or c == 0x7F:
                raise _err(E_CHUNK_EXT)
            return st
        elif st == _S_EXT_QP:
            if (c < 0x20 and c != 9) or c == 0x7F:
                raise _err(E_CHUNK_EXT)
            return _S_EXT_QS
        elif st == _S_EXT_AFTER:
            if c == 61:
                return _S_EXT_EQ_BWS
            if c == 59:
                return _S_EXT_NAME0
        elif st == _S_EXT_QEND:
            return _ext_end(c, _S_EXT_BWS)
        else:  # _S_SIZE_LF
            if c != 10:
                raise _err(E_CR)
            self._line = 0
            return _S_TR_START if self._size == 0 else _S_DATA
        # the states that allow only white space besides what was tested above
        if c != 32 and c != 9:
            raise _err(E_CHUNK_EXT)
        return st

    def _trailer(self, st, c):
        """One byte of the trailer section, counted against MAX_HEAD like a head, or of the
        final CRLF (mfa_http.c's trailer_step)."""
        self._line += 1
        if self._line > MAX_HEAD:
            raise _err(E_TRAILER_TOO_LARGE)
        if st == _S_TR_START:
            if c == 13:
                return _S_END_LF
            if _TCHAR[c]:
                return _S_TR_NAME
            raise _err(E_OBS_FOLD if c == 32 or c == 9 else E_LF if c == 10 else E_TRAILER)
        if st == _S_TR_NAME:
            if c == 58:
                return _S_TR_VALUE
            if not _TCHAR[c]:
                raise _err(E_HEADER_SPACE if c == 32 or c == 9 else E_TRAILER)
            return st
        if st == _S_TR_VALUE:
            if c == 13:
                return _S_TR_LF
            if (c < 0x20 and c != 9) or c == 0x7F:
                raise _err(E_LF if c == 10 else E_TRAILER)
            return st
        if c != 10:  # _S_TR_LF, _S_END_LF
            raise _err(E_CR)
        return _S_TR_START if st == _S_TR_LF else _S_DONE


def _ext_end(c, ows):
    """After a whole extension element (a name, a token value, a closing quote): ';' starts
    another, CR ends the line, white space goes to `ows` (mfa_http.c's ext_end)."""
    if c == 59:
        return _S_EXT_NAME0
    if c == 13:
        return _S_SIZE_LF
    if c == 32 or c == 9:
        return ows
    raise _err(E_CHUNK_EXT)
