"""The C parser (build/host/libmfa_http.so) through ctypes, with parser.py's surface.

`CParser(path)` has parse_request / unquote / parse_qsl / ChunkedDecoder / ParseError like
microfastapi.parser, so one test body runs against both (tests/parser, and tests/hostile through
tests/hostile/cparser.py). Built by `cmake -S . -B build/host && cmake --build build/host`.

Results are checked on the way: the consumed length and every span must lie inside the request,
and the request sits in an exactly sized buffer (ASan is in the C unit tests; this catches
logic only).
"""
import ctypes
import re
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
HEADER = ROOT / "cmodules" / "mfa" / "mfa_http.h"
if str(ROOT / "python") not in sys.path:
    sys.path.insert(0, str(ROOT / "python"))
from microfastapi.parser import RequestHead  # noqa: E402

ERROR = -1
INCOMPLETE = -2
F_CONTENT_LENGTH, F_CHUNKED, F_KEEP_ALIVE, F_EXPECT_CONTINUE = 1, 2, 4, 8


def header_defaults():
    """The #ifndef defaults of mfa_http.h, e.g. {'MFA_HTTP_MAX_HEAD': 4096}."""
    text = HEADER.read_text()
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"#define (MFA_HTTP_MAX_\w+) \((\d+)\)", text)}


class Header(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("name_len", ctypes.c_size_t),
                ("value", ctypes.c_void_p), ("value_len", ctypes.c_size_t)]


class Request(ctypes.Structure):
    _fields_ = [("method", ctypes.c_void_p), ("method_len", ctypes.c_size_t),
                ("path", ctypes.c_void_p), ("path_len", ctypes.c_size_t),
                ("query", ctypes.c_void_p), ("query_len", ctypes.c_size_t),
                ("minor_version", ctypes.c_int), ("flags", ctypes.c_uint),
                ("content_length", ctypes.c_uint64), ("error", ctypes.c_int)]


class Chunked(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint64), ("count", ctypes.c_uint32),
                ("data", ctypes.c_uint64), ("framing", ctypes.c_uint64),
                ("state", ctypes.c_uint8), ("error", ctypes.c_uint8)]


class CParseError(ValueError):
    pass


class Head(RequestHead):
    """parser.RequestHead's surface (header(), repr) on what the C parser found."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


class CParser:
    ParseError = CParseError

    def __init__(self, path, chunked_in_place=True):
        """`chunked_in_place`: ChunkedDecoder decodes into its input buffer, as mfa_conn.c does
        (else into another one, as modmfa_http.c's decoder does)."""
        lib = self.lib = ctypes.CDLL(str(path))
        lib.mfa_http_parse_request.restype = ctypes.c_int
        lib.mfa_http_parse_request.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.POINTER(Request),
            ctypes.POINTER(Header), ctypes.POINTER(ctypes.c_size_t)]
        lib.mfa_http_err_reason.restype = ctypes.c_char_p
        lib.mfa_http_err_reason.argtypes = [ctypes.c_int]
        lib.mfa_http_err_status.restype = ctypes.c_int
        lib.mfa_http_err_status.argtypes = [ctypes.c_int]
        lib.mfa_http_unquote.restype = ctypes.c_size_t
        lib.mfa_http_unquote.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                                         ctypes.c_bool]
        lib.mfa_http_utf8_sanitize.restype = ctypes.c_size_t
        lib.mfa_http_utf8_sanitize.argtypes = [ctypes.c_char_p, ctypes.c_size_t,
                                               ctypes.c_char_p]
        lib.mfa_http_qs_next.restype = ctypes.c_bool
        lib.mfa_http_qs_next.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t),
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
        lib.mfa_chunked_init.argtypes = [ctypes.POINTER(Chunked)]
        lib.mfa_chunked_decode.restype = ctypes.c_ssize_t
        lib.mfa_chunked_decode.argtypes = [
            ctypes.POINTER(Chunked), ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
            ctypes.POINTER(ctypes.c_size_t)]
        lib.mfa_chunked_done.restype = ctypes.c_bool
        lib.mfa_chunked_done.argtypes = [ctypes.POINTER(Chunked)]
        self.max_headers = header_defaults()["MFA_HTTP_MAX_HEADERS"]
        self._headers = (Header * self.max_headers)()

        parser = self

        class ChunkedDecoder:
            def __init__(self):
                self._d = Chunked()
                lib.mfa_chunked_init(ctypes.byref(self._d))
                self.done = False

            def feed(self, data):
                data = bytes(data)
                src = ctypes.create_string_buffer(data, len(data) + 1)
                dst = src if chunked_in_place else ctypes.create_string_buffer(len(data) + 1)
                out = ctypes.c_size_t(0)
                r = lib.mfa_chunked_decode(ctypes.byref(self._d), src, len(data), dst,
                                           ctypes.byref(out))
                if r == ERROR:
                    raise parser._error(self._d.error)
                assert out.value <= len(data), (out.value, len(data))
                body = dst.raw[:out.value]
                if r == INCOMPLETE:
                    return body, len(data)
                assert 0 <= r <= len(data), r
                self.done = bool(lib.mfa_chunked_done(ctypes.byref(self._d)))
                assert self.done
                return body, r

        self.ChunkedDecoder = ChunkedDecoder

    def _error(self, code):
        return CParseError(self.lib.mfa_http_err_status(code),
                           self.lib.mfa_http_err_reason(code).decode())

    def raw_parse(self, buf, last_len=0):
        """(return value, Request, headers list of (name bytes, value bytes))."""
        buf = bytes(buf)
        req = Request()
        n = ctypes.c_size_t(self.max_headers)
        r = self.lib.mfa_http_parse_request(buf, len(buf), last_len, ctypes.byref(req),
                                            self._headers, ctypes.byref(n))
        return r, req, n.value

    def parse_request(self, buf, last_len=0):
        buf = bytes(buf)
        # Keep the bytes alive at a known address (spans point into this copy), in a buffer of
        # exactly their size.
        cbuf = ctypes.create_string_buffer(buf, len(buf))
        base = ctypes.addressof(cbuf)
        req = Request()
        n = ctypes.c_size_t(self.max_headers)
        r = self.lib.mfa_http_parse_request(ctypes.cast(cbuf, ctypes.c_char_p), len(buf),
                                            last_len, ctypes.byref(req), self._headers,
                                            ctypes.byref(n))
        if r == INCOMPLETE:
            return None
        if r == ERROR:
            raise self._error(req.error)
        assert 0 < r <= len(buf), r

        def span(p, ln):
            if ln == 0:
                return b""
            off = p - base
            assert 0 <= off and off + ln <= len(buf), (off, ln, len(buf))
            return buf[off:off + ln]

        headers = []
        for i in range(n.value):
            h = self._headers[i]
            headers.append((span(h.name, h.name_len).decode().lower(),
                            span(h.value, h.value_len).decode()))
        f = req.flags
        return Head(method=span(req.method, req.method_len).decode(),
                    path=span(req.path, req.path_len).decode(),
                    query=span(req.query, req.query_len).decode(),
                    version="1.%d" % req.minor_version, header_len=r,
                    content_length=req.content_length if f & F_CONTENT_LENGTH else None,
                    chunked=bool(f & F_CHUNKED), keep_alive=bool(f & F_KEEP_ALIVE),
                    expect_continue=bool(f & F_EXPECT_CONTINUE), headers=headers)

    def _unquote_bytes(self, b, plus):
        out = ctypes.create_string_buffer(len(b) + 1)
        n = self.lib.mfa_http_unquote(b, len(b), out, plus)
        dec = out.raw[:n]
        m = self.lib.mfa_http_utf8_sanitize(dec, n, None)
        out2 = ctypes.create_string_buffer(m + 1)
        self.lib.mfa_http_utf8_sanitize(dec, n, out2)
        return out2.raw[:m].decode()

    def unquote(self, s):
        if isinstance(s, str):
            s = s.encode()
        return self._unquote_bytes(bytes(s), False)

    def parse_qsl(self, qs):
        if isinstance(qs, str):
            qs = qs.encode()
        qs = bytes(qs)
        cbuf = ctypes.create_string_buffer(qs, len(qs) + 1)
        base = ctypes.addressof(cbuf)
        pos = ctypes.c_size_t(0)
        k, kl, v, vl = ctypes.c_void_p(), ctypes.c_size_t(), ctypes.c_void_p(), ctypes.c_size_t()
        out = []
        while self.lib.mfa_http_qs_next(ctypes.cast(cbuf, ctypes.c_char_p), len(qs),
                                        ctypes.byref(pos), ctypes.byref(k), ctypes.byref(kl),
                                        ctypes.byref(v), ctypes.byref(vl)):
            key = qs[k.value - base:k.value - base + kl.value] if kl.value else b""
            val = qs[v.value - base:v.value - base + vl.value] if vl.value else b""
            out.append((self._unquote_bytes(key, True), self._unquote_bytes(val, True)))
        return out
